package detect

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/series"
)

// randomInput draws one messy input: AR(1) noise with random φ, missing
// days, gaps, swings, shifts, drift, invalid values, duplicates, unsorted
// points, a second source with disagreements, a disconnection and an AsOf
// that may fall before, inside or after the data.
func randomInput(tb testing.TB, rng *rand.Rand) Input {
	tb.Helper()
	n := 1 + rng.IntN(400)
	ln := rng.IntN(2) == 0
	level, sigma := 58.0, 0.5+3*rng.Float64()
	if ln {
		level, sigma = math.Log(20+80*rng.Float64()), 0.05+0.2*rng.Float64()
	}
	noise := []float64{0}
	if n >= 2 {
		noise = ar1(tb, rng, n, 0.8*rng.Float64(), sigma)
	}
	effect := make([]float64, n)
	if rng.Float64() < 0.3 { // swing of 1–6 days
		d, l, m := rng.IntN(n), 1+rng.IntN(6), (4+3*rng.Float64())*sigma*float64(1-2*rng.IntN(2))
		for k := d; k < min(n, d+l); k++ {
			effect[k] += m
		}
	}
	if rng.Float64() < 0.3 { // sustained shift
		d, m := rng.IntN(n), (1+3*rng.Float64())*sigma*float64(1-2*rng.IntN(2))
		for k := d; k < n; k++ {
			effect[k] += m
		}
	}
	if rng.Float64() < 0.2 { // drift
		slope := (rng.Float64() - 0.5) * sigma / 10
		for k := range effect {
			effect[k] += slope * float64(k)
		}
	}
	pMissing := 0.6 * rng.Float64() * rng.Float64()
	gapFrom, gapLen := -1, 0
	if rng.Float64() < 0.3 {
		gapFrom, gapLen = rng.IntN(n), 1+rng.IntN(30)
	}
	var s series.Series
	for k := range n {
		if rng.Float64() < pMissing || (k >= gapFrom && k < gapFrom+gapLen) {
			continue
		}
		y := level + noise[k] + effect[k]
		v := y
		if ln {
			v = math.Exp(y)
		}
		switch r := rng.Float64(); {
		case r < 0.01:
			v = 0 // provider zero
		case r < 0.015:
			v = math.NaN()
		case r < 0.02:
			v = math.Inf(1)
		case r < 0.025:
			v = -v
		}
		s = append(s, series.Point{Day: dayN(k + 1), Value: v})
		if rng.Float64() < 0.02 { // duplicate day: the later point wins
			s = append(s, series.Point{Day: dayN(k + 1), Value: v * 1.01})
		}
	}
	in := Input{
		Metric:         []string{"hrv_rmssd", "resting_hr", "sleep_minutes", "steps"}[rng.IntN(4)],
		HigherIsBetter: rng.IntN(2) == 0,
		LnTransform:    ln,
		Series:         s,
		AsOf:           dayN(n + rng.IntN(11) - 5),
	}
	if rng.Float64() < 0.3 {
		other := make(series.Series, len(s))
		for i, p := range s {
			f := 1 + 0.02*rng.NormFloat64()
			if rng.Float64() < 0.05 {
				f = 1.3
			}
			other[i] = series.Point{Day: p.Day, Value: p.Value * f}
		}
		in.BySource = map[string]series.Series{"whoop": s, "oura": other}
	}
	if rng.Float64() < 0.2 {
		d := dayN(1 + rng.IntN(n+3))
		in.DisconnectedSince = &d
	}
	if rng.Float64() < 0.3 {
		shuffled := append(series.Series{}, in.Series...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		in.Series = shuffled
	}
	return in
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func TestRunProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 1))
	for run := range 200 {
		in := randomInput(t, rng)
		var res Result
		require.NotPanics(t, func() { res = Run(in, DefaultOptions()) }, "run %d", run)
		require.Equal(t, res, Run(in, DefaultOptions()), "run %d: deterministic", run)

		require.Contains(t, StateOK.Values(), string(res.State), "run %d", run)
		require.NotEmpty(t, res.StateReason, "run %d", run)
		require.GreaterOrEqual(t, res.RecentCoverage, 0.0)
		require.LessOrEqual(t, res.RecentCoverage, 1.0)
		if res.Baseline.Usable() {
			require.True(t, finite(res.Baseline.Median) && finite(res.Baseline.Analysis.Scale), "run %d", run)
			require.Positive(t, res.Baseline.Analysis.Scale)
		}
		keys := map[string]bool{}
		for i, f := range res.Findings {
			require.GreaterOrEqual(t, f.Confidence, 0.0, "run %d %s", run, f.Key)
			require.LessOrEqual(t, f.Confidence, 1.0, "run %d %s", run, f.Key)
			require.GreaterOrEqual(t, f.Coverage, 0.0, "run %d %s", run, f.Key)
			require.LessOrEqual(t, f.Coverage, 1.0, "run %d %s", run, f.Key)
			for _, v := range []float64{f.Value, f.Baseline, f.Delta, f.Z, f.SlopePerDay} {
				require.True(t, finite(v), "run %d %s: finite fields", run, f.Key)
			}
			require.False(t, f.EndDay.Before(f.Day), "run %d %s", run, f.Key)
			require.False(t, f.WindowTo.Before(f.WindowFrom), "run %d %s", run, f.Key)
			require.False(t, f.EndDay.After(res.AsOf), "run %d %s", run, f.Key)
			require.Equal(t, in.Metric, f.Metric)
			require.True(t, strings.HasPrefix(f.Key, strings.ToLower(string(f.Kind))+":"+in.Metric+":"), f.Key)
			require.False(t, keys[f.Key], "run %d: duplicate key %s", run, f.Key)
			keys[f.Key] = true
			require.NotEmpty(t, f.Detector)
			require.NotEmpty(t, f.Thresholds)
			if i > 0 {
				p := res.Findings[i-1]
				require.True(t, p.Day.Before(f.Day) || (p.Day.Equal(f.Day) && p.Kind <= f.Kind), "run %d: sorted", run)
			}
			switch res.State {
			case StateCalibrating, StateInsufficientData, StatePausedDataQuality:
				require.Equal(t, KindDataGap, f.Kind, "run %d: no new insights in %s", run, res.State)
			}
			for _, c := range res.Conflicts {
				if f.Kind == KindAnomaly {
					require.False(t, c.Day.Equal(f.Day), "run %d: anomaly on a conflicting day", run)
				}
			}
		}
	}
}

