// Package loop runs Vitalgraph's per-user loop over stored data. This file is
// the MODEL stage: baselines and detectors per metric, persisted as Baseline
// rows and graded Insights. Every decision to create, suppress or skip an
// insight writes an AuditEvent (and every insight a FeedEvent) in the same
// transaction as the insight itself. Re-running on the same data creates
// nothing new.
package loop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/insight"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	entbaseline "github.com/vitalgraph/vitalgraph/ent/baseline"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	entinsight "github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/ent/predicate"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
)

// DefaultInsightsPerDay is the default cap on insights created per user per day.
const DefaultInsightsPerDay = 50

// Runner runs the loop for one user at a time.
type Runner struct {
	Recorder       *record.Recorder
	InsightsPerDay int              // ≤ 0 means DefaultInsightsPerDay
	Now            func() time.Time // injected clock
	Detect         detect.Options   // zero value means detect.DefaultOptions()
	Timeout        time.Duration    // runtime guardrail per run; ≤ 0 means DefaultTimeout
	Evaluator      Evaluator        // evaluates experiments whose window ended; nil skips that stage
	// Dialect is the database's (entgo.io/ent/dialect: "postgres" or
	// "sqlite3"); empty turns the watermark off (every run does all its work).
	Dialect string
	cache   detectCache
	// Observe, when set, is told each stage's duration ("model",
	// "evaluate") and, as stage "total", the whole run's with its error
	// (metrics; it must not block).
	Observe func(stage string, d time.Duration, err error)
}

func (r *Runner) observe(stage string, start time.Time, err error) {
	if r.Observe != nil {
		r.Observe(stage, time.Since(start), err)
	}
}

// ModelSummary says what the MODEL stage did.
type ModelSummary struct {
	Metrics           []string
	InsightsCreated   int
	InsightsSkipped   int // skipped by the daily guardrail (audited)
	InsightsUpdated   int // re-graded, extended (audited, INSIGHT_UPDATED)
	StateChanges      int
	Detected          int // metrics whose detectors ran (the others' inputs had not changed since the last run)
	CreatedInsightIDs []string
	// Failures are the metrics that could not be modelled (audited; the
	// others were kept).
	Failures []MetricFailure
}

// MetricFailure names a metric the loop could not model and the error code.
type MetricFailure struct {
	Metric string
	Code   string
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) cap() int {
	if r.InsightsPerDay > 0 {
		return r.InsightsPerDay
	}
	return DefaultInsightsPerDay
}

// Model runs baselines and detectors for every metric of userID inside tx,
// asks the engine for the evening's decisions (engine/insight.Decide: the
// false-discovery step across all metrics' tests, re-grading, reversals)
// and persists every metric's baseline and decisions with set-based
// statements inside one savepoint. When that fails, it persists each metric
// in its own savepoint instead: a failure in one metric (a stored day that
// does not parse, an unknown metric, a constraint) is rolled back to that
// savepoint, audited and reported in ModelSummary.Failures, and never
// undoes the other metrics. Only a failure of the transaction itself (or of
// the context) is returned.
func (r *Runner) Model(ctx context.Context, tx *ent.Tx, userID string) (ModelSummary, error) {
	_, loc, asOf, err := UserDay(ctx, tx, userID, r.now())
	if err != nil {
		return ModelSummary{}, err
	}
	sum, _, err := r.model(ctx, tx, userID, loc, asOf)
	return sum, err
}

// modelRun is what one MODEL stage computed, kept for the watermark.
type modelRun struct {
	asOf    series.Day
	loc     *time.Location
	opt     detect.Options
	results []insight.MetricResult
	// wrote says whether anything was written; wroteInsights whether an
	// insight was created or changed (the next evening's decisions then
	// see other records).
	wrote, wroteInsights bool
}

func (r *Runner) detectOptions() detect.Options {
	opt := r.Detect
	if opt == (detect.Options{}) {
		opt = detect.DefaultOptions()
	}
	return opt.WithDefaults()
}

