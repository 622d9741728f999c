package monitor

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// pageEvery bounds page rebuilds: a rebuild reads every container and
// renders the whole page, so bursts of events across hosts are coalesced.
const (
	pageEvery      = 250 * time.Millisecond
	startPageEvery = time.Second
)

// pageChanged asks for a page rebuild; it never blocks.
func (m *Monitor) pageChanged() {
	select {
	case m.pageDirty <- struct{}{}:
	default: // a rebuild is already asked for and will see this change
	}
}

// pageWorker rebuilds the page when asked, at most once per pageEvery.
func (m *Monitor) pageWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.pageDirty:
		}
		m.refreshPage(ctx, false)
		every := pageEvery
		select {
		case <-m.firstPass:
		default:
			// Until every host was collected once, each first collection
			// is news: a rebuild per 250 ms of the whole page, old and new
			// alive at once, was the daemon's peak of memory at start.
			every = startPageEvery
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// refreshPage rebuilds the status page's view and the gauges. Uptime
// history is re-read at most once a minute, in the background: it changes
// slowly and is the expensive part.
func (m *Monitor) refreshPage(ctx context.Context, force bool) {
	now := m.now()
	hosts, err := m.st.Hosts(ctx)
	if err != nil {
		m.logErr(ctx, "status page: hosts", err)
		return
	}
	m.overlayHosts(hosts)
	ctrs := m.pageContainers(ctx, hosts)
	active, _ := m.st.ActiveAlerts(ctx)
	m.setGauges(hosts, ctrs, active)
	if m.page == nil {
		return
	}
	recent, _ := m.st.RecentAlerts(ctx, now.Add(-90*24*time.Hour), 50)
	var past []deckhand.Alert
	for _, a := range recent {
		if a.State == deckhand.AlertClosed {
			past = append(past, a)
		}
	}
	anns, _ := m.st.Announcements(ctx, now)
	maint := map[statuspage.ContainerKey]string{}
	for _, c := range ctrs {
		if name, ok := m.eng.InMaintenance(c.Host, c.ComposeProject, c.Name, now); ok {
			maint[statuspage.ContainerKey{Host: c.Host, Container: c.Name}] = name
		}
	}
	intents, err := m.st.Intents(ctx)
	if err != nil {
		m.logErr(ctx, "status page: intents", err)
	}
	m.page.Update(statuspage.View{
		GeneratedAt: now, Hosts: hosts, Containers: ctrs, Active: active, Recent: past,
		Uptime: m.uptimeSeries(ctx, now, force), Maintenance: maint, Announcements: anns,
		Watch: m.eng.Watchlist(), Checking: m.checking(), Intents: intents,
	})
}

func (m *Monitor) setGauges(hosts []deckhand.Host, ctrs []deckhand.Container, active []deckhand.Alert) {
	if m.met == nil {
		return
	}
	up := 0
	for _, h := range hosts {
		if h.Enabled && h.Status == deckhand.HostOK {
			up++
		}
	}
	m.met.SetHostsUp(up)
	states := map[deckhand.ContainerState]int{}
	for _, c := range ctrs {
		states[c.State]++
	}
	for _, st := range []deckhand.ContainerState{deckhand.StateRunning, deckhand.StateExited, deckhand.StatePaused,
		deckhand.StateRestarting, deckhand.StateCreated, deckhand.StateDead} {
		m.met.SetContainers(string(st), states[st])
	}
	open := 0
	for _, a := range active {
		if a.State == deckhand.AlertOpen || a.State == deckhand.AlertAcked {
			open++
		}
	}
	m.met.SetAlertsOpen(open)
}

// pageContainers is every host's containers for the page: the latest
// collection's from memory, and the store's last known ones for a host
// whose latest collection failed, is disabled or has not run yet (a down
// host still lists what it ran). Reading all of them back from SQLite on
// every rebuild was a third of what the daemon allocated at 200 hosts.
func (m *Monitor) pageContainers(ctx context.Context, hosts []deckhand.Host) []deckhand.Container {
	fresh := make(map[string][]deckhand.Container, len(m.order))
	n := 0
	for _, s := range m.snapshots() {
		if s.Err == nil {
			fresh[s.Host.Name] = s.Containers
			n += len(s.Containers)
		}
	}
	out := make([]deckhand.Container, 0, n)
	for _, h := range hosts {
		if cs, ok := fresh[h.Name]; ok {
			out = append(out, cs...)
			continue
		}
		cs, err := m.st.Containers(ctx, h.Name)
		if err != nil {
			m.logErr(ctx, "status page: containers", err)
			continue
		}
		out = append(out, cs...)
	}
	return out
}

// uptimeCache holds the page's history bars between re-reads.
type uptimeCache struct {
	mu     sync.Mutex
	at     time.Time
	busy   bool // a background re-read is running
	series map[statuspage.ContainerKey]statuspage.UptimeSeries
}

func (u *uptimeCache) invalidate() {
	u.mu.Lock()
	u.at = time.Time{}
	u.mu.Unlock()
}

func (m *Monitor) uptimeSeries(ctx context.Context, now time.Time, force bool) map[statuspage.ContainerKey]statuspage.UptimeSeries {
	u := &m.uptime
	u.mu.Lock()
	cached := u.series
	fresh := cached != nil && now.Sub(u.at) < time.Minute
	if cached != nil && !fresh && !force && !u.busy {
		// Re-read in the background: on a large fleet these queries take
		// seconds, and a detection must not wait for history bars.
		u.busy = true
		go func() {
			out := m.readUptime(ctx, now)
			u.mu.Lock()
			u.series, u.at, u.busy = out, now, false
			u.mu.Unlock()
			m.pageChanged()
		}()
	}
	u.mu.Unlock()
	if cached != nil && !force {
		return cached
	}
	out := m.readUptime(ctx, now)
	u.mu.Lock()
	u.series, u.at = out, now
	u.mu.Unlock()
	return out
}

func (m *Monitor) readUptime(ctx context.Context, now time.Time) map[statuspage.ContainerKey]statuspage.UptimeSeries {
	out, err := ReadUptime(ctx, m.st, now)
	if err != nil {
		m.logErr(ctx, "status page: uptime", err)
	}
	return out
}

// UptimeReader is the part of the store the history bars come from.
type UptimeReader interface {
	UptimeEach(ctx context.Context, resolution string, since, until time.Time, fn func(store.ContainerKey, []deckhand.UptimeBucket)) error
}

// ReadUptime is the status page's history, straight from the store, one
// container at a time into the page's packed form (hourly for the last
// day, daily for 90 days): at 8000 containers the store's buckets for all
// of them at once were 85 MB.
func ReadUptime(ctx context.Context, st UptimeReader, now time.Time) (map[statuspage.ContainerKey]statuspage.UptimeSeries, error) {
	out := map[statuspage.ContainerKey]statuspage.UptimeSeries{}
	read := func(res string, since time.Duration, set func(*statuspage.UptimeSeries, []deckhand.UptimeBucket)) error {
		return st.UptimeEach(ctx, res, now.Add(-since), now, func(k store.ContainerKey, b []deckhand.UptimeBucket) {
			key := statuspage.ContainerKey{Host: k.Host, Container: k.Container}
			s := out[key]
			set(&s, b)
			out[key] = s
		})
	}
	return out, errors.Join(
		read(store.Res1h, 24*time.Hour, (*statuspage.UptimeSeries).SetDay),
		read(store.Res1d, 90*24*time.Hour, (*statuspage.UptimeSeries).SetQuarter),
	)
}

// checking names the hosts not collected yet since deckhand started: what
// the store says of them is the previous run's.
func (m *Monitor) checking() []string {
	var out []string
	for _, name := range m.order {
		if _, ok := m.hosts[name].latest(); !ok {
			out = append(out, name)
		}
	}
	return out
}

// overlayHosts gives the stored hosts their latest collection's status
// and times from memory: an unchanged host is not written on every
// collection. Whether a host is enabled stays the store's (chat may have
// disabled it).
func (m *Monitor) overlayHosts(hosts []deckhand.Host) {
	for i := range hosts {
		h := m.hosts[hosts[i].Name]
		if h == nil {
			continue
		}
		s, ok := h.latest()
		if !ok || s.Host.Status == deckhand.HostDisabled {
			continue
		}
		hosts[i].Status, hosts[i].LastError = s.Host.Status, s.Host.LastError
		hosts[i].LastCollectAt = s.Host.LastCollectAt
		if !s.Host.LastOKAt.IsZero() {
			hosts[i].LastOKAt = s.Host.LastOKAt
		}
	}
}
