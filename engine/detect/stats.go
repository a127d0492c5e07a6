package detect

import (
	"math"
	"slices"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
)

// RobustZ returns the Iglewicz–Hoaglin modified z-score
// 0.6745·(x − median)/mad, where mad is the unscaled median absolute
// deviation (Iglewicz & Hoaglin 1993, "How to Detect and Handle Outliers";
// R: skinnider/modern iglewicz_hoaglin). It returns NaN when mad ≤ 0 or any
// input is NaN. Since 0.6745 ≈ 1/1.4826 this equals (x − median)/(1.4826·mad);
// Run uses that form with baseline.Stats.Scale, which also covers MAD = 0.
func RobustZ(x, median, mad float64) float64 {
	if !(mad > 0) {
		return math.NaN()
	}
	return 0.6745 * (x - median) / mad
}

// OLS returns the ordinary-least-squares line y ≈ intercept + slope·x:
// slope = Σ(x−x̄)(y−ȳ)/Σ(x−x̄)², intercept = ȳ − slope·x̄ (any regression
// text, e.g. Draper & Smith ch. 1). Slope is in y units per x unit. It
// returns (NaN, NaN) when the inputs are empty or of different lengths, and
// (0, ȳ) when all x are equal. Sums are centred for numerical stability.
func OLS(x, y []float64) (slope, intercept float64) {
	n := len(x)
	if n == 0 || n != len(y) {
		return math.NaN(), math.NaN()
	}
	var mx, my float64
	for i, xi := range x {
		mx += xi
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx float64
	for i, xi := range x {
		dx := xi - mx
		sxy += dx * (y[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, my
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}

// AR1 returns the bias-corrected lag-1 autocorrelation of the residuals e
// (mean ≈ 0): r = Σeₜeₜ₋₁ / Σeₜ², r* = r + (1+3r)/n, clamped to [0, 0.9]
// (docs/domain.md §2; the correction follows Huitema & McKean 1991 for short
// series). It is 0 for fewer than 3 residuals or Σeₜ² = 0.
func AR1(e []float64) float64 {
	n := len(e)
	if n < 3 {
		return 0
	}
	var num, den float64
	for t, v := range e {
		den += v * v
		if t > 0 {
			num += v * e[t-1]
		}
	}
	if !(den > 0) {
		return 0
	}
	r := num / den
	return min(max(r+(1+3*r)/float64(n), 0), 0.9)
}

// robustSD returns a normal-consistent robust SD of xs: 1.4826·MAD, or
// 1.2533·mean absolute deviation when MAD = 0, never below floor.
func robustSD(xs []float64, floor float64) float64 {
	if len(xs) == 0 {
		return floor
	}
	buf := slices.Clone(xs)
	med := baseline.Median(buf)
	sd := baseline.MADScale * baseline.MAD(buf)
	if !(sd > 0) {
		sd = baseline.MeanADScale * baseline.MeanAbsDev(xs, med)
	}
	return max(sd, floor)
}

// clamp01 maps x into [0, 1]; NaN becomes 0.
func clamp01(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}

// exceedConfidence is the confidence of a finding whose statistic s crossed
// threshold thr: 0.5 at the threshold, rising to 1 as s grows, 1 − e^{−(s−thr)}
// of the remaining half (one unit beyond the threshold gives ≈ 0.82).
func exceedConfidence(s, thr float64) float64 {
	return clamp01(0.5 + 0.5*(1-math.Exp(-(math.Abs(s)-thr))))
}

// NormalP returns the two-sided normal tail probability of z,
// P(|Z| ≥ |z|) = erfc(|z|/√2); 1 for NaN.
func NormalP(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// NormalCrit returns the two-sided normal critical value c with
// NormalP(c) = alpha, for alpha in (0, 1) (bisection to 1e-10).
func NormalCrit(alpha float64) float64 {
	lo, hi := 0.0, 40.0
	for hi-lo > 1e-10 {
		mid := (lo + hi) / 2
		if NormalP(mid) > alpha {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// ar1Inflation is the AR(1) variance inflation of a mean, k = (1+φ)/(1−φ)
// (docs/domain.md §2).
func ar1Inflation(phi float64) float64 { return (1 + phi) / (1 - phi) }

// ar1MeanFactor is the variance of the mean of m consecutive AR(1) values
// relative to σ²/m: 1 + 2·Σ_{h=1}^{m−1} (1 − h/m)·φ^h (Box, Jenkins &
// Reinsel, Time Series Analysis, §2.1.5); it tends to (1+φ)/(1−φ) as m grows.
func ar1MeanFactor(phi float64, m int) float64 {
	f, p := 1.0, 1.0
	for h := 1; h < m; h++ {
		p *= phi
		f += 2 * (1 - float64(h)/float64(m)) * p
	}
	return f
}

// winsorizedSD is the SD of xs about their median with deviations clipped
// at ±winsorSigmas robust SDs, made consistent for σ under normal noise
// (winsorConsistency), never below floor.
func winsorizedSD(xs []float64, floor float64) float64 {
	if len(xs) < 2 {
		return floor
	}
	med := baseline.Median(slices.Clone(xs))
	clip := winsorSigmas * robustSD(xs, floor)
	var ss float64
	for _, v := range xs {
		d := min(max(v-med, -clip), clip)
		ss += d * d
	}
	return max(math.Sqrt(ss/float64(len(xs)-1)/winsorConsistency), floor)
}
