package server_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/baseline"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// queryLog counts the SQL statements a store sends (a test's own probe of
// round trips, not a mock: every statement still runs on the database).
type queryLog struct {
	mu      sync.Mutex
	on      bool
	queries []string
}

func (l *queryLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.queries = append(l.queries, q)
	}
}

// record starts counting afresh; stop returns what was sent meanwhile.
func (l *queryLog) record() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on, l.queries = true, nil
}

func (l *queryLog) stop() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.queries
}

type countDriver struct {
	dialect.Driver
	log *queryLog
}

func (d countDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.log.add(q)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d countDriver) Query(ctx context.Context, q string, args, v any) error {
	d.log.add(q)
	return d.Driver.Query(ctx, q, args, v)
}

func (d countDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	d.log.add("BEGIN")
	tx, err := d.Driver.Tx(ctx)
	return countTx{Tx: tx, log: d.log}, err
}

func (d countDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	d.log.add("BEGIN")
	tx, err := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, opts)
	return countTx{Tx: tx, log: d.log}, err
}

func (d countDriver) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	d.log.add(q)
	return d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
}

func (d countDriver) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	d.log.add(q)
	return d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

type countTx struct {
	dialect.Tx
	log *queryLog
}

func (t countTx) Exec(ctx context.Context, q string, args, v any) error {
	t.log.add(q)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t countTx) Query(ctx context.Context, q string, args, v any) error {
	t.log.add(q)
	return t.Tx.Query(ctx, q, args, v)
}

func (t countTx) Commit() error {
	t.log.add("COMMIT")
	return t.Tx.Commit()
}

func (t countTx) Rollback() error {
	t.log.add("ROLLBACK")
	return t.Tx.Rollback()
}

func (t countTx) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	t.log.add(q)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
}

func (t countTx) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	t.log.add(q)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// countingStore wraps st's ent client so every statement is logged.
func countingStore(st *server.Store) (*server.Store, *queryLog) {
	log := &queryLog{}
	drv := countDriver{Driver: entsql.OpenDB(st.Dialect, st.DB), log: log}
	return &server.Store{Client: ent.NewClient(ent.Driver(drv)), DB: st.DB, Dialect: st.Dialect}, log
}

