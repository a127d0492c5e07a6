package detect

import (
	"math"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
)

// MBICPenalty returns the per-change-point penalty 3·ln(n) that R
// changepoint::cpt.mean applies with penalty = "MBIC" (Zhang & Siegmund 2007,
// Biometrics 63; changepoint R/penalty_decision.R), for n observations. It
// is 0 for n < 2.
func MBICPenalty(n int) float64 {
	if n < 2 {
		return 0
	}
	return 3 * math.Log(float64(n))
}

// MeanChangepoints segments y into pieces of constant mean and returns the
// indices where a new segment starts (sorted, each in (0, len(y))), or nil
// when one segment is best.
//
// It minimises Σ_segments [Σ(yᵢ − ȳ)² + ln(segment length)] + penalty·(#change
// points) with every segment at least minSeg long: the Normal mean-change
// cost with the MBIC segment term of R changepoint::cpt.mean (C function
// mbic_mean: SSE + log(n)) and F(0) = −penalty, as in PELT (Killick, Fearnhead
// & Eckley 2012, JASA 107). y must be scaled to unit noise variance (the cost
// is a Gaussian log-likelihood with σ = 1); pass MBICPenalty(len(y)) for
// cpt.mean's MBIC. The optimum is computed exactly by optimal partitioning
// (Jackson et al. 2005), which returns the same segmentation as PELT: PELT's
// pruning has no valid constant for the ln(length) term, and at ≤ a few
// hundred days the O(n²) scan costs well under a millisecond. Ties resolve
// to the earliest last change point, so the result is deterministic.
// minSeg < 1 is treated as 1.
func MeanChangepoints(y []float64, minSeg int, penalty float64) []int {
	minSeg = max(minSeg, 1)
	n := len(y)
	if n < 2*minSeg {
		return nil
	}
	// Centre for numerical stability; SSE is shift-invariant.
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	s1 := make([]float64, n+1)
	s2 := make([]float64, n+1)
	for i, v := range y {
		c := v - mean
		s1[i+1] = s1[i] + c
		s2[i+1] = s2[i] + c*c
	}
	// logLen[l] = ln(l) for every segment length: the O(n²) scan below
	// would otherwise take a logarithm per pair.
	logLen := make([]float64, n+1)
	for l := 1; l <= n; l++ {
		logLen[l] = math.Log(float64(l))
	}
	cost := func(s, t int) float64 {
		l := float64(t - s)
		d := s1[t] - s1[s]
		return s2[t] - s2[s] - d*d/l + logLen[t-s]
	}
	f := make([]float64, n+1)
	last := make([]int, n+1)
	for t := 1; t <= n; t++ {
		f[t] = math.Inf(1)
	}
	f[0] = -penalty
	for t := minSeg; t <= n; t++ {
		// s = 0, then s ≥ minSeg (a first segment shorter than minSeg is not allowed).
		for s := 0; s <= t-minSeg; s = max(s+1, minSeg) {
			if math.IsInf(f[s], 1) {
				continue
			}
			if v := f[s] + cost(s, t) + penalty; v < f[t] {
				f[t], last[t] = v, s
			}
		}
	}
	var cps []int
	for t := last[n]; t > 0; t = last[t] {
		cps = append(cps, t)
	}
	for i, j := 0, len(cps)-1; i < j; i, j = i+1, j-1 {
		cps[i], cps[j] = cps[j], cps[i]
	}
	return cps
}

// shift is one confirmed change in mean of the change-detection input.
type shift struct {
	// start is the index of the first value of the new level; preFrom and
	// postTo bound the neighbouring segments (postTo exclusive).
	preFrom, start, postTo int
	// before and after are the segment medians (analysis space).
	before, after float64
	// sigma is the robust within-segment SD used for the magnitude rule.
	sigma float64
	// sustained is the number of post-change values beyond the midpoint, and
	// outside the number beyond the previous level's band (± ExcursionZ·σ).
	sustained, outside int
	// penalty is the MBIC penalty used.
	penalty float64
}

// changeModel records how the change detector was configured for one run.
type changeModel struct {
	phi, noise, penalty float64
	n                   int
}

