package statuspage

import (
	"time"

	"github.com/deckhand/deckhand"
)

// UptimeSeries is one container's availability history for its bars: the
// last 24 hours by hour and the last 90 days by day, oldest bucket first
// (the 7- and 30-day bars are the end of the 90). The page holds one for
// every container for as long as it runs, so it is packed (see
// packedBuckets): at most 13 bytes a bucket, where []deckhand.UptimeBucket
// takes 80. The zero value has no history.
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

// packedBuckets is a run of evenly spaced buckets: one byte a bucket for
// what it holds, and only the values that say something. A bucket without
// data (a young container's past) costs that byte alone, an hour or a day
// up without a flaw one value more, and only a bucket with downtime or
// maintenance all three (up, down and maintenance milliseconds; a bucket
// is at most a day, which fits in 32 bits). At 8000 containers × 114
// buckets, a flat 12 bytes a bucket was 11 MB held for the whole run; a
// healthy fleet now holds a third of that, a new one a twelfth. The few
// outages are kept by bucket index.
type packedBuckets struct {
	start   int64 // unix milliseconds of bucket 0
	width   int64 // milliseconds
	kinds   []byte
	vals    []uint32                  // the values, in bucket order, shared by tails
	voff    int                       // index in vals of bucket 0's first value
	outages map[int][]deckhand.Outage // nil when there are none
	first   int                       // index of bucket 0 in outages, for tails
}

const (
	bucketEmpty byte = iota // no data
	bucketUp                // up time only: one value
	bucketMixed             // up, down, maintenance: three values
)

// values is how many values a bucket of kind k has.
func values(k byte) int {
	switch k {
	case bucketUp:
		return 1
	case bucketMixed:
		return 3
	}
	return 0
}

func pack(bs []deckhand.UptimeBucket) packedBuckets {
	if len(bs) == 0 {
		return packedBuckets{}
	}
	p := packedBuckets{start: bs[0].Start.UnixMilli(), width: bs[0].Width.Milliseconds(), kinds: make([]byte, len(bs))}
	clamp := func(d time.Duration) uint32 { return uint32(min(max(d.Milliseconds(), 0), 1<<32-1)) }
	n := 0
	for i, b := range bs {
		up, down, maint := clamp(b.Up), clamp(b.Down), clamp(b.Maintenance)
		switch {
		case down != 0 || maint != 0:
			p.kinds[i], n = bucketMixed, n+3
		case up != 0:
			p.kinds[i], n = bucketUp, n+1
		}
	}
	p.vals = make([]uint32, 0, n)
	for i, b := range bs {
		switch p.kinds[i] {
		case bucketMixed:
			p.vals = append(p.vals, clamp(b.Up), clamp(b.Down), clamp(b.Maintenance))
		case bucketUp:
			p.vals = append(p.vals, clamp(b.Up))
		}
		if len(b.Outages) > 0 {
			if p.outages == nil {
				p.outages = map[int][]deckhand.Outage{}
			}
			p.outages[i] = append([]deckhand.Outage(nil), b.Outages...)
		}
	}
	return p
}

func (p packedBuckets) len() int { return len(p.kinds) }

// each calls fn with every bucket, unpacked, in order.
func (p packedBuckets) each(fn func(i int, b deckhand.UptimeBucket)) {
	off := p.voff
	for i, k := range p.kinds {
		fn(i, p.bucket(i, k, off))
		off += values(k)
	}
}

// bucket unpacks bucket i of kind k whose values start at vals[off].
func (p packedBuckets) bucket(i int, k byte, off int) deckhand.UptimeBucket {
	ms := func(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }
	b := deckhand.UptimeBucket{
		Start:   time.UnixMilli(p.start + int64(i)*p.width).UTC(),
		Width:   time.Duration(p.width) * time.Millisecond,
		Outages: p.outages[p.first+i],
	}
	switch k {
	case bucketUp:
		b.Up = ms(p.vals[off])
	case bucketMixed:
		b.Up, b.Down, b.Maintenance = ms(p.vals[off]), ms(p.vals[off+1]), ms(p.vals[off+2])
	}
	return b
}

// at unpacks bucket i (for tests and single look-ups: it counts its way
// there; use each to walk them all).
func (p packedBuckets) at(i int) deckhand.UptimeBucket {
	off := p.voff
	for _, k := range p.kinds[:i] {
		off += values(k)
	}
	return p.bucket(i, p.kinds[i], off)
}

// upDown sums the up and down time of every bucket.
func (p packedBuckets) upDown() (up, down time.Duration) {
	p.each(func(_ int, b deckhand.UptimeBucket) { up, down = up+b.Up, down+b.Down })
	return up, down
}

// tail is the last n buckets, sharing memory.
func (p packedBuckets) tail(n int) packedBuckets {
	skip := max(p.len()-n, 0)
	t := p
	for _, k := range p.kinds[:skip] {
		t.voff += values(k)
	}
	t.start += int64(skip) * p.width
	t.kinds = p.kinds[skip:]
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
