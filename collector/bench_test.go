package collector

import (
	"context"
	"testing"
)

// BenchmarkCollectFleet collects 50 fake hosts of 40 containers each per
// iteration over persistent SSH connections; it reports handshakes per
// host, which must stay at 1 however many cycles run.
func BenchmarkCollectFleet(b *testing.B) {
	f := newFleet(b, 50, "28.2", 40)
	c := f.collector(b, nil)
	ctx := context.Background()
	for _, s := range c.CollectAll(ctx, true) {
		if s.Err != nil {
			b.Fatal(s.Err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, s := range c.CollectAll(ctx, false) {
			if s.Err != nil || len(s.Containers) != 40 {
				b.Fatalf("%s: %v, %d containers", s.Host.Name, s.Err, len(s.Containers))
			}
		}
	}
	b.ReportMetric(float64(c.Handshakes())/50, "handshakes/host")
	b.ReportMetric(50*40, "containers/op")
}
