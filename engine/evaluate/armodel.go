package evaluate

import (
	"math"
	"slices"
)

// The interval model (docs/statistics.md, "Intervals at any autocorrelation").
//
// Every effect Vitalgraph reports is a linear contrast c'β of a regression
// y = Xβ + e fitted by ordinary least squares on the observed days, where
// the errors e follow a stationary AR(1) process in calendar days:
// Corr(e_s, e_t) = ρ^|s−t| with marginal variance σ². Missing days are
// simply absent; the correlation between two observed days k days apart is
// ρ^k, so gaps are handled exactly and nothing is imputed.
//
// The point estimate is the OLS contrast ĉ = c'β̂ (unbiased whatever ρ is,
// and exactly the difference of window means for the two-window design).
// Its uncertainty integrates over what the data say about ρ instead of
// plugging in one estimate (the plug-in AR(1) interval under-covers when ρ
// is high because r is biased towards 0 and its own uncertainty is
// ignored):
//
//   - prior: p(β, σ) ∝ 1/σ and ρ uniform on [RhoMin, RhoMax];
//   - the posterior of ρ is the restricted (REML) likelihood
//     p(ρ | y) ∝ |R_ρ|^{-1/2} · |X'R_ρ⁻¹X|^{-1/2} · S_ρ^{-(n−p)/2},
//     S_ρ the generalized-least-squares residual sum of squares
//     (Harville 1974; Zellner & Tiao 1964 for regression with AR(1) errors);
//   - given ρ, σ² is estimated by s²_ρ = S_ρ/(n−p) and the OLS contrast has
//     variance v_ρ = s²_ρ · a'R_ρ a with a = X(X'X)⁻¹c, so
//     (ĉ − c'β)/√v_ρ ~ t(n−p);
//   - the interval is the equal-tailed 95% interval of the mixture
//     Σ_ρ p(ρ | y) · t_{n−p}(ĉ, v_ρ), evaluated on a grid of ρ.
//
// R_ρ's Cholesky structure makes every ρ cost O(n·p²): the whitening
// w_1 = y_1, w_i = (y_i − ρ^{k_i} y_{i−1})/√(1 − ρ^{2k_i}) (k_i the gap in
// days) turns R_ρ into the identity, with log|R_ρ| = Σ log(1 − ρ^{2k_i}).

// Bounds and step of the grid on which ρ is integrated out. The uniform
// prior over [RhoMin, RhoMax] is weakly informative: it admits anything from
// strong alternation to a near random walk.
const (
	RhoMin  = -0.9
	RhoMax  = 0.975
	rhoStep = 0.05
)

// rhoGrid is the grid of ρ values (package-level data built once; it is
// never mutated).
var rhoGrid = func() []float64 {
	var g []float64
	for i := 0; ; i++ {
		r := RhoMin + float64(i)*rhoStep
		if r > RhoMax+1e-9 {
			break
		}
		g = append(g, r)
	}
	return g
}()

// negligibleWeight: grid points whose posterior weight is below this
// fraction of the largest are dropped (their contribution to any
// probability is below 1e-5 in total).
const negligibleWeight = 1e-7

// arFit is a fitted regression with AR(1) errors: OLS coefficients and the
// posterior over ρ with the residual variance at each retained grid point.
type arFit struct {
	t    []int       // observed day indices, strictly increasing
	x    [][]float64 // design rows
	n, p int
	beta []float64   // OLS coefficients
	xtxI [][]float64 // (X'X)⁻¹
	rho  []float64   // retained grid points
	w    []float64   // their posterior weights (sum 1)
	s2   []float64   // s²_ρ = S_ρ/(n−p)
}

