package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deckhand/deckhand"
)

// sshTransport keeps one SSH connection to one host and runs every command
// as a new session on it: a handshake costs several round trips and public
// key operations, a session one round trip.
type sshTransport struct {
	cfg        HostConfig
	log        *slog.Logger
	now        func() time.Time
	backoff    []time.Duration
	handshakes *atomic.Int64 // shared by all hosts of a Collector
	knownHosts *knownHostsCache
	own        atomic.Int64  // this host's handshakes
	sem        chan struct{} // bounds concurrent sessions
	dialLock   chan struct{} // one dial at a time, waitable with a context

	mu       sync.Mutex
	client   *ssh.Client
	failures int
	retryAt  time.Time
	lastErr  error
	closed   bool
}

func newSSHTransport(cfg HostConfig, log *slog.Logger, now func() time.Time, backoff []time.Duration, handshakes *atomic.Int64, known *knownHostsCache) *sshTransport {
	return &sshTransport{
		cfg: cfg, log: log, now: now, backoff: backoff, handshakes: handshakes, knownHosts: known,
		sem:      make(chan struct{}, cfg.MaxSessions),
		dialLock: make(chan struct{}, 1),
	}
}

var errClosed = errors.New("collector closed")

// conn returns the live client, dialling when there is none. While in
// backoff after failures it fails fast with the last error, so a dead host
// is not hammered by every cycle, action and events reconnect.
func (t *sshTransport) conn(ctx context.Context) (*ssh.Client, error) {
	select {
	case t.dialLock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the connection: %w", deckhand.ErrTimeout)
	}
	defer func() { <-t.dialLock }()

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, errClosed
	}
	if t.client != nil {
		c := t.client
		t.mu.Unlock()
		return c, nil
	}
	if t.lastErr != nil && t.now().Before(t.retryAt) {
		err := t.lastErr
		t.mu.Unlock()
		return nil, err
	}
	t.mu.Unlock()

	client, chans, reqs, err := t.dial(ctx)

	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failures++
		wait := t.backoff[min(t.failures, len(t.backoff))-1]
		t.retryAt = t.now().Add(wait)
		t.lastErr = err
		t.log.Warn("ssh connection failed", "host", t.cfg.Name, "err", err, "retry_in", wait)
		return nil, err
	}
	if t.closed {
		client.Close()
		return nil, errClosed
	}
	t.client, t.failures, t.lastErr = client, 0, nil
	go t.serve(client, chans, reqs)
	return client, nil
}

// drop forgets client if it is still the current one and closes it.
func (t *sshTransport) drop(client *ssh.Client, why error) {
	t.mu.Lock()
	if t.client == client {
		t.client = nil
		t.log.Info("ssh connection closed", "host", t.cfg.Name, "reason", why)
	}
	t.mu.Unlock()
	client.Close()
}

// serve is the one goroutine of deckhand's own per connection (a fleet has
// hundreds): it answers the server's global requests and channel opens as
// ssh.Client's handlers would (no; unknown channel type), sends OpenSSH's
// keepalive, and forgets the connection once it ends. A keepalive that
// fails or gets no reply within the interval means the connection is dead
// (NAT timeout, host rebooted): it is closed, to be reopened on the next
// command.
func (t *sshTransport) serve(client *ssh.Client, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) {
	var tick <-chan time.Time
	if t.cfg.KeepAlive > 0 {
		ticker := time.NewTicker(t.cfg.KeepAlive)
		defer ticker.Stop()
		tick = ticker.C
	}
	var (
		reply   chan error // the keepalive in flight, if any
		timer   *time.Timer
		expired <-chan time.Time
	)
	stopTimer := func() {
		if timer != nil {
			timer.Stop()
		}
		reply, timer, expired = nil, nil, nil
	}
	defer stopTimer()
	for chans != nil || reqs != nil {
		select {
		case r, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			_ = nc.Reject(ssh.UnknownChannelType, "unknown channel type: "+nc.ChannelType())
		case <-tick:
			if reply != nil {
				continue
			}
			done := make(chan error, 1)
			go func() {
				_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
				done <- err
			}()
			reply, timer = done, time.NewTimer(t.cfg.KeepAlive)
			expired = timer.C
		case err := <-reply:
			stopTimer()
			if err != nil {
				t.drop(client, fmt.Errorf("keepalive: %w", err))
			}
		case <-expired:
			stopTimer()
			t.drop(client, errors.New("keepalive: no reply"))
		}
	}
	err := client.Wait()
	if err == nil {
		err = io.EOF
	}
	t.drop(client, err)
}

