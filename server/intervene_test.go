package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// fixture is one committed golden scenario of engine/evaluate/testdata.
type fixture struct {
	days     []string
	values   []float64
	adherent map[string]bool
	startDay string
	planned  int
	lagDays  int
	startIdx int
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	f, err := os.Open("../engine/evaluate/testdata/" + name + ".csv")
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	raw, err := os.ReadFile("../engine/evaluate/testdata/" + name + ".json")
	require.NoError(t, err)
	var meta struct {
		Start       string `json:"start"`
		StartDay    int    `json:"startDay"`
		PlannedDays int    `json:"plannedDays"`
		LagDays     int    `json:"lagDays"`
	}
	require.NoError(t, json.Unmarshal(raw, &meta))
	fx := fixture{adherent: map[string]bool{}, startDay: meta.Start, planned: meta.PlannedDays, lagDays: meta.LagDays, startIdx: meta.StartDay}
	for _, r := range rows[1:] {
		if r[1] == "" {
			continue // a missing day
		}
		v, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		fx.days = append(fx.days, r[0])
		fx.values = append(fx.values, v)
		if r[2] != "" {
			fx.adherent[r[0]] = r[2] == "true"
		}
	}
	return fx
}

func (fx fixture) samples() []sample {
	out := make([]sample, len(fx.days))
	for i, d := range fx.days {
		day, _ := time.Parse(time.DateOnly, d)
		out[i] = sample{
			"metric": "sleep_duration", "value": fx.values[i], "unit": "min", "source": "oura",
			"observedAt": day.Add(7 * time.Hour).Format(time.RFC3339), "localDay": d,
		}
	}
	return out
}

const startMutation = `mutation($in: StartInterventionInput!) {
  startIntervention(input: $in) {
    started message minimumDetectableEffect
    intervention { id status statusReason safetyDecision { riskLevel evidenceGrade boundary requiresReview checks { name passed } } }
  }
}`

type startOut struct {
	StartIntervention struct {
		Started                 bool    `json:"started"`
		Message                 string  `json:"message"`
		MinimumDetectableEffect float64 `json:"minimumDetectableEffect"`
		Intervention            struct {
			ID             string `json:"id"`
			Status         string `json:"status"`
			StatusReason   string `json:"statusReason"`
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
		} `json:"intervention"`
	} `json:"startIntervention"`
}

func startInput(fx fixture, kind string) map[string]any {
	return map[string]any{"in": map[string]any{
		"title": "No caffeine after 2pm", "protocolKind": kind, "targetMetric": "sleep_duration",
		"expectedDirection": "INCREASE", "plannedDays": fx.planned, "lagDays": fx.lagDays, "startDay": fx.startDay,
	}}
}

const evaluateMutation = `mutation($id: ID!) {
  evaluateIntervention(id: $id) {
    id effect effectItt ciLow ciHigh hedgesG mde adherence coverage baselineCoverage reliable reasons caveats evidenceGrade
    baselineWindow { from to } interventionWindow { from to }
    evidence { grade sampleSize why howConfident whatWouldChange }
    narrative { text source replaced replaceReason safetyText }
  }
}`

type evalOut struct {
	EvaluateIntervention struct {
		ID            string   `json:"id"`
		Effect        *float64 `json:"effect"`
		EffectItt     *float64 `json:"effectItt"`
		CILow         *float64 `json:"ciLow"`
		CIHigh        *float64 `json:"ciHigh"`
		HedgesG       *float64 `json:"hedgesG"`
		MDE           *float64 `json:"mde"`
		Adherence     float64  `json:"adherence"`
		Coverage      float64  `json:"coverage"`
		Reliable      bool     `json:"reliable"`
		Reasons       []string `json:"reasons"`
		Caveats       []string `json:"caveats"`
		EvidenceGrade string   `json:"evidenceGrade"`
		Evidence      struct {
			Grade           string `json:"grade"`
			WhatWouldChange string `json:"whatWouldChange"`
		} `json:"evidence"`
		Narrative struct {
			Text          string `json:"text"`
			Source        string `json:"source"`
			Replaced      bool   `json:"replaced"`
			ReplaceReason string `json:"replaceReason"`
			SafetyText    string `json:"safetyText"`
		} `json:"narrative"`
	} `json:"evaluateIntervention"`
}

