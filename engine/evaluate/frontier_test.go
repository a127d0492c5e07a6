package evaluate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The power frontier of BASELINE_AB (docs/calibration.md, "Where the power
// limit is"): how much power any calibration of the interval could add at
// φ = 0.3, and what information about ρ from before the baseline would add
// and risk. These cells use the interval model directly (fitAR, contrast),
// σ = 1, 28 baseline + 2 lag + 30 days, no missing days.
//
//	CALIBRATE=full go test -run CalibrationFrontier -v ./engine/evaluate   (20,000 series per ρ)

// frontierDays is the BASELINE_AB design of the calibration: days 0–27
// baseline, 28–29 lag (dropped), 30–59 intervention.
func frontierDays() (t []int, x [][]float64) {
	for i := range simBaseline + simLag + simWindow {
		if i >= simBaseline && i < simBaseline+simLag {
			continue
		}
		d := 0.0
		if i >= simBaseline+simLag {
			d = 1
		}
		t = append(t, i)
		x = append(x, []float64{1, d})
	}
	return t, x
}

// ar1On draws stationary AR(1) noise (σ = 1, lag-1 correlation rho) on days t.
func ar1On(rng *rand.Rand, t []int, rho float64) []float64 {
	y := make([]float64, len(t))
	e := rng.NormFloat64()
	for i := range t {
		if i > 0 {
			for range t[i] - t[i-1] {
				e = rho*e + math.Sqrt(1-rho*rho)*rng.NormFloat64()
			}
		}
		y[i] = e
	}
	return y
}

// withPrior returns f with its posterior over ρ multiplied by prior(ρ) and
// renormalized.
func withPrior(f arFit, prior func(rho float64) float64) arFit {
	g := f
	g.w = make([]float64, len(f.w))
	var tot float64
	for i, r := range f.rho {
		g.w[i] = f.w[i] * prior(r)
		tot += g.w[i]
	}
	for i := range g.w {
		g.w[i] /= tot
	}
	return g
}

func TestCalibrationFrontier(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("simulation: run without the race detector and -short")
	}
	runs := calibrationRuns(t)
	if runs < 20000 {
		runs /= 4 // CI: a quarter, enough for its assertions
	}
	c := []float64{0, 1}
	days, x := frontierDays()
	kT := tQuantile(1-(1-CILevel)/2, float64(len(days)-2))
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d series per ρ (and as many more for each oracle quantile); 1 SD effect.\n\n", runs)
	b.WriteString("| true ρ | 95% quantile of \\|ĉ/SE\\| | null: interval excludes 0 | power: interval | power: SE × t-quantile | power: SE × oracle quantile | power: z, ρ and σ known |\n|---|---|---|---|---|---|---|\n")
	for i, rho := range []float64{0, 0.3, 0.6, 0.8, 0.9} {
		rng := rand.New(rand.NewPCG(uint64(500+i), 0xf407))
		// The pivot T = ĉ/SE (SE the posterior SD of the effect) on null
		// series: its quantile at the true ρ is the oracle critical value.
		pivot := func() (tt, lo, hi, sd float64) {
			y := ar1On(rng, days, rho)
			f, ok := fitAR(days, y, x)
			require.True(t, ok)
			m := f.contrast(c)
			return m.center / m.se(), m.quantile((1 - CILevel) / 2), m.quantile(1 - (1-CILevel)/2), m.se()
		}
		abs := make([]float64, 0, runs)
		for range runs {
			tv, _, _, _ := pivot()
			abs = append(abs, math.Abs(tv))
		}
		slices.Sort(abs)
		qOracle := abs[int(CILevel*float64(len(abs)))]
		var nullEx, powInt, powT, powOracle int
		for range runs {
			tv, lo, hi, sd := pivot()
			if lo > 0 || hi < 0 {
				nullEx++
			}
			// A 1 SD effect shifts ĉ by 1 and leaves the residuals (so SE)
			// unchanged: the same series serves the effect cell.
			if lo+1 > 0 {
				powInt++
			}
			if tv+1/sd > kT {
				powT++
			}
			if tv+1/sd > qOracle {
				powOracle++
			}
		}
		// The exact variance of the OLS contrast at the true ρ (σ = 1).
		f, _ := fitAR(days, ar1On(rng, days, rho), x)
		f.rho, f.w, f.s2 = []float64{rho}, []float64{1}, []float64{1}
		sd := f.contrast(c).scale[0]
		known := 0.5 * math.Erfc(-(1/sd-1.959964)/math.Sqrt2)
		fmt.Fprintf(&b, "| %.1f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", rho, qOracle, rate(nullEx, runs), rate(powInt, runs), rate(powT, runs), rate(powOracle, runs), known)
		if rho <= 0.8 {
			require.LessOrEqual(t, rate(nullEx, runs), 0.05+3*se(0.05, runs), "null: interval excludes 0 at ρ=%.1f", rho)
			// No critical value for this pivot reaches the power of known ρ.
			require.Less(t, rate(powOracle, runs), known, "oracle power below known-ρ power at ρ=%.1f", rho)
		}
	}

	// ρ from 90 days of history before the baseline (their own level, slope
	// and σ; only ρ shared), as a robust mixture prior 0.5·p(ρ | history) +
	// 0.5·uniform (Schmidli et al. 2014). With the history's ρ equal to the
	// experiment's it adds power; when the person's autocorrelation has
	// risen since, it claims too often.
	const historyDays = 90
	var ht []int
	var hx [][]float64
	for i := range historyDays {
		ht = append(ht, i)
		hx = append(hx, []float64{1, float64(i) / historyDays})
	}
	b.WriteString("\n| history ρ → experiment ρ | null: excludes 0, no history | with history | 1 SD power, no history | with history |\n|---|---|---|---|---|\n")
	for i, pair := range [][2]float64{{0, 0}, {0.3, 0.3}, {0.6, 0.6}, {0.8, 0.8}, {0.3, 0.6}, {0.3, 0.8}, {0.6, 0.8}, {0.6, 0.3}} {
		rng := rand.New(rand.NewPCG(uint64(700+i), 0x415))
		var ex0, ex1, pw0, pw1 int
		for range runs {
			hf, ok := fitAR(ht, ar1On(rng, ht, pair[0]), hx)
			require.True(t, ok)
			prior := func(r float64) float64 {
				var p float64
				for j, hr := range hf.rho {
					if math.Abs(hr-r) < rhoStep/2 {
						p = hf.w[j]
					}
				}
				return 0.5*p + 0.5/float64(len(rhoGrid))
			}
			f, ok := fitAR(days, ar1On(rng, days, pair[1]), x)
			require.True(t, ok)
			for k, fit := range []arFit{f, withPrior(f, prior)} {
				m := fit.contrast(c)
				lo, hi := m.quantile((1-CILevel)/2), m.quantile(1-(1-CILevel)/2)
				null := lo > 0 || hi < 0
				pow := lo+1 > 0
				if k == 0 {
					ex0, pw0 = ex0+b2i(null), pw0+b2i(pow)
				} else {
					ex1, pw1 = ex1+b2i(null), pw1+b2i(pow)
				}
			}
		}
		fmt.Fprintf(&b, "| %.1f → %.1f | %.3f | %.3f | %.3f | %.3f |\n", pair[0], pair[1], rate(ex0, runs), rate(ex1, runs), rate(pw0, runs), rate(pw1, runs))
	}
	t.Log(b.String())
	if os.Getenv("CALIBRATE") != "full" {
		t.Log("(a smaller run; CALIBRATE=full for the documented table)")
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
