package llm

import (
	"context"
	"errors"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/narrate"
)

// Replacement reasons reported in Result.ReplaceReason.
const (
	// ReasonClaimViolation: the answer broke the claim policy.
	ReasonClaimViolation = narrate.ReasonClaimViolation
	// ReasonTimeout: no answer within the narrator's timeout, or a late one.
	ReasonTimeout = "timeout"
	// ReasonUpstreamError: the service failed (HTTP error, bad response,
	// transport error after the retry).
	ReasonUpstreamError = "upstream_error"
	// ReasonCanceled: the caller's context ended first.
	ReasonCanceled = "canceled"
)

// Narrator narrates with the LLM when Client is set and with the template
// otherwise. Every LLM answer passes narrate.Finalize; a violating, late or
// failed answer is replaced by the template narrative and reported as
// replaced. The zero value (or a nil *Narrator) is the template narrator.
type Narrator struct {
	// Client is the chat-completions client; nil turns the LLM off.
	Client *Client
	// Timeout bounds one narration (the docs/design.md guardrail); an answer
	// arriving later is discarded. ≤ 0 means DefaultTimeout.
	Timeout time.Duration
}

// Result is the outcome of one narration (narrate.Outcome): Err is set for
// ReasonTimeout, ReasonUpstreamError and ReasonCanceled and never holds the
// API key.
type Result = narrate.Outcome

// Narrate returns the narrative of f: the template when no client is
// configured; otherwise the LLM answer to narrate.Prompt(f) if it arrives
// within Timeout and passes the claim policy, else the template with the
// reason it was replaced.
func (n *Narrator) Narrate(ctx context.Context, f narrate.Facts) Result {
	if n == nil || n.Client == nil {
		return Result{Narrative: narrate.Template(f)}
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	text, err := n.Client.Complete(callCtx, narrate.Prompt(f))
	latency := time.Since(start)
	res := Result{LatencyMS: latency.Milliseconds()}

	replace := func(reason string, err error) Result {
		res.Narrative, res.Replaced, res.ReplaceReason, res.Err = narrate.Template(f), true, reason, err
		return res
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return replace(ReasonCanceled, err)
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return replace(ReasonTimeout, err)
	case err != nil:
		return replace(ReasonUpstreamError, err)
	case latency > timeout:
		return replace(ReasonTimeout, context.DeadlineExceeded)
	}
	nar, rep := narrate.Finalize(text, narrate.SourceLLM, f)
	res.Narrative = nar
	if rep != nil {
		res.Replaced, res.ReplaceReason, res.Violations = true, rep.Reason, rep.Violations
	}
	return res
}