// closedChannels stand in for the request and channel streams given to
// ssh.NewClient, whose handlers then end at once: serve takes the real
// streams, sparing two goroutines per connection.
func closedChannels() (<-chan ssh.NewChannel, <-chan *ssh.Request) {
	chans, reqs := make(chan ssh.NewChannel), make(chan *ssh.Request)
	close(chans)
	close(reqs)
	return chans, reqs
}

// dial opens and authenticates a new connection within ConnectTimeout.
func (t *sshTransport) dial(ctx context.Context) (*ssh.Client, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()

	auth, closeAgent, err := t.authMethods()
	if err != nil {
		return nil, nil, nil, err
	}
	defer closeAgent()

	var keyErr error
	hostKeys, err := t.hostKeyCallback(&keyErr)
	if err != nil {
		return nil, nil, nil, err
	}
	d := net.Dialer{Timeout: t.cfg.ConnectTimeout}
	nc, err := d.DialContext(ctx, "tcp", t.cfg.Address)
	if err != nil {
		return nil, nil, nil, classifyDial(err, t.cfg.ConnectTimeout)
	}
	// The handshake has no context: a deadline on the socket bounds it and
	// closing the socket on cancellation stops it.
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	t.handshakes.Add(1)
	t.own.Add(1)
	conf := &ssh.ClientConfig{
		User:            t.cfg.User,
		Auth:            auth,
		HostKeyCallback: hostKeys,
		Timeout:         t.cfg.ConnectTimeout,
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, t.cfg.Address, conf)
	if err != nil {
		nc.Close()
		switch {
		case keyErr != nil:
			return nil, nil, nil, keyErr
		case ctx.Err() != nil:
			return nil, nil, nil, fmt.Errorf("ssh handshake with %s: no answer within %s: %w", t.cfg.Address, t.cfg.ConnectTimeout, deckhand.ErrUnreachable)
		case strings.Contains(err.Error(), "unable to authenticate"), strings.Contains(err.Error(), "no supported methods remain"):
			return nil, nil, nil, fmt.Errorf("ssh login as %s refused: %w", t.cfg.User, deckhand.ErrAuthFailed)
		}
		return nil, nil, nil, fmt.Errorf("ssh handshake with %s: %v: %w", t.cfg.Address, err, deckhand.ErrUnreachable)
	}
	_ = nc.SetDeadline(time.Time{})
	none, noReqs := closedChannels()
	return ssh.NewClient(cc, none, noReqs), chans, reqs, nil
}

func classifyDial(err error, timeout time.Duration) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connection refused: %w", deckhand.ErrUnreachable)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("no route to host: %w", deckhand.ErrUnreachable)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer within %s: %w", timeout, deckhand.ErrUnreachable)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot resolve %s: %w", dnsErr.Name, deckhand.ErrUnreachable)
	}
	return fmt.Errorf("%v: %w", err, deckhand.ErrUnreachable)
}

