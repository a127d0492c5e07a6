package baseline

import (
	"math"
	"slices"
	"sort"

	"github.com/vitalgraph/vitalgraph/engine/series"
)

// SortedWindow is a multiset of values kept sorted, for a median and MAD
// over a window that slides one value in and one out at a time: O(log w)
// to find a value's place and one memmove of at most w values, instead of
// a selection over the whole window for every position. NaN may not be
// added.
type SortedWindow struct {
	s       []float64
	negZero int // how many −0 values it holds
}

// Len is the number of values held.
func (w *SortedWindow) Len() int { return len(w.s) }

// Reset empties the window, keeping its storage.
func (w *SortedWindow) Reset() { w.s, w.negZero = w.s[:0], 0 }

// Add inserts x.
func (w *SortedWindow) Add(x float64) {
	i := sort.SearchFloat64s(w.s, x)
	w.s = slices.Insert(w.s, i, x)
	if x == 0 && math.Signbit(x) {
		w.negZero++
	}
}

// Remove deletes one value equal to x (x == y as floats, so −0 and +0 are
// the same value); it does nothing when there is none.
func (w *SortedWindow) Remove(x float64) {
	i := sort.SearchFloat64s(w.s, x)
	if i >= len(w.s) || w.s[i] != x {
		return
	}
	if x == 0 {
		// Any zero will do for the order, but the −0 count must follow
		// the one removed: remove a zero with x's sign when there is one.
		for j := i; j < len(w.s) && w.s[j] == 0; j++ {
			if math.Signbit(w.s[j]) == math.Signbit(x) {
				i = j
				break
			}
		}
		if math.Signbit(w.s[i]) {
			w.negZero--
		}
	}
	w.s = slices.Delete(w.s, i, i+1)
}

// MedianMAD returns the median and the unscaled MAD of the values held,
// bit for bit what medianMAD returns for the same values in any order;
// ok is false when the window is empty or holds a −0 (medianMAD then sorts
// and the sign of a zero median depends on the values' order: compute it
// from the values in their order instead).
func (w *SortedWindow) MedianMAD() (med, mad float64, ok bool) {
	n := len(w.s)
	if n == 0 || w.negZero > 0 {
		return 0, 0, false
	}
	s := w.s
	k := n / 2
	if n%2 == 1 {
		med = s[k]
	} else {
		med = (s[k-1] + s[k]) / 2
	}
	// The absolute deviations grow walking away from the median on either
	// side (subtraction rounds monotonically), so the k-th smallest is
	// found by merging the two sides from the middle out. None is −0
	// (math.Abs), so the order statistics are unique values.
	p := sort.SearchFloat64s(s, med) // s[:p] < med <= s[p:]
	l, r := p-1, p
	next := func() float64 {
		var d float64
		switch {
		case l < 0:
			d = math.Abs(s[r] - med)
			r++
		case r >= n:
			d = math.Abs(s[l] - med)
			l--
		default:
			dl, dr := math.Abs(s[l]-med), math.Abs(s[r]-med)
			if dl <= dr {
				d = dl
				l--
			} else {
				d = dr
				r++
			}
		}
		return d
	}
	var prev float64
	for range k {
		prev = next()
	}
	hi := next()
	if n%2 == 1 {
		return med, hi, true
	}
	return med, (prev + hi) / 2, true
}

// Rolling computes the live baselines of one dense series for many days:
// At(d) is ComputeDense(vals, from, d, nil, opt), bit for bit, but when the
// days asked for move forward (the detector's per-day loop) the window's
// median and MAD are kept up to date as it slides instead of being
// recomputed from the whole window, and the valid-day counts come from
// prefix sums. vals is not modified and must not change while in use.
type Rolling struct {
	vals   []float64
	from   series.Day
	opt    Options
	prefix []int // prefix[i]: valid values in vals[:i]
	win    SortedWindow
	lo, hi int // the window holds the valid values of vals[lo..hi]; empty when lo > hi
	xs     []float64
	// valid[i] is opt.Valid(vals[i]) and ax[i] opt.ToAnalysis(vals[i])
	// when it is, each computed once rather than once per window holding it.
	valid []bool
	ax    []float64
}

// NewRolling prepares At for vals (see ComputeDense for vals and from).
func NewRolling(vals []float64, from series.Day, opt Options) *Rolling {
	opt = opt.withDefaults()
	r := &Rolling{
		vals: vals, from: series.Truncate(from), opt: opt, prefix: make([]int, len(vals)+1), lo: 0, hi: -1,
		valid: make([]bool, len(vals)), ax: make([]float64, len(vals)),
	}
	for i, v := range vals {
		r.prefix[i+1] = r.prefix[i]
		if opt.Valid(v) {
			r.prefix[i+1]++
			r.valid[i], r.ax[i] = true, opt.ToAnalysis(v)
		}
	}
	return r
}

// At returns the live baseline as of the end of asOf:
// ComputeDense(vals, from, asOf, nil, opt).
func (r *Rolling) At(asOf series.Day) Baseline {
	return computeWith(r.vals, r.from, series.Truncate(asOf), r.opt, r)
}

// count is the number of valid values in vals[lo..hi] (clipped).
func (r *Rolling) count(lo, hi int) int {
	lo, hi = max(lo, 0), min(hi, len(r.vals)-1)
	if lo > hi {
		return 0
	}
	return r.prefix[hi+1] - r.prefix[lo]
}

// slide moves the window to the valid values of vals[lo..hi] (clipped).
func (r *Rolling) slide(lo, hi int) {
	lo, hi = max(lo, 0), min(hi, len(r.vals)-1)
	if lo > hi {
		r.win.Reset()
		r.lo, r.hi = 0, -1
		return
	}
	if r.lo > r.hi || lo < r.lo || hi < r.hi || lo > r.hi {
		r.win.Reset()
		r.lo, r.hi = lo, lo-1
	}
	for i := r.lo; i < lo; i++ {
		if r.valid[i] {
			r.win.Remove(r.ax[i])
		}
	}
	for i := r.hi + 1; i <= hi; i++ {
		if r.valid[i] {
			r.win.Add(r.ax[i])
		}
	}
	r.lo, r.hi = lo, hi
}
