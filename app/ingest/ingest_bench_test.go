package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// BenchmarkIngest1000OnPostgres reports ingestion throughput (samples/s) of
// 1000-sample batches into PostgreSQL: validation, duplicate lookup, the
// batch row, the observations and the audit event, in one transaction;
// through ent's bulk create (ent) and the PostgreSQL path (copy: COPY into
// observations under a savepoint).
func BenchmarkIngest1000OnPostgres(b *testing.B) {
	for _, c := range []struct{ name, dialect string }{{"ent", ""}, {"copy", dialect.Postgres}} {
		b.Run(c.name, func(b *testing.B) { benchIngest(b, c.dialect) })
	}
}

func benchIngest(b *testing.B, dia string) {
	st := servertest.NewPostgresStore(b)
	defer st.Close()
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, "bench@example.com", "bench", user.RoleUSER)
	require.NoError(b, err)
	ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := &ingest.Service{Recorder: record.New(nil), Now: func() time.Time { return now }, Dialect: dia}
	first := time.Date(2020, 1, 1, 7, 0, 0, 0, time.UTC)
	batch := func(k int) []metrics.Sample {
		out := make([]metrics.Sample, 1000)
		for i := range out {
			at := first.Add(time.Duration(k*1000+i) * time.Minute)
			out[i] = metrics.Sample{
				Metric: "resting_hr", Value: 50 + float64(i%20), Unit: "bpm", ObservedAt: at,
				LocalDay: at.Format(time.DateOnly), Source: "oura",
			}
		}
		return out
	}
	b.ResetTimer()
	start := time.Now()
	for k := range b.N {
		s := batch(k)
		tx, err := st.Client.Tx(ctx)
		require.NoError(b, err)
		res, err := svc.Ingest(ctx, tx, uid, s, fmt.Sprintf("bench-%d", k))
		require.NoError(b, err)
		require.Equal(b, 1000, res.Inserted)
		require.NoError(b, tx.Commit())
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "samples/s")
}
