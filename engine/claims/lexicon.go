package claims

import (
	"slices"
)

// This file holds the word lists of the claim policy and the rules that
// decide, from a word's neighbours, whether an occurrence is a claim. The
// package doc states the rules; this file is their single source.

// lexeme is a word with all the inflections the checker matches.
type lexeme struct {
	lemma string
	forms []string
}

func lex(lemma string, forms ...string) lexeme {
	return lexeme{lemma, append([]string{lemma}, forms...)}
}

// directionalVerbs are the verbs that claim a direction (and the nouns
// derived from them). A form is a claim unless its context says otherwise
// (see notAClaim and exceptions).
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
	lex("rise", "rises", "rose", "risen", "rising"),
	lex("fall", "falls", "fell", "fallen", "falling"),
	lex("drop", "drops", "dropped", "dropping"),
	lex("climb", "climbs", "climbed", "climbing"),
	lex("jump", "jumps", "jumped", "jumping"),
	lex("help", "helps", "helped", "helping", "helpful"),
	lex("work", "works", "worked", "working"),
	lex("cut", "cuts", "cutting"),
	lex("lift", "lifts", "lifted", "lifting"),
	lex("gain", "gains", "gained", "gaining"),
	lex("decline", "declines", "declined", "declining"),
	lex("dip", "dips", "dipped", "dipping"),
	lex("spike", "spikes", "spiked", "spiking"),
	lex("surge", "surges", "surged", "surging"),
	lex("soar", "soars", "soared", "soaring"),
	lex("plunge", "plunges", "plunged", "plunging"),
	lex("plummet", "plummets", "plummeted", "plummeting"),
	lex("slump", "slumps", "slumped", "slumping"),
	lex("shrink", "shrinks", "shrank", "shrunk", "shrinking"),
	lex("enhance", "enhances", "enhanced", "enhancing", "enhancement"),
	lex("strengthen", "strengthens", "strengthened", "strengthening"),
	lex("weaken", "weakens", "weakened", "weakening"),
	lex("elevate", "elevates", "elevated", "elevating"),
	lex("benefit", "benefits", "benefited", "benefitted", "benefiting", "beneficial"),
	lex("double", "doubles", "doubled", "doubling"),
	lex("halve", "halves", "halved", "halving"),
	lex("triple", "triples", "tripled", "tripling"),
	lex("grow", "grows", "grew", "grown", "growing"),
	lex("deteriorate", "deteriorates", "deteriorated", "deteriorating", "deterioration"),
	{"ease", []string{"eased", "eases", "easing"}}, // not "ease": "with ease"
	lex("hurt", "hurts", "hurting"),
	lex("harm", "harms", "harmed", "harming", "harmful"),
	lex("outperform", "outperforms", "outperformed", "outperforming"),
	lex("underperform", "underperforms", "underperformed", "underperforming"),
	lex("shave", "shaves", "shaved", "shaving"),
}

// directionalWords are comparatives, adjectives and nouns that claim a
// direction wherever they occur (subject to the same context rules as the
// verbs).
var directionalWords = []lexeme{
	lex("higher"), lex("better"), lex("worse"),
	lex("upward", "upwards"), lex("downward", "downwards"),
	lex("uptick", "upticks"), lex("downturn", "downturns"),
	lex("upswing", "upswings"), lex("downswing", "downswings"),
	lex("effective", "effectively", "effectiveness"),
	lex("healthier"), lex("stronger"), lex("weaker"),
	lex("success", "successful", "succeeded"),
}

// comparatives claim a change only when they are measured against a
// reference ("more sleep than before", "longer than at baseline", "slept
// less during the experiment"), not against a number ("more than 5 ms") or
// a plan ("longer than planned").
var comparatives = []lexeme{
	lex("more"), lex("less"), lex("fewer"), lex("longer"), lex("shorter"),
	lex("faster"), lex("slower"), lex("earlier"), lex("later"), lex("deeper"),
	lex("greater"), lex("larger"), lex("bigger"), lex("smaller"), lex("sooner"),
}

// quantityWords claim a change only before a quantity ("added 22
// minutes", "an extra 20 minutes"), not otherwise ("we added a caveat").
var quantityWords = []lexeme{lex("added", "adds", "adding"), lex("extra")}

