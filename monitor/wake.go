package monitor

import (
	"time"

	"github.com/deckhand/deckhand/alerts"
)

// resultWake is when the engine wants to be asked again.
func resultWake(res alerts.Result) time.Time { return res.Wake }
