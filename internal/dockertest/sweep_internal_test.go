package dockertest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A container made for a process that is gone is swept, though its
// OwnerLabel names a live process (pid 1): the chat e2e tests' stand-ins
// for other users' containers do not outlive a killed test binary.
func TestSweepHonoursForLabel(t *testing.T) {
	Require(t)
	const dead = "4194303" // above any pid_max Linux hands out by default
	name := UniqueName("sweep-for")
	Docker(t, "create", "--name", name, "--label", OwnerLabel+"=1", "--label", ForLabel+"="+dead, BuildImage(t))
	t.Cleanup(func() { _, _ = run(context.Background(), time.Minute, nil, "rm", "-f", name) })
	sweep()
	if out := Docker(t, "ps", "-a", "--filter", "name=^"+name+"$", "--format", "{{.Names}}"); strings.TrimSpace(out) != "" {
		t.Errorf("%s made for a dead process survived the sweep", name)
	}
}
