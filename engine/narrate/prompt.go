package narrate

import (
	"fmt"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// Chat roles.
const (
	RoleSystem = "system"
	RoleUser   = "user"
)

// Message is one chat message in the OpenAI-compatible shape.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a provider-neutral chat request: the messages only (the
// adapter adds the model and sampling settings).
type ChatRequest struct {
	Messages []Message `json:"messages"`
}

var gradeNames = map[evidence.Grade]string{
	evidence.GradeA: "A (high certainty)",
	evidence.GradeB: "B (moderate certainty)",
	evidence.GradeC: "C (low certainty)",
	evidence.GradeD: "D (very low certainty)",
}

// Prompt returns the chat request asking an LLM to narrate f: a system
// message with the role, the claim policy of f's grade (allowed wording,
// disallowed words, hedges) and the content rules, and a user message with
// the facts, the required numbers exactly as Template formats them, the
// confounders to name and the safety text to include verbatim. The output
// is deterministic; its structure is locked by testdata/*.golden.
func Prompt(f Facts) ChatRequest {
	g := f.grade()
	p := claims.PolicyFor(g)
	nb := f.numbers()

	var sys strings.Builder
	sys.WriteString("You write one short plain-language paragraph that explains the result of a person's own n-of-1 experiment in a personal-health app.\n")
	sys.WriteString("Never claim more certainty than the evidence grade allows, never give medical advice, and never contradict, weaken or paraphrase the safety text.\n")
	fmt.Fprintf(&sys, "\nEvidence grade: %s.\n", gradeNames[g])
	fmt.Fprintf(&sys, "Allowed wording: %s.\n", quoteList(p.Allowed))
	switch {
	case !f.DirectionSupported && p.DirectionalAllowed:
		fmt.Fprintf(&sys, "The 95%% CI includes zero, so do not state any direction or cause: no directional word (%s) and no causal phrase (%s), in any form, hedged or not. Say there was no clear change and state the range the data rule out.\n",
			strings.Join(p.DirectionalVerbs, ", "), strings.Join(p.CausalPhrases, ", "))
	case !p.DirectionalAllowed:
		fmt.Fprintf(&sys, "Do not use any directional verb (%s), in any form, hedged or not.\n", strings.Join(p.DirectionalVerbs, ", "))
	case len(p.Hedges) > 0:
		fmt.Fprintf(&sys, "Every directional verb (%s) must directly follow one of these hedges: %s.\n", strings.Join(p.DirectionalVerbs, ", "), strings.Join(p.Hedges, ", "))
	default:
		fmt.Fprintf(&sys, "Directional verbs (%s) are allowed, scoped to this person and this experiment.\n", strings.Join(p.DirectionalVerbs, ", "))
	}
	fmt.Fprintf(&sys, "Disallowed words, in any form: %s.\n", strings.Join(p.Disallowed, ", "))
	fmt.Fprintf(&sys, "State the uncertainty with one of: %s.\n", quoteList(p.Uncertainty))
	sys.WriteString("\nThe paragraph must:\n")
	sys.WriteString("- state every required number exactly as given;\n")
	sys.WriteString("- scope the claim with \"for you during this experiment\";\n")
	sys.WriteString("- name every listed confounder and explain every listed caveat;\n")
	sys.WriteString("- end with the safety text, copied verbatim and unedited;\n")
	sys.WriteString("- contain nothing else: no headings, no lists, no advice of your own.")

	var u strings.Builder
	fmt.Fprintf(&u, "Experiment: %s\n", f.subject())
	fmt.Fprintf(&u, "Metric: %s (%s", f.metricName(), oneLine(f.MetricKey))
	if unit := oneLine(f.Unit); unit != "" {
		fmt.Fprintf(&u, ", %s", unit)
	}
	u.WriteString(")\n")
	if p := period(f); p != "" {
		fmt.Fprintf(&u, "Period: %s\n", p)
	}
	fmt.Fprintf(&u, "Evidence grade: %s\n", g)
	fmt.Fprintf(&u, "Direction of the estimate: %s\n", f.direction())
	fmt.Fprintf(&u, "95%% CI excludes zero (a direction may be stated): %t\n", f.DirectionSupported)
	if finite(f.Delta) {
		fmt.Fprintf(&u, "Estimated difference: %s\n", f.signed(f.Delta))
	}
	if f.LogScale && strings.TrimSpace(f.AtBaseline) != "" {
		fmt.Fprintf(&u, "At your usual level: %s\n", oneLine(f.AtBaseline))
	}
	if finite(f.MDE) && f.MDE > 0 {
		fmt.Fprintf(&u, "Smallest detectable effect: %s\n", f.amount(f.MDE))
	}
	if f.Interim {
		u.WriteString("Status: interim (the experiment is still running); say so.\n")
	}
	if f.Observational {
		u.WriteString("Design: an observational look back, not a planned experiment; say so.\n")
	}
	fmt.Fprintf(&u, "Reliable: %t\n", f.Reliable)
	u.WriteString("Required numbers (copy exactly):\n")
	for _, s := range []string{nb.n, nb.ci, nb.coverage, nb.adherence} {
		fmt.Fprintf(&u, "- %s\n", s)
	}
	if cs := f.confounders(); len(cs) > 0 {
		fmt.Fprintf(&u, "Confounders to name: %s\n", strings.Join(cs, ", "))
	} else {
		u.WriteString("Confounders to name: none\n")
	}
	if cs := f.caveats(); len(cs) > 0 {
		u.WriteString("Caveats to explain:\n")
		for _, c := range cs {
			if t, ok := caveatTexts[c]; ok {
				fmt.Fprintf(&u, "- %s: %s\n", c, t)
			} else {
				fmt.Fprintf(&u, "- %s\n", c)
			}
		}
	}
	if st := strings.TrimSpace(f.SafetyText); st != "" {
		fmt.Fprintf(&u, "Safety text (end with it, verbatim):\n%s", st)
	} else {
		u.WriteString("Safety text: none")
	}

	return ChatRequest{Messages: []Message{
		{Role: RoleSystem, Content: sys.String()},
		{Role: RoleUser, Content: u.String()},
	}}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
