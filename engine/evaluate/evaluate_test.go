package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

var t0 = series.DayOf(2026, 3, 30)

// build returns an Input whose baseline holds base (ending the day before
// t0) and whose intervention window (lag included) holds after, starting on
// t0; NaN marks a missing day. Every intervention day is logged adherent.
func build(base, after []float64, lag int) Input {
	in := Input{
		Start:        t0,
		PlannedDays:  len(after),
		LagDays:      lag,
		BaselineDays: len(base),
		Adherence:    map[series.Day]bool{},
	}
	for i, v := range base {
		if !math.IsNaN(v) {
			in.Series = append(in.Series, series.Point{Day: series.AddDays(t0, i-len(base)), Value: v})
		}
	}
	for i, v := range after {
		d := series.AddDays(t0, i)
		in.Adherence[d] = true
		if !math.IsNaN(v) {
			in.Series = append(in.Series, series.Point{Day: d, Value: v})
		}
	}
	return in
}

func noisy(seed uint64, n int, level, sd float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([]float64, n)
	for i := range out {
		out[i] = level + sd*rng.NormFloat64()
	}
	return out
}

func TestEvaluateInvalid(t *testing.T) {
	t.Parallel()
	valid := func() Input { return build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2) }
	tests := []struct {
		name   string
		modify func(*Input)
	}{
		{name: "zero start", modify: func(in *Input) { in.Start = time.Time{} }},
		{name: "planned equals lag", modify: func(in *Input) { in.PlannedDays = 2 }},
		{name: "planned zero", modify: func(in *Input) { in.PlannedDays = 0 }},
		{name: "planned below default lag", modify: func(in *Input) { in.PlannedDays, in.LagDays = 1, 0 }},
		{name: "negative lag", modify: func(in *Input) { in.LagDays = -2 }},
		{name: "planned too long", modify: func(in *Input) { in.PlannedDays = MaxWindowDays + 1 }},
		{name: "planned near MaxInt", modify: func(in *Input) { in.PlannedDays = math.MaxInt }},
		{name: "baseline too long", modify: func(in *Input) { in.BaselineDays = MaxWindowDays + 1 }},
		{name: "baseline of one day", modify: func(in *Input) { in.BaselineDays = 1 }},
		{name: "negative baseline", modify: func(in *Input) { in.BaselineDays = -28 }},
		{name: "direction 2", modify: func(in *Input) { in.ExpectedDirection = 2 }},
		{name: "now before start", modify: func(in *Input) { in.Now = series.AddDays(t0, -1) }},
		{name: "NaN value", modify: func(in *Input) { in.Series[3].Value = math.NaN() }},
		{name: "infinite value", modify: func(in *Input) { in.Series[40].Value = math.Inf(-1) }},
		{name: "huge value", modify: func(in *Input) { in.Series[40].Value = 1e300 }},
		{name: "duplicate day", modify: func(in *Input) { in.Series = append(in.Series, in.Series[5]) }},
		{name: "no baseline data", modify: func(in *Input) { in.Series = in.Series[28:] }},
		{name: "baseline data only outside the window", modify: func(in *Input) { in.BaselineDays = 2; in.Series = in.Series[:20] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			tc.modify(&in)
			_, err := Evaluate(in)
			require.Error(t, err)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err), "%v", err)
			var e *engine.Error
			require.ErrorAs(t, err, &e)
			require.NotEmpty(t, e.Message)
		})
	}
}

func TestEvaluateDefaults(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2)
	in.LagDays, in.BaselineDays = 0, 0
	ev, err := Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, series.AddDays(t0, -28), ev.Baseline.From)
	require.Equal(t, series.AddDays(t0, -1), ev.Baseline.To)
	require.Equal(t, t0, ev.Lag.From)
	require.Equal(t, series.AddDays(t0, 1), ev.Lag.To)
	require.Equal(t, series.AddDays(t0, 2), ev.Intervention.From)
	require.Equal(t, series.AddDays(t0, 31), ev.Intervention.To)
	require.Equal(t, 28, ev.PerProtocol.M)
	require.Equal(t, 30, ev.PerProtocol.N)
	require.True(t, ev.Complete, "zero Now means after the planned window")
}

func TestEvaluateNoLag(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 10, 400, 30), noisy(2, 10, 440, 30), NoLag)
	ev, err := Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, 0, ev.Lag.Planned)
	require.Equal(t, t0, ev.Intervention.From)
	require.Equal(t, 10, ev.PerProtocol.N)
}

