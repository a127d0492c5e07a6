package safety

import (
	"fmt"

	"github.com/vitalgraph/vitalgraph/engine"
)

// DefaultActiveLimit is the default maximum number of active experiments per
// metric (docs/design.md guardrails).
const DefaultActiveLimit = 3

// CheckActiveLimit reports whether one more experiment may start on a metric
// that already has active running experiments. limit ≤ 0 means
// DefaultActiveLimit. It returns *engine.Error ELIMIT when active ≥ limit
// (the new one would exceed it) and EINVALID when active is negative.
func CheckActiveLimit(active, limit int) error {
	if active < 0 {
		return engine.Errorf(engine.EINVALID, "active experiment count must not be negative, got %d", active)
	}
	if limit <= 0 {
		limit = DefaultActiveLimit
	}
	if active >= limit {
		return engine.Errorf(engine.ELIMIT, "at most %d experiments may run on one metric at a time", limit).
			WithDetails("active", active).WithDetails("limit", limit)
	}
	return nil
}

// SwingReason is the reason SuppressDuringSwing gives for a suppression.
const SwingReason = "the metric is in a rapid swing; new interventions are suppressed until it settles"

// SuppressDuringSwing reports whether a new intervention must be suppressed
// because the target metric is in a rapid swing (as flagged by the anomaly
// detector), with the reason to record; ("", false) when it is not.
func SuppressDuringSwing(inSwing bool) (suppressed bool, reason string) {
	if inSwing {
		return true, SwingReason
	}
	return false, ""
}

// Invalidate reports whether a running protocol decided on prev must be
// invalidated now that its safety inputs are next (a new user flag, a
// changed protocol kind or target metric). It is invalidated, with a reason,
// when next is not valid, when prev is not valid (the running protocol has
// no valid decision), when the risk level rises, or when a check that passed
// (or did not exist) under prev fails under next. Lower or equal risk with
// no newly failing check keeps it running: (false, "").
func Invalidate(prev, next Inputs) (invalid bool, reason string) {
	nd, err := Decide(next)
	if err != nil {
		return true, "the new safety inputs are invalid: " + engine.ErrorMessage(err)
	}
	pd, err := Decide(prev)
	if err != nil {
		return true, "the previous safety inputs are invalid: " + engine.ErrorMessage(err)
	}
	if nd.RiskLevel.Rank() > pd.RiskLevel.Rank() {
		return true, fmt.Sprintf("risk rose from %s to %s: %s", pd.RiskLevel, nd.RiskLevel, firstNewFailure(pd, nd))
	}
	for _, c := range nd.Checks {
		if c.Passed {
			continue
		}
		if old, ok := pd.FindCheck(c.Name); !ok || old.Passed {
			return true, fmt.Sprintf("safety check %s now fails: %s", c.Name, c.Detail)
		}
	}
	return false, ""
}

// firstNewFailure returns the detail of the first check that fails in next
// but not in prev, or the joined reasons of next when none is new.
func firstNewFailure(prev, next Decision) string {
	for _, c := range next.Checks {
		if old, ok := prev.FindCheck(c.Name); !c.Passed && (!ok || old.Passed) {
			return c.Detail
		}
	}
	if len(next.Reasons) > 0 {
		return next.Reasons[0]
	}
	return "a safety rule changed"
}