// userYearSamples is days × 10 metrics ending on day `days` (the bench's
// shape: a step in the last fifth, an outlier every 97 days).
func userYearSamples(days int, seed uint64) []sample {
	type gen struct {
		key, unit              string
		mean, sd, step, lo, hi float64
	}
	gens := []gen{
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
	r := rand.New(rand.NewPCG(seed, 7))
	var out []sample
	for _, g := range gens {
		for d := range days {
			day := dayN(d + 1)
			v := g.mean + g.sd*r.NormFloat64()
			if d > days*4/5 {
				v += g.step
			}
			if d%97 == 50 {
				v += 4 * g.step
			}
			v = math.Min(math.Max(v, g.lo), g.hi)
			out = append(out, sample{
				"metric": g.key, "value": math.Round(v*10) / 10, "unit": g.unit, "source": "api",
				"observedAt": day.Add(7 * time.Hour).Format(time.RFC3339), "localDay": day.Format(time.DateOnly),
			})
		}
	}
	return out
}

func ingestAll(t *testing.T, srv *servertest.Server, uid string, samples []sample) {
	t.Helper()
	for i := 0; i < len(samples); i += 1000 {
		srv.Do(t, uid, ingestMutation, map[string]any{"input": samples[i:min(i+1000, len(samples))]}).Decode(t, &ingestOut{})
	}
}

func summarize(qs []string) string {
	counts := map[string]int{}
	for _, q := range qs {
		k := q
		if len(k) > 70 {
			k = k[:70]
		}
		counts[k]++
	}
	var b strings.Builder
	for k, n := range counts {
		fmt.Fprintf(&b, "%5d  %s\n", n, k)
	}
	return b.String()
}

// TestLoopStatementsDoNotGrowWithTheData: a first run over one user-year
// × 10 metrics (50 insights, their audit and feed events) sends a fixed
// number of statements, not one per row, and a rerun with no new data one
// besides its transaction (speed itself lives in cmd/vgbench).
func TestLoopStatementsDoNotGrowWithTheData(t *testing.T) {
	t.Parallel()
	st, qlog := countingStore(servertest.NewPostgresStore(t))
	srv := servertest.NewServer(t, st, nil)
	uid := srv.CreateUser(t, "year@example.com")
	pinClock(srv, 365)
	ingestAll(t, srv, uid, userYearSamples(365, 1))
	qlog.record()
	first := runLoopOK(t, srv, uid)
	qs := qlog.stop()
	require.Positive(t, first.RunLoop.InsightsCreated)
	require.LessOrEqual(t, len(qs), 30, "first run (%d insights):\n%s", first.RunLoop.InsightsCreated, summarize(qs))
	qlog.record()
	runLoopOK(t, srv, uid)
	qs = qlog.stop()
	require.LessOrEqual(t, len(qs), 4, "rerun:\n%s", summarize(qs))
}

// loopState is everything a loop run may write, to compare before and after.
type loopState struct {
	AuditSeq, FeedSeq int64
	Baselines         int
	Insights          []string
	Watermark         string
}

func readLoopState(t *testing.T, srv *servertest.Server, uid string) loopState {
	t.Helper()
	sys := viewer.System(context.Background())
	c := srv.App.Store.Client
	u, err := c.User.Get(sys, uid)
	require.NoError(t, err)
	nb, err := c.Baseline.Query().Where(baseline.UserID(uid)).Count(sys)
	require.NoError(t, err)
	rows, err := c.Insight.Query().Where(insight.UserID(uid)).Order(ent.Asc(insight.FieldID)).All(sys)
	require.NoError(t, err)
	st := loopState{AuditSeq: u.AuditSeq, FeedSeq: u.FeedSeq, Baselines: nb, Watermark: u.LoopWatermark}
	for _, in := range rows {
		st.Insights = append(st.Insights, fmt.Sprintf("%s %s %s %s %s..%s %s %.6f %s", in.ID, in.Metric, in.Kind, in.Status,
			in.StartDay, in.EndDay, in.EvidenceGrade, in.Confidence, in.Title))
	}
	return st
}

// clearWatermark makes the next run do all its work.
func clearWatermark(t *testing.T, srv *servertest.Server, uid string) {
	t.Helper()
	require.NoError(t, srv.App.Store.Client.User.UpdateOneID(uid).SetLoopWatermark("").Exec(viewer.System(context.Background())))
}

// TestLoopRerunWithNoNewDataDoesNothing: a rerun with no new data returns
// what a full run returns, writes nothing and reads one row; a new
// observation (through the API or not), a dismissed insight, a new
// experiment, another time zone and a new evening each make it run again.
func TestLoopRerunWithNoNewDataDoesNothing(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st, qlog := countingStore(b.Open(t))
			srv := servertest.NewServer(t, st, nil)
			uid := srv.CreateUser(t, "rerun@example.com")
			pinClock(srv, 60)
			var in []sample
			for d := 1; d <= 59; d++ { // day 60 arrives later
				in = append(in, hrv(d, 50+float64(d%7)))
			}
			srv.Do(t, uid, ingestMutation, map[string]any{"input": append(in, spikeSeries()...)}).Decode(t, &ingestOut{})
			first := runLoopOK(t, srv, uid)
			require.Positive(t, first.RunLoop.InsightsCreated)
			after := readLoopState(t, srv, uid)
			require.NotEmpty(t, after.Watermark, "the first run left the data at a fixed point")

			qlog.record()
			again := runLoopOK(t, srv, uid)
			qs := qlog.stop()
			require.Equal(t, first.RunLoop.Metrics, again.RunLoop.Metrics)
			require.Zero(t, again.RunLoop.InsightsCreated)
			require.Equal(t, after, readLoopState(t, srv, uid), "the rerun wrote nothing")
			// The request's viewer lookup, BEGIN, the fingerprint, COMMIT.
			require.LessOrEqual(t, len(qs), 4, "one statement reads the fingerprint and nothing else is read:\n%s", summarize(qs))
			n := 0
			for _, q := range qs {
				if strings.Contains(q, "u.loop_watermark") {
					n++
				}
				require.NotContains(t, q, "observations\".", "no observation is read")
			}
			require.Equal(t, 1, n, summarize(qs))

			// A full run on the same data decides the same and writes nothing either.
			clearWatermark(t, srv, uid)
			full := runLoopOK(t, srv, uid)
			require.Equal(t, again, full)
			require.Equal(t, after, readLoopState(t, srv, uid))

			ranAgain := func(what string, change func()) loopOut {
				t.Helper()
				before := readLoopState(t, srv, uid)
				change()
				mid := readLoopState(t, srv, uid)
				lo := runLoopOK(t, srv, uid)
				now := readLoopState(t, srv, uid)
				require.NotEqual(t, mid.Watermark, now.Watermark, "%s: the loop ran again", what)
				require.NotEqual(t, before.Watermark, now.Watermark, "%s: the loop ran again", what)
				// And a rerun after that is skipped again.
				rerun := runLoopOK(t, srv, uid)
				require.Equal(t, lo.RunLoop.Metrics, rerun.RunLoop.Metrics, what)
				require.Zero(t, rerun.RunLoop.InsightsCreated, what)
				require.Equal(t, now, readLoopState(t, srv, uid), "%s: the second rerun wrote nothing", what)
				return lo
			}
			lo := ranAgain("a new observation", func() {
				srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{hrv(60, 20)}}).Decode(t, &ingestOut{})
			})
			require.Positive(t, lo.RunLoop.InsightsCreated, "the new observation was modelled")
			ranAgain("an observation stored without the API", func() {
				d := dayN(59)
				_, err := srv.App.Store.Client.Observation.Create().SetUserID(uid).SetMetric("resting_hr").SetValue(58).
					SetUnit("bpm").SetSource("whoop").SetLocalDay(d.Format(time.DateOnly)).SetObservedAt(d.Add(7 * time.Hour)).
					Save(viewer.System(context.Background()))
				require.NoError(t, err)
			})
			ranAgain("a dismissed insight", func() {
				ins := userInsights(t, srv, uid, insight.KindANOMALY)
				require.NotEmpty(t, ins)
				require.Empty(t, srv.Do(t, uid, dismissMutation, map[string]any{"id": ins[0].ID, "reason": "NOT_USEFUL"}).Codes())
			})
			ranAgain("another time zone", func() {
				require.Empty(t, srv.Do(t, uid, `mutation { setTimezone(timezone: "Europe/Berlin") { id } }`, nil).Codes())
			})
			ranAgain("an experiment", func() {
				var out startOut
				srv.Do(t, uid, startMutation, map[string]any{"in": map[string]any{
					"title": "Earlier bedtime", "protocolKind": "SLEEP_SCHEDULE", "targetMetric": "resting_hr",
					"expectedDirection": "DECREASE", "plannedDays": 28, "lagDays": 2, "startDay": dayN(61).Format(time.DateOnly),
				}}).Decode(t, &out)
				require.NotEmpty(t, out.StartIntervention.Intervention.ID, out.StartIntervention.Message)
			})
			baselines := readLoopState(t, srv, uid).Baselines
			ranAgain("a new evening", func() { pinClock(srv, 61) })
			require.Greater(t, readLoopState(t, srv, uid).Baselines, baselines, "the new evening's baselines")
			require.NoError(t, record.VerifyChain(viewer.System(context.Background()), srv.App.Store.Client, uid))
		})
	}
}

