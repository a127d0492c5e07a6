package claims

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// match is one occurrence of a lexicon rule: tokens [i, j).
type match struct {
	i, j int
	rule rule
}

// exemptByFirst indexes exemptPhrases by their first word.
var exemptByFirst = func() map[string][]phrase {
	m := map[string][]phrase{}
	for _, p := range exemptPhrases {
		m[p[0]] = append(m[p[0]], p)
	}
	return m
}()

// exemptTokens marks the tokens covered by an exempt phrase.
func exemptTokens(toks []token) []bool {
	skip := make([]bool, len(toks))
	for i, t := range toks {
		for _, p := range exemptByFirst[t.word] {
			if phraseAt(toks, i, p) {
				for k := i; k < i+len(p); k++ {
					skip[k] = true
				}
			}
		}
	}
	return skip
}

// findMatches returns the lexicon matches among the unmasked, unexempt
// tokens, longest first at each position, in text order and disjoint.
func findMatches(toks []token, skip []bool) []match {
	var out []match
	for i := 0; i < len(toks); {
		if toks[i].masked || skip[i] {
			i++
			continue
		}
		found := false
		for _, r := range rules[toks[i].word] {
			if phraseAtUnskipped(toks, skip, i, r.words) {
				out = append(out, match{i, i + len(r.words), r})
				i += len(r.words)
				found = true
				break
			}
		}
		if !found {
			i++
		}
	}
	return out
}

func phraseAtUnskipped(toks []token, skip []bool, i int, p phrase) bool {
	if !phraseAt(toks, i, p) {
		return false
	}
	for k := i; k < i+len(p); k++ {
		if skip[k] {
			return false
		}
	}
	return true
}

// nextWord returns the index of the first unmasked token after toks[j-1]
// in its sentence, skipping determiners when skipDet, or -1.
func nextWord(toks []token, j int, skipDet bool) int {
	if j <= 0 || j > len(toks) {
		return -1
	}
	sent := toks[j-1].sent
	for k, seen := j, 0; k < len(toks) && toks[k].sent == sent && seen < 3; k++ {
		if toks[k].masked {
			return -1
		}
		if skipDet && slices.Contains(determiners, toks[k].word) {
			seen++
			continue
		}
		return k
	}
	return -1
}

// nextObject returns the index of the first unmasked token after
// toks[j-1] in its sentence, skipping objectSkips, or -1.
func nextObject(toks []token, j int) int {
	if j <= 0 || j > len(toks) {
		return -1
	}
	sent := toks[j-1].sent
	for k, seen := j, 0; k < len(toks) && toks[k].sent == sent && seen < 3; k++ {
		if toks[k].masked {
			return -1
		}
		if !slices.Contains(objectSkips, toks[k].word) {
			return k
		}
		seen++
	}
	return -1
}

// analysisSubject reports whether the word before toks[i], skipping modal
// and auxiliary verbs, is an analysis object ("the interval can shrink",
// "the uncertainty will decrease").
func analysisSubject(toks []token, i int) bool {
	for k, n := i-1, 0; k >= 0 && toks[k].sent == toks[i].sent && n < 3; k, n = k-1, n+1 {
		if toks[k].masked {
			return false
		}
		if !slices.Contains(modalWords, toks[k].word) {
			return slices.Contains(statObjects, toks[k].word) && toks[k].word != "back"
		}
	}
	return false
}

// prevWord returns the index of the token before toks[i] in its sentence
// (masked or not), or -1.
func prevWord(toks []token, i int) int {
	if i > 0 && toks[i-1].sent == toks[i].sent {
		return i - 1
	}
	return -1
}

func wordAt(toks []token, k int) string {
	if k < 0 || k >= len(toks) {
		return ""
	}
	return toks[k].word
}

