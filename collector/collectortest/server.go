package collectortest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// maxSessions mirrors sshd's default MaxSessions.
const maxSessions = 10

// Server is an SSH server on 127.0.0.1 whose exec requests run on an Engine.
type Server struct {
	Addr    string        // "127.0.0.1:port"
	HostKey ssh.PublicKey // the server's ed25519 host key

	engine     *Engine
	ln         net.Listener
	authorized ssh.PublicKey
	user       string

	rtt, jitter time.Duration

	handshakes atomic.Int64
	sessions   atomic.Int64
	peak       atomic.Int64
	stall      atomic.Bool

	mu     sync.Mutex
	cmds   []string
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Option configures a Server.
type Option func(*Server)

// WithAuthorizedKey accepts only this client key (by default any key is
// accepted, which is enough when auth is not what a test is about).
func WithAuthorizedKey(pub ssh.PublicKey) Option { return func(s *Server) { s.authorized = pub } }

// WithUser accepts only this user name.
func WithUser(name string) Option { return func(s *Server) { s.user = name } }

// NewServer starts a server for engine on a random loopback port; t.Cleanup
// closes it.
func NewServer(t testing.TB, engine *Engine, opts ...Option) *Server {
	t.Helper()
	s, err := Start(engine, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start is NewServer without testing.TB, for benchmarks and tools; the
// caller must Close it.
func Start(engine *Engine, opts ...Option) (*Server, error) {
	signer, err := newHostSigner()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), HostKey: signer.PublicKey(), engine: engine, ln: ln, conns: map[net.Conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	if s.rtt > 0 || s.jitter > 0 {
		s.ln = &delayListener{Listener: ln, half: s.rtt / 2, jitter: s.jitter}
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if s.engine.Fault() == FaultAuth {
				return nil, errors.New("auth refused (fault)")
			}
			if s.user != "" && meta.User() != s.user {
				return nil, fmt.Errorf("unknown user %q", meta.User())
			}
			if s.authorized != nil && string(key.Marshal()) != string(s.authorized.Marshal()) {
				return nil, errors.New("key not authorized")
			}
			return nil, nil
		},
		ServerVersion: "SSH-2.0-OpenSSH_9.2p1 collectortest",
	}
	cfg.AddHostKey(signer)
	s.wg.Add(1)
	go s.serve(cfg)
	return s, nil
}

func (s *Server) serve(cfg *ssh.ServerConfig) {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			s.handle(nc, cfg)
		}()
	}
}

func (s *Server) handle(nc net.Conn, cfg *ssh.ServerConfig) {
	s.handshakes.Add(1)
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go func() {
		for r := range reqs {
			// OpenSSH answers keepalive@openssh.com with a failure reply;
			// a stalled server answers nothing, like a dead NAT path.
			if s.stall.Load() {
				continue
			}
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}()
	var open atomic.Int32
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "unsupported channel type")
			continue
		}
		if open.Add(1) > maxSessions {
			open.Add(-1)
			_ = nch.Reject(ssh.Prohibited, "open failed")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			open.Add(-1)
			continue
		}
		s.sessions.Add(1)
		for n := int64(open.Load()); ; {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		go func() {
			s.session(nc, ch, creqs)
			// The slot is free before the client can see the channel
			// closed, as with sshd: otherwise a client that opens its
			// next session at once briefly counts one session too many.
			open.Add(-1)
			ch.Close()
		}()
	}
}

func (s *Server) session(nc net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	started := false
	for {
		select {
		case code := <-done:
			if code >= 0 {
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], uint32(code))
				_, _ = ch.SendRequest("exit-status", false, b[:])
			}
			return
		case r, ok := <-reqs:
			if !ok {
				// The client closed the channel: stop the command.
				cancel()
				if started {
					<-done
				}
				return
			}
			switch r.Type {
			case "exec":
				if started || len(r.Payload) < 4 {
					_ = r.Reply(false, nil)
					continue
				}
				n := binary.BigEndian.Uint32(r.Payload)
				if int(n) > len(r.Payload)-4 {
					_ = r.Reply(false, nil)
					continue
				}
				line := string(r.Payload[4 : 4+n])
				s.mu.Lock()
				s.cmds = append(s.cmds, line)
				s.mu.Unlock()
				if s.engine.Fault() == FaultDropConnection {
					nc.Close()
					return
				}
				_ = r.Reply(true, nil)
				started = true
				go func() { done <- s.exec(ctx, ch, line) }()
			case "signal":
				cancel()
			default:
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
			}
		}
	}
}

func (s *Server) exec(ctx context.Context, ch ssh.Channel, line string) int {
	argv, err := SplitWords(line)
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "sh: 1: Syntax error: %v\n", err)
		return 2
	}
	return s.engine.Exec(ctx, argv, ch, ch.Stderr())
}

// Engine is the engine behind the server.
func (s *Server) Engine() *Engine { return s.engine }

// Handshakes counts SSH handshakes the server has started.
func (s *Server) Handshakes() int64 { return s.handshakes.Load() }

// Sessions counts session channels opened.
func (s *Server) Sessions() int64 { return s.sessions.Load() }

// PeakSessions is the most sessions ever open at once on one connection.
func (s *Server) PeakSessions() int64 { return s.peak.Load() }

// Commands returns every command line received, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

// StallGlobalRequests makes the server stop answering global requests
// (keepalives) while leaving the TCP connection open.
func (s *Server) StallGlobalRequests(stall bool) { s.stall.Store(stall) }

// DropConnections closes every open TCP connection.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Conns is the number of open TCP connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// KnownHostsLine is the known_hosts line for this server under its address
// (hostAlias "" uses Addr as ssh writes it: "[127.0.0.1]:port").
func (s *Server) KnownHostsLine(hostAlias string) string {
	if hostAlias == "" {
		hostAlias = s.Addr
	}
	return knownhosts.Line([]string{knownhosts.Normalize(hostAlias)}, s.HostKey)
}

// WriteKnownHosts writes a known_hosts file holding this server's key.
func (s *Server) WriteKnownHosts(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s.KnownHostsLine("")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Close stops the server and drops every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
