package evaluate

import "math"

// Mean returns the arithmetic mean of x, or 0 for an empty slice.
func Mean(x []float64) float64 { return mean(x) }

// mean returns the arithmetic mean of x, or 0 for an empty slice.
func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// SampleSD returns the sample standard deviation of x (divisor len(x)−1),
// or 0 when len(x) < 2.
func SampleSD(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	mu := mean(x)
	var ss float64
	for _, v := range x {
		d := v - mu
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// pooledSD returns √(((m−1)s_A² + (n−1)s_B²)/(m+n−2)) for m, n ≥ 1 with
// m+n > 2, else 0.
// Source: standard pooled two-sample SD (jepusto/SingleCaseES, Effect-size-definitions, SMD "pool").
func pooledSD(sdA float64, m int, sdB float64, n int) float64 {
	if m+n <= 2 {
		return 0
	}
	v := (float64(m-1)*sdA*sdA + float64(n-1)*sdB*sdB) / float64(m+n-2)
	return math.Sqrt(v)
}

// hedgesJ returns the small-sample correction J = 1 − 3/(4m − 5) for a
// standardized mean difference scaled by the baseline SD of m ≥ 2 points.
// Source: jepusto/SingleCaseES vignettes/Effect-size-definitions.Rmd (SMD, baseline SD).
func hedgesJ(m int) float64 { return 1 - 3/(4*float64(m)-5) }

// hedgesG returns g = J·Δ/s_A and its standard error
// SE_g = J·√(1/m + s_B²/(n·s_A²) + g²/(2(m−1))), for m, n ≥ 2 and sdA > 0.
// Source: jepusto/SingleCaseES vignettes/Effect-size-definitions.Rmd (SMD, baseline SD).
func hedgesG(delta, sdA, sdB float64, m, n int) (g, se float64) {
	j := hedgesJ(m)
	fm, fn := float64(m), float64(n)
	g = j * delta / sdA
	se = j * math.Sqrt(1/fm+sdB*sdB/(fn*sdA*sdA)+g*g/(2*(fm-1)))
	return g, se
}

// nap returns the non-overlap of all pairs
// NAP = (1/mn)·Σ_a Σ_b [I(b>a) + ½·I(b=a)] (with b<a instead of b>a when
// direction is −1), its null standard error √((m+n+1)/(12mn)) and
// Tau = 2·NAP − 1. a and b must be non-empty.
// Source: jepusto/SingleCaseES vignettes/Effect-size-definitions.Rmd (NAP, Tau).
func nap(a, b []float64, direction int) (napv, se, tau float64) {
	var s float64
	for _, av := range a {
		for _, bv := range b {
			switch {
			case bv == av:
				s += 0.5
			case (bv > av) == (direction >= 0):
				s++
			}
		}
	}
	fm, fn := float64(len(a)), float64(len(b))
	napv = s / (fm * fn)
	se = math.Sqrt((fm + fn + 1) / (12 * fm * fn))
	return napv, se, 2*napv - 1
}
