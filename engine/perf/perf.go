// Package perf holds the rules of the performance report (X6,
// get_performance_metrics / check_performance_limits): how recent run
// times are summarised and when a deployment is within its limits.
package perf

import (
	"math"
	"slices"
	"time"
)

// Summary describes recent durations of one kind of work against its limit.
type Summary struct {
	Samples int            // durations summarised
	P50     *time.Duration // median; nil without samples
	P99     *time.Duration // 99th percentile; nil without samples
	Limit   time.Duration  // the guardrail the work must finish within
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of ds: the
// smallest value with at least p% of the values at or below it (NIST
// e-Handbook 7.2.6.2, nearest rank). ds need not be sorted; it is not
// modified. ok is false for an empty ds or p outside (0, 100].
func Percentile(ds []time.Duration, p float64) (d time.Duration, ok bool) {
	if len(ds) == 0 || !(p > 0 && p <= 100) {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1], true
}

// Summarize returns the p50 and p99 of ds against limit.
func Summarize(ds []time.Duration, limit time.Duration) Summary {
	s := Summary{Samples: len(ds), Limit: limit}
	if p50, ok := Percentile(ds, 50); ok {
		s.P50 = &p50
	}
	if p99, ok := Percentile(ds, 99); ok {
		s.P99 = &p99
	}
	return s
}

// Within reports whether the work keeps its limit: no sample, or a p99
// at or below the limit.
func (s Summary) Within() bool { return s.P99 == nil || s.Limit <= 0 || *s.P99 <= s.Limit }

// WithinLimits is check_performance_limits: every summary keeps its limit
// and no runtime guardrail (loop or narrative timeout) was breached in the
// window. Skipped insights (the daily cap) are the cap working, not a
// breach of performance, and do not count.
func WithinLimits(summaries []Summary, runtimeBreaches int) bool {
	for _, s := range summaries {
		if !s.Within() {
			return false
		}
	}
	return runtimeBreaches == 0
}