func (r *Runner) model(ctx context.Context, tx *ent.Tx, userID string, loc *time.Location, asOf series.Day) (ModelSummary, *modelRun, error) {
	var sum ModelSummary
	opt := r.detectOptions()
	run := &modelRun{asOf: asOf, loc: loc, opt: opt}
	// Findings reach back HistoryDays and their baselines another long
	// window: older observations cannot change the result, so they are not read.
	from := series.AddDays(asOf, -(opt.HistoryDays + opt.Baseline.LongWindowDays + 1))
	bySource, failed, err := r.readObservations(ctx, tx, userID, from, asOf)
	if err != nil {
		return sum, run, err
	}
	disconnected, err := disconnectedSince(ctx, tx, userID, loc)
	if err != nil {
		return sum, run, err
	}
	var inputs []detect.Input
	for _, metric := range sortedKeys(bySource) {
		if failed[metric] != nil {
			continue
		}
		m, ok := metrics.Lookup(metric)
		if !ok {
			failed[metric] = engine.Errorf(engine.EINTERNAL, "stored observations name the unknown metric %q", metric)
			continue
		}
		in := detect.Input{
			Metric:         metric,
			HigherIsBetter: m.Direction == metrics.HigherIsBetter,
			LnTransform:    m.LnTransform,
			AsOf:           asOf,
		}
		src, s := series.Primary(bySource[metric], series.AddDays(asOf, -(series.PrimaryWindowDays-1)), asOf)
		in.Series = s
		if d, ok := disconnected[src]; ok {
			in.DisconnectedSince = &d
		}
		if len(bySource[metric]) > 1 {
			in.BySource = map[string]series.Series{}
			for src, s := range bySource[metric] {
				in.BySource[src] = series.Normalize(s)
			}
		}
		run.results = append(run.results, insight.MetricResult{Metric: m})
		inputs = append(inputs, in)
	}
	// The detectors run on the other cores while this goroutine reads
	// what the decisions need; it then joins them.
	wait := r.startDetect(userID, run.results, inputs, opt)
	createdToday, existing, prev, err := r.readRecords(ctx, tx, userID, loc, asOf, opt)
	sum.Detected = wait()
	if err != nil {
		return sum, run, err
	}
	plan := insight.Decide(run.results, existing)
	byMetric := map[string][]insight.Action{}
	for _, a := range plan.Actions {
		byMetric[a.Finding.Metric] = append(byMetric[a.Finding.Metric], a)
	}
	st := &modelState{budget: r.cap() - createdToday, plan: plan, prev: prev}
	for _, mr := range run.results {
		sum.Metrics = append(sum.Metrics, mr.Result.Metric)
	}
	// Every metric in one savepoint, with set-based writes; when that
	// fails, each metric in its own, so one metric's failure keeps the others.
	before, budget := sum, st.budget
	err = r.inSavepoint(ctx, tx, func() error {
		return r.persist(ctx, tx, userID, run.results, byMetric, st, &sum)
	})
	if err != nil {
		if ctx.Err() != nil {
			return sum, run, err
		}
		sum, st.budget, st.wrote, st.wroteInsights = before, budget, false, false
		for _, mr := range run.results {
			metric := mr.Result.Metric
			err := r.inSavepoint(ctx, tx, func() error {
				return r.persist(ctx, tx, userID, []insight.MetricResult{mr}, byMetric, st, &sum)
			})
			if err != nil {
				if ctx.Err() != nil {
					return sum, run, err
				}
				failed[metric] = err
			}
		}
	}
	run.wrote, run.wroteInsights = st.wrote, st.wroteInsights
	if len(failed) > 0 {
		batch := r.Recorder.NewBatch(userID)
		for _, metric := range sortedKeys(failed) {
			if err := batch.Audit(failureAudit(userID, metric, asOf, failed[metric])); err != nil {
				return sum, run, err
			}
			sum.Failures = append(sum.Failures, MetricFailure{Metric: metric, Code: engine.ErrorCode(failed[metric])})
		}
		if err := batch.Flush(ctx, tx); err != nil {
			return sum, run, err
		}
		run.wrote = true
	}
	return sum, run, nil
}

// readRecords reads what the evening's decisions need besides the
// detectors' results: the insights created today (the daily guardrail),
// the stored insights the findings can match and each metric's newest
// baseline.
func (r *Runner) readRecords(ctx context.Context, tx *ent.Tx, userID string, loc *time.Location, asOf series.Day, opt detect.Options) (int, []insight.Record, map[string]*ent.Baseline, error) {
	createdToday, err := r.createdToday(ctx, tx, userID, loc)
	if err != nil {
		return 0, nil, nil, err
	}
	existing, err := loadRecords(ctx, tx, userID, recordsSince(asOf, opt))
	if err != nil {
		return 0, nil, nil, err
	}
	prev, err := latestBaselines(ctx, tx, userID)
	if err != nil {
		return 0, nil, nil, err
	}
	return createdToday, existing, prev, nil
}

