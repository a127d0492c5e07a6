package baseline

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

var day0 = series.DayOf(2026, time.January, 5) // a Monday

// day returns day0 + i.
func day(i int) series.Day { return series.AddDays(day0, i) }

// seriesOf builds a series starting at day0; NaN entries are missing days.
func seriesOf(tb testing.TB, vals ...float64) series.Series {
	tb.Helper()
	var s series.Series
	for i, v := range vals {
		if !math.IsNaN(v) {
			s = append(s, series.Point{Day: day(i), Value: v})
		}
	}
	return s
}

// repeat returns n copies of v.
func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestComputeHandBand(t *testing.T) {
	t.Parallel()
	// Five days [1,2,3,4,100]: median 3, MAD 1, band 3 ± 2·1.4826 = 3 ± 2.9652.
	opt := Options{MinValidDays: 5}
	b := Compute(seriesOf(t, 1, 2, 3, 4, 100), day(4), nil, opt)
	require.Equal(t, StateReady, b.State)
	require.True(t, b.Usable())
	require.InDelta(t, 3, b.Median, 1e-12)
	require.InDelta(t, 1, b.Analysis.MAD, 1e-12)
	require.InDelta(t, 1.4826, b.Analysis.ScaledMAD, 1e-12)
	require.InDelta(t, 1.4826, b.Analysis.Scale, 1e-12)
	require.Equal(t, ScaleMAD, b.Analysis.ScaleSource)
	require.InDelta(t, 3-2.9652, b.BandLow, 1e-12)
	require.InDelta(t, 3+2.9652, b.BandHigh, 1e-12)
	require.InDelta(t, 26.69921875, b.EWMA, 1e-12)
	require.Equal(t, 5, b.ValidDays)
	require.Equal(t, 5, b.ValidDaysLookback)
	require.Equal(t, 5, b.ValidDaysEver)
	require.Equal(t, day(4), b.WindowTo)
	require.Equal(t, day(4-59), b.WindowFrom)
	require.InDelta(t, 5.0/60, b.Coverage(), 1e-12)
}

func TestComputeLnTransform(t *testing.T) {
	t.Parallel()
	// ln values [1,2,3,4,100] → ln-space median 3, MAD 1; metric median e³,
	// band exp(3 ± 2.9652).
	opt := Options{MinValidDays: 5, LnTransform: true}
	s := seriesOf(t, math.E, math.Exp(2), math.Exp(3), math.Exp(4), math.Exp(100))
	b := Compute(s, day(4), nil, opt)
	require.Equal(t, StateReady, b.State)
	require.True(t, b.LnTransform)
	require.InDelta(t, 3, b.Analysis.Median, 1e-12)
	require.InDelta(t, 1, b.Analysis.MAD, 1e-12)
	require.InDelta(t, math.Exp(3), b.Median, 1e-9)
	require.InDelta(t, math.Exp(3-2.9652), b.BandLow, 1e-9)
	require.InDelta(t, math.Exp(3+2.9652), b.BandHigh, 1e-9)
	require.InDelta(t, 3-2.9652, b.Analysis.BandLow, 1e-12)
	require.InDelta(t, math.Exp(26.69921875), b.EWMA, 1e-3)

	t.Run("non-positive values are not valid days", func(t *testing.T) {
		t.Parallel()
		s := seriesOf(t, 0, -1, 50, 55, 60)
		b := Compute(s, day(4), nil, Options{LnTransform: true})
		require.Equal(t, StateCalibrating, b.State)
		require.Equal(t, 3, b.ValidDaysEver)
	})
}

func TestComputeStates(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	// lastN returns 28 days where only the last n are valid.
	lastN := func(n int) []float64 {
		v := repeat(nan, 28)
		for i := 28 - n; i < 28; i++ {
			v[i] = 50 + float64(i%3)
		}
		return v
	}
	tests := []struct {
		name      string
		vals      []float64
		want      State
		wantValid int
	}{
		{name: "no data is calibrating", vals: repeat(nan, 28), want: StateCalibrating},
		{name: "3 days is calibrating", vals: lastN(3), want: StateCalibrating, wantValid: 3},
		{name: "4 days is insufficient", vals: lastN(4), want: StateInsufficient, wantValid: 4},
		{name: "13 of last 28 is insufficient", vals: lastN(13), want: StateInsufficient, wantValid: 13},
		{name: "14 of last 28 is ready", vals: lastN(14), want: StateReady, wantValid: 14},
		{
			// 30 valid days long ago, nothing in the last 28: calibrated but
			// insufficient.
			name: "old data only is insufficient",
			vals: append(repeat(50, 30), repeat(nan, 28)...), want: StateInsufficient, wantValid: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			asOf := day(len(tc.vals) - 1)
			b := Compute(seriesOf(t, tc.vals...), asOf, nil, DefaultOptions())
			require.Equal(t, tc.want, b.State, b.Reason)
			require.Equal(t, tc.wantValid, b.ValidDaysLookback)
			require.Equal(t, tc.want == StateReady, b.Usable())
			require.NotEmpty(t, b.Reason)
			if !b.Usable() {
				require.Zero(t, b.Median, "no baseline is shown before READY")
				require.Zero(t, b.BandHigh)
				require.Equal(t, Stats{}, b.Analysis)
			}
		})
	}
}

