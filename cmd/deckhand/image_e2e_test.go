package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/internal/dockertest"
)

// imageUID is the user the Dockerfile runs deckhand as (distroless nonroot).
const imageUID = "65532"

// dockerSocket is the engine's socket, mounted into the container as a user
// would for transport = "local".
const dockerSocket = "/var/run/docker.sock"

// TestE2EImage is issue 11 item 7: the image the repository's Dockerfile
// builds, run on the real engine the way the README says (its own config,
// narrowed to this test's containers; the socket and its group; the page published), runs as
// non-root, turns healthy by its own HEALTHCHECK, serves the status page
// through the published port, sees a monitored container and alerts on its
// kill, and stops cleanly on SIGTERM. The engine here pulls nothing: CI
// makes the base images offline under their real names first
// (.ci/standin-images).
func TestE2EImage(t *testing.T) {
	dockertest.Require(t)
	root := filepath.Join("..", "..")
	requireBaseImages(t, filepath.Join(root, "Dockerfile"))
	sock, err := os.Stat(dockerSocket)
	if err != nil {
		dockertest.Missing(t, "docker socket: %v", err)
	}
	gid := strconv.FormatUint(uint64(sock.Sys().(*syscall.Stat_t).Gid), 10)
	img := buildImage(t, root)

	// The image's own config would watch every monitored container of
	// the engine, other people's too, and restart those labelled
	// homelab.auto_restart. The test proves the image holds that config,
	// then runs it with the same file narrowed to this process's
	// containers (labels), so that it watches and touches only its own.
	cfg := checkBakedConfig(t, img, filepath.Join(root, "config.image.toml"))
	target := monitored(t, "image-target", nil)
	c := dockertest.Run(t, "image", dockertest.RunOptions{
		Image:   img,
		Publish: []string{"127.0.0.1::8080"},
		ExtraArgs: []string{"-v", dockerSocket + ":" + dockerSocket, "--group-add", gid,
			"-v", cfg + ":/etc/deckhand/config.toml:ro"},
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("deckhand container log:\n%s", containerLogs(c.Name))
		}
	})
	addr := publishedAddr(t, c.Name, "8080/tcp")
	waitPage(t, c.Name, addr)

	t.Run("non-root", func(t *testing.T) { checkNonRoot(t, c.Name, gid) })
	t.Run("page", func(t *testing.T) { checkPage(t, addr) })
	t.Run("alerts on a local container", func(t *testing.T) { checkAlert(t, addr, target.Name) })
	t.Run("healthcheck", func(t *testing.T) {
		dockertest.WaitHealth(t, c.Name, deckhand.HealthHealthy)
	})
	t.Run("SIGTERM", func(t *testing.T) { checkStop(t, c.Name) })
}

// checkBakedConfig fails unless the image's /etc/deckhand/config.toml is
// the repository's config.image.toml, and returns a copy of that file whose
// local host sees only this process's containers.
func checkBakedConfig(t *testing.T, img, repoConfig string) string {
	t.Helper()
	want, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	bin := dockertest.Bin(t)
	id, err := exec.Command(bin, "create", "--label", dockertest.OwnerLabel+"="+strconv.Itoa(os.Getpid()), img).Output()
	if err != nil {
		t.Fatalf("docker create %s: %v", img, err)
	}
	ctr := strings.TrimSpace(string(id))
	defer exec.Command(bin, "rm", "-f", ctr).Run()
	out, err := exec.Command(bin, "cp", ctr+":/etc/deckhand/config.toml", "-").Output()
	if err != nil {
		t.Fatalf("docker cp the image's config: %v", err)
	}
	tr := tar.NewReader(bytes.NewReader(out))
	if _, err := tr.Next(); err != nil {
		t.Fatalf("the image's config: %v", err)
	}
	got, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the image's /etc/deckhand/config.toml is not %s:\n%s", repoConfig, got)
	}
	const hostLine = "transport = \"local\"\n"
	if !bytes.Contains(want, []byte(hostLine)) {
		t.Fatalf("%s has no local host (%q)", repoConfig, hostLine)
	}
	own := bytes.Replace(want, []byte(hostLine), []byte(hostLine+fmt.Sprintf("labels = [%q]\n",
		dockertest.OwnerLabel+"="+strconv.Itoa(os.Getpid()))), 1)
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, own, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// requireBaseImages skips (fails under DECKHAND_REQUIRE_INTEGRATION=1) when
// a FROM image of the Dockerfile is not on the engine: nothing is pulled.
func requireBaseImages(t *testing.T, dockerfile string) {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	from := regexp.MustCompile(`(?i)^FROM\s+(?:--platform=\S+\s+)?(\S+)`)
	var bases []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if m := from.FindStringSubmatch(sc.Text()); m != nil && m[1] != "scratch" {
			bases = append(bases, m[1])
		}
	}
	if len(bases) == 0 {
		t.Fatalf("%s: no FROM line", dockerfile)
	}
	for _, b := range bases {
		if err := exec.Command(dockertest.Bin(t), "image", "inspect", "--format", "{{.Id}}", b).Run(); err != nil {
			dockertest.Missing(t, "base image %s not on the engine (offline, .ci/standin-images makes stand-ins under the same names)", b)
		}
	}
}

