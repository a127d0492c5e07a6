package server_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func spikeSeries() []sample {
	var in []sample
	for d := 1; d <= 60; d++ {
		v := 55.0 + float64(d%5)
		if d == 58 {
			v = 90
		}
		in = append(in, rhr(d, v))
	}
	return in
}

// TestIngestionTriggersTheLoop: no runLoop call; the debounced background job
// (in-process, and asynq on Redis) creates the insight.
func TestIngestionTriggersTheLoop(t *testing.T) {
	t.Parallel()
	for name, redisURL := range map[string]string{"in-process": "", "redis": servertest.RedisURL()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
				c.JobsDebounce = 100 * time.Millisecond
				c.RedisURL = redisURL
			})
			uid := srv.CreateUser(t, "auto@example.com")
			pinClock(srv, 60)
			srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
			sys := viewer.System(context.Background())
			require.Eventually(t, func() bool {
				n, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid)).Count(sys)
				require.NoError(t, err)
				return n > 0
			}, 15*time.Second, 50*time.Millisecond, "the loop ran after ingestion without a manual call")
			// The background run was the system's.
			ev, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Action("create"), auditevent.EntityType("Insight")).First(sys)
			require.NoError(t, err)
			require.Equal(t, "system", ev.Actor)
			// A manual run right after creates nothing new.
			var lo loopOut
			srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
			require.Zero(t, lo.RunLoop.InsightsCreated)
		})
	}
}

// TestLoopRuntimeGuardrailIsEnforcedAndAudited sets a 1ns guardrail: the
// run is rolled back, the caller gets ELIMIT and the overrun is audited.
func TestLoopRuntimeGuardrailIsEnforcedAndAudited(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), func(c *server.Config) { c.Guardrails.LoopTimeout = time.Nanosecond })
			uid := srv.CreateUser(t, "slow@example.com")
			pinClock(srv, 60)
			srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
			resp := srv.Do(t, uid, runLoop, nil)
			require.Equal(t, []string{"ELIMIT"}, resp.Codes())
			sys := viewer.System(context.Background())
			n, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid)).Count(sys)
			require.NoError(t, err)
			require.Zero(t, n, "nothing from the overrunning run is kept")
			timeouts, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Action("loop"), auditevent.Decision("timeout")).Count(sys)
			require.NoError(t, err)
			require.Equal(t, 1, timeouts)
		})
	}
}

// pattern is deterministic day-to-day noise (bpm) for the loop tests.
var pattern = []float64{0.4, -0.3, 0.1, -0.2, 0.3, -0.4, 0.2}

func ingest(t *testing.T, srv *servertest.Server, uid string, in []sample) {
	t.Helper()
	for i := 0; i < len(in); i += 500 {
		srv.Do(t, uid, ingestMutation, map[string]any{"input": in[i:min(i+500, len(in))]}).Decode(t, &ingestOut{})
	}
}

func runLoopOK(t *testing.T, srv *servertest.Server, uid string) loopOut {
	t.Helper()
	resp := srv.Do(t, uid, runLoop, nil)
	require.Empty(t, resp.Codes(), "runLoop must not fail")
	var lo loopOut
	resp.Decode(t, &lo)
	return lo
}

func userInsights(t *testing.T, srv *servertest.Server, uid string, kind insight.Kind) []*ent.Insight {
	t.Helper()
	out, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid), insight.KindEQ(kind)).
		Order(ent.Asc(insight.FieldCreatedAt)).All(viewer.System(context.Background()))
	require.NoError(t, err)
	return out
}