// startDetect starts the detectors of every metric whose input changed
// since the last run (pure and independent of each other) on up to
// GOMAXPROCS−1 other goroutines: results[i].Result = detect.Run(inputs[i],
// opt). The returned wait joins them in the caller's goroutine (which then
// takes its share of the metrics), waits for all, re-raises a detector's
// panic there and returns how many ran. It must be called exactly once,
// before results is read.
func (r *Runner) startDetect(userID string, results []insight.MetricResult, inputs []detect.Input, opt detect.Options) (wait func() int) {
	var todo []int
	digests := make([][sha256.Size]byte, len(inputs))
	for i, in := range inputs {
		digests[i] = inputDigest(in, opt)
		if res, ok := r.cache.get(userID+"\x00"+in.Metric, digests[i]); ok {
			results[i].Result = res
			continue
		}
		todo = append(todo, i)
	}
	var (
		next      atomic.Int64
		wg        sync.WaitGroup
		panicOnce sync.Once
		panicked  any
	)
	work := func() {
		defer func() {
			if p := recover(); p != nil {
				panicOnce.Do(func() { panicked = p })
			}
		}()
		for k := int(next.Add(1) - 1); k < len(todo); k = int(next.Add(1) - 1) {
			i := todo[k]
			results[i].Result = detect.Run(inputs[i], opt)
		}
	}
	for range min(runtime.GOMAXPROCS(0), len(todo)) - 1 {
		wg.Go(work)
	}
	return func() int {
		work()
		wg.Wait()
		if panicked != nil {
			panic(panicked) // in the caller's goroutine, where the request's recovery handles it, as before
		}
		for _, i := range todo {
			r.cache.put(userID+"\x00"+inputs[i].Metric, digests[i], results[i].Result)
		}
		return len(todo)
	}
}

// recordsSince is the first start day of the stored insights an evening's
// findings can match.
func recordsSince(asOf series.Day, opt detect.Options) series.Day {
	return series.AddDays(asOf, -(opt.HistoryDays + insight.ChangeMatchDays))
}

// createdToday counts the user's insights created since the start of the
// local day (the daily guardrail).
func (r *Runner) createdToday(ctx context.Context, tx *ent.Tx, userID string, loc *time.Location) (int, error) {
	return tx.Insight.Query().
		Where(entinsight.UserID(userID), entinsight.CreatedAtGTE(startOfDay(r.now(), loc))).
		Count(ctx)
}

// modelState is what persisting one group of metrics shares with the next.
type modelState struct {
	budget int
	plan   insight.Plan
	prev   map[string]*ent.Baseline // the newest stored baseline of each metric
	// wrote and wroteInsights say what persisting wrote (see modelRun).
	wrote, wroteInsights bool
}

