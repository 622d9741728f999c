// Package fleet owns deckhand's simulated fleet: many in-process SSH hosts
// (collectortest servers in front of fake Docker engines) with injected
// round-trip time, jitter, failures and hung hosts, the files a collector needs to reach
// them (client key, known_hosts), a manifest so that a parent process can
// collect from a fleet served by a child process, and the naive baseline
// collector (a new SSH connection per docker command) that cmd/deckhand-bench
// compares deckhand's with.
package fleet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/collector/collectortest"
)

// User is the only login the fleet's servers accept.
const User = "bench"

// Config sizes a fleet.
type Config struct {
	Hosts      int
	Containers int           // per host
	RTT        time.Duration // simulated round trip between collector and every host
	Jitter     time.Duration
	// FailRate is the fraction of hosts that fail, spread evenly: half of
	// them with the Docker daemon down (SSH works, docker exits 1), half
	// refusing the SSH login.
	FailRate float64
	// Hang adds that many hosts after the others that accept the SSH
	// login and never answer a command (FaultHang).
	Hang    int
	Version string // fake docker version profile, "28.2" by default
}

// Fault names in Host.Fault.
const (
	FaultDaemonDown = "daemon_down"
	FaultAuth       = "auth"
	FaultHang       = "hang"
)

// Host is one simulated host.
type Host struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Fault is "" for a healthy host, else one of the Fault constants.
	Fault string `json:"fault,omitempty"`
}

// Manifest is what a collector needs to reach a fleet, written by the
// process serving it.
type Manifest struct {
	KeyFile    string `json:"key_file"`
	KnownHosts string `json:"known_hosts"`
	Hosts      []Host `json:"hosts"`
}

// Fleet is a running simulated fleet.
type Fleet struct {
	Manifest
	servers []*collectortest.Server
}

// failing reports whether host i of n fails at rate r; failures are spread
// evenly through the fleet rather than bunched at one end.
func failing(i int, r float64) bool {
	if r <= 0 {
		return false
	}
	return int(float64(i+1)*r) > int(float64(i)*r)
}

