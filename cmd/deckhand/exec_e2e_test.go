package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

// TestExecCollectsOnlyTheHostsItNames: `deckhand exec -- /help` touches no
// host, even one that accepts TCP and never answers (it took 5 s when every
// exec collected every host first); `/containers healthy` collects the
// host it names and not the silent one.
func TestExecCollectsOnlyTheHostsItNames(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			t.Cleanup(func() { c.Close() })
		}
	}()
	t.Cleanup(func() { ln.Close() })
	healthy := fakeHost(t, "healthy", collectortest.FaultNone)
	silent := hostBlock{Name: "silent", Transport: "ssh", Address: ln.Addr().String(), User: "deckhand", KeyFile: healthy.KeyFile, KnownHosts: healthy.KnownHosts}
	env := newEnv(t, e2eConfig{Data: filepath.Join(t.TempDir(), "exec.db"), Hosts: []hostBlock{healthy, silent}})
	path := env.configPath()
	exec := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(context.Background(), append([]string{"exec", "--config", path, "--"}, args...), &out, &errb); err != nil {
			t.Fatalf("exec %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	if out := exec("/help"); !strings.Contains(out, "/restart") {
		t.Errorf("/help printed %q", out)
	}
	if out := exec("/containers", "healthy"); !strings.Contains(out, "healthy-app") {
		t.Errorf("/containers healthy printed %q", out)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("the silent host was dialled %d time(s) by commands that do not name it", n)
	}
	st := env.openStore()
	if h := hostStatus(t, st, "healthy"); h.Status != deckhand.HostOK {
		t.Errorf("the named host was not collected: %s", h.Status)
	}
}