// TestLoopOneMetricFailsTheOthersAreKept: when the set-based write of every
// metric fails (here one metric's baseline collides with a stored row), each
// metric is written in its own savepoint: the failing one is rolled back and
// audited, the others are stored, and the chain verifies.
func TestLoopOneMetricFailsTheOthersAreKept(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), nil)
			uid := srv.CreateUser(t, "collide@example.com")
			pinClock(srv, 60)
			var in []sample
			for d := 1; d <= 60; d++ {
				in = append(in, hrv(d, 50+float64(d%7)))
			}
			srv.Do(t, uid, ingestMutation, map[string]any{"input": append(in, spikeSeries()...)}).Decode(t, &ingestOut{})
			sys := viewer.System(context.Background())
			for _, d := range []int{60, 61} { // a baseline of today and a newer one
				_, err := srv.App.Store.Client.Baseline.Create().SetUserID(uid).SetMetric("hrv_rmssd").
					SetAsOfDay(dayN(d).Format(time.DateOnly)).SetState(baseline.StateCALIBRATING).
					SetDetectorState(baseline.DetectorStateCALIBRATING).SetValidDays(0).SetValidDaysLast28(0).Save(sys)
				require.NoError(t, err)
			}
			lo := runLoopOK(t, srv, uid)
			require.Positive(t, lo.RunLoop.InsightsCreated, "resting_hr was kept")
			n, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Decision("metric_failed"), auditevent.EntityID("hrv_rmssd")).Count(sys)
			require.NoError(t, err)
			require.Equal(t, 1, n, "hrv_rmssd failed and was audited")
			for _, in := range userInsights(t, srv, uid, insight.KindANOMALY) {
				require.Equal(t, "resting_hr", in.Metric)
			}
			require.Empty(t, readLoopState(t, srv, uid).Watermark, "a run with a failure is not a fixed point")
			require.NoError(t, record.VerifyChain(viewer.System(context.Background()), srv.App.Store.Client, uid))
		})
	}
}

