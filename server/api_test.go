package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// seeded is what seedUser created for one user.
type seeded struct {
	userID        string
	insights      []*ent.Insight
	interventions []*ent.Intervention
	evaluations   []*ent.Evaluation
	audits        []*ent.AuditEvent
	observations  []*ent.Observation
	narratives    []*ent.Narrative
}

// seedUser writes a small, varied data set for one user through ent as the
// system viewer: 5 hrv_rmssd and 3 resting_hr insights with distinct
// creation times, an intervention with an evaluation, audit events,
// observations and a narrative.
func seedUser(t *testing.T, c *ent.Client, userID string) seeded {
	t.Helper()
	ctx := viewer.System(context.Background())
	s := seeded{userID: userID}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	grades := []evidence.Grade{evidence.GradeA, evidence.GradeB, evidence.GradeC, evidence.GradeD}
	for i := range 8 {
		metric := "hrv_rmssd"
		if i >= 5 {
			metric = "resting_hr"
		}
		day := base.AddDate(0, 0, i).Format(time.DateOnly)
		in, err := c.Insight.Create().
			SetUserID(userID).SetMetric(metric).SetKind(insight.KindANOMALY).
			SetTitle(fmt.Sprintf("%s anomaly %d", metric, i)).
			SetStartDay(day).SetEndDay(day).SetDedupeKey(fmt.Sprintf("anomaly:%s:%s", metric, day)).
			SetEvidenceGrade(grades[i%4]).SetConfidence(0.5).SetSampleSize(20).SetCoverage(0.8).
			SetCreatedAt(base.Add(time.Duration(i) * time.Hour)).
			Save(ctx)
		require.NoError(t, err)
		s.insights = append(s.insights, in)
	}
	itv, err := c.Intervention.Create().
		SetUserID(userID).SetTitle("No caffeine after 2pm").SetProtocolKind("CAFFEINE_CUTOFF").
		SetTargetMetric("sleep_duration").SetExpectedDirection(intervention.ExpectedDirectionINCREASE).
		SetPlannedDays(30).SetLagDays(2).SetStatus(intervention.StatusACTIVE).
		SetRiskLevel(intervention.RiskLevelLOW).SetEvidenceGrade(evidence.GradeB).
		SetSafetyBoundary("Stop if you feel unwell.").
		Save(ctx)
	require.NoError(t, err)
	s.interventions = append(s.interventions, itv)
	ev, err := c.Evaluation.Create().
		SetUserID(userID).SetInterventionID(itv.ID).SetMetric("sleep_duration").
		SetBaselineFrom("2026-02-01").SetBaselineTo("2026-02-28").
		SetInterventionFrom("2026-03-03").SetInterventionTo("2026-03-30").
		SetBaselineCoverage(1).SetAdherence(0.9).SetReliable(true).
		SetEvidenceGrade(evidence.GradeA).SetConfidence(0.95).SetSampleSize(30).SetCoverage(1).
		Save(ctx)
	require.NoError(t, err)
	s.evaluations = append(s.evaluations, ev)
	for i := range 3 {
		a, err := c.AuditEvent.Create().
			SetUserID(userID).SetSeq(int64(i + 1)).SetEntityType("Insight").SetEntityID(s.insights[i].ID).
			SetAction("create").SetActor("system").SetHash(fmt.Sprintf("%064d", i+1)).
			Save(ctx)
		require.NoError(t, err)
		s.audits = append(s.audits, a)
	}
	for i := range 4 {
		v := 50.0 + float64(i)
		o, err := c.Observation.Create().
			SetUserID(userID).SetMetric("hrv_rmssd").SetValue(v).SetUnit("ms").
			SetLocalDay(base.AddDate(0, 0, i).Format(time.DateOnly)).SetObservedAt(base.AddDate(0, 0, i)).
			SetSource("oura").
			Save(ctx)
		require.NoError(t, err)
		s.observations = append(s.observations, o)
	}
	n, err := c.Narrative.Create().
		SetUserID(userID).SetSubjectType("EVALUATION").SetSubjectID(ev.ID).
		SetText("We can't tell yet.").SetSource("TEMPLATE").SetEvidenceGrade(evidence.GradeD).
		Save(ctx)
	require.NoError(t, err)
	s.narratives = append(s.narratives, n)
	return s
}

