package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// g4aHRV is G4a for HRV: 60 days of ln-RMSSD noise (seed 1) with a −40%
// swing (ln −0.51 ≈ −5σ) on days 44–46, half recovered on day 47 and back by
// day 48. The swing days replace the noise (−40% of the personal level).
func g4aHRV(tb testing.TB) []float64 {
	tb.Helper()
	v := hrvDays(tb, 1, 60, none)
	for d := 44; d <= 46; d++ {
		v[d-1] = 55 * math.Exp(-0.51)
	}
	v[46] = 55 * math.Exp(-0.25)
	return v
}

// g4aRHR is G4a for resting HR: +8 bpm (5σ) on days 44–46, +4 on day 47.
// Seed 2: the seed-1 realisation has a natural +3σ day (28) that the 3.5
// rule rightly flags, which is not what this fixture is about; the rate of
// such noise anomalies is measured in TestSeededSweeps.
func g4aRHR(tb testing.TB) []float64 {
	tb.Helper()
	v := rhrDays(tb, 2, 60, none)
	for d := 44; d <= 46; d++ {
		v[d-1] = 58 + 8
	}
	v[46] = 58 + 4
	return v
}

func TestScenarioSwingIsAnomalyNotChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     Input
		dir    Direction
		metric string
	}{
		{
			name:   "G4a HRV -40%",
			in:     Input{Metric: "hrv_rmssd", HigherIsBetter: true, LnTransform: true, Series: toSeries(t, g4aHRV(t)), AsOf: dayN(60)},
			dir:    DirectionDown,
			metric: "hrv_rmssd",
		},
		{
			name:   "G4a RHR +8 bpm",
			in:     Input{Metric: "resting_hr", Series: toSeries(t, g4aRHR(t)), AsOf: dayN(60)},
			dir:    DirectionUp,
			metric: "resting_hr",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(tc.in, DefaultOptions())
			require.Equal(t, StateOK, res.State, res.StateReason)
			require.Equal(t, []int{44, 45, 46}, daysOf(res, KindAnomaly))
			require.Zero(t, count(res, KindChange), "a swing is never a CHANGE")
			require.Zero(t, count(res, KindTrend))
			require.Zero(t, count(res, KindDataGap))
			require.Len(t, res.Swings, 1)
			require.Equal(t, dayN(44), res.Swings[0].From)

			for _, f := range res.Findings {
				require.Equal(t, tc.dir, f.Direction)
				require.Equal(t, ValenceUnfavorable, f.Valence)
				require.Equal(t, DetectorRobustZ, f.Detector)
				// 43 valid days before day 44: ν = 0.95·43·0.84/1.16 = 29.58,
				// t ≈ 3.5 + 46.375/(4ν) + 3322.6/(96ν²) = 3.9315.
				require.InDelta(t, 3.9315, f.Thresholds[ThresholdRobustZ], 1e-3)
				require.Greater(t, math.Abs(f.Z), f.Thresholds[ThresholdRobustZ])
				require.Greater(t, f.Confidence, 0.5)
				require.LessOrEqual(t, f.Confidence, 1.0)
				require.Equal(t, f.Day, f.EndDay)
				require.Equal(t, series.AddDays(f.Day, -1), f.WindowTo, "scored against the days before")
				require.InDelta(t, f.Value-f.Baseline, f.Delta, 1e-9)
			}
			first := res.Findings[0]
			require.Equal(t, "anomaly:"+tc.metric+":2026-04-14", first.Key)
			require.Equal(t, 43, first.SampleSize, "days 1–43 precede day 44")
			require.InDelta(t, 43.0/60, first.Coverage, 1e-12)
		})
	}
}

