package evaluate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMeanSD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		x        []float64
		mean, sd float64
	}{
		{name: "empty", x: nil, mean: 0, sd: 0},
		{name: "one", x: []float64{7}, mean: 7, sd: 0},
		{name: "1..4", x: []float64{1, 2, 3, 4}, mean: 2.5, sd: math.Sqrt(5.0 / 3)}, // Σ(x−2.5)² = 5, /3
		{name: "constant", x: []float64{3, 3, 3}, mean: 3, sd: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.mean, mean(tc.x), 1e-12)
			require.InDelta(t, tc.sd, SampleSD(tc.x), 1e-12)
		})
	}
}

func TestPooledSD(t *testing.T) {
	t.Parallel()
	// ((3−1)·1² + (5−1)·2²)/(3+5−2) = (2 + 16)/6 = 3.
	require.InDelta(t, math.Sqrt(3), pooledSD(1, 3, 2, 5), 1e-12)
	require.Zero(t, pooledSD(1, 1, 2, 1))
}

func TestHedges(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 0.8, hedgesJ(5), 1e-12)                 // 1 − 3/15
	require.InDelta(t, 1-3.0/107, hedgesJ(28), 1e-12)          // 0.97196
	require.InDelta(t, 0.9719626168224299, hedgesJ(28), 1e-12) // docs/domain.md G1: 0.972

	// Δ = 2, s_A = 1, s_B = 2, m = 5, n = 4: g = 0.8·2/1 = 1.6,
	// SE = 0.8·√(1/5 + 4/(4·1) + 1.6²/(2·4)) = 0.8·√1.52.
	g, se := hedgesG(2, 1, 2, 5, 4)
	require.InDelta(t, 1.6, g, 1e-12)
	require.InDelta(t, 0.9863062404750362, se, 1e-12)

	// docs/domain.md G1: g = 0.972 × 40/30 = 1.296.
	g, _ = hedgesG(40, 30, 30, 28, 30)
	require.InDelta(t, 1.296, g, 0.001)
}

func TestNAP(t *testing.T) {
	t.Parallel()
	a := []float64{1, 2, 3}
	b := []float64{2, 3, 4}
	// Increase: b=2 → 1 win + 1 tie = 1.5; b=3 → 2 + 0.5 = 2.5; b=4 → 3. Σ = 7 of 9.
	napv, se, tau := nap(a, b, 1)
	require.InDelta(t, 7.0/9, napv, 1e-12)
	require.InDelta(t, math.Sqrt(7.0/108), se, 1e-12) // √((3+3+1)/(12·9))
	require.InDelta(t, 5.0/9, tau, 1e-12)
	// Direction 0 is oriented like +1.
	napv0, _, _ := nap(a, b, 0)
	require.InDelta(t, napv, napv0, 1e-12)
	// Decrease: b=2 → 1 + 0.5; b=3 → 0.5; b=4 → 0. Σ = 2 of 9.
	napv, _, tau = nap(a, b, -1)
	require.InDelta(t, 2.0/9, napv, 1e-12)
	require.InDelta(t, -5.0/9, tau, 1e-12)
	// All ties.
	napv, _, tau = nap([]float64{5, 5}, []float64{5}, 1)
	require.InDelta(t, 0.5, napv, 1e-12)
	require.InDelta(t, 0, tau, 1e-12)
}

func seq(t0 int, v ...float64) []obs {
	out := make([]obs, len(v))
	for i, x := range v {
		out[i] = obs{t: t0 + i, v: x}
	}
	return out
}

func TestLag1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		phases [][]obs
		r      float64
		pairs  int
		ok     bool
	}{
		// e = −2,−1,0,1,2: Σe_t·e_{t−1} = 2+0+0+2 = 4, Σe² = 10.
		{name: "one phase", phases: [][]obs{seq(0, 1, 2, 3, 4, 5)}, r: 0.4, pairs: 4, ok: true},
		// A: e = −1,0,1 (Σ products 0, Σe² 2); B: mean 6, e = −1,1,0 (Σ products −1, Σe² 2).
		{name: "two phases", phases: [][]obs{seq(0, 1, 2, 3), seq(5, 5, 7, 6)}, r: -0.25, pairs: 4, ok: true},
		// Days 0,1,3,4 (day 2 missing): e = −2,−1,1,2; pairs (0,1) and (3,4) give 2+2 = 4
		// over 2 pairs; Σe² = 10 over N−h = 3 gap-free pairs: r = 4/10 · 3/2.
		{name: "gap is not bridged", phases: [][]obs{{{0, 1}, {1, 2}, {3, 4}, {4, 5}}}, r: 0.6, pairs: 2, ok: true},
		{name: "no consecutive days", phases: [][]obs{{{0, 1}, {2, 2}, {4, 4}}}, r: 0, pairs: 0, ok: false},
		{name: "no variance", phases: [][]obs{seq(0, 3, 3, 3)}, r: 0, pairs: 2, ok: false},
		{name: "empty phase ignored", phases: [][]obs{nil, seq(0, 1, 2, 3, 4, 5)}, r: 0.4, pairs: 4, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, pairs, ok := lag1(tc.phases...)
			require.InDelta(t, tc.r, r, 1e-12)
			require.Equal(t, tc.pairs, pairs)
			require.Equal(t, tc.ok, ok)
		})
	}
}

