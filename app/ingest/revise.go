package ingest

import (
	"context"
	"fmt"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/observationrevision"
)

// Revision is one stored value a provider changed.
type Revision struct {
	ObservationID string
	Metric        string
	LocalDay      string
	Revision      int // 2 for the first change
}

// Revise applies a provider's rescoring: every validated sample whose
// natural key (metric, source, local day, observed-at) is already stored
// with a different value or missing flag replaces the stored value, and the
// change is kept as an ObservationRevision (value before and after) and
// audited once for the call. Samples not stored yet and samples equal to the
// stored value are left alone, so Revise after Ingest on the same samples
// changes only what the provider changed, and running it again changes
// nothing (idempotent). batchID names the batch that carried the new
// values (may be "").
//
// Ingest keeps the first value of a natural key (a re-sent sample is a
// duplicate); Revise is what provider syncs call after it, inside the same
// transaction, so a rescored record wins over the first value.
func (s *Service) Revise(ctx context.Context, tx *ent.Tx, userID string, checked []metrics.Checked, batchID string) ([]Revision, error) {
	if len(checked) == 0 {
		return nil, nil
	}
	days := map[string]bool{}
	mets := map[string]bool{}
	for _, c := range checked {
		days[c.Sample.LocalDay] = true
		mets[c.Sample.Metric] = true
	}
	rows, err := tx.Observation.Query().
		Where(observation.UserID(userID), observation.LocalDayIn(keys(days)...), observation.MetricIn(keys(mets)...)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up stored samples: %w", err)
	}
	stored := make(map[string]*ent.Observation, len(rows))
	for _, r := range rows {
		stored[naturalKey(r.Metric, r.Source, r.LocalDay, r.ObservedAt)] = r
	}
	type change struct {
		obs *ent.Observation
		c   metrics.Checked
	}
	var changes []change
	for _, c := range checked {
		o, ok := stored[naturalKey(c.Sample.Metric, c.Sample.Source, c.Sample.LocalDay, c.Sample.ObservedAt)]
		if !ok || sameValue(o, c) {
			continue
		}
		changes = append(changes, change{obs: o, c: c})
	}
	if len(changes) == 0 {
		return nil, nil
	}
	ids := make([]string, len(changes))
	for i, ch := range changes {
		ids[i] = ch.obs.ID
	}
	prev, err := tx.ObservationRevision.Query().
		Where(observationrevision.ObservationIDIn(ids...)).
		Select(observationrevision.FieldObservationID, observationrevision.FieldRevision).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up revisions: %w", err)
	}
	last := map[string]int{}
	for _, p := range prev {
		last[p.ObservationID] = max(last[p.ObservationID], p.Revision)
	}
	out := make([]Revision, 0, len(changes))
	audit := make([]map[string]any, 0, len(changes))
	for _, ch := range changes {
		o, c := ch.obs, ch.c
		n := max(last[o.ID], 1) + 1
		upd := o.Update().SetMissing(c.Missing)
		rc := tx.ObservationRevision.Create().SetUserID(userID).SetObservationID(o.ID).SetRevision(n).
			SetMetric(o.Metric).SetSource(o.Source).SetLocalDay(o.LocalDay).
			SetPreviousMissing(o.Missing).SetNillablePreviousValue(o.Value).SetMissing(c.Missing)
		if c.Missing {
			upd.ClearValue()
		} else {
			upd.SetValue(c.Value)
			rc.SetValue(c.Value)
		}
		if batchID != "" {
			rc.SetBatchID(batchID)
		}
		if err := upd.Exec(ctx); err != nil {
			return nil, fmt.Errorf("revising a sample: %w", err)
		}
		if err := rc.Exec(ctx); err != nil {
			return nil, fmt.Errorf("recording a revision: %w", err)
		}
		out = append(out, Revision{ObservationID: o.ID, Metric: o.Metric, LocalDay: o.LocalDay, Revision: n})
		audit = append(audit, map[string]any{"observation": o.ID, "metric": o.Metric, "localDay": o.LocalDay, "revision": n})
	}
	if s.Recorder != nil {
		entity := batchID
		if entity == "" {
			entity = out[0].ObservationID
		}
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "IngestionBatch", EntityID: entity, Action: "revise", Decision: "revised",
			Reason:  fmt.Sprintf("%d stored value(s) rescored by the provider; the previous values are kept as revisions", len(out)),
			Details: map[string]any{"revisions": audit},
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameValue reports whether o already holds c's value.
func sameValue(o *ent.Observation, c metrics.Checked) bool {
	if o.Missing || c.Missing {
		return o.Missing == c.Missing
	}
	return o.Value != nil && *o.Value == c.Value
}

// IngestProvider stores a provider's samples the way a provider sync does:
// Ingest (all or nothing, idempotent), then Revise in the same transaction,
// so a record the provider rescored replaces the stored value as a new
// revision instead of the first value winning. A replayed idempotency key
// returns the first result and revises nothing. Used by
// ingestProviderPayload, whose records come from the provider's own export.
func (s *Service) IngestProvider(ctx context.Context, tx *ent.Tx, userID string, samples []metrics.Sample, idempotencyKey string) (Result, []Revision, error) {
	res, err := s.Ingest(ctx, tx, userID, samples, idempotencyKey)
	if err != nil || res.Replayed {
		return res, nil, err
	}
	// Ingest accepted every sample; the checked values (missing flags
	// included) are what Revise compares.
	checked := metrics.ValidateBatch(samples, s.Clock(), metrics.Options{MaxBatch: len(samples) + 1, Earliest: s.Earliest})
	revs, err := s.Revise(ctx, tx, userID, checked.Accepted, res.BatchID)
	return res, revs, err
}