func TestScenarioDisconnectionIsOneGapAndFrozenBaseline(t *testing.T) {
	t.Parallel()
	v := rhrDays(t, 2, 60, none)
	for k := 40; k < 60; k++ {
		v[k] = math.NaN() // days 41–60: no data
	}
	s := toSeries(t, v)
	since := dayN(41)
	res := Run(Input{Metric: "resting_hr", Series: s, AsOf: dayN(60), DisconnectedSince: &since}, DefaultOptions())

	require.Equal(t, StateFrozen, res.State)
	require.Contains(t, res.StateReason, "disconnected")
	require.Equal(t, baseline.StateFrozen, res.Baseline.State)
	require.Equal(t, baseline.StateReady, res.Baseline.FrozenState)
	require.Equal(t, &since, res.Baseline.FrozenSince)
	require.Equal(t, baseline.Compute(s, dayN(40), nil, baseline.DefaultOptions()).Analysis, res.Baseline.Analysis,
		"frozen at the value of the last day before the disconnection")

	require.Equal(t, []int{41}, daysOf(res, KindDataGap), "exactly one gap, not 20 anomalies")
	gap := res.Findings[len(res.Findings)-1]
	require.Equal(t, KindDataGap, gap.Kind)
	require.Equal(t, dayN(60), gap.EndDay)
	require.Equal(t, "data_gap:resting_hr:2026-04-11", gap.Key)
	require.Equal(t, DirectionNone, gap.Direction)
	require.Equal(t, ValenceNeutral, gap.Valence)
	require.InDelta(t, res.Baseline.Median, gap.Baseline, 1e-12)
	require.InDelta(t, 1.0, gap.Confidence, 0)
	for _, f := range res.Findings {
		if f.Kind == KindAnomaly {
			require.True(t, f.Day.Before(since), "no anomaly during the disconnection")
		}
	}

	t.Run("the gap keeps its key while it grows", func(t *testing.T) {
		t.Parallel()
		early := Run(Input{Metric: "resting_hr", Series: s, AsOf: dayN(45), DisconnectedSince: &since}, DefaultOptions())
		require.Equal(t, []int{41}, daysOf(early, KindDataGap))
		require.Equal(t, gap.Key, early.Findings[len(early.Findings)-1].Key)
		require.Equal(t, dayN(45), early.Findings[len(early.Findings)-1].EndDay)
	})
}

// g3HRV is G3: ln RMSSD (seed 3), +0.077 from day 29, provider zeros on days
// 36–55 (token revoked), backfill for days 56–60 (plus extra on those days).
func g3HRV(tb testing.TB, extra float64) []float64 {
	tb.Helper()
	v := hrvDays(tb, 3, 60, func(d int) float64 {
		if d >= 29 {
			return 0.077
		}
		return 0
	})
	for d := 36; d <= 55; d++ {
		v[d-1] = 0 // zeros are not valid ln values: stored as missing
	}
	for d := 56; d <= 60; d++ {
		v[d-1] *= math.Exp(extra)
	}
	return v
}

func TestScenarioG3GapThenBackfill(t *testing.T) {
	t.Parallel()
	in := Input{Metric: "hrv_rmssd", HigherIsBetter: true, LnTransform: true, Series: toSeries(t, g3HRV(t, 0)), AsOf: dayN(60)}
	res := Run(in, DefaultOptions())

	require.Equal(t, []int{36}, daysOf(res, KindDataGap), "one data gap for days 36–55")
	for _, f := range res.Findings {
		if f.Kind == KindDataGap {
			require.Equal(t, dayN(55), f.EndDay)
		}
	}
	require.Empty(t, daysOf(res, KindAnomaly), "the backfilled days are not flagged en masse")
	require.Zero(t, count(res, KindChange))
	// 8 valid days in the last 28 (33–35, 56–60): the live baseline is
	// insufficient, so the pre-gap baseline stays frozen.
	require.Equal(t, StateFrozen, res.State, res.StateReason)
	require.Equal(t, baseline.StateFrozen, res.Baseline.State)
	require.Equal(t, dayN(36), *res.Baseline.FrozenSince)
	require.Equal(t, dayN(35), res.Baseline.WindowTo)
	require.Contains(t, res.StateReason, "data gap")

	t.Run("post-gap days are scored against the frozen baseline", func(t *testing.T) {
		t.Parallel()
		in := in
		in.Series = toSeries(t, g3HRV(t, -0.6))
		res := Run(in, DefaultOptions())
		require.Equal(t, []int{56, 57, 58, 59, 60}, daysOf(res, KindAnomaly))
		for _, f := range res.Findings {
			if f.Kind == KindAnomaly {
				require.True(t, f.FrozenBaseline)
				require.Equal(t, dayN(35), f.WindowTo)
			}
		}
	})

	t.Run("while disconnected", func(t *testing.T) {
		t.Parallel()
		since := dayN(36)
		in := in
		in.AsOf = dayN(55)
		in.DisconnectedSince = &since
		res := Run(in, DefaultOptions())
		require.Equal(t, StateFrozen, res.State)
		require.Equal(t, []int{36}, daysOf(res, KindDataGap))
		require.Empty(t, daysOf(res, KindAnomaly))
	})
}

