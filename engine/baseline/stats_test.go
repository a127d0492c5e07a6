package baseline

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{name: "single", in: []float64{5}, want: 5},
		{name: "odd with outlier", in: []float64{1, 2, 3, 4, 100}, want: 3},
		{name: "odd unsorted", in: []float64{100, 3, 1, 4, 2}, want: 3},
		{name: "even is mean of middle two", in: []float64{4, 1, 3, 2}, want: 2.5},
		{name: "negative values", in: []float64{-3, -1, -2}, want: -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tc.in...)
			require.InDelta(t, tc.want, Median(tc.in), 1e-12)
			require.Equal(t, in, tc.in, "Median must not modify its input")
		})
	}
	t.Run("empty is NaN", func(t *testing.T) {
		t.Parallel()
		require.True(t, math.IsNaN(Median(nil)))
	})
}

func TestMAD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		// |x−3| = 2,1,0,1,97 → median 1.
		{name: "outlier ignored", in: []float64{1, 2, 3, 4, 100}, want: 1},
		// median 2.5, |x−2.5| = 1.5,0.5,0.5,1.5 → median 1.
		{name: "even count", in: []float64{1, 2, 3, 4}, want: 1},
		{name: "constant", in: []float64{7, 7, 7, 7}, want: 0},
		// median 5, |x−5| = 0,0,0,0,0,1 → 0 although not constant.
		{name: "mostly constant", in: []float64{5, 5, 5, 5, 5, 6}, want: 0},
		{name: "single", in: []float64{42}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tc.in...)
			require.InDelta(t, tc.want, MAD(tc.in), 1e-12)
			require.Equal(t, in, tc.in, "MAD must not modify its input")
		})
	}
	t.Run("empty is NaN", func(t *testing.T) {
		t.Parallel()
		require.True(t, math.IsNaN(MAD(nil)))
	})
}

func TestMeanAbsDev(t *testing.T) {
	t.Parallel()
	// (2+1+0+1+97)/5 = 20.2
	require.InDelta(t, 20.2, MeanAbsDev([]float64{1, 2, 3, 4, 100}, 3), 1e-12)
	// (0·5 + 1)/6
	require.InDelta(t, 1.0/6, MeanAbsDev([]float64{5, 5, 5, 5, 5, 6}, 5), 1e-12)
	require.True(t, math.IsNaN(MeanAbsDev(nil, 0)))
}

func TestEWMA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    []float64
		alpha float64
		want  float64
	}{
		{name: "single value is itself", in: []float64{10}, alpha: 0.25, want: 10},
		// E0=10, E1=.25·20+.75·10=12.5, E2=.25·30+.75·12.5=16.875
		{name: "three values", in: []float64{10, 20, 30}, alpha: 0.25, want: 16.875},
		// 1, 1.25, 1.6875, 2.265625, .25·100+.75·2.265625=26.69921875
		{name: "with outlier", in: []float64{1, 2, 3, 4, 100}, alpha: 0.25, want: 26.69921875},
		{name: "alpha 1 is last value", in: []float64{1, 2, 9}, alpha: 1, want: 9},
		{name: "constant", in: []float64{3, 3, 3, 3}, alpha: 0.5, want: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.want, EWMA(tc.in, tc.alpha), 1e-12)
		})
	}
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		require.True(t, math.IsNaN(EWMA(nil, 0.25)))
		require.True(t, math.IsNaN(EWMA([]float64{1}, 0)))
		require.True(t, math.IsNaN(EWMA([]float64{1}, 1.5)))
		require.True(t, math.IsNaN(EWMA([]float64{1}, math.NaN())))
	})
}

// sortedMedian is the median by a full sort, the definition medianInPlace
// must reproduce bit for bit.
func sortedMedian(xs []float64) float64 {
	buf := slices.Clone(xs)
	slices.Sort(buf)
	n := len(buf)
	if n%2 == 1 {
		return buf[n/2]
	}
	return (buf[n/2-1] + buf[n/2]) / 2
}

// TestMedianSelectionEqualsSortBitForBit: selecting the middle values gives
// exactly the sorted median and MAD (same float64 bits) on many shapes of
// data: ties, zeros, negatives, sorted and reversed runs, every length up
// to 400, and the NaN and −0 inputs that keep the sort.
func TestMedianSelectionEqualsSortBitForBit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(19, 5))
	gens := map[string]func() float64{
		"normal":   func() float64 { return 60 + 8*r.NormFloat64() },
		"ties":     func() float64 { return float64(r.IntN(5)) },
		"zeros":    func() float64 { return float64(r.IntN(3)) * 0.1 },
		"negative": func() float64 { return -r.ExpFloat64() * 3 },
		"wide":     func() float64 { return math.Ldexp(r.Float64()-0.5, r.IntN(200)-100) },
		"rounded":  func() float64 { return math.Round((450+30*r.NormFloat64())*10) / 10 },
	}
	for name, gen := range gens {
		for n := 1; n <= 400; n++ {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = gen()
			}
			switch n % 4 {
			case 1:
				slices.Sort(xs)
			case 2:
				slices.Sort(xs)
				slices.Reverse(xs)
			}
			want := sortedMedian(xs)
			got := medianInPlace(slices.Clone(xs))
			require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%s n=%d median", name, n)
			dev := make([]float64, n)
			for i, x := range xs {
				dev[i] = math.Abs(x - want)
			}
			m, mad := medianMAD(slices.Clone(xs))
			require.Equal(t, math.Float64bits(want), math.Float64bits(m), "%s n=%d medianMAD", name, n)
			require.Equal(t, math.Float64bits(sortedMedian(dev)), math.Float64bits(mad), "%s n=%d MAD", name, n)
		}
	}
	for _, odd := range [][]float64{
		append(slices.Repeat([]float64{1}, 20), math.Copysign(0, -1), 0, 0, -1),
		append(slices.Repeat([]float64{2, 3}, 20), math.NaN()),
	} {
		require.Equal(t, math.Float64bits(sortedMedian(odd)), math.Float64bits(medianInPlace(slices.Clone(odd))))
	}
}
