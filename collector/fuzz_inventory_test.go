package collector

import (
	"os"
	"path/filepath"
	"testing"
)

// The inventory parsers (slow tier, stats) must never panic on whatever a
// host prints; seeds are the recordings from a real engine.

func seedFile(f *testing.F, name string, extra ...string) {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real-28.2-20.10", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, e := range extra {
		f.Add([]byte(e))
	}
}

func FuzzParseVersion(f *testing.F) {
	seedFile(f, "version.json", `{"Client":{},"Server":null}`, "", "{", "null")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseVersion(b) })
}

func FuzzParseImages(f *testing.F) {
	seedFile(f, "images.jsonl", `{"ID":"sha256:x","Size":"1.2GB"}`, `{"Size":"-1kB"}`)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseImages(b) })
}

func FuzzParseVolumes(f *testing.F) {
	seedFile(f, "volumes.jsonl", `{"Name":"v","Labels":"a=b,c"}`)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseVolumes(b) })
}

func FuzzParseSystemDF(f *testing.F) {
	seedFile(f, "system-df.json", `{"Volumes":[{"Name":"v","Size":"N/A"}]}`)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseSystemDF(b) })
}

func FuzzParseStats(f *testing.F) {
	seedFile(f, "stats.jsonl", `{"MemUsage":"1MiB / ","CPUPerc":"%"}`)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseStats(b) })
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"", "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp", "5432/tcp", "0.0.0.0:1000-1002->1000-1002/udp", ":::80->80/tcp", "->/", "1-", "[::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = ParsePorts(s) })
}