// persist writes the baselines of results and the evening's decisions about
// them: the baselines, new insights, audit events and feed events each with
// one multi-row INSERT, re-graded and superseded insights with one UPDATE
// each. The rows, their order and the trail's sequence numbers are those of
// writing each decision in turn.
func (r *Runner) persist(ctx context.Context, tx *ent.Tx, userID string, results []insight.MetricResult, byMetric map[string][]insight.Action, st *modelState, sum *ModelSummary) error {
	// Baselines: once per metric and day.
	saved := make([]*ent.Baseline, len(results))
	var creates []*ent.BaselineCreate
	var forResult []int
	for i, mr := range results {
		if p := st.prev[mr.Result.Metric]; p != nil && p.AsOfDay == mr.Result.AsOf.Format(time.DateOnly) {
			continue // already computed for this day with the same data
		}
		creates = append(creates, baselineCreate(tx, userID, mr.Result))
		forResult = append(forResult, i)
	}
	if len(creates) > 0 {
		rows, err := tx.Baseline.CreateBulk(creates...).Save(ctx)
		if err != nil {
			return fmt.Errorf("saving baseline: %w", err)
		}
		for j, i := range forResult {
			saved[i] = rows[j]
		}
		st.wrote = true
	}
	// New insights, in the order of the decisions, within the day's budget.
	type at struct{ metric, action int }
	budget := st.budget
	newInsight := map[at]int{}
	var insights []*ent.InsightCreate
	var details []map[string]any
	for i, mr := range results {
		for j, a := range byMetric[mr.Result.Metric] {
			if a.Kind != insight.Create || budget <= 0 {
				continue
			}
			d := createDetails(mr, a, st.plan)
			newInsight[at{i, j}] = len(insights)
			insights = append(insights, insightCreate(tx, userID, a, d))
			details = append(details, d)
			budget--
		}
	}
	ids := make([]string, 0, len(insights))
	for i := 0; i < len(insights); i += 500 {
		rows, err := tx.Insight.CreateBulk(insights[i:min(i+500, len(insights))]...).Save(ctx)
		if err != nil {
			return fmt.Errorf("saving insight: %w", err)
		}
		for _, in := range rows {
			ids = append(ids, in.ID)
		}
	}
	// The trail, decision by decision.
	batch := r.Recorder.NewBatch(userID)
	changes, created, skipped, updated := 0, 0, 0, 0
	var createdIDs []string
	for i, mr := range results {
		if saved[i] != nil {
			changed, err := r.baselineAudit(batch, userID, mr.Result, st.prev[mr.Result.Metric], saved[i])
			if err != nil {
				return err
			}
			if changed {
				changes++
			}
		}
		for j, a := range byMetric[mr.Result.Metric] {
			var err error
			switch a.Kind {
			case insight.Create:
				k, ok := newInsight[at{i, j}]
				if !ok {
					err = r.skip(batch, userID, a.Finding)
					skipped++
					break
				}
				err = r.created(ctx, tx, batch, userID, ids[k], a, details[k])
				created++
				createdIDs = append(createdIDs, ids[k])
			case insight.Regrade, insight.ExtendGap:
				err = r.update(ctx, tx, batch, userID, mr, a)
				updated++
			case insight.Hold:
				err = r.hold(batch, userID, a, st.plan)
			}
			if err != nil {
				return err
			}
		}
	}
	if batch.Len() > 0 {
		st.wrote = true
	}
	if err := batch.Flush(ctx, tx); err != nil {
		return err
	}
	// Counted only once the savepoint holds.
	st.budget = budget
	if created+updated > 0 {
		st.wroteInsights = true
	}
	sum.StateChanges += changes
	sum.InsightsCreated += created
	sum.InsightsSkipped += skipped
	sum.InsightsUpdated += updated
	sum.CreatedInsightIDs = append(sum.CreatedInsightIDs, createdIDs...)
	return nil
}

// inSavepoint runs fn inside a SQL savepoint of tx: on error the writes of
// fn are rolled back (the transaction stays usable) and the error returned.
func (r *Runner) inSavepoint(ctx context.Context, tx *ent.Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT loop_metric"); err != nil {
		return fmt.Errorf("opening savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT loop_metric"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rolling back to savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT loop_metric"); err != nil {
		return fmt.Errorf("releasing savepoint: %w", err)
	}
	return nil
}

// failureAudit records that one metric could not be modelled this
// evening; the message carries the error code, never a health value.
func failureAudit(userID, metric string, asOf series.Day, cause error) record.Audit {
	return record.Audit{
		UserID: userID, EntityType: "Metric", EntityID: metric, Action: "loop", Decision: "metric_failed",
		Reason: fmt.Sprintf("the loop could not model %s as of %s (%s); the other metrics were kept",
			metric, asOf.Format(time.DateOnly), engine.ErrorCode(cause)),
		Details: map[string]any{"metric": metric, "asOf": asOf.Format(time.DateOnly), "code": engine.ErrorCode(cause), "error": engine.ErrorMessage(cause)},
	}
}