// buildImage builds the Dockerfile in root with the legacy builder (no
// buildx, and no frontend image to pull for the syntax line). When the test
// ends it removes the image and the build stage this build made.
func buildImage(t *testing.T, root string) string {
	t.Helper()
	bin := dockertest.Bin(t)
	tag := "deckhand-image-test:" + strconv.Itoa(os.Getpid()) + "-" + dockertest.RandHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out []byte
	t.Cleanup(func() {
		_ = exec.Command(bin, "rmi", tag).Run()
		for _, id := range builtStageEnds(out) {
			// rmi of an untagged image takes its untagged parents with it
			// (up to the base image, or a layer another image builds on).
			if tags, err := exec.Command(bin, "image", "inspect", "--format", "{{len .RepoTags}}", id).Output(); err == nil && strings.TrimSpace(string(tags)) == "0" {
				_ = exec.Command(bin, "rmi", id).Run()
			}
		}
	})
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "build", "--force-rm",
		"--label", dockertest.OwnerLabel+"="+strconv.Itoa(os.Getpid()), "-t", tag, root)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var err error
	if out, err = cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Logf("docker build %s: %s", tag, time.Since(start).Round(time.Second))
	return tag
}

var (
	buildFromStep = regexp.MustCompile(`(?i)^Step \d+/\d+ : FROM\s`)
	buildLayerID  = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// builtStageEnds reads the legacy builder's output and returns the last
// layer of each stage that this build committed: not a base image (the id
// after a FROM step) and not a layer it took from the cache (" ---> Using
// cache" before the id), which another build may own.
func builtStageEnds(buildOutput []byte) []string {
	var ends []string
	last, lastCached, cached, base := "", false, false, false
	endStage := func() {
		if last != "" && !lastCached {
			ends = append(ends, last)
		}
		last = ""
	}
	for _, line := range strings.Split(string(buildOutput), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Step ") {
			if buildFromStep.MatchString(line) {
				endStage()
				base = true
			}
			cached = false
			continue
		}
		rest, ok := strings.CutPrefix(line, "---> ")
		switch {
		case !ok:
		case rest == "Using cache":
			cached = true
		case !buildLayerID.MatchString(rest): // "Running in <container>"
		case base:
			base = false
		default:
			last, lastCached = rest, cached
		}
	}
	endStage()
	return ends
}

func containerLogs(name string) string {
	out, err := exec.Command("docker", "logs", name).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("docker logs: %v: %s", err, out)
	}
	return string(out)
}

// publishedAddr is the host address docker published the container port on.
func publishedAddr(t *testing.T, name, port string) string {
	t.Helper()
	out := strings.TrimSpace(dockertest.Docker(t, "port", name, port))
	addr, _, _ := strings.Cut(out, "\n") // one line per address family
	if addr == "" {
		t.Fatalf("docker port %s %s: nothing published", name, port)
	}
	return addr
}

