package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// deckhandPackage is what is built when no -deckhand is given.
const deckhandPackage = "github.com/deckhand/deckhand/cmd/deckhand"

// binary is the deckhand executable the bench runs: the one given, or one
// built as shipped into a temp dir.
type binary struct{ dir string }

// path returns given when set, else builds deckhand (CGO_ENABLED=0, as the
// README's install does) from the source tree the bench runs in.
func (b *binary) path(ctx context.Context, given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("-deckhand: %w", err)
		}
		return given, nil
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-bin-")
	if err != nil {
		return "", err
	}
	b.dir = dir
	return buildDeckhand(ctx, dir)
}

func (b *binary) cleanup() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// buildDeckhand runs go build of cmd/deckhand into dir.
func buildDeckhand(ctx context.Context, dir string, flags ...string) (string, error) {
	out := filepath.Join(dir, "deckhand")
	args := append(append([]string{"build", "-trimpath", "-o", out}, flags...), deckhandPackage)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run from the source tree, or pass -deckhand): %v: %s", deckhandPackage, err, bytes.TrimSpace(msg))
	}
	return out, nil
}