// runExperiment ingests a fixture, starts the experiment on its start day,
// logs adherence (nonAdherent days overridden to false), and evaluates after
// the last day.
func runExperiment(t *testing.T, srv *servertest.Server, uid string, fx fixture, nonAdherent int) (startOut, evalOut) {
	t.Helper()
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	pinClock(srv, fx.startIdx)
	var st startOut
	srv.Do(t, uid, startMutation, startInput(fx, "CAFFEINE_CUTOFF")).Decode(t, &st)
	require.True(t, st.StartIntervention.Started, st.StartIntervention.Message)
	pinClock(srv, 60)
	start, _ := time.Parse(time.DateOnly, fx.startDay)
	for k := range fx.planned {
		day := start.AddDate(0, 0, k).Format(time.DateOnly)
		adherent, logged := fx.adherent[day]
		if !logged {
			adherent = true
		}
		if k >= fx.lagDays && k < fx.lagDays+nonAdherent {
			adherent = false
		}
		srv.Do(t, uid, `mutation($id: ID!, $day: String!, $a: Boolean!) { logAdherence(interventionID: $id, day: $day, adherent: $a) { id } }`,
			map[string]any{"id": st.StartIntervention.Intervention.ID, "day": day, "a": adherent}).Decode(t, &struct{}{})
	}
	var ev evalOut
	srv.Do(t, uid, evaluateMutation, map[string]any{"id": st.StartIntervention.Intervention.ID}).Decode(t, &ev)
	return st, ev
}

func auditActions(t *testing.T, srv *servertest.Server, entityID string) []string {
	t.Helper()
	evs, err := srv.App.Store.Client.AuditEvent.Query().Where(auditevent.EntityID(entityID)).All(viewer.System(context.Background()))
	require.NoError(t, err)
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action + ":" + e.Decision
	}
	return out
}

func TestG1ThroughTheAPIWithAClaimCheckedNarrative(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "g1@example.com")
	fx := loadFixture(t, "g1")
	st, ev := runExperiment(t, srv, uid, fx, 0)
	s := st.StartIntervention
	require.Equal(t, "LOW", s.Intervention.SafetyDecision.RiskLevel)
	require.NotEmpty(t, s.Intervention.SafetyDecision.Checks)
	require.InDelta(t, 30, s.MinimumDetectableEffect, 5, "MDE shown before the start (σ=30, 28/30 days)")

	e := ev.EvaluateIntervention
	require.InDelta(t, 40.0, *e.Effect, 0.5)
	require.InDelta(t, 1.296, *e.HedgesG, 0.01)
	require.Greater(t, *e.CILow, 0.0)
	require.Less(t, *e.CILow, 40.0)
	require.Greater(t, *e.CIHigh, 40.0)
	require.Equal(t, "B", e.EvidenceGrade, "replication probability 0.78 < 0.8 (docs/statistics.md)")
	require.True(t, e.Reliable)
	require.Equal(t, "TEMPLATE", e.Narrative.Source)
	require.Contains(t, e.Narrative.Text, "for you during this experiment")
	require.Contains(t, e.Narrative.Text, s.Intervention.SafetyDecision.Boundary, "safety text carried verbatim")
	require.Equal(t, []string{"start:started"}, auditActions(t, srv, s.Intervention.ID))
	require.Equal(t, []string{"evaluate:grade_B"}, auditActions(t, srv, e.ID))
}

func TestLowAdherenceEvaluationIsUnreliable(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "adh@example.com")
	fx := loadFixture(t, "g1")
	// 12 of the 30 evaluation days not adherent: adherence 0.6.
	_, ev := runExperiment(t, srv, uid, fx, 12)
	e := ev.EvaluateIntervention
	require.InDelta(t, 0.6, e.Adherence, 1e-9)
	require.False(t, e.Reliable)
	require.Contains(t, e.Reasons, "adherence 0.60 below 0.80")
	require.NotEqual(t, "A", e.EvidenceGrade)
	require.Contains(t, e.Narrative.Text, "60%", "the narrative states adherence")
}