// loadRecords loads the user's insights that start on or after since, as
// the engine's records.
func loadRecords(ctx context.Context, tx *ent.Tx, userID string, since series.Day) ([]insight.Record, error) {
	rows, err := tx.Insight.Query().
		Where(entinsight.UserID(userID), entinsight.StartDayGTE(since.Format(time.DateOnly)),
			entinsight.KindIn(entinsight.KindANOMALY, entinsight.KindCHANGE, entinsight.KindTREND, entinsight.KindDATA_GAP)).
		Order(ent.Asc(entinsight.FieldCreatedAt)).
		// What a record holds: not the texts and details (JSON to decode).
		Select(entinsight.FieldDedupeKey, entinsight.FieldKind, entinsight.FieldMetric, entinsight.FieldDirection,
			entinsight.FieldStartDay, entinsight.FieldEndDay, entinsight.FieldStatus, entinsight.FieldEvidenceGrade,
			entinsight.FieldConfidence).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading insights: %w", err)
	}
	out := make([]insight.Record, 0, len(rows))
	for _, in := range rows {
		start, err := series.ParseDay(in.StartDay)
		if err != nil {
			return nil, engine.Errorf(engine.EINTERNAL, "insight %s has an unreadable start day", in.ID)
		}
		end, err := series.ParseDay(in.EndDay)
		if err != nil {
			return nil, engine.Errorf(engine.EINTERNAL, "insight %s has an unreadable end day", in.ID)
		}
		st := insight.Closed
		if in.Status == entinsight.StatusACTIVE || in.Status == entinsight.StatusACKNOWLEDGED {
			st = insight.Open
		}
		out = append(out, insight.Record{
			ID: in.ID, Key: in.DedupeKey, Kind: detect.Kind(in.Kind), Metric: in.Metric, Direction: detect.Direction(in.Direction),
			StartDay: start, EndDay: end, Status: st, Grade: in.EvidenceGrade, Confidence: in.Confidence,
		})
	}
	return out, nil
}

// disconnectedSince maps a provider source name to the local day its
// connection stopped, for connections that are not CONNECTED.
func disconnectedSince(ctx context.Context, tx *ent.Tx, userID string, loc *time.Location) (map[string]series.Day, error) {
	conns, err := tx.ProviderConnection.Query().
		Where(providerconnection.UserID(userID), providerconnection.StatusNEQ(providerconnection.StatusCONNECTED)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]series.Day{}
	for _, c := range conns {
		if c.DisconnectedAt == nil {
			continue
		}
		out[strings.ToLower(string(c.Provider))] = series.Truncate(c.DisconnectedAt.In(loc))
	}
	return out, nil
}

// latestBaselines maps each metric to the user's newest stored baseline.
func latestBaselines(ctx context.Context, tx *ent.Tx, userID string) (map[string]*ent.Baseline, error) {
	rows, err := tx.Baseline.Query().Where(entbaseline.UserID(userID), NewestBaselinePerMetric()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading baselines: %w", err)
	}
	out := make(map[string]*ent.Baseline, len(rows))
	for _, b := range rows {
		out[b.Metric] = b
	}
	return out, nil
}

// NewestBaselinePerMetric keeps the newest baseline row of each (user,
// metric): no row of the same user and metric has a later day (answered
// from the (user_id, metric, as_of_day) unique index).
func NewestBaselinePerMetric() predicate.Baseline {
	return func(s *entsql.Selector) {
		newer := entsql.Table(entbaseline.Table).As("newer")
		s.Where(entsql.Not(entsql.Exists(
			entsql.Select(newer.C(entbaseline.FieldID)).From(newer).Where(entsql.And(
				entsql.ColumnsEQ(newer.C(entbaseline.FieldUserID), s.C(entbaseline.FieldUserID)),
				entsql.ColumnsEQ(newer.C(entbaseline.FieldMetric), s.C(entbaseline.FieldMetric)),
				entsql.ColumnsGT(newer.C(entbaseline.FieldAsOfDay), s.C(entbaseline.FieldAsOfDay)),
			)),
		)))
	}
}

// baselineCreate is the baseline row of res as of res.AsOf.
func baselineCreate(tx *ent.Tx, userID string, res detect.Result) *ent.BaselineCreate {
	b := res.Baseline
	create := tx.Baseline.Create().SetUserID(userID).SetMetric(res.Metric).SetAsOfDay(res.AsOf.Format(time.DateOnly)).
		SetState(entbaseline.State(b.State)).SetDetectorState(entbaseline.DetectorState(res.State)).SetStateReason(res.StateReason).
		SetValidDays(b.ValidDays).SetValidDaysLast28(b.ValidDaysLookback)
	if b.Usable() {
		create.SetMedian(b.Median).SetMad(b.Analysis.MAD).SetBandLow(b.BandLow).SetBandHigh(b.BandHigh).SetEwma(b.EWMA).
			SetWindowFrom(b.WindowFrom.Format(time.DateOnly)).SetWindowTo(b.WindowTo.Format(time.DateOnly))
	}
	if b.FrozenSince != nil {
		create.SetFrozenSince(b.FrozenSince.Format(time.DateOnly))
	}
	return create
}

