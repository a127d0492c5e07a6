package evaluate

import "math"

// Student-t distribution for real (non-integer) degrees of freedom, built on
// the regularized incomplete beta function. Only the two functions the
// evaluation needs are provided: the two-sided tail probability and the
// quantile. Both accept df = +Inf (the standard normal).

// normalDF is the df above which the t distribution is replaced by the
// standard normal (the difference is below 1e-7 in the tail probabilities we use).
const normalDF = 1e7

// betaIncReg returns the regularized incomplete beta function I_x(a, b) for
// a, b > 0 and 0 ≤ x ≤ 1.
// Source: Numerical Recipes (3rd ed.) §6.4, continued fraction with the modified Lentz method.
func betaIncReg(x, a, b float64) float64 {
	return betaIncRegL(x, a, b, lnBetaNorm(a, b))
}

// lnBetaNorm is ln Γ(a+b) − ln Γ(a) − ln Γ(b), the normalizing constant of
// betaIncRegL (callers evaluating many x at the same a, b compute it once).
func lnBetaNorm(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return lab - la - lb
}

// betaIncRegL is betaIncReg with its normalizing constant lnBetaNorm(a, b) given.
func betaIncRegL(x, a, b, norm float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	front := math.Exp(norm + a*math.Log(x) + b*math.Log1p(-x))
	// The continued fraction converges fast for x < (a+1)/(a+b+2); use the
	// symmetry I_x(a,b) = 1 − I_{1−x}(b,a) otherwise.
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

// betaCF evaluates the continued fraction of the incomplete beta function.
// Source: Numerical Recipes (3rd ed.) §6.4 (betacf).
func betaCF(x, a, b float64) float64 {
	const (
		maxIter = 10000
		eps     = 1e-15
		tiny    = 1e-300
	)
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// tTwoSidedP returns P(|T| ≥ |t|) for T ~ Student-t(df), df > 0 (df may be
// non-integer or +Inf). It is computed directly from the incomplete beta so
// that tiny p-values keep their precision.
// Source: Abramowitz & Stegun 26.7.1 / 26.5.27: P(|T|≥t) = I_{df/(df+t²)}(df/2, 1/2).
func tTwoSidedP(t, df float64) float64 {
	t = math.Abs(t)
	if math.IsInf(t, 1) {
		return 0
	}
	if df > normalDF {
		return math.Erfc(t / math.Sqrt2)
	}
	return betaIncReg(df/(df+t*t), df/2, 0.5)
}

// tCDF returns P(T ≤ t) for T ~ Student-t(df), df > 0.
func tCDF(t, df float64) float64 {
	tail := tTwoSidedP(t, df) / 2
	if t >= 0 {
		return 1 - tail
	}
	return tail
}

// tPDF returns the Student-t(df) density at t, df > 0 finite.
func tPDF(t, df float64) float64 {
	l1, _ := math.Lgamma((df + 1) / 2)
	l2, _ := math.Lgamma(df / 2)
	return math.Exp(l1 - l2 - 0.5*math.Log(df*math.Pi) - (df+1)/2*math.Log1p(t*t/df))
}

// tQuantile returns the p-quantile of Student-t(df) for 0 < p < 1 and df > 0
// (df may be non-integer or +Inf), to about 1e-12 relative. It starts from
// the Cornish–Fisher expansion around the normal quantile and refines by
// Newton steps on the upper tail probability, safeguarded by bisection
// inside a bracket that always contains the root.
// Source: Abramowitz & Stegun 26.7.5 (Cornish–Fisher start); Newton–bisection (Numerical Recipes §9.4 rtsafe).
func tQuantile(p, df float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case p < 0.5:
		return -tQuantile(1-p, df)
	}
	z := math.Sqrt2 * math.Erfinv(2*p-1)
	if df > normalDF {
		return z
	}
	target := 1 - p // upper tail probability at the quantile
	upper := func(x float64) float64 { return tTwoSidedP(x, df) / 2 }

	// Bracket [lo, hi] with upper(lo) > target ≥ upper(hi).
	lo, hi := 0.0, math.Max(1, 2*z)
	for upper(hi) > target {
		lo, hi = hi, 2*hi
		if hi > 1e300 {
			return math.MaxFloat64
		}
	}
	z2 := z * z
	x := z + z*(z2+1)/(4*df) + z*((5*z2+16)*z2+3)/(96*df*df) +
		z*(((3*z2+19)*z2+17)*z2-15)/(384*df*df*df)
	if !(x > lo && x < hi) {
		x = lo + (hi-lo)/2
	}
	for range 100 {
		f := upper(x) - target // decreasing in x
		if f == 0 {
			return x
		}
		if f > 0 {
			lo = x
		} else {
			hi = x
		}
		next := x + f/tPDF(x, df) // Newton: upper'(x) = −pdf(x)
		if !(next > lo && next < hi) {
			next = lo + (hi-lo)/2
		}
		if math.Abs(next-x) <= 1e-13*math.Abs(next) || hi-lo <= 1e-13*hi {
			return next
		}
		x = next
	}
	return x
}
