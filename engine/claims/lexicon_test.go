package claims

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// TestEveryLexiconFormIsFlagged puts every form of every word and phrase
// of the lexicon into a plain sentence and requires a word violation in
// the context its class disallows, and none where the class allows it.
func TestEveryLexiconFormIsFlagged(t *testing.T) {
	t.Parallel()
	n := 0
	for _, rs := range rules {
		for _, r := range rs {
			w := strings.Join(r.words, " ")
			var text string
			var bad, good Context
			switch r.class {
			case classDirectional:
				switch r.kind {
				case kindReference:
					text = "Your HRV was " + w + " than before."
				case kindUpDown:
					text = "Your HRV went " + w + "."
				case kindQuantity:
					text = "Your HRV " + w + " 5 ms during the experiment."
				case kindSuperlative:
					text = "Your HRV was at its " + w + " in months."
				default:
					text = "Your HRV " + w + " during the experiment."
				}
				bad, good = Context{Grade: evidence.GradeD, DirectionSupported: true}, Context{Grade: evidence.GradeA, DirectionSupported: true}
			case classCausal:
				text = "Your HRV changed " + w + " the walk."
				bad, good = Context{Grade: evidence.GradeA}, Context{Grade: evidence.GradeA, DirectionSupported: true}
			case classAbsolute:
				text = "This " + w + " it."
				bad, good = Context{Grade: evidence.GradeA, DirectionSupported: true}, Context{}
			case classShow:
				text = "This " + w + " a change."
				bad, good = Context{Grade: evidence.GradeB, DirectionSupported: true}, Context{Grade: evidence.GradeA}
			case classEvident:
				text = "This was " + w + "."
				bad, good = Context{Grade: evidence.GradeA}, Context{Grade: evidence.GradeA, DirectionSupported: true}
			case classProbability:
				text = "It " + w + " made no difference."
				bad, good = Context{Grade: evidence.GradeC}, Context{Grade: evidence.GradeB}
			}
			n++
			require.NotEmpty(t, wordRuleViolations(text, bad), "%q must be flagged in %+v", text, bad)
			if good.Grade != "" {
				require.Empty(t, wordRuleViolations(text, good), "%q must pass in %+v", text, good)
			}
		}
	}
	t.Logf("%d lexicon entries checked", n)
}

// TestPolicyDescribesTheLexicon: PolicyFor lists the new words and phrases
// (it feeds the LLM prompts and the docs).
func TestPolicyDescribesTheLexicon(t *testing.T) {
	t.Parallel()
	for _, g := range evidence.Grades {
		p := PolicyFor(g)
		require.Contains(t, p.DirectionalVerbs, "rise")
		require.Contains(t, p.DirectionalVerbs, "help")
		require.Contains(t, p.DirectionalWords, "higher")
		require.Contains(t, p.CausalPhrases, "thanks to")
		require.Contains(t, p.CausalPhrases, "because of")
		require.Contains(t, p.CertaintyWords, "clearly")
		require.Contains(t, p.Disallowed, "definitely")
		require.Contains(t, p.Disallowed, "clearly shows")
		require.NotEmpty(t, p.DirectionRule)
		require.NotEmpty(t, p.NullWording)
	}
	require.Contains(t, PolicyFor(evidence.GradeD).Disallowed, "thanks to")
	require.Contains(t, PolicyFor(evidence.GradeB).Disallowed, "clear")
	require.NotContains(t, PolicyFor(evidence.GradeA).Disallowed, "clear")
}

