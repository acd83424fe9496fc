package vip

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// announce sends announcements first..last (1-based, inclusive) of a
// burst without pauses; burst spaces them out.
func (a *Agent) announce(t *target, id, reason string, first, last int) error {
	if t.IP.Is4() {
		c, err := dialARP(t.ifi)
		if err != nil {
			return err
		}
		defer c.Close()
		for seq := first; seq <= last; seq++ {
			if err := c.garp(t.IP); err != nil {
				return err
			}
			a.emit(Event{Kind: EventGARP, Resource: id, IP: t.IP, NIC: t.ifi.Name, Seq: seq, Reason: reason})
		}
		return nil
	}
	c, err := dialNDP(t.ifi, t.IP)
	if err != nil {
		return err
	}
	defer c.Close()
	for seq := first; seq <= last; seq++ {
		if err := c.unsolicitedNA(t.IP); err != nil {
			return err
		}
		a.emit(Event{Kind: EventNA, Resource: id, IP: t.IP, NIC: t.ifi.Name, Seq: seq, Reason: reason})
	}
	return nil
}

// burst sends announcements from..Count spaced by Interval, stopping
// early if ctx ends (the VIP is being stopped) or the address is gone.
func (a *Agent) burst(ctx context.Context, t *target, id, reason string, from int) error {
	for seq := from; seq <= t.Count; seq++ {
		if seq > from && !sleep(ctx, t.Interval) {
			return ctx.Err()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if have, err := t.present(); err != nil || have == nil {
			return fmt.Errorf("announcing %s on %s: address no longer present", t.IP, t.ifi.Name)
		}
		if err := a.announce(t, id, reason, seq, seq); err != nil {
			a.log.Warn("announcing VIP failed", "resource", id, "ip", t.IP.String(), "err", err)
			return err
		}
	}
	return nil
}

// Reannounce sends a full announcement burst (Count × Interval) for every
// VIP this agent started or found running, concurrently, and returns when
// all bursts are done. Call it when a partition heals, so neighbours that
// learnt the other side's MAC in the meantime switch back:
//
//	go vipAgent.Reannounce(ctx)
func (a *Agent) Reannounce(ctx context.Context) error {
	a.mu.Lock()
	todo := map[string]*target{}
	for id, r := range a.active {
		todo[id] = r.t
	}
	a.mu.Unlock()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for id, t := range todo {
		wg.Go(func() {
			if err := a.burst(ctx, t, id, "reannounce", 1); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("reannounce %s: %w", id, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Active returns the resource ids of the VIPs this agent holds.
func (a *Agent) Active() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for id := range a.active {
		ids = append(ids, id)
	}
	return ids
}
