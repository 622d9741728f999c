package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestImageConfigIsTheDefaultBeyondLoopback: the config the image ships is
// the embedded default but for where the page listens and the database
// lives, so `docker run -p 8080:8080` reaches the page and the data lands in
// the volume. A host or section added to one and not the other fails here.
func TestImageConfigIsTheDefaultBeyondLoopback(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config.image.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// /data is the image's volume; here a temp dir stands in for it, since
	// the config check wants the database's directory to exist.
	const volume = `data = "/data/`
	if !bytes.Contains(raw, []byte(volume)) {
		t.Fatalf("config.image.toml does not put the database in the /data volume (%s…)", volume)
	}
	raw = bytes.Replace(raw, []byte(volume), []byte(`data = "`+t.TempDir()+`/`), 1)
	img, err := parseConfig("config.image.toml", raw)
	if err != nil {
		t.Fatal(err)
	}
	def, err := parseConfig("(embedded default)", defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(img.Status.Listen)
	if err != nil || !net.ParseIP(host).IsUnspecified() {
		t.Errorf("statuspage.listen = %q, want every interface of the container", img.Status.Listen)
	}
	if _, defPort, _ := net.SplitHostPort(def.Status.Listen); port != defPort {
		t.Errorf("statuspage.listen port %s, the default's is %s (the Dockerfile EXPOSEs 8080)", port, defPort)
	}
	// Everything else as the default (the secret is random per process).
	img.Status.Listen, img.Data, img.PublicURL = def.Status.Listen, def.Data, def.PublicURL
	img.Secret = def.Secret
	if !reflect.DeepEqual(img, def) {
		t.Errorf("config.image.toml differs from the embedded default beyond listen and data:\nimage   %+v\ndefault %+v", img, def)
	}
}

// TestBuiltStageEnds reads recorded legacy-builder output: the cleanup of
// TestE2EImage removes what its build committed and nothing else — never a
// base image (a FROM step's id), never a layer taken from the cache.
func TestBuiltStageEnds(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		// build stage, then the CLI stage (FROM only), then the runtime.
		{"legacy-build.txt", []string{"55b04880f150", "c1e25481cf32"}},
		{"legacy-build-cached.txt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := builtStageEnds(out); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("builtStageEnds = %v, want %v", got, tt.want)
			}
		})
	}
}
