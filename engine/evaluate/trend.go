package evaluate

import "math"

// ols returns the least-squares coefficients β minimizing ‖y − Xβ‖², where
// X is given column by column (every column as long as y). It uses a
// modified Gram–Schmidt QR factorization; ok is false when X is rank
// deficient (a column is, to 1e-10 relative, a combination of the previous
// ones) or has fewer rows than columns.
// Source: Golub & Van Loan, Matrix Computations §5.2.8 (modified Gram–Schmidt least squares).
func ols(cols [][]float64, y []float64) (beta []float64, ok bool) {
	p, n := len(cols), len(y)
	if p == 0 || n < p {
		return nil, false
	}
	q := make([][]float64, p)
	r := make([][]float64, p)
	for j := range p {
		if len(cols[j]) != n {
			return nil, false
		}
		q[j] = append([]float64(nil), cols[j]...)
		r[j] = make([]float64, p)
	}
	for j := range p {
		norm0 := math.Sqrt(dot(cols[j], cols[j]))
		for i := range j {
			r[i][j] = dot(q[i], q[j])
			axpy(-r[i][j], q[i], q[j])
		}
		r[j][j] = math.Sqrt(dot(q[j], q[j]))
		if norm0 == 0 || r[j][j] <= 1e-10*norm0 {
			return nil, false
		}
		for k := range q[j] {
			q[j][k] /= r[j][j]
		}
	}
	// Project y on Q with re-orthogonalization (MGS applied to y), then back-substitute.
	res := append([]float64(nil), y...)
	qty := make([]float64, p)
	for j := range p {
		qty[j] = dot(q[j], res)
		axpy(-qty[j], q[j], res)
	}
	beta = make([]float64, p)
	for j := p - 1; j >= 0; j-- {
		s := qty[j]
		for k := j + 1; k < p; k++ {
			s -= r[j][k] * beta[k]
		}
		beta[j] = s / r[j][j]
	}
	return beta, true
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// axpy sets y ← y + alpha·x.
func axpy(alpha float64, x, y []float64) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

// piecewise fits y = β₀ + β₁t + β₂D + β₃(t−t₀)D by OLS on the baseline
// points a (D = 0) and intervention points b (D = 1), with t in days since
// the first baseline day and t0 the day index of the intervention start.
// β₁ is the baseline slope (units/day), β₂ the level change at t₀ and β₃ the
// change in slope. ok is false when the design is rank deficient (fewer
// than two distinct days in a phase).
// Source: scan::plm (piecewise linear regression model, Huitema & McKean 2000).
func piecewise(a, b []obs, t0 int) (beta [4]float64, ok bool) {
	n := len(a) + len(b)
	cols := make([][]float64, 4)
	for j := range cols {
		cols[j] = make([]float64, 0, n)
	}
	y := make([]float64, 0, n)
	add := func(p obs, d float64) {
		t := float64(p.t)
		cols[0] = append(cols[0], 1)
		cols[1] = append(cols[1], t)
		cols[2] = append(cols[2], d)
		cols[3] = append(cols[3], (t-float64(t0))*d)
		y = append(y, p.v)
	}
	for _, p := range a {
		add(p, 0)
	}
	for _, p := range b {
		add(p, 1)
	}
	bs, ok := ols(cols, y)
	if !ok {
		return beta, false
	}
	copy(beta[:], bs)
	return beta, true
}
