package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store/storetest"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func ctr(host, name, project string, state deckhand.ContainerState) deckhand.Container {
	return deckhand.Container{
		Host: host, ID: fmt.Sprintf("%s-%s-id", host, name), Name: name, Image: "img/" + name + ":1",
		ImageID: "sha256:" + name, Command: "/bin/" + name, State: state, Status: string(state),
		Health: deckhand.HealthNone, ExitCode: 0, RestartCount: 1, CreatedAt: t0.Add(-time.Hour),
		StartedAt: t0.Add(-50 * time.Minute), FinishedAt: t0.Add(-55 * time.Minute),
		Ports:          []deckhand.Port{{IP: "0.0.0.0", PublicPort: 8080, PrivatePort: 80, Proto: "tcp"}},
		Labels:         map[string]string{deckhand.LabelComposeProject: project, "x": "a,b=c"},
		ComposeProject: project, ComposeService: name,
	}
}

func names(cs []deckhand.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Host+"/"+c.ComposeProject+"/"+c.Name)
	}
	return out
}

func TestSaveSnapshotUpsertAndDelete(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	host := deckhand.Host{Name: "nas", Transport: "ssh", Enabled: true, DockerVersion: "28.2.2",
		ClientVersion: "28.2.1", APIVersion: "1.50"}

	web, db, cache := ctr("nas", "web", "app", deckhand.StateRunning), ctr("nas", "db", "app", deckhand.StateRunning),
		ctr("nas", "cache", "", deckhand.StateExited)
	first := deckhand.Snapshot{Host: host, Containers: []deckhand.Container{web, db, cache}, Full: true,
		CollectedAt: t0,
		Images:      []deckhand.Image{{ID: "sha256:a", RepoTags: []string{"a:1"}, Size: 10, CreatedAt: t0}, {ID: "sha256:b"}},
		Volumes:     []deckhand.Volume{{Name: "data", Driver: "local", Size: -1, Links: 2}, {Name: "old", Size: 5, Links: 0}},
	}
	other := deckhand.Snapshot{Host: deckhand.Host{Name: "pi"}, CollectedAt: t0,
		Containers: []deckhand.Container{ctr("pi", "dns", "", deckhand.StateRunning)}}
	for _, sn := range []deckhand.Snapshot{first, other} {
		if err := s.SaveSnapshot(ctx, sn); err != nil {
			t.Fatalf("SaveSnapshot: %v", err)
		}
	}

	got, err := s.Containers(ctx, "nas")
	if err != nil {
		t.Fatal(err)
	}
	// host, project, name: "" sorts before "app".
	if want := []string{"nas//cache", "nas/app/db", "nas/app/web"}; !slices.Equal(names(got), want) {
		t.Fatalf("containers = %v, want %v", names(got), want)
	}
	g := got[2]
	if g.ID != web.ID || g.Image != web.Image || g.ImageID != web.ImageID || g.Command != web.Command ||
		g.State != web.State || g.Health != web.Health || g.RestartCount != 1 || !g.CreatedAt.Equal(web.CreatedAt) ||
		!g.StartedAt.Equal(web.StartedAt) || !g.FinishedAt.Equal(web.FinishedAt) ||
		!slices.Equal(g.Ports, web.Ports) || g.Labels["x"] != "a,b=c" || g.ComposeService != "web" {
		t.Errorf("round trip: got %+v, want %+v", g, web)
	}
	all, err := s.Containers(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nas//cache", "nas/app/db", "nas/app/web", "pi//dns"}; !slices.Equal(names(all), want) {
		t.Errorf("all containers = %v, want %v", names(all), want)
	}

	// Second collection: web changed, cache vanished, api appeared; a
	// container-only collection (not Full) leaves images and volumes alone.
	web2 := web
	web2.State, web2.Status, web2.ExitCode = deckhand.StateExited, "Exited (137)", 137
	api := ctr("nas", "api", "app", deckhand.StateRunning)
	second := deckhand.Snapshot{Host: host, Containers: []deckhand.Container{web2, db, api},
		CollectedAt: t0.Add(time.Minute), Images: nil, Volumes: nil}
	if err := s.SaveSnapshot(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Containers(ctx, "nas")
	if want := []string{"nas/app/api", "nas/app/db", "nas/app/web"}; !slices.Equal(names(got), want) {
		t.Fatalf("containers after second = %v, want %v", names(got), want)
	}
	if got[2].State != deckhand.StateExited || got[2].ExitCode != 137 {
		t.Errorf("web not updated: %+v", got[2])
	}
	imgs, _ := s.Images(ctx, "nas")
	vols, _ := s.Volumes(ctx, "nas")
	if len(imgs) != 2 || len(vols) != 2 {
		t.Errorf("partial snapshot touched images/volumes: %d images, %d volumes", len(imgs), len(vols))
	}
	// Untagged sorts first.
	if imgs[0].ID != "sha256:b" || imgs[0].RepoTags == nil || len(imgs[0].RepoTags) != 0 ||
		imgs[1].ID != "sha256:a" || imgs[1].Size != 10 || !imgs[1].CreatedAt.Equal(t0) {
		t.Errorf("images = %+v", imgs)
	}

	// Full collection replaces images and volumes.
	third := second
	third.Full = true
	third.Images = []deckhand.Image{{ID: "sha256:a", RepoTags: []string{"a:1", "a:latest"}, Size: 11}}
	third.Volumes = []deckhand.Volume{{Name: "data", Driver: "local", Size: 42, Links: 1}}
	if err := s.SaveSnapshot(ctx, third); err != nil {
		t.Fatal(err)
	}
	imgs, _ = s.Images(ctx, "nas")
	vols, _ = s.Volumes(ctx, "nas")
	if len(imgs) != 1 || imgs[0].Size != 11 || !slices.Equal(imgs[0].RepoTags, []string{"a:1", "a:latest"}) {
		t.Errorf("images after full = %+v", imgs)
	}
	if len(vols) != 1 || vols[0] != third.Volumes[0] {
		t.Errorf("volumes after full = %+v", vols)
	}
	if pi, _ := s.Containers(ctx, "pi"); len(pi) != 1 {
		t.Errorf("another host's containers changed: %v", names(pi))
	}

	h, err := s.Host(ctx, "nas")
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != deckhand.HostOK || h.DockerVersion != "28.2.2" || h.APIVersion != "1.50" ||
		!h.LastOKAt.Equal(t0.Add(time.Minute)) || !h.LastCollectAt.Equal(t0.Add(time.Minute)) || !h.Enabled {
		t.Errorf("host = %+v", h)
	}
}

func TestSaveSnapshotFailureKeepsContainers(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	host := deckhand.Host{Name: "nas", DockerVersion: "27.5.1"}
	ok := deckhand.Snapshot{Host: host, CollectedAt: t0,
		Containers: []deckhand.Container{ctr("nas", "web", "", deckhand.StateRunning)}}
	if err := s.SaveSnapshot(ctx, ok); err != nil {
		t.Fatal(err)
	}
	failed := deckhand.Snapshot{Host: deckhand.Host{Name: "nas"}, CollectedAt: t0.Add(time.Minute),
		Err: fmt.Errorf("dial nas:22: %w", deckhand.ErrUnreachable)}
	if err := s.SaveSnapshot(ctx, failed); err != nil {
		t.Fatal(err)
	}
	cs, _ := s.Containers(ctx, "nas")
	if len(cs) != 1 || cs[0].Name != "web" {
		t.Errorf("containers after failed collect = %v", names(cs))
	}
	h, _ := s.Host(ctx, "nas")
	if h.Status != deckhand.HostUnreachable || h.LastError != "dial nas:22: host unreachable" ||
		!h.LastCollectAt.Equal(t0.Add(time.Minute)) || !h.LastOKAt.Equal(t0) || h.DockerVersion != "27.5.1" {
		t.Errorf("host after failed collect = %+v", h)
	}
	// Recovery clears the error.
	ok.CollectedAt = t0.Add(2 * time.Minute)
	if err := s.SaveSnapshot(ctx, ok); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Host(ctx, "nas")
	if h.Status != deckhand.HostOK || h.LastError != "" {
		t.Errorf("host after recovery = %+v", h)
	}
}

func TestSaveSnapshotRejectsBadInputAtomically(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	good := ctr("nas", "web", "", deckhand.StateRunning)
	if err := s.SaveSnapshot(ctx, deckhand.Snapshot{Host: deckhand.Host{Name: "nas"}, CollectedAt: t0,
		Containers: []deckhand.Container{good}}); err != nil {
		t.Fatal(err)
	}
	bad := deckhand.Snapshot{Host: deckhand.Host{Name: "nas"}, CollectedAt: t0.Add(time.Minute),
		Containers: []deckhand.Container{ctr("nas", "db", "", deckhand.StateRunning), {Name: "noid"}}}
	if err := s.SaveSnapshot(ctx, bad); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Fatalf("SaveSnapshot with an id-less container = %v, want ErrInvalidInput", err)
	}
	cs, _ := s.Containers(ctx, "nas")
	if !slices.Equal(names(cs), []string{"nas//web"}) {
		t.Errorf("a rejected snapshot was partly applied: %v", names(cs))
	}
	h, _ := s.Host(ctx, "nas")
	if !h.LastCollectAt.Equal(t0) {
		t.Errorf("host row changed by a rejected snapshot: %+v", h)
	}
	if err := s.SaveSnapshot(ctx, deckhand.Snapshot{}); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("SaveSnapshot without host = %v", err)
	}
}

