package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"palisade/cluster/api"
)

func screenText(s tcell.SimulationScreen) string {
	cells, w, h := s.GetContents()
	var b strings.Builder
	for y := range h {
		for x := range w {
			c := cells[y*w+x]
			if len(c.Runes) > 0 {
				b.WriteRune(c.Runes[0])
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestWatchLoop drives the watch loop on a simulated screen: it draws the
// status, redraws what changed in place, shows a lost daemon without
// clearing the last status, and quits on q.
func TestWatchLoop(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	defer scr.Fini()
	scr.SetSize(120, 40)
	var mu sync.Mutex
	standby, fail := false, false
	fetch := func(context.Context) (api.Status, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return api.Status{}, errors.New("connecting to palisaded: no such file")
		}
		st := api.Status{Cluster: "prod", Node: api.NodeRef{ID: 1, Name: "n1"}, View: api.ViewStatus{ID: 2, Agreed: true},
			Nodes: []api.NodeStatus{{NodeRef: api.NodeRef{ID: 1, Name: "n1"}, Self: true, State: "up"}, {NodeRef: api.NodeRef{ID: 2, Name: "n2"}, State: "up"}},
			DC: &api.DCStatus{DC: "n1", Quorate: true, Members: []string{"n1", "n2"},
				NodeStates: []api.ClusterNode{{Name: "n1", State: api.NodeOnline, DC: true, Self: true}, {Name: "n2", State: api.NodeOnline}}}}
		if standby {
			st.DC.NodeStates[1].State = api.NodeStandby
		}
		return st, nil
	}
	done := make(chan struct{})
	var shown string // the screen after the last redraw, read on the loop
	drawn := func() {
		text := screenText(scr)
		mu.Lock()
		shown = text
		mu.Unlock()
	}
	current := func() string {
		mu.Lock()
		defer mu.Unlock()
		return shown
	}
	go func() {
		watchLoop(context.Background(), scr, fetch, 100*time.Millisecond, func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, drawn)
		close(done)
	}()
	waitScreen := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(current()) {
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %s:\n%s", what, current())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitScreen("the status", func(s string) bool {
		return strings.Contains(s, "palisade status --watch, every 100ms") && strings.Contains(s, "HEALTHY at 03:04:05") && strings.Contains(s, "n2    2   online")
	})
	mu.Lock()
	standby = true
	mu.Unlock()
	waitScreen("the standby", func(s string) bool {
		return strings.Contains(s, "n2    2   standby") && !strings.Contains(s, "n2    2   online")
	})
	mu.Lock()
	fail = true
	mu.Unlock()
	waitScreen("the error above the last status", func(s string) bool {
		return strings.Contains(s, "no answer: connecting to palisaded") && strings.Contains(s, "n2    2   standby")
	})
	scr.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("q did not end the watch")
	}
}
