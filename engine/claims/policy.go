package claims

import (
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// lexeme is a word with all the inflections the checker matches.
type lexeme struct {
	lemma string
	forms []string
}

func lex(lemma string, forms ...string) lexeme {
	return lexeme{lemma, append([]string{lemma}, forms...)}
}

// directionalVerbs are the verbs (and a few nouns) that claim a direction.
var directionalVerbs = []lexeme{
	lex("reduce", "reduces", "reduced", "reducing", "reduction", "reductions"),
	lex("increase", "increases", "increased", "increasing"),
	lex("decrease", "decreases", "decreased", "decreasing"),
	lex("improve", "improves", "improved", "improving", "improvement", "improvements"),
	lex("worsen", "worsens", "worsened", "worsening"),
	lex("lower", "lowers", "lowered", "lowering"),
	lex("raise", "raises", "raised", "raising"),
	lex("boost", "boosts", "boosted", "boosting"),
	lex("shorten", "shortens", "shortened", "shortening"),
	lex("lengthen", "lengthens", "lengthened", "lengthening"),
}

// absoluteWords claim certainty or generality: disallowed at every grade
// unless negated.
var absoluteWords = []lexeme{
	lex("cure", "cures", "cured", "curing"),
	lex("prove", "proves", "proved", "proven", "proving", "proof"),
	lex("cause", "causes", "caused", "causing", "causal", "causation"),
	lex("guarantee", "guarantees", "guaranteed", "guaranteeing"),
	lex("diagnose", "diagnoses", "diagnosed", "diagnosing", "diagnosis"),
	lex("always"),
	lex("definitely"),
	lex("certainly"),
}

// showWords claim demonstration: disallowed at B–D unless negated.
var showWords = []lexeme{
	lex("show", "shows", "showed", "shown"),
	lex("demonstrate", "demonstrates", "demonstrated"),
}

// probabilityWords are moderate-certainty hedges: disallowed at C–D.
var probabilityWords = []lexeme{lex("probably"), lex("likely"), lex("unlikely")}

var (
	hedgesB   = []string{"probably", "likely", "unlikely", "may", "might", "could", "possibly", "perhaps"}
	hedgesC   = []string{"may", "might", "could", "possibly", "perhaps"}
	negations = []string{
		"not", "no", "never", "cannot", "can't", "don't", "doesn't", "didn't", "isn't", "wasn't",
		"aren't", "weren't", "won't", "wouldn't", "shouldn't", "nor", "neither", "without",
	}
	monthContext = []string{"in", "since", "until", "of", "early", "late", "mid", "from", "through"}
)

const (
	hedgeWindow    = 5
	negationWindow = 3
)

// wordClass is what a matched word is.
type wordClass int

const (
	classDirectional wordClass = iota + 1
	classAbsolute
	classShow
	classProbability
)

type wordInfo struct {
	class wordClass
	lemma string
}

var lexicon = func() map[string]wordInfo {
	m := map[string]wordInfo{}
	add := func(c wordClass, ls []lexeme) {
		for _, l := range ls {
			for _, f := range l.forms {
				m[f] = wordInfo{c, l.lemma}
			}
		}
	}
	add(classDirectional, directionalVerbs)
	add(classAbsolute, absoluteWords)
	add(classShow, showWords)
	add(classProbability, probabilityWords)
	return m
}()

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
	// Disallowed are the words the grade disallows (lemmas; every
	// inflection is disallowed too).
	Disallowed []string
	// DirectionalVerbs are the verbs whose use the grade restricts.
	DirectionalVerbs []string
	// Hedges are the words that make a directional verb acceptable; nil
	// when the grade needs no hedge (A) or allows no directional verb (D).
	Hedges []string
	// DirectionalAllowed is false when no directional verb may be used (D).
	DirectionalAllowed bool
	// Uncertainty are phrases that satisfy the uncertainty requirement.
	Uncertainty []string
}

// PolicyFor returns the policy of grade g; an invalid grade gets D's policy
// (the strictest), as in Check.
func PolicyFor(g evidence.Grade) Policy {
	g = effectiveGrade(g)
	p := Policy{Grade: g, DirectionalVerbs: lemmas(directionalVerbs)}
	p.Disallowed = lemmas(absoluteWords)
	switch g {
	case evidence.GradeA:
		p.Allowed = []string{"X reduced/increased Y for you during this experiment", "little to no difference"}
		p.DirectionalAllowed = true
		p.Uncertainty = append([]string{"the 95% CI"}, joinPhrases(uncertaintyPhrases)...)
	case evidence.GradeB:
		p.Allowed = []string{"X probably reduced Y", "X likely increased Y", "X probably made little to no difference"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Hedges = hedgesB
		p.DirectionalAllowed = true
		p.Uncertainty = joinPhrases(uncertaintyPhrases)
	case evidence.GradeC:
		p.Allowed = []string{"X may have reduced Y", "X might have increased Y", "X may have made little to no difference"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(probabilityWords)...)
		p.Hedges = hedgesC
		p.DirectionalAllowed = true
		p.Uncertainty = joinPhrases(uncertaintyPhrases)
	default:
		p.Allowed = []string{"we can't tell whether X changed Y", "the evidence is very uncertain"}
		p.Disallowed = append(p.Disallowed, lemmas(showWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(probabilityWords)...)
		p.Disallowed = append(p.Disallowed, lemmas(directionalVerbs)...)
		p.Uncertainty = joinPhrases(uncertaintyPhrasesD)
	}
	return p
}

func effectiveGrade(g evidence.Grade) evidence.Grade {
	if g.Valid() {
		return g
	}
	return evidence.GradeD
}

func lemmas(ls []lexeme) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.lemma
	}
	return out
}
