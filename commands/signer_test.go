package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

func TestSignerRoundTrip(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s, err := commands.NewSigner(testSecret, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ op, ref string }{
		{"r", "c"},
		{"a", "1y2p0ij32e8e7"}, // max int64 in base36
		{"c", "AbCdEfGhIjKl"},  // confirmation id: 9 random bytes
		{"x", "_-_-_-_-_-_-"},
	}
	for _, tt := range tests {
		p := s.Sign(tt.op, tt.ref, 24*time.Hour)
		if len(p) > commands.MaxPayload {
			t.Errorf("payload %q is %d bytes", p, len(p))
		}
		op, ref, err := s.Verify(p)
		if err != nil || op != tt.op || ref != tt.ref {
			t.Errorf("Verify(%q) = %q %q %v; want %q %q", p, op, ref, err, tt.op, tt.ref)
		}
	}
}

func TestSignerRejects(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s, _ := commands.NewSigner(testSecret, clk.Now)
	other, _ := commands.NewSigner([]byte(strings.Repeat("k", 32)), clk.Now)
	good := s.Sign("r", "1z", time.Hour)

	// Every single-character change must be caught.
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_."
	for i := range good {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, good[i])+1)%len(alphabet)], '.', 'A'} {
			if c == good[i] {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			if _, _, err := s.Verify(bad); !errors.Is(err, deckhand.ErrBadSignature) {
				t.Fatalf("tampered %q (pos %d) gave %v, want ErrBadSignature", bad, i, err)
			}
		}
	}
	// Forging a later expiry breaks the MAC.
	parts := strings.Split(good, ".")
	parts[2] = "zzzzzz"
	for name, p := range map[string]string{
		"edited expiry": strings.Join(parts, "."),
		"other key":     other.Sign("r", "1z", time.Hour),
		"empty":         "",
		"truncated":     good[:len(good)-3],
		"appended":      good + "A",
		"too long":      good + strings.Repeat("A", 64),
		"no dots":       "1rabcdefghijklmnop",
		"wrong version": "2" + good[1:],
		"command line":  "/remove nas jellyfin",
	} {
		if _, _, err := s.Verify(p); !errors.Is(err, deckhand.ErrBadSignature) {
			t.Errorf("%s: Verify(%q) = %v, want ErrBadSignature", name, p, err)
		}
	}
	clk.Advance(time.Hour)
	if _, _, err := s.Verify(good); !errors.Is(err, deckhand.ErrExpired) {
		t.Errorf("expired payload gave %v, want ErrExpired", err)
	}
}

func TestSignerSecretLength(t *testing.T) {
	if _, err := commands.NewSigner([]byte("short"), nil); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Fatalf("short secret: %v", err)
	}
	if _, err := commands.NewRouter(commands.Deps{}, commands.Config{Secret: testSecret}, commands.Options{}); err == nil {
		t.Fatal("router without dependencies accepted")
	}
}

func TestSignerPanicsOnProgrammingError(t *testing.T) {
	s, _ := commands.NewSigner(testSecret, nil)
	for _, ref := range []string{"", "a.b", strings.Repeat("a", 40), "nas jellyfin"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Sign with ref %q did not panic", ref)
				}
			}()
			s.Sign("r", ref, time.Minute)
		}()
	}
}

// TestSignerCanonicalOnly: Go's base64 decoder skips '\r' and '\n', so a
// MAC with them inserted or appended decoded to the right bytes and was
// accepted. Only the exact encoding Sign produced may pass.
func TestSignerCanonicalOnly(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s, _ := commands.NewSigner(testSecret, clk.Now)
	good := s.Sign("r", "1z", time.Hour)
	mac := strings.LastIndexByte(good, '.') + 1
	for name, p := range map[string]string{
		"LF appended":        good + "\n",
		"CR appended":        good + "\r",
		"CRLF appended":      good + "\r\n",
		"LF inside the MAC":  good[:mac+4] + "\n" + good[mac+4:],
		"CR inside the MAC":  good[:mac+4] + "\r" + good[mac+4:],
		"LF before the MAC":  good[:mac] + "\n" + good[mac:],
		"padding":            good + "==",
		"padding after CRLF": good + "\r\n==",
	} {
		if _, _, err := s.Verify(p); !errors.Is(err, deckhand.ErrBadSignature) {
			t.Errorf("%s: Verify(%q) = %v, want ErrBadSignature", name, p, err)
		}
	}
}

// TestSignerTokenID: a verified token names itself by an id that differs
// between payloads, so that a single-use token can be remembered.
func TestSignerTokenID(t *testing.T) {
	clk := &clock{t: time.Unix(1_750_000_000, 0)}
	s, _ := commands.NewSigner(testSecret, clk.Now)
	a, _ := s.Parse(s.Sign("r", "1z", time.Hour))
	b, _ := s.Parse(s.Sign("r", "2z", time.Hour))
	clk.Advance(time.Second)
	c, err := s.Parse(s.Sign("r", "1z", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID == b.ID || a.ID == c.ID {
		t.Errorf("ids %q %q %q: want distinct and non-empty", a.ID, b.ID, c.ID)
	}
	if want := time.Unix(1_750_000_000, 0).Add(time.Hour); !a.Expires.Equal(want) || a.Op != "r" || a.Ref != "1z" {
		t.Errorf("token %+v, want op r ref 1z expiring %s", a, want)
	}
}
