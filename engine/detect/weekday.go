package detect

import (
	"math"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
)

// weekdayHalfWidth is the half-width of the centred 7-day moving mean that
// weekday deviations are measured from.
const weekdayHalfWidth = 3

// weekdayEffects returns, for every day index i, the day-of-week effect
// (analysis units) of day i estimated from the WeekdayWindowDays days before
// it (causal: a day's own value and later data never enter its effect, so a
// day's decision does not change when later data arrives).
//
// Estimate (classical moving-average decomposition, e.g. Cleveland et al.
// 1990 STL, §2, with a robust step): each day's deviation from the centred
// 7-day moving mean of its valid neighbours (so a drift or a level shift
// does not read as a weekday pattern) is clipped at WeekdayClipSigmas
// robust SDs of the deviations in the window (an outlier cannot set a
// weekday's level); the effect of weekday w is the mean clipped deviation
// of its days, centred so that the seven effects average zero, then shrunk
// towards zero by a James–Stein factor (see below). Only days
// whose whole moving window lies before i are used. Until every weekday has
// WeekdayMinPerDay deviations in the window all effects are 0: a weekly
// pattern is only removed once it can be estimated (SE ≈ σ/√(window/7)).
func weekdayEffects(y []float64, firstWeekday int, opt Options) []float64 {
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
	// win holds the deviations of days lo..hi, slid one day at a time
	// (both ends only move forward), for their MAD.
	var win baseline.SortedWindow
	wlo, whi := 0, -1
	for i := range n {
		hi := i - weekdayHalfWidth - 1 // last day whose moving window ends before i
		lo := max(0, i-w)
		if lo > hi || lo > whi { // no overlap with what it holds: start over at lo
			win.Reset()
			wlo, whi = lo, lo-1
		}
		for ; wlo < lo; wlo++ {
			if x := dev[wlo]; !math.IsNaN(x) {
				win.Remove(x)
			}
		}
		for ; whi < hi; whi++ {
			if x := dev[whi+1]; !math.IsNaN(x) {
				win.Add(x)
			}
		}
		if win.Len() < 7*opt.WeekdayMinPerDay {
			continue
		}
		_, mad, exact := win.MedianMAD()
		if !exact { // a −0 deviation: the MAD of the days in order, as it always was
			buf = buf[:0]
			for j := lo; j <= hi; j++ {
				if !math.IsNaN(dev[j]) {
					buf = append(buf, dev[j])
				}
			}
			mad = baseline.MAD(buf)
		}
		sd := baseline.MADScale * mad
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
