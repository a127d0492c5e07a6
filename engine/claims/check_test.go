package claims

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

func ptr(v float64) *float64 { return &v }

// wordViolations filters vs to the word-rule codes, as "CODE:phrase".
func wordHits(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		if v.Code == CodeDisallowedWord || v.Code == CodeUnhedgedVerb {
			out = append(out, string(v.Code)+":"+v.Phrase)
		}
	}
	return out
}

func TestWordRulesPerGrade(t *testing.T) {
	t.Parallel()
	const (
		dis = "DISALLOWED_WORD:"
		unh = "UNHEDGED_VERB:"
	)
	tests := []struct {
		name  string
		grade evidence.Grade
		text  string
		want  []string // nil: passes the word rules
	}{
		// A
		{"A allows unhedged reduced", evidence.GradeA, "No caffeine after 2pm reduced your resting heart rate for you during this experiment.", nil},
		{"A allows increased", evidence.GradeA, "It increased your sleep duration by 40.0 min.", nil},
		{"A allows little to no difference", evidence.GradeA, "It made little to no difference to your HRV.", nil},
		{"A allows shows", evidence.GradeA, "The data shows an increase.", nil},
		{"A disallows cures", evidence.GradeA, "This cures insomnia.", []string{dis + "cures"}},
		{"A disallows proves", evidence.GradeA, "This proves that caffeine matters.", []string{dis + "proves"}},
		{"A disallows proven", evidence.GradeA, "A proven method.", []string{dis + "proven"}},
		{"A disallows causes", evidence.GradeA, "Caffeine causes poor sleep.", []string{dis + "causes"}},
		{"A disallows guarantees", evidence.GradeA, "It guarantees better sleep.", []string{dis + "guarantees"}},
		{"A disallows diagnoses", evidence.GradeA, "This diagnoses insomnia.", []string{dis + "diagnoses"}},
		{"A disallows always", evidence.GradeA, "It will always work.", []string{dis + "always"}},
		{"A disallows every occurrence", evidence.GradeA, "It cured you and cures everyone.", []string{dis + "cured", dis + "cures"}},
		// B
		{"B allows probably reduced", evidence.GradeB, "It probably reduced your resting heart rate.", nil},
		{"B allows likely increased", evidence.GradeB, "It likely increased your sleep.", nil},
		{"B allows is likely to have increased", evidence.GradeB, "It is likely to have increased your sleep.", nil},
		{"B allows may have (weaker)", evidence.GradeB, "It may have increased your sleep.", nil},
		{"B disallows unhedged reduces", evidence.GradeB, "It reduces your resting heart rate.", []string{unh + "reduces"}},
		{"B disallows unhedged improved", evidence.GradeB, "Your sleep improved.", []string{unh + "improved"}},
		{"B disallows shows", evidence.GradeB, "The data shows it probably helped.", []string{dis + "shows"}},
		{"B disallows cures", evidence.GradeB, "It probably cures insomnia.", []string{dis + "cures"}},
		{"B hedge in another sentence does not count", evidence.GradeB, "It is probably fine. It reduced your HRV.", []string{unh + "reduced"}},
		{"B hedge too far back does not count", evidence.GradeB, "Probably the cutoff that you kept every single evening reduced it.", []string{unh + "reduced"}},
		{"B negated verb still needs a hedge", evidence.GradeB, "It did not reduce your HRV.", []string{unh + "reduce"}},
		// C
		{"C allows may have reduced", evidence.GradeC, "It may have reduced your resting heart rate.", nil},
		{"C allows might have increased", evidence.GradeC, "It might have increased your sleep.", nil},
		{"C disallows probably", evidence.GradeC, "It probably reduced your resting heart rate.", []string{dis + "probably", unh + "reduced"}},
		{"C disallows likely", evidence.GradeC, "It likely helped.", []string{dis + "likely", unh + "helped"}},
		{"C disallows unhedged lowered", evidence.GradeC, "It lowered your resting heart rate.", []string{unh + "lowered"}},
		{"C disallows shows", evidence.GradeC, "This shows a change.", []string{dis + "shows"}},
		{"C month May is not a hedge", evidence.GradeC, "In May it reduced your HRV.", []string{unh + "reduced"}},
		{"C month May 2025 is not a hedge", evidence.GradeC, "Since May 2025 it reduced your HRV.", []string{unh + "reduced"}},
		// D
		{"D allows can't tell", evidence.GradeD, "We can't tell whether it changed your sleep; the evidence is very uncertain.", nil},
		{"D disallows hedged verbs", evidence.GradeD, "It may have reduced your HRV.", []string{dis + "reduced"}},
		{"D disallows probably", evidence.GradeD, "It probably helped.", []string{dis + "probably", dis + "helped"}},
		{"D disallows every directional verb", evidence.GradeD, "It might have boosted, raised or worsened your HRV.", []string{dis + "boosted", dis + "raised", dis + "worsened"}},
		{"D disallows nouns", evidence.GradeD, "There was an improvement and a reduction.", []string{dis + "improvement", dis + "reduction"}},
		// Case, inflections, boundaries, negation.
		{"case-insensitive", evidence.GradeA, "This CURES insomnia and Proves It.", []string{dis + "CURES", dis + "Proves"}},
		{"inflections of increase", evidence.GradeC, "increase increases increased increasing", []string{unh + "increase", unh + "increases", unh + "increased", unh + "increasing"}},
		{"inflections of decrease", evidence.GradeD, "decrease, decreases; decreased. decreasing", []string{dis + "decrease", dis + "decreases", dis + "decreased", dis + "decreasing"}},
		{"inflections of guarantee", evidence.GradeA, "guarantee guarantees guaranteed guaranteeing", []string{dis + "guarantee", dis + "guarantees", dis + "guaranteed", dis + "guaranteeing"}},
		{"inflections of diagnose", evidence.GradeA, "diagnose, diagnosed, diagnosing", []string{dis + "diagnose", dis + "diagnosed", dis + "diagnosing"}},
		{"word boundaries: curette, provenance, showcase", evidence.GradeD, "A curette, provenance and a showcase.", nil},
		{"word boundaries: alwaysx is not always", evidence.GradeA, "alwaysx", nil},
		{"negation: did not prove", evidence.GradeA, "This did not prove anything.", nil},
		{"negation: not always", evidence.GradeA, "It does not always work.", nil},
		{"negation: no guarantee", evidence.GradeA, "There is no guarantee.", nil},
		{"negation: doesn't show", evidence.GradeB, "It doesn't show anything.", nil},
		{"negation too far back", evidence.GradeA, "It does not mean that caffeine causes it.", []string{dis + "causes"}},
		{"curly apostrophe negation", evidence.GradeA, "It didn\u2019t prove anything.", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := wordHits(Check(tc.text, Context{Grade: tc.grade, DirectionSupported: true}))
			require.Equal(t, tc.want, got)
		})
	}
}

