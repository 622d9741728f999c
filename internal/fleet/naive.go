package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deckhand/deckhand/collector"
)

// Naive collects the way a first script does, and is the baseline of the
// fleet benchmark: hosts one after another, and for every docker command a
// new SSH connection (TCP connect, key exchange, public key login) carrying
// one exec. It runs the two commands a collector without a cache needs per
// host (ps, then one inspect of every ID). deckhand's steady cycle runs the
// first alone on a host where nothing changed, so the comparison measures
// connection handling and deckhand's line cache together.
type Naive struct {
	cfg   *ssh.ClientConfig
	dials atomic.Int64
}

// NewNaive logs in as the fleet's user with its key and checks host keys
// against its known_hosts, as deckhand does.
func NewNaive(m Manifest) (*Naive, error) {
	cfg, err := ClientConfig(m.KeyFile, m.KnownHosts, User)
	if err != nil {
		return nil, err
	}
	return &Naive{cfg: cfg}, nil
}

// ClientConfig builds an x/crypto/ssh client configuration from a key file
// and a known_hosts file.
func ClientConfig(keyFile, knownHostsFile, user string) (*ssh.ClientConfig, error) {
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("ssh key %s: %w", keyFile, err)
	}
	cb, err := knownhosts.New(knownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb, Timeout: 5 * time.Second}, nil
}

// Dials counts the SSH connections opened so far.
func (n *Naive) Dials() int64 { return n.dials.Load() }

// Collect collects every host in turn and returns how many containers it
// read and how many hosts failed.
func (n *Naive) Collect(ctx context.Context, hosts []Host) (containers, failed int) {
	for _, h := range hosts {
		c, err := n.CollectHost(ctx, h.Addr)
		if err != nil {
			failed++
		}
		containers += c
	}
	return containers, failed
}

// CollectHost runs ps and inspect on one host, each over its own connection.
func (n *Naive) CollectHost(ctx context.Context, addr string) (int, error) {
	n.dials.Add(1)
	out, err := Exec(ctx, n.cfg, addr, collector.QuoteArgv([]string{"docker", "ps", "-a", "--no-trunc", "--format", "{{json .}}"}))
	if err != nil {
		return 0, err
	}
	argv := []string{"docker", "inspect"}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var row struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return 0, fmt.Errorf("docker ps on %s: %w", addr, err)
		}
		argv = append(argv, row.ID)
	}
	if len(argv) == 2 {
		return 0, nil
	}
	n.dials.Add(1)
	out, err = Exec(ctx, n.cfg, addr, collector.QuoteArgv(argv))
	if err != nil {
		return 0, err
	}
	var info []map[string]any
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, fmt.Errorf("docker inspect on %s: %w", addr, err)
	}
	return len(info), nil
}

// Exec opens a new SSH connection to addr, runs cmd in one session, and
// closes the connection: what `ssh host cmd` does. A non-zero exit status is
// an error.
func Exec(ctx context.Context, cfg *ssh.ClientConfig, addr, cmd string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	client := ssh.NewClient(cc, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh session %s: %w", addr, err)
	}
	defer s.Close()
	var stderr bytes.Buffer
	s.Stderr = &stderr
	out, err := s.Output(cmd)
	if err != nil {
		return out, fmt.Errorf("%s on %s: %w: %s", cmd, addr, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
