// Package loop runs Vitalgraph's per-user loop over stored data. This file is
// the MODEL stage: baselines and detectors per metric, persisted as Baseline
// rows and graded Insights. Every decision to create, suppress or skip an
// insight writes an AuditEvent (and every insight a FeedEvent) in the same
// transaction as the insight itself. Re-running on the same data creates
// nothing new.
package loop

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

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
	"github.com/vitalgraph/vitalgraph/ent/observation"
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
// and persists each metric's baseline and decisions in its own savepoint:
// a failure in one metric (a stored day that does not parse, an unknown
// metric, a constraint) is rolled back to that savepoint, audited and
// reported in ModelSummary.Failures, and never undoes the other metrics.
// Only a failure of the transaction itself (or of the context) is returned.
func (r *Runner) Model(ctx context.Context, tx *ent.Tx, userID string) (ModelSummary, error) {
	var sum ModelSummary
	_, loc, asOf, err := UserDay(ctx, tx, userID, r.now())
	if err != nil {
		return sum, err
	}
	opt := r.Detect
	if opt == (detect.Options{}) {
		opt = detect.DefaultOptions()
	}
	opt = opt.WithDefaults()
	// Findings reach back HistoryDays and their baselines another long
	// window: older observations cannot change the result, so they are not read.
	from := series.AddDays(asOf, -(opt.HistoryDays + opt.Baseline.LongWindowDays + 1))
	obs, err := tx.Observation.Query().
		Where(observation.UserID(userID), observation.Missing(false), observation.ValueNotNil(),
			observation.LocalDayGTE(from.Format(time.DateOnly))).
		Order(ent.Asc(observation.FieldLocalDay), ent.Asc(observation.FieldObservedAt)).
		All(ctx)
	if err != nil {
		return sum, fmt.Errorf("loading observations: %w", err)
	}
	bySource := map[string]map[string]series.Series{}
	failed := map[string]error{}
	for _, o := range obs {
		day, err := series.ParseDay(o.LocalDay)
		if err != nil {
			failed[o.Metric] = engine.Errorf(engine.EINTERNAL, "observation %s has an unreadable local day %q", o.ID, o.LocalDay)
			continue
		}
		if day.After(asOf) {
			continue
		}
		if bySource[o.Metric] == nil {
			bySource[o.Metric] = map[string]series.Series{}
		}
		bySource[o.Metric][o.Source] = append(bySource[o.Metric][o.Source], series.Point{Day: day, Value: *o.Value})
	}
	disconnected, err := disconnectedSince(ctx, tx, userID, loc)
	if err != nil {
		return sum, err
	}
	createdToday, err := tx.Insight.Query().
		Where(entinsight.UserID(userID), entinsight.CreatedAtGTE(startOfDay(r.now(), loc))).
		Count(ctx)
	if err != nil {
		return sum, err
	}
	existing, err := loadRecords(ctx, tx, userID, series.AddDays(asOf, -(opt.HistoryDays+insight.ChangeMatchDays)))
	if err != nil {
		return sum, err
	}
	var results []insight.MetricResult
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
		results = append(results, insight.MetricResult{Metric: m, Result: detect.Run(in, opt)})
	}
	plan := insight.Decide(results, existing)
	byMetric := map[string][]insight.Action{}
	for _, a := range plan.Actions {
		byMetric[a.Finding.Metric] = append(byMetric[a.Finding.Metric], a)
	}
	st := &modelState{budget: r.cap() - createdToday, plan: plan}
	for _, mr := range results {
		metric := mr.Result.Metric
		sum.Metrics = append(sum.Metrics, metric)
		err := r.inSavepoint(ctx, tx, func() error {
			return r.persistMetric(ctx, tx, userID, mr, byMetric[metric], st, &sum)
		})
		if err != nil {
			if ctx.Err() != nil {
				return sum, err
			}
			failed[metric] = err
		}
	}
	for _, metric := range sortedKeys(failed) {
		if err := r.auditFailure(ctx, tx, userID, metric, asOf, failed[metric]); err != nil {
			return sum, err
		}
		sum.Failures = append(sum.Failures, MetricFailure{Metric: metric, Code: engine.ErrorCode(failed[metric])})
	}
	return sum, nil
}

// modelState is what persisting one metric shares with the next.
type modelState struct {
	budget int
	plan   insight.Plan
}

