package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func trendOf(res Result) *Finding {
	for i := range res.Findings {
		if res.Findings[i].Kind == KindTrend {
			return &res.Findings[i]
		}
	}
	return nil
}

// TestTrendStartsWhereTheDataStarts: a steady climb recorded only for the
// last 45 days of the 60-day trend window is dated from its first day, not
// from the empty start of the window, and its size is the fitted change
// over the 45 days observed, not over 60.
func TestTrendStartsWhereTheDataStarts(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 60)
	for k := range vals {
		vals[k] = math.NaN()
		if k >= 15 {
			vals[k] = 50 + float64(k-15)*1.0 + []float64{0.4, -0.3, 0.1, -0.2, 0.3}[k%5]
		}
	}
	res := Run(Input{Metric: "steps_like", Series: toSeries(t, vals), AsOf: dayN(60)}, DefaultOptions())
	trend := trendOf(res)
	require.NotNil(t, trend, "findings: %+v", res.Findings)
	require.Equal(t, dayN(16), trend.Day)
	require.Equal(t, dayN(16), trend.WindowFrom)
	require.InDelta(t, 1.0, trend.Coverage, 1e-9, "coverage counts from the first data day")
	require.Equal(t, 45, trend.Span)
	require.InDelta(t, 44.0, trend.Value-trend.Baseline, 0.5, "fitted change over the 45 days observed (slope 1 × 44)")
	require.Less(t, trend.PValue, DefaultOptions().TrendAlpha)
}

// TestTrendNeedsMinimumHistory: the same climb over only 30 days is not
// tested as a trend at all (TrendMinDays = 42).
func TestTrendNeedsMinimumHistory(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 60)
	for k := range vals {
		vals[k] = math.NaN()
		if k >= 30 {
			vals[k] = 50 + float64(k-30)*1.0 + []float64{0.4, -0.3, 0.1, -0.2, 0.3}[k%5]
		}
	}
	res := Run(Input{Metric: "steps_like", Series: toSeries(t, vals), AsOf: dayN(60)}, DefaultOptions())
	require.Nil(t, trendOf(res))
	for _, tt := range res.Tests {
		require.NotEqual(t, KindTrend, tt.Kind, "no trend test before TrendMinDays")
	}
}

// TestTrendNullRate: on pure AR(1) noise (φ = 0.4) over 60 days the trend
// test fires at about its level TrendAlpha, not at the 28% the
// magnitude-only rule gave (issue #12).
func TestTrendNullRate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 60))
	const runs = 1500
	hits := 0
	for range runs {
		vals := ar1(t, rng, 60, 0.4, 10)
		for k := range vals {
			vals[k] += 100
		}
		if trendOf(Run(Input{Metric: "x", Series: toSeries(t, vals), AsOf: dayN(60)}, DefaultOptions())) != nil {
			hits++
		}
	}
	require.LessOrEqual(t, float64(hits)/runs, 0.005, "%d of %d", hits, runs)
}

func TestAnomalyThresholdFormula(t *testing.T) {
	t.Parallel()
	a := &analysis{opt: DefaultOptions()}
	// ν = 0.95·n·(1 − 0.16)/(1 + 0.16); Cornish–Fisher by hand.
	for _, tc := range []struct {
		n    int
		want float64
	}{{43, 3.9315}, {58, 3.8123}, {14, 5.0776}} {
		nu := 0.95 * float64(tc.n) * 0.84 / 1.16
		hand := 3.5 + (3.5*3.5*3.5+3.5)/(4*nu) + (5*math.Pow(3.5, 5)+16*3.5*3.5*3.5+3*3.5)/(96*nu*nu)
		require.InDelta(t, hand, a.anomalyThreshold(tc.n), 1e-12)
		require.InDelta(t, tc.want, a.anomalyThreshold(tc.n), 1e-3)
	}
}

func TestNormalPAndCrit(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 0.05, NormalP(1.959964), 1e-6)
	require.InDelta(t, 4.6525e-4, NormalP(3.5), 1e-7)
	require.InDelta(t, 3.290527, NormalCrit(0.001), 1e-5)
	require.InDelta(t, 1, NormalP(math.NaN()), 0)
	// Σ(1 − h/7)·0.4^h for h = 1…6, doubled, plus 1 (m = 7).
	require.InDelta(t, 2.0155, ar1MeanFactor(0.4, 7), 1e-3)
	require.InDelta(t, ar1Inflation(0.4), ar1MeanFactor(0.4, 5000), 1e-3)
}