func TestInvalidGradeIsCheckedAsD(t *testing.T) {
	t.Parallel()
	got := wordHits(Check("It probably reduced your HRV.", Context{Grade: "Z"}))
	require.Equal(t, []string{"DISALLOWED_WORD:probably", "DISALLOWED_WORD:reduced"}, got)
	require.Equal(t, evidence.GradeD, PolicyFor("").Grade)
}

func TestNamesAreExempt(t *testing.T) {
	t.Parallel()
	ctx := Context{Grade: evidence.GradeD, Names: []string{"Increase daily steps"}, Confounders: []string{"lower back pain"}}
	require.Empty(t, wordHits(Check("We can't tell whether increase daily steps changed it; lower back pain was flagged.", ctx)))
	// Outside the name the same word is still a violation.
	require.Equal(t, []string{"DISALLOWED_WORD:increased"},
		wordHits(Check("Increase daily steps increased it.", ctx)))
}

const safetyText = "Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor."

// compliantA is a grade A narrative meeting every requirement of fullCtx.
const compliantA = "No caffeine after 2pm increased your sleep duration by 40.0 min for you during this experiment " +
	"(95% CI 19.0 to 61.0 min; n = 30 days; coverage 60%; adherence 80%). " +
	"Other things could explain part of this: travel. " + safetyText

