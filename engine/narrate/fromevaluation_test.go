package narrate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// TestEveryEvaluationNarrativePassesTheChecker: over random evaluations of
// every registered metric (effects, autocorrelation, gaps, adherence, drift,
// interim, retrospective and crossover designs), the template narrative of
// FromEvaluation passes claims.Check with its grade and direction support,
// and states a direction only when the interval excludes zero.
func TestEveryEvaluationNarrativePassesTheChecker(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	all := metrics.All()
	runs := 400
	if testing.Short() {
		runs = 80
	}
	start := series.DayOf(2026, 3, 30)
	for i := range runs {
		m := all[rng.IntN(len(all))]
		level := math.Max(m.RejectOutside.Min, 0) + 10
		if !math.IsInf(m.FlagOutside.Min, 0) && !math.IsInf(m.FlagOutside.Max, 0) {
			level = (m.FlagOutside.Min + m.FlagOutside.Max) / 2
		}
		sd := m.TypicalSD
		if m.LnTransform {
			sd *= level
		}
		in := evaluate.Input{
			Metric: m.Key, Start: start, PlannedDays: 32, LagDays: 2, Adherence: map[series.Day]bool{},
			ExpectedDirection: 1, LogScale: m.LnTransform, MinImportantDiff: m.MinImportantDiff,
			Retrospective: rng.IntN(6) == 0,
		}
		first, total := series.AddDays(start, -28), 60
		if rng.IntN(4) == 0 {
			x, err := evaluate.DrawCrossover(3, 8, rng.Uint64())
			require.NoError(t, err)
			in.Crossover, in.PlannedDays, in.Retrospective = &x, x.PlannedDays(), false
			first, total = start, x.PlannedDays()
		}
		effect := rng.NormFloat64() * 2 * sd
		phi := rng.Float64() * 0.8
		e := rng.NormFloat64()
		for k := range total {
			if k > 0 {
				e = phi*e + math.Sqrt(1-phi*phi)*rng.NormFloat64()
			}
			d := series.AddDays(first, k)
			v := level + sd*e
			if !d.Before(start) {
				in.Adherence[d] = rng.Float64() < 0.9
				v += effect
			}
			if rng.Float64() < 0.15 {
				continue
			}
			v = math.Min(math.Max(v, 0.01), 1e6)
			in.Series = append(in.Series, series.Point{Day: d, Value: v})
		}
		if rng.IntN(4) == 0 {
			in.Now, in.InProgress = series.AddDays(start, 5+rng.IntN(in.PlannedDays-5)), true
		}
		ev, err := evaluate.Evaluate(in)
		require.NoError(t, err, "run %d", i)
		f := FromEvaluation(ev, m, Study{
			Subject: "Evening walk", SafetyText: "Stop if you feel unwell.", PlannedTo: series.AddDays(start, in.PlannedDays-1),
			Interim: in.InProgress && !ev.Complete, Cycles: 3,
		})
		n := Template(f)
		require.Empty(t, claims.Check(n.Text, f.ClaimContext()), "run %d (%s, grade %s): %s", i, m.Key, ev.Grade, n.Text)
		if !ev.DirectionSupported {
			ctx := f.ClaimContext()
			ctx.DirectionSupported = false
			require.Empty(t, claims.Check(n.Text, ctx), "run %d: no direction without support: %s", i, n.Text)
		}
	}
}
