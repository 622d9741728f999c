package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deckhand/deckhand/internal/sshdtest"
)

// benchImage returns a local image whose default command serves until
// killed: the integration tests' deckhand-testapp when present, else one
// built from internal/testapp (needs the go tool and the source tree).
func benchImage(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "images", "deckhand-testapp", "--format", "{{.Repository}}:{{.Tag}}").Output()
	if err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); first != "" {
			return first, nil
		}
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "testapp"), "github.com/deckhand/deckhand/internal/testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testapp: %v: %s", err, bytes.TrimSpace(out))
	}
	df := "FROM scratch\nCOPY testapp /testapp\nENTRYPOINT [\"/testapp\"]\nCMD [\"serve\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return "", err
	}
	const tag = "deckhand-bench-testapp:latest"
	b := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, dir)
	b.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := b.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker build: %v: %s", err, bytes.TrimSpace(out))
	}
	return tag, nil
}

// benchSSHD is OpenSSH's sshd on a loopback port with generated keys.
type benchSSHD struct {
	addr, user, keyFile, knownHosts string
	cmd                             *exec.Cmd
}

func writeKey(path string) (ssh.PublicKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "deckhand bench")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	return s.PublicKey(), nil
}

func startSSHD(ctx context.Context, dir string) (*benchSSHD, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	hostPub, err := writeKey(filepath.Join(dir, "host_key"))
	if err != nil {
		return nil, err
	}
	clientPub, err := writeKey(filepath.Join(dir, "id_ed25519"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	portN, _ := strconv.Atoi(port)
	conf := strings.Join(sshdtest.Config{Port: portN, Dir: dir, HostKeyFile: filepath.Join(dir, "host_key"),
		AuthorizedKeys: filepath.Join(dir, "authorized_keys"), User: u.Username}.Lines(), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	known := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(sshdtest.SSHDPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd: %w", err)
	}
	s := &benchSSHD{addr: addr, user: u.Username, keyFile: filepath.Join(dir, "id_ed25519"), knownHosts: filepath.Join(dir, "known_hosts"), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			return nil, fmt.Errorf("sshd not answering on %s: %s", addr, bytes.TrimSpace(log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the listening sshd; per-connection children end with their
// connections, which the daemon has closed by then.
func (s *benchSSHD) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}
