package collectortest

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// WithRTT makes the server behave as if its clients were rtt away: every
// chunk of bytes, in either direction, is held for rtt/2 plus a random part
// of jitter/2 before it moves on. Delaying both directions on the server
// side makes each protocol round trip (TCP aside) cost a full RTT, so SSH
// handshakes and session opens pay what they would over a real network.
// Throughput is not limited: writes return at once and are delivered later
// in order.
func WithRTT(rtt, jitter time.Duration) Option {
	return func(s *Server) { s.rtt, s.jitter = rtt, jitter }
}

// delayListener wraps accepted connections in delayConn.
type delayListener struct {
	net.Listener
	half, jitter time.Duration
}

func (l *delayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newDelayConn(c, l.half, l.jitter), nil
}

type chunk struct {
	b   []byte
	due time.Time
	err error
}

// delayConn delays reads and writes of a connection by half an RTT each.
type delayConn struct {
	net.Conn
	half, jitter time.Duration

	in      chan chunk
	pending []byte
	rerr    error

	out  chan chunk
	done chan struct{}

	mu       sync.Mutex
	lastIn   time.Time
	lastOut  time.Time
	werr     error
	closeOne sync.Once
}

func newDelayConn(c net.Conn, half, jitter time.Duration) *delayConn {
	d := &delayConn{Conn: c, half: half, jitter: jitter, in: make(chan chunk, 256), out: make(chan chunk, 256), done: make(chan struct{})}
	go d.reader()
	go d.writer()
	return d
}

// due is when a chunk seen now may move on: never before the previous
// chunk of the same direction, so jitter cannot reorder a byte stream.
func (d *delayConn) due(last *time.Time) time.Time {
	delay := d.half
	if d.jitter > 0 {
		delay += rand.N(d.jitter/2 + 1)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := time.Now().Add(delay)
	if t.Before(*last) {
		t = *last
	}
	*last = t
	return t
}

func (d *delayConn) reader() {
	defer close(d.in)
	// One read buffer; each chunk gets a copy of just what was read, so a
	// fleet of hundreds of connections does not churn 32 KiB per packet.
	buf := make([]byte, 32<<10)
	for {
		n, err := d.Conn.Read(buf)
		if n > 0 {
			select {
			case d.in <- chunk{b: append([]byte(nil), buf[:n]...), due: d.due(&d.lastIn)}:
			case <-d.done:
				return
			}
		}
		if err != nil {
			select {
			case d.in <- chunk{err: err, due: d.due(&d.lastIn)}:
			case <-d.done:
			}
			return
		}
	}
}

func (d *delayConn) Read(p []byte) (int, error) {
	if len(d.pending) == 0 {
		if d.rerr != nil {
			return 0, d.rerr
		}
		c, ok := <-d.in
		if !ok {
			return 0, net.ErrClosed
		}
		if w := time.Until(c.due); w > 0 {
			time.Sleep(w)
		}
		if c.err != nil {
			d.rerr = c.err
			return 0, c.err
		}
		d.pending = c.b
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

func (d *delayConn) writer() {
	for {
		select {
		case c := <-d.out:
			if w := time.Until(c.due); w > 0 {
				time.Sleep(w)
			}
			if _, err := d.Conn.Write(c.b); err != nil {
				d.mu.Lock()
				d.werr = err
				d.mu.Unlock()
				return
			}
		case <-d.done:
			return
		}
	}
}

func (d *delayConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	err := d.werr
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	c := chunk{b: append([]byte(nil), p...), due: d.due(&d.lastOut)}
	select {
	case d.out <- c:
		return len(p), nil
	case <-d.done:
		return 0, net.ErrClosed
	}
}

func (d *delayConn) Close() error {
	var err error
	d.closeOne.Do(func() {
		close(d.done)
		err = d.Conn.Close()
	})
	return err
}