// baselineAudit audits a change of detector state between the previous
// baseline and the one just saved; it reports whether the state changed.
func (r *Runner) baselineAudit(batch *record.Batch, userID string, res detect.Result, prev, saved *ent.Baseline) (bool, error) {
	if prev != nil && prev.DetectorState == saved.DetectorState {
		return false, nil
	}
	b := res.Baseline
	action, decision := "state_change", strings.ToLower(string(res.State))
	switch res.State {
	case detect.StatePausedDataQuality, detect.StateConflictingSources:
		action = "suppress"
	}
	return true, batch.Audit(record.Audit{
		UserID: userID, EntityType: "Baseline", EntityID: saved.ID, Action: action, Decision: decision,
		Reason: res.StateReason,
		Details: map[string]any{
			"metric": res.Metric, "asOf": saved.AsOfDay, "state": string(res.State), "baselineState": string(b.State),
			"recentCoverage": res.RecentCoverage, "validDays": b.ValidDays, "validDaysLast28": b.ValidDaysLookback,
			"conflicts": len(res.Conflicts),
		},
	})
}

func (r *Runner) skip(batch *record.Batch, userID string, f detect.Finding) error {
	return batch.Audit(record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: f.Key, Action: "skip", Decision: "guardrail_skipped",
		Reason:  fmt.Sprintf("the daily limit of %d insights was reached", r.cap()),
		Details: findingDetails(f),
	})
}

// hold audits a finding that passed its detector but not the evening's
// false-discovery control: nothing is shown.
func (r *Runner) hold(batch *record.Batch, userID string, a insight.Action, plan insight.Plan) error {
	details := findingDetails(a.Finding)
	details["fdrThreshold"], details["fdrTests"], details["fdrLevel"] = plan.Threshold, plan.Tests, insight.FDRLevel
	details["evidenceGrade"] = string(a.Assessment.Grade)
	return batch.Audit(record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: a.Key, Action: "suppress", Decision: "fdr_held",
		Reason: a.Reason, Details: details,
	})
}

// createDetails is the evidence stored with a new insight and its audit event.
func createDetails(mr insight.MetricResult, a insight.Action, plan insight.Plan) map[string]any {
	f, as := a.Finding, a.Assessment
	details := findingDetails(f)
	details["baselineState"] = string(mr.Result.Baseline.State)
	details["detectorState"] = string(mr.Result.State)
	details["pValue"], details["fdrThreshold"], details["fdrTests"], details["fdrLevel"] = f.PValue, plan.Threshold, plan.Tests, insight.FDRLevel
	details["directionSupported"] = a.DirectionSupported
	details["evidenceGrade"] = string(as.Grade)
	return details
}

// insightCreate is the new insight of a Create decision.
func insightCreate(tx *ent.Tx, userID string, a insight.Action, details map[string]any) *ent.InsightCreate {
	f, as := a.Finding, a.Assessment
	return tx.Insight.Create().
		SetUserID(userID).SetMetric(f.Metric).SetKind(entinsight.Kind(f.Kind)).
		SetTitle(a.Text.Title).SetSummary(a.Text.Summary).SetDirection(string(f.Direction)).
		SetStartDay(f.Day.Format(time.DateOnly)).SetEndDay(f.EndDay.Format(time.DateOnly)).
		SetDedupeKey(a.Key).
		SetEvidenceGrade(as.Grade).SetConfidence(as.Confidence).SetSampleSize(as.SampleSize).SetCoverage(as.Coverage).
		SetWhy(as.Why).SetHowConfident(as.HowConfident).SetWhatWouldChange(as.WhatWouldChange).
		SetDetails(details)
}

// created audits and announces a new insight and supersedes the open
// insights it reverses.
func (r *Runner) created(ctx context.Context, tx *ent.Tx, batch *record.Batch, userID, id string, a insight.Action, details map[string]any) error {
	f, as := a.Finding, a.Assessment
	if err := batch.Audit(record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: id, Action: "create", Decision: "created",
		Reason: a.Reason, Details: details,
	}); err != nil {
		return err
	}
	batch.Feed(feedevent.KindINSIGHT_CREATED, id, map[string]any{
		"metric": f.Metric, "kind": string(f.Kind), "evidenceGrade": string(as.Grade),
	})
	for _, old := range a.Supersedes {
		if err := r.supersede(ctx, tx, batch, userID, old, id, f); err != nil {
			return err
		}
	}
	return nil
}

