package claims_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// RandomFacts draws facts for grade g from r, including awkward inputs:
// subjects and metric names that contain disallowed words, negative and
// zero effects, missing CIs and adherence, unknown caveat codes.
func randomFacts(r *rand.Rand, g evidence.Grade) narrate.Facts {
	pick := func(ss []string) string { return ss[r.IntN(len(ss))] }
	subjects := []string{
		"No caffeine after 2pm", "Lights out by 10:30pm", "Increase daily steps", "Cold shower cures all",
		"Magnesium 200 mg", "No alcohol", "Morning run instead of evening run", "", "Reduce screen time",
	}
	metrics := [][3]string{
		{"sleep_duration", "sleep duration", "min"},
		{"resting_hr", "resting heart rate", "bpm"},
		{"hrv_rmssd", "HRV (RMSSD)", "ms"},
		{"steps", "daily steps", "steps"},
		{"spo2", "SpO2", "%"},
		{"strain", "strain", ""},
		{"respiratory_rate", "", "/min"},
	}
	confounders := []string{"travel", "illness", "late caffeine", "time zone change", "lower back pain", "alcohol"}
	caveats := []string{
		narrate.CaveatTrend, narrate.CaveatLowAdherence, narrate.CaveatLowCoverage,
		narrate.CaveatDataGap, narrate.CaveatSwing, narrate.CaveatBelowMDE, "proves_nothing", "weird code",
	}
	dirs := []narrate.Direction{narrate.DirectionIncrease, narrate.DirectionDecrease, narrate.DirectionNone, ""}

	m := metrics[r.IntN(len(metrics))]
	delta := math.Round((r.Float64()*120-60)*100) / 100
	half := r.Float64() * 40
	f := narrate.Facts{
		Subject: pick(subjects), MetricKey: m[0], MetricName: m[1], Unit: m[2],
		Direction: dirs[r.IntN(len(dirs))], Grade: g,
		Delta: delta, CILow: delta - half, CIHigh: delta + half,
		N: r.IntN(91), M: r.IntN(61), Coverage: r.Float64(), MDE: r.Float64() * 50,
		SafetyText: safety.Boundary(safety.Kinds[r.IntN(len(safety.Kinds))], []safety.RiskLevel{safety.RiskLow, safety.RiskModerate, safety.RiskHigh}[r.IntN(3)]),
		Reliable:   r.IntN(2) == 0,
	}
	if r.IntN(4) > 0 {
		a := r.Float64()
		f.Adherence = &a
	}
	if r.IntN(8) == 0 {
		f.CILow, f.CIHigh = math.NaN(), math.NaN()
	}
	if r.IntN(10) == 0 {
		f.Delta = 0
	}
	if r.IntN(2) == 0 {
		f.PeriodFrom = series.DayOf(2025, time.Month(1+r.IntN(12)), 1+r.IntN(28))
		f.PeriodTo = series.AddDays(f.PeriodFrom, 29)
	}
	for _, c := range confounders {
		if r.IntN(4) == 0 {
			f.Confounders = append(f.Confounders, c)
		}
	}
	for _, c := range caveats {
		if r.IntN(4) == 0 {
			f.Caveats = append(f.Caveats, c)
		}
	}
	if r.IntN(20) == 0 {
		f.SafetyText = ""
	}
	return f
}

// TestTemplateNarrativesAlwaysComply is the seeded property test: the
// template narrative of random facts passes the claim policy at every grade.
func TestTemplateNarrativesAlwaysComply(t *testing.T) {
	t.Parallel()
	for _, g := range append(slicesOf(evidence.Grades), "", "Z") {
		t.Run("grade_"+string(g), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(20250301, uint64(len(g))+uint64(g.Rank())))
			for i := range 500 {
				f := randomFacts(r, g)
				n := narrate.Template(f)
				vs := claims.Check(n.Text, f.ClaimContext())
				require.Empty(t, vs, "run %d: %s", i, n.Text)
				if f.SafetyText != "" {
					require.Contains(t, n.Text, f.SafetyText)
				}
				if g.Valid() {
					require.Equal(t, g, n.Grade)
				} else {
					require.Equal(t, evidence.GradeD, n.Grade)
				}
			}
		})
	}
}

func slicesOf(gs []evidence.Grade) []evidence.Grade { return append([]evidence.Grade(nil), gs...) }
