// Package benchdata generates the synthetic user-year that the loop's
// benchmarks run on: cmd/vgbench's loop rows and app/loop's
// BenchmarkLoopFirstRunPostgres use the same data.
package benchdata

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// Metric is one generated metric: daily values mean + sd·N(0,1), plus step
// in the last fifth of the days, clamped into [Lo, Hi] (inside the metric's
// ranges).
type Metric struct {
	Key, Unit      string
	Mean, SD, Step float64
	Lo, Hi         float64
}

// Metrics are the ten metrics of a generated user-year.
var Metrics = []Metric{
	{"resting_hr", "bpm", 55, 2.5, 4, 40, 90},
	{"hrv_rmssd", "ms", 60, 8, -12, 15, 150},
	{"sleep_duration", "min", 450, 30, -60, 200, 700},
	{"sleep_efficiency", "percent", 88, 3, -6, 50, 100},
	{"recovery_score", "score", 65, 12, -20, 1, 100},
	{"readiness_score", "score", 70, 7, -12, 1, 100},
	{"strain", "score", 10, 2, 3, 0, 21},
	{"steps", "count", 8000, 2000, -3000, 0, 40000},
	{"respiratory_rate", "breaths/min", 15, 0.5, 1.2, 10, 25},
	{"skin_temp_deviation", "celsius", 0.1, 0.2, 0.6, -2, 2},
}

// UserYear is days of every metric ending on the UTC day of end, one
// reading a day at 07:00 from source "api", with a step in the last fifth
// and a 4-step outlier every 97 days so the detectors find something.
// The same seed gives the same samples.
func UserYear(days int, seed uint64, end time.Time) []metrics.Sample {
	r := rand.New(rand.NewPCG(seed, 7)) //nolint:gosec // synthetic, reproducible benchmark data: nothing secret
	end = end.UTC().Truncate(24 * time.Hour)
	out := make([]metrics.Sample, 0, days*len(Metrics))
	for _, m := range Metrics {
		for d := range days {
			day := end.AddDate(0, 0, d-days+1)
			v := m.Mean + m.SD*r.NormFloat64()
			if d > days*4/5 {
				v += m.Step
			}
			if d%97 == 50 {
				v += 4 * m.Step
			}
			v = math.Min(math.Max(v, m.Lo), m.Hi)
			out = append(out, metrics.Sample{
				Metric: m.Key, Value: math.Round(v*10) / 10, Unit: m.Unit,
				ObservedAt: day.Add(7 * time.Hour), LocalDay: day.Format(time.DateOnly), Source: "api",
			})
		}
	}
	return out
}
