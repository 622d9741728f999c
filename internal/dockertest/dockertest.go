// Package dockertest owns the real-Docker side of deckhand's integration
// tests: it checks that a Docker engine answers, builds the test image (the
// static internal/testapp program FROM scratch, since no registry is
// reachable), runs uniquely named containers that are removed when the test
// ends, and drives and inspects them through the docker CLI.
//
// Tests skip when Docker is missing unless DECKHAND_REQUIRE_INTEGRATION=1, in
// which case a missing part fails the test: CI must never pass by skipping.
package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// EnvRequire names the environment variable that turns a missing real part
// into a test failure instead of a skip.
const EnvRequire = "DECKHAND_REQUIRE_INTEGRATION"

// NamePrefix starts the name of every container this package creates.
const NamePrefix = "dh-test-"

// OwnerLabel records the pid of the test process that created a container, so
// a later run can sweep what a crashed run left behind without touching the
// containers of test binaries running at the same time.
const OwnerLabel = "deckhand.test.pid"

// ForLabel names the test process a container was made for when its
// OwnerLabel says otherwise on purpose (a test's stand-in for another
// user's container): sweep removes it once that process is gone.
const ForLabel = "deckhand.test.for"

// ImageRepo is the repository of the test image; the tag is a content hash.
const ImageRepo = "deckhand-testapp"

const testappPkg = "github.com/deckhand/deckhand/internal/testapp"

// dockerfile is fixed so that the image tag, a hash of the binary and this
// text, changes whenever either does. The engine in CI is 20.10: no
// --start-interval.
const dockerfile = `FROM scratch
COPY testapp /testapp
EXPOSE 8080
ENTRYPOINT ["/testapp"]
CMD ["serve"]
HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD ["/testapp", "healthcheck"]
`

// Required reports whether DECKHAND_REQUIRE_INTEGRATION asks for real parts.
func Required() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvRequire)))
	return v == "1" || v == "true" || v == "yes"
}

// Missing skips the test, or fails it when real parts are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (required: %s=1)", msg, EnvRequire)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", msg, EnvRequire)
}

var (
	probeOnce sync.Once
	probeErr  error
	dockerBin string
)

// Require checks that the docker CLI is installed and its daemon answers. If
// not, the test is skipped (or fails when DECKHAND_REQUIRE_INTEGRATION=1).
// The first successful check in a process also removes containers left by
// test processes that no longer exist.
func Require(t testing.TB) {
	t.Helper()
	probeOnce.Do(func() {
		bin, err := exec.LookPath("docker")
		if err != nil {
			probeErr = fmt.Errorf("docker cli not found: %w", err)
			return
		}
		dockerBin = bin
		out, err := run(context.Background(), 30*time.Second, nil, "version", "--format", "{{.Server.Version}}")
		if err != nil {
			probeErr = fmt.Errorf("docker daemon not answering: %w", err)
			return
		}
		if strings.TrimSpace(out) == "" {
			probeErr = errors.New("docker version printed no server version")
			return
		}
		sweep()
	})
	if probeErr != nil {
		Missing(t, "docker: %v", probeErr)
	}
}

// Bin returns the path of the docker CLI; call Require first.
func Bin(t testing.TB) string {
	t.Helper()
	Require(t)
	return dockerBin
}

