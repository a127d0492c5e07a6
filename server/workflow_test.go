package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

type workflowItv struct {
	ID           string  `json:"id"`
	Status       string  `json:"status"`
	StatusReason string  `json:"statusReason"`
	StartDay     *string `json:"startDay"`
}

const (
	approveMutation = `mutation Approve($id: ID!, $reason: String!) { approveIntervention(id: $id, reason: $reason) { id status statusReason startDay } }`
	rejectMutation  = `mutation Reject($id: ID!, $reason: String!) { rejectIntervention(id: $id, reason: $reason) { id status statusReason startDay } }`
	cancelMutation  = `mutation Cancel($id: ID!, $reason: String) { cancelIntervention(id: $id, reason: $reason) { id status statusReason startDay } }`
	itvQuery        = `query Itv($id: ID!) { node(id: $id) { ... on Intervention { id status statusReason startDay
  evaluations { totalCount }
  auditTrail(first: 20) { totalCount edges { node { action decision reason actor } } } } } }`
)

type itvNode struct {
	Node struct {
		workflowItv
		Evaluations struct{ TotalCount int } `json:"evaluations"`
		AuditTrail  struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Node struct{ Action, Decision, Reason, Actor string } `json:"node"`
			} `json:"edges"`
		} `json:"auditTrail"`
	} `json:"node"`
}

func getItv(t *testing.T, srv *servertest.Server, uid, id string) itvNode {
	t.Helper()
	var out itvNode
	srv.Do(t, uid, itvQuery, map[string]any{"id": id}).Decode(t, &out)
	require.Equal(t, id, out.Node.ID)
	return out
}

func startHighRisk(t *testing.T, srv *servertest.Server, uid string, fx fixture) string {
	t.Helper()
	var st startOut
	srv.Do(t, uid, startMutation, startInput(fx, "MEDICATION_CHANGE")).Decode(t, &st)
	require.Equal(t, "PENDING_REVIEW", st.StartIntervention.Intervention.Status)
	return st.StartIntervention.Intervention.ID
}