type pageInfo struct {
	HasNextPage bool    `json:"hasNextPage"`
	EndCursor   *string `json:"endCursor"`
}

type insightConn struct {
	Insights struct {
		TotalCount int      `json:"totalCount"`
		PageInfo   pageInfo `json:"pageInfo"`
		Edges      []struct {
			Node struct {
				ID            string `json:"id"`
				Metric        string `json:"metric"`
				EvidenceGrade string `json:"evidenceGrade"`
				CreatedAt     string `json:"createdAt"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"insights"`
}

const insightsPageQuery = `query($after: Cursor, $where: InsightWhereInput) {
  insights(first: 2, after: $after, where: $where, orderBy: [{field: CREATED_AT, direction: DESC}]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id metric evidenceGrade createdAt } }
  }
}`

func TestAPIConnectionsNodeAndIsolation(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), nil)
			userA := srv.CreateUser(t, "a@example.com")
			userB := srv.CreateUser(t, "b@example.com")
			a := seedUser(t, srv.App.Store.Client, userA)
			bSeed := seedUser(t, srv.App.Store.Client, userB)

			t.Run("page through a filtered, ordered connection", func(t *testing.T) {
				var seen []string
				var after any
				for range 10 {
					var out insightConn
					srv.Do(t, userA, insightsPageQuery, map[string]any{
						"after": after, "where": map[string]any{"metric": "hrv_rmssd"},
					}).Decode(t, &out)
					require.Equal(t, 5, out.Insights.TotalCount)
					for _, e := range out.Insights.Edges {
						require.Equal(t, "hrv_rmssd", e.Node.Metric)
						seen = append(seen, e.Node.ID)
					}
					if !out.Insights.PageInfo.HasNextPage {
						break
					}
					after = *out.Insights.PageInfo.EndCursor
				}
				// Newest first: insights 4, 3, 2, 1, 0.
				want := []string{a.insights[4].ID, a.insights[3].ID, a.insights[2].ID, a.insights[1].ID, a.insights[0].ID}
				require.Equal(t, want, seen)
			})

			t.Run("filter by grade set", func(t *testing.T) {
				var out insightConn
				srv.Do(t, userA, insightsPageQuery, map[string]any{
					"where": map[string]any{"evidenceGradeIn": []string{"A", "B"}},
				}).Decode(t, &out)
				require.Equal(t, 4, out.Insights.TotalCount) // i = 0,1,4,5
				for _, e := range out.Insights.Edges {
					require.Contains(t, []string{"A", "B"}, e.Node.EvidenceGrade)
				}
			})

			t.Run("node fetches the viewer's own rows by global id", func(t *testing.T) {
				for _, id := range []string{a.insights[0].ID, a.interventions[0].ID, a.evaluations[0].ID, a.audits[0].ID, a.observations[0].ID, a.narratives[0].ID} {
					var out struct {
						Node *struct {
							ID       string `json:"id"`
							Typename string `json:"__typename"`
						} `json:"node"`
					}
					srv.Do(t, userA, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id}).Decode(t, &out)
					require.NotNil(t, out.Node, id)
					require.Equal(t, id, out.Node.ID)
				}
			})

			t.Run("user B gets nothing of user A's", func(t *testing.T) {
				lists := map[string]string{
					"insights":      `{ insights { totalCount edges { node { id } } } }`,
					"interventions": `{ interventions { totalCount edges { node { id } } } }`,
					"evaluations":   `{ evaluations { totalCount edges { node { id } } } }`,
					"auditEvents":   `{ auditEvents { totalCount edges { node { id } } } }`,
					"observations":  `{ observations { totalCount edges { node { id } } } }`,
					"narratives":    `{ narratives { totalCount edges { node { id } } } }`,
				}
				aIDs := map[string]bool{}
				for _, id := range allIDs(a) {
					aIDs[id] = true
				}
				for name, q := range lists {
					var out map[string]struct {
						TotalCount int `json:"totalCount"`
						Edges      []struct {
							Node struct{ ID string } `json:"node"`
						} `json:"edges"`
					}
					srv.Do(t, userB, q, nil).Decode(t, &out)
					require.Positive(t, out[name].TotalCount, name)
					for _, e := range out[name].Edges {
						require.False(t, aIDs[e.Node.ID], "%s leaked %s", name, e.Node.ID)
					}
				}
				for _, id := range allIDs(a) {
					resp := srv.Do(t, userB, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
					require.JSONEq(t, `{"node": null}`, string(resp.Data), id)
					require.Equal(t, []string{"ENOTFOUND"}, resp.Codes())
				}
				resp := srv.Do(t, userB, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": allIDs(a)})
				require.NotContains(t, string(resp.Data), userA)
				for _, id := range allIDs(a) {
					require.NotContains(t, string(resp.Data), id)
				}
				var me struct {
					Me struct{ ID, Email string } `json:"me"`
				}
				srv.Do(t, userB, `{ me { id email } }`, nil).Decode(t, &me)
				require.Equal(t, userB, me.Me.ID)
				// B's own rows are visible to B.
				var own struct {
					Node *struct{ ID string } `json:"node"`
				}
				srv.Do(t, userB, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": bSeed.insights[0].ID}).Decode(t, &own)
				require.NotNil(t, own.Node)
			})

			t.Run("malformed and unknown ids are not found", func(t *testing.T) {
				for _, id := range []string{"", "x", "ins_", "ins_NOTAULID", "zzz_01J9ZK3Q4M6V8T2W5X7Y9A1B3C", "1"} {
					resp := srv.Do(t, userA, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
					require.JSONEq(t, `{"node": null}`, string(resp.Data), id)
					require.Equal(t, []string{"ENOTFOUND"}, resp.Codes(), id)
				}
			})

			t.Run("page size bounds", func(t *testing.T) {
				resp := srv.Do(t, userA, `{ insights(first: -1) { totalCount } }`, nil)
				require.Equal(t, []string{"EINVALID"}, resp.Codes())
				resp = srv.Do(t, userA, `{ insights(first: 101) { totalCount } }`, nil)
				require.Equal(t, []string{"ELIMIT"}, resp.Codes())
			})
		})
	}
}

func allIDs(s seeded) []string {
	var ids []string
	for _, x := range s.insights {
		ids = append(ids, x.ID)
	}
	for _, x := range s.interventions {
		ids = append(ids, x.ID)
	}
	for _, x := range s.evaluations {
		ids = append(ids, x.ID)
	}
	for _, x := range s.audits {
		ids = append(ids, x.ID)
	}
	for _, x := range s.observations {
		ids = append(ids, x.ID)
	}
	for _, x := range s.narratives {
		ids = append(ids, x.ID)
	}
	return append(ids, s.userID)
}

func TestIntrospectionShowsEvidenceGrade(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	type typeRef struct {
		Kind   string   `json:"kind"`
		Name   *string  `json:"name"`
		OfType *typeRef `json:"ofType"`
	}
	want := map[string]bool{"Insight": true, "Intervention": true, "Evaluation": true, "Narrative": true, "AuditEvent": false}
	for name, hasGrade := range want {
		var out struct {
			Type *struct {
				Name   string `json:"name"`
				Fields []struct {
					Name string  `json:"name"`
					Type typeRef `json:"type"`
				} `json:"fields"`
			} `json:"__type"`
		}
		srv.Do(t, "", `query($n: String!) { __type(name: $n) { name fields { name type { kind name ofType { kind name } } } } }`,
			map[string]any{"n": name}).Decode(t, &out)
		require.NotNil(t, out.Type, name)
		found := false
		for _, f := range out.Type.Fields {
			if f.Name == "evidenceGrade" {
				found = true
				require.Equal(t, "NON_NULL", f.Type.Kind)
				require.Equal(t, "ENUM", f.Type.OfType.Kind)
				require.Equal(t, "EvidenceGrade", *f.Type.OfType.Name)
			}
		}
		require.Equal(t, hasGrade, found, name)
	}
	var enum struct {
		Type struct {
			EnumValues []struct{ Name string } `json:"enumValues"`
		} `json:"__type"`
	}
	srv.Do(t, "", `{ __type(name: "EvidenceGrade") { enumValues { name } } }`, nil).Decode(t, &enum)
	require.Len(t, enum.Type.EnumValues, 4)
}
