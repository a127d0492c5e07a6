package loop

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/vitalgraph/vitalgraph/engine/insight"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// The watermark lets a rerun with no new data skip the work, exactly.
//
// A run's result depends only on what it reads (the user's time zone, the
// observations in the window and their revisions, provider connections,
// stored insights, the newest baselines, experiments and evaluations), on
// the local day (windows move each evening) and on the runner's
// configuration and code. At the start of every run the loop locks the
// user's row and reads, in one statement, a fingerprint of all of it: the
// audit chain's sequence number and head (every use case that writes any of
// those rows appends to the chain under that row lock), the time zone, the
// number of observations in the window, the number and newest write time
// of revisions, connections, experiments and insights, the number of
// evaluations (a safety net for writes made outside the use cases), plus
// the local day, the configuration and the build. Baselines are written by
// the loop alone. After a run that leaves the data at a fixed point —
// running again on it would write nothing to the tables the loop reads —
// the fingerprint of the data as the run left it and the summary that next
// run would return are stored on the user (users.loop_watermark). A run
// whose fingerprint equals the stored one returns that summary and writes
// nothing. Anything else — a new observation or revision, a dismissed
// insight, an experiment, a new evening, another time zone or
// configuration — changes the fingerprint and the run does all its work.
//
// A run is at a fixed point when it failed no metric, evaluated no
// experiment and either changed no insight (the next run sees the same
// records and the same daily budget, so the engine decides the same) or,
// when it did, the engine's decisions over the records as they now stand
// (re-read in the transaction) change none: no insight to create within the
// day's budget, none to re-grade or extend. Decisions that write only to
// the audit trail (held findings, findings over the daily limit) are not
// repeated by a skipped rerun.

// mark is what users.loop_watermark holds.
type mark struct {
	Fingerprint string   `json:"fp"`
	Metrics     []string `json:"metrics"`
	Skipped     int      `json:"skipped"`
}

// loopInputs is what a run reads first: the user's day and the fingerprint.
type loopInputs struct {
	loc         *time.Location
	asOf        series.Day
	fingerprint string
	stored      string // users.loop_watermark as read
	counts      string // the fingerprint's parts that the loop never writes
}

var buildID = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	parts := []string{bi.Main.Path, bi.Main.Version}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			parts = append(parts, s.Value)
		}
	}
	return strings.Join(parts, " ")
})

// fingerprintSQL reads and, on PostgreSQL, locks the user's row and counts
// what the loop reads. Observations count from fromDay (the oldest local
// day any time zone's window can start at); the other tables are small per
// user.
const fingerprintSQL = `SELECT u.timezone, u.audit_seq, u.audit_head, u.loop_watermark,
 (SELECT COUNT(*) FROM observations o WHERE o.user_id = u.id AND o.local_day >= {2}),
 (SELECT COUNT(*) FROM observation_revisions r WHERE r.user_id = u.id),
 (SELECT MAX(r.created_at) FROM observation_revisions r WHERE r.user_id = u.id),
 (SELECT COUNT(*) FROM provider_connections c WHERE c.user_id = u.id),
 (SELECT MAX(c.updated_at) FROM provider_connections c WHERE c.user_id = u.id),
 (SELECT COUNT(*) FROM interventions i WHERE i.user_id = u.id),
 (SELECT MAX(i.updated_at) FROM interventions i WHERE i.user_id = u.id),
 (SELECT COUNT(*) FROM evaluations e WHERE e.user_id = u.id),
 (SELECT COUNT(*) FROM insights n WHERE n.user_id = u.id),
 (SELECT MAX(n.updated_at) FROM insights n WHERE n.user_id = u.id)
FROM users u WHERE u.id = {1}`