func TestSyncHosts(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	if err := s.SyncHosts(ctx, []deckhand.Host{
		{Name: "nas", Transport: "ssh", Enabled: true},
		{Name: "pi", Transport: "ssh", Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSnapshot(ctx, deckhand.Snapshot{Host: deckhand.Host{Name: "pi", DockerVersion: "20.10.24"},
		CollectedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncHosts(ctx, []deckhand.Host{
		{Name: "nas", Transport: "local", Enabled: false},
		{Name: "vps", Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	hosts, err := s.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, transport, version string
		enabled                  bool
		status                   deckhand.HostStatus
	}
	var got []row
	for _, h := range hosts {
		got = append(got, row{h.Name, h.Transport, h.DockerVersion, h.Enabled, h.Status})
	}
	want := []row{
		{"nas", "local", "", false, deckhand.HostUnknown},
		{"pi", "ssh", "20.10.24", false, deckhand.HostOK}, // removed from config: kept, disabled
		{"vps", "ssh", "", true, deckhand.HostUnknown},
	}
	if !slices.Equal(got, want) {
		t.Errorf("hosts = %+v\nwant    %+v", got, want)
	}

	if err := s.SetHostEnabled(ctx, "nas", true); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Host(ctx, "nas"); !h.Enabled {
		t.Error("SetHostEnabled(true) did not enable")
	}
	if err := s.SetHostEnabled(ctx, "nope", true); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("SetHostEnabled(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Host(ctx, "nope"); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("Host(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.SyncHosts(ctx, []deckhand.Host{{Name: ""}}); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("SyncHosts(no name) = %v", err)
	}
}

// An admin's /disable-host (or /enable-host) survives a restart, which
// syncs the same config again; a changed config wins.
func TestSyncHostsKeepsChatChoiceUntilTheConfigChanges(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	enabled := func(host string) bool {
		t.Helper()
		h, err := s.Host(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		return h.Enabled
	}
	sync := func(nasEnabled bool, others ...string) {
		t.Helper()
		hosts := []deckhand.Host{{Name: "nas", Enabled: nasEnabled}}
		for _, o := range others {
			hosts = append(hosts, deckhand.Host{Name: o, Enabled: true})
		}
		if err := s.SyncHosts(ctx, hosts); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		what string
		do   func()
		want bool
	}{
		{"first start, config enabled", func() { sync(true, "pi") }, true},
		{"admin disables from chat", func() { _ = s.SetHostEnabled(ctx, "nas", false) }, false},
		{"restart, same config", func() { sync(true, "pi") }, false},
		{"restart again", func() { sync(true, "pi") }, false},
		{"admin enables from chat", func() { _ = s.SetHostEnabled(ctx, "nas", true) }, true},
		{"config now says disabled", func() { sync(false, "pi") }, false},
		{"admin enables from chat for a while", func() { _ = s.SetHostEnabled(ctx, "nas", true) }, true},
		{"restart, config still disabled", func() { sync(false, "pi") }, true},
		{"config back to enabled", func() { sync(true, "pi") }, true},
		{"removed from the config", func() { sync(true) }, true}, // nas stays configured here
	}
	for _, st := range steps {
		st.do()
		if got := enabled("nas"); got != st.want {
			t.Fatalf("after %q: nas enabled = %v, want %v", st.what, got, st.want)
		}
	}
	// A host dropped from the config is disabled, and enabled again by the
	// config when it comes back.
	sync(true)
	if enabled("pi") {
		t.Error("pi removed from the config is still enabled")
	}
	sync(true, "pi")
	if !enabled("pi") {
		t.Error("pi back in the config is not enabled")
	}
}
