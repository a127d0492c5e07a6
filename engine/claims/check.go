package claims

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// Code names the kind of a Violation.
type Code string

// Violation codes.
const (
	// CodeDisallowedWord: a word the grade disallows (Phrase names it).
	CodeDisallowedWord Code = "DISALLOWED_WORD"
	// CodeUnhedgedVerb: a directional verb without a hedge the grade needs.
	CodeUnhedgedVerb Code = "UNHEDGED_VERB"
	// CodeMissingUncertainty: no statement of uncertainty for the grade.
	CodeMissingUncertainty Code = "MISSING_UNCERTAINTY"
	// CodeMissingNumber: n, the CI, coverage or adherence is not stated
	// (Phrase names the expected wording).
	CodeMissingNumber Code = "MISSING_NUMBER"
	// CodeMissingSafetyText: the safety text does not appear verbatim.
	CodeMissingSafetyText Code = "MISSING_SAFETY_TEXT"
	// CodeContradictsSafety: a sentence overrides or negates the safety text.
	CodeContradictsSafety Code = "CONTRADICTS_SAFETY"
	// CodeMissingScope: the claim is not scoped to this person and period.
	CodeMissingScope Code = "MISSING_SCOPE"
	// CodeMissingConfounder: a flagged confounder is not named.
	CodeMissingConfounder Code = "MISSING_CONFOUNDER"
)

// Violation is one breach of the claim policy. Phrase is the offending word
// or phrase as written in the text (for a missing item: the expected
// wording); Offset is its byte offset in the checked text, or -1 when the
// violation is about something missing. Message is safe to show to users
// and to log.
type Violation struct {
	Code    Code   `json:"code"`
	Phrase  string `json:"phrase"`
	Message string `json:"message"`
	Offset  int    `json:"offset"`
}

// Context is what a narrative is checked against.
type Context struct {
	// Grade is the evidence grade; an invalid grade is checked as D.
	Grade evidence.Grade
	// SafetyText must appear verbatim and never be contradicted; "" when
	// the narrative carries no safety text.
	SafetyText string
	// N is the sample size the text must state.
	N int
	// CILow and CIHigh are the 95% CI bounds the text must state; nil when
	// not applicable (both must be non-nil for the CI to be required).
	CILow, CIHigh *float64
	// Coverage in [0,1] must be stated as a percentage; NaN skips it.
	Coverage float64
	// Adherence in [0,1] must be stated as a percentage when non-nil.
	Adherence *float64
	// Confounders must each be named (case-insensitive, verbatim).
	Confounders []string
	// RequireScope requires "for you" / "during this experiment" wording.
	RequireScope bool
	// DirectionSupported is true only when the evidence supports a
	// direction: the 95% interval of the effect excludes zero (for an
	// experiment) or the detector's test passed its false-discovery-controlled
	// level (for an insight). When false, no directional word, causal
	// phrase or certainty-of-effect word may be used at any grade, hedged or
	// not; only negated forms that state a null pass ("there was no clear
	// change", "did not clearly increase"), as do range statements ("a
	// change larger than +5 ms or below -3 ms is unlikely"); see the package
	// doc and docs/statistics.md, "Words".
	DirectionSupported bool
	// Names are quoted names (the protocol subject, the metric name) whose
	// occurrences are exempt from the word rules, so that a subject such as
	// "Increase daily steps" does not read as a claim. Confounders are
	// exempt too.
	Names []string
}

// Check returns every violation of the claim policy in text, in the order
// documented in the package doc; nil when text complies. It is pure and
// deterministic.
func Check(text string, ctx Context) []Violation {
	grade := effectiveGrade(ctx.Grade)
	var safetySpans []span
	if strings.TrimSpace(ctx.SafetyText) != "" {
		safetySpans = verbatimSpans(text, ctx.SafetyText)
	}
	toks := tokenize(text, safetySpans)
	maskNames(toks, ctx.Names, false)
	maskNames(toks, ctx.Confounders, true)

	var out []Violation
	out = append(out, wordViolations(text, toks, grade, ctx.DirectionSupported)...)
	if strings.TrimSpace(ctx.SafetyText) != "" {
		out = append(out, contradictions(text, toks, ctx.SafetyText)...)
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return a.Offset - b.Offset })

	nums := scanNumbers(text)
	if ctx.RequireScope {
		if i, _ := findPhrase(toks, scopePhrases); i < 0 {
			out = append(out, missing(CodeMissingScope, "for you during this experiment",
				"scope the claim to this person and period (\"for you during this experiment\")"))
		}
	}
	if !hasUncertainty(text, toks, nums, grade) {
		out = append(out, missing(CodeMissingUncertainty, uncertaintyExample(grade),
			fmt.Sprintf("state the uncertainty (grade %s), e.g. %q", grade, uncertaintyExample(grade))))
	}
	out = append(out, numberViolations(text, nums, ctx)...)
	lower, _ := collapse(foldWord(text))
	for _, c := range ctx.Confounders {
		want, _ := collapse(foldWord(c))
		if want == "" {
			continue
		}
		if !strings.Contains(lower, want) {
			out = append(out, missing(CodeMissingConfounder, c, fmt.Sprintf("name the flagged confounder %q", c)))
		}
	}
	if strings.TrimSpace(ctx.SafetyText) != "" && len(safetySpans) == 0 {
		out = append(out, missing(CodeMissingSafetyText, ctx.SafetyText, "include the safety text verbatim"))
	}
	return out
}

