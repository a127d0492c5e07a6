package server_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/narrative"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// Evaluation.narrative is batched: a page of evaluations reads their
// narratives together (not one query per evaluation), and each gets the
// newest narrative of its own.
func TestEvaluationNarrativesAreBatched(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "loader@example.com")
	st, _ := runExperiment(t, srv, uid, loadFixture(t, "g1"), 0)
	for range 2 { // more evaluations of the same experiment, each narrated
		srv.Do(t, uid, evaluateMutation, map[string]any{"id": st.StartIntervention.Intervention.ID}).Decode(t, &evalOut{})
	}

	var queries atomic.Int64
	srv.App.Store.Client.Narrative.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			queries.Add(1)
			return next.Query(ctx, q)
		})
	}))
	var out struct {
		Evaluations struct {
			Edges []struct {
				Node struct {
					ID        string `json:"id"`
					Narrative *struct {
						ID   string `json:"id"`
						Text string `json:"text"`
					} `json:"narrative"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"evaluations"`
	}
	srv.Do(t, uid, `{ evaluations(first: 10) { edges { node { id narrative { id text } } } } }`, nil).Decode(t, &out)
	edges := out.Evaluations.Edges
	require.Len(t, edges, 3)
	// One query for the page (a machine too busy to run the resolvers
	// within the loader's wait may split it in two; N+1 makes it 3).
	require.Less(t, queries.Load(), int64(len(edges)), "narratives are batched, not read one per evaluation")
	require.Positive(t, queries.Load())

	sys := viewer.System(context.Background())
	seen := map[string]bool{}
	for _, e := range edges {
		require.NotNil(t, e.Node.Narrative, e.Node.ID)
		want, err := srv.App.Store.Client.Narrative.Query().Where(narrative.SubjectID(e.Node.ID)).
			Order(ent.Desc(narrative.FieldCreatedAt)).First(sys)
		require.NoError(t, err)
		require.Equal(t, want.ID, e.Node.Narrative.ID, "the evaluation's own newest narrative")
		require.False(t, seen[want.ID])
		seen[want.ID] = true
	}
}
