package evaluate

import (
	"math"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// PlanRho is the lag-1 autocorrelation assumed for the MDE shown before an
// experiment starts (docs/domain.md §2).
const PlanRho = 0.3

// PlannedMDE is the minimum detectable effect of a plan, shown before the
// start, in the metric's unit: from the person's last 28 days (SD of the
// analysis-scale values) when at least 7 exist, else from the registry's
// typical SD; with ρ = PlanRho. The map describes the basis for the audit trail. Log-scale metrics are converted at the
// person's usual level.
func PlannedMDE(m metrics.Metric, hist series.Series, start series.Day, planned, lag int, x *Crossover) (float64, map[string]any) {
	win := hist.Window(series.AddDays(start, -DefaultBaselineDays), series.AddDays(start, -1))
	vals := win.Values()
	if m.LnTransform {
		for i, v := range vals {
			vals[i] = math.Log(math.Max(v, 1e-9))
		}
	}
	sigma, basis := SampleSD(vals), "history"
	if len(vals) < 7 || sigma == 0 {
		sigma, basis = m.TypicalSD, "typical"
	}
	a, b := DefaultBaselineDays, planned-lag
	if basis == "history" {
		a = len(vals) // the baseline days with data
	}
	if x != nil {
		a = x.Cycles * (x.BlockDays - lag)
		b = a
	}
	mde := MDE(sigma, PlanRho, a, b)
	if m.LnTransform {
		// In the unit at the person's usual level; with no history, at the
		// geometric middle of the metric's normal range.
		level := math.Sqrt(m.FlagOutside.Min * m.FlagOutside.Max)
		if len(vals) > 0 {
			level = math.Exp(Mean(vals))
		}
		if math.IsNaN(level) || math.IsInf(level, 0) {
			level = 1
		}
		mde = level * math.Expm1(mde)
	}
	return mde, map[string]any{"sigma": sigma, "sigmaFrom": basis, "rho": PlanRho, "controlDays": a, "interventionDays": b}
}
