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
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/ingestionbatch"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// pgFixture is a PostgreSQL store, a user and the PostgreSQL-path service.
type pgFixture struct {
	st  *server.Store
	uid string
	ctx context.Context
	svc *ingest.Service
}

func newPGFixture(t *testing.T, email string) pgFixture {
	t.Helper()
	st := servertest.NewPostgresStore(t)
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, email, "copy", user.RoleUSER)
	require.NoError(t, err)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return pgFixture{
		st: st, uid: uid, ctx: viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser}),
		svc: &ingest.Service{Recorder: record.New(nil), Now: func() time.Time { return now }, Dialect: dialect.Postgres},
	}
}

func (f pgFixture) count(t *testing.T) (obs, batches, audits int) {
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

// On PostgreSQL each batch is one set-based INSERT: two batches in one
// transaction are each stored once, with their own batch id, and the
// second sees the first's rows as duplicates.
func TestPostgresFastPathTwoBatchesInOneTransaction(t *testing.T) {
	t.Parallel()
	f := newPGFixture(t, "copy-merge@example.com")
	all := mixedBatch()
	tx, err := f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	r1, err := f.svc.Ingest(f.ctx, tx, f.uid, all[:50], "a")
	require.NoError(t, err)
	r2, err := f.svc.Ingest(f.ctx, tx, f.uid, all[30:], "b")
	require.NoError(t, err)
	require.Equal(t, 50, r1.Inserted)
	require.Equal(t, 70, r2.Inserted)
	require.Equal(t, 20, r2.Duplicates, "the second batch's overlap with the first is seen inside the transaction")
	require.NoError(t, tx.Commit())

	obs, batches, audits := f.count(t)
	require.Equal(t, []int{120, 2, 2}, []int{obs, batches, audits})
	for _, r := range []ingest.Result{r1, r2} {
		n, err := f.st.Client.Observation.Query().Where(observation.BatchID(r.BatchID)).Count(viewer.System(context.Background()))
		require.NoError(t, err)
		require.Equal(t, r.Inserted, n, "each batch's rows carry its id")
	}
}

// A replay stores nothing new on the PostgreSQL path: the same idempotency
// key returns the first result, the same samples without a key are all
// duplicates, and a batch that overlaps stores only what is new. Every
// stored batch is audited once.
func TestPostgresFastPathReplayStoresNothingNew(t *testing.T) {
	t.Parallel()
	f := newPGFixture(t, "copy-replay@example.com")
	all := mixedBatch()
	run := func(samples []metrics.Sample, key string) ingest.Result {
		tx, err := f.st.Client.Tx(f.ctx)
		require.NoError(t, err)
		res, err := f.svc.Ingest(f.ctx, tx, f.uid, samples, key)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		return res
	}
	first := run(all, "k")
	require.Equal(t, 120, first.Inserted)

	again := run(all, "k")
	require.True(t, again.Replayed)
	require.Equal(t, first.BatchID, again.BatchID)

	dup := run(all, "")
	require.Equal(t, ingest.Result{BatchID: dup.BatchID, Received: 120, Duplicates: 120}, dup)

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

// A batch that fails on the PostgreSQL path leaves nothing: not its batch
// row, observations or audit event. Here the failure is the INSERT itself
// (a constraint added inside the transaction refuses the rows), and a
// batch with one bad sample is refused before anything is written.
func TestPostgresFastPathFailureStoresNothing(t *testing.T) {
	t.Parallel()
	f := newPGFixture(t, "copy-fail@example.com")
	all := mixedBatch()

	tx, err := f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	_, err = tx.ExecContext(f.ctx, `ALTER TABLE observations ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`)
	require.NoError(t, err)
	_, err = f.svc.Ingest(f.ctx, tx, f.uid, all, "")
	require.Error(t, err)
	require.Contains(t, err.Error(), "storing observations")
	require.NoError(t, tx.Rollback())
	obs, batches, audits := f.count(t)
	require.Equal(t, []int{0, 0, 0}, []int{obs, batches, audits})

	bad := append([]metrics.Sample{}, all...)
	bad[77].Value = -5 // a negative sleep duration
	tx, err = f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	_, err = f.svc.Ingest(f.ctx, tx, f.uid, bad, "")
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
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

// The COPY path falls back when a concurrent ingestion stored some of the
// batch's keys after the duplicate lookup: here a second connection stores
// and commits 10 of them right before the COPY (a test hook), the COPY
// fails on the unique index, the savepoint takes it back and the INSERT …
// ON CONFLICT path refuses the batch with ECONFLICT. The transaction stays
// usable, nothing of the batch stays after the rollback, and the re-sent
// batch counts those 10 as duplicates. Not parallel: the hook is global.
func TestPostgresCopyFallsBackOnConcurrentDuplicate(t *testing.T) {
	f := newPGFixture(t, "copy-fallback@example.com")
	all := mixedBatch()
	copies := 0
	ingest.SetBeforeCopy(t, func(_ context.Context, uid string) {
		if uid != f.uid {
			return
		}
		copies++
		if copies > 1 {
			return
		}
		tx2, err := f.st.Client.Tx(f.ctx)
		require.NoError(t, err)
		res, err := f.svc.Ingest(f.ctx, tx2, f.uid, all[10:20], "")
		require.NoError(t, err)
		require.Equal(t, 10, res.Inserted)
		require.NoError(t, tx2.Commit())
	})

	tx1, err := f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	_, err = f.svc.Ingest(f.ctx, tx1, f.uid, all[:30], "k")
	require.Equal(t, engine.ECONFLICT, engine.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "concurrent")
	require.Equal(t, 2, copies, "both batches took the COPY path")
	n, err := tx1.Observation.Query().Where(observation.UserID(f.uid)).Count(f.ctx)
	require.NoError(t, err, "the transaction is still usable after the fallback")
	require.Equal(t, 30, n, "the 10 committed and the 20 the fallback INSERT stored; the caller rolls them back")
	require.NoError(t, tx1.Rollback())
	obs, batches, audits := f.count(t)
	require.Equal(t, []int{10, 1, 1}, []int{obs, batches, audits}, "only the concurrent batch stays")

	tx1, err = f.st.Client.Tx(f.ctx)
	require.NoError(t, err)
	res, err := f.svc.Ingest(f.ctx, tx1, f.uid, all[:30], "k")
	require.NoError(t, err)
	require.NoError(t, tx1.Commit())
	require.Equal(t, 20, res.Inserted)
	require.Equal(t, 10, res.Duplicates)
	require.Equal(t, 3, copies)
	obs, batches, audits = f.count(t)
	require.Equal(t, []int{30, 2, 2}, []int{obs, batches, audits})
}
