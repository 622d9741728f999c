package deckhand

import (
	"errors"
	"testing"
)

func TestSettingError(t *testing.T) {
	err := Invalid("alerts.cooldown", "want at least %s", "1s")
	if got := err.Error(); got != "alerts.cooldown: want at least 1s" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, ErrInvalidInput) {
		t.Error("a SettingError is not ErrInvalidInput")
	}
}

func TestSettingErrorWithSentinel(t *testing.T) {
	err := &SettingError{Key: "commands.narrow.operator", Msg: "unknown action", Err: ErrNotWhitelisted}
	if !errors.Is(err, ErrInvalidInput) || !errors.Is(err, ErrNotWhitelisted) {
		t.Errorf("%v matches neither sentinel", err)
	}
}