// TestPolicyListsAreChecked: every word and phrase PolicyFor names is one
// Check acts on (entries with "/", "…" or a placeholder describe families
// and are skipped).
func TestPolicyListsAreChecked(t *testing.T) {
	t.Parallel()
	p := PolicyFor(evidence.GradeA)
	plain := func(w string) bool { return !strings.ContainsAny(w, "/…") && !strings.Contains(w, " Y ") }
	dirCtx := Context{Grade: evidence.GradeD, DirectionSupported: true}
	require.Equal(t, lemmas(directionalVerbs), p.DirectionalVerbs)
	for _, l := range directionalVerbs {
		require.NotEmpty(t, wordRuleViolations("Your HRV "+l.forms[0]+" during the experiment.", dirCtx), l.lemma)
	}
	for _, w := range p.DirectionalWords {
		if plain(w) {
			require.NotEmpty(t, wordRuleViolations("Your HRV "+w+" during the experiment.", dirCtx), w)
		}
	}
	for _, w := range p.CausalPhrases {
		require.NotEmpty(t, wordRuleViolations("Your HRV changed "+w+" the walk.", dirCtx), w)
	}
	for _, w := range p.Disallowed {
		require.NotEmpty(t, wordRuleViolations("This "+w+" it.", Context{Grade: evidence.GradeA, DirectionSupported: true}), w)
	}
	for _, w := range p.CertaintyWords {
		require.NotEmpty(t, wordRuleViolations("This was "+w+".", Context{Grade: evidence.GradeB, DirectionSupported: true}), w)
	}
	require.Empty(t, wordRuleViolations("There was no clear change.", Context{Grade: evidence.GradeD}))
}

// TestNullWordingPasses: the null wording PolicyFor recommends passes at
// every grade when the direction is not supported.
func TestNullWordingPasses(t *testing.T) {
	t.Parallel()
	for _, g := range evidence.Grades {
		for _, s := range []string{
			"There was no clear change in your HRV.",
			"The walk did not clearly increase your steps.",
			"A change larger than +5.0 ms or below -3.0 ms is unlikely.",
			"No change larger than +5 ms or below \u22123 ms is likely.",
		} {
			require.Empty(t, wordRuleViolations(s, Context{Grade: g}), "grade %s: %q", g, s)
		}
	}
}

// BenchmarkCheck measures Check on a typical template narrative.
func BenchmarkCheck(b *testing.B) {
	ctx := fullCtx(evidence.GradeB)
	text := strings.Replace(compliantA, "increased", "probably increased", 1) + " The estimate is uncertain."
	b.ReportAllocs()
	for b.Loop() {
		Check(text, ctx)
	}
}

// TestWordSoup feeds seeded random sequences of lexicon words, numbers,
// hyphens and sentence ends to Check at every grade: no panic, every
// offset points at its phrase, and the result is deterministic.
func TestWordSoup(t *testing.T) {
	t.Parallel()
	var vocab []string
	for _, rs := range rules {
		for _, r := range rs {
			vocab = append(vocab, strings.Join(r.words, " "))
		}
	}
	for _, p := range exemptPhrases {
		vocab = append(vocab, strings.Join(p, " "))
	}
	vocab = append(vocab, "not", "no", "if", "whether", "than", "before", "may", "probably", "5", "-3.2", "a", "the",
		"of", "by", "your", "HRV", "or", "-", ",", ".", ";", "\u2019", "if anything,", "Increase daily steps")
	sort.Strings(vocab) // map order is random; the soup must not be
	r := rand.New(rand.NewPCG(11, 9))
	for range 1000 {
		var b strings.Builder
		for range 1 + r.IntN(25) {
			w := vocab[r.IntN(len(vocab))]
			b.WriteString(w)
			if r.IntN(5) > 0 {
				b.WriteByte(' ')
			}
		}
		text := b.String()
		for _, g := range evidence.Grades {
			ctx := Context{Grade: g, DirectionSupported: r.IntN(2) == 0, Names: []string{"Increase daily steps"}, Coverage: math.NaN()}
			vs := Check(text, ctx)
			for _, v := range vs {
				if v.Offset >= 0 {
					require.Equal(t, v.Phrase, text[v.Offset:v.Offset+len(v.Phrase)], "%q", text)
				}
			}
			require.Equal(t, vs, Check(text, ctx))
		}
	}
}