func missing(code Code, p, msg string) Violation {
	return Violation{Code: code, Phrase: p, Message: msg, Offset: -1}
}

func uncertaintyExample(g evidence.Grade) string {
	if g == evidence.GradeD {
		return "we can't tell; the evidence is very uncertain"
	}
	return "the estimate is uncertain"
}

// hedged reports whether one of hedges appears among the hedgeWindow words
// before toks[i] in its sentence; "may" naming the month does not count.
func hedged(toks []token, i int, hedges []string) bool {
	for _, k := range precedingWords(toks, i, hedgeWindow) {
		if !slices.Contains(hedges, toks[k].word) {
			continue
		}
		if toks[k].word == "may" && isMonth(toks, k) {
			continue
		}
		return true
	}
	return false
}

func isMonth(toks []token, k int) bool {
	if k+1 < len(toks) && toks[k+1].word != "" && toks[k+1].word[0] >= '0' && toks[k+1].word[0] <= '9' {
		return true
	}
	return k > 0 && toks[k-1].sent == toks[k].sent && slices.Contains(monthContext, toks[k-1].word)
}

func hasUncertainty(text string, toks []token, nums []number, grade evidence.Grade) bool {
	if grade == evidence.GradeD {
		i, _ := findPhrase(toks, uncertaintyPhrasesD)
		return i >= 0
	}
	if i, _ := findPhrase(toks, uncertaintyPhrases); i >= 0 {
		return true
	}
	if grade == evidence.GradeA {
		return len(ciStatements(text, nums)) > 0
	}
	return false
}

// FormatCI formats a CI bound the way the checker expects it: one decimal.
func FormatCI(v float64) string { return fmt.Sprintf("%.1f", v) }

// FormatPercent formats a fraction in [0,1] as a whole percentage ("60%").
func FormatPercent(frac float64) string { return fmt.Sprintf("%.0f%%", frac*100) }

const (
	ciTolerance      = 0.05 + 1e-6
	percentTolerance = 0.5 + 1e-6
)

func numberViolations(text string, nums []number, ctx Context) []Violation {
	var out []Violation
	if !statesN(text, ctx.N) {
		p := fmt.Sprintf("n = %d", ctx.N)
		out = append(out, missing(CodeMissingNumber, p, fmt.Sprintf("state the sample size (%q or \"%d days\")", p, ctx.N)))
	}
	if ctx.CILow != nil && ctx.CIHigh != nil && !isNaN(*ctx.CILow) && !isNaN(*ctx.CIHigh) {
		lo, hi := *ctx.CILow, *ctx.CIHigh
		ok := false
		for _, ci := range ciStatements(text, nums) {
			if math.Abs(ci[0]-lo) <= ciTolerance && math.Abs(ci[1]-hi) <= ciTolerance {
				ok = true
				break
			}
		}
		if !ok {
			p := fmt.Sprintf("95%% CI %s to %s", FormatCI(lo), FormatCI(hi))
			out = append(out, missing(CodeMissingNumber, p, fmt.Sprintf("state the confidence interval (%q)", p)))
		}
	}
	if !isNaN(ctx.Coverage) && !statesPercent(nums, ctx.Coverage) {
		p := FormatPercent(ctx.Coverage)
		out = append(out, missing(CodeMissingNumber, p, fmt.Sprintf("state the coverage (%q)", p)))
	}
	if ctx.Adherence != nil && !isNaN(*ctx.Adherence) && !statesPercent(nums, *ctx.Adherence) {
		p := FormatPercent(*ctx.Adherence)
		out = append(out, missing(CodeMissingNumber, p, fmt.Sprintf("state the adherence (%q)", p)))
	}
	return out
}

func isNaN(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
