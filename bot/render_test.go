package bot

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func TestRender(t *testing.T) {
	first := time.Date(2026, 3, 1, 14, 2, 0, 0, time.UTC)
	at := first.Add(3*time.Minute + 20*time.Second)
	down := deckhand.Alert{
		ID:          7,
		Key:         deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
		Project:     "media",
		Severity:    deckhand.SeverityCritical,
		State:       deckhand.AlertOpen,
		Message:     "exited (137)",
		FirstSeenAt: first,
	}
	acked := down
	acked.State, acked.AckedBy = deckhand.AlertAcked, "discord:alice"
	closed := down
	closed.State, closed.ClosedAt = deckhand.AlertClosed, first.Add(2*time.Hour+5*time.Minute)
	host := deckhand.Alert{Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityWarning, FirstSeenAt: first}

	for _, tc := range []struct {
		name      string
		n         deckhand.Notice
		title     string
		sev       deckhand.Severity
		code      string
		bodyHas   []string
		tags      []string
		colorNon0 bool
	}{
		{"opened", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, At: at},
			"nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light",
			[]string{"exited (137)", "Since 2026-03-01 14:02 UTC (3m)."}, []string{"container_down", "nas", "jellyfin", "media"}, true},
		{"notice text wins over alert message", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, Text: "jellyfin stopped", At: at},
			"nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light", []string{"jellyfin stopped"}, nil, true},
		{"reminder", deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: down, At: at},
			"Reminder: nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light", nil, nil, true},
		{"acked", deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: acked, At: at},
			"Acked: nas/jellyfin is down", SeverityInfo, "information_source", []string{"Acked by discord:alice."}, nil, true},
		{"recovered", deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: closed, At: at},
			"Recovered: nas/jellyfin", SeverityRecovered, "white_check_mark", []string{"Down for 2h5m."}, nil, true},
		{"host unreachable", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: host, At: at},
			"pi is unreachable", deckhand.SeverityWarning, "warning", nil, []string{"host_unreachable", "pi"}, true},
		{"unknown severity falls back to error", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: deckhand.Alert{Key: deckhand.AlertKey{Host: "h", Container: "c", Kind: deckhand.AlertUnhealthy}}},
			"h/c is unhealthy", deckhand.SeverityError, "rotating_light", nil, nil, true},
		{"announcement", deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "Maintenance tonight"},
			"Announcement", SeverityInfo, "information_source", []string{"Maintenance tonight"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Renderer{StatusURL: "https://status.example"}.Render(tc.n)
			if m.Title != tc.title {
				t.Errorf("Title = %q, want %q", m.Title, tc.title)
			}
			if m.Severity != tc.sev || m.EmojiCode != tc.code || m.Emoji == "" || (m.Color != 0) != tc.colorNon0 {
				t.Errorf("severity %q code %q emoji %q color %#x", m.Severity, m.EmojiCode, m.Emoji, m.Color)
			}
			for _, s := range tc.bodyHas {
				if !strings.Contains(m.Body, s) {
					t.Errorf("Body %q lacks %q", m.Body, s)
				}
			}
			if tc.tags != nil && !slices.Equal(m.Tags, tc.tags) {
				t.Errorf("Tags = %v, want %v", m.Tags, tc.tags)
			}
			if m.URL != "https://status.example" {
				t.Errorf("URL = %q", m.URL)
			}
		})
	}
	if Render(deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down}).URL != "" {
		t.Error("Render without a status page has a URL")
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0s",
		45 * time.Second:               "45s",
		3*time.Minute + 59*time.Second: "3m",
		2 * time.Hour:                  "2h",
		2*time.Hour + 5*time.Minute:    "2h5m",
		26 * time.Hour:                 "1d2h",
		72 * time.Hour:                 "3d",
	} {
		if got := deckhand.HumanDuration(d); got != want {
			t.Errorf("deckhand.HumanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