// superlatives claim a change only against time: "at its lowest", "your
// best sleep in months", "the highest since May"; not "your lowest reading
// was on May 12".
var superlatives = []lexeme{lex("highest"), lex("lowest"), lex("best"), lex("worst")}

// superlativeCues within refWindow words after a superlative make it a
// change claim.
var superlativeCues = []string{"since", "ever", "yet", "months", "weeks", "years", "record", "now", "recently"}

// referenceWords after "than" make a comparative a change claim.
var referenceWords = []string{
	"before", "usual", "normal", "baseline", "previously", "earlier", "without", "your", "at",
	"during", "on", "when", "you", "prior", "in", "pre", "last", "it", "they", "average",
}

// directionalPhrases claim a direction as a whole. "up"/"down" after a
// verb of movement are generated in upDownPhrases.
var directionalPhrases = []string{
	"above baseline", "above your baseline", "above the baseline", "above usual", "above normal", "above average",
	"below baseline", "below your baseline", "below the baseline", "below usual", "below normal", "below average",
	"positive effect", "negative effect", "positive impact", "negative impact",
	"beneficial effect", "favourable effect", "favorable effect",
	"made a difference", "makes a difference", "make a difference", "making a difference",
	"made a big difference", "made a real difference", "made a clear difference", "made a noticeable difference",
	"paid off", "pays off", "paying off", "did the trick",
	"responded well", "responds well", "responding well", "responded positively", "responded badly", "responded poorly",
	"right direction", "wrong direction", "good direction", "positive direction", "negative direction",
	"right way", "wrong way", "above where", "below where", "bounced back", "bounce back", "bounces back", "bouncing back",
	"went from", "changed from", "moved from",
	"real effect", "genuine effect", "meaningful effect", "measurable effect", "real difference",
	"meaningful difference", "real impact", "meaningful impact",
	"adapting well", "adapted well", "adapts well", "adjusted well", "adjusting well",
	"taken a hit", "took a hit", "takes a hit", "taking a hit",
	"recovered to", "back to normal", "returned to normal", "back to baseline", "returned to baseline",
}

// upDownVerbs, directly followed by up or down, claim a direction ("went
// up", "came down", "ticked up").
var upDownVerbs = []string{
	"went", "go", "goes", "going", "gone", "came", "come", "comes", "coming",
	"moved", "move", "moves", "moving", "trended", "trending", "trend", "trends",
	"ticked", "tick", "ticks", "crept", "creep", "creeps", "creeping", "shot", "shoots", "shooting",
	"edged", "edge", "edges", "edging", "inched", "inch", "inches", "inching", "crept",
	"headed", "heading", "climbed", "fell", "dropped", "jumped", "rose",
}

// upDownMovers, within the 5 words before up or down, claim a direction
// ("brought your resting heart rate down").
var upDownMovers = []string{
	"brought", "bring", "brings", "bringing", "pushed", "push", "pushes", "pushing",
	"drove", "drive", "drives", "driving", "driven", "pulled", "pull", "pulls", "pulling",
	"knocked", "knock", "knocks", "nudged", "nudge", "nudges", "sent", "send", "sends",
	"got", "get", "gets", "getting", "kept", "keep", "keeps", "keeping",
}

// beVerbs before up or down make a direction claim ("your sleep is up")
// unless followed by upDownNonClaims ("the sensor was down for two days").
var beVerbs = []string{"is", "was", "were", "are", "been", "be", "'s", "stayed", "remained", "stays"}

var upDownNonClaims = []string{"to", "for", "at", "all", "early", "late", "until", "and", "with", "because"}

// changeCues within refWindow words after a comparative make it a change
// claim ("more active since starting", "faster now").
var changeCues = []string{"since", "now", "lately", "nowadays", "anymore", "compared", "versus", "vs"}

// becomeVerbs before a comparative make it a change claim without a
// reference ("your sleep became more regular").
var becomeVerbs = []string{
	"became", "become", "becomes", "becoming", "grew", "grown", "growing", "getting", "got", "turned",
}