func TestScenarioBaselineStates(t *testing.T) {
	t.Parallel()
	full := rhrDays(t, 4, 28, none)
	lastN := func(n int) series.Series {
		v := append([]float64(nil), full...)
		for k := 0; k < 28-n; k++ {
			v[k] = math.NaN()
		}
		return toSeries(t, v)
	}
	tests := []struct {
		name     string
		s        series.Series
		want     State
		baseline baseline.State
	}{
		{name: "no data", s: nil, want: StateCalibrating, baseline: baseline.StateCalibrating},
		{name: "3 days calibrating", s: lastN(3), want: StateCalibrating, baseline: baseline.StateCalibrating},
		{name: "13 of last 28 insufficient", s: lastN(13), want: StateInsufficientData, baseline: baseline.StateInsufficient},
		{name: "14 of last 28 ready", s: lastN(14), want: StateOK, baseline: baseline.StateReady},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(Input{Metric: "resting_hr", Series: tc.s, AsOf: dayN(28)}, DefaultOptions())
			require.Equal(t, tc.want, res.State, res.StateReason)
			require.Equal(t, tc.baseline, res.Baseline.State)
			require.NotEmpty(t, res.StateReason)
			if tc.want != StateOK {
				require.Empty(t, res.Findings)
				require.Zero(t, res.Baseline.Median, "no baseline is shown")
			} else {
				require.Positive(t, res.Baseline.Median)
			}
		})
	}

	t.Run("insufficient data yields no insight even for an outlier", func(t *testing.T) {
		t.Parallel()
		s := lastN(13)
		s[len(s)-1].Value = 120
		res := Run(Input{Metric: "resting_hr", Series: s, AsOf: dayN(28)}, DefaultOptions())
		require.Equal(t, StateInsufficientData, res.State)
		require.Empty(t, res.Findings)
	})
}

// conflictInput is 60 days of RHR from whoop (primary) and oura, where oura
// reads whoop+offset(day).
func conflictInput(tb testing.TB, offset func(day int) float64, primaryExtra map[int]float64) Input {
	tb.Helper()
	whoop := rhrDays(tb, 5, 60, none)
	for d, v := range primaryExtra {
		whoop[d-1] += v
	}
	rng := rand.New(rand.NewPCG(5, 5))
	oura := make([]float64, 60)
	for k := range oura {
		oura[k] = whoop[k] + 0.3*rng.NormFloat64() + offset(k+1)
	}
	return Input{
		Metric:   "resting_hr",
		Series:   toSeries(tb, whoop),
		BySource: map[string]series.Series{"whoop": toSeries(tb, whoop), "oura": toSeries(tb, oura)},
		AsOf:     dayN(60),
	}
}