// TestLoopRecomputesOnlyTheMetricsWithNewData: the same evening, new data
// for one metric runs that metric's detectors alone (the others' inputs are
// unchanged), and the outcome equals that of a runner that recomputes every
// metric.
func TestLoopRecomputesOnlyTheMetricsWithNewData(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	warm := servertest.NewServer(t, st, nil)
	pinClock(warm, 60)
	sys := viewer.System(context.Background())
	var in []sample
	for d := 1; d <= 59; d++ {
		in = append(in, hrv(d, 50+float64(d%7)))
	}
	in = append(in, spikeSeries()...)
	outcome := func(uid string) []string {
		var out []string
		rows, err := st.Client.Insight.Query().Where(insight.UserID(uid)).Order(ent.Asc(insight.FieldDedupeKey)).All(sys)
		require.NoError(t, err)
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %s %s %s..%s %s %v %s %s", r.DedupeKey, r.Kind, r.Status, r.StartDay, r.EndDay,
				r.EvidenceGrade, r.Confidence, r.Title, r.Summary))
		}
		evs, err := st.Client.AuditEvent.Query().Where(auditevent.UserID(uid)).Order(ent.Asc(auditevent.FieldSeq)).All(sys)
		require.NoError(t, err)
		for _, ev := range evs {
			if ev.EntityType != "Insight" && ev.EntityType != "Baseline" {
				continue
			}
			out = append(out, fmt.Sprintf("%d %s %s %s", ev.Seq, ev.Action, ev.Decision, ev.Reason))
		}
		return out
	}
	var results [][]string
	for i, cold := range []bool{false, true} {
		uid := warm.CreateUser(t, fmt.Sprintf("incremental%d@example.com", i))
		warm.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &ingestOut{})
		sum, err := warm.App.Loop.Run(sys, st.Client, uid)
		require.NoError(t, err)
		require.Equal(t, 2, sum.Detected)
		warm.Do(t, uid, ingestMutation, map[string]any{"input": []sample{hrv(60, 20)}}).Decode(t, &ingestOut{})
		srv := warm
		if cold { // another process: nothing cached
			srv = servertest.NewServer(t, st, nil)
			pinClock(srv, 60)
		}
		sum, err = srv.App.Loop.Run(sys, st.Client, uid)
		require.NoError(t, err)
		if cold {
			require.Equal(t, 2, sum.Detected)
		} else {
			require.Equal(t, 1, sum.Detected, "only hrv_rmssd has new data")
		}
		require.Positive(t, sum.InsightsCreated)
		results = append(results, outcome(uid))
	}
	require.Equal(t, results[0], results[1])
}