func TestComputeWindow(t *testing.T) {
	t.Parallel()
	// 40 days at 100 then 60 days at 10: the 60-day window as of the last
	// day sees only 10s; as of day 59 it sees 40×100 and 20×10.
	vals := append(repeat(100, 40), repeat(10, 60)...)
	s := seriesOf(t, vals...)

	b := Compute(s, day(99), nil, DefaultOptions())
	require.Equal(t, StateReady, b.State)
	require.InDelta(t, 10, b.Median, 1e-12)
	require.Equal(t, 60, b.ValidDays)
	require.Equal(t, 100, b.ValidDaysEver)

	b = Compute(s, day(59), nil, DefaultOptions())
	require.InDelta(t, 100, b.Median, 1e-12)

	t.Run("asOf is included", func(t *testing.T) {
		t.Parallel()
		// 14 days of 10, then 15 more days of 20 up to asOf: 29 values, the
		// 15th-largest is 20.
		s := seriesOf(t, append(repeat(10, 14), repeat(20, 15)...)...)
		require.InDelta(t, 20, Compute(s, day(28), nil, DefaultOptions()).Median, 1e-12)
		require.InDelta(t, 15, Compute(s, day(27), nil, DefaultOptions()).Median, 1e-12)
	})

	t.Run("points after asOf are ignored", func(t *testing.T) {
		t.Parallel()
		withFuture := append(seriesOf(t, repeat(10, 20)...), series.Point{Day: day(25), Value: 1000})
		b := Compute(withFuture, day(19), nil, DefaultOptions())
		require.InDelta(t, 10, b.Median, 1e-12)
		require.Equal(t, 20, b.ValidDaysEver)
	})

	t.Run("unsorted input with duplicates is normalized", func(t *testing.T) {
		t.Parallel()
		sorted := seriesOf(t, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
		shuffled := append(series.Series{}, sorted...)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(series.Series{{Day: day(3), Value: 1e6}}, shuffled...) // earlier duplicate loses
		require.Equal(t, Compute(sorted, day(14), nil, DefaultOptions()), Compute(shuffled, day(14), nil, DefaultOptions()))
	})
}

func TestComputeFrozen(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	vals := make([]float64, 60)
	for i := range vals {
		vals[i] = 55 + 3*rng.NormFloat64()
	}
	s := seriesOf(t, vals[:40]...) // disconnected from day 40 on
	since := day(40)

	live := Compute(s, day(39), nil, DefaultOptions())
	require.Equal(t, StateReady, live.State)

	frozen := Compute(s, day(59), &since, DefaultOptions())
	require.Equal(t, StateFrozen, frozen.State)
	require.Equal(t, StateReady, frozen.FrozenState)
	require.True(t, frozen.Usable())
	require.NotNil(t, frozen.FrozenSince)
	require.Equal(t, since, *frozen.FrozenSince)
	require.Equal(t, day(59), frozen.AsOf)
	require.Equal(t, day(39), frozen.WindowTo)
	require.Equal(t, live.Analysis, frozen.Analysis)
	require.InDelta(t, live.Median, frozen.Median, 0)
	require.Contains(t, frozen.Reason, "disconnected")

	t.Run("data after disconnection does not move a frozen baseline", func(t *testing.T) {
		t.Parallel()
		withLate := append(append(series.Series{}, s...), series.Point{Day: day(45), Value: 500})
		require.Equal(t, frozen, Compute(withLate, day(59), &since, DefaultOptions()))
	})

	t.Run("disconnection after asOf is ignored", func(t *testing.T) {
		t.Parallel()
		b := Compute(s, day(39), &since, DefaultOptions())
		require.Equal(t, StateReady, b.State)
		require.Nil(t, b.FrozenSince)
	})

	t.Run("frozen while calibrating", func(t *testing.T) {
		t.Parallel()
		early := day(2)
		b := Compute(s, day(59), &early, DefaultOptions())
		require.Equal(t, StateFrozen, b.State)
		require.Equal(t, StateCalibrating, b.FrozenState)
		require.False(t, b.Usable())
	})
}

func TestComputeScaleFallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		vals      []float64
		opt       Options
		wantScale float64
		wantSrc   ScaleSource
	}{
		{
			// MAD = 0 but MeanAD = (10+10)/16 → scale 1.2533·1.25.
			name: "MAD zero uses mean absolute deviation",
			vals: append(repeat(50, 14), 60, 40), opt: DefaultOptions(),
			wantScale: MeanADScale * 20 / 16, wantSrc: ScaleMeanAbsDev,
		},
		{
			name: "constant history uses relative floor",
			vals: repeat(50, 14), opt: DefaultOptions(),
			wantScale: 0.5, wantSrc: ScaleFloor, // 1% of 50
		},
		{
			name: "constant ln history uses ln floor",
			vals: repeat(50, 14), opt: Options{LnTransform: true},
			wantScale: 0.01, wantSrc: ScaleFloor,
		},
		{
			name: "absolute floor near zero",
			vals: repeat(0, 14), opt: Options{MinScale: 0.1},
			wantScale: 0.1, wantSrc: ScaleFloor,
		},
		{
			name: "zero median without MinScale keeps epsilon",
			vals: repeat(0, 14), opt: DefaultOptions(),
			wantScale: 1e-9, wantSrc: ScaleFloor,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := Compute(seriesOf(t, tc.vals...), day(len(tc.vals)-1), nil, tc.opt)
			require.Equal(t, StateReady, b.State)
			require.InDelta(t, tc.wantScale, b.Analysis.Scale, 1e-12)
			require.Equal(t, tc.wantSrc, b.Analysis.ScaleSource)
			require.Positive(t, b.Analysis.Scale)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultOptions().Validate())
	require.NoError(t, Options{}.Validate(), "zero fields mean defaults")
	bad := []Options{
		{LongWindowDays: -1},
		{ShortAlpha: 1.5},
		{ShortAlpha: math.NaN()},
		{BandMADs: -2},
		{MinValidDays: 30},
		{RelScaleFloor: -0.1},
		{LongWindowDays: 5},
	}
	for _, o := range bad {
		err := o.Validate()
		require.Error(t, err)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	}
	require.Equal(t, DefaultOptions(), Options{}.WithDefaults())
	require.InDelta(t, DefaultOptions().ShortAlpha, Options{ShortAlpha: 7}.WithDefaults().ShortAlpha, 0)
}

