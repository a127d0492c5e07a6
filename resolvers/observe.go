package resolvers

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/graph/model"
)

// tx returns the transaction entgql.Transactioner opened for this mutation.
func tx(ctx context.Context) (*ent.Tx, error) {
	t := ent.TxFromContext(ctx)
	if t == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "mutation outside a transaction")
	}
	return t, nil
}

// viewerTx returns the signed-in viewer and the mutation's transaction.
func viewerTx(ctx context.Context) (viewer.Viewer, *ent.Tx, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return v, nil, err
	}
	t, err := tx(ctx)
	return v, t, err
}

// targetUser resolves an optional userID argument: the viewer by default;
// another user only for admins (EFORBIDDEN otherwise).
func targetUser(ctx context.Context, userID *string) (string, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return "", err
	}
	if userID == nil || *userID == "" || *userID == v.UserID {
		return v.UserID, nil
	}
	if v.Role != viewer.RoleAdmin {
		return "", engine.Errorf(engine.EFORBIDDEN, "only admins may act for another user")
	}
	return *userID, nil
}

func toSamples(in []*model.ObservationInput) []metrics.Sample {
	out := make([]metrics.Sample, len(in))
	for i, o := range in {
		out[i] = metrics.Sample{
			Metric: o.Metric, Value: o.Value, Unit: o.Unit, ObservedAt: o.ObservedAt,
			LocalDay: o.LocalDay, UTCOffsetSeconds: o.UtcOffsetSeconds, Source: o.Source,
		}
	}
	return out
}

func metricInfo(m metrics.Metric) *model.MetricInfo {
	units := make([]*model.MetricUnit, len(m.Units))
	for i, u := range m.Units {
		aliases := append([]string{}, u.Aliases...)
		units[i] = &model.MetricUnit{Token: u.Token, Aliases: aliases}
	}
	dir := map[metrics.Direction]model.MetricDirection{
		metrics.HigherIsBetter: model.MetricDirectionHigherIsBetter, metrics.LowerIsBetter: model.MetricDirectionLowerIsBetter,
	}[m.Direction]
	if dir == "" {
		dir = model.MetricDirectionNeutral
	}
	return &model.MetricInfo{
		Key: m.Key, Name: m.Name, CanonicalUnit: m.CanonicalUnit, Units: units,
		RejectRange: valueRange(m.RejectOutside), FlagRange: valueRange(m.FlagOutside),
		Direction: dir, LnTransform: m.LnTransform, ZeroMeansMissing: m.ZeroMeansMissing, LagDays: m.LagDays,
	}
}

func valueRange(r metrics.Range) *model.ValueRange {
	out := &model.ValueRange{MinExclusive: r.MinExclusive, MaxExclusive: r.MaxExclusive}
	if !math.IsInf(r.Min, 0) {
		v := r.Min
		out.Min = &v
	}
	if !math.IsInf(r.Max, 0) {
		v := r.Max
		out.Max = &v
	}
	return out
}

// evidenceOf maps stored evidence columns and details to the API type.
func evidenceOf(grade evidence.Grade, confidence float64, n int, coverage float64, why, how, what string, details map[string]any) *model.Evidence {
	ev := &model.Evidence{
		Grade: grade, Confidence: confidence, SampleSize: n, Coverage: coverage,
		Why: why, HowConfident: how, WhatWouldChange: what,
		SourceMetrics: stringList(details["sourceMetrics"]), Detectors: stringList(details["detectors"]),
	}
	if th, ok := details["thresholds"].(map[string]any); ok {
		ev.Thresholds = th
	}
	if w, ok := details["window"].(map[string]any); ok {
		if f, ok := w["from"].(string); ok {
			ev.WindowFrom = &f
		}
		if t, ok := w["to"].(string); ok {
			ev.WindowTo = &t
		}
	}
	return ev
}

func stringList(v any) []string {
	out := []string{}
	switch x := v.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// enqueueLoopAfterCommit schedules a background loop run for userID once the
// ingestion transaction has committed (never for a rolled-back batch).
// Best effort: the batch is stored; runLoop and `loop --all` catch up. The
// failure is logged (no health values, only the pseudonymous user id) so it
// leaves a trace.
func (r *Resolver) enqueueLoopAfterCommit(t *ent.Tx, userID string) {
	if r.Jobs == nil {
		return
	}
	q := r.Jobs
	afterCommit(t, func(ctx context.Context) {
		if err := q.EnqueueLoop(ctx, userID); err != nil {
			slog.WarnContext(ctx, "loop enqueue failed after ingestion", slog.String("user_id", userID), slog.String("error", err.Error()))
		}
	})
}

// afterCommit runs fn once t has committed (never for a rolled-back
// transaction), with a context that outlives the request's cancellation.
func afterCommit(t *ent.Tx, fn func(ctx context.Context)) {
	t.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			fn(context.WithoutCancel(ctx))
			return nil
		})
	})
}

func ingestResult(res ingest.Result) *model.IngestResult {
	return &model.IngestResult{
		BatchID: res.BatchID, Received: res.Received, Inserted: res.Inserted,
		Duplicates: res.Duplicates, Missing: res.Missing, Replayed: res.Replayed,
	}
}

func skipped(in []providers.Skip) []*model.SkippedRecord {
	out := make([]*model.SkippedRecord, len(in))
	for i, s := range in {
		out[i] = &model.SkippedRecord{RecordID: s.RecordID, Reason: s.Reason}
	}
	return out
}

// providerSource maps a provider enum to the source name of its adapter
// (engine/providers); EINVALID for a provider without one.
func providerSource(p providerconnection.Provider) (string, error) {
	src := strings.ToLower(string(p))
	if !slices.Contains(providers.Providers, src) {
		return "", engine.Errorf(engine.EINVALID, "provider %s has no payload adapter; use WHOOP, OURA or APPLE_HEALTH", p).WithDetails("field", "provider")
	}
	return src, nil
}
