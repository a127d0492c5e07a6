package evaluate

import "math"

// MaxRho is the upper clamp of the bias-corrected lag-1 autocorrelation r*
// (and of the rho accepted by MDE). At 0.9 the variance inflation k is 19.
const MaxRho = 0.9

// MDEMultiplier is z₀.₉₇₅ + z₀.₈₀ ≈ 1.96 + 0.84: the minimum detectable
// effect at 80% power for a two-sided 5% test is 2.80 standard errors.
const MDEMultiplier = 2.80

// obs is one observed day of a phase: t is the day index (days since the
// first baseline day) and v the value.
type obs struct {
	t int
	v float64
}

func values(o []obs) []float64 {
	out := make([]float64, len(o))
	for i, p := range o {
		out[i] = p.v
	}
	return out
}

// lag1 returns the lag-1 autocorrelation r = Σ e_t·e_{t−1} / Σ e_t² of the
// within-phase residuals (each value minus its phase mean), pooled over the
// phases. Each phase must be sorted by day.
//
// Gaps: a product e_t·e_{t−1} is formed only for two observed days that are
// consecutive calendar days of the same phase (a missing day, a phase
// boundary or — per protocol — a non-adherent day breaks the chain; no value
// is bridged or imputed). Without gaps there are N − h such pairs for N
// residuals in h phases and r is exactly the textbook estimator. With gaps,
// P < N − h pairs exist and the numerator is rescaled by (N − h)/P, i.e. the
// mean lag-1 product is divided by the mean square, so missing days do not
// shrink r towards 0. With no pair at all (or no variance) r is 0 and ok is
// false.
// Source: Geyer, AR(1) notes (stat.umn.edu/geyer/8054/old_notes/ar1.html); lag-1 sample autocorrelation.
func lag1(phases ...[]obs) (r float64, pairs int, ok bool) {
	var num, den float64
	n, h := 0, 0
	for _, ph := range phases {
		if len(ph) == 0 {
			continue
		}
		h++
		n += len(ph)
		mu := mean(values(ph))
		for i, p := range ph {
			e := p.v - mu
			den += e * e
			if i > 0 && p.t-ph[i-1].t == 1 {
				num += e * (ph[i-1].v - mu)
				pairs++
			}
		}
	}
	if pairs == 0 || den == 0 {
		return 0, pairs, false
	}
	return num / den * float64(n-h) / float64(pairs), pairs, true
}

// biasCorrectRho returns r* = r + (1 + 3r)/n̄ clamped to [0, MaxRho], where
// n̄ is the mean phase length. It corrects the downward bias of the lag-1
// estimator in short series.
// Source: Marriott & Pope (1954) / Kendall (1954): E[r] ≈ ρ − (1+3ρ)/n for an AR(1) with estimated mean (docs/domain.md §2).
func biasCorrectRho(r, nbar float64) float64 {
	if nbar > 0 {
		r += (1 + 3*r) / nbar
	}
	return clampRho(r)
}

func clampRho(r float64) float64 {
	switch {
	case math.IsNaN(r) || r < 0:
		return 0
	case r > MaxRho:
		return MaxRho
	}
	return r
}

// inflation returns the AR(1) variance inflation k = (1+ρ)/(1−ρ) of a mean,
// so that the effective sample size is n/k.
// Source: Geyer, AR(1) notes: asymptotic variance of the mean γ₀(1+ρ)/(1−ρ).
func inflation(rho float64) float64 { return (1 + rho) / (1 - rho) }

// MDE returns the minimum detectable effect at 80% power and two-sided 5%
// level, in the outcome's units:
//
//	MDE₈₀ = 2.80 · σ · √(k/m + k/n),  k = (1+ρ)/(1−ρ)
//
// for a baseline of m valid days and an intervention window of n valid days
// with day-to-day standard deviation sigma (outcome units) and lag-1
// autocorrelation rho. It is meant to be shown before an experiment starts
// (σ and ρ from history); Evaluate reports the same quantity from the data.
// rho is clamped to [0, MaxRho] (negative autocorrelation is not credited).
// It returns 0 — meaning "undefined" — when sigma is negative or not
// finite, rho is NaN, or m or n is below 1; callers validate first.
// Example: σ=30, ρ=0.3 gives ≈30 for 28/30 days, ≈35 for 28/18, ≈42 for
// 28/10 and ≈43 for 14/14.
// Source: docs/domain.md §2 (normal-approximation power formula with AR(1) inflation, Geyer AR(1) notes).
func MDE(sigma, rho float64, m, n int) float64 {
	if m < 1 || n < 1 || sigma < 0 || math.IsNaN(sigma) || math.IsInf(sigma, 0) || math.IsNaN(rho) {
		return 0
	}
	k := inflation(clampRho(rho))
	return MDEMultiplier * sigma * math.Sqrt(k/float64(m)+k/float64(n))
}
