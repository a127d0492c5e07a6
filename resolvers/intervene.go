package resolvers

import (
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/graph/model"
	"github.com/vitalgraph/vitalgraph/app/intervene"
)

// safetyDecisionOf maps an intervention's stored safety decision.
func safetyDecisionOf(obj *ent.Intervention) *model.SafetyDecision {
	checks := make([]*model.SafetyCheck, 0, len(obj.SafetyChecks))
	for _, c := range obj.SafetyChecks {
		name, _ := c["name"].(string)
		passed, _ := c["passed"].(bool)
		detail, _ := c["detail"].(string)
		checks = append(checks, &model.SafetyCheck{Name: name, Passed: passed, Detail: detail})
	}
	return &model.SafetyDecision{
		RiskLevel: obj.RiskLevel, EvidenceGrade: obj.EvidenceGrade, Boundary: obj.SafetyBoundary,
		RequiresReview: obj.RequiresReview, Checks: checks,
	}
}

func startInput(in model.StartInterventionInput) intervene.StartInput {
	return intervene.StartInput{
		Title: in.Title, ProtocolKind: in.ProtocolKind, TargetMetric: in.TargetMetric,
		ExpectedDirection: in.ExpectedDirection, PlannedDays: in.PlannedDays, LagDays: in.LagDays, StartDay: in.StartDay,
	}
}
