package claims

import (
	"slices"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

var (
	scopePhrases = phrases("for you", "during this experiment", "in this experiment", "during the experiment")
	// uncertaintyPhrases count at A, B and C.
	uncertaintyPhrases = phrases(
		"uncertain", "uncertainty", "unclear", "imprecise", "not certain", "not sure",
		"can't be sure", "cannot be sure", "can't be certain", "cannot be certain",
		"by chance", "due to chance", "can't tell", "cannot tell",
	)
	// uncertaintyPhrasesD count at D.
	uncertaintyPhrasesD = phrases("very uncertain", "can't tell", "cannot tell", "can not tell", "don't know", "do not know")
)

// Policy is the wording policy of one grade in a form fit for prompts and
// documentation. Check is the authority; Policy describes it.
type Policy struct {
	// Grade is the evidence grade described (an invalid grade reads as D).
	Grade evidence.Grade
	// Allowed are example phrasings the grade allows.
	Allowed []string
	// Disallowed are the words and phrases the grade disallows (lemmas;
	// every inflection is disallowed too).
	Disallowed []string
	// DirectionalVerbs are the verbs whose use the grade restricts (lemmas;
	// every inflection and derived noun is restricted too).
	DirectionalVerbs []string
	// DirectionalWords are the other words and phrases that claim a
	// direction (comparatives, "went up/down", "above baseline"); they
	// follow the same rules as DirectionalVerbs.
	DirectionalWords []string
	// CausalPhrases attribute a change to a cause ("thanks to", "led to");
	// they follow the same rules as DirectionalVerbs.
	CausalPhrases []string
	// CertaintyWords claim that an effect is plain to see ("clearly",
	// "significant"): allowed only at A when the direction is supported,
	// and only negated otherwise ("no clear change").
	CertaintyWords []string
	// Hedges are the words that make a directional verb acceptable; nil
	// when the grade needs no hedge (A) or allows no directional verb (D).
	Hedges []string
	// DirectionalAllowed is false when no directional verb may be used (D).
	// At every grade a directional word or causal phrase also needs the
	// direction to be supported (Context.DirectionSupported).
	DirectionalAllowed bool
	// DirectionRule states, in one sentence for prompts, when directional
	// and causal wording may be used at all.
	DirectionRule string
	// NullWording are example phrasings for a result whose 95% interval
	// includes zero; they are allowed at every grade.
	NullWording []string
	// Uncertainty are phrases that satisfy the uncertainty requirement.
	Uncertainty []string
}

// directionRule is Policy.DirectionRule.
const directionRule = "Use a directional word or a causal phrase only when the 95% interval excludes zero; " +
	"otherwise say there was no clear change and state the range the data rule out."

// nullWording is Policy.NullWording.
var nullWording = []string{
	"there was no clear change in Y",
	"X did not clearly increase Y",
	"a change larger than +A or below -B is unlikely",
}

// PolicyFor returns the policy of grade g; an invalid grade gets D's policy
// (the strictest), as in Check.
func PolicyFor(g evidence.Grade) Policy {
	g = effectiveGrade(g)
	p := Policy{
		Grade:            g,
		DirectionalVerbs: lemmas(directionalVerbs),
		DirectionalWords: directionalWordList(),
		CausalPhrases:    slices.Clone(policyCausalPhrases),
		CertaintyWords:   lemmas(evidentWords),
		DirectionRule:    directionRule,
		NullWording:      slices.Clone(nullWording),
	}
	p.Disallowed = append(lemmas(absoluteWords), policyAbsolutePhrases...)
	switch g {
	case evidence.GradeA:
		p.Allowed = []string{"X reduced/increased Y for you during this experiment", "little to no difference"}
		p.DirectionalAllowed = true
		p.Uncertainty = append([]string{"the 95% CI"}, joinPhrases(uncertaintyPhrases)...)
	case evidence.GradeB:
		p.Allowed = []string{"X probably reduced Y", "X likely increased Y", "X probably made little to no difference"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(evidentWords)...)
		p.Hedges = hedgesB
		p.DirectionalAllowed = true
		p.Uncertainty = joinPhrases(uncertaintyPhrases)
	case evidence.GradeC:
		p.Allowed = []string{"X may have reduced Y", "X might have increased Y", "X may have made little to no difference"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(evidentWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(probabilityWords)...)
		p.Hedges = hedgesC
		p.DirectionalAllowed = true
		p.Uncertainty = joinPhrases(uncertaintyPhrases)
	default:
		p.Allowed = []string{"we can't tell whether X changed Y", "the evidence is very uncertain"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(evidentWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(probabilityWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(directionalVerbs)...)
		p.Disallowed = append(p.Disallowed, directionalWordList()...)
		p.Disallowed = append(p.Disallowed, policyCausalPhrases...)
		p.Uncertainty = joinPhrases(uncertaintyPhrasesD)
	}
	return p
}

// The lists below describe the lexicon (lexicon.go) for prompts and docs,
// one entry per family of forms; TestPolicyListsAreChecked keeps them
// honest.
var (
	policyDirectionalWords = []string{
		"higher", "better", "worse", "healthier", "stronger", "weaker", "upward", "downward", "uptick",
		"downturn", "effective", "successful", "went up", "went down", "came down", "ticked up",
		"brought Y down", "above baseline", "below baseline", "positive effect", "negative effect",
		"real effect", "meaningful difference", "made a difference", "paid off", "responded well",
		"right direction", "bounced back", "went from",
		"more/less/longer/shorter/fewer/faster/slower/earlier/later/sooner … than before (or than usual, " +
			"at baseline, compared with, since starting, now; or after became/got)",
	}
	policyCausalPhrases = []string{
		"because of", "because you", "thanks to", "led to", "due to", "owing to", "resulted in", "resulted from",
		"as a result of", "as a consequence of", "made your", "made you", "responsible for", "attributable to",
		"attributed to", "contributed to", "driven by", "brought about", "had an effect on", "had an impact on",
		"impacted", "affected your", "the reason for", "accounts for", "linked to", "associated with",
		"translated into", "responded to", "in response to",
	}
	policyAbsolutePhrases = []string{
		"clearly shows", "clearly demonstrates", "for sure", "no doubt", "without a doubt", "beyond doubt",
		"every time", "100 percent",
	}
)

// directionalWordList is Policy.DirectionalWords.
func directionalWordList() []string { return slices.Clone(policyDirectionalWords) }

func effectiveGrade(g evidence.Grade) evidence.Grade {
	if g.Valid() {
		return g
	}
	return evidence.GradeD
}
