package resolvers

import (
	"time"

	"github.com/vitalgraph/vitalgraph/app/intervene"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/graph/model"
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
		Title: in.Title, ProtocolKind: string(in.ProtocolKind), TargetMetric: in.TargetMetric,
		ExpectedDirection: in.ExpectedDirection, LagDays: in.LagDays, StartDay: in.StartDay,
		PlannedDays: intOr0(in.PlannedDays), Design: designOf(in.Design), Cycles: in.Cycles, BlockDays: in.BlockDays,
	}
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func designOf(d *intervention.Design) string {
	if d == nil {
		return ""
	}
	return string(*d)
}

// scheduleOf maps an experiment's schedule.
func scheduleOf(itv *ent.Intervention) ([]*model.ScheduleDay, error) {
	days, err := intervene.Schedule(itv)
	if err != nil {
		return nil, err
	}
	return scheduleDays(days), nil
}

// scheduleDays maps engine schedule days (an experiment's or a plan's).
func scheduleDays(days []evaluate.ScheduleDay) []*model.ScheduleDay {
	out := make([]*model.ScheduleDay, len(days))
	for i, d := range days {
		out[i] = &model.ScheduleDay{Day: d.Day.Format(time.DateOnly), Cycle: d.Cycle, Arm: model.ScheduleArm(d.Arm), Washout: d.Washout}
	}
	return out
}

func flagNames(flags []safety.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}
