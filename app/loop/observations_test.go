package loop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestReadObservationsPostgresEqualsEnt: the PostgreSQL reader (unordered
// rows, each series ordered in Go) returns exactly what the ent query
// ordered by local day and observed-at returns, for several observations a
// day stored in shuffled order, two sources, days outside the window and
// after asOf; and when a stored day does not parse, it falls back to the
// ent reader, which names the observation.
func TestReadObservationsPostgresEqualsEnt(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	defer st.Close()
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, "read@example.com", "read", user.RoleUSER)
	require.NoError(t, err)
	ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
	first := series.DayOf(2030, 1, 1)
	now := first.AddDate(0, 3, 0)
	rec := record.New(nil)
	svc := &ingest.Service{Recorder: rec, Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	r := rand.New(rand.NewPCG(3, 9))
	var samples []metrics.Sample
	for d := range 80 {
		day := series.AddDays(first, d)
		for _, src := range []string{"oura", "whoop"} {
			// 1–3 readings a day at distinct hours: the last one of a day
			// wins in series.Normalize, so the order within a day matters.
			for _, h := range r.Perm(12)[:1+r.IntN(3)] {
				samples = append(samples, metrics.Sample{
					Metric: "resting_hr", Value: 45 + float64(r.IntN(300))/10, Unit: "bpm",
					ObservedAt: day.Add(time.Duration(h+6) * time.Hour), LocalDay: day.Format(time.DateOnly), Source: src,
				})
			}
		}
		samples = append(samples, metrics.Sample{
			Metric: "steps", Value: float64(5000 + r.IntN(5000)), Unit: "count",
			ObservedAt: day.Add(20 * time.Hour), LocalDay: day.Format(time.DateOnly), Source: "oura",
		})
	}
	r.Shuffle(len(samples), func(i, j int) { samples[i], samples[j] = samples[j], samples[i] })
	for i := 0; i < len(samples); i += 200 {
		tx, err := st.Client.Tx(ctx)
		require.NoError(t, err)
		_, err = svc.Ingest(ctx, tx, uid, samples[i:min(i+200, len(samples))], fmt.Sprintf("k-%d", i))
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
	from, asOf := series.AddDays(first, 10), series.AddDays(first, 70)
	read := func(dia string) (map[string]map[string]series.Series, map[string]error) {
		tx, err := st.Client.Tx(ctx)
		require.NoError(t, err)
		defer func() { require.NoError(t, tx.Rollback()) }()
		bySource, failed, err := (&loop.Runner{Recorder: rec, Dialect: dia}).ReadObservations(ctx, tx, uid, from, asOf)
		require.NoError(t, err)
		return bySource, failed
	}
	pgSeries, pgFailed := read(dialect.Postgres)
	entSeries, entFailed := read("")
	require.Empty(t, entFailed)
	require.Len(t, entSeries["resting_hr"], 2)
	require.Greater(t, len(entSeries["resting_hr"]["oura"]), 61, "several readings a day")
	require.Equal(t, entSeries, pgSeries)
	require.Equal(t, entFailed, pgFailed)

	// An unreadable day (written around the ingest validation): the steps
	// metric fails, naming the observation; the others are read as before.
	_, err = st.Client.ExecContext(bg, `INSERT INTO observations (id, created_at, metric, value, missing, unit, local_day, observed_at, utc_offset_seconds, source, user_id)
VALUES ('obs_unreadable', now(), 'steps', 1, false, 'count', '2030-02-3x', now(), 0, 'oura', $1)`, uid)
	require.NoError(t, err)
	pgSeries, pgFailed = read(dialect.Postgres)
	entSeries, entFailed = read("")
	require.Equal(t, entSeries, pgSeries)
	require.Len(t, pgFailed, 1)
	require.Equal(t, engine.EINTERNAL, engine.ErrorCode(pgFailed["steps"]))
	require.Contains(t, pgFailed["steps"].Error(), "obs_unreadable")
	require.Equal(t, entFailed["steps"].Error(), pgFailed["steps"].Error())
}