// run executes the docker CLI and returns stdout; errors carry stderr.
func run(ctx context.Context, timeout time.Duration, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerBin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Docker runs the docker CLI with args and returns its stdout, failing the
// test on error.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	Require(t)
	out, err := run(context.Background(), 2*time.Minute, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sweep removes dh-test- containers whose creating process is gone. Several
// test binaries share the engine at once, so live owners are left alone.
func sweep() {
	out, err := run(context.Background(), 30*time.Second, nil, "ps", "-a",
		"--filter", "label="+OwnerLabel, "--format", `{{.ID}} {{.Label "`+OwnerLabel+`"}} {{.Label "`+ForLabel+`"}}`)
	if err != nil {
		return
	}
	var stale []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		id, pidText := fields[0], fields[1]
		if len(fields) > 2 {
			pidText = fields[2] // made for that process, whoever it says owns it
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		_, _ = run(context.Background(), time.Minute, nil, append([]string{"rm", "-f", "-v"}, stale...)...)
	}
}

var (
	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

// BuildImage builds internal/testapp statically and wraps it in an image
// FROM scratch with a 1 s HEALTHCHECK. The tag is deckhand-testapp:<hash of
// binary and Dockerfile>; an existing tag is reused, and the work is done once
// per process.
func BuildImage(t testing.TB) string {
	t.Helper()
	Require(t)
	imageOnce.Do(func() { imageTag, imageErr = buildImage() })
	if imageErr != nil {
		t.Fatalf("build test image: %v", imageErr)
	}
	return imageTag
}

func buildImage() (string, error) {
	dir, err := os.MkdirTemp("", "deckhand-testapp-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "testapp")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// go test puts GOROOT/bin first on PATH, so "go" is the toolchain
	// running the tests; the import path resolves from any package's
	// directory inside the module.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, testappPkg)
	// -race (say, from GOFLAGS) needs cgo; the image needs a static binary.
	var goflags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if f != "-race" {
			goflags = append(goflags, f)
		}
	}
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS="+strings.Join(goflags, " "))
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w: %s", testappPkg, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("write Dockerfile: %w", err)
	}

	h := sha256.New()
	f, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	h.Write(f)
	h.Write([]byte(dockerfile))
	tag := ImageRepo + ":" + hex.EncodeToString(h.Sum(nil))[:16]

	if _, err := run(ctx, 30*time.Second, nil, "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
		return tag, nil
	}
	// The legacy builder needs no buildx plugin and no network for FROM
	// scratch; BuildKit is the fallback for engines that dropped it.
	_, legacyErr := run(ctx, 5*time.Minute, []string{"DOCKER_BUILDKIT=0"}, "build", "-q", "-t", tag, dir)
	if legacyErr == nil {
		return tag, nil
	}
	if _, err := run(ctx, 5*time.Minute, []string{"DOCKER_BUILDKIT=1"}, "build", "-q", "-t", tag, dir); err != nil {
		return "", fmt.Errorf("legacy builder: %v; buildkit: %w", legacyErr, err)
	}
	return tag, nil
}

// RunOptions describes a test container.
type RunOptions struct {
	Image         string            // default: BuildImage(t)
	Labels        map[string]string // homelab.*, com.docker.compose.project, …
	Env           map[string]string // e.g. TESTAPP_UNHEALTHY=1
	Restart       string            // docker --restart policy: "no" (default), "always", "on-failure:3", "unless-stopped"
	NoHealthcheck bool              // --no-healthcheck: the container reports no health
	Args          []string          // testapp arguments, e.g. {"exit", "3"}; default serve
	CreateOnly    bool              // docker create: the container stays in "created"
	Publish       []string          // -p values, e.g. "127.0.0.1::8080"
	ExtraArgs     []string          // more docker run flags, before the image
}

// Container is a container created by Run.
type Container struct {
	ID   string // full 64-hex id
	Name string // unique name, starting with NamePrefix
}

// Run creates (and unless CreateOnly starts) a container from the test image
// named NamePrefix + name + a random suffix, and removes it with its volumes
// when the test ends.
func Run(t testing.TB, name string, opts RunOptions) Container {
	t.Helper()
	Require(t)
	if opts.Image == "" {
		opts.Image = BuildImage(t)
	}
	full := UniqueName(name)
	if name == "" {
		full = UniqueName(t.Name())
	}

	verb := "run"
	args := []string{"run", "-d"}
	if opts.CreateOnly {
		verb = "create"
		args = []string{"create"}
	}
	args = append(args, "--name", full, "--label", OwnerLabel+"="+strconv.Itoa(os.Getpid()))
	for _, k := range sortedKeys(opts.Labels) {
		args = append(args, "--label", k+"="+opts.Labels[k])
	}
	for _, k := range sortedKeys(opts.Env) {
		args = append(args, "--env", k+"="+opts.Env[k])
	}
	if opts.Restart != "" {
		args = append(args, "--restart", opts.Restart)
	}
	if opts.NoHealthcheck {
		args = append(args, "--no-healthcheck")
	}
	for _, p := range opts.Publish {
		args = append(args, "-p", p)
	}
	args = append(args, opts.ExtraArgs...)
	args = append(args, opts.Image)
	args = append(args, opts.Args...)

	// Register removal before creating: a run that fails half-way may still
	// have created the container.
	t.Cleanup(func() {
		if _, err := run(context.Background(), time.Minute, nil, "rm", "-f", "-v", full); err != nil && !strings.Contains(err.Error(), "No such container") {
			t.Logf("dockertest: remove %s: %v", full, err)
		}
	})
	out, err := run(context.Background(), 2*time.Minute, nil, args...)
	if err != nil {
		t.Fatalf("dockertest: %s %s: %v", verb, full, err)
	}
	id := strings.TrimSpace(out)
	if i := strings.LastIndexByte(id, '\n'); i >= 0 { // warnings may precede the id
		id = id[i+1:]
	}
	return Container{ID: id, Name: full}
}

// UniqueName returns NamePrefix + base (reduced to characters Docker accepts in
// names) + "-" + 8 random hex digits.
func UniqueName(base string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-._")
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	if s == "" {
		s = "c"
	}
	return NamePrefix + s + "-" + RandHex(4)
}

// RandHex returns 2n random hex digits.
func RandHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Kill sends SIGKILL to the container.
func Kill(t testing.TB, name string) { t.Helper(); Docker(t, "kill", name) }

// Stop stops the container (testapp exits on SIGTERM at once).
func Stop(t testing.TB, name string) { t.Helper(); Docker(t, "stop", "-t", "5", name) }

// Start starts the container.
func Start(t testing.TB, name string) { t.Helper(); Docker(t, "start", name) }

// Restart restarts the container.
func Restart(t testing.TB, name string) { t.Helper(); Docker(t, "restart", "-t", "5", name) }

// Remove force-removes the container now rather than at cleanup.
func Remove(t testing.TB, name string) { t.Helper(); Docker(t, "rm", "-f", "-v", name) }

// Exec runs a command inside a running container and returns its stdout.
// The image has no shell: args[0] is normally "/testapp".
func Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return Docker(t, append([]string{"exec", name}, args...)...)
}

// SetUnhealthy flips the health the testapp in the container reports; the
// HEALTHCHECK notices within about two seconds (interval 1 s, retries 2).
func SetUnhealthy(t testing.TB, name string, unhealthy bool) {
	t.Helper()
	mode := "healthy"
	if unhealthy {
		mode = "unhealthy"
	}
	Exec(t, name, "/testapp", mode)
}

// Logs returns the container's combined stdout and stderr.
func Logs(t testing.TB, name string) string {
	t.Helper()
	Require(t)
	out, err := exec.Command(dockerBin, "logs", name).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs %s: %v: %s", name, err, out)
	}
	return string(out)
}

