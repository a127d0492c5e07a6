// Package loop runs Vitalgraph's per-user loop over stored data. This file is
// the MODEL stage: baselines and detectors per metric, persisted as Baseline
// rows and graded Insights. Every decision to create, suppress or skip an
// insight writes an AuditEvent (and every insight a FeedEvent) in the same
// transaction as the insight itself. Re-running on the same data creates
// nothing new.
package loop

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	entbaseline "github.com/vitalgraph/vitalgraph/ent/baseline"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/app/record"
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
}

// ModelSummary says what the MODEL stage did.
type ModelSummary struct {
	Metrics           []string
	InsightsCreated   int
	InsightsSkipped   int // skipped by the daily guardrail (audited)
	StateChanges      int
	CreatedInsightIDs []string
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

// Model runs baselines and detectors for every metric of userID inside tx.
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
	// Findings reach back HistoryDays and their baselines another long
	// window: older observations cannot change the result, so they are not read.
	from := series.AddDays(asOf, -(opt.HistoryDays + opt.Baseline.WithDefaults().LongWindowDays + 1))
	obs, err := tx.Observation.Query().
		Where(observation.UserID(userID), observation.Missing(false), observation.ValueNotNil(),
			observation.LocalDayGTE(from.Format(time.DateOnly))).
		Order(ent.Asc(observation.FieldLocalDay), ent.Asc(observation.FieldObservedAt)).
		All(ctx)
	if err != nil {
		return sum, fmt.Errorf("loading observations: %w", err)
	}
	bySource := map[string]map[string]series.Series{}
	for _, o := range obs {
		day, err := series.ParseDay(o.LocalDay)
		if err != nil || day.After(asOf) {
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
		Where(insight.UserID(userID), insight.CreatedAtGTE(startOfDay(r.now(), loc))).
		Count(ctx)
	if err != nil {
		return sum, err
	}
	budget := r.cap() - createdToday
	for _, metric := range sortedKeys(bySource) {
		m, ok := metrics.Lookup(metric)
		if !ok {
			continue
		}
		sum.Metrics = append(sum.Metrics, metric)
		in := detect.Input{
			Metric:         metric,
			HigherIsBetter: m.Direction == metrics.HigherIsBetter,
			LnTransform:    m.LnTransform,
			AsOf:           asOf,
		}
		in.Series, in.DisconnectedSince = primary(bySource[metric], disconnected)
		if len(bySource[metric]) > 1 {
			in.BySource = map[string]series.Series{}
			for src, s := range bySource[metric] {
				in.BySource[src] = series.Normalize(s)
			}
		}
		res := detect.Run(in, opt)
		changed, err := r.saveBaseline(ctx, tx, userID, res)
		if err != nil {
			return sum, err
		}
		if changed {
			sum.StateChanges++
		}
		for _, f := range res.Findings {
			dup, err := isDuplicate(ctx, tx, userID, f)
			if err != nil {
				return sum, err
			}
			if dup {
				if err := r.extendGap(ctx, tx, userID, m, f); err != nil {
					return sum, err
				}
				continue
			}
			if budget <= 0 {
				if err := r.skip(ctx, tx, userID, f); err != nil {
					return sum, err
				}
				sum.InsightsSkipped++
				continue
			}
			id, err := r.create(ctx, tx, userID, m, f, res)
			if err != nil {
				return sum, err
			}
			budget--
			sum.InsightsCreated++
			sum.CreatedInsightIDs = append(sum.CreatedInsightIDs, id)
		}
	}
	return sum, nil
}

// primary picks the source with the most valid days in the last 60 as the
// metric's series (sources are never pooled: their scales differ), and
// returns when that source was disconnected, if it is.
func primary(sources map[string]series.Series, disconnected map[string]series.Day) (series.Series, *series.Day) {
	best, bestN := "", -1
	for _, src := range sortedKeys(sources) {
		if n := len(series.Normalize(sources[src])); n > bestN {
			best, bestN = src, n
		}
	}
	s := series.Normalize(sources[best])
	if d, ok := disconnected[best]; ok {
		return s, &d
	}
	return s, nil
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

// isDuplicate reports whether f was already recorded. Anomalies and gaps
// match by key; a change matches an existing change of the same direction
// starting within 7 days (its change point may move as data arrives); a trend
// matches an active trend of the same direction created in the last 30 days.
func isDuplicate(ctx context.Context, tx *ent.Tx, userID string, f detect.Finding) (bool, error) {
	q := tx.Insight.Query().Where(insight.UserID(userID), insight.Metric(f.Metric))
	switch f.Kind {
	case detect.KindChange:
		q = q.Where(insight.KindEQ(insight.KindCHANGE), insight.Direction(string(f.Direction)),
			insight.StartDayGTE(series.AddDays(f.Day, -7).Format(time.DateOnly)),
			insight.StartDayLTE(series.AddDays(f.Day, 7).Format(time.DateOnly)))
	case detect.KindTrend:
		q = q.Where(insight.KindEQ(insight.KindTREND), insight.Direction(string(f.Direction)),
			insight.StatusEQ(insight.StatusACTIVE),
			insight.StartDayGTE(series.AddDays(f.Day, -30).Format(time.DateOnly)))
	default:
		q = q.Where(insight.DedupeKey(f.Key))
	}
	return q.Exist(ctx)
}

// extendGap moves the end of a known data-gap insight when the gap has
// grown since it was recorded, and audits the change.
func (r *Runner) extendGap(ctx context.Context, tx *ent.Tx, userID string, m metrics.Metric, f detect.Finding) error {
	if f.Kind != detect.KindDataGap {
		return nil
	}
	in, err := tx.Insight.Query().Where(insight.UserID(userID), insight.DedupeKey(f.Key)).Only(ctx)
	if err != nil {
		return err
	}
	end := f.EndDay.Format(time.DateOnly)
	if end <= in.EndDay {
		return nil
	}
	prev := in.EndDay
	if _, err := in.Update().SetEndDay(end).SetTitle(title(m, f)).SetSummary(summary(m, f)).Save(ctx); err != nil {
		return err
	}
	_, err = r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: in.ID, Action: "update", Decision: "gap_extended",
		Reason:  fmt.Sprintf("the data gap continued: it now ends on %s (was %s)", end, prev),
		Details: map[string]any{"previousEndDay": prev, "endDay": end, "sourceMetrics": []string{f.Metric}},
	})
	return err
}

func (r *Runner) skip(ctx context.Context, tx *ent.Tx, userID string, f detect.Finding) error {
	_, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: f.Key, Action: "skip", Decision: "guardrail_skipped",
		Reason:  fmt.Sprintf("the daily limit of %d insights was reached", r.cap()),
		Details: findingDetails(f),
	})
	return err
}

