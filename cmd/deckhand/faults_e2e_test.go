package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/collector/collectortest"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

// fakeHost serves a collectortest engine with fault f over in-process SSH
// and returns its [[hosts]] block.
func fakeHost(t *testing.T, name string, f collectortest.Fault) hostBlock {
	t.Helper()
	eng := collectortest.NewEngine("28.2")
	eng.AddContainer(deckhand.Container{Name: name + "-app", Labels: map[string]string{deckhand.LabelMonitor: "true"}})
	keyFile, pub := collectortest.NewClientKey(t)
	srv := collectortest.NewServer(t, eng, collectortest.WithAuthorizedKey(pub))
	known := filepath.Join(t.TempDir(), "known_hosts")
	srv.WriteKnownHosts(t, known)
	eng.SetFault(f)
	return hostBlock{Name: name, Transport: "ssh", Address: srv.Addr, User: "deckhand", KeyFile: keyFile, KnownHosts: known}
}

// blackhole accepts TCP connections and never says a word: a host whose
// sshd is wedged, or a firewall that swallows packets after the handshake.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// publicHosts maps host name to status in /api/status.json.
func publicHosts(t *testing.T, addr string) map[string]string {
	t.Helper()
	out := map[string]string{}
	hosts, _ := statusJSON(t, addr)["hosts"].([]any)
	for _, h := range hosts {
		m, _ := h.(map[string]any)
		name, _ := m["name"].(string)
		status, _ := m["status"].(string)
		out[name] = status
	}
	return out
}

// TestE2EBrokenHostsBesideAHealthyOne is issue 6 (b): a host that hangs,
// one that accepts TCP and never speaks SSH, one that prints garbage and
// one whose Docker daemon is down, next to the real local engine. Each is
// stored with its own status and shown as "down" publicly, while the local
// host keeps being collected on every cycle.
func TestE2EBrokenHostsBesideAHealthyOne(t *testing.T) {
	requireDocker(t)
	hang := fakeHost(t, "hang", collectortest.FaultHang)
	hang.CommandTimeout = "10s"
	garbage := fakeHost(t, "garbage", collectortest.FaultGarbage)
	down := fakeHost(t, "daemondown", collectortest.FaultDaemonDown)
	silent := hostBlock{Name: "silent", Transport: "ssh", Address: blackhole(t), User: "deckhand", KeyFile: garbage.KeyFile, KnownHosts: garbage.KnownHosts}
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{
		Hosts:   []hostBlock{{Name: "local", Transport: "local"}, hang, garbage, down, silent},
		NtfyURL: fake.URL,
	})
	e := env.start()
	st := env.openStore()

	want := map[string]deckhand.HostStatus{
		"local":      deckhand.HostOK,
		"hang":       deckhand.HostTimeout,
		"garbage":    deckhand.HostBadOutput,
		"daemondown": deckhand.HostDaemonDown,
		// No SSH banner within connect_timeout: the handshake failed, so
		// the machine counts as unreachable, not as a slow command.
		"silent": deckhand.HostUnreachable,
	}
	eventually(t, "every host stored with its status", func() (bool, string) {
		var bad []string
		for name, status := range want {
			h := hostStatus(t, st, name)
			if h.Status != status {
				bad = append(bad, fmt.Sprintf("%s=%s (%s)", name, h.Status, h.LastError))
			} else if status != deckhand.HostOK && h.LastError == "" {
				bad = append(bad, name+" has no reason")
			}
		}
		return len(bad) == 0, strings.Join(bad, ", ")
	})
	eventually(t, "status.json shows the broken hosts down and local up", func() (bool, string) {
		pub := publicHosts(t, e.addr)
		for name, status := range want {
			wantPub := "down"
			if status == deckhand.HostOK {
				wantPub = "up"
			}
			if pub[name] != wantPub {
				return false, fmt.Sprint(pub)
			}
		}
		return true, ""
	})
	// The status page never tells the public why a host is down.
	raw := fmt.Sprint(statusJSON(t, e.addr))
	for _, secret := range []string{"Cannot connect", "timeout", "127.0.0.1"} {
		if strings.Contains(raw, secret) {
			t.Errorf("status.json reveals %q: %s", secret, raw)
		}
	}

	// While the hung host holds its 10s command timeout, the local host is
	// still collected on the 1s poll: between two attempts on the hung host,
	// the local one is collected several times (counted, not timed, from
	// /metrics: an unchanged host is not written to the store again).
	// Two more attempts on the hung host take at least one command
	// timeout, since its polls run one after the other.
	hang0, local0 := collects(t, e.addr, "hang"), collects(t, e.addr, "local")
	eventually(t, "the hung host attempted twice more", func() (bool, string) {
		n := collects(t, e.addr, "hang")
		return n >= hang0+2, fmt.Sprintf("%v attempts", n)
	})
	if got := collects(t, e.addr, "local") - local0; got < 3 {
		t.Errorf("local collected %v time(s) during two attempts on the hung host: a slow host holds back the others", got)
	}
	// One host outage pages once per host, not per container.
	waitNtfy(t, fake, "daemondown", "", "daemondown has its Docker daemon down", 1)
}

