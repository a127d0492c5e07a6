package narrate

import (
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/claims"
)

// ReasonClaimViolation is the Replacement reason for a candidate that breaks
// the claim policy.
const ReasonClaimViolation = "claim_violation"

// Replacement records that a candidate narrative was replaced by the
// template, for the caller to audit: why (Reason) and every violation found.
type Replacement struct {
	Reason     string             `json:"reason"`
	Violations []claims.Violation `json:"violations"`
}

// Finalize gates a candidate narrative from any source. When the candidate
// (trimmed) passes claims.Check against f.ClaimContext(), it is returned as
// a Narrative with the given source and f's grade, and the Replacement is
// nil. Otherwise the Template narrative is returned with a Replacement
// (Reason ReasonClaimViolation) listing every violation. Pure.
func Finalize(candidate, source string, f Facts) (Narrative, *Replacement) {
	text := strings.TrimSpace(candidate)
	if vs := claims.Check(text, f.ClaimContext()); len(vs) > 0 {
		return Template(f), &Replacement{Reason: ReasonClaimViolation, Violations: vs}
	}
	return Narrative{Text: text, Source: source, Grade: f.grade()}, nil
}

// Outcome is the outcome of one narration by any narrator, for the caller
// to store and audit. Narrative is always usable. Replaced is true when a
// candidate (e.g. an LLM answer) was discarded for the template, with
// ReplaceReason, Violations for ReasonClaimViolation, and Err for the other
// reasons (user-safe, never holding a secret). LatencyMS is the time spent
// waiting for the candidate (0 without one).
type Outcome struct {
	Narrative     Narrative
	Replaced      bool
	ReplaceReason string
	Violations    []claims.Violation
	LatencyMS     int64
	Err           error
}
