package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const planQuery = `query($in: StartInterventionInput!) {
  planIntervention(input: $in) {
    minimumDetectableEffect unit plannedDays lagDays startDay design retrospective cycles blockDays status message
    schedule { day cycle arm washout }
    safetyDecision { riskLevel evidenceGrade boundary requiresReview checks { name passed } }
  }
}`

type planOut struct {
	PlanIntervention struct {
		MinimumDetectableEffect float64 `json:"minimumDetectableEffect"`
		Unit                    string  `json:"unit"`
		PlannedDays             int     `json:"plannedDays"`
		LagDays                 int     `json:"lagDays"`
		StartDay                string  `json:"startDay"`
		Design                  string  `json:"design"`
		Retrospective           bool    `json:"retrospective"`
		Cycles                  *int    `json:"cycles"`
		BlockDays               *int    `json:"blockDays"`
		Status                  string  `json:"status"`
		Message                 string  `json:"message"`
		Schedule                []struct {
			Day     string `json:"day"`
			Cycle   int    `json:"cycle"`
			Arm     string `json:"arm"`
			Washout bool   `json:"washout"`
		} `json:"schedule"`
		SafetyDecision struct {
			RiskLevel      string `json:"riskLevel"`
			EvidenceGrade  string `json:"evidenceGrade"`
			Boundary       string `json:"boundary"`
			RequiresReview bool   `json:"requiresReview"`
			Checks         []struct {
				Name   string `json:"name"`
				Passed bool   `json:"passed"`
			} `json:"checks"`
		} `json:"safetyDecision"`
	} `json:"planIntervention"`
}

// storedRows counts every row a start writes: experiments, audit events and
// feed events.
func storedRows(t *testing.T, srv *servertest.Server) [3]int {
	t.Helper()
	ctx := viewer.System(context.Background())
	c := srv.App.Store.Client
	i, err := c.Intervention.Query().Count(ctx)
	require.NoError(t, err)
	a, err := c.AuditEvent.Query().Count(ctx)
	require.NoError(t, err)
	f, err := c.FeedEvent.Query().Count(ctx)
	require.NoError(t, err)
	return [3]int{i, a, f}
}

// planServer is a server with the g1 fixture's history ingested and the
// clock on the fixture's start day.
func planServer(t *testing.T, email string) (*servertest.Server, string, fixture) {
	t.Helper()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, email)
	fx := loadFixture(t, "g1")
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	pinClock(srv, fx.startIdx)
	return srv, uid, fx
}

func TestPlanInterventionIsTheMDEStartReportsAndStoresNothing(t *testing.T) {
	t.Parallel()
	srv, uid, fx := planServer(t, "plan@example.com")
	before := storedRows(t, srv)
	var p planOut
	srv.Do(t, uid, planQuery, startInput(fx, "CAFFEINE_CUTOFF")).Decode(t, &p)
	require.Equal(t, before, storedRows(t, srv), "a plan stores, audits and publishes nothing")
	pl := p.PlanIntervention
	require.Positive(t, pl.MinimumDetectableEffect)
	require.Equal(t, "min", pl.Unit)
	require.Equal(t, fx.planned, pl.PlannedDays)
	require.Equal(t, fx.lagDays, pl.LagDays)
	require.Equal(t, fx.startDay, pl.StartDay)
	require.Equal(t, "BASELINE_AB", pl.Design)
	require.False(t, pl.Retrospective)
	require.Nil(t, pl.Cycles)
	require.Equal(t, "ACTIVE", pl.Status)
	require.Len(t, pl.Schedule, fx.planned)
	require.Equal(t, fx.startDay, pl.Schedule[0].Day)
	washout := 0
	for _, d := range pl.Schedule {
		require.Equal(t, "INTERVENTION", d.Arm)
		if d.Washout {
			washout++
		}
	}
	require.Equal(t, fx.lagDays, washout)

	// Planning twice gives the same answer and still stores nothing.
	var again planOut
	srv.Do(t, uid, planQuery, startInput(fx, "CAFFEINE_CUTOFF")).Decode(t, &again)
	require.Equal(t, p, again)
	require.Equal(t, before, storedRows(t, srv))

	var st startOut
	srv.Do(t, uid, startMutation, startInput(fx, "CAFFEINE_CUTOFF")).Decode(t, &st)
	s := st.StartIntervention
	require.True(t, s.Started, s.Message)
	require.InDelta(t, s.MinimumDetectableEffect, pl.MinimumDetectableEffect, 1e-9, "plan == the MDE the start reports")
	require.Equal(t, s.Message, pl.Message)
	require.Equal(t, s.Intervention.Status, pl.Status)
	require.Equal(t, s.Intervention.SafetyDecision.RiskLevel, pl.SafetyDecision.RiskLevel)
	require.Equal(t, s.Intervention.SafetyDecision.EvidenceGrade, pl.SafetyDecision.EvidenceGrade)
	require.Equal(t, s.Intervention.SafetyDecision.Boundary, pl.SafetyDecision.Boundary)
	require.Equal(t, s.Intervention.SafetyDecision.RequiresReview, pl.SafetyDecision.RequiresReview)
	require.Equal(t, s.Intervention.SafetyDecision.Checks, pl.SafetyDecision.Checks)
	require.NotEqual(t, before, storedRows(t, srv), "the start does store")
}

