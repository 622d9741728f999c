package collectortest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/deckhand/deckhand"
)

// TestWithRTTKeepsStreamsIntact runs the same command through a plain and a
// jittery delayed server: delaying must never reorder or lose bytes.
func TestWithRTTKeepsStreamsIntact(t *testing.T) {
	e := NewEngine("28.2")
	for i := range 60 {
		e.AddContainer(deckhand.Container{ID: fmt.Sprintf("%064x", i+1), Name: fmt.Sprintf("app-%02d", i),
			Labels: map[string]string{"note": "padding padding padding padding"}})
	}
	plain := NewServer(t, e)
	slow := NewServer(t, e, WithRTT(4*time.Millisecond, 6*time.Millisecond))
	run := func(s *Server) []byte {
		t.Helper()
		_, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{User: "u", Auth: []ssh.AuthMethod{ssh.Password("x")},
			HostKeyCallback: ssh.FixedHostKey(s.HostKey)})
		if err == nil {
			t.Fatal("password auth accepted; want public key only")
		}
		key, err := newHostSigner() // any key: the server accepts every key by default
		if err != nil {
			t.Fatal(err)
		}
		c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{User: "u", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
			HostKeyCallback: ssh.FixedHostKey(s.HostKey)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		out, err := sess.Output(`docker ps -a --no-trunc --format '{{json .}}'`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := run(plain), run(slow)
	if len(want) < 20000 || !bytes.Equal(want, got) {
		t.Fatalf("delayed output differs: %d bytes plain, %d delayed", len(want), len(got))
	}
	if slow.Handshakes() != 2 || slow.Sessions() != 1 {
		t.Fatalf("delayed server saw %d handshakes, %d sessions; want 2, 1", slow.Handshakes(), slow.Sessions())
	}
}
