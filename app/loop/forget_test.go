package loop_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/internal/benchdata"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestForgetDropsOnlyThatUsersResults: after a run the runner keeps each
// metric's detector results in memory; Forget (called by the account
// erasure) drops one user's and leaves another's.
func TestForgetDropsOnlyThatUsersResults(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	defer st.Close()
	bg := context.Background()
	now := time.Date(2030, 3, 1, 20, 0, 0, 0, time.UTC)
	rec := record.New(nil)
	rec.Dialect = dialect.Postgres
	svc := &ingest.Service{Recorder: rec, Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	runner := &loop.Runner{Recorder: rec, Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	var users []string
	for k := range 2 {
		uid, err := server.EnsureUser(bg, st.Client, fmt.Sprintf("forget-%d@example.com", k), "forget", user.RoleUSER)
		require.NoError(t, err)
		ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
		samples := benchdata.UserYear(90, uint64(k+1), now.Add(-24*time.Hour))
		for i := 0; i < len(samples); i += 1000 {
			tx, err := st.Client.Tx(ctx)
			require.NoError(t, err)
			_, err = svc.Ingest(ctx, tx, uid, samples[i:min(i+1000, len(samples))], fmt.Sprintf("f-%d-%d", k, i))
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
		}
		_, err = runner.Run(ctx, st.Client, uid)
		require.NoError(t, err)
		users = append(users, uid)
	}
	kept := runner.CachedResults(users[1])
	require.Positive(t, runner.CachedResults(users[0]))
	require.Positive(t, kept)

	runner.Forget(users[0])
	require.Zero(t, runner.CachedResults(users[0]))
	require.Equal(t, kept, runner.CachedResults(users[1]))
}
