package main

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// plan describes a planted daily series (days 1..numDays), built as in
// engine/evaluate/internal/fixturegen: level + drift + σ·AR(1) noise +
// effect from startDayN, with the noise projected off each window's mean and
// day trend over the observed days and scaled so the observed baseline noise
// has a sample SD of exactly sigma.
type plan struct {
	seed          uint64
	level, sigma  float64
	phi, effect   float64
	missing       []int // days without data (not modelled)
	excludeNoise  []int // observed days left out of the projection (planted shocks)
	orthogonalize bool  // false: raw AR(1) noise scaled to σ only in expectation
}

// arNoise returns n standard AR(1) draws with coefficient phi.
func arNoise(rng *rand.Rand, n int, phi float64) []float64 {
	noise := make([]float64, n)
	innov := math.Sqrt(1 - phi*phi)
	noise[0] = rng.NormFloat64()
	for i := 1; i < n; i++ {
		noise[i] = phi*noise[i-1] + innov*rng.NormFloat64()
	}
	return noise
}

// build returns the value of every day 1..numDays (index 0 = day 1), NaN
// for a missing day.
func (p plan) build() ([]float64, error) {
	rng := rand.New(rand.NewPCG(p.seed, 0x5eed)) //nolint:gosec // seeded fixture data, not security
	noise := arNoise(rng, numDays, p.phi)
	missing := func(d int) bool { return slices.Contains(p.missing, d) }
	evalStart, evalEnd := startDayN+lagDays, startDayN+plannedDays-1
	group := func(d int) int {
		switch {
		case missing(d) || slices.Contains(p.excludeNoise, d):
			return -1
		case d < startDayN && d >= startDayN-baselineDays:
			return 0
		case d >= evalStart && d <= evalEnd:
			return 1
		}
		return -1
	}
	var rows []int
	for d := 1; d <= numDays; d++ {
		if group(d) >= 0 {
			rows = append(rows, d)
		}
	}
	scale := 1.0
	if p.orthogonalize {
		var cols [][]float64
		for g := range 2 {
			one := make([]float64, len(rows))
			day := make([]float64, len(rows))
			for i, d := range rows {
				if group(d) == g {
					one[i], day[i] = 1, float64(d)
				}
			}
			cols = append(cols, one, day)
		}
		e := make([]float64, len(rows))
		for i, d := range rows {
			e[i] = noise[d-1]
		}
		if err := projectOff(cols, e); err != nil {
			return nil, err
		}
		for i, d := range rows {
			noise[d-1] = e[i]
		}
		var base []float64
		for _, d := range rows {
			if group(d) == 0 {
				base = append(base, noise[d-1])
			}
		}
		scale = 1 / sampleSD(base)
	}
	vals := make([]float64, numDays)
	for d := 1; d <= numDays; d++ {
		if missing(d) {
			vals[d-1] = math.NaN()
			continue
		}
		v := p.level + p.sigma*scale*noise[d-1]
		if d >= startDayN {
			v += p.effect
		}
		vals[d-1] = v
	}
	return vals, nil
}

// projectOff replaces e by its residual after least-squares projection on
// the span of cols (modified Gram–Schmidt, applied twice).
func projectOff(cols [][]float64, e []float64) error {
	q := make([][]float64, 0, len(cols))
	for _, c := range cols {
		v := slices.Clone(c)
		norm0 := math.Sqrt(dot(v, v))
		for range 2 {
			for _, u := range q {
				axpy(-dot(u, v), u, v)
			}
		}
		nv := math.Sqrt(dot(v, v))
		if nv <= 1e-10*norm0 {
			return errors.New("rank-deficient noise design")
		}
		for i := range v {
			v[i] /= nv
		}
		q = append(q, v)
	}
	for range 2 {
		for _, u := range q {
			axpy(-dot(u, e), u, e)
		}
	}
	return nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

func sampleSD(x []float64) float64 {
	var mu float64
	for _, v := range x {
		mu += v
	}
	mu /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mu) * (v - mu)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// nap computes the non-overlap of all pairs (docs/domain.md §2) of b over a.
func nonOverlap(a, b []float64) float64 {
	var s float64
	for _, x := range a {
		for _, y := range b {
			switch {
			case y > x:
				s++
			case y == x:
				s += 0.5
			}
		}
	}
	return s / float64(len(a)*len(b))
}
