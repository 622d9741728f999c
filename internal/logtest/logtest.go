// Package logtest owns log capture for tests: a buffer that many goroutines
// (collectors, daemons, servers) can log into while the test reads it, to
// show on failure or to check that no secret was written.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a goroutine-safe io.Writer that keeps everything written.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
