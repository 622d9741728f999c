package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

func TestRecordAvailabilityBuckets(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	web := store.ContainerKey{Host: "nas", Container: "web"}
	db := store.ContainerKey{Host: "nas", Container: "db"}
	base := t0 // 09:00 UTC, aligned on every resolution but 1d

	// 15 minutes of one-minute samples: web is down from minute 3 to 6
	// (outage [09:03, 09:06)), in maintenance at minute 10 and down again from
	// minute 13 to the end (ongoing outage); db is always up.
	for i := 0; i < 15; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		w := store.Availability{Host: "nas", Container: "web", Up: true}
		switch {
		case i >= 3 && i < 6, i >= 13:
			w.Up = false
		case i == 10:
			w.Up, w.Maintenance = false, true
		}
		samples := []store.Availability{w, {Host: "nas", Container: "db", Up: true}}
		if err := s.RecordAvailability(ctx, at, time.Minute, samples); err != nil {
			t.Fatal(err)
		}
	}

	b5, err := storetest.Uptime(ctx, s, store.Res5m, base, base.Add(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(b5) != 2 {
		t.Fatalf("keys = %d, want 2", len(b5))
	}
	type sums struct{ up, down, maint time.Duration }
	m := time.Minute
	// 09:00 bucket: minutes 0,1,2 up, 3,4 down; 09:05: 5 down, 6..9 up;
	// 09:10: 10 maintenance, 11,12 up, 13,14 down.
	wantWeb := []sums{{3 * m, 2 * m, 0}, {4 * m, 1 * m, 0}, {2 * m, 2 * m, m}}
	if len(b5[web]) != len(wantWeb) {
		t.Fatalf("web has %d 5m buckets, want %d", len(b5[web]), len(wantWeb))
	}
	for i, b := range b5[web] {
		got := sums{b.Up, b.Down, b.Maintenance}
		if got != wantWeb[i] {
			t.Errorf("web 5m bucket %d (%s) = %+v, want %+v", i, b.Start.Format("15:04"), got, wantWeb[i])
		}
		if !b.Start.Equal(base.Add(time.Duration(i)*5*m)) || b.Width != 5*m {
			t.Errorf("bucket %d start %v width %v", i, b.Start, b.Width)
		}
	}
	for _, b := range b5[db] {
		if b.Up != 5*m || b.Down != 0 || b.Ratio() != 1 || len(b.Outages) != 0 {
			t.Errorf("db bucket = %+v", b)
		}
	}

	// Outages: [09:03, 09:06) touches buckets 0 and 1; the ongoing one from
	// 09:13 touches bucket 2. Maintenance closed nothing (web was up).
	o := b5[web]
	if len(o[0].Outages) != 1 || len(o[1].Outages) != 1 || len(o[2].Outages) != 1 {
		t.Fatalf("outages per bucket = %d %d %d", len(o[0].Outages), len(o[1].Outages), len(o[2].Outages))
	}
	if !o[0].Outages[0].Start.Equal(base.Add(3*m)) || !o[0].Outages[0].End.Equal(base.Add(6*m)) {
		t.Errorf("first outage = %+v", o[0].Outages[0])
	}
	if !o[2].Outages[0].Start.Equal(base.Add(13*m)) || !o[2].Outages[0].End.IsZero() {
		t.Errorf("ongoing outage = %+v", o[2].Outages[0])
	}

	// Coarser resolutions hold the same totals.
	for _, res := range []string{store.Res1h, store.Res1d} {
		bs, err := storetest.Uptime(ctx, s, res, base, base.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var up, down, maint time.Duration
		for _, b := range bs[web] {
			up, down, maint = up+b.Up, down+b.Down, maint+b.Maintenance
		}
		if up != 9*m || down != 5*m || maint != m {
			t.Errorf("%s totals = %v up %v down %v maint", res, up, down, maint)
		}
		if len(bs[web]) != 1 {
			t.Errorf("%s buckets = %d, want 1", res, len(bs[web]))
		}
		if res == store.Res1d && !bs[web][0].Start.Equal(time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("1d bucket starts %v, want midnight UTC", bs[web][0].Start)
		}
		if n := len(bs[web][0].Outages); n != 2 {
			t.Errorf("%s outages = %d, want 2", res, n)
		}
	}

	// Maintenance closes an ongoing outage; recovery after that opens none.
	if err := s.RecordAvailability(ctx, base.Add(20*m), m, []store.Availability{{Host: "nas", Container: "web", Maintenance: true}}); err != nil {
		t.Fatal(err)
	}
	bs, _ := storetest.Uptime(ctx, s, store.Res1h, base, base.Add(time.Hour))
	outs := bs[web][0].Outages
	if len(outs) != 2 || !outs[1].End.Equal(base.Add(20*m)) {
		t.Errorf("outages after maintenance = %+v", outs)
	}
}

func TestUptimeGapsAndLimits(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	m := time.Minute
	// Data at 09:00 and 09:20 only; the window asks 09:02 .. 09:30.
	for _, at := range []time.Time{t0, t0.Add(20 * m)} {
		if err := s.RecordAvailability(ctx, at, m, []store.Availability{{Host: "h", Container: "c", Up: true}}); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := storetest.Uptime(ctx, s, store.Res5m, t0.Add(2*m), t0.Add(30*m))
	if err != nil {
		t.Fatal(err)
	}
	got := bs[store.ContainerKey{Host: "h", Container: "c"}]
	if len(got) != 6 {
		t.Fatalf("buckets = %d, want 6 (09:00..09:25)", len(got))
	}
	for i, b := range got {
		hasData := i == 0 || i == 4
		if hasData != (b.Ratio() >= 0) {
			t.Errorf("bucket %d (%s) ratio %v", i, b.Start.Format("15:04"), b.Ratio())
		}
	}

	// Four short outages in one 5m bucket: only three are attached.
	for i := 0; i < 4; i++ {
		at := t0.Add(time.Hour + time.Duration(i)*m)
		for j, up := range []bool{false, true} {
			if err := s.RecordAvailability(ctx, at.Add(time.Duration(j)*30*time.Second), 30*time.Second,
				[]store.Availability{{Host: "h", Container: "c", Up: up}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bs, _ = storetest.Uptime(ctx, s, store.Res5m, t0.Add(time.Hour), t0.Add(time.Hour+5*m))
	b := bs[store.ContainerKey{Host: "h", Container: "c"}][0]
	if len(b.Outages) != 3 || b.Down != 2*m || b.Up != 2*m {
		t.Errorf("bucket = %+v (%d outages)", b, len(b.Outages))
	}

	if _, err := storetest.Uptime(ctx, s, "2m", t0, t0.Add(time.Hour)); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("Uptime(2m) = %v, want ErrInvalidInput", err)
	}
	if empty, err := storetest.Uptime(ctx, s, store.Res1h, t0.Add(time.Hour), t0); err != nil || len(empty) != 0 {
		t.Errorf("Uptime(reversed) = %v, %v", empty, err)
	}
}

func TestPrune(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	now := t0
	day := 24 * time.Hour
	old, fresh := now.Add(-400*day), now.Add(-time.Hour)

	// Availability: an outage of a minute 400 days ago, up an hour ago.
	for i, at := range []time.Time{old, old.Add(time.Minute), fresh} {
		if err := s.RecordAvailability(ctx, at, time.Minute, []store.Availability{
			{Host: "nas", Container: "web", Up: i > 0},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Containers: one host collected long ago, one now.
	for _, sn := range []deckhand.Snapshot{
		{Host: deckhand.Host{Name: "gone"}, CollectedAt: now.Add(-8 * day),
			Containers: []deckhand.Container{ctr("gone", "x", "", deckhand.StateRunning)}},
		{Host: deckhand.Host{Name: "nas"}, CollectedAt: now,
			Containers: []deckhand.Container{ctr("nas", "web", "", deckhand.StateRunning)}},
	} {
		if err := s.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	// Alerts: closed long ago (with a sent notice and a message ref), closed
	// recently, still open since long ago.
	oldClosed := downAlert("a", old)
	oldClosed.State, oldClosed.ClosedAt = deckhand.AlertClosed, old.Add(time.Hour)
	recentClosed := downAlert("b", now.Add(-10*day))
	recentClosed.State, recentClosed.ClosedAt = deckhand.AlertClosed, now.Add(-9*day)
	longOpen := downAlert("c", old)
	alerts := []deckhand.Alert{oldClosed, recentClosed, longOpen}
	if err := s.ApplyAlerts(ctx, alerts, []deckhand.Notice{opened(alerts[0]), opened(alerts[2])},
		[]string{deckhand.PlatformDiscord}); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueOutbox(ctx, deckhand.PlatformDiscord, now, 10)
	if len(due) != 2 {
		t.Fatalf("due = %d", len(due))
	}
	if err := s.MarkSent(ctx, due[0].ID, old, "c/1"); err != nil {
		t.Fatal(err)
	}
	// due[1] stays unsent: never pruned however old.
	if err := s.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, CreatedAt: now,
		Notice: deckhand.Notice{Kind: deckhand.NoticeAnnouncement}}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{old, fresh} {
		if err := s.AddAudit(ctx, deckhand.AuditEntry{At: at, Action: deckhand.ActionRestart, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSilence(ctx, deckhand.Silence{Host: "nas", Until: at, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}

	st, err := s.Prune(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := store.PruneStats{Buckets5m: 1, Buckets1h: 1, Outages: 1, Outbox: 1, Alerts: 1, Audit: 1,
		Containers: 1, Silences: 1}
	if st != want {
		t.Errorf("Prune = %+v\nwant    %+v", st, want)
	}
	if again, _ := s.Prune(ctx, now); again != (store.PruneStats{}) {
		t.Errorf("second Prune = %+v, want nothing", again)
	}

	if _, err := s.Alert(ctx, alerts[0].ID); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("old closed alert kept: %v", err)
	}
	if _, err := s.MessageRef(ctx, alerts[0].ID, deckhand.PlatformDiscord); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("message ref of a pruned alert kept: %v", err)
	}
	for _, id := range []int64{alerts[1].ID, alerts[2].ID} {
		if _, err := s.Alert(ctx, id); err != nil {
			t.Errorf("alert %d pruned: %v", id, err)
		}
	}
	if cs, _ := s.Containers(ctx, ""); len(cs) != 1 || cs[0].Host != "nas" {
		t.Errorf("containers after prune = %v", names(cs))
	}
	depth, _ := s.OutboxDepth(ctx)
	if depth[deckhand.PlatformDiscord] != 1 || depth[deckhand.PlatformNtfy] != 1 {
		t.Errorf("unsent outbox rows pruned: %v", depth)
	}
	// The 1d buckets are kept forever, the recent 5m one too.
	web := store.ContainerKey{Host: "nas", Container: "web"}
	if d, _ := storetest.Uptime(ctx, s, store.Res1d, old, old.Add(day)); len(d[web]) == 0 || d[web][0].Down != time.Minute ||
		d[web][0].Up != time.Minute {
		t.Errorf("old 1d bucket = %+v", d[web])
	}
	if r, _ := storetest.Uptime(ctx, s, store.Res5m, fresh, now); len(r[web]) == 0 {
		t.Error("recent 5m bucket pruned")
	}
	if a, _ := s.Audit(ctx, 0); len(a) != 1 {
		t.Errorf("audit after prune = %d entries", len(a))
	}
}

// UptimeEach hands over one container at a time, in order, each once, with
// its own buckets and outages only.
func TestUptimeEachStreamsContainers(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	keys := []store.ContainerKey{{Host: "b", Container: "x"}, {Host: "a", Container: "z"}, {Host: "a", Container: "y"}}
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Hour)
		var av []store.Availability
		for j, k := range keys {
			av = append(av, store.Availability{Host: k.Host, Container: k.Container, Up: !(j == 1 && i == 1)})
		}
		if err := s.RecordAvailability(ctx, at, time.Hour, av); err != nil {
			t.Fatal(err)
		}
	}
	var seen []store.ContainerKey
	err := s.UptimeEach(ctx, store.Res1h, t0, t0.Add(3*time.Hour), func(k store.ContainerKey, b []deckhand.UptimeBucket) {
		seen = append(seen, k)
		if len(b) != 3 {
			t.Fatalf("%v: %d buckets, want 3", k, len(b))
		}
		for i, bk := range b {
			// Only z was down, and only in the second hour: a bucket
			// still holding another container's values would show here.
			wantDown := k == keys[1] && i == 1
			if !bk.Start.Equal(t0.Add(time.Duration(i)*time.Hour)) || bk.Width != time.Hour ||
				(bk.Down == time.Hour) != wantDown || (bk.Up == time.Hour) == wantDown {
				t.Errorf("%v bucket %d: %+v, want down %v", k, i, bk, wantDown)
			}
		}
		outages := 0
		for _, bk := range b {
			outages += len(bk.Outages)
		}
		if want := map[bool]int{true: 1, false: 0}[k == keys[1]]; outages != want {
			t.Errorf("%v: %d outage attachments, want %d", k, outages, want)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ContainerKey{keys[2], keys[1], keys[0]} // host, then container
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("visited %v, want %v", seen, want)
	}
}