// A long window shorter than the lookback can be empty while the lookback
// has enough valid days: Validate refuses such options, and ComputeDense,
// which does not require Validate, reports insufficient data instead of
// taking the median of nothing.
func TestEmptyLongWindowIsInsufficient(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 40)
	for i := range vals {
		vals[i] = float64(50 + i%7)
	}
	for i := 30; i < 40; i++ {
		vals[i] = math.NaN()
	}
	opt := Options{LongWindowDays: 5, ValidLookbackDays: 28}
	require.Error(t, opt.Validate())
	b := ComputeDense(vals, day(0), day(39), nil, opt)
	require.Equal(t, StateInsufficient, b.State)
	require.Zero(t, b.ValidDays)
}

func TestComputeProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(42, 1))
	for run := range 200 {
		n := 1 + rng.IntN(120)
		var s series.Series
		for i := range n {
			if rng.Float64() < 0.3 {
				continue
			}
			s = append(s, series.Point{Day: day(i), Value: 20 + 60*rng.Float64()})
		}
		ln := rng.IntN(2) == 0
		opt := Options{LnTransform: ln}
		asOf := day(rng.IntN(n + 10))
		var disc *series.Day
		if rng.IntN(4) == 0 {
			d := day(rng.IntN(n + 5))
			disc = &d
		}
		b := Compute(s, asOf, disc, opt)
		require.Equal(t, b, Compute(s, asOf, disc, opt), "run %d: deterministic", run)
		require.GreaterOrEqual(t, b.Coverage(), 0.0)
		require.LessOrEqual(t, b.Coverage(), 1.0)
		require.LessOrEqual(t, b.ValidDaysLookback, b.ValidDaysEver)
		require.LessOrEqual(t, b.ValidDays, b.ValidDaysEver)
		if b.Usable() {
			for _, v := range []float64{b.Median, b.BandLow, b.BandHigh, b.EWMA, b.Analysis.Scale} {
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "run %d: finite stats", run)
			}
			require.LessOrEqual(t, b.BandLow, b.Median)
			require.GreaterOrEqual(t, b.BandHigh, b.Median)
			require.Positive(t, b.Analysis.Scale)
		}
	}
}
