package main

import (
	"testing"

	"palisade/fence"
	"palisade/fence/topology"
	"palisade/resources/model"
)

func TestInheritStonithAction(t *testing.T) {
	for _, c := range []struct {
		set    bool
		action fence.Action
		option string
		want   fence.Action
	}{
		{false, fence.ActionOff, "", fence.ActionOff},
		{false, fence.ActionOff, "reboot", fence.ActionReboot},
		{false, fence.ActionOff, "Reboot", fence.ActionReboot},
		{false, fence.ActionReboot, "poweroff", fence.ActionOff},
		// The fencing section wins when it names the action.
		{true, fence.ActionOff, "reboot", fence.ActionOff},
	} {
		fc := &topology.Config{Action: c.action, ActionSet: c.set}
		inheritStonithAction(fc, model.Options{StonithAction: c.option})
		if fc.Action != c.want {
			t.Errorf("set=%v action=%s stonith-action=%q: got %s, want %s", c.set, c.action, c.option, fc.Action, c.want)
		}
	}
}
