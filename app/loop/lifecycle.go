package loop

import (
	"context"
	"fmt"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
)

// Dismiss marks userID's insight id as DISMISSED with the user's reason
// (stored for tuning the detectors) and audits it. A dismissed insight
// leaves the default insight lists and the insightCreated feed; the loop
// never re-opens it. Dismissing twice keeps the first dismissal time and
// records the newer reason. ENOTFOUND when the insight is not the user's.
func (r *Runner) Dismiss(ctx context.Context, tx *ent.Tx, userID, id string, reason insight.DismissReason) (*ent.Insight, error) {
	if err := insight.DismissReasonValidator(reason); err != nil {
		return nil, engine.Errorf(engine.EINVALID, "unknown dismiss reason %q", reason).WithDetails("field", "reason")
	}
	in, err := r.ownInsight(ctx, tx, userID, id)
	if err != nil {
		return nil, err
	}
	prev := in.Status
	upd := in.Update().SetStatus(insight.StatusDISMISSED).SetDismissReason(reason)
	if in.DismissedAt == nil {
		upd.SetDismissedAt(r.now())
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("dismissing insight: %w", err)
	}
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: in.ID, Action: "dismiss", Decision: "dismissed",
		Reason:  fmt.Sprintf("dismissed by the user (%s)", reasonWords(reason)),
		Details: map[string]any{"reason": string(reason), "previousStatus": string(prev), "metric": in.Metric, "kind": string(in.Kind)},
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// Acknowledge marks userID's insight id as ACKNOWLEDGED (the user has seen
// it; it stays in the lists) and audits it. A dismissed or superseded
// insight keeps its status (EINVALID): acknowledging does not resurrect it.
func (r *Runner) Acknowledge(ctx context.Context, tx *ent.Tx, userID, id string) (*ent.Insight, error) {
	in, err := r.ownInsight(ctx, tx, userID, id)
	if err != nil {
		return nil, err
	}
	switch in.Status {
	case insight.StatusDISMISSED, insight.StatusSUPERSEDED:
		return nil, engine.Errorf(engine.EINVALID, "a %s insight cannot be acknowledged", in.Status).WithDetails("field", "id")
	case insight.StatusACKNOWLEDGED:
		return in, nil
	}
	prev := in.Status
	out, err := in.Update().SetStatus(insight.StatusACKNOWLEDGED).SetAcknowledgedAt(r.now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("acknowledging insight: %w", err)
	}
	if _, err := r.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: in.ID, Action: "acknowledge", Decision: "acknowledged",
		Reason:  "acknowledged by the user",
		Details: map[string]any{"previousStatus": string(prev), "metric": in.Metric, "kind": string(in.Kind)},
	}); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Runner) ownInsight(ctx context.Context, tx *ent.Tx, userID, id string) (*ent.Insight, error) {
	in, err := tx.Insight.Query().Where(insight.ID(id), insight.UserID(userID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, engine.Errorf(engine.ENOTFOUND, "insight not found").WithDetails("field", "id")
	}
	return in, err
}

func reasonWords(r insight.DismissReason) string {
	switch r {
	case insight.DismissReasonNOT_USEFUL:
		return "not useful"
	case insight.DismissReasonALREADY_KNEW:
		return "already knew"
	case insight.DismissReasonWRONG:
		return "wrong"
	}
	return string(r)
}
