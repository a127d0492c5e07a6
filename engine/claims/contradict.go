package claims

import (
	"fmt"
	"slices"
	"strings"
)

// safetyVocabulary groups the words of safety texts that carry their
// meaning: actions to take or avoid, symptoms, and people and things to
// consult. A group whose any form occurs in the safety text makes all its
// forms key terms.
var safetyVocabulary = [][]string{
	{"stop", "stops", "stopping", "stopped"},
	{"talk", "talks", "talking", "speak", "speaking"},
	{"seek", "seeking"},
	{"consult", "consulting"},
	{"call", "calling"},
	{"rest", "resting"},
	{"pause", "pausing"},
	{"eat", "eating"},
	{"clinician", "clinicians", "doctor", "doctors", "gp", "physician", "prescriber", "professional"},
	{"medication", "medications", "medicine", "medicines", "meds", "prescribed", "prescription"},
	{"faint", "fainting", "faintness", "lightheaded"},
	{"dizzy", "dizziness"},
	{"unwell", "ill", "illness", "sick"},
	{"pain", "painful", "discomfort"},
	{"chest"},
	{"breath", "breathless", "breathlessness", "breathing"},
	{"shaky", "shaking"},
	{"confused", "confusion"},
	{"numb", "numbness"},
	{"shiver", "shivering"},
	{"drowsy", "drowsiness"},
	{"drive", "driving"},
	{"machinery"},
	{"distress", "distressed"},
	{"dose", "doses", "dosage"},
	{"interact", "interacts", "interaction", "interactions"},
	{"alone"},
	{"stimulant", "stimulants"},
	{"withdrawal"},
	{"reviewed", "review"},
}

// alwaysKeyTerms are key terms whatever the safety text says.
var alwaysKeyTerms = []string{"warning", "warnings", "advice", "safety", "precaution", "precautions"}

// actionVerbs are the actions a safety text can tell the person to take; a
// narrative must not negate them.
var actionVerbs = [][]string{
	{"stop", "stopping"},
	{"talk", "talking"},
	{"seek", "seeking"},
	{"consult", "consulting"},
	{"call", "calling"},
	{"rest", "resting"},
	{"pause", "pausing"},
	{"eat", "eating"},
}

var actionNegations = []string{"not", "don't", "never", "no", "needn't", "shouldn't", "won't", "doesn't"}

// overrideCues are phrases that override, dismiss or permit against a
// safety instruction.
var overrideCues = phrases(
	"no need", "don't need", "do not need", "doesn't need", "does not need", "needn't", "need not",
	"not necessary", "unnecessary",
	"ignore", "ignoring", "ignored", "disregard", "disregarding",
	"nothing to worry", "don't worry", "do not worry", "not worry", "harmless", "not a concern", "no concern",
	"keep going", "carry on", "push through", "power through", "continue", "continuing",
	"even if", "even when", "regardless",
	"safe to", "fine to", "ok to", "okay to", "you can", "feel free", "go ahead", "allowed to",
	"instead of", "rather than",
)

// contradictions applies the safety contradiction heuristic (package doc)
// to the unmasked sentences of toks.
func contradictions(text string, toks []token, safetyText string) []Violation {
	stoks := tokenize(safetyText, nil)
	key := slices.Clone(alwaysKeyTerms)
	for _, g := range safetyVocabulary {
		if slices.ContainsFunc(stoks, func(t token) bool { return slices.Contains(g, t.word) }) {
			key = append(key, g...)
		}
	}
	// Actions the safety text tells the person to take (not negated there).
	var actions []string
	for i, t := range stoks {
		for _, g := range actionVerbs {
			if slices.Contains(g, t.word) {
				if _, neg := anyPreceding(stoks, i, negationWindow, negations); !neg {
					actions = append(actions, g...)
				}
			}
		}
	}

	var out []Violation
	for from := 0; from < len(toks); {
		to := from
		for to < len(toks) && toks[to].sent == toks[from].sent {
			to++
		}
		out = append(out, sentenceContradictions(text, toks[from:to], key, actions)...)
		from = to
	}
	return out
}

func sentenceContradictions(text string, sent []token, key, actions []string) []Violation {
	var terms []string
	for _, t := range sent {
		if !t.masked && slices.Contains(key, t.word) {
			terms = append(terms, t.word)
		}
	}
	if len(terms) == 0 {
		return nil
	}
	var out []Violation
	for i := range sent {
		for _, cue := range overrideCues {
			if phraseAt(sent, i, cue) {
				raw := text[sent[i].start:sent[i+len(cue)-1].end]
				out = append(out, Violation{
					Code:    CodeContradictsSafety,
					Phrase:  raw,
					Offset:  sent[i].start,
					Message: fmt.Sprintf("%q next to %q overrides the safety text; carry it verbatim and do not weaken it", raw, strings.Join(terms, ", ")),
				})
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for i, t := range sent {
		if t.masked || !slices.Contains(actions, t.word) {
			continue
		}
		if k, neg := anyPreceding(sent, i, negationWindow, actionNegations); neg {
			raw := text[sent[k].start:t.end]
			out = append(out, Violation{
				Code:    CodeContradictsSafety,
				Phrase:  raw,
				Offset:  sent[k].start,
				Message: fmt.Sprintf("%q negates what the safety text tells you to do", raw),
			})
		}
	}
	return out
}