// readInputs locks the user's row (PostgreSQL; SQLite transactions hold the
// database's write lock) and reads the user's day and the fingerprint.
func (r *Runner) readInputs(ctx context.Context, tx *ent.Tx, userID string, lock bool) (loopInputs, error) {
	var in loopInputs
	now := r.now()
	if r.Dialect == "" {
		_, loc, asOf, err := UserDay(ctx, tx, userID, now)
		return loopInputs{loc: loc, asOf: asOf}, err
	}
	opt := r.detectOptions()
	fromDay := series.AddDays(series.Truncate(now.UTC()), -(opt.HistoryDays + opt.Baseline.LongWindowDays + 2))
	q := fingerprintSQL
	if r.Dialect == dialect.Postgres {
		q = strings.NewReplacer("{1}", "$1", "{2}", "$2").Replace(q)
		if lock {
			q += " FOR UPDATE OF u"
		}
	} else {
		q = strings.NewReplacer("{1}", "?1", "{2}", "?2").Replace(q)
	}
	rows, err := tx.QueryContext(ctx, q, userID, fromDay.Format(time.DateOnly))
	if err != nil {
		return in, fmt.Errorf("reading the loop's inputs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return in, fmt.Errorf("reading the loop's inputs: %w", err)
		}
		if _, err := tx.User.Get(ctx, userID); err != nil {
			return in, err
		}
		return in, fmt.Errorf("reading the loop's inputs: user %s not found", userID)
	}
	var (
		tz, head, stored string
		seq              int64
		vals             [10]sql.NullString
	)
	dest := []any{&tz, &seq, &head, &stored}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return in, fmt.Errorf("reading the loop's inputs: %w", err)
	}
	if err := rows.Close(); err != nil {
		return in, fmt.Errorf("reading the loop's inputs: %w", err)
	}
	in.loc, err = time.LoadLocation(tz)
	if err != nil {
		in.loc = time.UTC
	}
	in.asOf = series.Truncate(now.In(in.loc))
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v.String
	}
	// observations, revisions, connections, interventions, evaluations:
	// nothing the MODEL stage writes.
	in.counts = strings.Join(parts[:8], "|")
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d|%s\n%s\n%s\n%s\n%d|%#v\n", buildID(), tz, seq, head, in.asOf.Format(time.DateOnly),
		fromDay.Format(time.DateOnly), strings.Join(parts, "|"), r.cap(), opt)
	in.fingerprint = hex.EncodeToString(h.Sum(nil))
	in.stored = stored
	return in, nil
}

// skip returns the stored summary when in matches the stored watermark.
func (in loopInputs) skip() (Summary, bool) {
	if in.stored == "" || in.fingerprint == "" {
		return Summary{}, false
	}
	var m mark
	if err := json.Unmarshal([]byte(in.stored), &m); err != nil || m.Fingerprint != in.fingerprint {
		return Summary{}, false
	}
	return Summary{ModelSummary: ModelSummary{Metrics: m.Metrics, InsightsSkipped: m.Skipped}}, true
}

// settle stores the watermark after a run (see the comment at the top), or
// clears it when the run did not leave the data at a fixed point.
func (r *Runner) settle(ctx context.Context, tx *ent.Tx, userID string, in loopInputs, sum Summary, run *modelRun) error {
	if in.fingerprint == "" {
		return nil
	}
	next, ok, err := r.fixedPoint(ctx, tx, userID, sum, run)
	if err != nil {
		return err
	}
	value := ""
	if ok {
		after := in
		if run.wrote {
			// The run's own writes moved the chain and the counts; the lock
			// keeps every other writer out until commit. Events the
			// Recorder holds for COMMIT are written first, so the chain
			// read here is the one the next run will see.
			if err := r.Recorder.Flush(ctx, tx); err != nil {
				return err
			}
			if after, err = r.readInputs(ctx, tx, userID, false); err != nil {
				return err
			}
			ok = after.counts == in.counts && after.asOf.Equal(in.asOf)
		}
		if ok {
			b, err := json.Marshal(mark{Fingerprint: after.fingerprint, Metrics: next.Metrics, Skipped: next.InsightsSkipped})
			if err != nil {
				return err
			}
			value = string(b)
		}
	}
	if value == in.stored {
		return nil
	}
	if err := tx.User.Update().Where(user.ID(userID)).SetLoopWatermark(value).Exec(ctx); err != nil {
		return fmt.Errorf("storing the loop watermark: %w", err)
	}
	return nil
}

// fixedPoint says whether running again now would write nothing to the
// tables the loop reads, and what that run would return.
func (r *Runner) fixedPoint(ctx context.Context, tx *ent.Tx, userID string, sum Summary, run *modelRun) (ModelSummary, bool, error) {
	next := ModelSummary{Metrics: sum.Metrics, InsightsSkipped: sum.InsightsSkipped}
	if run == nil || len(sum.Failures) > 0 || sum.EvaluationsCreated > 0 {
		return next, false, nil
	}
	if !run.wroteInsights {
		return next, true, nil
	}
	records, err := loadRecords(ctx, tx, userID, recordsSince(run.asOf, run.opt))
	if err != nil {
		return next, false, err
	}
	createdToday, err := r.createdToday(ctx, tx, userID, run.loc)
	if err != nil {
		return next, false, err
	}
	plan := insight.Decide(run.results, records)
	next.InsightsSkipped = 0
	for _, a := range plan.Actions {
		switch a.Kind {
		case insight.Create:
			if r.cap()-createdToday > 0 {
				return next, false, nil
			}
			next.InsightsSkipped++
		case insight.Regrade, insight.ExtendGap:
			return next, false, nil
		}
	}
	return next, true, nil
}
