package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/series"
)

// baselineBits is b with every float64 replaced by its bits, so that two
// baselines compare equal only when they are identical bit for bit (NaN
// and −0 included).
func baselineBits(b Baseline) string {
	f := func(x float64) uint64 { return math.Float64bits(x) }
	a := b.Analysis
	b.Analysis = Stats{ScaleSource: a.ScaleSource}
	floats := []uint64{
		f(b.Median), f(b.BandLow), f(b.BandHigh), f(b.EWMA),
		f(a.Median), f(a.MAD), f(a.ScaledMAD), f(a.Scale), f(a.BandLow), f(a.BandHigh), f(a.EWMA),
	}
	b.Median, b.BandLow, b.BandHigh, b.EWMA = 0, 0, 0, 0
	return fmt.Sprintf("%+v %x", b, floats)
}

// TestRollingEqualsComputeDenseBitForBit: the rolling baseline of every day
// (forward one day at a time, with jumps, and backwards) is exactly
// ComputeDense's, for random series with gaps, ties, zeros (−0 too),
// negative and log-normal values, under default and random options.
func TestRollingEqualsComputeDenseBitForBit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 7))
	gens := map[string]func() float64{
		"normal":  func() float64 { return 60 + 8*r.NormFloat64() },
		"ties":    func() float64 { return float64(r.IntN(4)) },
		"zeros":   func() float64 { return []float64{0, math.Copysign(0, -1), 0.1, -0.1}[r.IntN(4)] },
		"signed":  func() float64 { return r.NormFloat64() * 0.3 },
		"hrv":     func() float64 { return math.Exp(3.8 + 0.3*r.NormFloat64()) },
		"rounded": func() float64 { return math.Round((450+30*r.NormFloat64())*10) / 10 },
	}
	from := day0
	for name, gen := range gens {
		for trial := range 20 {
			n := 1 + r.IntN(400)
			gapRate := []float64{0, 0.1, 0.4, 0.8}[trial%4]
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = gen()
				switch {
				case r.Float64() < gapRate:
					vals[i] = math.NaN()
				case r.Float64() < 0.01:
					vals[i] = math.Inf(1) // invalid, like a missing day
				}
			}
			// A long gap now and then (a disconnected source, a holiday).
			if n > 100 && trial%3 == 0 {
				at := r.IntN(n - 40)
				for i := at; i < at+30+r.IntN(10); i++ {
					vals[i] = math.NaN()
				}
			}
			opt := DefaultOptions()
			if trial%2 == 1 {
				// The long window at least as long as the lookback, as by
				// default (a shorter one can be READY with no value in it).
				lookback := 1 + r.IntN(40)
				opt = Options{
					LongWindowDays: lookback + r.IntN(60), ShortAlpha: r.Float64(), MinCalibrationDays: r.IntN(6),
					MinValidDays: 1 + r.IntN(10), ValidLookbackDays: lookback, BandMADs: 3 * r.Float64(),
				}
			}
			opt.LnTransform = name == "hrv" || (name == "signed" && trial%5 == 0)
			orig := slices.Clone(vals)
			roll := NewRolling(vals, from, opt)
			check := func(k int) {
				d := series.AddDays(from, k)
				want := ComputeDense(vals, from, d, nil, opt)
				got := roll.At(d)
				require.Equal(t, baselineBits(want), baselineBits(got), "%s trial %d, n=%d, day %d", name, trial, n, k)
			}
			for k := -3; k < n+3; k++ { // every day, before and after the data too
				check(k)
			}
			for range 50 { // jumps, backwards too
				check(r.IntN(n+70) - 5)
			}
			for k := r.IntN(n); k < n; k += 1 + r.IntN(3) { // forward with skipped days
				check(k)
			}
			require.Equal(t, fmt.Sprint(orig), fmt.Sprint(vals), "vals is not modified")
		}
	}
}

// TestSortedWindowMedianMADEqualsSelection: the window's median and MAD
// after any sequence of insertions and removals are medianMAD's on the
// same values, bit for bit; with a −0 held it declines (ok false).
func TestSortedWindowMedianMADEqualsSelection(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 11))
	for trial := range 300 {
		var w SortedWindow
		var held []float64
		for step := range 200 {
			if len(held) > 0 && (r.IntN(3) == 0 || len(held) > 80) {
				i := r.IntN(len(held))
				w.Remove(held[i])
				held = slices.Delete(held, i, i+1)
			} else {
				x := float64(r.IntN(7)) - 3
				if trial%2 == 0 {
					x = r.NormFloat64()
				}
				if r.IntN(50) == 0 {
					x = math.Copysign(0, -1)
				}
				w.Add(x)
				held = append(held, x)
			}
			require.Equal(t, len(held), w.Len())
			med, mad, ok := w.MedianMAD()
			hasNegZero := slices.ContainsFunc(held, func(x float64) bool { return x == 0 && math.Signbit(x) })
			if len(held) == 0 || hasNegZero {
				require.False(t, ok, "trial %d step %d", trial, step)
				continue
			}
			require.True(t, ok)
			wantMed, wantMAD := medianMAD(slices.Clone(held))
			require.Equal(t, math.Float64bits(wantMed), math.Float64bits(med), "trial %d step %d median", trial, step)
			require.Equal(t, math.Float64bits(wantMAD), math.Float64bits(mad), "trial %d step %d MAD", trial, step)
		}
	}
}