// causalPhrases attribute a change to a cause; they are directional claims.
var causalPhrases = []string{
	"because of", "thanks to", "thanks in part to", "thanks largely to",
	"led to", "lead to", "leads to", "leading to",
	"due to", "due in part to", "due largely to", "owing to", "on account of",
	"resulted in", "result in", "results in", "resulting in", "resulted from", "results from",
	"as a result", "as a result of", "as a consequence", "as a consequence of", "in consequence of",
	"made your", "makes your", "make your", "making your",
	"made you", "makes you", "make you", "making you",
	"responsible for", "attributable to", "attributed to", "attribute to", "attributes to",
	"contributed to", "contributes to", "contribute to", "contributing to",
	"driven by", "brought about", "brings about", "bring about",
	"had an effect on", "has an effect on", "had an impact on", "has an impact on",
	"impacted", "affected your", "affects your",
	"the reason for", "the reason your", "the reason why",
	"accounted for", "accounts for", "account for",
	"because you", "linked to", "associated with",
	"translated into", "translates into", "translate into", "translating into",
	"cost you", "costs you", "costing you", "cost your",
	"responded to", "responds to", "respond to", "responding to", "in response to",
}

// causalObjects are the words (within 3 after a causal phrase) that make it
// a statement about the data rather than about an effect ("due to chance",
// "because of missing days").
var causalObjects = []string{
	"chance", "noise", "random", "missing", "gap", "gaps", "drift", "variation", "variability",
	"measurement", "measurements", "sensor", "device", "coverage", "adherence", "data", "rounding",
	"washout", "lag", "wear", "sample", "uncertainty", "imprecision", "too", "few", "fewer", "low",
	"missed", "forgot", "skipped", "removed", "didn't", "weren't", "wasn't",
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
	lex("definitely", "definite", "definitive", "definitively"),
	lex("certainly"),
	lex("confirm", "confirms", "confirmed", "confirming", "confirmation"),
	lex("conclusively", "conclusive"),
	lex("undoubtedly"), lex("undeniably", "undeniable"), lex("unquestionably", "unquestionable"),
	lex("indisputably", "indisputable"), lex("irrefutably", "irrefutable"),
}

// absolutePhrases claim certainty as a whole.
var absolutePhrases = []string{
	"clearly show", "clearly shows", "clearly showed", "clearly shown",
	"clearly demonstrate", "clearly demonstrates", "clearly demonstrated",
	"for sure", "no doubt", "without a doubt", "without doubt", "beyond doubt", "beyond a doubt",
	"beyond any doubt", "every time", "100 percent", "works every time",
}

// evidentPhrases claim that an effect is real, like evidentWords.
var evidentPhrases = []string{"is real", "was real", "are real", "were real", "real change", "genuine change"}

// showWords claim demonstration: disallowed at B–D unless negated or
// followed by a null ("shows no clear change").
var showWords = []lexeme{
	lex("show", "shows", "showed", "shown"),
	lex("demonstrate", "demonstrates", "demonstrated"),
}

// evidentWords claim that an effect is plain to see: disallowed at B–D,
// and at A unless the direction is supported, unless negated ("no clear
// change", "did not clearly increase").
var evidentWords = []lexeme{
	lex("clear"), lex("clearly"), lex("obvious", "obviously"), lex("evident", "evidently"),
	lex("significant", "significantly"), lex("noticeable", "noticeably"), lex("markedly"),
	lex("substantially"), lex("dramatic", "dramatically"),
}

// probabilityWords are moderate-certainty hedges: disallowed at C–D except
// in a range statement ("a change larger than +5 ms is unlikely").
var probabilityWords = []lexeme{lex("probably"), lex("likely"), lex("unlikely")}

