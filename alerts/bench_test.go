package alerts

import (
	"fmt"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// BenchmarkEvaluate measures one evaluation of a fleet of 200 hosts × 40
// containers in steady state: 1 host in 20 unreachable, 1 container in 50
// down, with their alerts already open.
func BenchmarkEvaluate(b *testing.B) {
	const hosts, perHost = 200, 40
	e, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var snaps []deckhand.Snapshot
	for h := 0; h < hosts; h++ {
		name := fmt.Sprintf("host%03d", h)
		if h%20 == 0 {
			snaps = append(snaps, hostErr(name, deckhand.ErrUnreachable))
			continue
		}
		cs := make([]deckhand.Container, 0, perHost)
		for i := 0; i < perHost; i++ {
			c := up(fmt.Sprintf("app%02d", i), project(fmt.Sprintf("stack%d", i/8)), restartCount(i%3))
			c.ID = fmt.Sprintf("%s-%02d", name, i)
			if (h*perHost+i)%50 == 0 {
				c.State, c.ExitCode = deckhand.StateExited, 1
			}
			cs = append(cs, c)
		}
		snaps = append(snaps, host(name, cs...))
	}
	in := Input{Now: t0, Snapshots: snaps}
	r := e.Evaluate(in)
	for i := range r.Changed {
		r.Changed[i].ID = int64(i + 1)
	}
	in.Active = r.Changed
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.Now = in.Now.Add(10 * time.Second)
		e.Evaluate(in)
	}
	b.ReportMetric(float64(hosts*perHost), "containers/op")
}
