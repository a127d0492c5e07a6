package telemetry

import (
	"sync"
	"time"
)

// timingsCap is how many recent durations each kind keeps.
const timingsCap = 1024

// Timings keeps the most recent durations of each kind of work (loop runs,
// narrations) with their times, for the performance report's p50/p99
// (app/performance). Safe for concurrent use.
type Timings struct {
	mu    sync.Mutex
	kinds map[string]*ring
}

type timed struct {
	at time.Time
	d  time.Duration
}

type ring struct {
	buf  [timingsCap]timed
	next int
	n    int
}

// NewTimings returns an empty history.
func NewTimings() *Timings { return &Timings{kinds: map[string]*ring{}} }

// Add records one duration of kind that ended at.
func (t *Timings) Add(kind string, at time.Time, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.kinds[kind]
	if r == nil {
		r = &ring{}
		t.kinds[kind] = r
	}
	r.buf[r.next] = timed{at: at, d: d}
	r.next = (r.next + 1) % timingsCap
	r.n = min(r.n+1, timingsCap)
}

// Since returns the kept durations of kind that ended at or after since.
func (t *Timings) Since(kind string, since time.Time) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.kinds[kind]
	if r == nil {
		return nil
	}
	out := make([]time.Duration, 0, r.n)
	for i := range r.n {
		if e := r.buf[i]; !e.at.Before(since) {
			out = append(out, e.d)
		}
	}
	return out
}