var (
	hedgesB   = []string{"probably", "likely", "unlikely", "may", "might", "could", "possibly", "perhaps"}
	hedgesC   = []string{"may", "might", "could", "possibly", "perhaps"}
	negations = []string{
		"not", "no", "never", "cannot", "can't", "don't", "doesn't", "didn't", "isn't", "wasn't",
		"aren't", "weren't", "won't", "wouldn't", "shouldn't", "nor", "neither", "without", "nothing",
	}
	// negatedFrames, ending within negationWindow words before a
	// directional word, negate it ("no clear evidence that it helped").
	negatedFrames = phrases(
		"no evidence that", "no clear evidence that", "no good evidence that", "no sign that", "no clear sign that",
		"no indication that", "not suggest that", "not show that", "not indicate that", "not mean that",
		"not clear that", "not certain that", "not sure that", "not know if", "not know that", "not tell if",
		"nothing suggests that", "nothing indicates that", "nothing shows that",
	)
	// nullWords after show/demonstrate make it a null statement.
	nullWords    = []string{"no", "little", "nothing", "neither", "not"}
	monthContext = []string{"in", "since", "until", "of", "early", "late", "mid", "from", "through"}
	// rangeCues in a sentence make "a drop of more than 4 bpm" part of a
	// range statement ("… is unlikely", "the data rule out …").
	rangeCues = []string{
		"likely", "unlikely", "rule", "rules", "ruled", "exclude", "excludes", "excluded",
		"compatible", "consistent", "plausible", "implausible",
	}
	// rangeBoundWords may stand between a directional word and the number
	// of a range statement.
	rangeBoundWords = []string{
		"more", "than", "over", "at", "least", "most", "above", "below", "under", "larger", "greater", "bigger",
		"beyond", "exceeding", "up", "to",
	}
	// questionCues before a directional word make it a question, not a
	// claim ("we can't tell whether it helped").
	questionCues = []string{"whether", "if"}
	// statObjects after a directional word make it a statement about the
	// analysis, not about the person ("lower bound", "higher grade", "more
	// data would reduce the uncertainty"). Determiners are skipped.
	statObjects = []string{
		"bound", "bounds", "limit", "limits", "end", "grade", "grades", "certainty", "confidence",
		"uncertainty", "estimate", "estimates", "precision", "interval", "intervals", "coverage",
		"adherence", "power", "threshold", "thresholds", "accuracy", "evidence", "back", "tail",
		"percentile", "quality", "resolution", "sample", "data", "noise", "number", "battery",
	}
	// modalWords are skipped when looking for an analysis subject before a
	// verb ("the interval can shrink").
	modalWords = []string{"can", "could", "will", "would", "should", "may", "might", "to", "has", "have", "had", "is", "was"}
	// displayWords before show/demonstrate make it a description of the
	// screen, not a claim ("the chart shows each night as a dot").
	displayWords = []string{
		"chart", "charts", "graph", "graphs", "table", "figure", "plot", "screen", "card", "view", "tab",
		"dot", "dots", "line", "legend", "axis",
	}
	determiners = []string{"the", "your", "its", "this", "that", "a", "an", "our", "their", "of", "statistical"}
	// objectSkips are skipped before a statObject ("a drop in coverage").
	objectSkips = append(slices.Clone(determiners), "in")
)

const (
	hedgeWindow    = 5
	negationWindow = 3
	questionWindow = 6
	refWindow      = 6
	// evidentNegationWindow is wider: "did not lead to a clear change".
	evidentNegationWindow = 5
	nullScopeWindow       = 6
)

// wordClass is what a matched word or phrase is.
type wordClass int

const (
	classDirectional wordClass = iota + 1
	classCausal
	classAbsolute
	classShow
	classEvident
	classProbability
)

// ruleKind refines classDirectional.
type ruleKind int

const (
	kindPlain       ruleKind = iota
	kindComparable           // higher, lower …: also exempt before "than" + number
	kindReference            // more, longer …: a claim only against a reference
	kindUpDown               // "up"/"down": a claim only after a verb of movement
	kindQuantity             // added, extra: a claim only before a quantity
	kindSuperlative          // lowest, best …: a claim only against time ("in months")
)

// rule is one entry of the lexicon: a word sequence and what it claims.
type rule struct {
	words phrase
	class wordClass
	kind  ruleKind
}

// rules maps a first word to the rules starting with it, longest first.
var rules = func() map[string][]rule {
	m := map[string][]rule{}
	addWords := func(c wordClass, k ruleKind, ls []lexeme) {
		for _, l := range ls {
			for _, f := range l.forms {
				m[f] = append(m[f], rule{phrase{f}, c, k})
			}
		}
	}
	addPhrases := func(c wordClass, ps []string) {
		for _, p := range phrases(ps...) {
			m[p[0]] = append(m[p[0]], rule{p, c, kindPlain})
		}
	}
	addWords(classDirectional, kindPlain, directionalVerbs)
	addWords(classDirectional, kindPlain, directionalWords)
	addWords(classDirectional, kindReference, comparatives)
	addWords(classDirectional, kindUpDown, []lexeme{lex("up"), lex("down")})
	addPhrases(classDirectional, directionalPhrases)
	addPhrases(classCausal, causalPhrases)
	addWords(classAbsolute, kindPlain, absoluteWords)
	addPhrases(classAbsolute, absolutePhrases)
	addWords(classShow, kindPlain, showWords)
	addWords(classEvident, kindPlain, evidentWords)
	addPhrases(classEvident, evidentPhrases)
	addWords(classProbability, kindPlain, probabilityWords)
	addWords(classDirectional, kindQuantity, quantityWords)
	addWords(classDirectional, kindSuperlative, superlatives)
	for _, w := range []string{"higher", "lower", "above", "below"} {
		for i := range m[w] {
			if m[w][i].kind == kindPlain && len(m[w][i].words) == 1 {
				m[w][i].kind = kindComparable
			}
		}
	}
	for w, rs := range m {
		slices.SortStableFunc(rs, func(a, b rule) int { return len(b.words) - len(a.words) })
		m[w] = rs
	}
	return m
}()

