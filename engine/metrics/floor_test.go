package metrics_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// TestObservationDateFloor checks the plausibility floor: a sample before
// Options.Earliest (default 2000-01-01) is TOO_OLD, one at the floor passes.
func TestObservationDateFloor(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ts time.Time) metrics.Sample {
		return metrics.Sample{Metric: "resting_hr", Value: 60, Unit: "bpm", ObservedAt: ts, LocalDay: ts.Format(time.DateOnly), Source: metrics.SourceManual}
	}
	codes := func(r metrics.Result) []string {
		var out []string
		for _, p := range r.Problems {
			out = append(out, p.Code)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		ts       time.Time
		earliest time.Time
		want     []string
	}{
		{"1900", time.Date(1900, 1, 1, 8, 0, 0, 0, time.UTC), time.Time{}, []string{metrics.CodeTooOld}},
		{"the Unix epoch", time.Unix(0, 0).UTC(), time.Time{}, []string{metrics.CodeTooOld}},
		{"a second before the default floor", metrics.DefaultEarliest.Add(-time.Second), time.Time{}, []string{metrics.CodeTooOld}},
		{"at the default floor", metrics.DefaultEarliest, time.Time{}, nil},
		{"before a configured floor", time.Date(2015, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), []string{metrics.CodeTooOld}},
		{"after a configured floor", time.Date(2016, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := metrics.ValidateBatch([]metrics.Sample{at(tc.ts)}, now, metrics.Options{Earliest: tc.earliest})
			require.Equal(t, tc.want, codes(r))
			if tc.want != nil {
				require.Equal(t, metrics.FieldObservedAt, r.Problems[0].Field)
				require.Contains(t, r.Problems[0].Message, "earliest plausible")
			}
		})
	}
}