// authMethods reads the key file and connects to the agent. The returned
// func closes the agent connection once the handshake is over.
func (t *sshTransport) authMethods() ([]ssh.AuthMethod, func(), error) {
	var methods []ssh.AuthMethod
	closeAgent := func() {}
	if t.cfg.KeyFile != "" {
		pem, err := os.ReadFile(t.cfg.KeyFile)
		if err != nil {
			return nil, closeAgent, fmt.Errorf("reading ssh key: %v: %w", err, deckhand.ErrAuthFailed)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, closeAgent, fmt.Errorf("ssh key %s needs a passphrase; load it into ssh-agent and set use_agent: %w", t.cfg.KeyFile, deckhand.ErrAuthFailed)
		}
		if err != nil {
			return nil, closeAgent, fmt.Errorf("ssh key %s: %v: %w", t.cfg.KeyFile, err, deckhand.ErrAuthFailed)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if t.cfg.UseAgent {
		sock := t.cfg.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
			if len(methods) == 0 {
				return nil, closeAgent, fmt.Errorf("use_agent is set but SSH_AUTH_SOCK is empty: %w", deckhand.ErrAuthFailed)
			}
		} else if ac, err := net.Dial("unix", sock); err != nil {
			if len(methods) == 0 {
				return nil, closeAgent, fmt.Errorf("ssh-agent: %v: %w", err, deckhand.ErrAuthFailed)
			}
			t.log.Warn("ssh-agent unavailable, using the key file only", "host", t.cfg.Name, "err", err)
		} else {
			closeAgent = func() { ac.Close() }
			methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
		}
	}
	return methods, closeAgent, nil
}

// hostKeyCallback checks keys against the known_hosts file. A key that
// differs from a known one is always refused; an unknown host is accepted
// only with AcceptUnknownHostKey, and loudly. The classified error is also
// stored in *keyErr because the SSH library may not wrap it. Its message
// starts with the cause, as it becomes the host's LastError and alert
// texts that may be cut short.
func (t *sshTransport) hostKeyCallback(keyErr *error) (ssh.HostKeyCallback, error) {
	var known ssh.HostKeyCallback
	if t.cfg.KnownHostsFile != "" {
		cb, err := t.knownHosts.callback(t.cfg.KnownHostsFile)
		switch {
		case err == nil:
			known = cb
		case errors.Is(err, os.ErrNotExist) && t.cfg.AcceptUnknownHostKey:
		default:
			return nil, fmt.Errorf("%w: known_hosts %s: %v", deckhand.ErrHostKeyUnknown, t.cfg.KnownHostsFile, err)
		}
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		fp := ssh.FingerprintSHA256(key)
		if known != nil {
			err := known(hostname, remote, key)
			if err == nil {
				return nil
			}
			var ke *knownhosts.KeyError
			if !errors.As(err, &ke) {
				*keyErr = fmt.Errorf("%w: checking the key of %s: %v", deckhand.ErrHostKeyUnknown, t.cfg.Address, err)
				return *keyErr
			}
			if len(ke.Want) > 0 {
				*keyErr = fmt.Errorf("%w: %s presented %s key %s, not the one in %s (line %d); refusing it",
					deckhand.ErrHostKeyMismatch, t.cfg.Address, key.Type(), fp, ke.Want[0].Filename, ke.Want[0].Line)
				return *keyErr
			}
		}
		if t.cfg.AcceptUnknownHostKey {
			t.log.Warn("accepting unknown ssh host key (accept_unknown_host_key is set)",
				"host", t.cfg.Name, "address", t.cfg.Address, "key_type", key.Type(), "fingerprint", fp,
				"known_hosts_line", knownhosts.Line([]string{knownhosts.Normalize(t.cfg.Address)}, key))
			return nil
		}
		*keyErr = fmt.Errorf("%w: %s presented %s key %s, not in %s; add it or set accept_unknown_host_key",
			deckhand.ErrHostKeyUnknown, t.cfg.Address, key.Type(), fp, t.cfg.KnownHostsFile)
		return *keyErr
	}, nil
}

// knownHostsCache parses each known_hosts file once for all the hosts of a
// Collector: a fleet's file holds a line per host, and parsing it again for
// every connection costs time and memory in the square of the fleet's
// size. A file whose size or modification time changed is parsed again, so
// an edit counts from the next connection on.
type knownHostsCache struct {
	mu    sync.Mutex
	files map[string]knownHostsFile
}

type knownHostsFile struct {
	mod   time.Time
	size  int64
	check ssh.HostKeyCallback
}

func newKnownHostsCache() *knownHostsCache {
	return &knownHostsCache{files: map[string]knownHostsFile{}}
}

func (k *knownHostsCache) callback(path string) (ssh.HostKeyCallback, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	// Held while parsing, so that a fleet connecting at once parses once.
	k.mu.Lock()
	defer k.mu.Unlock()
	if f, ok := k.files[path]; ok && f.mod.Equal(fi.ModTime()) && f.size == fi.Size() {
		return f.check, nil
	}
	check, err := knownhosts.New(path)
	if err != nil {
		delete(k.files, path)
		return nil, err
	}
	k.files[path] = knownHostsFile{mod: fi.ModTime(), size: fi.Size(), check: check}
	return check, nil
}

// session opens a session, reconnecting once when the cached connection
// turns out to be dead (nothing has run yet, so retrying is safe).
func (t *sshTransport) session(ctx context.Context) (*ssh.Session, *ssh.Client, error) {
	for attempt := 0; ; attempt++ {
		client, err := t.conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		s, err := t.newSession(ctx, client)
		if err == nil {
			return s, client, nil
		}
		t.drop(client, fmt.Errorf("new session: %w", err))
		if attempt > 0 || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("ssh session: %v: %w", err, deckhand.ErrUnreachable)
		}
	}
}

func (t *sshTransport) Run(ctx context.Context, argv []string, opt runOpts) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return result{}, fmt.Errorf("all %d sessions busy for %s: %w", cap(t.sem), opt.Timeout, deckhand.ErrTimeout)
	}
	defer func() { <-t.sem }()

	s, client, err := t.session(ctx)
	if err != nil {
		return result{}, timeoutOr(ctx, opt.Timeout, err)
	}
	defer s.Close()
	stdout := newCapped(opt.MaxOut, opt.KeepTail)
	stderr := newCapped(maxStderr, false)
	s.Stdout = stdout
	s.Stderr = stderr
	if opt.Merge {
		s.Stderr = stdout
	}
	if err := s.Start(QuoteArgv(argv)); err != nil {
		return result{}, timeoutOr(ctx, opt.Timeout, fmt.Errorf("ssh exec: %v: %w", err, deckhand.ErrUnreachable))
	}
	err = t.wait(ctx, s, client)
	if ctx.Err() != nil {
		return result{}, fmt.Errorf("no answer within %s: %w", opt.Timeout, deckhand.ErrTimeout)
	}
	res := result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Truncated: stdout.truncated, Merged: opt.Merge}
	return sessionResult(res, err)
}

