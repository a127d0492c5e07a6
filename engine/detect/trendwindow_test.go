package detect

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTrendStartsWhereTheDataStarts: a steady climb recorded only for the
// last 30 days of the 60-day trend window is dated from its first day, not
// from the empty start of the window.
func TestTrendStartsWhereTheDataStarts(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 60)
	for k := range vals {
		vals[k] = math.NaN()
		if k >= 30 {
			vals[k] = 50 + float64(k-30)*1.0 + []float64{0.4, -0.3, 0.1, -0.2, 0.3}[k%5]
		}
	}
	res := Run(Input{Metric: "steps_like", Series: toSeries(t, vals), AsOf: dayN(60)}, DefaultOptions())
	var trend *Finding
	for i := range res.Findings {
		if res.Findings[i].Kind == KindTrend {
			trend = &res.Findings[i]
		}
	}
	require.NotNil(t, trend, "findings: %+v", res.Findings)
	require.Equal(t, dayN(31), trend.Day)
	require.Equal(t, dayN(31), trend.WindowFrom)
	require.InDelta(t, 1.0, trend.Coverage, 1e-9, "coverage counts from the first data day")
}
