package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/deckhand/deckhand"
)

// ErrNotCompose is returned by Redeploy for a container that compose did
// not create: deckhand does not know its run options, so it cannot
// recreate it faithfully.
var ErrNotCompose = errors.New("not a compose container")

var (
	reContainerRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	reHexID        = regexp.MustCompile(`^[0-9a-f]{12,64}$`)
	// Compose project and service names; compose itself allows less.
	reComposeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

const (
	logsMaxBytes    = 256 << 10
	redeployTimeout = 10 * time.Minute
)

// validRef checks a container reference the caller already resolved
// against a snapshot; it still must never start with "-" (docker would read
// an option) nor hold anything but name characters.
func validRef(ref string) error {
	if len(ref) > 0 && len(ref) <= 128 && (reContainerRef.MatchString(ref) || reHexID.MatchString(ref)) {
		return nil
	}
	return fmt.Errorf("container reference %q: %w", ref, deckhand.ErrInvalidInput)
}

// action runs one mutating docker command on one host.
func (c *Collector) action(ctx context.Context, host, op, ref string, args ...string) error {
	h, err := c.host(host)
	if err != nil {
		return err
	}
	if !h.cfg.Enabled {
		return fmt.Errorf("%s on %s: %w", op, host, deckhand.ErrHostDisabled)
	}
	if err := validRef(ref); err != nil {
		return err
	}
	res, err := h.run(ctx, append(args, ref)...)
	if err := classify(op, host, h.cfg.DockerPath, res, err); err != nil {
		return err
	}
	c.log.Info("container action", "host", host, "action", op, "container", ref)
	return nil
}

// Start starts a container.
func (c *Collector) Start(ctx context.Context, host, container string) error {
	return c.action(ctx, host, "docker start", container, "start")
}

// Stop stops a container (docker's default 10 s grace period).
func (c *Collector) Stop(ctx context.Context, host, container string) error {
	return c.action(ctx, host, "docker stop", container, "stop")
}

// Restart restarts a container.
func (c *Collector) Restart(ctx context.Context, host, container string) error {
	return c.action(ctx, host, "docker restart", container, "restart")
}

// Remove stops the container, then removes it. Its volumes stay: a volume
// holds data, and removing it is not something to do from a chat.
func (c *Collector) Remove(ctx context.Context, host, container string) error {
	if err := c.Stop(ctx, host, container); err != nil {
		return err
	}
	return c.action(ctx, host, "docker rm", container, "rm")
}

// Redeploy pulls the container's image and recreates it. Only compose
// containers can be recreated: their labels say where the project lives, and
// `docker compose up -d --pull always --no-deps <service>` rebuilds the
// container from its compose file. A plain container's image is pulled, but
// it is not recreated (its docker run options are unknown) and ErrNotCompose
// says so.
func (c *Collector) Redeploy(ctx context.Context, host string, ctr deckhand.Container) error {
	h, err := c.host(host)
	if err != nil {
		return err
	}
	if !h.cfg.Enabled {
		return fmt.Errorf("redeploy on %s: %w", host, deckhand.ErrHostDisabled)
	}
	ctx, cancel := context.WithTimeout(ctx, redeployTimeout)
	defer cancel()
	opts := runOpts{Timeout: redeployTimeout, Merge: true, MaxOut: 64 << 10, KeepTail: true}
	project := ctr.Labels[deckhand.LabelComposeProject]
	service := ctr.Labels[deckhand.LabelComposeService]
	files := ctr.Labels[deckhand.LabelComposeFiles]
	workdir := ctr.Labels[deckhand.LabelComposeWorkDir]
	if project == "" || service == "" || files == "" {
		image := ctr.Image
		if image == "" || strings.HasPrefix(image, "-") || strings.HasPrefix(image, "sha256:") || strings.ContainsAny(image, " \t\n") {
			return fmt.Errorf("redeploy %s on %s: image %q cannot be pulled by name: %w", ctr.Name, host, image, ErrNotCompose)
		}
		res, err := h.tr.Run(ctx, h.argv("pull", image), opts)
		if err := classify("docker pull", host, h.cfg.DockerPath, res, err); err != nil {
			return err
		}
		return fmt.Errorf("redeploy %s on %s: pulled %s, but the container was not created by compose, so deckhand cannot recreate it with its original options; recreate it by hand: %w",
			ctr.Name, host, image, ErrNotCompose)
	}
	if !reComposeName.MatchString(project) || !reComposeName.MatchString(service) {
		return fmt.Errorf("redeploy %s on %s: compose project %q / service %q: %w", ctr.Name, host, project, service, deckhand.ErrInvalidInput)
	}
	fileArgs, err := composeFiles(files, workdir)
	if err != nil {
		return fmt.Errorf("redeploy %s on %s: %w", ctr.Name, host, err)
	}
	base := append([]string{"-p", project}, fileArgs...)
	argv := h.argv(append(append([]string{"compose"}, base...), "up", "-d", "--pull", "always", "--no-deps", service)...)
	res, err := h.tr.Run(ctx, argv, opts)
	if err == nil && composeMissing(res) {
		// Compose v1: a separate binary without --pull on up.
		legacy := path.Join(path.Dir(h.cfg.DockerPath), "docker-compose")
		if !strings.Contains(h.cfg.DockerPath, "/") {
			legacy = "docker-compose"
		}
		pull := append(append([]string{legacy}, base...), "pull", service)
		res, err = h.tr.Run(ctx, pull, opts)
		if err := classify("docker-compose pull", host, legacy, res, err); err != nil {
			return err
		}
		up := append(append([]string{legacy}, base...), "up", "-d", "--no-deps", service)
		res, err = h.tr.Run(ctx, up, opts)
		if err := classify("docker-compose up", host, legacy, res, err); err != nil {
			return err
		}
		c.log.Info("redeployed", "host", host, "project", project, "service", service, "via", "docker-compose")
		return nil
	}
	if err := classify("docker compose up", host, h.cfg.DockerPath, res, err); err != nil {
		return err
	}
	c.log.Info("redeployed", "host", host, "project", project, "service", service, "via", "docker compose")
	return nil
}

// composeFiles turns compose's file and directory labels into -f
// arguments. The labels come from the host: every file must resolve to an
// absolute path, so that none is read as an option or as "-" (stdin), and
// a relative one needs an absolute working directory to resolve against.
func composeFiles(files, workdir string) ([]string, error) {
	bad := func(what, v string) error {
		return fmt.Errorf("compose %s label %q is not an absolute path: %w", what, v, deckhand.ErrInvalidInput)
	}
	if workdir != "" && (!path.IsAbs(workdir) || strings.ContainsFunc(workdir, unicode.IsControl)) {
		return nil, bad("working_dir", workdir)
	}
	var args []string
	for _, f := range strings.Split(files, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case strings.HasPrefix(f, "-"), strings.ContainsFunc(f, unicode.IsControl):
			return nil, bad("config_files", f)
		case !path.IsAbs(f) && workdir == "":
			return nil, bad("config_files", f)
		case !path.IsAbs(f):
			f = path.Join(workdir, f)
		}
		args = append(args, "-f", f)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("no compose files in labels: %w", ErrNotCompose)
	}
	return args, nil
}