func TestScenarioConflictingSources(t *testing.T) {
	t.Parallel()
	t.Run("recent disagreement", func(t *testing.T) {
		t.Parallel()
		// Oura reads 9 bpm (≈15%) higher on days 55–57; whoop has a planted
		// +10 bpm outlier on day 56 that must not become an insight.
		in := conflictInput(t, func(d int) float64 {
			if d >= 55 && d <= 57 {
				return 9
			}
			return 0
		}, map[int]float64{56: 10})
		res := Run(in, DefaultOptions())
		require.Equal(t, StateConflictingSources, res.State)
		require.Contains(t, res.StateReason, "oura, whoop")
		require.Len(t, res.Conflicts, 3)
		for k, c := range res.Conflicts {
			require.Equal(t, dayN(55+k), c.Day)
			require.Len(t, c.Values, 2)
			require.Equal(t, "oura", c.Values[0].Source)
			require.Equal(t, "whoop", c.Values[1].Source)
			require.Greater(t, c.RelDiff, 0.10)
			require.Greater(t, c.AbsDiff, 2*c.Scale)
			require.Positive(t, c.Scale)
		}
		for _, f := range res.Findings {
			require.True(t, f.Day.Before(dayN(55)) || f.Day.After(dayN(57)), "no insight on conflicting days: %s", f.Key)
		}
	})

	t.Run("agreement within tolerance", func(t *testing.T) {
		t.Parallel()
		// 4% apart: below the 10% relative tolerance.
		in := conflictInput(t, func(int) float64 { return 2.3 }, nil)
		res := Run(in, DefaultOptions())
		require.Equal(t, StateOK, res.State)
		require.Empty(t, res.Conflicts)
	})

	t.Run("relative difference alone is not a conflict", func(t *testing.T) {
		t.Parallel()
		// Steps: 15% apart, but within 2 robust SDs of a noisy metric.
		rng := rand.New(rand.NewPCG(6, 6))
		a, b := make([]float64, 60), make([]float64, 60)
		for k := range a {
			a[k] = 8000 + 2500*rng.NormFloat64()
			b[k] = a[k] * 1.15
		}
		res := Run(Input{
			Metric: "steps", Series: toSeries(t, a), AsOf: dayN(60),
			BySource: map[string]series.Series{"fitbit": toSeries(t, a), "apple": toSeries(t, b)},
		}, DefaultOptions())
		require.Empty(t, res.Conflicts)
		require.Equal(t, StateOK, res.State)
	})

	t.Run("old conflict is listed but the state is OK", func(t *testing.T) {
		t.Parallel()
		in := conflictInput(t, func(d int) float64 {
			if d == 30 || d == 31 {
				return 10
			}
			return 0
		}, map[int]float64{30: 12})
		res := Run(in, DefaultOptions())
		require.Equal(t, StateOK, res.State)
		require.Len(t, res.Conflicts, 2)
		for _, f := range res.Findings {
			require.NotEqual(t, dayN(30), f.Day)
		}
	})
}

func TestScenarioSustainedShiftIsChange(t *testing.T) {
	t.Parallel()
	// +3σ (ln +0.30) from day 31 to 60, seed 1.
	v := hrvDays(t, 1, 60, func(d int) float64 {
		if d >= 31 {
			return 0.30
		}
		return 0
	})
	res := Run(Input{Metric: "hrv_rmssd", HigherIsBetter: true, LnTransform: true, Series: toSeries(t, v), AsOf: dayN(60)}, DefaultOptions())
	require.Equal(t, StateOK, res.State)
	require.Equal(t, []int{31}, daysOf(res, KindChange))
	require.Zero(t, count(res, KindTrend), "a step is not a trend")
	require.Zero(t, count(res, KindAnomaly), "the shift's days are explained by the change")

	c := res.Findings[0]
	require.Equal(t, KindChange, c.Kind)
	require.Equal(t, "change:hrv_rmssd:2026-04-01:up", c.Key)
	require.Equal(t, DirectionUp, c.Direction)
	require.Equal(t, ValenceFavorable, c.Valence)
	require.Equal(t, DetectorPELT, c.Detector)
	require.Equal(t, dayN(60), c.EndDay)
	require.Equal(t, dayN(1), c.WindowFrom)
	require.InDelta(t, 55*math.Exp(0.3), c.Value, 55*0.1)
	require.InDelta(t, 55, c.Baseline, 55*0.1)
	require.Greater(t, c.Z, 2.0)
	require.Greater(t, c.Confidence, 0.6)
	require.Equal(t, 60, c.SampleSize)
	require.InDelta(t, 1.0, c.Coverage, 1e-12)
	require.InDelta(t, MBICPenalty(59), c.Thresholds[ThresholdMBICPenalty], 1e-12)
	require.InDelta(t, 7.0, c.Thresholds[ThresholdMinSegmentDays], 0)
}

func TestScenarioDriftIsTrend(t *testing.T) {
	t.Parallel()
	// G4b: sleep 400 min, σ = 20, φ = 0.3, +1.5 min/day, noise projected off
	// [1, t] so the OLS slope is exactly the planted 1.5.
	noise := ar1(t, rand.New(rand.NewPCG(1, 3)), 60, 0.3, 20)
	xs := make([]float64, 60)
	for k := range xs {
		xs[k] = float64(k)
	}
	b, a := OLS(xs, noise)
	v := make([]float64, 60)
	for k := range v {
		v[k] = 400 + 1.5*float64(k) + noise[k] - (a + b*float64(k))
	}
	res := Run(Input{Metric: "sleep_minutes", HigherIsBetter: true, Series: toSeries(t, v), AsOf: dayN(60)}, DefaultOptions())
	require.Equal(t, []int{1}, daysOf(res, KindTrend))
	require.Zero(t, count(res, KindChange), "a linear drift is a TREND, not a staircase of changes")
	var tr Finding
	for _, f := range res.Findings {
		if f.Kind == KindTrend {
			tr = f
		}
	}
	require.InDelta(t, 1.5, tr.SlopePerDay, 0.01)
	require.Equal(t, DetectorOLS, tr.Detector)
	require.Equal(t, DirectionUp, tr.Direction)
	require.InDelta(t, 1.5*59, tr.Delta, 0.5)
	require.Equal(t, "trend:sleep_minutes:2026-03-02:up", tr.Key)
	require.Equal(t, 60, tr.SampleSize)
}

