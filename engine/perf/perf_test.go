package perf_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/perf"
)

func ms(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
		ok   bool
	}{
		{"empty", nil, 50, 0, false},
		{"p out of range", ms(1), 0, 0, false},
		{"one value", ms(7), 99, 7 * time.Millisecond, true},
		// NIST example style: 5 values, p50 is rank ceil(2.5)=3.
		{"median of five, unsorted", ms(40, 10, 50, 20, 30), 50, 30 * time.Millisecond, true},
		{"p99 of 100 is rank 99", ms(seq(100)...), 99, 99 * time.Millisecond, true},
		{"p99 of 10 is the max", ms(seq(10)...), 99, 10 * time.Millisecond, true},
		{"p100 is the max", ms(3, 1, 2), 100, 3 * time.Millisecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, ok := perf.Percentile(c.ds, c.p)
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.want, got)
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestWithinLimits(t *testing.T) {
	t.Parallel()
	fast := perf.Summarize(ms(100, 200, 300), time.Second)
	slow := perf.Summarize(ms(100, 200, 1500), time.Second)
	none := perf.Summarize(nil, time.Second)
	require.Equal(t, 3, fast.Samples)
	require.Equal(t, 200*time.Millisecond, *fast.P50)
	require.Nil(t, none.P99)
	require.True(t, perf.WithinLimits([]perf.Summary{fast, none}, 0))
	require.False(t, perf.WithinLimits([]perf.Summary{fast, slow}, 0), "a p99 above its limit")
	require.False(t, perf.WithinLimits([]perf.Summary{fast}, 1), "a runtime breach in the window")
}