// persistMetric writes one metric's baseline and the evening's decisions
// about it.
func (r *Runner) persistMetric(ctx context.Context, tx *ent.Tx, userID string, mr insight.MetricResult, actions []insight.Action, st *modelState, sum *ModelSummary) error {
	changed, err := r.saveBaseline(ctx, tx, userID, mr.Result)
	if err != nil {
		return err
	}
	created, skipped, updated := 0, 0, 0
	var ids []string
	for _, a := range actions {
		switch a.Kind {
		case insight.Create:
			if st.budget <= 0 {
				if err := r.skip(ctx, tx, userID, a.Finding); err != nil {
					return err
				}
				skipped++
				continue
			}
			id, err := r.create(ctx, tx, userID, mr, a, st.plan)
			if err != nil {
				return err
			}
			st.budget--
			created++
			ids = append(ids, id)
		case insight.Regrade, insight.ExtendGap:
			if err := r.update(ctx, tx, userID, mr, a); err != nil {
				return err
			}
			updated++
		case insight.Hold:
			if err := r.hold(ctx, tx, userID, a, st.plan); err != nil {
				return err
			}
		}
	}
	// Counted only once the metric's savepoint holds.
	if changed {
		sum.StateChanges++
	}
	sum.InsightsCreated += created
	sum.InsightsSkipped += skipped
	sum.InsightsUpdated += updated
	sum.CreatedInsightIDs = append(sum.CreatedInsightIDs, ids...)
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

// auditFailure records that one metric could not be modelled this
// evening; the message carries the error code, never a health value.
func (r *Runner) auditFailure(ctx context.Context, tx *ent.Tx, userID, metric string, asOf series.Day, cause error) error {
	_, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Metric", EntityID: metric, Action: "loop", Decision: "metric_failed",
		Reason: fmt.Sprintf("the loop could not model %s as of %s (%s); the other metrics were kept",
			metric, asOf.Format(time.DateOnly), engine.ErrorCode(cause)),
		Details: map[string]any{"metric": metric, "asOf": asOf.Format(time.DateOnly), "code": engine.ErrorCode(cause), "error": engine.ErrorMessage(cause)},
	})
	return err
}

// loadRecords loads the user's insights that start on or after since, as
// the engine's records.
func loadRecords(ctx context.Context, tx *ent.Tx, userID string, since series.Day) ([]insight.Record, error) {
	rows, err := tx.Insight.Query().
		Where(entinsight.UserID(userID), entinsight.StartDayGTE(since.Format(time.DateOnly)),
			entinsight.KindIn(entinsight.KindANOMALY, entinsight.KindCHANGE, entinsight.KindTREND, entinsight.KindDATA_GAP)).
		Order(ent.Asc(entinsight.FieldCreatedAt)).
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

// saveBaseline stores the baseline as of res.AsOf (once per day) and
// audits a change of detector state; it reports whether the state changed.
func (r *Runner) saveBaseline(ctx context.Context, tx *ent.Tx, userID string, res detect.Result) (bool, error) {
	day := res.AsOf.Format(time.DateOnly)
	prev, err := tx.Baseline.Query().
		Where(entbaseline.UserID(userID), entbaseline.Metric(res.Metric)).
		Order(ent.Desc(entbaseline.FieldAsOfDay)).
		First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return false, err
	}
	b := res.Baseline
	state := entbaseline.State(b.State)
	if prev != nil && prev.AsOfDay == day {
		// Already computed for this day with the same data.
		return false, nil
	}
	create := tx.Baseline.Create().SetUserID(userID).SetMetric(res.Metric).SetAsOfDay(day).
		SetState(state).SetDetectorState(entbaseline.DetectorState(res.State)).SetStateReason(res.StateReason).
		SetValidDays(b.ValidDays).SetValidDaysLast28(b.ValidDaysLookback)
	if b.Usable() {
		create.SetMedian(b.Median).SetMad(b.Analysis.MAD).SetBandLow(b.BandLow).SetBandHigh(b.BandHigh).SetEwma(b.EWMA).
			SetWindowFrom(b.WindowFrom.Format(time.DateOnly)).SetWindowTo(b.WindowTo.Format(time.DateOnly))
	}
	if b.FrozenSince != nil {
		create.SetFrozenSince(b.FrozenSince.Format(time.DateOnly))
	}
	saved, err := create.Save(ctx)
	if err != nil {
		return false, fmt.Errorf("saving baseline: %w", err)
	}
	if prev != nil && prev.DetectorState == saved.DetectorState {
		return false, nil
	}
	action, decision := "state_change", strings.ToLower(string(res.State))
	switch res.State {
	case detect.StatePausedDataQuality, detect.StateConflictingSources:
		action = "suppress"
	}
	_, err = r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Baseline", EntityID: saved.ID, Action: action, Decision: decision,
		Reason: res.StateReason,
		Details: map[string]any{
			"metric": res.Metric, "asOf": day, "state": string(res.State), "baselineState": string(b.State),
			"recentCoverage": res.RecentCoverage, "validDays": b.ValidDays, "validDaysLast28": b.ValidDaysLookback,
			"conflicts": len(res.Conflicts),
		},
	})
	return true, err
}

