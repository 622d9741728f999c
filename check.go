package deckhand

// Check is one line of `deckhand doctor`: one thing verified against a real
// host or platform. Detail and Fix are shown to the operator, so they never
// carry a token, topic or password.
type Check struct {
	Subject string // "host nas", "telegram"
	Detail  string // what was verified, or what failed and why
	Fix     string // what to change when Failed
	Failed  bool
}

// Pass is a Check that succeeded.
func Pass(subject, detail string) Check { return Check{Subject: subject, Detail: detail} }

// Fail is a Check that failed, with the fix to apply.
func Fail(subject, detail, fix string) Check {
	return Check{Subject: subject, Detail: detail, Fix: fix, Failed: true}
}