func TestPlanInterventionCrossoverShowsBlocksNotArms(t *testing.T) {
	t.Parallel()
	srv, uid, fx := planServer(t, "plan-x@example.com")
	in := map[string]any{"in": map[string]any{
		"title": "Screens off", "protocolKind": "SCREEN_CURFEW", "targetMetric": "sleep_duration",
		"expectedDirection": "INCREASE", "lagDays": 2, "startDay": fx.startDay,
		"design": "CROSSOVER", "cycles": 4, "blockDays": 7,
	}}
	before := storedRows(t, srv)
	var p planOut
	srv.Do(t, uid, planQuery, in).Decode(t, &p)
	require.Equal(t, before, storedRows(t, srv))
	pl := p.PlanIntervention
	require.Equal(t, 56, pl.PlannedDays)
	require.Equal(t, "CROSSOVER", pl.Design)
	require.Equal(t, 4, *pl.Cycles)
	require.Equal(t, 7, *pl.BlockDays)
	require.Len(t, pl.Schedule, 56)
	washout := 0
	for i, d := range pl.Schedule {
		require.Equal(t, "UNDRAWN", d.Arm, "the order is drawn at the start, not in the plan")
		require.Equal(t, i/14+1, d.Cycle)
		require.Equal(t, i%7 < 2, d.Washout, "day %d", i)
		if d.Washout {
			washout++
		}
	}
	require.Equal(t, 4*2*2, washout)

	const startX = `mutation($in: StartInterventionInput!) {
  startIntervention(input: $in) { started message minimumDetectableEffect intervention { schedule { day cycle arm washout } } }
}`
	var st struct {
		StartIntervention struct {
			Started                 bool    `json:"started"`
			Message                 string  `json:"message"`
			MinimumDetectableEffect float64 `json:"minimumDetectableEffect"`
			Intervention            struct {
				Schedule []struct {
					Day     string `json:"day"`
					Cycle   int    `json:"cycle"`
					Arm     string `json:"arm"`
					Washout bool   `json:"washout"`
				} `json:"schedule"`
			} `json:"intervention"`
		} `json:"startIntervention"`
	}
	srv.Do(t, uid, startX, in).Decode(t, &st)
	require.True(t, st.StartIntervention.Started, st.StartIntervention.Message)
	require.InDelta(t, st.StartIntervention.MinimumDetectableEffect, pl.MinimumDetectableEffect, 1e-9)
	sched := st.StartIntervention.Intervention.Schedule
	require.Len(t, sched, len(pl.Schedule))
	for i, d := range sched {
		require.Contains(t, []string{"INTERVENTION", "CONTROL"}, d.Arm)
		require.Equal(t, pl.Schedule[i].Day, d.Day)
		require.Equal(t, pl.Schedule[i].Cycle, d.Cycle)
		require.Equal(t, pl.Schedule[i].Washout, d.Washout)
	}
}