func TestBiasCorrectionAndInflation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		r, nbar  float64
		rStar, k float64
	}{
		{name: "typical", r: 0.1, nbar: 29, rStar: 0.1 + 1.3/29, k: 1.338709677419355},
		{name: "clamped at 0", r: -0.5, nbar: 10, rStar: 0, k: 1},
		{name: "clamped at 0.9", r: 0.85, nbar: 10, rStar: 0.9, k: 19},
		{name: "zero", r: 0, nbar: 20, rStar: 0.05, k: 1.05 / 0.95},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := biasCorrectRho(tc.r, tc.nbar)
			require.InDelta(t, tc.rStar, rs, 1e-12)
			require.InDelta(t, tc.k, inflation(rs), 1e-12)
		})
	}
}

func TestMDE(t *testing.T) {
	t.Parallel()
	// docs/domain.md §2 table, σ = 30, ρ = 0.3 (k = 13/7).
	tests := []struct {
		m, n    int
		domain  float64 // as printed in docs/domain.md
		precise float64 // 2.80·30·√(k/m + k/n)
	}{
		{m: 28, n: 30, domain: 30, precise: 30.079893616833157},
		{m: 28, n: 18, domain: 35, precise: 34.583232931581165},
		{m: 28, n: 10, domain: 42, precise: 42.17108013793339},
		{m: 14, n: 14, domain: 43, precise: 43.266615305567875},
	}
	for _, tc := range tests {
		got := MDE(30, 0.3, tc.m, tc.n)
		require.InDelta(t, tc.domain, got, 1, "m=%d n=%d", tc.m, tc.n)
		require.InDelta(t, tc.precise, got, 1e-9, "m=%d n=%d", tc.m, tc.n)
	}
	// ρ = 0: 2.8·σ·√(1/m + 1/n).
	require.InDelta(t, 2.8*10*math.Sqrt(0.5), MDE(10, 0, 4, 4), 1e-12)
	// Clamps and undefined inputs.
	require.InDelta(t, MDE(30, 0, 28, 30), MDE(30, -0.4, 28, 30), 1e-12)
	require.InDelta(t, MDE(30, MaxRho, 28, 30), MDE(30, 0.99, 28, 30), 1e-12)
	for _, v := range []float64{MDE(30, 0.3, 0, 30), MDE(30, 0.3, 28, 0), MDE(-1, 0.3, 28, 30), MDE(math.NaN(), 0.3, 28, 30), MDE(30, math.NaN(), 28, 30), MDE(math.Inf(1), 0.3, 28, 30)} {
		require.Zero(t, v)
	}
}

func TestBetaIncReg(t *testing.T) {
	t.Parallel()
	for _, x := range []float64{0.01, 0.2, 0.5, 0.77, 0.99} {
		require.InDelta(t, x, betaIncReg(x, 1, 1), 1e-13)                      // uniform
		require.InDelta(t, math.Pow(x, 3.5), betaIncReg(x, 3.5, 1), 1e-13)     // I_x(a,1) = x^a
		require.InDelta(t, 1-math.Pow(1-x, 2.5), betaIncReg(x, 1, 2.5), 1e-13) // I_x(1,b) = 1−(1−x)^b
	}
	require.InDelta(t, 0.5, betaIncReg(0.5, 7.3, 7.3), 1e-13) // symmetry
	require.Zero(t, betaIncReg(0, 2, 3))
	require.InDelta(t, 1.0, betaIncReg(1, 2, 3), 0)
}

