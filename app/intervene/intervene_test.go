package intervene_test

import (
	"context"
	"database/sql"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/intervene"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// The use case is tested below the HTTP stack, on a real PostgreSQL schema.

var day1 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type env struct {
	st  *server.Store
	svc *intervene.Service
	uid string
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := servertest.NewPostgresStore(t)
	t.Cleanup(func() { _ = st.Close() })
	uid, err := server.EnsureUser(context.Background(), st.Client, "use-case@example.com", "u", user.RoleUSER)
	require.NoError(t, err)
	e := &env{st: st, uid: uid, now: day1.AddDate(0, 0, 28).Add(20 * time.Hour)}
	e.svc = &intervene.Service{Recorder: record.New(nil), ActiveLimit: 3, MaxLagDays: 7, Now: func() time.Time { return e.now }}
	return e
}

// tx runs f in a transaction as the user.
func (e *env) tx(t *testing.T, f func(ctx context.Context, tx *ent.Tx) error) error {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: e.uid, Role: viewer.RoleUser})
	tx, err := e.st.Client.Tx(ctx)
	require.NoError(t, err)
	if err := f(ctx, tx); err != nil {
		require.NoError(t, tx.Rollback())
		return err
	}
	return tx.Commit()
}

// sleep stores n days of sleep from day1 with value v(i).
func (e *env) sleep(t *testing.T, n int, v func(i int) float64) {
	t.Helper()
	ctx := viewer.System(context.Background())
	for i := range n {
		d := day1.AddDate(0, 0, i)
		val := v(i)
		_, err := e.st.Client.Observation.Create().SetUserID(e.uid).SetMetric("sleep_duration").SetSource("oura").
			SetUnit("min").SetValue(val).SetObservedAt(d.Add(7 * time.Hour)).SetLocalDay(d.Format(time.DateOnly)).Save(ctx)
		require.NoError(t, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestStartValidatesDesigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := intervene.StartInput{
		Title: "t", ProtocolKind: "SCREEN_CURFEW", TargetMetric: "sleep_duration",
		ExpectedDirection: intervention.ExpectedDirectionINCREASE, PlannedDays: 30,
	}
	cases := map[string]func(in *intervene.StartInput){
		"cycles on BASELINE_AB":       func(in *intervene.StartInput) { in.Cycles = ptr(3) },
		"crossover without blockDays": func(in *intervene.StartInput) { in.Design, in.Cycles = evaluate.DesignCrossover, ptr(3) },
		"two cycles": func(in *intervene.StartInput) {
			in.Design, in.Cycles, in.BlockDays, in.PlannedDays = evaluate.DesignCrossover, ptr(2), ptr(7), 0
		},
		"blocks shorter than washout+2": func(in *intervene.StartInput) {
			in.Design, in.Cycles, in.BlockDays, in.PlannedDays = evaluate.DesignCrossover, ptr(3), ptr(3), 0
		},
		"plannedDays disagrees": func(in *intervene.StartInput) {
			in.Design, in.Cycles, in.BlockDays = evaluate.DesignCrossover, ptr(3), ptr(7)
		},
		"unknown design": func(in *intervene.StartInput) { in.Design = "ABBA" },
		"retrospective crossover": func(in *intervene.StartInput) {
			in.Design, in.Cycles, in.BlockDays, in.PlannedDays, in.StartDay = evaluate.DesignCrossover, ptr(3), ptr(7), 0, ptr("2026-03-20")
		},
		"start more than a year back": func(in *intervene.StartInput) { in.StartDay = ptr("2024-01-01") },
	}
	for name, mut := range cases {
		in := base
		mut(&in)
		err := e.tx(t, func(ctx context.Context, tx *ent.Tx) error { _, err := e.svc.Start(ctx, tx, e.uid, in); return err })
		var ee *engine.Error
		require.ErrorAs(t, err, &ee, name)
		require.Equal(t, engine.EINVALID, ee.Code, name)
	}
	n, err := e.st.Client.Intervention.Query().Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Zero(t, n, "nothing stored for a refused plan")
}

func TestStartRecordsRetrospectiveAndTypicalMDE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := intervene.StartInput{
		Title: "Magnesium", ProtocolKind: "SUPPLEMENT", TargetMetric: "sleep_duration",
		ExpectedDirection: intervention.ExpectedDirectionINCREASE, PlannedDays: 30, StartDay: ptr("2026-03-10"),
	}
	var out intervene.Started
	require.NoError(t, e.tx(t, func(ctx context.Context, tx *ent.Tx) error {
		var err error
		out, err = e.svc.Start(ctx, tx, e.uid, in)
		return err
	}))
	require.True(t, out.Intervention.Retrospective, "a start day before today is a look back")
	// No history: the MDE comes from the registry's typical SD (30 min, ρ = 0.3, 28/28 days).
	require.InDelta(t, evaluate.MDE(30, 0.3, 28, 28), out.MDE, 1e-9)
}

// slowNarrator proves the narration happens while the transaction holds no
// lock on the user's row: from another connection it updates that row with
// a short lock timeout.
type slowNarrator struct {
	db     *sql.DB
	uid    string
	called bool
	err    error
}

func (n *slowNarrator) Narrate(ctx context.Context, f narrate.Facts) narrate.Outcome {
	n.called = true
	conn, err := n.db.Conn(ctx)
	if err == nil {
		defer conn.Close()
		_, err = conn.ExecContext(ctx, `SET lock_timeout = '500ms'`)
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, `UPDATE users SET timezone = timezone WHERE id = $1`, n.uid)
	}
	n.err = err
	return narrate.Outcome{Narrative: narrate.Template(f)}
}

func TestEvaluateNarratesBeforeTakingTheUsersLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	e.sleep(t, 60, func(i int) float64 {
		v := 400 + 25*rng.NormFloat64()
		if i >= 30 {
			v += 30
		}
		return math.Round(v)
	})
	var id string
	require.NoError(t, e.tx(t, func(ctx context.Context, tx *ent.Tx) error {
		out, err := e.svc.Start(ctx, tx, e.uid, intervene.StartInput{
			Title: "No caffeine", ProtocolKind: "CAFFEINE_CUTOFF",
			TargetMetric: "sleep_duration", ExpectedDirection: intervention.ExpectedDirectionINCREASE, PlannedDays: 32, LagDays: ptr(2),
		})
		id = out.Intervention.ID
		return err
	}))
	n := &slowNarrator{db: e.st.DB, uid: e.uid}
	e.svc.Narrator = n
	e.now = day1.AddDate(0, 0, 59).Add(20 * time.Hour)
	require.NoError(t, e.tx(t, func(ctx context.Context, tx *ent.Tx) error {
		// A prior audited write in the same transaction would hold the lock:
		// Evaluate must be the first writer.
		_, err := e.svc.Evaluate(ctx, tx, e.uid, id)
		return err
	}))
	require.True(t, n.called)
	require.NoError(t, n.err, "another writer could update the user's row while the narrator ran")
}
