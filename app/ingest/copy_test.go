package ingest_test

import (
	"context"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/ingestionbatch"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// copyFixture is a PostgreSQL store, a user and the COPY-path service.
type copyFixture struct {
	st  *server.Store
	uid string
	ctx context.Context
	svc *ingest.Service
}

func newCopyFixture(t *testing.T, email string) copyFixture {
	t.Helper()
	st := servertest.NewPostgresStore(t)
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, email, "copy", user.RoleUSER)
	require.NoError(t, err)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return copyFixture{
		st: st, uid: uid, ctx: viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser}),
		svc: &ingest.Service{Recorder: record.New(nil), Now: func() time.Time { return now }, Dialect: dialect.Postgres},
	}
}

// staged counts the rows in this transaction's staging table (0 when the
// session has none).
func staged(t *testing.T, ctx context.Context, tx *ent.Tx) int {
	t.Helper()
	one := func(q string) int {
		rows, err := tx.QueryContext(ctx, q)
		require.NoError(t, err)
		defer func() { require.NoError(t, rows.Close()) }()
		require.True(t, rows.Next())
		var n int
		require.NoError(t, rows.Scan(&n))
		return n
	}
	if one(`SELECT count(*) FROM pg_class WHERE oid = to_regclass('pg_temp.vg_observation_staging')`) == 0 {
		return 0
	}
	return one(`SELECT count(*) FROM pg_temp.vg_observation_staging`)
}

func (f copyFixture) count(t *testing.T) (obs, batches, audits int) {
	t.Helper()
	sys := viewer.System(context.Background())
	obs, err := f.st.Client.Observation.Query().Where(observation.UserID(f.uid)).Count(sys)
	require.NoError(t, err)
	batches, err = f.st.Client.IngestionBatch.Query().Where(ingestionbatch.UserID(f.uid)).Count(sys)
	require.NoError(t, err)
	audits, err = f.st.Client.AuditEvent.Query().Where(auditevent.UserID(f.uid), auditevent.Action("ingest")).Count(sys)
	require.NoError(t, err)
	return obs, batches, audits
}

// On PostgreSQL the batch goes through COPY into the session's staging
// table (its rows are there until the transaction ends) and is merged once
// per batch: two batches in one transaction are each stored once, with
// their own batch id, and the staging rows are gone after COMMIT.
func TestPostgresCopyPathStagesAndMerges(t *testing.T) {
	t.Parallel()
	f := newCopyFixture(t, "copy-merge@example.com")
	all := mixedBatch()
	tx, err := f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	r1, err := f.svc.Ingest(f.ctx, tx, f.uid, all[:50], "a")
	require.NoError(t, err)
	require.Equal(t, 50, staged(t, f.ctx, tx), "the first batch went through the staging table")
	r2, err := f.svc.Ingest(f.ctx, tx, f.uid, all[30:], "b")
	require.NoError(t, err)
	require.Equal(t, 50, r1.Inserted)
	require.Equal(t, 70, r2.Inserted)
	require.Equal(t, 20, r2.Duplicates, "the second batch's overlap with the first is seen inside the transaction")
	require.Equal(t, 120, staged(t, f.ctx, tx))
	require.NoError(t, tx.Commit())

	obs, batches, audits := f.count(t)
	require.Equal(t, []int{120, 2, 2}, []int{obs, batches, audits})
	for _, r := range []ingest.Result{r1, r2} {
		n, err := f.st.Client.Observation.Query().Where(observation.BatchID(r.BatchID)).Count(viewer.System(context.Background()))
		require.NoError(t, err)
		require.Equal(t, r.Inserted, n, "each batch's rows carry its id")
	}
	tx, err = f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	require.Zero(t, staged(t, f.ctx, tx), "COMMIT emptied the staging table")
	require.NoError(t, tx.Rollback())
}

// A replay stores nothing new on the COPY path: the same idempotency key
// returns the first result, the same samples without a key are all
// duplicates (nothing staged), and a batch that overlaps stores only what
// is new. Every stored batch is audited once.
func TestPostgresCopyPathReplayStoresNothingNew(t *testing.T) {
	t.Parallel()
	f := newCopyFixture(t, "copy-replay@example.com")
	all := mixedBatch()
	run := func(samples []metrics.Sample, key string) (ingest.Result, int) {
		tx, err := f.st.Client.Tx(f.ctx)
		require.NoError(t, err)
		res, err := f.svc.Ingest(f.ctx, tx, f.uid, samples, key)
		require.NoError(t, err)
		n := staged(t, f.ctx, tx)
		require.NoError(t, tx.Commit())
		return res, n
	}
	first, n := run(all, "k")
	require.Equal(t, 120, first.Inserted)
	require.Equal(t, 120, n)

	again, n := run(all, "k")
	require.True(t, again.Replayed)
	require.Equal(t, first.BatchID, again.BatchID)
	require.Zero(t, n)

	dup, n := run(all, "")
	require.Equal(t, ingest.Result{BatchID: dup.BatchID, Received: 120, Duplicates: 120}, dup)
	require.Zero(t, n, "a batch of duplicates stages nothing")

	obs, batches, audits := f.count(t)
	require.Equal(t, []int{120, 2, 2}, []int{obs, batches, audits})

	_, err := func() (ingest.Result, error) { // the key with other samples
		tx, err := f.st.Client.Tx(f.ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		return f.svc.Ingest(f.ctx, tx, f.uid, all[:10], "k")
	}()
	require.Equal(t, engine.ECONFLICT, engine.ErrorCode(err))
	obs, batches, audits = f.count(t)
	require.Equal(t, []int{120, 2, 2}, []int{obs, batches, audits})
}

// A batch that fails on the COPY path leaves nothing: not its batch row,
// observations, audit event or staged rows. Here the failure is the COPY
// itself (the session's staging table is not the one the path expects),
// and a batch with one bad sample is refused before anything is staged.
func TestPostgresCopyPathFailureStoresNothing(t *testing.T) {
	t.Parallel()
	f := newCopyFixture(t, "copy-fail@example.com")
	all := mixedBatch()

	tx, err := f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	_, err = tx.ExecContext(f.ctx, `CREATE TEMPORARY TABLE vg_observation_staging (id text) ON COMMIT DROP`)
	require.NoError(t, err)
	_, err = f.svc.Ingest(f.ctx, tx, f.uid, all, "")
	require.Error(t, err)
	require.Contains(t, err.Error(), "staging observations")
	require.NoError(t, tx.Rollback())
	obs, batches, audits := f.count(t)
	require.Equal(t, []int{0, 0, 0}, []int{obs, batches, audits})

	bad := append([]metrics.Sample{}, all...)
	bad[77].Value = -5 // a negative sleep duration
	tx, err = f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	_, err = f.svc.Ingest(f.ctx, tx, f.uid, bad, "")
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	require.Zero(t, staged(t, f.ctx, tx))
	require.NoError(t, tx.Rollback())
	obs, batches, audits = f.count(t)
	require.Equal(t, []int{0, 0, 0}, []int{obs, batches, audits})

	// The same batch then goes in whole.
	tx, err = f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	res, err := f.svc.Ingest(f.ctx, tx, f.uid, all, "")
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.Equal(t, 120, res.Inserted)
	obs, batches, audits = f.count(t)
	require.Equal(t, []int{120, 1, 1}, []int{obs, batches, audits})
}