func TestStudentT(t *testing.T) {
	t.Parallel()
	t.Run("quantile table", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			p, df, want float64
		}{
			{0.975, 10, 2.228139},
			{0.975, 30, 2.042272},
			{0.975, math.Inf(1), 1.959964},
			{0.975, 1, 12.706205},
			{0.975, 5, 2.570582},
			{0.95, 5, 2.015048},
			{0.995, 5, 4.032143},
			{0.95, 10, 1.812461},
			{0.025, 10, -2.228139},
			// Non-integer df: reference by Simpson integration of the density.
			{0.975, 2.5, 3.574655},
			{0.975, 7.3, 2.345067},
		}
		for _, tc := range tests {
			require.InDelta(t, tc.want, tQuantile(tc.p, tc.df), 1e-6, "p=%v df=%v", tc.p, tc.df)
		}
		require.Zero(t, tQuantile(0.5, 3))
	})
	t.Run("closed forms", func(t *testing.T) {
		t.Parallel()
		for _, x := range []float64{-4, -1, -0.3, 0, 0.7, 2, 9} {
			require.InDelta(t, 0.5+math.Atan(x)/math.Pi, tCDF(x, 1), 1e-13)               // Cauchy
			require.InDelta(t, 0.5+x/(2*math.Sqrt(2+x*x)), tCDF(x, 2), 1e-13)             // df = 2
			require.InDelta(t, 0.5*math.Erfc(-x/math.Sqrt2), tCDF(x, math.Inf(1)), 1e-15) // normal
		}
		for _, p := range []float64{0.6, 0.9, 0.975, 0.999} {
			require.InDelta(t, math.Tan(math.Pi*(p-0.5)), tQuantile(p, 1), 1e-9*math.Tan(math.Pi*(p-0.5)))
			require.InDelta(t, (2*p-1)/math.Sqrt(2*p*(1-p)), tQuantile(p, 2), 1e-9)
		}
	})
	t.Run("CDF table", func(t *testing.T) {
		t.Parallel()
		require.InDelta(t, 0.75, tCDF(1, 1), 1e-12)
		require.InDelta(t, 0.7886751345948129, tCDF(1, 2), 1e-12)
		require.InDelta(t, 0.975, tCDF(2.228139, 10), 1e-7)
		require.InDelta(t, 0.975, tCDF(2.042272, 30), 1e-7)
		require.InDelta(t, 0.95, tCDF(1.812461, 10), 1e-7)
		require.InDelta(t, 0.025, tCDF(-2.228139, 10), 1e-7)
		require.InDelta(t, 0.8656666379136877, tCDF(1.3, 3.7), 1e-9) // Simpson reference
		require.InDelta(t, 0.05, tTwoSidedP(2.228139, 10), 2e-7)
		require.InDelta(t, 1, tTwoSidedP(0, 4), 1e-15)
		require.Zero(t, tTwoSidedP(math.Inf(1), 4))
		require.Less(t, tTwoSidedP(40, 30), 1e-20) // tail keeps its precision
		require.Greater(t, tTwoSidedP(40, 30), 0.0)
	})
	t.Run("CDF matches integrated density for non-integer df", func(t *testing.T) {
		t.Parallel()
		for _, df := range []float64{1.5, 3.7, 12.25, 57.9} {
			for _, x := range []float64{0.25, 1.3, 2.7} {
				require.InDelta(t, simpsonTCDF(x, df), tCDF(x, df), 1e-9, "df=%v x=%v", df, x)
			}
		}
	})
	t.Run("quantile inverts CDF", func(t *testing.T) {
		t.Parallel()
		for _, df := range []float64{1, 1.37, 4.5, 29.8, 200, 1e6} {
			for _, p := range []float64{0.001, 0.2, 0.5, 0.8, 0.975, 0.9999} {
				q := tQuantile(p, df)
				require.InDelta(t, p, tCDF(q, df), 1e-10, "df=%v p=%v", df, p)
			}
		}
	})
}

// simpsonTCDF integrates the Student-t density from 0 to x (composite
// Simpson, 20 000 intervals): an independent reference for tCDF.
func simpsonTCDF(x, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(df*math.Pi)
	pdf := func(u float64) float64 { return c * math.Pow(1+u*u/df, -(df+1)/2) }
	const n = 20000
	h := x / n
	s := pdf(0) + pdf(x)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * pdf(float64(i)*h)
	}
	return 0.5 + s*h/3
}

func TestOLS(t *testing.T) {
	t.Parallel()
	ones := []float64{1, 1, 1, 1}
	x := []float64{0, 1, 2, 3}
	t.Run("exact line", func(t *testing.T) {
		t.Parallel()
		beta, ok := ols([][]float64{ones, x}, []float64{1, 3, 5, 7})
		require.True(t, ok)
		require.InDeltaSlice(t, []float64{1, 2}, beta, 1e-12)
	})
	t.Run("least squares", func(t *testing.T) {
		t.Parallel()
		// x̄ = 1.5, ȳ = 2.75, Sxy = 5.5, Sxx = 5: slope 1.1, intercept 2.75 − 1.65.
		beta, ok := ols([][]float64{ones, x}, []float64{1, 3, 2, 5})
		require.True(t, ok)
		require.InDeltaSlice(t, []float64{1.1, 1.1}, beta, 1e-12)
	})
	t.Run("rank deficient", func(t *testing.T) {
		t.Parallel()
		_, ok := ols([][]float64{ones, x, {2, 3, 4, 5}}, []float64{1, 3, 2, 5})
		require.False(t, ok)
		_, ok = ols([][]float64{ones, x}, []float64{1})
		require.False(t, ok)
	})
	t.Run("piecewise", func(t *testing.T) {
		t.Parallel()
		// A: y = 10 + 0.5t on t = 0..4; lag t = 5, 6; B: y = 10 + 0.5t + 3 + 0.2(t − 7) on t = 7..10.
		var a, b []obs
		for tt := range 5 {
			a = append(a, obs{t: tt, v: 10 + 0.5*float64(tt)})
		}
		for tt := 7; tt <= 10; tt++ {
			b = append(b, obs{t: tt, v: 10 + 0.5*float64(tt) + 3 + 0.2*float64(tt-7)})
		}
		beta, ok := piecewise(a, b, 7)
		require.True(t, ok)
		require.InDeltaSlice(t, []float64{10, 0.5, 3, 0.2}, beta[:], 1e-10)
		_, ok = piecewise(a, b[:1], 7)
		require.False(t, ok, "one intervention day cannot identify a slope")
	})
}
