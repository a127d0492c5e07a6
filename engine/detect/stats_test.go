package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/baseline"
)

func TestRobustZ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		x, median, mad  float64
		want            float64
		wantNaN         bool
		wantAboveThresh bool
	}{
		// 0.6745·(10−3)/1 = 4.7215 > 3.5.
		{name: "outlier of [1,2,3,4,100] scale", x: 10, median: 3, mad: 1, want: 4.7215, wantAboveThresh: true},
		{name: "at the median", x: 3, median: 3, mad: 1, want: 0},
		// 0.6745·(−4)/2 = −1.349.
		{name: "below", x: -1, median: 3, mad: 2, want: -1.349},
		// 0.6745·(100−3)/1 = 65.4265.
		{name: "far outlier", x: 100, median: 3, mad: 1, want: 65.4265, wantAboveThresh: true},
		{name: "MAD zero is NaN", x: 4, median: 3, mad: 0, wantNaN: true},
		{name: "negative MAD is NaN", x: 4, median: 3, mad: -1, wantNaN: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := RobustZ(tc.x, tc.median, tc.mad)
			if tc.wantNaN {
				require.True(t, math.IsNaN(z))
				return
			}
			require.InDelta(t, tc.want, z, 1e-12)
			require.Equal(t, tc.wantAboveThresh, math.Abs(z) > DefaultOptions().ZThreshold)
		})
	}
}

func TestOLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		x, y            []float64
		slope, intercpt float64
	}{
		{name: "exact line", x: []float64{0, 1, 2, 3}, y: []float64{1, 3, 5, 7}, slope: 2, intercpt: 1},
		// x̄=1.5, ȳ=2.5, Sxy=3, Sxx=5 → slope 0.6, intercept 2.5−0.9=1.6.
		{name: "noisy", x: []float64{0, 1, 2, 3}, y: []float64{2, 1, 4, 3}, slope: 0.6, intercpt: 1.6},
		{name: "decreasing, large x", x: []float64{1000, 1001, 1002}, y: []float64{5, 4, 3}, slope: -1, intercpt: 1005},
		{name: "constant x", x: []float64{2, 2, 2}, y: []float64{1, 2, 6}, slope: 0, intercpt: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			slope, icpt := OLS(tc.x, tc.y)
			require.InDelta(t, tc.slope, slope, 1e-9)
			require.InDelta(t, tc.intercpt, icpt, 1e-9)
		})
	}
	t.Run("empty or mismatched is NaN", func(t *testing.T) {
		t.Parallel()
		s, i := OLS(nil, nil)
		require.True(t, math.IsNaN(s) && math.IsNaN(i))
		s, _ = OLS([]float64{1, 2}, []float64{1})
		require.True(t, math.IsNaN(s))
	})
}

func TestAR1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    []float64
		want float64
	}{
		// r = −3/4, r* = −0.75 + (1 − 2.25)/4 = −1.0625 → clamped to 0.
		{name: "alternating clamps to 0", e: []float64{1, -1, 1, -1}, want: 0},
		// Σeₜeₜ₋₁ = 1, Σe² = 8: r = 0.125, r* = 0.125 + 1.375/8 = 0.296875.
		{name: "pairs", e: []float64{1, 1, -1, -1, 1, 1, -1, -1}, want: 0.296875},
		// r = 20/30, r* = 2/3 + 3/4 > 0.9 → clamped.
		{name: "ramp clamps to 0.9", e: []float64{1, 2, 3, 4}, want: 0.9},
		{name: "too short", e: []float64{1, 2}, want: 0},
		{name: "all zero", e: []float64{0, 0, 0, 0}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.want, AR1(tc.e), 1e-12)
		})
	}
	t.Run("recovers phi on a long AR(1)", func(t *testing.T) {
		t.Parallel()
		e := ar1(t, rand.New(rand.NewPCG(3, 3)), 5000, 0.4, 1)
		require.InDelta(t, 0.4, AR1(e), 0.05)
	})
}

func TestMBICPenalty(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 3*math.Log(60), MBICPenalty(60), 1e-12)
	require.InDelta(t, 12.2830, MBICPenalty(60), 1e-4) // 3·4.09434
	require.Zero(t, MBICPenalty(1))
}

func TestMeanChangepoints(t *testing.T) {
	t.Parallel()
	rep := func(v float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	cat := func(parts ...[]float64) []float64 {
		var out []float64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		y      []float64
		minSeg int
		want   []int
	}{
		// No change: SSE 14·5² + ln 14 = 352.6; one at 7: 2·ln 7 + 3·ln 14 = 11.81.
		{name: "big step", y: cat(rep(0, 7), rep(10, 7)), minSeg: 7, want: []int{7}},
		// No change: 14·0.5² + ln 14 = 6.14 < 11.81 → no change point.
		{name: "step of 1 SD is below the MBIC penalty", y: cat(rep(0, 7), rep(1, 7)), minSeg: 7, want: nil},
		// No change: 14·1² + ln 14 = 16.64 > 11.81 → change at 7.
		{name: "step of 2 SD crosses it", y: cat(rep(0, 7), rep(2, 7)), minSeg: 7, want: []int{7}},
		{name: "up and back", y: cat(rep(0, 7), rep(5, 7), rep(0, 7)), minSeg: 7, want: []int{7, 14}},
		{name: "too short for two segments", y: cat(rep(0, 6), rep(10, 7)), minSeg: 7, want: nil},
		{name: "constant", y: rep(3, 30), minSeg: 7, want: nil},
		{name: "minSeg below 1 is 1", y: cat(rep(0, 3), rep(10, 3)), minSeg: 0, want: []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, MeanChangepoints(tc.y, tc.minSeg, MBICPenalty(len(tc.y))))
		})
	}
	t.Run("a 3-day spike cannot form a segment shorter than minseglen", func(t *testing.T) {
		t.Parallel()
		y := cat(rep(0, 10), rep(9, 3), rep(0, 10))
		cps := MeanChangepoints(y, 7, MBICPenalty(len(y)))
		bounds := append(append([]int{0}, cps...), len(y))
		for k := 0; k+1 < len(bounds); k++ {
			require.GreaterOrEqual(t, bounds[k+1]-bounds[k], 7)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultOptions().Validate())
	require.NoError(t, Options{}.Validate())
	require.Equal(t, DefaultOptions(), Options{}.WithDefaults())
	for name, o := range map[string]Options{
		"negative z":        {ZThreshold: -1},
		"NaN tolerance":     {ConflictRelTol: math.NaN()},
		"coverage above 1":  {MinRecentCoverage: 1.5},
		"negative days":     {MinGapDays: -3},
		"phi above 0.9":     {AR1Prior: 0.95},
		"bad baseline opts": {Baseline: baseline.Options{ShortAlpha: 2}},
	} {
		err := o.Validate()
		require.Error(t, err, name)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err), name)
	}
}

func TestInputValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Input{Metric: "rhr", AsOf: dayN(1)}.Validate())
	for _, in := range []Input{{AsOf: dayN(1)}, {Metric: " "}, {Metric: "rhr"}} {
		err := in.Validate()
		require.Error(t, err)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	}
}