// isClaim reports whether the directional or causal match m is a claim in
// its context (see the package doc, "Context").
func isClaim(text string, toks []token, m match) bool {
	first := toks[m.i].word
	next := nextWord(toks, m.j, false)
	prev := prevWord(toks, m.i)
	if k, q := anyPreceding(toks, m.i, questionWindow, questionCues); q && !conditionClosed(text, toks, k, m.i) {
		return false // "whether it helped", "if your heart rate rises above 100 bpm, stop"
	}
	if slices.Contains([]string{"a", "an", "any", "no"}, wordAt(toks, prev)) && rangeBound(toks, m.j) {
		return false // "a drop of more than 4 bpm is unlikely"
	}
	if m.rule.class == classCausal {
		// "due to chance", "because of missing days", "partly due to travel".
		if k := nextWord(toks, m.j, true); k >= 0 && slices.Contains(causalObjects, toks[k].word) {
			return false
		}
		if m.j < len(toks) && toks[m.j].confounder && toks[m.j].sent == toks[m.i].sent {
			return false
		}
		return true
	}
	switch m.rule.kind {
	case kindSuperlative:
		if slices.Contains([]string{"its", "their"}, wordAt(toks, prev)) {
			return true // "at its lowest"
		}
		for k := m.j; k < len(toks) && k < m.j+refWindow && toks[k].sent == toks[m.i].sent; k++ {
			if slices.Contains(superlativeCues, toks[k].word) {
				return true
			}
		}
		return false
	case kindQuantity:
		n := wordAt(toks, next)
		return isNumberWord(n) || n == "more" || n == "another"
	case kindUpDown:
		switch {
		case prev >= 0 && slices.Contains(upDownVerbs, toks[prev].word):
			return true
		case next >= 0 && (isNumberWord(toks[next].word) || toks[next].word == "by"):
			return true
		case prev >= 0 && slices.Contains(beVerbs, toks[prev].word):
			return next < 0 || !slices.Contains(upDownNonClaims, toks[next].word)
		}
		_, moved := anyPreceding(toks, m.i, hedgeWindow, upDownMovers)
		return moved
	case kindReference:
		if prev >= 0 && isNumberWord(toks[prev].word) {
			return false // "7 more days"
		}
		if slices.Contains([]string{"learn", "know", "tell", "say", "find", "out", "see", "read", "hear"}, wordAt(toks, prev)) {
			return false // "we may learn more after another cycle"
		}
		if slices.Contains(becomeVerbs, wordAt(toks, prev)) {
			return true // "your sleep became more regular"
		}
		if prev > 0 && isNumberWord(wordAt(toks, prev-1)) && toks[prev-1].sent == toks[m.i].sent {
			return true // "10 minutes sooner", "20 minutes longer"
		}
		return hasReference(toks, m.j)
	case kindComparable:
		if hyphenated(text, toks[m.j-1]) {
			return false // "higher-intensity workouts", "lower-carb days"
		}
		// "higher than 60 bpm", "below 5 ms": a threshold, not a change;
		// "a lower value of -1.2": a bound.
		if next >= 0 && (isNumberWord(toks[next].word) ||
			(toks[next].word == "than" && isNumberWord(wordAt(toks, nextWord(toks, next+1, false)))) ||
			(slices.Contains([]string{"value", "values"}, toks[next].word) && wordAt(toks, next+1) == "of" &&
				isNumberWord(wordAt(toks, next+2)))) {
			return false
		}
	}
	if len(m.rule.words) == 1 {
		if k := nextObject(toks, m.j); k >= 0 && slices.Contains(statObjects, toks[k].word) {
			return false // "lower bound", "higher grade", "reduce the uncertainty", "a drop in coverage"
		}
		if analysisSubject(toks, m.i) {
			return false // "so the interval can shrink"
		}
	}
	switch first {
	case "work", "works":
		// "after work", "to work"; but "seems to work" is a claim.
		p := wordAt(toks, prev)
		if slices.Contains([]string{"at", "after", "before", "from", "your", "of", "for", "to"}, p) {
			return p == "to" && slices.Contains([]string{"seems", "seemed", "seem", "appears", "appeared", "appear"}, wordAt(toks, prevWord(toks, prev)))
		}
	case "cut", "cuts", "cutting":
		// "when you cut caffeine" describes the protocol.
		if slices.Contains([]string{"you", "i", "we", "to", "they"}, wordAt(toks, prev)) {
			return false
		}
	case "drop", "drops", "dropped", "dropping":
		// "washout days were dropped", "dropped out".
		if slices.Contains([]string{"was", "were", "been", "be", "are", "is", "being"}, wordAt(toks, prev)) ||
			slices.Contains([]string{"from", "out"}, wordAt(toks, next)) {
			return false
		}
	case "help":
		if slices.Contains([]string{"for", "seek", "get", "ask", "need"}, wordAt(toks, prev)) {
			return false
		}
	case "rose":
		if slices.Contains(determiners, wordAt(toks, prev)) {
			return false // "a rose": the flower
		}
	case "working":
		// "working days", "working late"; "working out" is exempt.
		if slices.Contains([]string{"day", "days", "hours", "week", "weeks", "late", "from", "at", "on", "remotely", "shift", "shifts"}, wordAt(toks, next)) {
			return false
		}
	case "helpful":
		if wordAt(toks, next) == "to" {
			return false // "it may be helpful to repeat the experiment"
		}
	}
	return true
}