// fitAR fits y = Xβ + AR(1) errors on the days t (strictly increasing). ok
// is false when there are not at least p+2 observations, X'X is singular or
// y has no residual variation.
func fitAR(t []int, y []float64, x [][]float64) (arFit, bool) {
	n := len(y)
	if n == 0 || len(x) != n || len(t) != n {
		return arFit{}, false
	}
	p := len(x[0])
	if n < p+2 {
		return arFit{}, false
	}
	f := arFit{t: t, x: x, n: n, p: p}
	xtx := make([][]float64, p)
	xty := make([]float64, p)
	for j := range p {
		xtx[j] = make([]float64, p)
	}
	for i := range n {
		for j := range p {
			xty[j] += x[i][j] * y[i]
			for k := range p {
				xtx[j][k] += x[i][j] * x[i][k]
			}
		}
	}
	inv, ok := invertSPD(xtx)
	if !ok {
		return arFit{}, false
	}
	f.xtxI = inv
	f.beta = matVec(inv, xty)

	// Centre and scale y for numerical stability of S_ρ (the posterior of
	// ρ and every t-scale are invariant to affine changes of y when X has
	// an intercept column; the scale is put back in s²).
	mu, sd := meanSD(y)
	if sd == 0 {
		return arFit{}, false
	}
	yc := make([]float64, n)
	for i, v := range y {
		yc[i] = (v - mu) / sd
	}

	logPost := make([]float64, 0, len(rhoGrid))
	kept := make([]float64, 0, len(rhoGrid))
	s2 := make([]float64, 0, len(rhoGrid))
	wx := make([]float64, p)
	prevX := make([]float64, p)
	for _, rho := range rhoGrid {
		a := make([][]float64, p)
		for j := range p {
			a[j] = make([]float64, p)
		}
		b := make([]float64, p)
		var yy, logDetR float64
		for i := range n {
			var sc, rk, wy float64
			if i == 0 {
				sc, rk = 1, 0
			} else {
				rk = math.Pow(rho, float64(t[i]-t[i-1]))
				d := 1 - rk*rk
				logDetR += math.Log(d)
				sc = 1 / math.Sqrt(d)
			}
			if i == 0 {
				wy = yc[i]
			} else {
				wy = sc * (yc[i] - rk*yc[i-1])
			}
			for j := range p {
				if i == 0 {
					wx[j] = x[i][j]
				} else {
					wx[j] = sc * (x[i][j] - rk*prevX[j])
				}
			}
			copy(prevX, x[i])
			yy += wy * wy
			for j := range p {
				b[j] += wx[j] * wy
				for k := range p {
					a[j][k] += wx[j] * wx[k]
				}
			}
		}
		chol, logDetA, ok := cholesky(a)
		if !ok {
			continue
		}
		g := cholSolve(chol, b)
		s := yy - dot(g, b)
		if !(s > 1e-12*yy) {
			continue
		}
		lp := -0.5*logDetR - 0.5*logDetA - 0.5*float64(n-p)*math.Log(s)
		logPost = append(logPost, lp)
		kept = append(kept, rho)
		s2 = append(s2, s/float64(n-p)*sd*sd)
	}
	if len(kept) == 0 {
		return arFit{}, false
	}
	top := slices.Max(logPost)
	var total float64
	for i, lp := range logPost {
		w := math.Exp(lp - top)
		if w < negligibleWeight {
			continue
		}
		f.rho = append(f.rho, kept[i])
		f.w = append(f.w, w)
		f.s2 = append(f.s2, s2[i])
		total += w
	}
	for i := range f.w {
		f.w[i] /= total
	}
	return f, true
}

// rhoMean is the posterior mean of ρ.
func (f arFit) rhoMean() float64 {
	var m float64
	for i, r := range f.rho {
		m += f.w[i] * r
	}
	return m
}

// contrast returns the posterior of c'β: a mixture of t(n−p) distributions
// centred on the OLS contrast, one scale per retained ρ.
func (f arFit) contrast(c []float64) tMixture {
	// a = X (X'X)⁻¹ c: the OLS weights of the contrast.
	h := matVec(f.xtxI, c)
	a := make([]float64, f.n)
	for i := range f.n {
		a[i] = dot(f.x[i], h)
	}
	m := tMixture{center: dot(c, f.beta), df: float64(f.n - f.p)}
	m.norm = lnBetaNorm(m.df/2, 0.5)
	u := make([]float64, f.n)
	for gi, rho := range f.rho {
		// a'R a = ‖W⁻ᵀa‖² with W the (lower bidiagonal) whitening matrix:
		// solve Wᵀu = a by back substitution.
		for i := f.n - 1; i >= 0; i-- {
			v := a[i]
			if i+1 < f.n {
				rk := math.Pow(rho, float64(f.t[i+1]-f.t[i]))
				sc1 := 1 / math.Sqrt(1-rk*rk)
				v += sc1 * rk * u[i+1]
			}
			sc := 1.0
			if i > 0 {
				rk := math.Pow(rho, float64(f.t[i]-f.t[i-1]))
				sc = 1 / math.Sqrt(1-rk*rk)
			}
			u[i] = v / sc
		}
		m.scale = append(m.scale, math.Sqrt(f.s2[gi]*dot(u, u)))
		m.weight = append(m.weight, f.w[gi])
	}
	return m
}

// tMixture is Σ weight_j · t_df(center, scale_j²): the posterior of an
// effect with ρ integrated out.
type tMixture struct {
	center float64
	df     float64
	scale  []float64
	weight []float64
	norm   float64 // lnBetaNorm(df/2, 1/2), cached
}

// cdf returns P(X ≤ x).
func (m tMixture) cdf(x float64) float64 {
	var p float64
	for j, s := range m.scale {
		if s == 0 {
			if x >= m.center {
				p += m.weight[j]
			}
			continue
		}
		p += m.weight[j] * m.tcdf((x-m.center)/s)
	}
	return p
}

