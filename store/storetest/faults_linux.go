//go:build linux

package storetest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The faults below are real ones, made with the kernel's help, for tests
// of what deckhand says when its database cannot be written. Each is
// undone when the test ends.

// needFault makes a fault this test cannot fake, or skips (fails under
// DECKHAND_REQUIRE_INTEGRATION=1, as in CI).
func needFault(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("DECKHAND_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("cannot make %s (%v) and DECKHAND_REQUIRE_INTEGRATION=1", what, err)
	}
	t.Skipf("cannot make %s: %v", what, err)
}

// ReadOnlyDir makes dir really read-only for this process: root ignores
// permission bits, so it becomes a read-only bind mount of itself; anyone
// else gets mode 0555.
func ReadOnlyDir(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		needFault(t, "a read-only directory", os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return
	}
	needFault(t, "a bind mount", syscall.Mount(dir, dir, "", syscall.MS_BIND, ""))
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	needFault(t, "a read-only remount", syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
}

// ReadOnlyFile makes one file unwritable for this process: immutable for
// root (chattr +i), mode 0400 for anyone else.
func ReadOnlyFile(t testing.TB, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		needFault(t, "a read-only file", os.Chmod(path, 0o400))
		return
	}
	out, err := exec.Command("chattr", "+i", path).CombinedOutput()
	if err != nil {
		err = errors.New(strings.TrimSpace(string(out)))
	}
	needFault(t, "an immutable file", err)
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}

// FullDisk mounts at dir a small tmpfs with no space left.
func FullDisk(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		needFault(t, "a full file system", errors.New("mounting a tmpfs needs root"))
	}
	needFault(t, "a tmpfs", syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"))
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			return
		}
	}
}