// conditionClosed reports whether the cue toks[k] is "if" and a comma
// stands between it and toks[i]: the condition has ended and toks[i] is in
// the main clause, which asserts ("if you kept to it, your HRV rose", "if
// anything, it increased").
func conditionClosed(text string, toks []token, k, i int) bool {
	return toks[k].word == "if" && strings.Contains(text[toks[k].end:toks[i].start], ",")
}

// hyphenated reports whether t is directly followed by a hyphen and a
// letter, as the first part of a compound adjective.
func hyphenated(text string, t token) bool {
	return t.end+1 < len(text) && text[t.end] == '-' && nextIsLetter(text, t.end+1)
}

// hasReference reports whether a comparative ending before toks[j] is
// measured against a reference within refWindow words: "than" followed by
// a reference word ("than before", "than at baseline"), "compared", or
// directly "during", "since" or "after".
func hasReference(toks []token, j int) bool {
	if j >= len(toks) || j == 0 {
		return false
	}
	sent := toks[j-1].sent
	if toks[j].sent == sent && slices.Contains([]string{"during", "since", "after", "while"}, toks[j].word) {
		return true
	}
	for k := j; k < len(toks) && k < j+refWindow && toks[k].sent == sent; k++ {
		if slices.Contains(changeCues, toks[k].word) {
			return true
		}
		switch toks[k].word {
		case "than":
			n := wordAt(toks, k+1)
			return k+1 < len(toks) && toks[k+1].sent == sent && slices.Contains(referenceWords, n)
		}
	}
	return false
}

// orPairs marks directional matches of opposite polarity joined by "or"
// ("higher or lower", "increased or decreased"): they name alternatives,
// not a claim.
func orPairs(toks []token, ms []match) []bool {
	out := make([]bool, len(ms))
	for k := 0; k+1 < len(ms); k++ {
		a, b := ms[k], ms[k+1]
		if a.rule.class != classDirectional || b.rule.class != classDirectional {
			continue
		}
		pa, okA := polarity[toks[a.j-1].word]
		pb, okB := polarity[toks[b.i].word]
		if !okA || !okB || pa[0] != pb[0] || pa[1] == pb[1] {
			continue
		}
		gap := b.i - a.j
		if toks[a.j].word == "or" && toks[a.j].sent == toks[b.i].sent &&
			(gap == 1 || (gap == 2 && slices.Contains(determiners, toks[a.j+1].word))) {
			out[k], out[k+1] = true, true
		}
	}
	return out
}

// rangeStatement reports whether the sentence of toks[i] states a range
// against numbers ("a change larger than +5 ms or below -3 ms is
// unlikely"): a bound word followed, optionally after "than", by a number.
func rangeStatement(toks []token, i int) bool {
	sent := toks[i].sent
	from := i
	for from > 0 && toks[from-1].sent == sent {
		from--
	}
	bounds := []string{"larger", "bigger", "greater", "smaller", "more", "less", "higher", "lower", "above", "below", "beyond", "outside", "exceeding", "over", "under"}
	for k := from; k < len(toks) && toks[k].sent == sent; k++ {
		if !slices.Contains(bounds, toks[k].word) {
			continue
		}
		n := k + 1
		if wordAt(toks, n) == "than" {
			n++
		}
		if n < len(toks) && toks[n].sent == sent && isNumberWord(toks[n].word) {
			return true
		}
	}
	return false
}

// rangeBound reports whether a directional noun (after a, an, any or no;
// the caller checks) ending before toks[j] is the subject of a range
// statement: followed, optionally after "of" or
// "by", by at least one bound word ("more than", "larger than", "over", "up to", "at
// least") and a number, in a sentence with a range cue ("a drop of more
// than 4 bpm is unlikely", "an increase larger than 5 ms is ruled out").
func rangeBound(toks []token, j int) bool {
	if j >= len(toks) || j == 0 {
		return false
	}
	sent := toks[j-1].sent
	k := j
	if toks[k].word == "of" || toks[k].word == "by" {
		k++
	}
	bounds := 0
	for k < len(toks) && toks[k].sent == sent && bounds < 3 && slices.Contains(rangeBoundWords, toks[k].word) {
		k++
		bounds++
	}
	// A bare "by 5 ms" or "of 5 ms" states the change itself ("increased by
	// 5 ms, and a larger change is unlikely"): a bound word is required.
	if bounds == 0 || k >= len(toks) || toks[k].sent != sent || !isNumberWord(toks[k].word) {
		return false
	}
	for _, t := range toks {
		if t.sent == sent && !t.masked && slices.Contains(rangeCues, t.word) {
			return true
		}
	}
	return false
}

