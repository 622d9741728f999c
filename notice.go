package deckhand

import "time"

// RestartReport is the outcome of deckhand's automatic restarts of one
// container, as facts for the bot to word.
type RestartReport struct {
	Attempt int           // this attempt, 1-based; 0 when none was made (GaveUp)
	Max     int           // attempts allowed per Window
	Window  time.Duration // the window Max counts over
	Err     string        // why this attempt failed, one line; empty on success
	GaveUp  bool          // no more automatic restarts until the window frees up
}
