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
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// mixedBatch has plain, flagged (low and high), provider-zero (missing),
// offset and sub-second samples across metrics and sources.
func mixedBatch() []metrics.Sample {
	first := time.Date(2024, 3, 1, 7, 0, 0, 123456789, time.UTC)
	var out []metrics.Sample
	for i := range 60 {
		at := first.Add(time.Duration(i) * 7 * time.Hour)
		v := 50 + float64(i%20)
		src := []string{"oura", "whoop", "api"}[i%3]
		switch i % 10 {
		case 3:
			v = 30 // below the flag range
		case 4:
			v = 110 // above it
		case 5:
			v, src = 0, "oura" // a provider zero: missing
		}
		out = append(out, metrics.Sample{
			Metric: "resting_hr", Value: v, Unit: "bpm", ObservedAt: at, LocalDay: at.Add(-2 * time.Hour).Format(time.DateOnly),
			UTCOffsetSeconds: -7200, Source: src,
		}, metrics.Sample{
			Metric: "sleep_duration", Value: 6.5 + float64(i%4)/4, Unit: "h", ObservedAt: at, LocalDay: at.Format(time.DateOnly), Source: "api",
		})
	}
	return out
}

type storedObs struct {
	Metric, Unit, LocalDay, Source string
	Value                          *float64
	Missing                        bool
	ObservedAt                     time.Time
	Offset                         int
	Flags                          []string
}

func stored(t *testing.T, ctx context.Context, c *ent.Client, uid string) []storedObs {
	t.Helper()
	rows, err := c.Observation.Query().Where(observation.UserID(uid)).
		Order(ent.Asc(observation.FieldMetric), ent.Asc(observation.FieldSource), ent.Asc(observation.FieldObservedAt)).All(ctx)
	require.NoError(t, err)
	out := make([]storedObs, len(rows))
	for i, r := range rows {
		require.NotEmpty(t, r.ID)
		require.NotNil(t, r.BatchID)
		out[i] = storedObs{r.Metric, r.Unit, r.LocalDay, r.Source, r.Value, r.Missing, r.ObservedAt.UTC(), r.UtcOffsetSeconds, r.Flags}
	}
	return out
}

// The PostgreSQL set-based path stores exactly what ent's bulk create
// stores (values, missing, flags, offsets, instants to the microsecond),
// counts the same, replays by idempotency key, stores re-sent samples once
// and audits each batch.
func TestPostgresFastPathStoresWhatEntStores(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	bg := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	results := map[string][]ingest.Result{}
	rows := map[string][]storedObs{}
	for _, d := range []string{"", dialect.Postgres} {
		uid, err := server.EnsureUser(bg, st.Client, fmt.Sprintf("fast-%q@example.com", d), "fast", user.RoleUSER)
		require.NoError(t, err)
		ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
		svc := &ingest.Service{Recorder: record.New(nil), Now: func() time.Time { return now }, Dialect: d}
		run := func(samples []metrics.Sample, key string) ingest.Result {
			tx, err := st.Client.Tx(ctx)
			require.NoError(t, err)
			res, err := svc.Ingest(ctx, tx, uid, samples, key)
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
			res.BatchID = ""
			return res
		}
		all := mixedBatch()
		results[d] = append(results[d],
			run(all[:70], "k1"),
			run(all[:70], "k1"), // replayed
			run(all[40:], "k2"), // 30 duplicates, 50 new
			run(all[40:], ""),   // all duplicates
		)
		rows[d] = stored(t, ctx, st.Client, uid)
		n, err := st.Client.AuditEvent.Query().Where(auditevent.UserID(uid), auditevent.Action("ingest")).Count(viewer.System(bg))
		require.NoError(t, err)
		require.Equal(t, 3, n, "one audit event per stored batch (the replay stores nothing)")
	}
	require.Equal(t, results[""], results[dialect.Postgres])
	require.Equal(t, rows[""], rows[dialect.Postgres])
	require.Len(t, rows[dialect.Postgres], 120)
	r := results[dialect.Postgres]
	require.Equal(t, []int{70, 70, 50, 0}, []int{r[0].Inserted, r[1].Inserted, r[2].Inserted, r[3].Inserted})
	require.True(t, r[1].Replayed)
	require.Equal(t, 30, r[2].Duplicates)
	missing, flagged := 0, 0
	for _, o := range rows[dialect.Postgres] {
		if o.Missing {
			missing++
			require.Nil(t, o.Value)
		}
		if len(o.Flags) > 0 {
			flagged++
		}
	}
	require.Positive(t, missing)
	require.Positive(t, flagged)
}

// A batch of which another transaction stored a sample after the duplicate
// lookup is refused whole with ECONFLICT: nothing of it stays.
func TestPostgresFastPathConcurrentInsertRollsBack(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, "race@example.com", "race", user.RoleUSER)
	require.NoError(t, err)
	ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := &ingest.Service{Recorder: record.New(nil), Now: func() time.Time { return now }, Dialect: dialect.Postgres}
	all := mixedBatch()

	// tx1 looks up duplicates (seeing none: tx2 has not committed) and
	// inserts, waiting on tx2's uncommitted keys; tx2 commits; tx1's insert
	// then skips the 10 committed rows and must refuse the batch.
	tx1, err := st.Client.Tx(ctx)
	require.NoError(t, err)
	rows, err := tx1.QueryContext(ctx, "SELECT pg_backend_pid()")
	require.NoError(t, err)
	var pid int
	require.True(t, rows.Next())
	require.NoError(t, rows.Scan(&pid))
	require.NoError(t, rows.Close())
	tx2, err := st.Client.Tx(ctx)
	require.NoError(t, err)
	_, err = svc.Ingest(ctx, tx2, uid, all[10:20], "")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := svc.Ingest(ctx, tx1, uid, all[:30], "")
		done <- err
	}()
	require.Eventually(t, func() bool { // tx1 is blocked on tx2's keys
		var waiting bool
		err := st.DB.QueryRowContext(bg, "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&waiting)
		return err == nil && waiting
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, tx2.Commit())
	err = <-done
	require.Error(t, err)
	require.Contains(t, err.Error(), "concurrent")
	require.NoError(t, tx1.Rollback())
	n, err := st.Client.Observation.Query().Where(observation.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 10, n, "only the committed batch's samples are stored")
}