// nullScope reports whether "neither" or "nor" appears among the
// nullScopeWindow words before toks[i] ("neither your sleep nor your HRV
// clearly improved").
func nullScope(toks []token, i int) bool {
	_, ok := anyPreceding(toks, i, nullScopeWindow, []string{"neither", "nor"})
	return ok
}

// negatedFrame reports whether a negated frame ("no clear evidence that")
// ends among the negationWindow words before toks[i] in its sentence.
func negatedFrame(toks []token, i int) bool {
	for _, k := range precedingWords(toks, i, negationWindow) {
		for _, f := range negatedFrames {
			if s := k - len(f) + 1; s >= 0 && toks[k].word == f[len(f)-1] && phraseAt(toks, s, f) && toks[s].sent == toks[i].sent {
				return true
			}
		}
	}
	return false
}

// wordViolations applies the word rules of grade to the unmasked tokens.
func wordViolations(text string, toks []token, grade evidence.Grade, direction bool) []Violation {
	skip := exemptTokens(toks)
	ms := findMatches(toks, skip)
	pairs := orPairs(toks, ms)
	var out []Violation
	for k, m := range ms {
		raw := text[toks[m.i].start:toks[m.j-1].end]
		v := Violation{Phrase: raw, Offset: toks[m.i].start}
		_, negated := anyPreceding(toks, m.i, negationWindow, negations)
		switch m.rule.class {
		case classAbsolute:
			if negated {
				continue
			}
			v.Code = CodeDisallowedWord
			v.Message = fmt.Sprintf("%q is not allowed at any grade: it claims a certainty or generality an n-of-1 experiment cannot support", raw)
		case classShow:
			if _, display := anyPreceding(toks, m.i, 2, displayWords); display {
				continue // "the chart shows each night as a dot"
			}
			if grade == evidence.GradeA || negated || slices.Contains(nullWords, wordAt(toks, nextWord(toks, m.j, false))) {
				continue
			}
			v.Code = CodeDisallowedWord
			v.Message = fmt.Sprintf("%q is not allowed at grade %s: the evidence cannot show an effect", raw, grade)
		case classEvident:
			if _, wide := anyPreceding(toks, m.i, evidentNegationWindow, negations); wide || (grade == evidence.GradeA && direction) {
				continue
			}
			v.Code = CodeDisallowedWord
			v.Message = fmt.Sprintf("%q is not allowed at grade %s: the evidence does not make an effect plain", raw, grade)
			if !direction {
				v.Message = fmt.Sprintf("%q claims a plain effect, but the 95%% interval includes no change: say there was no clear change", raw)
			}
		case classProbability:
			if grade == evidence.GradeA || grade == evidence.GradeB || rangeStatement(toks, m.i) {
				continue
			}
			v.Code = CodeDisallowedWord
			v.Message = fmt.Sprintf("%q is not allowed at grade %s: the evidence is too uncertain; use \"may\"", raw, grade)
			if grade == evidence.GradeD {
				v.Message = fmt.Sprintf("%q is not allowed at grade D: say we can't tell", raw)
			}
		case classDirectional, classCausal:
			if pairs[k] || !isClaim(text, toks, m) {
				continue
			}
			what := "a directional claim"
			if m.rule.class == classCausal {
				what = "a causal claim"
			}
			if !direction {
				if negated || negatedFrame(toks, m.i) || nullScope(toks, m.i) {
					continue // "did not clearly increase", "no clear reduction"
				}
				v.Code = CodeDisallowedWord
				v.Message = fmt.Sprintf("%q is %s, but the 95%% interval includes no change: say there was no clear change", raw, what)
				break
			}
			switch grade {
			case evidence.GradeA:
				continue
			case evidence.GradeD:
				v.Code = CodeDisallowedWord
				v.Message = fmt.Sprintf("%q is %s, which grade D does not allow: say we can't tell", raw, what)
			default:
				hedges := hedgesB
				example := "probably " + raw
				if grade == evidence.GradeC {
					hedges, example = hedgesC, "may have "+raw
				}
				if hedged(toks, m.i, hedges) {
					continue
				}
				v.Code = CodeUnhedgedVerb
				v.Message = fmt.Sprintf("%q needs a hedge at grade %s, e.g. %q", raw, grade, example)
			}
		}
		out = append(out, v)
	}
	return out
}