func TestEvaluateInsufficientData(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name       string
		base, post []float64
	}{
		{name: "one baseline day", base: []float64{nan, nan, 400, nan}, post: []float64{1, 1, 420, 430, 440}},
		{name: "one intervention day", base: []float64{390, 400, 410}, post: []float64{1, 1, nan, 430, nan}},
		{name: "no intervention day", base: []float64{390, 400, 410}, post: []float64{1, 1, nan, nan, nan}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Evaluate(build(tc.base, tc.post, 2))
			require.NoError(t, err)
			requireFinite(t, ev)
			require.False(t, ev.PerProtocol.Defined)
			require.Equal(t, evidence.GradeD, ev.Grade)
			require.False(t, ev.Reliable)
			require.Contains(t, ev.Reasons, ReasonInsufficientData)
			require.Zero(t, ev.Confidence)
			require.Zero(t, ev.MDE)
			require.False(t, ev.Trend.Fired)
		})
	}
}

func TestEvaluateNoVariability(t *testing.T) {
	t.Parallel()
	ev, err := Evaluate(build([]float64{400, 400, 400, 400}, []float64{0, 0, 450, 450, 450}, 2))
	require.NoError(t, err)
	requireFinite(t, ev)
	require.InDelta(t, 50, ev.PerProtocol.Delta, 1e-12)
	require.Zero(t, ev.PerProtocol.HedgesG)
	require.InDelta(t, 1, ev.PerProtocol.P, 0)
	require.InDelta(t, 1, ev.PerProtocol.NAP, 1e-12)
	require.False(t, ev.CIExcludesZero)
	require.Equal(t, evidence.GradeD, ev.Grade)
	require.Contains(t, ev.Reasons, ReasonNoVariability)
}

func TestEvaluateInterim(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2)
	in.Now = series.AddDays(t0, 11) // 10 evaluation days elapsed; later points are ignored
	in.InProgress = true
	ev, err := Evaluate(in)
	require.NoError(t, err)
	require.False(t, ev.Complete)
	require.Contains(t, ev.Caveats, CaveatInterim)
	require.Equal(t, 30, ev.Intervention.Planned)
	require.Equal(t, 10, ev.Intervention.Elapsed)
	require.Equal(t, 10, ev.Intervention.Valid)
	require.InDelta(t, 1, ev.Coverage, 1e-12)
	require.InDelta(t, 1, ev.Adherence, 1e-12)
	require.Equal(t, 10, ev.SampleSize)
	require.NotEqual(t, evidence.GradeA, ev.Grade, "10 days cannot reach grade A")

	in.Now = t0 // during the lag: nothing to compare yet
	ev, err = Evaluate(in)
	require.NoError(t, err)
	requireFinite(t, ev)
	require.Zero(t, ev.Intervention.Elapsed)
	require.Zero(t, ev.Adherence)
	require.Equal(t, []string{ReasonInsufficientData, ReasonInsufficientCoverage}, ev.Reasons)
	require.Equal(t, evidence.GradeD, ev.Grade)
}

func TestEvaluateCoverage(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	post := noisy(2, 32, 440, 30)
	for i := 2; i < 32; i++ {
		if i%4 != 0 { // keep days 4, 8, …, 28: 7 of 30 evaluation days
			post[i] = nan
		}
	}
	ev, err := Evaluate(build(noisy(1, 28, 400, 30), post, 2))
	require.NoError(t, err)
	require.InDelta(t, 7.0/30, ev.Coverage, 1e-12)
	require.False(t, ev.Reliable)
	require.Contains(t, ev.Reasons, ReasonInsufficientCoverage)
	require.Equal(t, evidence.GradeD, ev.Grade)

	base := noisy(1, 28, 400, 30)
	for i := range base {
		if i%4 != 0 { // keep 7 of 28 baseline days
			base[i] = nan
		}
	}
	ev, err = Evaluate(build(base, noisy(2, 32, 440, 30), 2))
	require.NoError(t, err)
	require.InDelta(t, 0.25, ev.Baseline.Coverage, 1e-12)
	require.Contains(t, ev.Reasons, ReasonInsufficientBaselineCoverage)
	require.Equal(t, ev.Assessment.BaseGrade.Lower(), ev.Grade)
}

func TestEvaluateAdherence(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2)
	in.Adherence = nil // nothing logged
	ev, err := Evaluate(in)
	require.NoError(t, err)
	requireFinite(t, ev)
	require.Zero(t, ev.Adherence)
	require.Zero(t, ev.PerProtocol.N)
	require.Equal(t, 30, ev.ITT.N)
	require.True(t, ev.ITT.Defined)
	require.Contains(t, ev.Reasons, "adherence 0.00 below 0.80")
	require.Contains(t, ev.Reasons, ReasonInsufficientData)
	require.Equal(t, evidence.GradeD, ev.Grade)

	// Keys in another location name the same calendar day.
	est := time.FixedZone("EST", -5*3600)
	in.Adherence = map[series.Day]bool{}
	for i := range 32 {
		d := series.AddDays(t0, i)
		in.Adherence[time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, est)] = true
	}
	ev, err = Evaluate(in)
	require.NoError(t, err)
	require.InDelta(t, 1, ev.Adherence, 1e-12)

	// Conflicting entries for one day count as non-adherent.
	d := series.AddDays(t0, 5)
	in.Adherence[d] = false
	ev, err = Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, 29, ev.AdherentDays)
}

