package intervene

import (
	"context"
	"fmt"
	"time"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
)

// Approve lets an administrator start a HIGH-risk experiment that waits for
// review: it gets the state a low-risk start would have today — ACTIVE, or
// SUPPRESSED while the target metric is in a rapid swing — after the same
// active-experiment limit. The reason is stored with the decision, audited
// in the owner's trail (actor: the admin) and published on the owner's feed.
// Errors: EFORBIDDEN for a non-admin, ENOTFOUND for an unknown id, EINVALID
// for a missing reason, ECONFLICT unless PENDING_REVIEW, ELIMIT at the limit.
func (s *Service) Approve(ctx context.Context, tx *ent.Tx, interventionID, reason string) (*ent.Intervention, error) {
	itv, reason, err := s.reviewable(ctx, tx, safety.StepApprove, interventionID, reason)
	if err != nil {
		return nil, err
	}
	m, ok := metrics.Lookup(itv.TargetMetric)
	if !ok {
		return nil, fmt.Errorf("intervention %s has unknown target metric %q", itv.ID, itv.TargetMetric)
	}
	active, err := tx.Intervention.Query().
		Where(intervention.UserID(itv.UserID), intervention.TargetMetric(m.Key), intervention.StatusEQ(intervention.StatusACTIVE)).
		Count(ctx)
	if err != nil {
		return nil, err
	}
	if err := safety.CheckActiveLimit(active, s.ActiveLimit); err != nil {
		return nil, err
	}
	start, _, err := s.today(ctx, tx, itv.UserID)
	if err != nil {
		return nil, err
	}
	hist, err := s.metricSeries(ctx, tx, itv.UserID, m.Key, series.AddDays(start, -60), start)
	if err != nil {
		return nil, err
	}
	status, decision, why := intervention.StatusACTIVE, "approved", "approved after review: "+reason
	if suppressed, swing := safety.SuppressDuringSwing(swingBefore(m, hist, start)); suppressed {
		status, decision, why = intervention.StatusSUPPRESSED, "approved_suppressed", "approved after review, but "+swing
	}
	upd := itv.Update().SetStatus(status).SetStatusReason(why)
	startStr := start.Format(time.DateOnly)
	if status == intervention.StatusACTIVE {
		upd.SetStartDay(startStr)
	}
	out, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("approving intervention: %w", err)
	}
	return out, s.trail(ctx, tx, out, safety.StepApprove, decision, reason, map[string]any{
		"previousStatus": string(itv.Status), "riskLevel": string(itv.RiskLevel), "startDay": startStr,
		"activeOnMetric": active, "activeLimit": s.activeLimit(), "rapidSwing": status == intervention.StatusSUPPRESSED,
	})
}

// Reject lets an administrator refuse an experiment that waits for review:
// it becomes INVALIDATED with the reason and never starts. Audited in the
// owner's trail and published on the owner's feed. Errors: EFORBIDDEN for a
// non-admin, ENOTFOUND, EINVALID for a missing reason, ECONFLICT unless
// PENDING_REVIEW.
func (s *Service) Reject(ctx context.Context, tx *ent.Tx, interventionID, reason string) (*ent.Intervention, error) {
	itv, reason, err := s.reviewable(ctx, tx, safety.StepReject, interventionID, reason)
	if err != nil {
		return nil, err
	}
	out, err := itv.Update().SetStatus(intervention.StatusINVALIDATED).SetStatusReason("rejected after review: " + reason).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("rejecting intervention: %w", err)
	}
	return out, s.trail(ctx, tx, out, safety.StepReject, "rejected", reason, map[string]any{
		"previousStatus": string(itv.Status), "riskLevel": string(itv.RiskLevel),
	})
}

// reviewable checks an admin review step: the viewer is an admin, the
// reason is given, the experiment exists and its state allows the step.
func (s *Service) reviewable(ctx context.Context, tx *ent.Tx, step safety.Step, id, reason string) (*ent.Intervention, string, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, "", err
	}
	reason, err := safety.CheckReason(reason, true)
	if err != nil {
		return nil, "", err
	}
	itv, err := tx.Intervention.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := safety.CheckStep(step, safety.Status(itv.Status)); err != nil {
		return nil, "", err
	}
	return itv, reason, nil
}

// Cancel lets the owner stop an experiment that waits for review or runs.
// A cancelled experiment keeps its adherence log but is never evaluated (not
// by evaluateIntervention, not by the loop), so no effect is ever reported
// for a window that did not run to its end. The optional reason is stored,
// audited and published on the feed. Errors: ENOTFOUND for an id that is not
// the viewer's (admins included: they reject instead), EINVALID for an
// over-long reason, ECONFLICT unless PENDING_REVIEW or ACTIVE.
func (s *Service) Cancel(ctx context.Context, tx *ent.Tx, userID, interventionID string, reason *string) (*ent.Intervention, error) {
	why := ""
	if reason != nil {
		r, err := safety.CheckReason(*reason, false)
		if err != nil {
			return nil, err
		}
		why = r
	}
	itv, err := tx.Intervention.Query().Where(intervention.ID(interventionID), intervention.UserID(userID)).Only(ctx)
	if err != nil {
		return nil, err
	}
	if err := safety.CheckStep(safety.StepCancel, safety.Status(itv.Status)); err != nil {
		return nil, err
	}
	statusReason := "cancelled by the user"
	if why != "" {
		statusReason += ": " + why
	}
	out, err := itv.Update().SetStatus(intervention.StatusCANCELLED).SetStatusReason(statusReason).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("cancelling intervention: %w", err)
	}
	return out, s.trail(ctx, tx, out, safety.StepCancel, "cancelled", statusReason, map[string]any{
		"previousStatus": string(itv.Status), "startDay": itv.StartDay,
	})
}

// trail audits a workflow step in the owner's trail and publishes the new
// status on the owner's feed.
func (s *Service) trail(ctx context.Context, tx *ent.Tx, itv *ent.Intervention, step safety.Step, decision, reason string, details map[string]any) error {
	details["status"] = string(itv.Status)
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: itv.UserID, EntityType: "Intervention", EntityID: itv.ID, Action: string(step), Decision: decision,
		Reason: reason, Details: details,
	}); err != nil {
		return err
	}
	_, err := s.Recorder.Feed(ctx, tx, itv.UserID, feedevent.KindINTERVENTION_UPDATED, itv.ID, map[string]any{"status": string(itv.Status)})
	return err
}

// ReviewQueue returns the experiments of every user that wait for review,
// oldest first, for an administrator; EFORBIDDEN for anyone else.
func (s *Service) ReviewQueue(ctx context.Context, c *ent.Client) (*ent.InterventionQuery, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return c.Intervention.Query().Where(intervention.StatusEQ(intervention.StatusPENDING_REVIEW)), nil
}