func feedKinds(t *testing.T, srv *servertest.Server, uid, entityID string) []feedevent.Kind {
	t.Helper()
	evs, err := srv.App.Store.Client.FeedEvent.Query().Where(feedevent.UserID(uid), feedevent.EntityID(entityID)).
		Order(ent.Asc(feedevent.FieldSeq)).All(viewer.System(context.Background()))
	require.NoError(t, err)
	out := make([]feedevent.Kind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

// TestLoopTrendReversalSupersedes: a resting HR climbing for 60 days and
// falling for the next 60 is told "drifting higher", then "drifting lower";
// the second trend is a new insight (its own key) that supersedes the first,
// audited and announced, and the loop never fails on it (issue #12: the old
// dedupe key made the whole loop roll back).
func TestLoopTrendReversalSupersedes(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), nil)
			uid := srv.CreateUser(t, "reversal@example.com")
			var in []sample
			for d := 1; d <= 120; d++ {
				v := 55 + 0.25*float64(d)
				if d > 60 {
					v = 70 - 0.25*float64(d-60)
				}
				in = append(in, rhr(d, v+pattern[d%7]))
			}
			ingest(t, srv, uid, in)
			pinClock(srv, 60)
			runLoopOK(t, srv, uid)
			up := userInsights(t, srv, uid, insight.KindTREND)
			require.Len(t, up, 1)
			require.Equal(t, "UP", up[0].Direction)
			require.Equal(t, insight.StatusACTIVE, up[0].Status)

			pinClock(srv, 120)
			runLoopOK(t, srv, uid)
			pinClock(srv, 121)
			runLoopOK(t, srv, uid) // and again: nothing conflicts
			trends := userInsights(t, srv, uid, insight.KindTREND)
			require.Len(t, trends, 2)
			old, cur := trends[0], trends[1]
			require.Equal(t, "DOWN", cur.Direction)
			require.Equal(t, insight.StatusACTIVE, cur.Status)
			require.NotEqual(t, old.DedupeKey, cur.DedupeKey)
			require.Equal(t, insight.StatusSUPERSEDED, old.Status)
			require.NotNil(t, old.SupersededBy)
			require.Equal(t, cur.ID, *old.SupersededBy)
			require.Equal(t, []feedevent.Kind{feedevent.KindINSIGHT_CREATED, feedevent.KindINSIGHT_UPDATED}, feedKinds(t, srv, uid, old.ID))
			n, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.EntityID(old.ID), auditevent.Decision("superseded")).Count(viewer.System(context.Background()))
			require.NoError(t, err)
			require.Equal(t, 1, n)
		})
	}
}

// TestLoopRegradesAnOpenChange: a +7 bpm level shift is reported a week
// after it began at a low grade; as days accumulate the same insight is
// re-graded (audited, INSIGHT_UPDATED), not duplicated or frozen.
func TestLoopRegradesAnOpenChange(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "regrade@example.com")
	var in []sample
	for d := 1; d <= 100; d++ {
		v := 56 + 2.5*pattern[(d*3)%7]
		if d > 60 {
			v += 7
		}
		in = append(in, rhr(d, v))
	}
	ingest(t, srv, uid, in)
	var first *ent.Insight
	for d := 60; d <= 100; d++ {
		pinClock(srv, d)
		runLoopOK(t, srv, uid)
		if ch := userInsights(t, srv, uid, insight.KindCHANGE); first == nil && len(ch) > 0 {
			first = ch[0]
			require.LessOrEqual(t, d, 70, "reported within 10 days")
		}
	}
	require.NotNil(t, first)
	changes := userInsights(t, srv, uid, insight.KindCHANGE)
	require.Len(t, changes, 1, "one shift, one insight")
	last := changes[0]
	require.Equal(t, first.ID, last.ID)
	require.Greater(t, last.EvidenceGrade.Rank(), first.EvidenceGrade.Rank(), "graded up as evidence grew: %s → %s", first.EvidenceGrade, last.EvidenceGrade)
	kinds := feedKinds(t, srv, uid, last.ID)
	require.Equal(t, feedevent.KindINSIGHT_CREATED, kinds[0])
	require.Contains(t, kinds, feedevent.KindINSIGHT_UPDATED)
	n, err := srv.App.Store.Client.AuditEvent.Query().
		Where(auditevent.UserID(uid), auditevent.EntityID(last.ID), auditevent.Decision("regraded")).Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Equal(t, len(kinds)-1, n, "every update is audited and announced")
	require.NotEqual(t, first.Title, last.Title, "the words follow the grade")
}

const dismissMutation = `mutation($id: ID!, $reason: InsightDismissReason!) { dismissInsight(id: $id, reason: $reason) { id status } }`

const ackMutation = `mutation($id: ID!) { acknowledgeInsight(id: $id) { id status } }`

const insightsQuery = `query($all: Boolean) { insights(first: 50, includeDismissed: $all) { edges { node { id status } } } }`

