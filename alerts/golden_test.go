package alerts

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestStoryGolden records the facts of every notice of one eventful night
// (bot's testdata holds the words it renders from them).
func TestStoryGolden(t *testing.T) {
	cfg := DefaultConfig()
	s := newSim(t, cfg)
	var lines []string
	at := func(d time.Duration, snaps ...deckhand.Snapshot) {
		s.now = t0.Add(d)
		r := s.eval(snaps...)
		for _, n := range r.Notices {
			lines = append(lines, fmt.Sprintf("+%-8s %-12s %-10s %s", d, n.Kind, n.Alert.State, fact(n)))
		}
		for _, o := range r.Restarts {
			n := s.e.RestartDone(o, nil, s.now)
			lines = append(lines, fmt.Sprintf("+%-8s %-12s %-10s %s", d, n.Kind, n.Alert.State, fact(*n)))
		}
	}
	ok := func(cs ...deckhand.Container) deckhand.Snapshot { return host("nas", cs...) }
	at(0, ok(up("jellyfin"), up("nextcloud", health(deckhand.HealthHealthy)), up("db", auto())))
	at(time.Minute, ok(crashed("jellyfin"), up("nextcloud", health(deckhand.HealthUnhealthy)), up("db", auto())))
	at(2*time.Minute, ok(crashed("jellyfin"), up("nextcloud", health(deckhand.HealthUnhealthy)), crashed("db", auto())))
	at(3*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud", health(deckhand.HealthHealthy)), up("db", auto())))
	at(5*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud", health(deckhand.HealthHealthy)), up("db", auto())))
	at(10*time.Minute, hostErr("nas", fmt.Errorf("dial tcp 192.168.1.10:22: connect: no route to host: %w", deckhand.ErrUnreachable)))
	at(11*time.Minute, hostErr("nas", deckhand.ErrUnreachable))
	at(15*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud"), up("db", auto())))
	at(17*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud"), up("db", auto())))
	at(20*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud"), up("db", auto()), up("paperless", label(deckhand.LabelDesired, "stopped"))))
	at(21*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud"), up("db", auto()), up("paperless", label(deckhand.LabelDesired, "stopped"))))
	at(81*time.Minute, ok(up("jellyfin", id("new")), up("nextcloud"), up("db", auto()), up("paperless", label(deckhand.LabelDesired, "stopped"))))

	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "story.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestStoryGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("notices differ from %s (-update to accept):\ngot:\n%swant:\n%s", path, got, want)
	}
}
