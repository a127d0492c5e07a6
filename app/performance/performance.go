// Package performance is the admin performance report (X6:
// get_performance_metrics and check_performance_limits): the configured
// limits, recent p50/p99 of loop and narrative time on this instance, and
// the guardrail breaches that the audit trail recorded in a window.
package performance

import (
	"context"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/perf"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
)

// Kinds of timed work (Timings).
const (
	KindLoop      = "loop"
	KindNarrative = "narrative"
)

// Window bounds in hours.
const (
	DefaultWindowHours = 24
	MaxWindowHours     = 720
)

// Guardrails named in Report.Breaches.
const (
	BreachLoopTimeout      = "loop_timeout"
	BreachNarrativeTimeout = "narrative_timeout"
	BreachInsightsPerDay   = "insights_per_day"
)

// Timings gives the durations of kind measured since a time on this
// instance (server/telemetry keeps a bounded recent history).
type Timings interface {
	Since(kind string, since time.Time) []time.Duration
}

// Limits are the configured guardrails (docs/design.md).
type Limits struct {
	LoopTimeout          time.Duration
	NarrativeTimeout     time.Duration
	InsightsPerDay       int
	IngestMaxBatch       int
	ExperimentsPerMetric int
	AttributionLagDays   int
}

// Service builds reports.
type Service struct {
	Client  *ent.Client
	Limits  Limits
	Timings Timings // nil: no timings
	Now     func() time.Time
}

// Breach counts one guardrail's audited breaches.
type Breach struct {
	Guardrail string
	Count     int
}

// Report is the performance report.
type Report struct {
	WindowHours  int
	Limits       Limits
	Loop         perf.Summary
	Narrative    perf.Summary
	Breaches     []Breach // every guardrail, in a fixed order
	WithinLimits bool
}

// Report builds the report of the last windowHours (1 to MaxWindowHours).
// Errors: EUNAUTHORIZED without a viewer, EFORBIDDEN for a non-admin,
// EINVALID for a window out of range.
func (s *Service) Report(ctx context.Context, windowHours int) (Report, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.UserID == "" {
		return Report{}, engine.Errorf(engine.EUNAUTHORIZED, "sign in required")
	}
	if v.Role != viewer.RoleAdmin {
		return Report{}, engine.Errorf(engine.EFORBIDDEN, "the performance report is for admins")
	}
	if windowHours < 1 || windowHours > MaxWindowHours {
		return Report{}, engine.Errorf(engine.EINVALID, "windowHours must be between 1 and %d", MaxWindowHours)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	since := now().Add(-time.Duration(windowHours) * time.Hour)
	var loopTimes, narrTimes []time.Duration
	if s.Timings != nil {
		loopTimes, narrTimes = s.Timings.Since(KindLoop, since), s.Timings.Since(KindNarrative, since)
	}
	r := Report{
		WindowHours: windowHours, Limits: s.Limits,
		Loop:      perf.Summarize(loopTimes, s.Limits.LoopTimeout),
		Narrative: perf.Summarize(narrTimes, s.Limits.NarrativeTimeout),
	}
	// Breaches of every user: read as the system after the admin check.
	sctx := viewer.System(ctx)
	count := func(preds ...func(*ent.AuditEventQuery) *ent.AuditEventQuery) (int, error) {
		q := s.Client.AuditEvent.Query().Where(auditevent.CreatedAtGTE(since))
		for _, p := range preds {
			q = p(q)
		}
		return q.Count(sctx)
	}
	where := func(entity, action, decision string) func(*ent.AuditEventQuery) *ent.AuditEventQuery {
		return func(q *ent.AuditEventQuery) *ent.AuditEventQuery {
			q = q.Where(auditevent.Action(action), auditevent.Decision(decision))
			if entity != "" {
				q = q.Where(auditevent.EntityType(entity))
			}
			return q
		}
	}
	for _, b := range []struct {
		name                     string
		entity, action, decision string
	}{
		{BreachLoopTimeout, "User", "loop", "timeout"},
		{BreachNarrativeTimeout, "Narrative", "replace", "timeout"},
		{BreachInsightsPerDay, "Insight", "skip", "guardrail_skipped"},
	} {
		n, err := count(where(b.entity, b.action, b.decision))
		if err != nil {
			return Report{}, err
		}
		r.Breaches = append(r.Breaches, Breach{Guardrail: b.name, Count: n})
	}
	r.WithinLimits = perf.WithinLimits([]perf.Summary{r.Loop, r.Narrative}, r.Breaches[0].Count+r.Breaches[1].Count)
	return r, nil
}
