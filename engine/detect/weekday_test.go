package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
)

// TestWeekdayEffectsRollingEqualsPerDay: the weekday effects computed with
// a sliding sorted window equal, bit for bit, the per-day computation they
// replaced (weekdayEffectsPerDay, below), on random series with gaps, ties
// and zeros (−0 too), under default and other windows.
func TestWeekdayEffectsRollingEqualsPerDay(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 29))
	for trial := range 200 {
		n := 1 + r.IntN(500)
		y := make([]float64, n)
		for i := range y {
			switch trial % 4 {
			case 0:
				y[i] = 60 + 5*r.NormFloat64() + float64(i%7)
			case 1:
				y[i] = float64(r.IntN(3))
			case 2:
				y[i] = []float64{0, math.Copysign(0, -1), 1}[r.IntN(3)]
			default:
				y[i] = math.Log(40 + 10*r.Float64())
			}
			if r.Float64() < []float64{0, 0.1, 0.3}[trial%3] {
				y[i] = math.NaN()
			}
		}
		opt := DefaultOptions().withDefaults()
		if trial%2 == 1 {
			opt.WeekdayWindowDays = 1 + r.IntN(120)
			opt.WeekdayMinPerDay = 1 + r.IntN(5)
		}
		first := r.IntN(7)
		got, want := weekdayEffects(y, first, opt), weekdayEffectsPerDay(y, first, opt)
		require.Len(t, got, n)
		for i := range got {
			require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "trial %d day %d", trial, i)
		}
	}
}

func weekdayEffectsPerDay(y []float64, firstWeekday int, opt Options) []float64 {
	n := len(y)
	out := make([]float64, n)
	dev := make([]float64, n)
	for j := range n {
		dev[j] = math.NaN()
		if math.IsNaN(y[j]) || j-weekdayHalfWidth < 0 || j+weekdayHalfWidth >= n {
			continue
		}
		var s float64
		c := 0
		for k := j - weekdayHalfWidth; k <= j+weekdayHalfWidth; k++ {
			if !math.IsNaN(y[k]) {
				s += y[k]
				c++
			}
		}
		if c >= 2*weekdayHalfWidth-1 { // at most two neighbours missing
			dev[j] = y[j] - s/float64(c)
		}
	}
	w := opt.WeekdayWindowDays
	buf := make([]float64, 0, w)
	for i := range n {
		hi := i - weekdayHalfWidth - 1 // last day whose moving window ends before i
		lo := max(0, i-w)
		buf = buf[:0]
		for j := lo; j <= hi; j++ {
			if !math.IsNaN(dev[j]) {
				buf = append(buf, dev[j])
			}
		}
		if len(buf) < 7*opt.WeekdayMinPerDay {
			continue
		}
		sd := baseline.MADScale * baseline.MAD(buf)
		clip := opt.WeekdayClipSigmas * sd
		var sum [7]float64
		var cnt [7]int
		for j := lo; j <= hi; j++ {
			if math.IsNaN(dev[j]) {
				continue
			}
			d := dev[j]
			if clip > 0 {
				d = min(max(d, -clip), clip)
			}
			wd := (firstWeekday + j) % 7
			sum[wd] += d
			cnt[wd]++
		}
		var eff [7]float64
		var mean float64
		ok := true
		for k := range 7 {
			if cnt[k] < opt.WeekdayMinPerDay {
				ok = false
				break
			}
			eff[k] = sum[k] / float64(cnt[k])
			mean += eff[k] / 7
		}
		if !ok || !(sd > 0) {
			continue
		}
		// Positive-part James–Stein shrinkage of the seven centred effects
		// towards zero (Efron & Morris 1973): Q = Σ n_w·e_w²/s² is χ²₆
		// without a weekly pattern, and the factor 1 − 4/Q keeps a real
		// pattern (sleep +40 min on weekends: Q ≈ 19 with 10 weeks, factor
		// ≈ 0.8) while adding almost no noise where there is none.
		var q float64
		for k := range 7 {
			e := eff[k] - mean
			q += float64(cnt[k]) * e * e / (sd * sd)
		}
		shrink := 0.0
		if q > 0 {
			shrink = max(0, 1-4/q)
		}
		out[i] = shrink * (eff[(firstWeekday+i)%7] - mean)
	}
	return out
}
