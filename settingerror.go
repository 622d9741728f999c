package deckhand

import "fmt"

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
