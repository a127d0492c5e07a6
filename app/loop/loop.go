package loop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/evaluation"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// DefaultTimeout is the loop runtime guardrail per user (docs/design.md).
const DefaultTimeout = 5000 * time.Millisecond

// Evaluator evaluates an experiment inside tx (app/intervene does).
type Evaluator interface {
	CompleteAndEvaluate(ctx context.Context, tx *ent.Tx, userID, interventionID string) (evaluationID string, err error)
}

// Summary says what one loop run did.
type Summary struct {
	ModelSummary
	EvaluationsCreated int
	Duration           time.Duration
}

// Run runs every stage for userID in one transaction: MODEL (baselines,
// detectors, insights), then EVALUATE + SYNTHESIZE for experiments whose
// planned window has ended and that have no evaluation yet (they are
// completed, evaluated and narrated). Re-running with no new data changes
// nothing. The run must finish within Timeout: when it does not, it is rolled
// back, an audit event records the overrun, and ELIMIT is returned. When ctx
// already carries a transaction (a GraphQL mutation), Run uses it.
func (r *Runner) Run(ctx context.Context, client *ent.Client, userID string) (_ Summary, err error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	defer func() { r.observe("total", start, err) }()
	if tx := ent.TxFromContext(ctx); tx != nil {
		sum, err := r.runStages(ctx, tx, userID, start, timeout)
		sum.Duration = time.Since(start)
		return sum, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	overran := func(err error) bool {
		return errors.Is(err, context.DeadlineExceeded) || engine.ErrorCode(err) == engine.ELIMIT ||
			(rctx.Err() != nil && ctx.Err() == nil)
	}
	tx, err := client.Tx(rctx)
	if err != nil {
		if overran(err) {
			return Summary{Duration: time.Since(start)}, r.auditOverrun(ctx, client, userID, time.Since(start), timeout)
		}
		return Summary{}, err
	}
	sum, err := r.runStages(rctx, tx, userID, start, timeout)
	sum.Duration = time.Since(start)
	if err != nil {
		_ = tx.Rollback()
		if overran(err) {
			return sum, r.auditOverrun(ctx, client, userID, sum.Duration, timeout)
		}
		return sum, err
	}
	if err := tx.Commit(); err != nil {
		if overran(err) {
			return sum, r.auditOverrun(ctx, client, userID, sum.Duration, timeout)
		}
		return sum, err
	}
	return sum, nil
}

func (r *Runner) runStages(ctx context.Context, tx *ent.Tx, userID string, start time.Time, timeout time.Duration) (Summary, error) {
	var sum Summary
	in, err := r.readInputs(ctx, tx, userID, true)
	if err != nil {
		return sum, err
	}
	if prev, ok := in.skip(); ok {
		return prev, nil
	}
	ms, run, err := r.model(ctx, tx, userID, in.loc, in.asOf)
	r.observe("model", start, err)
	sum.ModelSummary = ms
	if err != nil {
		return sum, err
	}
	if err := r.evaluate(ctx, tx, userID, in.asOf, start, timeout, &sum); err != nil {
		return sum, err
	}
	return sum, r.settle(ctx, tx, userID, in, sum, run)
}

// evaluate is the EVALUATE + SYNTHESIZE stage: experiments whose planned
// window has ended by today and that have no evaluation yet are completed,
// evaluated and narrated.
func (r *Runner) evaluate(ctx context.Context, tx *ent.Tx, userID string, today series.Day, start time.Time, timeout time.Duration, sum *Summary) error {
	evalStart := time.Now()
	defer func() { r.observe("evaluate", evalStart, nil) }()
	if time.Since(start) > timeout {
		return engine.Errorf(engine.ELIMIT, "loop exceeded %s", timeout)
	}
	if r.Evaluator == nil {
		return nil
	}
	active, err := tx.Intervention.Query().
		Where(intervention.UserID(userID), intervention.StatusIn(intervention.StatusACTIVE, intervention.StatusCOMPLETED),
			intervention.Not(intervention.HasEvaluationsWith(evaluation.CreatedAtGT(time.Time{})))).
		Order(ent.Asc(intervention.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return err
	}
	for _, itv := range active {
		if itv.StartDay == nil {
			continue
		}
		st, err := series.ParseDay(*itv.StartDay)
		if err != nil {
			// Recorded, not swallowed: the other experiments still run.
			if _, aerr := r.Recorder.Audit(ctx, tx, record.Audit{
				UserID: userID, EntityType: "Intervention", EntityID: itv.ID, Action: "loop", Decision: "evaluation_skipped",
				Reason:  "the experiment's start day cannot be read, so it was not evaluated",
				Details: map[string]any{"code": engine.EINTERNAL},
			}); aerr != nil {
				return aerr
			}
			sum.Failures = append(sum.Failures, MetricFailure{Metric: "intervention:" + itv.ID, Code: engine.EINTERNAL})
			continue
		}
		if !today.After(series.AddDays(st, itv.PlannedDays-1)) {
			continue // still running
		}
		if _, err := r.Evaluator.CompleteAndEvaluate(ctx, tx, userID, itv.ID); err != nil {
			return err
		}
		sum.EvaluationsCreated++
		if time.Since(start) > timeout {
			return engine.Errorf(engine.ELIMIT, "loop exceeded %s", timeout)
		}
	}
	return nil
}

// auditOverrun records, in its own transaction, that a loop run exceeded
// the runtime guardrail and was rolled back.
func (r *Runner) auditOverrun(ctx context.Context, client *ent.Client, userID string, took, limit time.Duration) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx, err := client.Tx(actx)
	if err != nil {
		return err
	}
	if _, err := r.Recorder.Audit(actx, tx, record.Audit{
		UserID: userID, EntityType: "User", EntityID: userID, Action: "loop", Decision: "timeout",
		Reason:  fmt.Sprintf("the loop took longer than the %s guardrail and was rolled back", limit),
		Details: map[string]any{"tookMs": took.Milliseconds(), "limitMs": limit.Milliseconds()},
	}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return engine.Errorf(engine.ELIMIT, "the loop exceeded its %s runtime guardrail; nothing was written", limit)
}

// UserIDs lists every user id (as the system viewer), for `loop --all`.
func UserIDs(ctx context.Context, client *ent.Client) ([]string, error) {
	return client.User.Query().Order(ent.Asc(user.FieldID)).IDs(viewer.System(ctx))
}

// UserDay returns the user, their time zone (UTC when unknown) and the
// local calendar day of now for them: local days decide windows everywhere.
func UserDay(ctx context.Context, tx *ent.Tx, userID string, now time.Time) (*ent.User, *time.Location, series.Day, error) {
	u, err := tx.User.Get(ctx, userID)
	if err != nil {
		return nil, nil, series.Day{}, err
	}
	loc, err := time.LoadLocation(u.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return u, loc, series.Truncate(now.In(loc)), nil
}