func fullCtx(g evidence.Grade) Context {
	return Context{
		Grade: g, SafetyText: safetyText, N: 30, CILow: ptr(19), CIHigh: ptr(61),
		Coverage: 0.6, Adherence: ptr(0.8), Confounders: []string{"travel"}, RequireScope: true,
		DirectionSupported: true,
	}
}

func codes(vs []Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v.Code) + ":" + v.Phrase
	}
	return out
}

func TestRequiredContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		ctx  func(*Context)
		want []string
	}{
		{"compliant A", compliantA, nil, nil},
		{"n as n=30", strings.Replace(compliantA, "n = 30 days", "n=30", 1), nil, nil},
		{"n as 30 valid days", strings.Replace(compliantA, "n = 30 days", "30 valid days", 1), nil, nil},
		{"wrong n", strings.Replace(compliantA, "n = 30 days", "n = 31 days", 1), nil, []string{"MISSING_NUMBER:n = 30"}},
		{"CI rounded within 0.05", compliantA, func(c *Context) { c.CILow, c.CIHigh = ptr(19.04), ptr(60.96) }, nil},
		{"CI off by more than 0.05", compliantA, func(c *Context) { c.CILow = ptr(19.2) }, []string{"MISSING_NUMBER:95% CI 19.2 to 61.0"}},
		{"CI written as a range with a dash", strings.Replace(compliantA, "19.0 to 61.0", "19.0-61.0", 1), nil, nil},
		{"negative CI bounds", strings.Replace(compliantA, "19.0 to 61.0", "-5.1 to \u22121.3", 1), func(c *Context) { c.CILow, c.CIHigh = ptr(-5.1), ptr(-1.3) }, nil},
		{"CI sign matters", strings.Replace(compliantA, "19.0 to 61.0", "5.1 to 1.3", 1), func(c *Context) { c.CILow, c.CIHigh = ptr(-5.1), ptr(-1.3) }, []string{"MISSING_NUMBER:95% CI -5.1 to -1.3"}},
		{"CI not required when nil", strings.Replace(compliantA, "95% CI 19.0 to 61.0 min; ", "", 1), func(c *Context) { c.CILow, c.CIHigh = nil, nil }, []string{"MISSING_UNCERTAINTY:the estimate is uncertain"}},
		{"missing CI", strings.Replace(compliantA, "95% CI 19.0 to 61.0 min; ", "", 1), nil, []string{"MISSING_UNCERTAINTY:the estimate is uncertain", "MISSING_NUMBER:95% CI 19.0 to 61.0"}},
		{"95% is not coverage", strings.Replace(compliantA, "coverage 60%", "coverage unknown", 1), func(c *Context) { c.Coverage = 0.95 }, []string{"MISSING_NUMBER:95%"}},
		{"coverage as 60 percent", strings.Replace(compliantA, "coverage 60%", "coverage 60 percent", 1), nil, nil},
		{"coverage rounds", compliantA, func(c *Context) { c.Coverage = 0.6049 }, nil},
		{"missing coverage", strings.Replace(compliantA, "coverage 60%", "coverage high", 1), nil, []string{"MISSING_NUMBER:60%"}},
		{"missing adherence", strings.Replace(compliantA, "; adherence 80%", "", 1), nil, []string{"MISSING_NUMBER:80%"}},
		{"adherence not required when nil", strings.Replace(compliantA, "; adherence 80%", "", 1), func(c *Context) { c.Adherence = nil }, nil},
		{"missing scope", strings.Replace(compliantA, "for you during this experiment", "", 1), nil, []string{"MISSING_SCOPE:for you during this experiment"}},
		{"scope not required", strings.Replace(compliantA, "for you during this experiment", "", 1), func(c *Context) { c.RequireScope = false }, nil},
		{"missing confounder", strings.Replace(compliantA, "travel", "other things", 1), func(c *Context) { c.Confounders = []string{"travel", "Illness"} }, []string{"MISSING_CONFOUNDER:travel", "MISSING_CONFOUNDER:Illness"}},
		{"confounder case-insensitive", strings.Replace(compliantA, "travel", "TRAVEL", 1), nil, nil},
		{"missing safety text", strings.Replace(compliantA, safetyText, "", 1), nil, []string{"MISSING_SAFETY_TEXT:" + safetyText}},
		{"edited safety text", strings.Replace(compliantA, "faint, dizzy", "faint or dizzy", 1), nil, []string{"MISSING_SAFETY_TEXT:" + safetyText}},
		{"safety text is case-sensitive", strings.Replace(compliantA, "Stop and talk", "stop and talk", 1), nil, []string{"MISSING_SAFETY_TEXT:" + safetyText}},
		{"safety text across a line break", strings.Replace(compliantA, "unwell. Do not", "unwell.\n  Do not", 1), nil, nil},
		{"no safety text required", strings.Replace(compliantA, safetyText, "", 1), func(c *Context) { c.SafetyText = "" }, nil},
		{"B needs an explicit uncertainty phrase", strings.Replace(compliantA, "increased", "probably increased", 1), func(c *Context) { c.Grade = evidence.GradeB }, []string{"MISSING_UNCERTAINTY:the estimate is uncertain"}},
		{"B with uncertainty phrase", strings.Replace(compliantA, "increased", "probably increased", 1) + " The estimate is uncertain.", func(c *Context) { c.Grade = evidence.GradeB }, nil},
		{"D needs very uncertain or can't tell", "We cannot tell what happened for you during this experiment (95% CI 19.0 to 61.0 min; n = 30 days; coverage 60%; adherence 80%); travel. " + safetyText, func(c *Context) { c.Grade = evidence.GradeD }, nil},
		{"D with only 'uncertain'", "It is uncertain for you during this experiment (95% CI 19.0 to 61.0 min; n = 30 days; coverage 60%; adherence 80%); travel. " + safetyText, func(c *Context) { c.Grade = evidence.GradeD }, []string{"MISSING_UNCERTAINTY:we can't tell; the evidence is very uncertain"}},
		{"NaN coverage is skipped", strings.Replace(compliantA, "coverage 60%", "coverage n/a", 1), func(c *Context) { c.Coverage = math.NaN() }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := fullCtx(evidence.GradeA)
			if tc.ctx != nil {
				tc.ctx(&ctx)
			}
			require.Equal(t, tc.want, nilIfEmpty(codes(Check(tc.text, ctx))))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestContradictsSafety(t *testing.T) {
	t.Parallel()
	const short = "Stop if you feel dizzy."
	tests := []struct {
		name   string
		safety string
		text   string
		want   []string // contradiction phrases
	}{
		{"verbatim alone is fine", short, short, nil},
		{"keep going even if dizzy", short, short + " Keep going even if you feel dizzy.", []string{"Keep going", "even if"}},
		{"no need to stop", short, short + " There is no need to stop.", []string{"no need"}},
		{"don't stop", short, short + " Don't stop, whatever happens.", []string{"Don't stop"}},
		{"safe to ignore the warning", short, short + " It is safe to ignore this warning.", []string{"safe to", "ignore"}},
		{"ignore without a key term is not flagged", short, short + " Ignore the first night of data.", nil},
		{"you can change medication", safetyText, safetyText + " You can change your medication if you like.", []string{"You can"}},
		{"don't worry about dizziness", safetyText, safetyText + " Don't worry about feeling dizzy.", []string{"Don't worry"}},
		{"push through faintness", safetyText, safetyText + " Push through if you feel faint.", []string{"Push through"}},
		{"continue without talking to a doctor", safetyText, "Continue the protocol without talking to a doctor. " + safetyText, []string{"Continue"}},
		{"unrelated you can", safetyText, safetyText + " You can repeat the experiment for a narrower interval.", nil},
		{"restating the warning is fine", safetyText, safetyText + " If you feel dizzy, stop and talk to a clinician.", nil},
		{"contradiction is found even without the verbatim text", short, "No need to stop if you feel dizzy.", []string{"No need"}},
		{"case-insensitive", short, short + " KEEP GOING EVEN IF YOU FEEL DIZZY.", []string{"KEEP GOING", "EVEN IF"}},
		{"negated action from a longer text", safetyText, safetyText + " You should not talk to anyone about it.", []string{"not talk"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, v := range Check(tc.text, Context{Grade: evidence.GradeA, SafetyText: tc.safety}) {
				if v.Code == CodeContradictsSafety {
					got = append(got, v.Phrase)
					require.GreaterOrEqual(t, v.Offset, 0)
					require.Equal(t, v.Phrase, tc.text[v.Offset:v.Offset+len(v.Phrase)])
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCheckReturnsEveryViolationInOrder(t *testing.T) {
	t.Parallel()
	text := "Caffeine cutoff always cures insomnia and reduced your HRV. Keep going even if you feel dizzy."
	got := Check(text, fullCtx(evidence.GradeB))
	require.Equal(t, []string{
		"DISALLOWED_WORD:always",
		"DISALLOWED_WORD:cures",
		"UNHEDGED_VERB:reduced",
		"CONTRADICTS_SAFETY:Keep going",
		"CONTRADICTS_SAFETY:even if",
		"MISSING_SCOPE:for you during this experiment",
		"MISSING_UNCERTAINTY:the estimate is uncertain",
		"MISSING_NUMBER:n = 30",
		"MISSING_NUMBER:95% CI 19.0 to 61.0",
		"MISSING_NUMBER:60%",
		"MISSING_NUMBER:80%",
		"MISSING_CONFOUNDER:travel",
		"MISSING_SAFETY_TEXT:" + safetyText,
	}, codes(got))
	for _, v := range got {
		require.NotEmpty(t, v.Message)
		if v.Offset >= 0 {
			require.Equal(t, v.Phrase, text[v.Offset:v.Offset+len(v.Phrase)])
		}
	}
	require.Equal(t, got, Check(text, fullCtx(evidence.GradeB)), "deterministic")
}

func TestPolicyFor(t *testing.T) {
	t.Parallel()
	a := PolicyFor(evidence.GradeA)
	require.True(t, a.DirectionalAllowed)
	require.Nil(t, a.Hedges)
	require.Contains(t, a.Disallowed, "cure")
	require.NotContains(t, a.Disallowed, "show")

	b := PolicyFor(evidence.GradeB)
	require.Contains(t, b.Hedges, "probably")
	require.Contains(t, b.Disallowed, "show")

	c := PolicyFor(evidence.GradeC)
	require.NotContains(t, c.Hedges, "probably")
	require.Contains(t, c.Disallowed, "probably")

	d := PolicyFor(evidence.GradeD)
	require.False(t, d.DirectionalAllowed)
	require.Contains(t, d.Disallowed, "reduce")
}

func FuzzCheck(f *testing.F) {
	f.Add(compliantA, 30, 0.6)
	f.Add("It may have reduced\u2019 -1.5-2 95 % CI ;;", 0, 1.0)
	f.Fuzz(func(t *testing.T, text string, n int, cov float64) {
		ctx := fullCtx(evidence.GradeC)
		ctx.N, ctx.Coverage = n, cov
		vs := Check(text, ctx)
		for _, v := range vs {
			if v.Offset >= 0 {
				require.LessOrEqual(t, v.Offset+len(v.Phrase), len(text))
			}
		}
	})
}

func TestCIStatementForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		lo, hi float64
		ok     bool
	}{
		{"plain", "95% CI 19.0 to 61.0 min", 19, 61, true},
		{"level after keyword", "CI (95%) 19.0 to 61.0", 19, 61, true},
		{"confidence interval words", "a confidence interval of 19 to 61 minutes", 19, 61, true},
		{"percent bounds", "95% CI -1.2 to 3.4 %", -1.2, 3.4, true},
		{"percent bounds that look like levels", "CI 95% to 99%", 95, 99, true},
		{"bounds in a later clause do not count", "95% CI unavailable; 19.0 to 61.0", 19, 61, false},
		{"swapped bounds", "95% CI 61.0 to 19.0", 19, 61, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs := Check(tc.text, Context{Grade: evidence.GradeA, N: 1, CILow: ptr(tc.lo), CIHigh: ptr(tc.hi), Coverage: math.NaN()})
			var missingCI bool
			for _, v := range vs {
				missingCI = missingCI || (v.Code == CodeMissingNumber && strings.Contains(v.Phrase, "CI"))
			}
			require.Equal(t, !tc.ok, missingCI)
		})
	}
}