// TestReviewAndCancelWorkflows drives the review queue, approve, reject and
// cancel through the HTTP API as the owner, another user and an admin.
func TestReviewAndCancelWorkflows(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "owner@example.com")
	other := srv.CreateUser(t, "other@example.com")
	admin, err := server.EnsureUser(context.Background(), srv.App.Store.Client, "admin@example.com", "Admin", user.RoleADMIN)
	require.NoError(t, err)
	fx := loadFixture(t, "g1")
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	pinClock(srv, fx.startIdx)

	// A low-risk start on the same metric and day: the state approval must reproduce.
	var low startOut
	srv.Do(t, uid, startMutation, startInput(fx, "CAFFEINE_CUTOFF")).Decode(t, &low)
	require.True(t, low.StartIntervention.Started)
	lowID := low.StartIntervention.Intervention.ID
	toApprove, toReject, toCancel := startHighRisk(t, srv, uid, fx), startHighRisk(t, srv, uid, fx), startHighRisk(t, srv, uid, fx)

	t.Run("the review queue is for admins", func(t *testing.T) {
		require.Equal(t, []string{"EFORBIDDEN"}, srv.Do(t, uid, `query Q { pendingReviews { totalCount } }`, nil).Codes())
		var q struct {
			PendingReviews struct {
				TotalCount int                          `json:"totalCount"`
				Edges      []struct{ Node workflowItv } `json:"edges"`
			} `json:"pendingReviews"`
		}
		srv.Do(t, admin, `query Q { pendingReviews(first: 10) { totalCount edges { node { id status } } } }`, nil).Decode(t, &q)
		require.Equal(t, 3, q.PendingReviews.TotalCount)
		got := []string{}
		for _, e := range q.PendingReviews.Edges {
			require.Equal(t, "PENDING_REVIEW", e.Node.Status)
			got = append(got, e.Node.ID)
		}
		require.Equal(t, []string{toApprove, toReject, toCancel}, got, "oldest first")
	})

	t.Run("approve and reject are refused with nothing stored", func(t *testing.T) {
		before := auditActions(t, srv, toApprove)
		for _, c := range []struct {
			name, as, query, id, reason, code string
		}{
			{"owner approves", uid, approveMutation, toApprove, "mine", "EFORBIDDEN"},
			{"owner rejects", uid, rejectMutation, toApprove, "mine", "EFORBIDDEN"},
			{"another user approves", other, approveMutation, toApprove, "x", "EFORBIDDEN"},
			{"blank reason", admin, approveMutation, toApprove, "  ", "EINVALID"},
			{"reason too long", admin, rejectMutation, toApprove, strings.Repeat("a", 1001), "EINVALID"},
			{"unknown id", admin, approveMutation, "itv_01HZZZZZZZZZZZZZZZZZZZZZZZ", "ok", "ENOTFOUND"},
			{"not reviewable (ACTIVE)", admin, approveMutation, lowID, "ok", "ECONFLICT"},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := srv.Do(t, c.as, c.query, map[string]any{"id": c.id, "reason": c.reason})
				require.Equal(t, []string{c.code}, resp.Codes())
			})
		}
		require.Equal(t, before, auditActions(t, srv, toApprove))
		require.Equal(t, "PENDING_REVIEW", getItv(t, srv, uid, toApprove).Node.Status)
	})

	t.Run("approve gives the state a low-risk start has, audited and on the feed", func(t *testing.T) {
		var out struct{ ApproveIntervention workflowItv }
		srv.Do(t, admin, approveMutation, map[string]any{"id": toApprove, "reason": "reviewed with the prescriber"}).Decode(t, &out)
		got := out.ApproveIntervention
		lowNow := getItv(t, srv, uid, lowID).Node
		require.Equal(t, lowNow.Status, got.Status)
		require.NotNil(t, got.StartDay)
		require.Equal(t, *lowNow.StartDay, *got.StartDay)
		require.Contains(t, got.StatusReason, "reviewed with the prescriber")

		n := getItv(t, srv, uid, toApprove).Node
		require.Equal(t, 2, n.AuditTrail.TotalCount)
		require.Equal(t, "start", n.AuditTrail.Edges[0].Node.Action)
		last := n.AuditTrail.Edges[1].Node
		require.Equal(t, []string{"approve", "approved", "reviewed with the prescriber", admin},
			[]string{last.Action, last.Decision, last.Reason, last.Actor})

		fe, err := srv.App.Store.Client.FeedEvent.Query().
			Where(feedevent.UserID(uid), feedevent.EntityID(toApprove), feedevent.KindEQ(feedevent.KindINTERVENTION_UPDATED)).
			Order(feedevent.BySeq()).All(viewer.System(context.Background()))
		require.NoError(t, err)
		require.Len(t, fe, 2)
		require.Equal(t, "ACTIVE", fe[1].Payload["status"])

		resp := srv.Do(t, admin, approveMutation, map[string]any{"id": toApprove, "reason": "again"})
		require.Equal(t, []string{"ECONFLICT"}, resp.Codes())
	})

	t.Run("reject invalidates and never starts", func(t *testing.T) {
		var out struct{ RejectIntervention workflowItv }
		srv.Do(t, admin, rejectMutation, map[string]any{"id": toReject, "reason": "interacts with current medication"}).Decode(t, &out)
		require.Equal(t, "INVALIDATED", out.RejectIntervention.Status)
		require.Nil(t, out.RejectIntervention.StartDay)
		require.Contains(t, out.RejectIntervention.StatusReason, "interacts with current medication")
		require.Equal(t, []string{"start:pending_review", "reject:rejected"}, auditActions(t, srv, toReject))
		for _, q := range []string{approveMutation, rejectMutation} {
			require.Equal(t, []string{"ECONFLICT"}, srv.Do(t, admin, q, map[string]any{"id": toReject, "reason": "x"}).Codes())
		}
		require.Equal(t, []string{"ECONFLICT"}, srv.Do(t, uid, cancelMutation, map[string]any{"id": toReject}).Codes())
	})

	t.Run("cancel is the owner's", func(t *testing.T) {
		for _, as := range []string{other, admin} {
			require.Equal(t, []string{"ENOTFOUND"}, srv.Do(t, as, cancelMutation, map[string]any{"id": toCancel}).Codes())
		}
		require.Equal(t, []string{"EINVALID"},
			srv.Do(t, uid, cancelMutation, map[string]any{"id": toCancel, "reason": strings.Repeat("a", 1001)}).Codes())
		var out struct{ CancelIntervention workflowItv }
		srv.Do(t, uid, cancelMutation, map[string]any{"id": toCancel}).Decode(t, &out)
		require.Equal(t, "CANCELLED", out.CancelIntervention.Status)
		require.Equal(t, []string{"start:pending_review", "cancel:cancelled"}, auditActions(t, srv, toCancel))
		require.Equal(t, []string{"ECONFLICT"}, srv.Do(t, uid, cancelMutation, map[string]any{"id": toCancel}).Codes())
	})

	t.Run("a cancelled running experiment is never evaluated", func(t *testing.T) {
		var out struct{ CancelIntervention workflowItv }
		srv.Do(t, uid, cancelMutation, map[string]any{"id": toApprove, "reason": "side effects"}).Decode(t, &out)
		require.Equal(t, "CANCELLED", out.CancelIntervention.Status)
		require.Contains(t, out.CancelIntervention.StatusReason, "side effects")
		resp := srv.Do(t, uid, `mutation E($id: ID!) { evaluateIntervention(id: $id) { id } }`, map[string]any{"id": toApprove})
		require.Equal(t, []string{"ECONFLICT"}, resp.Codes())

		// After both windows ended, the loop evaluates the running experiment
		// and leaves the cancelled one alone.
		pinClock(srv, fx.startIdx+fx.planned+3)
		var run struct {
			RunLoop struct{ EvaluationsCreated int } `json:"runLoop"`
		}
		srv.Do(t, uid, `mutation R { runLoop { evaluationsCreated } }`, nil).Decode(t, &run)
		require.Equal(t, 1, run.RunLoop.EvaluationsCreated)
		require.Equal(t, 1, getItv(t, srv, uid, lowID).Node.Evaluations.TotalCount)
		require.Equal(t, 0, getItv(t, srv, uid, toApprove).Node.Evaluations.TotalCount)
	})

	t.Run("audit trails page on interventions, evaluations and insights", func(t *testing.T) {
		type trail struct {
			TotalCount int `json:"totalCount"`
			PageInfo   struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Edges []struct {
				Node struct{ Action, EntityID string } `json:"node"`
			} `json:"edges"`
		}
		var actions []string
		var after any
		for range 5 {
			var p struct {
				Node struct{ AuditTrail trail } `json:"node"`
			}
			srv.Do(t, uid, `query P($id: ID!, $after: Cursor) { node(id: $id) { ... on Intervention {
  auditTrail(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { action entityID } } } } } }`,
				map[string]any{"id": toApprove, "after": after}).Decode(t, &p)
			require.Len(t, p.Node.AuditTrail.Edges, 1)
			actions = append(actions, p.Node.AuditTrail.Edges[0].Node.Action)
			if !p.Node.AuditTrail.PageInfo.HasNextPage {
				break
			}
			after = p.Node.AuditTrail.PageInfo.EndCursor
		}
		require.Equal(t, []string{"start", "approve", "cancel"}, actions)

		var ev struct {
			Node struct {
				Evaluations struct {
					Edges []struct {
						Node struct {
							ID         string `json:"id"`
							AuditTrail trail  `json:"auditTrail"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"evaluations"`
			} `json:"node"`
		}
		srv.Do(t, uid, `query E($id: ID!) { node(id: $id) { ... on Intervention { evaluations { edges { node { id
  auditTrail { totalCount edges { node { action entityID } } } } } } } } }`, map[string]any{"id": lowID}).Decode(t, &ev)
		require.Len(t, ev.Node.Evaluations.Edges, 1)
		et := ev.Node.Evaluations.Edges[0].Node
		got := []string{}
		for _, e := range et.AuditTrail.Edges {
			got = append(got, e.Node.Action)
		}
		require.Equal(t, []string{"evaluate", "narrate"}, got, "the evaluation and its narrative")
		require.Equal(t, et.ID, et.AuditTrail.Edges[0].Node.EntityID)

		var ins struct {
			Insights struct {
				Edges []struct {
					Node struct {
						ID         string `json:"id"`
						AuditTrail trail  `json:"auditTrail"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"insights"`
		}
		srv.Do(t, uid, `query I { insights(first: 5) { edges { node { id auditTrail { totalCount edges { node { action entityID } } } } } } }`, nil).Decode(t, &ins)
		require.NotEmpty(t, ins.Insights.Edges, "the loop run found insights in the fixture")
		for _, e := range ins.Insights.Edges {
			require.NotZero(t, e.Node.AuditTrail.TotalCount)
			require.Equal(t, "create", e.Node.AuditTrail.Edges[0].Node.Action)
			for _, a := range e.Node.AuditTrail.Edges {
				require.Equal(t, e.Node.ID, a.Node.EntityID)
			}
		}
		// Another user sees no trail of the owner's entities.
		require.Equal(t, []string{"ENOTFOUND"}, srv.Do(t, other, itvQuery, map[string]any{"id": toApprove}).Codes())
	})
}
