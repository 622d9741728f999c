package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
)

// transport runs argv vectors on one host.
type transport interface {
	// Run runs argv to completion. err is a failure to run it at all
	// (already classified with the deckhand sentinels); a command that ran
	// and failed has err == nil and a non-zero ExitCode.
	Run(ctx context.Context, argv []string, opt runOpts) (result, error)
	// Stream runs argv and calls line for every stdout line until it exits
	// or ctx is done.
	Stream(ctx context.Context, argv []string, line func([]byte)) (result, error)
	Close() error
}

// runOpts bounds one command.
type runOpts struct {
	Timeout  time.Duration
	MaxOut   int  // bytes of stdout kept; the rest is dropped
	KeepTail bool // keep the last MaxOut bytes instead of the first
	Merge    bool // stderr goes into stdout (logs)
}

// result is what a command that ran printed and returned.
type result struct {
	Stdout, Stderr []byte
	ExitCode       int
	Truncated      bool
	// Merged says stderr went into Stdout (runOpts.Merge): docker's error
	// text is there, at the end.
	Merged bool
}

const (
	defaultMaxOut = 64 << 20
	maxStderr     = 64 << 10
)

// cappedBuffer keeps at most max bytes: the first ones, or with tail the
// last ones. It is safe for concurrent writers (merged stdout and stderr).
type cappedBuffer struct {
	mu        sync.Mutex
	buf       []byte
	max       int
	tail      bool
	truncated bool
}

func newCapped(max int, tail bool) *cappedBuffer {
	if max <= 0 {
		max = defaultMaxOut
	}
	return &cappedBuffer{max: max, tail: tail}
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if !b.tail {
		room := b.max - len(b.buf)
		if room < len(p) {
			b.truncated = true
			p = p[:max(room, 0)]
		}
		b.buf = append(b.buf, p...)
		return n, nil
	}
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.truncated = true
		// Cut at a line start so the first line kept is whole.
		cut := over
		if i := bytes.IndexByte(b.buf[over:], '\n'); i >= 0 && i < len(b.buf)-over-1 {
			cut = over + i + 1
		}
		b.buf = append(b.buf[:0], b.buf[cut:]...)
	}
	return n, nil
}

// copyBufs are the buffers ReadFrom reads through. Without ReadFrom,
// io.Copy (which the SSH session and os/exec use to fill stdout and stderr)
// allocates 32 KiB for each stream of each command.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// ReadFrom reads r to its end through a pooled buffer. It does not read
// into b.buf directly because a merged stdout and stderr write
// concurrently.
func (b *cappedBuffer) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	var total int64
	for {
		n, err := r.Read(*bp)
		if n > 0 {
			_, _ = b.Write((*bp)[:n])
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Bytes hands over what was kept; the buffer starts afresh. Callers take it
// once the writers are done.
func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.buf
	b.buf = nil
	return out
}

// localTransport runs the docker CLI on this machine.
type localTransport struct{}

func (localTransport) Run(ctx context.Context, argv []string, opt runOpts) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	stdout := newCapped(opt.MaxOut, opt.KeepTail)
	stderr := newCapped(maxStderr, false)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if opt.Merge {
		cmd.Stderr = stdout
	}
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	res := result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Truncated: stdout.truncated, Merged: opt.Merge}
	return localResult(ctx, res, err, opt.Timeout)
}

func localResult(ctx context.Context, res result, err error, timeout time.Duration) (result, error) {
	if ctx.Err() != nil {
		return res, fmt.Errorf("no answer within %s: %w", timeout, deckhand.ErrTimeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
		return res, nil
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return res, fmt.Errorf("%v: %w", err, deckhand.ErrDockerMissing)
	}
	return res, err
}

func (localTransport) Stream(ctx context.Context, argv []string, line func([]byte)) (result, error) {
	stderr := newCapped(maxStderr, false)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return localResult(ctx, result{}, err, 0)
	}
	scanLines(out, line)
	err = cmd.Wait()
	res := result{Stderr: stderr.Bytes()}
	if ctx.Err() != nil {
		return res, nil
	}
	return localResult(ctx, res, err, 0)
}

func (localTransport) Close() error { return nil }

// scanLines feeds complete lines of r to fn; lines up to 1 MiB.
func scanLines(r io.Reader, fn func([]byte)) {
	sc := bufio.NewScanner(r)
	// Starts small: an events stream per host lives as long as its
	// connection, and event lines are well under a kilobyte.
	sc.Buffer(make([]byte, 0, 4<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			fn(sc.Bytes())
		}
	}
	// Drain what is left so the writer never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}
