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
	dev    string // the loop device of an Ext4Disk
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
		missing(t, fmt.Sprintf("cannot mount a tmpfs (needs root): %v: %s", err, strings.TrimSpace(string(out))))
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

// Ext4Disk mounts a fresh ext4 filesystem of size bytes on a loop device,
// with errors=remount-ro as most distributions mount their disks; Break
// then makes it fail as a dying disk does. Needs root, losetup and
// mkfs.ext4 (skipped without, or fails when DECKHAND_REQUIRE_INTEGRATION=1).
func Ext4Disk(t testing.TB, size int64) *Disk {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(t.TempDir(), "disk.img")
	run := func(name string, args ...string) (string, error) {
		out, err := exec.Command(name, args...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	if out, err := run("mkfs.ext4", "-q", "-F", img); err != nil {
		missing(t, fmt.Sprintf("mkfs.ext4: %v: %s", err, out))
	}
	dev, err := run("losetup", "-f", "--show", img)
	if err != nil {
		missing(t, fmt.Sprintf("losetup (needs root): %v: %s", err, dev))
	}
	t.Cleanup(func() { _, _ = run("losetup", "-d", dev) })
	if out, err := run("mount", "-o", "errors=remount-ro", dev, dir); err != nil {
		missing(t, fmt.Sprintf("mount %s: %v: %s", dev, err, out))
	}
	t.Cleanup(func() {
		if out, err := run("umount", dir); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return &Disk{Dir: dir, filler: filepath.Join(dir, "filler"), dev: dev}
}

// Break reports an error on the ext4 filesystem through its sysfs knob, as
// a failing disk does: with errors=remount-ro the kernel turns it
// read-only at once, open files included, until it is unmounted.
func (d *Disk) Break(t testing.TB) {
	t.Helper()
	knob := filepath.Join("/sys/fs/ext4", filepath.Base(d.dev), "trigger_fs_error")
	if err := os.WriteFile(knob, []byte("deckhand test\n"), 0o200); err != nil {
		t.Fatalf("break %s: %v", d.Dir, err)
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s, and %s=1", msg, envRequire)
	}
	t.Skip(msg + "; set " + envRequire + "=1 to make this a failure")
}
