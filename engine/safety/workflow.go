package safety

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Status is an experiment's lifecycle state as stored (the values of the
// Intervention.status enum).
type Status string

// Experiment states.
const (
	StatusPendingReview Status = "PENDING_REVIEW"
	StatusActive        Status = "ACTIVE"
	StatusCompleted     Status = "COMPLETED"
	StatusSuppressed    Status = "SUPPRESSED"
	StatusInvalidated   Status = "INVALIDATED"
	StatusCancelled     Status = "CANCELLED"
)

// Step is a workflow step a person takes on an experiment.
type Step string

// Workflow steps.
const (
	// StepApprove: an administrator approves a HIGH-risk experiment that
	// waits for review; it then gets the state a low-risk start would have.
	StepApprove Step = "approve"
	// StepReject: an administrator rejects an experiment that waits for
	// review; it never starts.
	StepReject Step = "reject"
	// StepCancel: the owner stops an experiment that waits for review or
	// runs; a cancelled experiment is never evaluated.
	StepCancel Step = "cancel"
	// StepComplete: the owner ends a running experiment today; it is then
	// evaluated over the days it ran.
	StepComplete Step = "complete"
)

// allowedFrom lists, per step, the states it may start from.
var allowedFrom = map[Step][]Status{
	StepApprove:  {StatusPendingReview},
	StepReject:   {StatusPendingReview},
	StepCancel:   {StatusPendingReview, StatusActive},
	StepComplete: {StatusActive},
}

// MaxReasonLen is the longest reason (in characters) a review or
// cancellation may carry.
const MaxReasonLen = 1000

// CheckStep reports whether step may be taken on an experiment in state
// from. It returns *engine.Error ECONFLICT (with the allowed states in the
// message) when it may not, and EINVALID for an unknown step.
func CheckStep(step Step, from Status) error {
	allowed, ok := allowedFrom[step]
	if !ok {
		return engine.Errorf(engine.EINVALID, "unknown workflow step %q", step)
	}
	if slices.Contains(allowed, from) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	return engine.Errorf(engine.ECONFLICT, "%s is allowed only for an experiment that is %s (this one is %s)",
		step, strings.Join(names, " or "), from).WithDetails("status", string(from))
}

// CheckReason validates the reason of a workflow step: required (after
// trimming spaces) when required is true, and at most MaxReasonLen
// characters. It returns the trimmed reason, or *engine.Error EINVALID with
// details field=reason.
func CheckReason(reason string, required bool) (string, error) {
	r := strings.TrimSpace(reason)
	if required && r == "" {
		return "", engine.Errorf(engine.EINVALID, "a reason is required").WithDetails("field", "reason")
	}
	if utf8.RuneCountInString(r) > MaxReasonLen {
		return "", engine.Errorf(engine.EINVALID, "reason may be at most %d characters", MaxReasonLen).WithDetails("field", "reason")
	}
	return r, nil
}