// Start starts cfg.Hosts servers on loopback ports and writes the client
// key and known_hosts into dir. Close stops them.
func Start(cfg Config, dir string) (*Fleet, error) {
	if cfg.Hosts < 1 || cfg.Containers < 0 || cfg.Hang < 0 {
		return nil, fmt.Errorf("fleet: %d hosts, %d containers, %d hung: %w", cfg.Hosts, cfg.Containers, cfg.Hang, deckhand.ErrInvalidInput)
	}
	if cfg.Version == "" {
		cfg.Version = "28.2"
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	pub, err := writeClientKey(keyFile)
	if err != nil {
		return nil, err
	}
	f := &Fleet{Manifest: Manifest{KeyFile: keyFile, KnownHosts: filepath.Join(dir, "known_hosts")}}
	var known strings.Builder
	failed := 0
	for i := range cfg.Hosts + cfg.Hang {
		e := collectortest.NewEngine(cfg.Version)
		for j := range cfg.Containers {
			e.AddContainer(container(i, j))
		}
		h := Host{Name: fmt.Sprintf("host-%03d", i)}
		switch {
		case i >= cfg.Hosts:
			h.Fault = FaultHang
			e.SetFault(collectortest.FaultHang)
		case failing(i, cfg.FailRate):
			h.Fault = FaultDaemonDown
			e.SetFault(collectortest.FaultDaemonDown)
			if failed%2 == 1 {
				h.Fault = FaultAuth
				e.SetFault(collectortest.FaultAuth)
			}
			failed++
		}
		s, err := collectortest.Start(e, collectortest.WithAuthorizedKey(pub), collectortest.WithUser(User),
			collectortest.WithRTT(cfg.RTT, cfg.Jitter))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("fleet: host %d: %w", i, err)
		}
		f.servers = append(f.servers, s)
		h.Addr = s.Addr
		f.Hosts = append(f.Hosts, h)
		known.WriteString(s.KnownHostsLine("") + "\n")
	}
	if err := os.WriteFile(f.KnownHosts, []byte(known.String()), 0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return f, nil
}

// container is the j-th container of host i: a homelab-like mix of compose
// projects, healthchecks and labels, all monitored and running so that
// every host answers with the same amount of work. The labels are what
// `docker compose` (v2) and a typical image's OCI metadata put on a real
// container, so inspect output and what deckhand keeps of it are real-sized.
func container(i, j int) deckhand.Container {
	project, image := fmt.Sprintf("stack-%d", j%5), fmt.Sprintf("registry.example/app-%d:1.%d", j%7, j%3)
	dir := "/srv/" + project
	c := deckhand.Container{
		Name:  fmt.Sprintf("app-%02d", j),
		Image: image,
		Labels: map[string]string{
			deckhand.LabelMonitor:                 "true",
			deckhand.LabelComposeProject:          project,
			deckhand.LabelComposeService:          fmt.Sprintf("svc-%02d", j),
			deckhand.LabelComposeFiles:            dir + "/compose.yaml",
			deckhand.LabelComposeWorkDir:          dir,
			"com.docker.compose.config-hash":      fmt.Sprintf("%064x", uint64(i)<<32|uint64(j)),
			"com.docker.compose.container-number": "1",
			"com.docker.compose.depends_on":       "",
			"com.docker.compose.image":            fmt.Sprintf("sha256:%064x", j%7),
			"com.docker.compose.oneoff":           "False",
			"com.docker.compose.version":          "2.29.7",
			"org.opencontainers.image.created":    "2026-10-01T12:00:00Z",
			"org.opencontainers.image.revision":   fmt.Sprintf("%040x", j%7),
			"org.opencontainers.image.source":     fmt.Sprintf("https://git.example/app-%d", j%7),
			"org.opencontainers.image.title":      fmt.Sprintf("app-%d", j%7),
			"org.opencontainers.image.version":    fmt.Sprintf("1.%d", j%3),
		},
		Ports: []deckhand.Port{{IP: "0.0.0.0", PublicPort: 8000 + j, PrivatePort: 80, Proto: "tcp"}},
	}
	if j%3 == 0 {
		c.Health = deckhand.HealthHealthy
	}
	return c
}

// Close stops every server.
func (f *Fleet) Close() {
	for _, s := range f.servers {
		s.Close()
	}
}

// ServerHandshakes is the number of SSH handshakes the fleet's servers have
// seen, and ServerSessions the number of sessions they opened.
func (f *Fleet) ServerHandshakes() (n int64) {
	for _, s := range f.servers {
		n += s.Handshakes()
	}
	return n
}

// ServerSessions counts session channels opened on every server.
func (f *Fleet) ServerSessions() (n int64) {
	for _, s := range f.servers {
		n += s.Sessions()
	}
	return n
}

// EventsStreams is the number of `docker events` streams open on each
// host, in Hosts order.
func (f *Fleet) EventsStreams() []int {
	out := make([]int, len(f.servers))
	for i, s := range f.servers {
		out[i] = s.Engine().Subscribers()
	}
	return out
}

// HostConfigs is the collector configuration for the manifest's hosts.
func (m Manifest) HostConfigs() []collector.HostConfig {
	out := make([]collector.HostConfig, len(m.Hosts))
	for i, h := range m.Hosts {
		out[i] = collector.HostConfig{
			Name: h.Name, Transport: collector.TransportSSH, Address: h.Addr, User: User,
			KeyFile: m.KeyFile, KnownHostsFile: m.KnownHosts, Enabled: true,
		}
	}
	return out
}

// WriteManifest writes m as one JSON line.
func WriteManifest(w io.Writer, m Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadManifest parses a line written by WriteManifest.
func ReadManifest(line []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(line, &m); err != nil {
		return Manifest{}, fmt.Errorf("fleet manifest: %w", err)
	}
	if len(m.Hosts) == 0 || m.KeyFile == "" || m.KnownHosts == "" {
		return Manifest{}, fmt.Errorf("fleet manifest: incomplete: %w", deckhand.ErrInvalidInput)
	}
	return m, nil
}

// writeClientKey writes a passphrase-less ed25519 key in OpenSSH format.
func writeClientKey(path string) (ssh.PublicKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("fleet: client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "deckhand bench")
	if err != nil {
		return nil, fmt.Errorf("fleet: client key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("fleet: client key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("fleet: client key: %w", err)
	}
	return signer.PublicKey(), nil
}
