package statuspage

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// secretView puts a distinctive secret in every field the page must never
// show, next to public containers that make the page render all its parts.
func secretView() (View, []string) {
	now := fixtureNow
	v := fixtureView()
	secrets := []string{
		"10.1.2.3", "192.168.77.5", "fd00:dead:beef::9", // addresses
		"SECRET_LASTERROR", "hunter2", "DB_PASSWORD", "TOKEN_ABC123", "secret.internal.example",
		"sha256:feedfacecafe", "deadbeefdeadbeef", "registry.secret.example",
		"SECRET_STATUS_TEXT", "SECRET_ALERT_MESSAGE", "alice-the-acker", "bob-the-announcer",
		"hidden-vault-xyz", "hidden-private-db", "unmonitored-thing", "svc-secret-service",
		"SECRET_DOCKER_VERSION", "SECRET_CLIENT_VERSION", "SECRET_API_VERSION", "SECRET_TRANSPORT",
		"SECRET_HIDDEN_MAINT", "SECRET_PORT_PROTO",
	}
	for i := range v.Hosts {
		h := &v.Hosts[i]
		h.LastError = "dial tcp 10.1.2.3:22: SECRET_LASTERROR"
		h.DockerVersion = "SECRET_DOCKER_VERSION"
		h.ClientVersion = "SECRET_CLIENT_VERSION"
		h.APIVersion = "SECRET_API_VERSION"
		h.Transport = "SECRET_TRANSPORT"
	}
	v.Hosts[0].Status = deckhand.HostAuthFailed // a failing host must not reveal why either
	for i := range v.Containers {
		c := &v.Containers[i]
		c.ID = "deadbeefdeadbeef" + c.ID[16:]
		c.ImageID = "sha256:feedfacecafe"
		c.Image = "registry.secret.example/app:1"
		c.Command = "env DB_PASSWORD=hunter2 /run --token TOKEN_ABC123"
		c.Status = "Up 2 hours SECRET_STATUS_TEXT"
		c.Ports = []deckhand.Port{{IP: "192.168.77.5", PublicPort: 8443, PrivatePort: 443, Proto: "SECRET_PORT_PROTO"}, {IP: "fd00:dead:beef::9", PrivatePort: 80, Proto: "tcp"}}
		c.Labels["traefik.http.routers.app.rule"] = "Host(`secret.internal.example`)"
		c.Labels["com.example.api_token"] = "TOKEN_ABC123"
		c.ComposeService = "svc-secret-service"
	}
	hidden := []deckhand.Container{
		{Host: "nas", Name: "hidden-vault-xyz", State: deckhand.StateExited, Labels: labels(deckhand.LabelMonitor, "true", deckhand.LabelPublic, "false")},
		{Host: "vps", Name: "hidden-private-db", State: deckhand.StateRunning, Health: deckhand.HealthUnhealthy, Labels: labels(deckhand.LabelPublic, "no")},
		{Host: "pi", Name: "unmonitored-thing", State: deckhand.StateExited, Labels: labels()},
	}
	v.Containers = append(v.Containers, hidden...)
	for _, c := range hidden {
		k := ContainerKey{c.Host, c.Name}
		v.Uptime[k] = series(now, []deckhand.Outage{{Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour)}}, false)
		v.Maintenance[k] = "SECRET_HIDDEN_MAINT " + c.Name
		v.Active = append(v.Active, deckhand.Alert{Key: deckhand.AlertKey{Host: c.Host, Container: c.Name, Kind: deckhand.AlertContainerDown},
			State: deckhand.AlertOpen, Message: c.Name + " SECRET_ALERT_MESSAGE", FirstSeenAt: now.Add(-time.Hour)})
		v.Recent = append(v.Recent, deckhand.Alert{Key: deckhand.AlertKey{Host: c.Host, Container: c.Name, Kind: deckhand.AlertUnhealthy},
			State: deckhand.AlertClosed, FirstSeenAt: now.Add(-5 * time.Hour), ClosedAt: now.Add(-4 * time.Hour)})
	}
	// An alert about a container that no longer exists at all.
	v.Active = append(v.Active, deckhand.Alert{Key: deckhand.AlertKey{Host: "nas", Container: "svc-secret-service", Kind: deckhand.AlertContainerDown},
		State: deckhand.AlertOpen, FirstSeenAt: now.Add(-time.Hour)})
	for i := range v.Active {
		v.Active[i].Message += " dial tcp 10.1.2.3:22 SECRET_ALERT_MESSAGE"
		v.Active[i].AckedBy = "alice-the-acker"
	}
	for i := range v.Recent {
		v.Recent[i].Message = "SECRET_ALERT_MESSAGE"
		v.Recent[i].AckedBy = "alice-the-acker"
	}
	for i := range v.Announcements {
		v.Announcements[i].By = "bob-the-announcer"
	}
	return v, secrets
}

func TestPrivacy(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	v, secrets := secretView()
	p.Update(v)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)

	responses := map[string]string{}
	paths := []string{"/", "/api/status.json", "/host/nas", "/host/vps", "/host/pi"}
	for _, c := range v.Containers {
		paths = append(paths, "/badge/"+c.Host+"/"+c.Name+".svg")
	}
	for _, path := range paths {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		responses[path] = string(b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	responses["/events"] = readEvent(t, bufio.NewReader(resp.Body)).data

	// The public containers are there: the test would pass vacuously on an
	// empty page otherwise.
	for _, want := range []string{"jellyfin", "nextcloud", "pihole"} {
		if !strings.Contains(responses["/"], want) || !strings.Contains(responses["/events"], want) {
			t.Fatalf("public container %q missing from the page or the event", want)
		}
	}
	for path, body := range responses {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s reveals %q", path, s)
			}
		}
		for _, s := range []string{"auth_failed", "LastError"} {
			if strings.Contains(body, s) {
				t.Errorf("%s reveals %q", path, s)
			}
		}
	}
}
