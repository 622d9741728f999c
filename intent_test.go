package deckhand

import (
	"testing"
	"time"
)

func TestIntentExplainsAndOver(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	before, after := at.Add(-time.Second), at.Add(time.Second)
	stop := Intent{Host: "nas", Container: "web", Action: ActionStop, By: "discord:alice", At: at}
	remove := stop
	remove.Action = ActionRemove
	in := func(s ContainerState) Container { return Container{Host: "nas", Name: "web", State: s} }
	tests := []struct {
		name      string
		intent    Intent
		c         Container
		present   bool
		seen      time.Time
		explains  bool
		over      bool
		wantWords string
	}{
		{"stop, exited", stop, in(StateExited), true, after, true, false, "stopped by discord:alice"},
		{"stop, created", stop, in(StateCreated), true, after, true, false, ""},
		{"stop, then removed by hand", stop, Container{}, false, after, true, false, ""},
		{"stop, running after", stop, in(StateRunning), true, after, false, true, ""},
		{"stop, running in an older snapshot", stop, in(StateRunning), true, before, false, false, ""},
		{"stop, running seen at the very instant", stop, in(StateRunning), true, at, false, false, ""},
		{"stop, restarting after", stop, in(StateRestarting), true, after, false, true, ""},
		{"stop, dead", stop, in(StateDead), true, after, false, true, ""},
		{"remove, missing", remove, Container{}, false, after, true, false, "removed by discord:alice"},
		{"remove, recreated exited", remove, in(StateExited), true, after, false, true, ""},
		{"remove, still there in an older snapshot", remove, in(StateRunning), true, before, false, false, ""},
		{"start is no intent", Intent{Action: ActionStart, At: at}, Container{}, false, after, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.intent.Explains(tt.c, tt.present); got != tt.explains {
				t.Errorf("Explains = %v, want %v", got, tt.explains)
			}
			if got := tt.intent.Over(tt.c, tt.present, tt.seen); got != tt.over {
				t.Errorf("Over = %v, want %v", got, tt.over)
			}
			if tt.wantWords != "" && tt.intent.Phrase() != tt.wantWords {
				t.Errorf("Phrase = %q, want %q", tt.intent.Phrase(), tt.wantWords)
			}
		})
	}
}

func TestDeliberate(t *testing.T) {
	for _, a := range Actions() {
		want := a == ActionStop || a == ActionRemove
		if a.Deliberate() != want {
			t.Errorf("%s.Deliberate() = %v, want %v", a, a.Deliberate(), want)
		}
	}
}

func TestConditionWith(t *testing.T) {
	exited := Container{Host: "nas", Name: "web", State: StateExited, ExitCode: 0}
	stop := Intent{Host: "nas", Container: "web", Action: ActionStop, By: "discord:ana"}
	tests := []struct {
		name    string
		c       Container
		intents []Intent
		want    Condition
	}{
		{"no intent: down", exited, nil, ConditionDown},
		{"stopped on purpose", exited, []Intent{stop}, ConditionStopped},
		{"another host's intent", exited, []Intent{{Host: "pi", Container: "web", Action: ActionStop}}, ConditionDown},
		{"running again: the intent explains nothing", Container{Host: "nas", Name: "web", State: StateRunning}, []Intent{stop}, ConditionUp},
		{"dead is not what a stop leaves", Container{Host: "nas", Name: "web", State: StateDead}, []Intent{stop}, ConditionDown},
	}
	for _, tt := range tests {
		if got := ConditionWith(tt.c, tt.intents); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