// TestE2EHostKeyChanged is issue 6 (c): the real sshd is restarted on the
// same port with a new host key, as after a reinstall (or an attack);
// deckhand refuses it, even with accept_unknown_host_key (which covers
// unknown keys, never changed ones), stores host_key_mismatch and opens a
// host_unreachable alert.
func TestE2EHostKeyChanged(t *testing.T) {
	requireDocker(t)
	sshd := sshdtest.Start(t, sshdtest.Options{})
	host := sshHost("reinstalled", sshd)
	host.Extra = "accept_unknown_host_key = true\n"
	fake := ntfytest.NewServer(t)
	// sshd's restart makes the host refuse connections for a moment, and
	// the collector waits 5s before reconnecting: a host grace beyond that
	// makes the alert open on the key mismatch, which is what it is about.
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{host}, NtfyURL: fake.URL, HostGrace: "10s"})
	env.start()
	st := env.openStore()
	if h := hostStatus(t, st, "reinstalled"); h.Status != deckhand.HostOK {
		t.Fatalf("before the change the host is %s (%s)", h.Status, h.LastError)
	}

	newHostKey(t, filepath.Join(sshd.Dir, "ssh_host_ed25519_key"))
	sshd.Restart(t) // drops deckhand's connection; the reconnect meets the new key

	eventually(t, "host key mismatch stored", func() (bool, string) {
		h := hostStatus(t, st, "reinstalled")
		return h.Status == deckhand.HostKeyMismatch, fmt.Sprintf("%s (%s)", h.Status, h.LastError)
	})
	eventually(t, "host_unreachable alert open", func() (bool, string) {
		active, _ := st.ActiveAlerts(context.Background())
		var keys []string
		for _, a := range active {
			if a.Key == (deckhand.AlertKey{Host: "reinstalled", Kind: deckhand.AlertHostUnreachable}) && a.State == deckhand.AlertOpen {
				return true, ""
			}
			keys = append(keys, fmt.Sprintf("%v/%s", a.Key, a.State))
		}
		return false, strings.Join(keys, " ")
	})
	msg := waitNtfy(t, fake, "reinstalled", "", "reinstalled is unreachable", 1)[0]
	// The alert leads with the cause, then names the refused key.
	if !strings.Contains(msg.Message, "host key mismatch") || !strings.Contains(msg.Message, "presented ssh-ed25519 key") {
		t.Errorf("alert text %q does not say the host key changed", msg.Message)
	}
	// Still refused on later cycles: the new key was not learnt, and the
	// known_hosts file is untouched.
	time.Sleep(2 * time.Second)
	if h := hostStatus(t, st, "reinstalled"); h.Status != deckhand.HostKeyMismatch {
		t.Errorf("after more cycles the host is %s: the changed key must stay refused", h.Status)
	}
	if got, err := os.ReadFile(sshd.KnownHostsFile); err != nil || string(got) != sshd.KnownHostsLine(sshd.HostKey) {
		t.Errorf("known_hosts changed: %q (%v)", got, err)
	}
}

// newHostKey replaces an sshd host key file with a fresh ed25519 key.
func newHostKey(t *testing.T, path string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// collects is how many collections of host /metrics counts, whatever their
// result.
func collects(t *testing.T, addr, host string) float64 {
	t.Helper()
	return metricSum(t, addr, "deckhand_collects_total", `host="`+host+`"`)
}
