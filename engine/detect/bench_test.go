package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/vitalgraph/vitalgraph/engine/series"
)

// BenchmarkBaselineDetectUserYear measures one loop-runner pass for one
// metric of one user: a year (365 days) of resting HR with ~10% missing days,
// a 3-day swing and a sustained shift, analysed as of the last day. Run
// computes the trailing baseline of every day (the per-day loop), the swing
// classification, the change points, the trend and the gaps.
func BenchmarkBaselineDetectUserYear(b *testing.B) {
	const n = 365
	vals := rhrDays(b, 2026, n, func(d int) float64 {
		switch {
		case d >= 200 && d <= 202:
			return 8
		case d >= 280:
			return -4
		}
		return 0
	})
	rng := rand.New(rand.NewPCG(7, 365))
	var s series.Series
	for k, v := range vals {
		if rng.Float64() < 0.1 {
			continue
		}
		s = append(s, series.Point{Day: dayN(k + 1), Value: v})
	}
	in := Input{Metric: "resting_hr", Series: s, AsOf: dayN(n)}
	opt := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		res := Run(in, opt)
		if len(res.Findings) == 0 {
			b.Fatal("expected findings")
		}
	}
}
