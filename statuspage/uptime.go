package statuspage

import (
	"time"

	"github.com/deckhand/deckhand"
)

// UptimeSeries is one container's availability history for its bars: the
// last 24 hours by hour and the last 90 days by day, oldest bucket first
// (the 7- and 30-day bars are the end of the 90). The page holds one for
// every container for as long as it runs, so it is packed: 12 bytes a
// bucket, where []deckhand.UptimeBucket takes 80 (at 8000 containers, 11
// MB instead of 85). The zero value has no history.
type UptimeSeries struct {
	day, quarter packedBuckets
}

// NewUptimeSeries packs day (hourly buckets) and quarter (daily buckets),
// each evenly spaced by its first bucket's Width from its Start, as
// store.UptimeEach hands them over. It copies what it keeps.
func NewUptimeSeries(day, quarter []deckhand.UptimeBucket) UptimeSeries {
	return UptimeSeries{day: pack(day), quarter: pack(quarter)}
}

// SetDay replaces the hourly history, and SetQuarter the daily one: for a
// caller that reads the two resolutions one after the other.
func (s *UptimeSeries) SetDay(day []deckhand.UptimeBucket)         { s.day = pack(day) }
func (s *UptimeSeries) SetQuarter(quarter []deckhand.UptimeBucket) { s.quarter = pack(quarter) }

// packedBuckets is a run of evenly spaced buckets: up, down and maintenance
// milliseconds per bucket (a bucket is at most a day, which fits in 32
// bits), the few outages by bucket index.
type packedBuckets struct {
	start   int64 // unix milliseconds of bucket 0
	width   int64 // milliseconds
	ms      []uint32
	outages map[int][]deckhand.Outage // nil when there are none
	first   int                       // index of bucket 0 in outages, for tails
}

func pack(bs []deckhand.UptimeBucket) packedBuckets {
	if len(bs) == 0 {
		return packedBuckets{}
	}
	p := packedBuckets{start: bs[0].Start.UnixMilli(), width: bs[0].Width.Milliseconds(), ms: make([]uint32, 3*len(bs))}
	clamp := func(d time.Duration) uint32 { return uint32(min(max(d.Milliseconds(), 0), 1<<32-1)) }
	for i, b := range bs {
		p.ms[3*i], p.ms[3*i+1], p.ms[3*i+2] = clamp(b.Up), clamp(b.Down), clamp(b.Maintenance)
		if len(b.Outages) > 0 {
			if p.outages == nil {
				p.outages = map[int][]deckhand.Outage{}
			}
			p.outages[i] = append([]deckhand.Outage(nil), b.Outages...)
		}
	}
	return p
}

func (p packedBuckets) len() int { return len(p.ms) / 3 }

// at unpacks bucket i.
func (p packedBuckets) at(i int) deckhand.UptimeBucket {
	ms := func(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }
	return deckhand.UptimeBucket{
		Start:       time.UnixMilli(p.start + int64(i)*p.width).UTC(),
		Width:       time.Duration(p.width) * time.Millisecond,
		Up:          ms(p.ms[3*i]),
		Down:        ms(p.ms[3*i+1]),
		Maintenance: ms(p.ms[3*i+2]),
		Outages:     p.outages[p.first+i],
	}
}

// upDown sums the up and down time of every bucket.
func (p packedBuckets) upDown() (up, down time.Duration) {
	var u, d int64
	for i := 0; i < len(p.ms); i += 3 {
		u += int64(p.ms[i])
		d += int64(p.ms[i+1])
	}
	return time.Duration(u) * time.Millisecond, time.Duration(d) * time.Millisecond
}

// tail is the last n buckets, sharing memory.
func (p packedBuckets) tail(n int) packedBuckets {
	skip := max(p.len()-n, 0)
	t := p
	t.start += int64(skip) * p.width
	t.ms = p.ms[3*skip:]
	t.first += skip
	return t
}

// eachOutage calls fn with every outage of the buckets, in bucket order;
// an outage spanning buckets comes once per bucket.
func (p packedBuckets) eachOutage(fn func(deckhand.Outage)) {
	if p.outages == nil {
		return
	}
	for i := range p.len() {
		for _, o := range p.outages[p.first+i] {
			fn(o)
		}
	}
}
