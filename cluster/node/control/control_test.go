package control

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	srv, err := Listen(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode(), err)
	}
	srv.Handle("echo", func(_ context.Context, args json.RawMessage) (any, error) {
		var s string
		if err := json.Unmarshal(args, &s); err != nil {
			return nil, err
		}
		if s == "fail" {
			return nil, errors.New("asked to fail")
		}
		if s == "panic" {
			panic("boom")
		}
		return strings.ToUpper(s), nil
	})
	var got string
	if err := Call(ctx, path, "echo", "hi", &got); err != nil || got != "HI" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if err := Call(ctx, path, "echo", "fail", &got); err == nil || !strings.Contains(err.Error(), "asked to fail") {
		t.Fatalf("fail: %v", err)
	}
	if err := Call(ctx, path, "echo", "panic", &got); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("panic: %v", err)
	}
	if err := Call(ctx, path, "nope", nil, nil); err == nil || !strings.Contains(err.Error(), "commands: [echo help]") {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := Listen(path, nil); err == nil {
		t.Fatal("second Listen stole a live socket")
	}
}