// detectShifts finds sustained mean shifts in y (analysis space, in day
// order, swing days already removed):
//
//  1. segment y under AR(1) noise with φ = AR1Prior (see segment);
//  2. estimate φ from the residuals about those segments' means with AR1
//     (docs/domain.md §2) and re-segment with max(AR1Prior, r*) when larger — a
//     per-person φ from 60 days is too noisy (SE ≈ 0.12) to go below the
//     prior, and under-estimating φ inflates false changes;
//  3. confirm each change point on y, with σ the robust within-segment SD:
//     |median(post) − median(pre)| ≥ MinShiftSigmas·σ, and more than
//     MaxSwingDays post-change values beyond the midpoint of the two medians,
//     and more than MaxSwingDays post-change values outside the previous
//     level's band (median(pre) ± ExcursionZ·σ) on the shift's side — a shift
//     that does not keep more days out of band than a swing is not a change.
//     The weakest failing change point is dropped and the rest re-checked
//     until all hold.
func detectShifts(y []float64, opt Options, floor float64) ([]shift, changeModel) {
	m := len(y)
	if m < 2*opt.MinSegmentDays+1 {
		return nil, changeModel{n: m}
	}
	cps, model := segment(y, opt.AR1Prior, opt.MinSegmentDays, floor)
	resid := make([]float64, 0, m)
	bounds := append(append([]int{0}, cps...), m)
	for k := 0; k+1 < len(bounds); k++ {
		seg := y[bounds[k]:bounds[k+1]]
		var mean float64
		for _, v := range seg {
			mean += v
		}
		mean /= float64(len(seg))
		for _, v := range seg {
			resid = append(resid, v-mean)
		}
	}
	if r := AR1(resid); r > opt.AR1Prior {
		cps, model = segment(y, r, opt.MinSegmentDays, floor)
	}
	if len(cps) == 0 {
		return nil, model
	}
	for {
		shifts, weakest := evaluateShifts(y, cps, opt, floor, model.penalty)
		if weakest < 0 {
			return shifts, model
		}
		cps = append(cps[:weakest], cps[weakest+1:]...)
		if len(cps) == 0 {
			return nil, model
		}
	}
}

// segment returns the MBIC change points of y (indices into y) under AR(1)
// noise with coefficient phi: it prewhitens wₜ = yₜ − φ·yₜ₋₁ (so the
// Gaussian cost's independence assumption holds; a step δ in y becomes a
// step (1−φ)δ in w, the AR(1) long-run-variance correction), scales w by its
// robust SD 1.4826·MAD(Δw)/√2 (differences are insensitive to the shifts) and
// runs MeanChangepoints with minseglen minSeg and MBICPenalty.
func segment(y []float64, phi float64, minSeg int, floor float64) ([]int, changeModel) {
	m := len(y)
	w := make([]float64, m-1)
	for t := 1; t < m; t++ {
		w[t-1] = y[t] - phi*y[t-1]
	}
	dw := make([]float64, len(w)-1)
	for t := 1; t < len(w); t++ {
		dw[t-1] = w[t] - w[t-1]
	}
	noise := robustSD(dw, floor*math.Sqrt2) / math.Sqrt2
	std := make([]float64, len(w))
	for i, v := range w {
		std[i] = v / noise
	}
	model := changeModel{phi: phi, noise: noise, penalty: MBICPenalty(len(std)), n: m}
	raw := MeanChangepoints(std, minSeg, model.penalty)
	cps := make([]int, len(raw))
	for i, c := range raw {
		cps[i] = c + 1 // w[k] starts at y[k+1]
	}
	return cps, model
}

// evaluateShifts measures every change point in cps on y and returns them
// with the index in cps of the weakest one that fails confirmation (-1 when
// all pass).
func evaluateShifts(y []float64, cps []int, opt Options, floor, pen float64) ([]shift, int) {
	bounds := make([]int, 0, len(cps)+2)
	bounds = append(bounds, 0)
	bounds = append(bounds, cps...)
	bounds = append(bounds, len(y))
	medians := make([]float64, len(bounds)-1)
	resid := make([]float64, 0, len(y))
	for k := range medians {
		seg := y[bounds[k]:bounds[k+1]]
		medians[k] = baseline.Median(seg)
		for _, v := range seg {
			resid = append(resid, v-medians[k])
		}
	}
	sigma := robustSD(resid, floor)
	out := make([]shift, len(cps))
	weakest, weakestMag := -1, math.Inf(1)
	for j := range cps {
		before, after := medians[j], medians[j+1]
		mid := (before + after) / 2
		up := after > before
		band := before - opt.ExcursionZ*sigma
		if up {
			band = before + opt.ExcursionZ*sigma
		}
		sustained, outside := 0, 0
		for _, v := range y[bounds[j+1]:bounds[j+2]] {
			if (up && v > mid) || (!up && v < mid) {
				sustained++
			}
			if (up && v > band) || (!up && v < band) {
				outside++
			}
		}
		out[j] = shift{
			preFrom: bounds[j], start: bounds[j+1], postTo: bounds[j+2],
			before: before, after: after, sigma: sigma,
			sustained: sustained, outside: outside, penalty: pen,
		}
		mag := math.Abs(after-before) / sigma
		failed := mag < opt.MinShiftSigmas || sustained <= opt.MaxSwingDays || outside <= opt.MaxSwingDays
		if failed && mag < weakestMag {
			weakest, weakestMag = j, mag
		}
	}
	return out, weakest
}
