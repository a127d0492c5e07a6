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

// BenchmarkLoopFirstRunPostgres is cmd/vgbench's "runLoop first run" row
// without HTTP and GraphQL: a fresh user with a year of ten metrics (the
// same generator), then one loop run in its own transaction on PostgreSQL.
// Only the run is timed.
func BenchmarkLoopFirstRunPostgres(b *testing.B) {
	st := servertest.NewPostgresStore(b)
	defer st.Close()
	bg := context.Background()
	now := time.Now().UTC()
	rec := record.New(nil)
	rec.Dialect = dialect.Postgres
	svc := &ingest.Service{Recorder: rec, Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	runner := &loop.Runner{Recorder: rec, Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	end := now.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	const days = 365
	created := 0
	k := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		k++
		uid, err := server.EnsureUser(bg, st.Client, fmt.Sprintf("bench-%d@example.com", k), "bench", user.RoleUSER)
		require.NoError(b, err)
		ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
		samples := benchdata.UserYear(days, uint64(k), end)
		for i := 0; i < len(samples); i += 1000 {
			tx, err := st.Client.Tx(ctx)
			require.NoError(b, err)
			_, err = svc.Ingest(ctx, tx, uid, samples[i:min(i+1000, len(samples))], fmt.Sprintf("b-%d-%d", k, i))
			require.NoError(b, err)
			require.NoError(b, tx.Commit())
		}
		b.StartTimer()
		sum, err := runner.Run(ctx, st.Client, uid)
		require.NoError(b, err)
		created += sum.InsightsCreated
	}
	b.ReportMetric(float64(created)/float64(k), "insights/op")
}