// InspectResult is what deckhand needs to know of `docker inspect`, in the
// domain's vocabulary.
type InspectResult struct {
	ID             string
	Name           string // without the leading slash
	Image          string // the reference it was created from (Config.Image)
	ImageID        string // sha256:…
	State          deckhand.ContainerState
	Health         deckhand.Health // HealthNone without a healthcheck
	Running        bool
	ExitCode       int
	RestartCount   int
	Labels         map[string]string
	ComposeProject string
	ComposeService string
	CreatedAt      time.Time
	StartedAt      time.Time
	FinishedAt     time.Time
}

type rawInspect struct {
	ID           string    `json:"Id"`
	Name         string    `json:"Name"`
	Image        string    `json:"Image"`
	Created      time.Time `json:"Created"`
	RestartCount int       `json:"RestartCount"`
	State        struct {
		Status     string    `json:"Status"`
		Running    bool      `json:"Running"`
		ExitCode   int       `json:"ExitCode"`
		StartedAt  time.Time `json:"StartedAt"`
		FinishedAt time.Time `json:"FinishedAt"`
		Health     *struct {
			Status string `json:"Status"`
		} `json:"Health"`
	} `json:"State"`
	Config struct {
		Image  string            `json:"Image"`
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
}

// ParseInspect decodes the JSON array `docker inspect` prints.
func ParseInspect(data []byte) ([]InspectResult, error) {
	var raws []rawInspect
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("decode docker inspect: %w", err)
	}
	res := make([]InspectResult, 0, len(raws))
	for _, r := range raws {
		ir := InspectResult{
			ID:           r.ID,
			Name:         strings.TrimPrefix(r.Name, "/"),
			Image:        r.Config.Image,
			ImageID:      r.Image,
			State:        deckhand.ContainerState(r.State.Status),
			Health:       deckhand.HealthNone,
			Running:      r.State.Running,
			ExitCode:     r.State.ExitCode,
			RestartCount: r.RestartCount,
			Labels:       r.Config.Labels,
			CreatedAt:    r.Created,
			StartedAt:    r.State.StartedAt,
			FinishedAt:   r.State.FinishedAt,
		}
		if ir.Labels == nil {
			ir.Labels = map[string]string{}
		}
		if r.State.Health != nil && r.State.Health.Status != "" {
			ir.Health = deckhand.Health(r.State.Health.Status)
		}
		ir.ComposeProject = ir.Labels[deckhand.LabelComposeProject]
		ir.ComposeService = ir.Labels[deckhand.LabelComposeService]
		res = append(res, ir)
	}
	return res, nil
}

