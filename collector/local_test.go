package collector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deckhand/deckhand"
)

// fakeDockerScript is a docker CLI stand-in for the local transport: it
// prints the recorded outputs for the commands a fast collection sends.
const fakeDockerScript = `#!/bin/sh
case "$1" in
version) cat "$FIXTURES/version.json" ;;
ps) cat "$FIXTURES/ps.jsonl" ;;
inspect) cat "$FIXTURES/inspect.jsonl" ;;
logs) echo out; echo err >&2 ;;
*) echo "unknown $1" >&2; exit 1 ;;
esac
`

func TestLocalTransport(t *testing.T) {
	fixtures, err := filepath.Abs("testdata/real-28.2-20.10")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIXTURES", fixtures)
	script := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(script, []byte(fakeDockerScript), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := New([]HostConfig{
		{Name: "box", Transport: TransportLocal, DockerPath: script, Enabled: true},
		{Name: "nodocker", Transport: TransportLocal, DockerPath: filepath.Join(t.TempDir(), "absent"), Enabled: true},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap := c.Collect(context.Background(), "box", false)
	if snap.Err != nil || len(snap.Containers) != 8 || snap.Host.DockerVersion != "20.10.24+dfsg1" {
		t.Fatalf("snapshot: %v, %d containers, %q", snap.Err, len(snap.Containers), snap.Host.DockerVersion)
	}
	// ImageID comes from inspect only; "note" is a label deckhand drops.
	if web := byName(snap.Containers)["dh-web"]; web.ImageID == "" || web.Labels[deckhand.LabelComposeFiles] != "/srv/web/compose.yaml" || web.Labels["note"] != "" {
		t.Errorf("dh-web not merged from inspect: image %q, labels %v", web.ImageID, web.Labels)
	}
	out, err := c.Logs(context.Background(), "box", "dh-web", 10)
	if err != nil || out != "out\nerr\n" && out != "err\nout\n" {
		t.Errorf("merged logs %q, %v", out, err)
	}
	if s := c.Collect(context.Background(), "nodocker", false); !errors.Is(s.Err, deckhand.ErrDockerMissing) {
		t.Errorf("missing binary: %v", s.Err)
	}
}
