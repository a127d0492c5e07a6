package loop_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// benchMetrics are cmd/vgbench's loop metrics: mean, sd and a step in the
// last fifth, clamped into the metric's range.
var benchMetrics = []struct {
	key, unit              string
	mean, sd, step, lo, hi float64
}{
	{"resting_hr", "bpm", 55, 2.5, 4, 40, 90},
	{"hrv_rmssd", "ms", 60, 8, -12, 15, 150},
	{"sleep_duration", "min", 450, 30, -60, 200, 700},
	{"sleep_efficiency", "percent", 88, 3, -6, 50, 100},
	{"recovery_score", "score", 65, 12, -20, 1, 100},
	{"readiness_score", "score", 70, 7, -12, 1, 100},
	{"strain", "score", 10, 2, 3, 0, 21},
	{"steps", "count", 8000, 2000, -3000, 0, 40000},
	{"respiratory_rate", "breaths/min", 15, 0.5, 1.2, 10, 25},
	{"skin_temp_deviation", "celsius", 0.1, 0.2, 0.6, -2, 2},
}

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
		r := rand.New(rand.NewPCG(uint64(k), 7))
		var samples []metrics.Sample
		for _, m := range benchMetrics {
			for d := range days {
				day := end.AddDate(0, 0, d-days+1)
				v := m.mean + m.sd*r.NormFloat64()
				if d > days*4/5 {
					v += m.step
				}
				if d%97 == 50 {
					v += 4 * m.step
				}
				v = math.Min(math.Max(v, m.lo), m.hi)
				samples = append(samples, metrics.Sample{
					Metric: m.key, Value: math.Round(v*10) / 10, Unit: m.unit,
					ObservedAt: day.Add(7 * time.Hour), LocalDay: day.Format(time.DateOnly), Source: "api",
				})
			}
		}
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