// waitPage waits until /healthz answers through the published port, and
// fails at once if the container ends meanwhile.
func waitPage(t *testing.T, name, addr string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	eventually(t, "status page answering through "+addr, func() (bool, string) {
		if ir := dockertest.Inspect(t, name); !ir.Running {
			t.Fatalf("deckhand container %s (exit %d)", ir.State, ir.ExitCode)
		}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// checkNonRoot reads the identity of the container's process from the
// kernel, not from the image's USER line.
func checkNonRoot(t *testing.T, name, sockGID string) {
	pid := strings.TrimSpace(dockertest.Docker(t, "inspect", "--format", "{{.State.Pid}}", name))
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("process of %s: %v", name, err)
	}
	fields := map[string][]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Fields(v)
		}
	}
	for _, k := range []string{"Uid", "Gid"} { // real, effective, saved, filesystem
		if got := fields[k]; len(got) != 4 || slices.ContainsFunc(got, func(id string) bool { return id != imageUID }) {
			t.Errorf("%s = %v, want %s throughout", k, got, imageUID)
		}
	}
	if !slices.Contains(fields["Groups"], sockGID) {
		t.Errorf("Groups = %v, want the socket's group %s (--group-add)", fields["Groups"], sockGID)
	}
}

// checkPage fetches the HTML page and the JSON document through the port.
func checkPage(t *testing.T, addr string) {
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET / = %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body.String(), "</html>") {
		t.Errorf("GET / is not a whole page: %.200q", body.String())
	}
	if doc := imageStatus(t, addr); doc.Overall == "" {
		t.Errorf("status.json has no overall state")
	}
}

// imageDoc is the part of /api/status.json this test reads.
type imageDoc struct {
	Overall string `json:"overall"`
	Hosts   []struct {
		Name       string `json:"name"`
		Containers []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"containers"`
	} `json:"hosts"`
	Incidents []struct {
		Host      string `json:"host"`
		Container string `json:"container"`
		Kind      string `json:"kind"`
		Active    bool   `json:"active"`
	} `json:"incidents"`
}

func imageStatus(t *testing.T, addr string) imageDoc {
	t.Helper()
	var doc imageDoc
	raw, err := json.Marshal(statusJSON(t, addr))
	if err == nil {
		err = json.Unmarshal(raw, &doc)
	}
	if err != nil {
		t.Fatalf("status.json: %v", err)
	}
	return doc
}

// containerStatus is the page's word for a container of the local host, or
// "absent".
func (d imageDoc) containerStatus(name string) string {
	for _, h := range d.Hosts {
		for _, c := range h.Containers {
			if h.Name == "local" && c.Name == name {
				return c.Status
			}
		}
	}
	return "absent"
}

// checkAlert kills the monitored container and waits for the incident on the
// page: with no chat configured, the page is where an alert shows.
func checkAlert(t *testing.T, addr, target string) {
	eventually(t, target+" up on the page", func() (bool, string) {
		s := imageStatus(t, addr).containerStatus(target)
		return s == "up", s
	})
	dockertest.Kill(t, target)
	eventually(t, "an active container_down incident about "+target, func() (bool, string) {
		doc := imageStatus(t, addr)
		for _, in := range doc.Incidents {
			if in.Host == "local" && in.Container == target && in.Kind == string(deckhand.AlertContainerDown) && in.Active {
				return true, ""
			}
		}
		return false, fmt.Sprintf("status %s, %d incident(s)", doc.containerStatus(target), len(doc.Incidents))
	})
	if s := imageStatus(t, addr).containerStatus(target); s != "down" {
		t.Errorf("%s is %q on the page, want down", target, s)
	}
}

// checkStop sends SIGTERM through docker stop with a timeout the shutdown
// must beat: past it docker sends SIGKILL and the exit code says 137.
func checkStop(t *testing.T, name string) {
	dockertest.Docker(t, "stop", "-t", "30", name)
	ir := dockertest.Inspect(t, name)
	if ir.State != deckhand.StateExited || ir.ExitCode != 0 {
		t.Errorf("after docker stop: %s, exit %d; want exited 0", ir.State, ir.ExitCode)
	}
	if logs := containerLogs(name); !strings.Contains(logs, `msg="deckhand stopped"`) {
		t.Errorf("log lacks the shutdown line:\n%s", logs)
	}
}
