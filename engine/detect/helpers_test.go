package detect

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/series"
)

// start is day 1 of every scenario: a Monday (docs/domain.md §6 common setup).
var start = series.DayOf(2026, time.March, 2)

// dayN returns scenario day n (1-based, day 1 = start).
func dayN(n int) series.Day { return series.AddDays(start, n-1) }

// ar1 returns n values of a zero-mean AR(1) process xₜ = φxₜ₋₁ + εₜ, with the
// sample mean rescaled to exactly 0 and the sample SD to exactly sigma, so
// that planted effects are exact (docs/domain.md §6, "Building the fixtures").
func ar1(tb testing.TB, rng *rand.Rand, n int, phi, sigma float64) []float64 {
	tb.Helper()
	x := make([]float64, n)
	x[0] = rng.NormFloat64()
	for t := 1; t < n; t++ {
		x[t] = phi*x[t-1] + math.Sqrt(1-phi*phi)*rng.NormFloat64()
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	for t := range x {
		x[t] = (x[t] - mean) / sd * sigma
	}
	return x
}

// toSeries maps vals[k] to scenario day k+1; NaN entries are missing days.
func toSeries(tb testing.TB, vals []float64) series.Series {
	tb.Helper()
	var s series.Series
	for k, v := range vals {
		if !math.IsNaN(v) {
			s = append(s, series.Point{Day: dayN(k + 1), Value: v})
		}
	}
	return s
}

// hrvDays returns n days of HRV RMSSD (ms): ln x = ln 55 + AR(1) noise with
// φ = 0.4 and σ = 0.10 (docs/domain.md §6, G3/G4), plus lnEffect(day) in ln units.
func hrvDays(tb testing.TB, seed uint64, n int, lnEffect func(day int) float64) []float64 {
	tb.Helper()
	noise := ar1(tb, rand.New(rand.NewPCG(seed, 0x4852)), n, 0.4, 0.10)
	out := make([]float64, n)
	for k := range out {
		out[k] = math.Exp(math.Log(55) + noise[k] + lnEffect(k+1))
	}
	return out
}

// rhrDays returns n days of resting HR (bpm): 58 + AR(1) noise with φ = 0.4
// and σ = 1.6, plus effect(day) in bpm.
func rhrDays(tb testing.TB, seed uint64, n int, effect func(day int) float64) []float64 {
	tb.Helper()
	noise := ar1(tb, rand.New(rand.NewPCG(seed, 0x5248)), n, 0.4, 1.6)
	out := make([]float64, n)
	for k := range out {
		out[k] = 58 + noise[k] + effect(k+1)
	}
	return out
}

// none is a zero effect.
func none(int) float64 { return 0 }

// daysOf returns the scenario day numbers of the findings of kind k.
func daysOf(res Result, k Kind) []int {
	var out []int
	for _, f := range res.Findings {
		if f.Kind == k {
			out = append(out, series.DaysBetween(start, f.Day)+1)
		}
	}
	return out
}

// count returns the number of findings of kind k.
func count(res Result, k Kind) int { return len(daysOf(res, k)) }