func TestPlanInterventionHighRiskNeedsReview(t *testing.T) {
	t.Parallel()
	srv, uid, fx := planServer(t, "plan-high@example.com")
	before := storedRows(t, srv)
	var p planOut
	srv.Do(t, uid, planQuery, startInput(fx, "MEDICATION_CHANGE")).Decode(t, &p)
	require.Equal(t, before, storedRows(t, srv))
	require.Equal(t, "PENDING_REVIEW", p.PlanIntervention.Status)
	require.Equal(t, "HIGH", p.PlanIntervention.SafetyDecision.RiskLevel)
	require.True(t, p.PlanIntervention.SafetyDecision.RequiresReview)

	var st startOut
	srv.Do(t, uid, startMutation, startInput(fx, "MEDICATION_CHANGE")).Decode(t, &st)
	require.Equal(t, "PENDING_REVIEW", st.StartIntervention.Intervention.Status)
	require.Equal(t, st.StartIntervention.Message, p.PlanIntervention.Message)
	require.InDelta(t, st.StartIntervention.MinimumDetectableEffect, p.PlanIntervention.MinimumDetectableEffect, 1e-9)
}

func TestPlanInterventionBadInputGivesStartsCodes(t *testing.T) {
	t.Parallel()
	srv, uid, fx := planServer(t, "plan-bad@example.com")
	base := func(edit func(map[string]any)) map[string]any {
		in := startInput(fx, "CAFFEINE_CUTOFF")["in"].(map[string]any)
		edit(in)
		return map[string]any{"in": in}
	}
	cases := map[string]struct {
		vars map[string]any
		code string
	}{
		"unknown metric":           {base(func(in map[string]any) { in["targetMetric"] = "nope" }), "EINVALID"},
		"empty title":              {base(func(in map[string]any) { in["title"] = "  " }), "EINVALID"},
		"too short":                {base(func(in map[string]any) { in["plannedDays"] = 3 }), "EINVALID"},
		"too long":                 {base(func(in map[string]any) { in["plannedDays"] = 1000 }), "EINVALID"},
		"negative lag":             {base(func(in map[string]any) { in["lagDays"] = -1 }), "EINVALID"},
		"bad start day":            {base(func(in map[string]any) { in["startDay"] = "2026-13-45" }), "EINVALID"},
		"far future":               {base(func(in map[string]any) { in["startDay"] = "2999-01-01" }), "EINVALID"},
		"blocks on AB":             {base(func(in map[string]any) { in["cycles"] = 4 }), "EINVALID"},
		"crossover without blocks": {base(func(in map[string]any) { in["design"] = "CROSSOVER" }), "EINVALID"},
		"too many cycles": {base(func(in map[string]any) {
			in["design"], in["cycles"], in["blockDays"], in["plannedDays"] = "CROSSOVER", 1000, 7, nil
		}), "EINVALID"},
		"short blocks": {base(func(in map[string]any) {
			in["design"], in["cycles"], in["blockDays"], in["plannedDays"] = "CROSSOVER", 4, 1, nil
		}), "EINVALID"},
		"crossover days mismatch": {base(func(in map[string]any) {
			in["design"], in["cycles"], in["blockDays"] = "CROSSOVER", 4, 7
		}), "EINVALID"},
		"retrospective crossover": {base(func(in map[string]any) {
			in["design"], in["cycles"], in["blockDays"], in["plannedDays"], in["startDay"] = "CROSSOVER", 4, 7, nil, fx.days[0]
		}), "EINVALID"},
	}
	before := storedRows(t, srv)
	for name, tc := range cases {
		plan := srv.Do(t, uid, planQuery, tc.vars)
		start := srv.Do(t, uid, startMutation, tc.vars)
		require.Equal(t, []string{tc.code}, plan.Codes(), "%s: plan: %+v", name, plan.Errors)
		require.Equal(t, start.Codes(), plan.Codes(), "%s: plan and start give the same code", name)
		require.Equal(t, start.Errors[0].Message, plan.Errors[0].Message, name)
	}
	require.Equal(t, before, storedRows(t, srv), "nothing stored by failed plans or starts")

	// Unauthenticated: the same refusal as every viewer query.
	anon := srv.Do(t, "", planQuery, startInput(fx, "CAFFEINE_CUTOFF"))
	require.NotContains(t, anon.Codes(), "EINTERNAL")
}