func TestEvaluateDirectionAndLogRatio(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 8000, 500), noisy(2, 32, 6000, 500), 2)
	in.LogRatio = true
	in.ExpectedDirection = -1
	ev, err := Evaluate(in)
	require.NoError(t, err)
	pp := ev.PerProtocol
	require.True(t, pp.HasLogRatio)
	require.InDelta(t, math.Log(pp.MeanB/pp.MeanA), pp.LogRatio, 1e-12)
	require.InDelta(t, math.Log(0.75), pp.LogRatio, 0.05)
	require.Greater(t, pp.NAP, 0.95, "NAP counts decreases when a decrease is expected")
	require.InDelta(t, 2*pp.NAP-1, pp.Tau, 1e-12)
	require.NotContains(t, ev.Caveats, CaveatUnexpectedDirection)

	in.ExpectedDirection = 1
	ev, err = Evaluate(in)
	require.NoError(t, err)
	require.Less(t, ev.PerProtocol.NAP, 0.05)
	require.Contains(t, ev.Caveats, CaveatUnexpectedDirection)

	// Non-positive means: no log ratio, and never NaN.
	in = build(noisy(1, 28, -5, 1), noisy(2, 32, 5, 1), 2)
	in.LogRatio = true
	ev, err = Evaluate(in)
	require.NoError(t, err)
	requireFinite(t, ev)
	require.False(t, ev.PerProtocol.HasLogRatio)
	require.Zero(t, ev.PerProtocol.LogRatio)
}

func TestEvaluateIgnoresOutOfWindowPoints(t *testing.T) {
	t.Parallel()
	in := build(noisy(1, 28, 400, 30), noisy(2, 32, 440, 30), 2)
	ref, err := Evaluate(in)
	require.NoError(t, err)
	in.Series = append(in.Series,
		series.Point{Day: series.AddDays(t0, -29), Value: 9999}, // before the baseline
		series.Point{Day: series.AddDays(t0, 32), Value: 9999},  // after the planned window
	)
	// Order does not matter.
	in.Series[0], in.Series[len(in.Series)-1] = in.Series[len(in.Series)-1], in.Series[0]
	ev, err := Evaluate(in)
	require.NoError(t, err)
	require.Equal(t, ref, ev)
}

// FuzzEvaluate checks that any accepted input yields a finite evaluation and
// any rejected one an EINVALID error (never a panic).
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, int8(2), uint8(8), int8(4), int8(1), int8(0))
	f.Add([]byte{0, 0, 0, 255, 255, 255}, int8(0), uint8(3), int8(3), int8(-1), int8(1))
	f.Add([]byte{}, int8(-1), uint8(1), int8(0), int8(0), int8(-3))
	f.Fuzz(func(t *testing.T, data []byte, lag int8, planned uint8, baseline int8, dir int8, nowOff int8) {
		in := Input{
			Start:             t0,
			PlannedDays:       int(planned),
			LagDays:           int(lag),
			BaselineDays:      int(baseline),
			ExpectedDirection: int(dir),
			LogRatio:          len(data)%2 == 0,
			Adherence:         map[series.Day]bool{},
		}
		if nowOff != 0 {
			in.Now = series.AddDays(t0, int(nowOff))
		}
		// Each byte is one day from t0 − 30 on: 0 = missing, odd = adherent.
		for i, b := range data {
			d := series.AddDays(t0, i-30)
			in.Adherence[d] = b%2 == 1
			if b != 0 {
				in.Series = append(in.Series, series.Point{Day: d, Value: float64(b)*float64(b%7) - 300})
			}
		}
		ev, err := Evaluate(in)
		if err != nil {
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
			return
		}
		requireFinite(t, ev)
		require.True(t, ev.Grade.Valid())
		for _, c := range []float64{ev.Coverage, ev.Adherence, ev.Confidence, ev.Baseline.Coverage, ev.Lag.Coverage} {
			require.GreaterOrEqual(t, c, 0.0)
			require.LessOrEqual(t, c, 1.0)
		}
		require.Equal(t, len(ev.Reasons) == 0, ev.Reliable)
	})
}
