package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// BenchmarkSaveSnapshot saves a 40-container snapshot of one host, with one
// container replaced each time so that inserts and deletes happen too.
func BenchmarkSaveSnapshot(b *testing.B) {
	s := storetest.Open(b)
	ctx := context.Background()
	base := make([]deckhand.Container, 41)
	for i := range base {
		base[i] = ctr("nas", fmt.Sprintf("c%02d", i), fmt.Sprintf("p%d", i%5), deckhand.StateRunning)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		snap := deckhand.Snapshot{Host: deckhand.Host{Name: "nas"}, CollectedAt: t0.Add(time.Duration(i) * time.Second)}
		skip := i % len(base)
		for j, c := range base {
			if j != skip {
				snap.Containers = append(snap.Containers, c)
			}
		}
		if err := s.SaveSnapshot(ctx, snap); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(40, "containers/op")
}

// BenchmarkRecordAvailability records one sample for each of 200 hosts × 40
// containers, the largest fleet deckhand is meant for.
func BenchmarkRecordAvailability(b *testing.B) {
	s := storetest.Open(b)
	ctx := context.Background()
	samples := make([]store.Availability, 0, 200*40)
	for h := range 200 {
		for c := range 40 {
			samples = append(samples, store.Availability{Host: fmt.Sprintf("h%03d", h), Container: fmt.Sprintf("c%02d", c)})
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := range samples {
			// A few transitions each round so that outages open and close.
			samples[j].Up = (i+j)%50 != 0
		}
		if err := s.RecordAvailability(ctx, t0.Add(time.Duration(i)*30*time.Second), 30*time.Second, samples); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(len(samples)), "samples/op")
}