// Inspect returns the container's current state from `docker inspect`.
func Inspect(t testing.TB, name string) InspectResult {
	t.Helper()
	ir, err := inspect(name)
	if err != nil {
		t.Fatal(err)
	}
	return ir
}

func inspect(name string) (InspectResult, error) {
	out, err := run(context.Background(), time.Minute, nil, "inspect", "--type", "container", name)
	if err != nil {
		return InspectResult{}, err
	}
	res, err := ParseInspect([]byte(out))
	if err != nil {
		return InspectResult{}, err
	}
	if len(res) != 1 {
		return InspectResult{}, fmt.Errorf("docker inspect %s: %d results", name, len(res))
	}
	return res[0], nil
}

// WaitTimeout bounds every Wait*: long enough for a slow CI machine, short
// enough that a condition that never comes fails the test rather than hangs it.
const WaitTimeout = 60 * time.Second

// WaitFor polls docker inspect until cond holds and returns the state that
// satisfied it; the test fails after WaitTimeout with the last state seen.
func WaitFor(t testing.TB, name, what string, cond func(InspectResult) bool) InspectResult {
	t.Helper()
	Require(t)
	deadline := time.Now().Add(WaitTimeout)
	var last InspectResult
	var lastErr error
	for {
		last, lastErr = inspect(name)
		if lastErr == nil && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockertest: %s: not %s after %s (last state %s health %s exit %d restarts %d, err %v)",
				name, what, WaitTimeout, last.State, last.Health, last.ExitCode, last.RestartCount, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitState waits until the container is in state.
func WaitState(t testing.TB, name string, state deckhand.ContainerState) InspectResult {
	t.Helper()
	return WaitFor(t, name, "in state "+string(state), func(r InspectResult) bool { return r.State == state })
}

// WaitHealth waits until the container's healthcheck reports health.
func WaitHealth(t testing.TB, name string, health deckhand.Health) InspectResult {
	t.Helper()
	return WaitFor(t, name, string(health), func(r InspectResult) bool { return r.Health == health })
}
