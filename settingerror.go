package deckhand

import (
	"errors"
	"fmt"
)

// SettingError is a mistake in one configuration setting. Key names it the
// way config.toml spells it ("alerts.cooldown", "hosts[1].address"), so that
// whoever loads the file can point at the line; each package's
// Config.Validate returns these (joined with errors.Join) and wraps
// ErrInvalidInput.
type SettingError struct {
	Key string
	Msg string
	// Err is a further sentinel the error matches besides ErrInvalidInput
	// (ErrNotWhitelisted for an unknown action), or nil.
	Err error
}

// Invalid returns a *SettingError for key.
func Invalid(key, format string, args ...any) error {
	return &SettingError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (e *SettingError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

func (e *SettingError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidInput, e.Err}
	}
	return []error{ErrInvalidInput}
}

// Rekey puts prefix before the key of every SettingError in err (joined
// errors included), for a validation that knows only its own part of the
// file: a selector's "name" becomes "alerts.select[2].name". An error that
// is no SettingError becomes one keyed by prefix.
func Rekey(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isSetting := err.(*SettingError); !isSetting {
			var out []error
			for _, e := range j.Unwrap() {
				out = append(out, Rekey(prefix, e))
			}
			return errors.Join(out...)
		}
	}
	var se *SettingError
	if errors.As(err, &se) {
		key := prefix
		if se.Key != "" {
			key += "." + se.Key
		}
		return &SettingError{Key: key, Msg: se.Msg, Err: se.Err}
	}
	return &SettingError{Key: prefix, Msg: err.Error()}
}