// sweep runs gen for seeds 1…n.
func sweep(n int, gen func(seed uint64) Result) []Result {
	out := make([]Result, n)
	for i := range out {
		out[i] = gen(uint64(i + 1))
	}
	return out
}

// rate is the fraction of results for which hit holds.
func rate(rs []Result, hit func(Result) bool) float64 {
	k := 0
	for _, r := range rs {
		if hit(r) {
			k++
		}
	}
	return float64(k) / float64(len(rs))
}

// perSeries is the mean number of findings of kind k per result.
func perSeries(rs []Result, k Kind) float64 {
	total := 0
	for _, r := range rs {
		total += count(r, k)
	}
	return float64(total) / float64(len(rs))
}

func TestSeededSweeps(t *testing.T) {
	if testing.Short() {
		t.Skip("seeded sweeps are slow")
	}
	t.Parallel()
	hasChange := func(r Result) bool { return count(r, KindChange) > 0 }
	hasEither := func(r Result) bool { return hasChange(r) || count(r, KindTrend) > 0 }

	t.Run("null false-positive rate", func(t *testing.T) {
		t.Parallel()
		hrv60 := sweep(300, func(seed uint64) Result {
			return Run(Input{Metric: "hrv", LnTransform: true, Series: toSeries(t, hrvDays(t, seed, 60, none)), AsOf: dayN(60)}, DefaultOptions())
		})
		rhr365 := sweep(100, func(seed uint64) Result {
			return Run(Input{Metric: "rhr", Series: toSeries(t, rhrDays(t, seed, 365, none)), AsOf: dayN(365)}, DefaultOptions())
		})
		c60, e60, a60 := rate(hrv60, hasChange), rate(hrv60, hasEither), perSeries(hrv60, KindAnomaly)
		c365, e365, a365 := rate(rhr365, hasChange), rate(rhr365, hasEither), perSeries(rhr365, KindAnomaly)
		t.Logf("null 60-day ln-HRV (φ=0.4), 300 seeds: CHANGE %.3f, CHANGE or TREND %.3f, anomalies/series %.2f", c60, e60, a60)
		t.Logf("null 365-day RHR (φ=0.4), 100 seeds: CHANGE %.3f, CHANGE or TREND %.3f, anomalies/series %.2f", c365, e365, a365)
		require.LessOrEqual(t, c60, 0.02)
		require.LessOrEqual(t, e60, 0.06) // docs/domain.md §6: null false-positive rate ≤ 0.06
		require.LessOrEqual(t, c365, 0.02)
		require.LessOrEqual(t, e365, 0.06)
		require.LessOrEqual(t, a365, 2.0, "about one noise anomaly a year at |z| > 3.5")
	})

	t.Run("G4a swing with noise on the swing days", func(t *testing.T) {
		t.Parallel()
		swing := func(d int) float64 {
			switch {
			case d >= 44 && d <= 46:
				return -0.51
			case d == 47:
				return -0.25
			}
			return 0
		}
		rs := sweep(300, func(seed uint64) Result {
			return Run(Input{Metric: "hrv", LnTransform: true, Series: toSeries(t, hrvDays(t, seed, 60, swing)), AsOf: dayN(60)}, DefaultOptions())
		})
		hits := 0
		exact := rate(rs, func(r Result) bool {
			ds := daysOf(r, KindAnomaly)
			for _, d := range ds {
				if d >= 44 && d <= 46 {
					hits++
				}
			}
			return len(ds) == 3 && ds[0] == 44 && ds[2] == 46
		})
		hitRate := float64(hits) / float64(3*len(rs))
		c, e := rate(rs, hasChange), rate(rs, hasEither)
		t.Logf("G4a additive swing, 300 seeds: swing-day hit rate %.3f, exactly {44,45,46} %.3f, CHANGE %.3f, CHANGE or TREND %.3f", hitRate, exact, c, e)
		require.GreaterOrEqual(t, hitRate, 0.85)
		require.LessOrEqual(t, c, 0.02, "a swing is not a change beyond the null rate")
		require.LessOrEqual(t, e, 0.06)
	})

	t.Run("sustained +3σ shift", func(t *testing.T) {
		t.Parallel()
		rs := sweep(200, func(seed uint64) Result {
			v := hrvDays(t, seed, 60, func(d int) float64 {
				if d >= 31 {
					return 0.3
				}
				return 0
			})
			return Run(Input{Metric: "hrv", LnTransform: true, Series: toSeries(t, v), AsOf: dayN(60)}, DefaultOptions())
		})
		near := func(tol int) func(Result) bool {
			return func(r Result) bool {
				for _, d := range daysOf(r, KindChange) {
					if d >= 31-tol && d <= 31+tol {
						return true
					}
				}
				return false
			}
		}
		found, n2, n4 := rate(rs, hasChange), rate(rs, near(2)), rate(rs, near(4))
		t.Logf("+3σ shift at day 31, 200 seeds: CHANGE %.3f, within ±2 days %.3f, within ±4 days %.3f", found, n2, n4)
		require.GreaterOrEqual(t, found, 0.95)
		require.GreaterOrEqual(t, n4, 0.9)
	})
}
