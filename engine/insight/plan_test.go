package insight

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

var asOf = series.DayOf(2026, 6, 30)

func rhrMetric(t *testing.T) metrics.Metric {
	t.Helper()
	m, ok := metrics.Lookup(metrics.KeyRestingHR)
	require.True(t, ok)
	return m
}

func trendFinding(dir detect.Direction, from series.Day, p, conf float64) detect.Finding {
	return detect.Finding{
		Kind: detect.KindTrend, Metric: metrics.KeyRestingHR, Day: from, EndDay: asOf, Direction: dir,
		Key:   "trend:resting_hr:" + from.Format("2006-01-02") + ":" + map[detect.Direction]string{detect.DirectionUp: "up", detect.DirectionDown: "down"}[dir],
		Value: 62, Baseline: 58, Detector: detect.DetectorOLS, Confidence: conf, SampleSize: 55, Coverage: 0.92,
		WindowFrom: from, WindowTo: asOf, PValue: p, Span: 60,
	}
}

func result(fs []detect.Finding, tests ...detect.Test) []MetricResult {
	return []MetricResult{{Metric: metrics.Metric{}, Result: detect.Result{Metric: metrics.KeyRestingHR, AsOf: asOf, Findings: fs, Tests: tests}}}
}

func TestDecideReversalSupersedes(t *testing.T) {
	t.Parallel()
	m := rhrMetric(t)
	from := series.AddDays(asOf, -59)
	old := Record{
		ID: "old", Key: "trend:resting_hr:2026-05-01:up", Kind: detect.KindTrend, Metric: m.Key,
		Direction: detect.DirectionUp, StartDay: from, EndDay: series.AddDays(asOf, -9), Status: Open, Grade: evidence.GradeB, Confidence: 0.7,
	}
	f := trendFinding(detect.DirectionDown, from, 1e-5, 0.9)
	res := result([]detect.Finding{f}, detect.Test{Kind: detect.KindTrend, P: 1e-5})
	res[0].Metric = m
	plan := Decide(res, []Record{old})
	require.Len(t, plan.Actions, 1)
	a := plan.Actions[0]
	require.Equal(t, Create, a.Kind)
	require.Equal(t, f.Key, a.Key)
	require.Equal(t, []Record{old}, a.Supersedes)
	require.True(t, a.DirectionSupported)
	require.Empty(t, Violations(m, f, a.Text, a.Assessment.Grade, true))
}

func TestDecideFalseDiscoveryHold(t *testing.T) {
	t.Parallel()
	m := rhrMetric(t)
	f := trendFinding(detect.DirectionUp, series.AddDays(asOf, -59), 0.004, 0.6)
	// 15 tests: BH's smallest bound is 0.05/15 = 0.0033 < 0.004; nothing passes.
	tests := []detect.Test{{Kind: detect.KindTrend, P: 0.004}}
	for range 14 {
		tests = append(tests, detect.Test{Kind: detect.KindAnomaly, P: 0.5})
	}
	res := result([]detect.Finding{f}, tests...)
	res[0].Metric = m
	plan := Decide(res, nil)
	require.Equal(t, 15, plan.Tests)
	require.Zero(t, plan.Threshold)
	require.Len(t, plan.Actions, 1)
	require.Equal(t, Hold, plan.Actions[0].Kind)
	// With 5 tests the bound is 0.01: it passes.
	res[0].Result.Tests = tests[:5]
	plan = Decide(res, nil)
	require.Equal(t, Create, plan.Actions[0].Kind)
	require.InDelta(t, 0.004, plan.Threshold, 1e-12)
}

func TestDecideRegradeAndDismissed(t *testing.T) {
	t.Parallel()
	m := rhrMetric(t)
	from := series.AddDays(asOf, -59)
	f := trendFinding(detect.DirectionUp, from, 1e-6, 0.95) // grade A now
	open := Record{
		ID: "o", Key: f.Key, Kind: detect.KindTrend, Metric: m.Key, Direction: detect.DirectionUp,
		StartDay: from, EndDay: series.AddDays(asOf, -5), Status: Open, Grade: evidence.GradeC, Confidence: 0.45,
	}
	res := result([]detect.Finding{f})
	res[0].Metric = m
	plan := Decide(res, []Record{open})
	require.Len(t, plan.Actions, 1)
	require.Equal(t, Regrade, plan.Actions[0].Kind)
	require.Equal(t, evidence.GradeA, plan.Actions[0].Assessment.Grade)
	require.Equal(t, "o", plan.Actions[0].Target.ID)

	// Unchanged grade and confidence: nothing to write.
	open.Grade, open.Confidence = evidence.GradeA, plan.Actions[0].Assessment.Confidence
	require.Empty(t, Decide(res, []Record{open}).Actions)

	// Dismissed: never re-raised while its span overlaps, even as the
	// window (and so the key) moves on.
	dismissed := open
	dismissed.Status, dismissed.Key = Closed, "trend:resting_hr:2026-04-20:up"
	moved := f
	moved.Day, moved.Key = series.AddDays(from, 3), "trend:resting_hr:2026-05-05:up"
	res = result([]detect.Finding{moved})
	res[0].Metric = m
	require.Empty(t, Decide(res, []Record{dismissed}).Actions)
}

func TestDecideKeysStayUnique(t *testing.T) {
	t.Parallel()
	m := rhrMetric(t)
	from := series.AddDays(asOf, -59)
	f := trendFinding(detect.DirectionUp, from, 1e-6, 0.9)
	// A superseded up-trend long ago with the same key (same first day):
	// the new one gets a suffixed key instead of a uniqueness conflict.
	closed := Record{
		ID: "c", Key: f.Key, Kind: detect.KindTrend, Metric: m.Key, Direction: detect.DirectionUp,
		StartDay: from, EndDay: series.AddDays(from, -1), Status: Closed, Grade: evidence.GradeB,
	}
	require.Equal(t, f.Key, match([]Record{closed}, f).Key, "the same key matches, whatever the status")
	taken := map[string]bool{f.Key: true, f.Key + "#2": true}
	require.Equal(t, f.Key+"#3", uniqueKey(f.Key, taken))
	require.Equal(t, "free", uniqueKey("free", taken))
}