func TestScenarioDataQualityPause(t *testing.T) {
	t.Parallel()
	base := rhrDays(t, 7, 60, none)
	base[56] += 12 // day 57: a clear outlier
	withValid := func(validLast7 ...int) series.Series {
		v := append([]float64(nil), base...)
		for d := 54; d <= 60; d++ {
			v[d-1] = math.NaN()
		}
		for _, d := range validLast7 {
			v[d-1] = base[d-1]
		}
		return toSeries(t, v)
	}
	tests := []struct {
		name     string
		valid    []int
		want     State
		wantGaps []int
	}{
		{name: "3 of 7 pauses", valid: []int{54, 57, 60}, want: StatePausedDataQuality},
		{name: "4 of 7 does not", valid: []int{54, 56, 57, 60}, want: StateOK},
		{name: "pause still reports the gap", valid: []int{54, 55, 56}, want: StatePausedDataQuality, wantGaps: []int{57}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(Input{Metric: "resting_hr", Series: withValid(tc.valid...), AsOf: dayN(60)}, DefaultOptions())
			require.Equal(t, tc.want, res.State, res.StateReason)
			require.InDelta(t, float64(len(tc.valid))/7, res.RecentCoverage, 1e-12)
			require.Equal(t, tc.wantGaps, daysOf(res, KindDataGap))
			if tc.want == StatePausedDataQuality {
				require.Contains(t, res.StateReason, "paused")
				require.Len(t, res.Findings, len(tc.wantGaps), "no new insights while paused")
			} else {
				require.Contains(t, daysOf(res, KindAnomaly), 57)
			}
		})
	}
}

func TestRunDeterministicAndKeyed(t *testing.T) {
	t.Parallel()
	in := Input{Metric: "resting_hr", Series: toSeries(t, g4aRHR(t)), AsOf: dayN(60)}
	first := Run(in, DefaultOptions())
	shuffled := append(series.Series{}, in.Series...)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	in2 := in
	in2.Series = shuffled
	require.Equal(t, first, Run(in2, DefaultOptions()), "input order does not matter")
	require.Equal(t, first, Run(in, Options{}), "zero options are the defaults")

	t.Run("earlier anomaly decisions do not change with more data", func(t *testing.T) {
		t.Parallel()
		later := in
		later.Series = append(append(series.Series{}, in.Series...), series.Point{Day: dayN(61), Value: 58})
		later.AsOf = dayN(61)
		keys := func(r Result) []string {
			var out []string
			for _, f := range r.Findings {
				if f.Kind == KindAnomaly {
					out = append(out, f.Key)
				}
			}
			return out
		}
		require.Equal(t, keys(first), keys(Run(later, DefaultOptions())))
	})
}

func TestScenarioSwingOnTopOfShiftIsStillAnomaly(t *testing.T) {
	t.Parallel()
	// RHR +5 bpm (≈3σ) from day 31; on day 52 a further +14 bpm spike. (The
	// 60-day window then spans both levels, so its MAD is inflated — ≈3.9 bpm
	// instead of 1.6 — and a +10 spike would stay just under |z| = 3.5: a
	// known loss of sensitivity for up to ~30 days after a shift.)
	v := rhrDays(t, 2, 60, func(d int) float64 {
		if d >= 31 {
			return 5
		}
		return 0
	})
	v[51] = 58 + 5 + 14
	res := Run(Input{Metric: "resting_hr", Series: toSeries(t, v), AsOf: dayN(60)}, DefaultOptions())
	changes := daysOf(res, KindChange)
	require.Len(t, changes, 1)
	require.InDelta(t, 31, changes[0], 2)
	require.Contains(t, daysOf(res, KindAnomaly), 52, "a spike on top of the new level is not explained by the change")
}
