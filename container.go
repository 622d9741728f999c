package deckhand

import (
	"slices"
	"strings"
	"time"
)

// ContainerState is Docker's container state.
type ContainerState string

const (
	StateCreated    ContainerState = "created"
	StateRunning    ContainerState = "running"
	StatePaused     ContainerState = "paused"
	StateRestarting ContainerState = "restarting"
	StateRemoving   ContainerState = "removing"
	StateExited     ContainerState = "exited"
	StateDead       ContainerState = "dead"
)

// Health is the result of a container's healthcheck.
type Health string

const (
	HealthNone      Health = "none" // no healthcheck configured
	HealthStarting  Health = "starting"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// The labels deckhand reads.
const (
	LabelMonitor        = "homelab.monitor"
	LabelDesired        = "homelab.desired"
	LabelAutoRestart    = "homelab.auto_restart"
	LabelPublic         = "homelab.public"
	LabelProtected      = "homelab.protected"
	LabelComposeProject = "com.docker.compose.project"
	LabelComposeService = "com.docker.compose.service"
	LabelComposeFiles   = "com.docker.compose.project.config_files"
	LabelComposeWorkDir = "com.docker.compose.project.working_dir"
)

// keptLabels are the labels deckhand reads, in a fixed order.
var keptLabels = []string{
	LabelMonitor, LabelDesired, LabelAutoRestart, LabelPublic, LabelProtected,
	LabelComposeProject, LabelComposeService, LabelComposeFiles, LabelComposeWorkDir,
}

// KeptLabels lists the labels deckhand reads, in a fixed order: its own
// and the compose labels its actions need.
func KeptLabels() []string { return slices.Clone(keptLabels) }

// KeptLabel reports whether deckhand keeps a label it reads from Docker
// (see KeptLabels). Every other label is dropped as it is read. Nothing
// in deckhand uses them, they can hold secrets (traefik basic-auth hashes,
// API tokens), and a compose container carries a dozen of them plus its
// image's, which would be held in memory and stored in the database for
// every container of every host.
func KeptLabel(key string) bool { return slices.Contains(keptLabels, key) }

// Port is one published or exposed port of a container.
type Port struct {
	IP          string `json:"ip,omitempty"`
	PublicPort  int    `json:"public,omitempty"`
	PrivatePort int    `json:"private"`
	Proto       string `json:"proto"`
}

// Container is one container on one host.
type Container struct {
	Host         string // name of the host it runs on
	ID           string // full 64-hex id
	Name         string // without the leading slash
	Image        string
	ImageID      string
	Command      string
	State        ContainerState
	Status       string // Docker's human status, e.g. "Up 2 hours (healthy)"
	Health       Health
	ExitCode     int // from "Exited (137) …"; 0 otherwise
	RestartCount int // from inspect when known; 0 otherwise
	// RestartPolicy is Docker's HostConfig.RestartPolicy.Name from inspect
	// ("no", "always", "unless-stopped", "on-failure"); empty when not
	// inspected.
	RestartPolicy string
	CreatedAt     time.Time
	// StartedAt and FinishedAt are Docker's State.StartedAt and
	// State.FinishedAt (zero when never started / never stopped): "since"
	// on the page is the latest of the two, not when deckhand first saw
	// the state.
	StartedAt  time.Time
	FinishedAt time.Time
	Ports      []Port
	// Labels holds only the labels KeptLabel accepts. The collector shares
	// one map between the snapshots of an unchanged container: read it,
	// never write to it.
	Labels         map[string]string
	ComposeProject string
	ComposeService string
}

func labelTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// AutoRestart reports the homelab.auto_restart label.
func (c Container) AutoRestart() bool { return labelTrue(c.Labels[LabelAutoRestart]) }

// Protected reports the homelab.protected label: only admins may act on it.
func (c Container) Protected() bool { return labelTrue(c.Labels[LabelProtected]) }

// Desired is the state the container should be in: homelab.desired, running
// by default. Anything but "stopped" means running.
func (c Container) Desired() ContainerState {
	switch strings.ToLower(strings.TrimSpace(c.Labels[LabelDesired])) {
	case "stopped", "exited":
		return StateExited
	}
	return StateRunning
}

// Since is when the container entered its current state as Docker tells
// it: the last start while it runs, the last stop otherwise. Zero when
// Docker did not say.
func (c Container) Since() time.Time {
	if c.State == StateRunning || c.State == StatePaused || c.State == StateRestarting {
		if c.State == StateRestarting && c.FinishedAt.After(c.StartedAt) {
			return c.FinishedAt
		}
		return c.StartedAt
	}
	if !c.FinishedAt.IsZero() {
		return c.FinishedAt
	}
	if c.State == StateCreated {
		return c.CreatedAt
	}
	return time.Time{}
}

// Up reports whether the container is running (paused and restarting are not up).
func (c Container) Up() bool { return c.State == StateRunning }

// Image is one image on one host.
type Image struct {
	ID        string // sha256:…
	RepoTags  []string
	Size      int64
	CreatedAt time.Time
}

// Volume is one volume on one host.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Scope      string
	Size       int64 // bytes from `docker system df -v`; -1 when unknown
	Links      int   // containers using it; -1 when unknown
}

// Snapshot is what one collection of one host found. Images and volumes are
// collected on a slower tier: when Full is false they were not collected this
// time and must be left as they are.
type Snapshot struct {
	Host        Host
	Containers  []Container
	Images      []Image
	Volumes     []Volume
	Full        bool
	CollectedAt time.Time
	Duration    time.Duration
	Err         error // nil on success; classified with the Err* sentinels
}

// RestartsItself reports whether Docker may start the container again by
// itself after it exits: any restart policy but "no". Unknown (not
// inspected) counts as may: only a container known to stay down once it
// died is taken for down on its "die" event alone.
func (c Container) RestartsItself() bool { return c.RestartPolicy != "no" }
