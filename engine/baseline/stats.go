package baseline

import (
	"math"
	"slices"
)

// Consistency constants that turn a robust spread into a normal-equivalent
// standard deviation.
const (
	// MADScale turns the unscaled median absolute deviation into a normal SD:
	// σ ≈ 1.4826·MAD = MAD/Φ⁻¹(3/4) (Rousseeuw & Croux 1993; R stats::mad).
	MADScale = 1.4826
	// MeanADScale turns the mean absolute deviation into a normal SD:
	// σ ≈ √(π/2)·MeanAD ≈ 1.2533·MeanAD (the fallback IBM SPSS uses for the
	// modified z-score when MAD = 0).
	MeanADScale = 1.2533
)

// Median returns the median of xs (the mean of the two middle values for an
// even count), or NaN when xs is empty. xs is not modified. NaN elements are
// not allowed (the result is then unspecified).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	buf := slices.Clone(xs)
	return medianInPlace(buf)
}

// medianInPlace returns the median of buf, reordering buf; buf must be
// non-empty. It selects the middle values (quickselect, linear time) rather
// than sorting, with the same result bit for bit: without NaN or −0 the
// order statistics are unique values. With a NaN or a −0 (whose place among
// equal values a sort leaves to the algorithm) it sorts, as it always did.
func medianInPlace(buf []float64) float64 {
	n := len(buf)
	if n < 16 || !selectable(buf) {
		slices.Sort(buf)
		if n%2 == 1 {
			return buf[n/2]
		}
		return (buf[n/2-1] + buf[n/2]) / 2
	}
	k := n / 2
	hi := selectKth(buf, k)
	if n%2 == 1 {
		return hi
	}
	lo := buf[0]
	for _, x := range buf[1:k] {
		lo = max(lo, x)
	}
	return (lo + hi) / 2
}

// selectable reports whether buf holds neither NaN nor −0.
func selectable(buf []float64) bool {
	for _, x := range buf {
		if x != x || (x == 0 && math.Signbit(x)) {
			return false
		}
	}
	return true
}

// selectKth reorders buf so that buf[k] is the value a sort would put there,
// nothing after it smaller and nothing before it larger, and returns it
// (Hoare's quickselect with a median-of-three pivot; it sorts the rest when
// a bad pivot sequence makes it slow).
func selectKth(buf []float64, k int) float64 {
	lo, hi := 0, len(buf)-1
	for steps := 0; lo < hi; steps++ {
		if steps > 64 {
			slices.Sort(buf[lo : hi+1])
			return buf[k]
		}
		mid := lo + (hi-lo)/2
		if buf[mid] < buf[lo] {
			buf[mid], buf[lo] = buf[lo], buf[mid]
		}
		if buf[hi] < buf[lo] {
			buf[hi], buf[lo] = buf[lo], buf[hi]
		}
		if buf[hi] < buf[mid] {
			buf[hi], buf[mid] = buf[mid], buf[hi]
		}
		p := buf[mid]
		i, j := lo, hi
		for i <= j {
			for buf[i] < p {
				i++
			}
			for buf[j] > p {
				j--
			}
			if i <= j {
				buf[i], buf[j] = buf[j], buf[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return buf[k] // between j and i every value equals p
		}
	}
	return buf[k]
}

// MAD returns the unscaled median absolute deviation of xs about its median,
// median(|xᵢ − median(x)|), in the units of xs, or NaN when xs is empty.
// Multiply by MADScale for a normal-consistent SD (Hampel 1974; R
// stats::mad(constant = 1) for the unscaled value). xs is not modified.
func MAD(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	buf := slices.Clone(xs)
	_, mad := medianMAD(buf)
	return mad
}

// medianMAD returns the median and unscaled MAD of buf, reusing buf as
// scratch (its contents are overwritten). buf must be non-empty.
func medianMAD(buf []float64) (med, mad float64) {
	med = medianInPlace(buf)
	for i, x := range buf {
		buf[i] = math.Abs(x - med)
	}
	return med, medianInPlace(buf)
}

// MeanAbsDev returns the mean absolute deviation of xs about center,
// mean(|xᵢ − center|), in the units of xs, or NaN when xs is empty.
func MeanAbsDev(xs []float64, center float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		sum += math.Abs(x - center)
	}
	return sum / float64(len(xs))
}

// EWMA returns the final value of the exponentially weighted moving average
// of xs in order: E₀ = x₀, Eₜ = α·xₜ + (1−α)·Eₜ₋₁ (Roberts 1959; pandas
// ewm(alpha, adjust=False)). α = 0.25 gives the "7-day" EWMA, since
// α = 2/(N+1) with N = 7. It returns NaN when xs is empty or α is outside
// (0, 1].
func EWMA(xs []float64, alpha float64) float64 {
	if len(xs) == 0 || !(alpha > 0 && alpha <= 1) {
		return math.NaN()
	}
	e := xs[0]
	for _, x := range xs[1:] {
		e = alpha*x + (1-alpha)*e
	}
	return e
}
