package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// envRequire makes a test that cannot have its real part fail instead of
// skipping (CI sets it).
const envRequire = "DECKHAND_REQUIRE_INTEGRATION"

// Disk is a small tmpfs of its own, for tests that need a real full
// filesystem under a real SQLite file: a full disk cannot be faked in the
// driver, and SQLite may still fit a small write in pages it holds.
type Disk struct {
	Dir    string
	filler string
}

// SmallDisk mounts a tmpfs of size bytes (at least a few hundred KiB for a
// migrated store) on a fresh directory, unmounted when the test ends. It
// needs root (or CAP_SYS_ADMIN): without it the test is skipped, or fails
// when DECKHAND_REQUIRE_INTEGRATION=1.
func SmallDisk(t testing.TB, size int64) *Disk {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs (needs root): %v: %s", err, strings.TrimSpace(string(out)))
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s, and %s=1", msg, envRequire)
		}
		t.Skip(msg + "; set " + envRequire + "=1 to make this a failure")
	}
	// Registered after TempDir's cleanup, so it runs before it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return &Disk{Dir: dir, filler: filepath.Join(dir, "filler")}
}

// Path is name inside the disk.
func (d *Disk) Path(name string) string { return filepath.Join(d.Dir, name) }

// Fill writes a file until the filesystem has no byte left.
func (d *Disk) Fill(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(d.filler, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill %s: %v", d.Dir, err)
				}
				break
			}
		}
	}
}

// Free removes what Fill wrote.
func (d *Disk) Free(t testing.TB) {
	t.Helper()
	if err := os.Remove(d.filler); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