type insightsOut struct {
	Insights struct {
		Edges []struct {
			Node struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"insights"`
}

// TestDismissAndAcknowledgeInsight: acknowledge keeps an insight listed;
// dismiss (with its reason stored and audited) hides it from the default
// list, and the loop never raises it again.
func TestDismissAndAcknowledgeInsight(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), nil)
			uid := srv.CreateUser(t, "dismiss@example.com")
			other := srv.CreateUser(t, "other@example.com")
			pinClock(srv, 60)
			ingest(t, srv, uid, spikeSeries())
			runLoopOK(t, srv, uid)
			an := userInsights(t, srv, uid, insight.KindANOMALY)
			require.Len(t, an, 1)
			id := an[0].ID

			require.Equal(t, []string{"ENOTFOUND"}, srv.Do(t, other, ackMutation, map[string]any{"id": id}).Codes(), "not the viewer's")
			require.Empty(t, srv.Do(t, uid, ackMutation, map[string]any{"id": id}).Codes())
			var list insightsOut
			srv.Do(t, uid, insightsQuery, nil).Decode(t, &list)
			require.Len(t, list.Insights.Edges, 1)
			require.Equal(t, "ACKNOWLEDGED", list.Insights.Edges[0].Node.Status)

			require.Empty(t, srv.Do(t, uid, dismissMutation, map[string]any{"id": id, "reason": "WRONG"}).Codes())
			srv.Do(t, uid, insightsQuery, nil).Decode(t, &list)
			require.Empty(t, list.Insights.Edges, "dismissed insights are hidden by default")
			srv.Do(t, uid, insightsQuery, map[string]any{"all": true}).Decode(t, &list)
			require.Len(t, list.Insights.Edges, 1)
			require.Equal(t, "DISMISSED", list.Insights.Edges[0].Node.Status)

			stored := userInsights(t, srv, uid, insight.KindANOMALY)[0]
			require.NotNil(t, stored.DismissReason)
			require.Equal(t, insight.DismissReasonWRONG, *stored.DismissReason)
			require.NotNil(t, stored.DismissedAt)
			sys := viewer.System(context.Background())
			for _, d := range []string{"acknowledged", "dismissed"} {
				n, err := srv.App.Store.Client.AuditEvent.Query().
					Where(auditevent.UserID(uid), auditevent.EntityID(id), auditevent.Decision(d)).Count(sys)
				require.NoError(t, err)
				require.Equal(t, 1, n, d)
			}
			require.Equal(t, []string{"EINVALID"}, srv.Do(t, uid, ackMutation, map[string]any{"id": id}).Codes(), "no resurrection")
			pinClock(srv, 61)
			lo := runLoopOK(t, srv, uid)
			require.Zero(t, lo.RunLoop.InsightsCreated, "a dismissed insight is not raised again")
		})
	}
}

// TestInsightCreatedSkipsDismissed: a dismissed insight is not delivered
// by insightCreated (on replay or live); the others are.
func TestInsightCreatedSkipsDismissed(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	a := startFeedApp(t, db, "", uniqueChannel(), feed.Options{})
	u := a.user(t, "dismissfeed@example.com")
	gone := a.createInsight(t, u, "hrv_rmssd", evidence.GradeB)
	kept := a.createInsight(t, u, "resting_hr", evidence.GradeB)
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: u, Role: viewer.RoleUser})
	tx, err := a.App.Store.Client.Tx(ctx)
	require.NoError(t, err)
	_, err = a.App.Loop.Dismiss(ctx, tx, u, gone, insight.DismissReasonNOT_USEFUL)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())

	c := dialWS(t, a.URL, protoTransportWS, u)
	c.subscribe("1", insightSub, map[string]any{"after": "0"})
	var got insightItem
	c.nextItem("1", "insightCreated", &got, 2*time.Second)
	require.Equal(t, kept, got.Insight.ID)
	c.requireQuiet()
}

// TestLoopNeverFailsOnRandomDailyData is the property test of issue #12:
// random daily sequences (levels, shifts both ways, drifts that reverse,
// outliers, gaps, two sources) fed day by day with a pinned clock; runLoop
// never returns an error and never records a metric failure.
func TestLoopNeverFailsOnRandomDailyData(t *testing.T) {
	t.Parallel()
	days := 100
	if testing.Short() {
		days = 70
	}
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 12))
			srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
			uid := srv.CreateUser(t, fmt.Sprintf("prop%d@example.com", seed))
			level, drift := 60.0, 0.0
			x := 0.0
			hrvLevel := math.Log(50)
			for d := 1; d <= days; d++ {
				switch r := rng.Float64(); {
				case r < 0.03:
					level += (rng.Float64()*2 - 1) * 8 // a shift either way
				case r < 0.06:
					drift = (rng.Float64()*2 - 1) * 0.4 // a drift starts, stops or reverses
				}
				level += drift
				x = 0.5*x + rng.NormFloat64()*2
				var batch []sample
				if rng.Float64() > 0.12 { // missing nights
					v := min(max(level+x, 40), 95)
					if rng.Float64() < 0.02 {
						v = 98 // an outlier
					}
					batch = append(batch, rhr(d, v))
					if rng.Float64() < 0.3 {
						s := rhr(d, min(max(v+rng.NormFloat64()*6, 40), 99))
						s["source"] = "whoop"
						batch = append(batch, s)
					}
				}
				if rng.Float64() > 0.1 {
					batch = append(batch, hrv(d, math.Exp(hrvLevel+rng.NormFloat64()*0.15-drift/20)))
				}
				pinClock(srv, d)
				if len(batch) > 0 {
					srv.Do(t, uid, ingestMutation, map[string]any{"input": batch}).Decode(t, &ingestOut{})
				}
				runLoopOK(t, srv, uid)
			}
			n, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Decision("metric_failed")).Count(viewer.System(context.Background()))
			require.NoError(t, err)
			require.Zero(t, n, "no metric failed")
		})
	}
}
