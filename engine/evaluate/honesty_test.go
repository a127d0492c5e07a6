package evaluate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// TestGradeAndExplanationAgree is the property behind "one decision path":
// over random experiments (designs, autocorrelations, gaps, adherence,
// drifts, interim and retrospective evaluations), the grade, its
// explanation, the claim and the direction support never disagree.
func TestGradeAndExplanationAgree(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(41, 42))
	runs := 1500
	if testing.Short() || raceEnabled {
		runs = 200
	}
	for i := range runs {
		s := sim{
			phi: rng.Float64() * 0.9, sigma: 1 + rng.Float64()*40, effect: rng.NormFloat64() * 30,
			drift: rng.NormFloat64() * rng.Float64() * 2, missing: rng.Float64() * 0.6,
		}
		if rng.IntN(3) == 0 {
			s.cycles, s.blockDays = 3+rng.IntN(3), 4+rng.IntN(8)
		}
		in := s.input(rng)
		for d := range in.Adherence {
			if rng.Float64() < 0.15 {
				in.Adherence[d] = false
			}
		}
		if rng.IntN(4) == 0 {
			in.Now, in.InProgress = series.AddDays(in.Start, 3+rng.IntN(in.PlannedDays-3)), true
		}
		in.Retrospective = s.cycles == 0 && rng.IntN(5) == 0
		ev, err := Evaluate(in)
		require.NoError(t, err, "run %d", i)
		requireFinite(t, ev)
		a := ev.Assessment
		require.Equal(t, ev.Grade, a.Grade, "run %d", i)
		require.True(t, strings.HasPrefix(a.Why, "Grade "+string(ev.Grade)+"."), "run %d: %s", i, a.Why)
		require.Contains(t, a.HowConfident, "(grade "+string(ev.Grade)+")", "run %d", i)
		require.Equal(t, ev.CIExcludesZero && ev.Grade != evidence.GradeD, ev.DirectionSupported, "run %d", i)
		switch ev.Claim {
		case ClaimDirection:
			require.True(t, ev.DirectionSupported)
			require.True(t, ev.Effect.Low > 0 || ev.Effect.High < 0, "run %d: a direction needs an interval excluding zero", i)
		case ClaimNoClearChange:
			require.False(t, ev.DirectionSupported)
			require.NotEqual(t, evidence.GradeA, ev.Grade, "run %d: A needs an interval excluding zero", i)
		case ClaimCantTell:
			require.Equal(t, evidence.GradeD, ev.Grade)
		default:
			t.Fatalf("run %d: unknown claim %q", i, ev.Claim)
		}
		if in.Retrospective {
			require.False(t, ev.Grade.AtLeast(evidence.GradeB), "run %d: a retrospective analysis is capped at C", i)
		}
		if ev.Trend.Fired {
			require.Equal(t, evidence.GradeD, ev.Grade, "run %d", i)
		}
		require.GreaterOrEqual(t, ev.Confidence, 0.0)
		require.LessOrEqual(t, ev.Confidence, 1.0)
	}
}

// TestReplicationProbability checks the confidence formula at known points:
// 0.5 when the interval just excludes zero (p = 0.05), Φ(1) at z = 1.96 + √2,
// 0.8 at p ≈ 0.0016.
func TestReplicationProbability(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 0.5, ReplicationProbability(0.05), 1e-9)
	z := 1.959963984540054 + math.Sqrt2
	require.InDelta(t, normalCDF(1), ReplicationProbability(2*(1-normalCDF(z))), 1e-9)
	require.InDelta(t, 0.8, ReplicationProbability(0.001625), 2e-3)
	require.Zero(t, ReplicationProbability(1))
	require.InDelta(t, 1, ReplicationProbability(0), 0)
}

// TestInProgressDayIsNeitherMissingNorNonAdherent: today without a value or
// a log does not lower coverage or adherence; with a value it counts.
func TestInProgressDayIsNeitherMissingNorNonAdherent(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2)
	today := series.AddDays(t0, 11)
	in.Now, in.InProgress = today, true
	var kept series.Series
	for _, p := range in.Series {
		if p.Day != today {
			kept = append(kept, p)
		}
	}
	in.Series = kept
	delete(in.Adherence, today)
	ev, err := Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, 9, ev.Intervention.Elapsed, "days 3–11 are over; day 12 is in progress")
	require.InDelta(t, 1, ev.Coverage, 1e-12)
	require.InDelta(t, 1, ev.Adherence, 1e-12)
	require.Equal(t, series.AddDays(today, -1), ev.End)

	in.InProgress = false // the same day treated as over: missing and not logged
	ev, err = Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, 10, ev.Intervention.Elapsed)
	require.InDelta(t, 0.9, ev.Coverage, 1e-12)
	require.InDelta(t, 0.9, ev.Adherence, 1e-12)
	require.NotContains(t, ev.Caveats, CaveatInterim, "an early end is not an interim look")
}

// TestLogScaleEffectInPercent: a planted +0.2 ln effect is reported as
// ≈ +22% and in the unit at the baseline level.
func TestLogScaleEffectInPercent(t *testing.T) {
	t.Parallel()
	in := build(noisy(3, 28, 0, 0.05), noisy(4, 32, 0.2, 0.05), 2)
	for i := range in.Series {
		in.Series[i].Value = 50 * math.Exp(in.Series[i].Value)
	}
	in.LogScale = true
	ev, err := Evaluate(in)
	require.NoError(t, err)
	e := ev.Effect
	require.True(t, e.LogScale)
	require.InDelta(t, 100*math.Expm1(e.Estimate), e.Percent, 1e-9)
	require.InDelta(t, 22.1, e.Percent, 4)
	require.Less(t, e.PercentLow, e.Percent)
	require.Greater(t, e.PercentHigh, e.Percent)
	require.InDelta(t, e.BaselineLevel*math.Expm1(e.Estimate), e.InUnit, 1e-9)
	require.InDelta(t, 50, e.BaselineLevel, 2)

	in.Series[0].Value = -1
	_, err = Evaluate(in)
	require.Error(t, err, "a non-positive value cannot be analysed on the log scale")
}

// TestDrawCrossover: the order is reproducible from the seed, balanced in
// pairs of cycles, and differs between seeds.
func TestDrawCrossover(t *testing.T) {
	t.Parallel()
	a, err := DrawCrossover(6, 7, 99)
	require.NoError(t, err)
	b, err := DrawCrossover(6, 7, 99)
	require.NoError(t, err)
	require.Equal(t, a, b)
	for c := 0; c < 6; c += 2 {
		require.NotEqual(t, a.InterventionFirst[c], a.InterventionFirst[c+1], "cycles %d and %d run opposite orders", c+1, c+2)
	}
	distinct := map[string]bool{}
	for seed := range uint64(64) {
		x, err := DrawCrossover(6, 7, seed)
		require.NoError(t, err)
		key := ""
		for _, f := range x.InterventionFirst {
			key += map[bool]string{true: "B", false: "A"}[f]
		}
		distinct[key] = true
	}
	require.Len(t, distinct, 8, "2³ balanced orders, all drawn")
	sched := a.Schedule(t0, 2)
	require.Len(t, sched, 84)
	require.True(t, sched[0].Washout)
	require.False(t, sched[2].Washout)
	_, err = DrawCrossover(2, 7, 1)
	require.Error(t, err, "fewer than 3 cycles")
}