// abandonGrace is how long a command that outlived its context may take to
// end once it was told to; then its connection is dropped.
const abandonGrace = 500 * time.Millisecond

// wait waits for the session's command, or for ctx. When ctx ends first, the
// remote side is asked to stop the command and the channel is closed. sshd
// keeps a session's channel open while its command lives and refuses
// signals to a forced command (ForceCommand), so Session.Wait may never
// return: after abandonGrace the whole connection is dropped, which ends
// every wait on it. A hung host costs its own timeout, never more.
func (t *sshTransport) wait(ctx context.Context, s *ssh.Session, client *ssh.Client) error {
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	select {
	case err := <-waited:
		return err
	case <-ctx.Done():
	}
	_ = s.Signal(ssh.SIGKILL)
	s.Close()
	grace := time.NewTimer(abandonGrace)
	defer grace.Stop()
	select {
	case err := <-waited:
		return err
	case <-grace.C:
		t.drop(client, errors.New("a command did not end after its timeout"))
		return ctx.Err()
	}
}

// newSession opens a session within ctx. Opening a channel waits for the
// server's confirmation, which a wedged sshd never sends: the connection
// is dropped rather than waited on.
func (t *sshTransport) newSession(ctx context.Context, client *ssh.Client) (*ssh.Session, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		t.drop(client, errors.New("no session opened within the command timeout"))
		if o := <-ch; o.s != nil {
			o.s.Close()
		}
		return nil, fmt.Errorf("open session: %w", deckhand.ErrTimeout)
	}
}

func sessionResult(res result, err error) (result, error) {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitStatus()
		if ee.Signal() != "" && ee.ExitStatus() == 0 {
			res.ExitCode = 128
		}
		return res, nil
	case errors.As(err, &missing):
		return res, fmt.Errorf("connection lost during the command: %w", deckhand.ErrUnreachable)
	}
	return res, fmt.Errorf("ssh: %v: %w", err, deckhand.ErrUnreachable)
}

func timeoutOr(ctx context.Context, d time.Duration, err error) error {
	if ctx.Err() != nil && !errors.Is(err, deckhand.ErrTimeout) && !isClassified(err) {
		return fmt.Errorf("no answer within %s: %w", d, deckhand.ErrTimeout)
	}
	return err
}

// Stream does not take a session slot: an events stream lives as long as
// the connection, and sshd's MaxSessions (10) leaves room above the cap.
func (t *sshTransport) Stream(ctx context.Context, argv []string, line func([]byte)) (result, error) {
	s, _, err := t.session(ctx)
	if err != nil {
		return result{}, err
	}
	defer s.Close()
	stderr := newCapped(maxStderr, false)
	s.Stderr = stderr
	out, err := s.StdoutPipe()
	if err != nil {
		return result{}, fmt.Errorf("ssh: %v: %w", err, deckhand.ErrUnreachable)
	}
	if err := s.Start(QuoteArgv(argv)); err != nil {
		return result{}, fmt.Errorf("ssh exec: %v: %w", err, deckhand.ErrUnreachable)
	}
	stop := context.AfterFunc(ctx, func() {
		_ = s.Signal(ssh.SIGTERM)
		s.Close()
	})
	defer stop()
	// Lines are delivered under mu until Stream returns, never after.
	var mu sync.Mutex
	ended := false
	done := make(chan error, 1)
	go func() {
		scanLines(out, func(b []byte) {
			mu.Lock()
			defer mu.Unlock()
			if !ended {
				line(b)
			}
		})
		done <- s.Wait()
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The signal and the close are sent, but sshd keeps a channel open
		// while its command lives, and a `docker events` that is not sent
		// SIGTERM only notices its closed output at its next event, which
		// may never come. The caller is not held beyond a grace period: the
		// reader then ends with the connection.
		t := time.NewTimer(streamGrace)
		select {
		case err = <-done:
		case <-t.C:
		}
		t.Stop()
	}
	mu.Lock()
	ended = true
	mu.Unlock()
	if ctx.Err() != nil {
		return result{}, nil
	}
	return sessionResult(result{Stderr: stderr.Bytes()}, err)
}

// streamGrace is how long a cancelled Stream waits for the host to end the
// command.
const streamGrace = time.Second

func (t *sshTransport) Close() error {
	t.mu.Lock()
	t.closed = true
	c := t.client
	t.client = nil
	t.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
