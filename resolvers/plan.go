package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/graph/model"
)

// planIntervention runs intervene.PlanStart in a transaction that is always
// rolled back (queries run outside entgql.Transactioner), so a plan reads
// the same consistent snapshot Start would and can never store anything.
func (r *Resolver) planIntervention(ctx context.Context, userID string, input model.StartInterventionInput) (*model.InterventionPlan, error) {
	t, err := r.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the plan's read transaction: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	p, err := r.Intervene.PlanStart(ctx, t, userID, startInput(input))
	if err != nil {
		return nil, err
	}
	out := &model.InterventionPlan{
		MinimumDetectableEffect: p.MDE, Unit: p.Unit, PlannedDays: p.PlannedDays, LagDays: p.LagDays,
		StartDay: p.StartDay.Format(time.DateOnly), Design: intervention.Design(p.Design), Retrospective: p.Retrospective,
		Schedule: scheduleDays(p.Schedule), Status: p.Status, Message: p.Message,
		SafetyDecision: safetyDecisionFrom(p.Decision),
	}
	if p.Cycles > 0 {
		out.Cycles, out.BlockDays = &p.Cycles, &p.BlockDays
	}
	return out, nil
}

// safetyDecisionFrom maps a decision taken now (not yet stored).
func safetyDecisionFrom(d safety.Decision) *model.SafetyDecision {
	checks := make([]*model.SafetyCheck, len(d.Checks))
	for i, c := range d.Checks {
		checks[i] = &model.SafetyCheck{Name: c.Name, Passed: c.Passed, Detail: c.Detail}
	}
	return &model.SafetyDecision{
		RiskLevel: intervention.RiskLevel(d.RiskLevel), EvidenceGrade: d.EvidenceGrade, Boundary: d.Boundary,
		RequiresReview: d.RequiresReview, Checks: checks,
	}
}
