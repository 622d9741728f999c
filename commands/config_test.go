package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

// TestConfigValidate: every mistake at once, each named by its key in
// config.toml; the same check NewRouter runs.
func TestConfigValidate(t *testing.T) {
	cfg := commands.Config{Secret: []byte("short"), LogTail: commands.MaxLogTail + 1,
		Narrow: map[deckhand.Role][]deckhand.Action{deckhand.RoleOperator: {"nuke"}}}
	err := cfg.Validate()
	want := []string{
		"secret: too short (5 bytes): use at least 32 random bytes",
		"commands.log_tail: 1001 is out of range 1..1000",
		`commands.narrow.operator: unknown action "nuke"`,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want %q", err, w)
		}
	}
	if !errors.Is(err, deckhand.ErrInvalidInput) || !errors.Is(err, deckhand.ErrNotWhitelisted) {
		t.Errorf("%v is not ErrInvalidInput and ErrNotWhitelisted", err)
	}
	if err := (commands.Config{Secret: []byte(strings.Repeat("k", 32))}).Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
