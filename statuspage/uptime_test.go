package statuspage

import (
	"reflect"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// Packing keeps every bucket as the store gave it: the bars are rendered
// from the packed form only.
func TestUptimeSeriesPackingRoundTrips(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 34, 0, 0, time.UTC)
	outage := deckhand.Outage{Start: now.Add(-30 * time.Hour), End: now.Add(-29*time.Hour - 15*time.Minute)}
	open := deckhand.Outage{Start: now.Add(-10 * time.Minute)}
	day, quarter := seriesBuckets(now, []deckhand.Outage{outage, open}, true)
	for _, tc := range []struct {
		name   string
		packed packedBuckets
		want   []deckhand.UptimeBucket
	}{
		{"day", pack(day), day},
		{"quarter", pack(quarter), quarter},
		{"week (tail)", pack(quarter).tail(7), quarter[83:]},
		{"longer tail than data", pack(day).tail(100), day},
	} {
		if got := tc.packed.len(); got != len(tc.want) {
			t.Fatalf("%s: %d buckets, want %d", tc.name, got, len(tc.want))
		}
		var up, down time.Duration
		var outages []deckhand.Outage
		for i, w := range tc.want {
			if got := tc.packed.at(i); !reflect.DeepEqual(got, w) {
				t.Errorf("%s: bucket %d = %+v, want %+v", tc.name, i, got, w)
			}
			up, down = up+w.Up, down+w.Down
			outages = append(outages, w.Outages...)
		}
		if u, d := tc.packed.upDown(); u != up || d != down {
			t.Errorf("%s: up/down %v/%v, want %v/%v", tc.name, u, d, up, down)
		}
		var got []deckhand.Outage
		tc.packed.eachOutage(func(o deckhand.Outage) { got = append(got, o) })
		if !reflect.DeepEqual(got, outages) {
			t.Errorf("%s: outages %v, want %v", tc.name, got, outages)
		}
	}
	// The series really holds outages and maintenance to round-trip.
	var maint, withOutage bool
	for _, b := range day {
		maint = maint || b.Maintenance > 0
		withOutage = withOutage || len(b.Outages) > 0
	}
	if !maint || !withOutage {
		t.Fatalf("fixture lacks maintenance (%v) or outages (%v)", maint, withOutage)
	}
	if (UptimeSeries{}).day.len() != 0 || pack(nil).len() != 0 {
		t.Error("empty series has buckets")
	}
}

// A bucket costs what it says: no data one byte, up alone one value more,
// and only a flawed bucket all three values.
func TestPackingHoldsOnlyWhatBucketsSay(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	bs := make([]deckhand.UptimeBucket, 90)
	for i := range bs {
		bs[i] = deckhand.UptimeBucket{Start: start.Add(time.Duration(i) * 24 * time.Hour), Width: 24 * time.Hour}
	}
	bs[88].Up = 23 * time.Hour
	bs[89].Up, bs[89].Down = 2*time.Hour, time.Minute
	p := pack(bs)
	if len(p.kinds) != 90 || len(p.vals) != 4 {
		t.Errorf("90 buckets, 88 empty, one up, one with downtime: %d kinds, %d values; want 90 and 4", len(p.kinds), len(p.vals))
	}
	if b := p.tail(1).at(0); b.Up != 2*time.Hour || b.Down != time.Minute {
		t.Errorf("last bucket through a tail: %+v", b)
	}
}