func TestExperimentGuardrailsAndSafety(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "guard@example.com")
	fx := loadFixture(t, "g1")
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	pinClock(srv, fx.startIdx)

	var ids []string
	for i := range 3 {
		var st startOut
		in := startInput(fx, []string{"CAFFEINE_CUTOFF", "SCREEN_CURFEW", "SLEEP_SCHEDULE"}[i])
		srv.Do(t, uid, startMutation, in).Decode(t, &st)
		require.True(t, st.StartIntervention.Started)
		ids = append(ids, st.StartIntervention.Intervention.ID)
	}
	t.Run("a 4th active experiment on one metric is refused", func(t *testing.T) {
		resp := srv.Do(t, uid, startMutation, startInput(fx, "MEDITATION"))
		require.Equal(t, []string{"ELIMIT"}, resp.Codes())
		var n struct {
			Interventions struct{ TotalCount int } `json:"interventions"`
		}
		srv.Do(t, uid, `{ interventions { totalCount } }`, nil).Decode(t, &n)
		require.Equal(t, 3, n.Interventions.TotalCount, "nothing stored for the refused start")
	})
	t.Run("HIGH risk is not started", func(t *testing.T) {
		var st startOut
		in := startInput(fx, "MEDICATION_CHANGE")
		in["in"].(map[string]any)["targetMetric"] = "resting_hr"
		srv.Do(t, uid, startMutation, in).Decode(t, &st)
		s := st.StartIntervention
		require.False(t, s.Started)
		require.Equal(t, "PENDING_REVIEW", s.Intervention.Status)
		require.Equal(t, "HIGH", s.Intervention.SafetyDecision.RiskLevel)
		require.True(t, s.Intervention.SafetyDecision.RequiresReview)
		require.Equal(t, []string{"start:pending_review"}, auditActions(t, srv, s.Intervention.ID))
	})
	t.Run("a safety input change invalidates with a reason", func(t *testing.T) {
		var st startOut
		in := startInput(fx, "TRAINING_LOAD_INCREASE")
		in["in"].(map[string]any)["targetMetric"] = "steps"
		srv.Do(t, uid, startMutation, in).Decode(t, &st)
		require.True(t, st.StartIntervention.Started)
		var out struct {
			UpdateSafetyFlags []struct {
				ID, Status, StatusReason string
			} `json:"updateSafetyFlags"`
		}
		srv.Do(t, uid, `mutation { updateSafetyFlags(flags: [CARDIAC_CONDITION]) { id status statusReason } }`, nil).Decode(t, &out)
		// The training experiment (now HIGH risk) and the pending medication
		// change on resting_hr (its target-metric check now fails) are both
		// invalidated; the sleep experiments are untouched.
		got := map[string]string{}
		for _, it := range out.UpdateSafetyFlags {
			require.Equal(t, "INVALIDATED", it.Status)
			got[it.ID] = it.StatusReason
		}
		require.Len(t, got, 2)
		require.Contains(t, got[st.StartIntervention.Intervention.ID], "risk rose from MODERATE to HIGH")
		for _, id := range ids {
			require.NotContains(t, got, id)
		}
		require.Contains(t, auditActions(t, srv, st.StartIntervention.Intervention.ID), "invalidate:invalidated")
		resp := srv.Do(t, uid, `mutation($f: [SafetyFlag!]!) { updateSafetyFlags(flags: $f) { id } }`, map[string]any{"f": []string{"LIKES_CATS"}})
		require.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, resp.Codes(), "not a SafetyFlag")
		require.Contains(t, resp.Errors[0].Message, "LIKES_CATS")
	})
	t.Run("complete is audited; adherence only on experiment days", func(t *testing.T) {
		resp := srv.Do(t, uid, `mutation($id: ID!) { logAdherence(interventionID: $id, day: "2026-01-01", adherent: true) { id } }`,
			map[string]any{"id": ids[0]})
		require.Equal(t, []string{"EINVALID"}, resp.Codes())
		srv.Do(t, uid, `mutation($id: ID!) { completeIntervention(id: $id) { status } }`, map[string]any{"id": ids[0]}).Decode(t, &struct{}{})
		require.Contains(t, auditActions(t, srv, ids[0]), "complete:completed")
	})
	t.Run("another user's experiment is not found", func(t *testing.T) {
		other := srv.CreateUser(t, "intruder@example.com")
		for _, q := range []string{
			`mutation($id: ID!) { evaluateIntervention(id: $id) { id } }`,
			`mutation($id: ID!) { completeIntervention(id: $id) { id } }`,
			`mutation($id: ID!) { logAdherence(interventionID: $id, day: "2026-03-31", adherent: true) { id } }`,
		} {
			resp := srv.Do(t, other, q, map[string]any{"id": ids[1]})
			require.Equal(t, []string{"ENOTFOUND"}, resp.Codes(), q)
		}
	})
}

// TestViolatingLLMNarrativeIsReplacedAndAudited points the LLM narrator at a
// local fake chat-completions server that answers with an overclaim.
func TestViolatingLLMNarrativeIsReplacedAndAudited(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"Cutting caffeine cures insomnia and proves you will always sleep better."}}]}`))
	}))
	defer fake.Close()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.LLM.BaseURL, c.LLM.Model, c.LLM.APIKey = fake.URL, "test-model", "sk-test"
	})
	uid := srv.CreateUser(t, "llm@example.com")
	_, ev := runExperiment(t, srv, uid, loadFixture(t, "g1"), 0)
	n := ev.EvaluateIntervention.Narrative
	require.Positive(t, calls.Load())
	require.True(t, n.Replaced)
	require.Equal(t, "claim_violation", n.ReplaceReason)
	require.Equal(t, "TEMPLATE", n.Source)
	require.NotContains(t, n.Text, "cures")
	sys := viewer.System(context.Background())
	replaced, err := srv.App.Store.Client.AuditEvent.Query().
		Where(auditevent.UserID(uid), auditevent.Action("replace"), auditevent.Decision("claim_violation")).Count(sys)
	require.NoError(t, err)
	require.Equal(t, 1, replaced)
}
