package collector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

func TestProbeNamesTheFailureAndItsFix(t *testing.T) {
	keyFile, pub := collectortest.NewClientKey(t)
	tests := []struct {
		name        string
		fault       collectortest.Fault
		unknownKey  bool
		wantFailed  bool
		wantDetail  string
		wantFixPart string
	}{
		{name: "good", wantDetail: "tcp, ssh handshake, host key known, login, docker "},
		{name: "auth", fault: collectortest.FaultAuth, wantFailed: true, wantDetail: "authentication", wantFixPart: "authorized_keys"},
		{name: "socket", fault: collectortest.FaultPermissionDenied, wantFailed: true, wantDetail: "permission denied", wantFixPart: "usermod -aG docker"},
		{name: "cli", fault: collectortest.FaultDockerMissing, wantFailed: true, wantDetail: "not found", wantFixPart: "docker_path"},
		{name: "daemon", fault: collectortest.FaultDaemonDown, wantFailed: true, wantDetail: "Cannot connect", wantFixPart: "start dockerd"},
		{name: "hostkey", unknownKey: true, wantFailed: true, wantDetail: "host key", wantFixPart: "ssh-keyscan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := collectortest.NewEngine("28.2")
			e.SetFault(tt.fault)
			s := collectortest.NewServer(t, e, collectortest.WithAuthorizedKey(pub), collectortest.WithUser("deck"))
			kh := filepath.Join(t.TempDir(), "known_hosts")
			line := s.KnownHostsLine("") + "\n"
			if tt.unknownKey {
				line = ""
			}
			if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := New([]HostConfig{{Name: "nas", Transport: TransportSSH, Address: s.Addr, User: "deck",
				KeyFile: keyFile, KnownHostsFile: kh, Enabled: true,
				CommandTimeout: 2 * time.Second, ConnectTimeout: 2 * time.Second}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got := c.Probe(context.Background(), "nas")
			if got.Failed != tt.wantFailed || got.Subject != "host nas" ||
				!strings.Contains(got.Detail, tt.wantDetail) || !strings.Contains(got.Fix, tt.wantFixPart) {
				t.Errorf("Probe = %+v, want failed=%v detail ~%q fix ~%q", got, tt.wantFailed, tt.wantDetail, tt.wantFixPart)
			}
		})
	}
}

func TestProbeSkipsDisabledHost(t *testing.T) {
	c, err := New([]HostConfig{{Name: "old", Transport: TransportLocal, Enabled: false}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Probe(context.Background(), "old"); got != deckhand.Pass("host old", "disabled, not checked") {
		t.Errorf("Probe = %+v", got)
	}
}
