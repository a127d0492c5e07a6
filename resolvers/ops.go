package resolvers

import (
	"time"

	"github.com/vitalgraph/vitalgraph/app/performance"
	"github.com/vitalgraph/vitalgraph/engine/perf"
	"github.com/vitalgraph/vitalgraph/graph/model"
)

// performanceReport maps the app's report to the GraphQL type.
func performanceReport(r performance.Report) *model.PerformanceReport {
	l := r.Limits
	out := &model.PerformanceReport{
		WindowHours: r.WindowHours,
		Limits: &model.PerformanceLimits{
			LoopTimeoutMs: int(l.LoopTimeout.Milliseconds()), NarrativeTimeoutMs: int(l.NarrativeTimeout.Milliseconds()),
			InsightsPerDay: l.InsightsPerDay, IngestMaxBatch: l.IngestMaxBatch,
			ExperimentsPerMetric: l.ExperimentsPerMetric, AttributionLagDays: l.AttributionLagDays,
		},
		Loop: timingSummary(r.Loop), Narrative: timingSummary(r.Narrative), WithinLimits: r.WithinLimits,
	}
	for _, b := range r.Breaches {
		out.Breaches = append(out.Breaches, &model.GuardrailBreachCount{Guardrail: b.Guardrail, Count: b.Count})
	}
	return out
}

func timingSummary(s perf.Summary) *model.TimingSummary {
	msOf := func(d *time.Duration) *float64 {
		if d == nil {
			return nil
		}
		v := float64(*d) / float64(time.Millisecond)
		return &v
	}
	return &model.TimingSummary{
		Samples: s.Samples, P50Ms: msOf(s.P50), P99Ms: msOf(s.P99),
		LimitMs: int(s.Limit.Milliseconds()), WithinLimit: s.Within(),
	}
}