func (r *Runner) create(ctx context.Context, tx *ent.Tx, userID string, m metrics.Metric, f detect.Finding, res detect.Result) (string, error) {
	window := series.DaysBetween(f.WindowFrom, f.WindowTo) + 1
	a := evidence.Assess(evidence.Input{
		Confidence: evidence.Clamp01(f.Confidence), SampleSize: f.SampleSize, Coverage: evidence.Clamp01(f.Coverage), PlannedDays: window,
	})
	details := findingDetails(f)
	details["baselineState"] = string(res.Baseline.State)
	details["detectorState"] = string(res.State)
	in, err := tx.Insight.Create().
		SetUserID(userID).SetMetric(f.Metric).SetKind(insight.Kind(f.Kind)).
		SetTitle(title(m, f)).SetSummary(summary(m, f)).SetDirection(string(f.Direction)).
		SetStartDay(f.Day.Format(time.DateOnly)).SetEndDay(f.EndDay.Format(time.DateOnly)).
		SetDedupeKey(f.Key).
		SetEvidenceGrade(a.Grade).SetConfidence(a.Confidence).SetSampleSize(a.SampleSize).SetCoverage(a.Coverage).
		SetWhy(a.Why).SetHowConfident(a.HowConfident).SetWhatWouldChange(a.WhatWouldChange).
		SetDetails(details).
		Save(ctx)
	if err != nil {
		return "", fmt.Errorf("saving insight: %w", err)
	}
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: in.ID, Action: "create", Decision: "created",
		Reason:  fmt.Sprintf("%s detected by %s; grade %s", strings.ToLower(string(f.Kind)), f.Detector, a.Grade),
		Details: details,
	}); err != nil {
		return "", err
	}
	if _, err := r.Recorder.Feed(ctx, tx, userID, feedevent.KindINSIGHT_CREATED, in.ID, map[string]any{
		"metric": f.Metric, "kind": string(f.Kind), "evidenceGrade": string(a.Grade),
	}); err != nil {
		return "", err
	}
	return in.ID, nil
}

// findingDetails is the evidence of a finding: source metric, windows,
// detector and thresholds crossed.
func findingDetails(f detect.Finding) map[string]any {
	return map[string]any{
		"key":            f.Key,
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

func title(m metrics.Metric, f detect.Finding) string {
	day := f.Day.Format(time.DateOnly)
	dir := map[detect.Direction]string{detect.DirectionUp: "higher", detect.DirectionDown: "lower"}[f.Direction]
	switch f.Kind {
	case detect.KindAnomaly:
		level := map[detect.Direction]string{detect.DirectionUp: "high", detect.DirectionDown: "low"}[f.Direction]
		return fmt.Sprintf("%s unusually %s on %s", m.Name, level, day)
	case detect.KindChange:
		return fmt.Sprintf("%s shifted %s from %s", m.Name, dir, day)
	case detect.KindTrend:
		return fmt.Sprintf("%s trending %s since %s", m.Name, dir, day)
	case detect.KindDataGap:
		return fmt.Sprintf("No %s data from %s to %s", m.Name, day, f.EndDay.Format(time.DateOnly))
	}
	return m.Name
}

func summary(m metrics.Metric, f detect.Finding) string {
	switch f.Kind {
	case detect.KindDataGap:
		return fmt.Sprintf("%d days without %s data; baselines were not updated and no anomalies are reported for those days.",
			series.DaysBetween(f.Day, f.EndDay)+1, m.Name)
	case detect.KindTrend:
		return fmt.Sprintf("%s moved %.2f %s per day over the window.", m.Name, f.SlopePerDay, m.CanonicalUnit)
	}
	return fmt.Sprintf("%s was %.1f %s against a personal baseline of %.1f %s (robust z %.1f).",
		m.Name, f.Value, m.CanonicalUnit, f.Baseline, m.CanonicalUnit, f.Z)
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
