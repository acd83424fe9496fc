package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"palisade/cluster/api"
)

// watchStatus is `palisade status --watch`: the status redrawn in place
// every interval (crm_mon -i) through tcell, which knows the terminal;
// q, Esc or Ctrl-C quits, arrows and page keys scroll.
func watchStatus(ctx context.Context, interval time.Duration) error {
	if interval < 100*time.Millisecond {
		return &exitError{exitBadInput, fmt.Errorf("--interval %v: at least 100ms", interval)}
	}
	scr, err := tcell.NewScreen()
	if err != nil {
		return &exitError{exitBadInput, fmt.Errorf("status --watch needs a terminal: %w", err)}
	}
	if err := scr.Init(); err != nil {
		return &exitError{exitBadInput, fmt.Errorf("status --watch needs a terminal: %w", err)}
	}
	defer scr.Fini()
	fetch := func(ctx context.Context) (api.Status, error) {
		cctx, cancel := context.WithTimeout(ctx, min(interval, 5*time.Second))
		defer cancel()
		return client().Status(cctx)
	}
	watchLoop(ctx, scr, fetch, interval, time.Now, nil)
	return nil
}

// watchLoop draws fetch's status on scr every interval until a quit key
// or ctx ends. A failed fetch keeps the last status on screen with the
// error above it. drawn, if set, runs on the loop after every redraw (tests
// read the screen there).
func watchLoop(ctx context.Context, scr tcell.Screen, fetch func(context.Context) (api.Status, error), interval time.Duration, now func() time.Time, drawn func()) {
	events := make(chan tcell.Event, 16)
	quit := make(chan struct{})
	defer close(quit)
	go scr.ChannelEvents(events, quit)
	t := time.NewTicker(interval)
	defer t.Stop()
	var lines []string
	var lastErr error
	var updated time.Time
	var h api.Health
	offset := 0
	refresh := func() {
		st, err := fetch(ctx)
		if err != nil {
			lastErr = err
			return
		}
		lastErr, updated, h = nil, now(), health(st)
		var b bytes.Buffer
		printStatus(&b, st)
		lines = strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	}
	draw := func() {
		scr.Clear()
		w, ht := scr.Size()
		head := fmt.Sprintf(" palisade status --watch, every %v; q quits, arrows scroll", interval)
		if !updated.IsZero() {
			head += fmt.Sprintf("; %s at %s", strings.ToUpper(h.State), updated.Format(time.TimeOnly))
		}
		headStyle := tcell.StyleDefault.Reverse(true)
		if h.State == api.Degraded {
			headStyle = headStyle.Foreground(tcell.ColorRed)
		}
		put(scr, 0, 0, fmt.Sprintf("%-*s", w, head), headStyle)
		y := 1
		if lastErr != nil {
			put(scr, 0, y, "no answer: "+lastErr.Error(), tcell.StyleDefault.Foreground(tcell.ColorRed).Bold(true))
			y++
		}
		offset = max(0, min(offset, len(lines)-(ht-y)))
		for i := offset; i < len(lines) && y < ht; i++ {
			put(scr, 0, y, lines[i], lineStyle(lines[i]))
			y++
		}
		scr.Show()
		if drawn != nil {
			drawn()
		}
	}
	refresh()
	draw()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			refresh()
			draw()
		case ev := <-events:
			switch ev := ev.(type) {
			case *tcell.EventResize:
				scr.Sync()
			case *tcell.EventKey:
				_, ht := scr.Size()
				switch {
				case ev.Key() == tcell.KeyEscape || ev.Key() == tcell.KeyCtrlC || ev.Key() == tcell.KeyRune && (ev.Rune() == 'q' || ev.Rune() == 'Q'):
					return
				case ev.Key() == tcell.KeyUp:
					offset--
				case ev.Key() == tcell.KeyDown:
					offset++
				case ev.Key() == tcell.KeyPgUp:
					offset -= ht - 2
				case ev.Key() == tcell.KeyPgDn:
					offset += ht - 2
				case ev.Key() == tcell.KeyHome:
					offset = 0
				case ev.Key() == tcell.KeyRune && ev.Rune() == ' ':
					refresh()
				}
			}
			draw()
		}
	}
}

// lineStyle marks what needs attention.
func lineStyle(l string) tcell.Style {
	s := tcell.StyleDefault
	switch {
	case strings.Contains(l, "UNCLEAN") || strings.Contains(l, "FAILED") || strings.Contains(l, "NO QUORUM") ||
		strings.Contains(l, "problem:") || strings.Contains(l, "DEGRADED") || strings.Contains(l, "LOST"):
		return s.Foreground(tcell.ColorRed).Bold(true)
	case strings.Contains(l, "warning:") || strings.Contains(l, "OFFLINE") || strings.Contains(l, "standby"):
		return s.Foreground(tcell.ColorYellow)
	case strings.HasPrefix(l, "NODE") || strings.HasPrefix(l, "RESOURCE") || strings.HasPrefix(l, "LINK") || strings.HasPrefix(l, "FENCING"):
		return s.Bold(true)
	}
	return s
}

func put(scr tcell.Screen, x, y int, s string, st tcell.Style) {
	scr.PutStrStyled(x, y, s, st)
}