func (r *Runner) skip(ctx context.Context, tx *ent.Tx, userID string, f detect.Finding) error {
	_, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: f.Key, Action: "skip", Decision: "guardrail_skipped",
		Reason:  fmt.Sprintf("the daily limit of %d insights was reached", r.cap()),
		Details: findingDetails(f),
	})
	return err
}

// hold audits a finding that passed its detector but not the evening's
// false-discovery control: nothing is shown.
func (r *Runner) hold(ctx context.Context, tx *ent.Tx, userID string, a insight.Action, plan insight.Plan) error {
	details := findingDetails(a.Finding)
	details["fdrThreshold"], details["fdrTests"], details["fdrLevel"] = plan.Threshold, plan.Tests, insight.FDRLevel
	details["evidenceGrade"] = string(a.Assessment.Grade)
	_, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: a.Key, Action: "suppress", Decision: "fdr_held",
		Reason: a.Reason, Details: details,
	})
	return err
}

func (r *Runner) create(ctx context.Context, tx *ent.Tx, userID string, mr insight.MetricResult, a insight.Action, plan insight.Plan) (string, error) {
	f, as := a.Finding, a.Assessment
	details := findingDetails(f)
	details["baselineState"] = string(mr.Result.Baseline.State)
	details["detectorState"] = string(mr.Result.State)
	details["pValue"], details["fdrThreshold"], details["fdrTests"], details["fdrLevel"] = f.PValue, plan.Threshold, plan.Tests, insight.FDRLevel
	details["directionSupported"] = a.DirectionSupported
	details["evidenceGrade"] = string(as.Grade)
	in, err := tx.Insight.Create().
		SetUserID(userID).SetMetric(f.Metric).SetKind(entinsight.Kind(f.Kind)).
		SetTitle(a.Text.Title).SetSummary(a.Text.Summary).SetDirection(string(f.Direction)).
		SetStartDay(f.Day.Format(time.DateOnly)).SetEndDay(f.EndDay.Format(time.DateOnly)).
		SetDedupeKey(a.Key).
		SetEvidenceGrade(as.Grade).SetConfidence(as.Confidence).SetSampleSize(as.SampleSize).SetCoverage(as.Coverage).
		SetWhy(as.Why).SetHowConfident(as.HowConfident).SetWhatWouldChange(as.WhatWouldChange).
		SetDetails(details).
		Save(ctx)
	if err != nil {
		return "", fmt.Errorf("saving insight: %w", err)
	}
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: in.ID, Action: "create", Decision: "created",
		Reason: a.Reason, Details: details,
	}); err != nil {
		return "", err
	}
	if _, err := r.Recorder.Feed(ctx, tx, userID, feedevent.KindINSIGHT_CREATED, in.ID, map[string]any{
		"metric": f.Metric, "kind": string(f.Kind), "evidenceGrade": string(as.Grade),
	}); err != nil {
		return "", err
	}
	for _, old := range a.Supersedes {
		if err := r.supersede(ctx, tx, userID, old, in.ID, f); err != nil {
			return "", err
		}
	}
	return in.ID, nil
}

// supersede closes an open insight that a newer finding reversed, audited
// and announced (INSIGHT_UPDATED).
func (r *Runner) supersede(ctx context.Context, tx *ent.Tx, userID string, old insight.Record, newID string, f detect.Finding) error {
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
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: old.ID, Action: "update", Decision: "superseded",
		Reason:  reason,
		Details: map[string]any{"supersededBy": newID, "sourceMetrics": []string{f.Metric}, "key": old.Key},
	}); err != nil {
		return err
	}
	_, err = r.Recorder.Feed(ctx, tx, userID, feedevent.KindINSIGHT_UPDATED, old.ID, map[string]any{
		"metric": f.Metric, "kind": string(old.Kind), "status": string(entinsight.StatusSUPERSEDED), "supersededBy": newID,
	})
	return err
}

// update re-grades an open insight (new grade, confidence, words, end
// day) or extends an open data gap, audited and announced (INSIGHT_UPDATED).
func (r *Runner) update(ctx context.Context, tx *ent.Tx, userID string, mr insight.MetricResult, a insight.Action) error {
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
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: old.ID, Action: "update", Decision: decision,
		Reason: a.Reason, Details: auditDetails,
	}); err != nil {
		return err
	}
	_, err := r.Recorder.Feed(ctx, tx, userID, feedevent.KindINSIGHT_UPDATED, old.ID, map[string]any{
		"metric": f.Metric, "kind": string(f.Kind), "evidenceGrade": string(as.Grade), "change": decision,
	})
	return err
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