// composeMissing recognises a docker CLI without the compose plugin.
func composeMissing(res result) bool {
	if res.ExitCode == 0 {
		return false
	}
	out := strings.ToLower(string(res.Stdout) + string(res.Stderr))
	return strings.Contains(out, "'compose' is not a docker command") ||
		strings.Contains(out, "unknown command: docker compose") ||
		strings.Contains(out, `unknown command "compose"`) ||
		strings.Contains(out, "unknown shorthand flag: 'p' in -p")
}

// Logs returns the last tail lines (clamped to 1..1000) of a container's
// stdout and stderr, merged, with timestamps, at most 256 KiB (the newest).
func (c *Collector) Logs(ctx context.Context, host, container string, tail int) (string, error) {
	h, err := c.host(host)
	if err != nil {
		return "", err
	}
	if err := validRef(container); err != nil {
		return "", err
	}
	tail = min(max(tail, 1), 1000)
	argv := h.argv("logs", "--tail", fmt.Sprint(tail), "--timestamps", container)
	res, err := h.tr.Run(ctx, argv, runOpts{Timeout: h.cfg.CommandTimeout, MaxOut: logsMaxBytes, KeepTail: true, Merge: true})
	if err := classify("docker logs", host, h.cfg.DockerPath, res, err); err != nil {
		return "", err
	}
	return string(res.Stdout), nil
}

// Inspect returns `docker inspect` of one container as
// deckhand.RedactInspect shows it: no secret leaves the collector.
func (c *Collector) Inspect(ctx context.Context, host, container string) (map[string]any, error) {
	h, err := c.host(host)
	if err != nil {
		return nil, err
	}
	if err := validRef(container); err != nil {
		return nil, err
	}
	res, err := h.run(ctx, "inspect", "--type", "container", container)
	if err := classify("docker inspect", host, h.cfg.DockerPath, res, err); err != nil {
		return nil, err
	}
	var arr []map[string]any
	if err := json.Unmarshal(res.Stdout, &arr); err != nil {
		return nil, fmt.Errorf("docker inspect on %s: %w: %v", host, deckhand.ErrBadOutput, err)
	}
	if len(arr) == 0 {
		return nil, fmt.Errorf("docker inspect on %s: %s: %w", host, container, deckhand.ErrNotFound)
	}
	return deckhand.RedactInspect(arr[0]), nil
}

// Stats returns one `docker stats --no-stream` sample of the running
// containers.
func (c *Collector) Stats(ctx context.Context, host string) ([]Stat, error) {
	h, err := c.host(host)
	if err != nil {
		return nil, err
	}
	// stats samples twice a second apart per container; allow for it.
	res, err := h.tr.Run(ctx, h.argv("stats", "--no-stream", "--format", jsonLineFormat),
		runOpts{Timeout: h.cfg.CommandTimeout + 5*time.Second})
	if err := classify("docker stats", host, h.cfg.DockerPath, res, err); err != nil {
		return nil, err
	}
	stats, bad := ParseStats(res.Stdout)
	if err := badLines("docker stats", host, len(stats), bad, res, c.log); err != nil {
		return nil, err
	}
	return stats, nil
}
