package commands_test

import (
	"slices"
	"testing"

	"github.com/deckhand/deckhand/commands"
)

func TestHostsNamed(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		line  string
		names []string
		all   bool
	}{
		{line: "/help"},
		{line: "/alerts"},
		{line: "/ack 12"},
		{line: "/status", all: true},
		{line: "/hosts", all: true},
		{line: "/status nas", names: []string{"nas"}},
		{line: "/restart nas jellyfin", names: []string{"nas"}},
		{line: "/logs pi web 20", names: []string{"pi"}},
		{line: "/restart_project nas media", names: []string{"nas"}},
		{line: "/nonsense nas"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cmd, args, err := commands.ParseLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			names, all := f.r.HostsNamed(commands.Request{Actor: admin, Command: cmd, Args: args})
			if !slices.Equal(names, tt.names) || all != tt.all {
				t.Errorf("HostsNamed = %v, all %v; want %v, all %v", names, all, tt.names, tt.all)
			}
		})
	}
}