// supersede closes an open insight that a newer finding reversed, audited
// and announced (INSIGHT_UPDATED).
func (r *Runner) supersede(ctx context.Context, tx *ent.Tx, batch *record.Batch, userID string, old insight.Record, newID string, f detect.Finding) error {
	n, err := tx.Insight.Update().
		Where(entinsight.ID(old.ID), entinsight.UserID(userID), entinsight.StatusIn(entinsight.StatusACTIVE, entinsight.StatusACKNOWLEDGED)).
		SetStatus(entinsight.StatusSUPERSEDED).SetSupersededBy(newID).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("superseding insight: %w", err)
	}
	if n == 0 {
		return nil
	}
	reason := fmt.Sprintf("superseded: a newer %s in the other direction was found from %s", strings.ToLower(string(f.Kind)), f.Day.Format(time.DateOnly))
	if err := batch.Audit(record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: old.ID, Action: "update", Decision: "superseded",
		Reason:  reason,
		Details: map[string]any{"supersededBy": newID, "sourceMetrics": []string{f.Metric}, "key": old.Key},
	}); err != nil {
		return err
	}
	batch.Feed(feedevent.KindINSIGHT_UPDATED, old.ID, map[string]any{
		"metric": f.Metric, "kind": string(old.Kind), "status": string(entinsight.StatusSUPERSEDED), "supersededBy": newID,
	})
	return nil
}

// update re-grades an open insight (new grade, confidence, words, end
// day) or extends an open data gap, audited and announced (INSIGHT_UPDATED).
func (r *Runner) update(ctx context.Context, tx *ent.Tx, batch *record.Batch, userID string, mr insight.MetricResult, a insight.Action) error {
	f, as, old := a.Finding, a.Assessment, a.Target
	details := findingDetails(f)
	details["baselineState"] = string(mr.Result.Baseline.State)
	details["detectorState"] = string(mr.Result.State)
	details["pValue"] = f.PValue
	details["directionSupported"] = a.DirectionSupported
	upd := tx.Insight.UpdateOneID(old.ID).Where(entinsight.UserID(userID)).
		SetEndDay(f.EndDay.Format(time.DateOnly)).SetTitle(a.Text.Title).SetSummary(a.Text.Summary)
	decision := "gap_extended"
	if a.Kind == insight.Regrade {
		decision = "regraded"
		upd.SetEvidenceGrade(as.Grade).SetConfidence(as.Confidence).SetSampleSize(as.SampleSize).SetCoverage(as.Coverage).
			SetWhy(as.Why).SetHowConfident(as.HowConfident).SetWhatWouldChange(as.WhatWouldChange).SetDetails(details)
	}
	if _, err := upd.Save(ctx); err != nil {
		return fmt.Errorf("updating insight: %w", err)
	}
	auditDetails := map[string]any{
		"previousEndDay": old.EndDay.Format(time.DateOnly), "endDay": f.EndDay.Format(time.DateOnly),
		"previousGrade": string(old.Grade), "evidenceGrade": string(as.Grade), "kind": string(f.Kind),
		"previousConfidence": old.Confidence, "confidence": as.Confidence, "sourceMetrics": []string{f.Metric},
	}
	if err := batch.Audit(record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: old.ID, Action: "update", Decision: decision,
		Reason: a.Reason, Details: auditDetails,
	}); err != nil {
		return err
	}
	batch.Feed(feedevent.KindINSIGHT_UPDATED, old.ID, map[string]any{
		"metric": f.Metric, "kind": string(f.Kind), "evidenceGrade": string(as.Grade), "change": decision,
	})
	return nil
}

// findingDetails is the evidence of a finding: source metric, windows,
// detector and thresholds crossed.
func findingDetails(f detect.Finding) map[string]any {
	return map[string]any{
		"key":            f.Key,
		"kind":           string(f.Kind),
		"sourceMetrics":  []string{f.Metric},
		"detectors":      []string{f.Detector},
		"thresholds":     f.Thresholds,
		"window":         map[string]string{"from": f.WindowFrom.Format(time.DateOnly), "to": f.WindowTo.Format(time.DateOnly)},
		"value":          f.Value,
		"baseline":       f.Baseline,
		"delta":          f.Delta,
		"z":              f.Z,
		"slopePerDay":    f.SlopePerDay,
		"valence":        string(f.Valence),
		"frozenBaseline": f.FrozenBaseline,
	}
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