// exemptPhrases are never claims: their words are skipped by the word
// rules. "Fell asleep" is sleep onset, not a fall; the others name parts
// of an interval or hypothetical alternatives.
var exemptPhrases = phrases(
	"fall asleep", "falls asleep", "fell asleep", "fallen asleep", "falling asleep",
	"fell within", "falls within", "fall within", "falling within",
	"fell outside", "falls outside", "fall outside", "falling outside",
	"upper and lower", "lower and upper", "higher and lower",
	"in the fall", "this fall", "last fall", "next fall",
	"for help", "seek help", "get help", "ask for help",
	"follow up", "set up", "up to date", "up to you", "back up", "wake up", "woke up", "waking up", "get up", "got up",
	"wind down", "winding down", "calm down", "slow down", "lie down", "lying down", "sit down", "shut down",
	"you worked out", "i worked out", "we worked out", "work out", "working out", "work day", "work days", "work stress", "work travel",
	"at work", "after work", "before work", "from work", "your work", "of work",
	"weight lifting", "lifting weights", "lift weights", "stair climbing", "climbing stairs",
	"cut back", "cut down", "cutting down", "cutting back",
	"keep up", "kept up", "keeps up", "keeping up",
	"best way", "best to", "best guess", "best practice", "best time", "at best", "do your best", "try your best",
	"more data", "more days", "more valid days", "more nights", "more measurements", "more information",
	"less data", "fewer days", "fewer missing",
	"later than planned", "longer than planned", "earlier than planned",
	"better understand", "better estimate", "better idea", "better sense",
	"double check", "double checked",
	"a while later", "days later", "weeks later",
	"higher is better", "lower is better", "higher is worse", "lower is worse",
	"higher values mean", "lower values mean", "higher values indicate", "lower values indicate",
	"the higher the", "the lower the",
)

// polarity gives the axis and sign of a directional word: axis 1 is size
// (higher, lower), axis 2 is quality (better, worse). Two words joined by
// "or" on one axis with opposite signs name alternatives ("higher or
// lower", "improved or worsened"), not a claim.
var polarity = func() map[string][2]int {
	m := map[string][2]int{}
	set := func(axis, sign int, ls ...lexeme) {
		for _, l := range ls {
			for _, f := range l.forms {
				m[f] = [2]int{axis, sign}
			}
		}
	}
	byLemma := func(ls []lexeme, names ...string) []lexeme {
		var out []lexeme
		for _, l := range ls {
			if slices.Contains(names, l.lemma) {
				out = append(out, l)
			}
		}
		return out
	}
	all := slices.Concat(directionalVerbs, directionalWords, comparatives, []lexeme{lex("up"), lex("down"), lex("above"), lex("below")})
	set(1, 1, byLemma(all, "increase", "raise", "boost", "lengthen", "rise", "climb", "jump", "gain", "higher",
		"more", "longer", "greater", "larger", "bigger", "up", "above", "upward", "elevate", "double", "triple")...)
	set(1, -1, byLemma(all, "reduce", "decrease", "lower", "shorten", "fall", "drop", "decline", "dip", "cut",
		"less", "fewer", "shorter", "smaller", "down", "below", "downward", "halve", "shrink")...)
	set(2, 1, byLemma(all, "improve", "better", "help", "benefit", "enhance", "strengthen")...)
	set(2, -1, byLemma(all, "worsen", "worse", "weaken")...)
	return m
}()

// isNumberWord reports whether w is a number token (starts with a digit).
func isNumberWord(w string) bool { return w != "" && w[0] >= '0' && w[0] <= '9' }

func lemmas(ls []lexeme) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.lemma
	}
	return out
}