// tcdf is tCDF(t, m.df) with the cached normalizing constant.
func (m tMixture) tcdf(t float64) float64 {
	var tail float64
	switch {
	case math.IsInf(t, 0):
		tail = 0
	case m.df > normalDF:
		tail = math.Erfc(math.Abs(t)/math.Sqrt2) / 2
	default:
		tail = betaIncRegL(m.df/(m.df+t*t), m.df/2, 0.5, m.norm) / 2
	}
	if t >= 0 {
		return 1 - tail
	}
	return tail
}

// se is the posterior standard deviation (the t scale when df ≤ 2).
func (m tMixture) se() float64 {
	var v float64
	for j, s := range m.scale {
		v += m.weight[j] * s * s
	}
	if m.df > 2 {
		v *= m.df / (m.df - 2)
	}
	return math.Sqrt(v)
}

// quantile returns the q-quantile (0 < q < 1) to 1e-9 of the largest
// scale, by the Illinois variant of regula falsi inside a bracket that
// always holds the root (Dahlquist & Björck, Numerical Methods §6.2).
func (m tMixture) quantile(q float64) float64 {
	smax := slices.Max(m.scale)
	if smax == 0 {
		return m.center
	}
	step := smax * tQuantile(1-1e-4, m.df)
	lo, hi := m.center-step, m.center+step
	flo, fhi := m.cdf(lo)-q, m.cdf(hi)-q
	for flo > 0 {
		lo -= step
		flo = m.cdf(lo) - q
	}
	for fhi < 0 {
		hi += step
		fhi = m.cdf(hi) - q
	}
	side := 0
	for range 200 {
		if hi-lo <= 1e-9*smax {
			break
		}
		x := (lo*fhi - hi*flo) / (fhi - flo)
		if !(x > lo && x < hi) {
			x = (lo + hi) / 2
		}
		fx := m.cdf(x) - q
		switch {
		case fx == 0:
			return x
		case fx < 0:
			lo, flo = x, fx
			if side == -1 {
				fhi /= 2
			}
			side = -1
		default:
			hi, fhi = x, fx
			if side == 1 {
				flo /= 2
			}
			side = 1
		}
		if math.Abs(fx) < 1e-12 {
			return x
		}
	}
	return (lo + hi) / 2
}

// twoSidedP is 2·min(P(X ≤ 0), P(X ≥ 0)): the smallest level at which the
// equal-tailed interval excludes zero.
func (m tMixture) twoSidedP() float64 {
	lo := m.cdf(0)
	return math.Min(1, 2*math.Min(lo, 1-lo))
}

// invertSPD inverts a symmetric positive-definite matrix through its
// Cholesky factor; ok is false when it is not (numerically) positive definite.
func invertSPD(a [][]float64) ([][]float64, bool) {
	l, _, ok := cholesky(a)
	if !ok {
		return nil, false
	}
	p := len(a)
	inv := make([][]float64, p)
	e := make([]float64, p)
	for j := range p {
		clear(e)
		e[j] = 1
		col := cholSolve(l, e)
		for i := range p {
			if inv[i] == nil {
				inv[i] = make([]float64, p)
			}
			inv[i][j] = col[i]
		}
	}
	return inv, true
}

// cholesky returns the lower factor L of a = LLᵀ and log|a|; ok is false
// when a is not positive definite to 1e-12 relative.
// Source: Golub & Van Loan, Matrix Computations §4.2 (Cholesky).
func cholesky(a [][]float64) (l [][]float64, logDet float64, ok bool) {
	p := len(a)
	l = make([][]float64, p)
	var maxDiag float64
	for i := range p {
		l[i] = make([]float64, p)
		maxDiag = math.Max(maxDiag, a[i][i])
	}
	for j := range p {
		s := a[j][j]
		for k := range j {
			s -= l[j][k] * l[j][k]
		}
		if !(s > 1e-12*maxDiag) {
			return nil, 0, false
		}
		l[j][j] = math.Sqrt(s)
		logDet += 2 * math.Log(l[j][j])
		for i := j + 1; i < p; i++ {
			s := a[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			l[i][j] = s / l[j][j]
		}
	}
	return l, logDet, true
}

// cholSolve solves LLᵀx = b.
func cholSolve(l [][]float64, b []float64) []float64 {
	p := len(b)
	z := make([]float64, p)
	for i := range p {
		s := b[i]
		for k := range i {
			s -= l[i][k] * z[k]
		}
		z[i] = s / l[i][i]
	}
	x := make([]float64, p)
	for i := p - 1; i >= 0; i-- {
		s := z[i]
		for k := i + 1; k < p; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x
}

func matVec(m [][]float64, v []float64) []float64 {
	out := make([]float64, len(m))
	for i, row := range m {
		out[i] = dot(row, v)
	}
	return out
}

func meanSD(x []float64) (mu, sd float64) {
	mu = mean(x)
	var ss float64
	for _, v := range x {
		ss += (v - mu) * (v - mu)
	}
	return mu, math.Sqrt(ss / float64(len(x)))
}
