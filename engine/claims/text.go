package claims

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of the text being checked.
type token struct {
	word       string // lower-case, curly apostrophes folded to '
	start, end int    // byte offsets in the original text
	sent       int    // sentence index
	masked     bool   // inside the safety text or a quoted name
	confounder bool   // inside a named confounder (masked too)
}

// phrase is a lower-case word sequence.
type phrase []string

func phrases(ss ...string) []phrase {
	out := make([]phrase, len(ss))
	for i, s := range ss {
		out[i] = phrase(strings.Fields(foldWord(s)))
	}
	return out
}

func joinPhrases(ps []phrase) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.Join(p, " ")
	}
	return out
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc' }

func foldWord(s string) string {
	return strings.Map(func(r rune) rune {
		if isApostrophe(r) {
			return '\''
		}
		return unicode.ToLower(r)
	}, s)
}

// collapse returns s with every whitespace run replaced by one space and
// leading/trailing whitespace removed, plus, for each byte of the result,
// its offset in s (with one extra entry for the end).
func collapse(s string) (string, []int) {
	var b strings.Builder
	idx := make([]int, 0, len(s)+1)
	space := false
	for i, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			idx = append(idx, i)
			space = false
		}
		b.WriteRune(r)
		for k := range utf8.RuneLen(r) {
			idx = append(idx, i+k)
		}
	}
	idx = append(idx, len(s))
	return b.String(), idx
}

// span is a half-open byte range of the original text.
type span struct{ start, end int }

// verbatimSpans returns the ranges of text holding needle verbatim after
// whitespace collapsing, in order, non-overlapping.
func verbatimSpans(text, needle string) []span {
	n, _ := collapse(needle)
	if n == "" {
		return nil
	}
	c, idx := collapse(text)
	var out []span
	for from := 0; ; {
		i := strings.Index(c[from:], n)
		if i < 0 {
			return out
		}
		i += from
		j := i + len(n)
		out = append(out, span{idx[i], idx[j-1] + 1})
		from = j
	}
}

func isSentenceEnd(text string, i int, r rune) bool {
	switch r {
	case '!', '?', ';', '\n':
		return true
	case '.':
		// A decimal point is not a sentence end.
		prevDigit := i > 0 && text[i-1] >= '0' && text[i-1] <= '9'
		nextDigit := i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9'
		return !(prevDigit && nextDigit)
	}
	return false
}

// tokenize splits text into words with sentence indexes. Words inside a
// masked span (masks sorted and disjoint) are marked masked, and each span
// is its own sentence.
func tokenize(text string, masks []span) []token {
	var toks []token
	sent := 0
	next := 0 // masks are sorted and disjoint; i only grows
	inMask := func(i int) int {
		for next < len(masks) && i >= masks[next].end {
			next++
		}
		if next < len(masks) && i >= masks[next].start {
			return next
		}
		return -1
	}
	curMask := -1
	start := -1
	flush := func(end int) {
		if start >= 0 {
			toks = append(toks, token{word: foldWord(text[start:end]), start: start, end: end, sent: sent, masked: curMask >= 0})
			start = -1
		}
	}
	for i, r := range text {
		if m := inMask(i); m != curMask {
			flush(i)
			curMask = m
			sent++
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
		case isApostrophe(r) && start >= 0 && nextIsLetter(text, i+utf8.RuneLen(r)):
			// inside a word: can't, don't
		default:
			flush(i)
			if isSentenceEnd(text, i, r) {
				sent++
			}
		}
	}
	flush(len(text))
	return toks
}

func nextIsLetter(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r)
}

// maskNames marks every occurrence of each name's word sequence as masked
// (and as a confounder when confounder is set).
func maskNames(toks []token, names []string, confounder bool) {
	for _, name := range names {
		p := strings.Fields(strings.Join(wordsOf(name), " "))
		if len(p) == 0 {
			continue
		}
		for i := 0; i+len(p) <= len(toks); i++ {
			if wordsMatch(toks[i:i+len(p)], p) {
				for k := i; k < i+len(p); k++ {
					toks[k].masked = true
					toks[k].confounder = toks[k].confounder || confounder
				}
			}
		}
	}
}

func wordsOf(s string) []string {
	ts := tokenize(s, nil)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.word
	}
	return out
}

func wordsMatch(ts []token, p phrase) bool {
	for k, w := range p {
		if ts[k].word != w {
			return false
		}
	}
	return true
}

// phraseAt reports whether p occurs at toks[i:], all unmasked and in one
// sentence.
func phraseAt(toks []token, i int, p phrase) bool {
	if i+len(p) > len(toks) {
		return false
	}
	for k, w := range p {
		t := toks[i+k]
		if t.masked || t.sent != toks[i].sent || t.word != w {
			return false
		}
	}
	return true
}

// findPhrase returns the index of the first token where any of ps occurs
// (unmasked, within one sentence), and the phrase, or -1.
func findPhrase(toks []token, ps []phrase) (int, phrase) {
	for i := range toks {
		for _, p := range ps {
			if phraseAt(toks, i, p) {
				return i, p
			}
		}
	}
	return -1, nil
}

// precedingWords returns up to n unmasked words before toks[i] in the same
// sentence, nearest first.
func precedingWords(toks []token, i, n int) []int {
	var out []int
	for k := i - 1; k >= 0 && len(out) < n; k-- {
		if toks[k].sent != toks[i].sent {
			break
		}
		if !toks[k].masked {
			out = append(out, k)
		}
	}
	return out
}

func anyPreceding(toks []token, i, n int, words []string) (int, bool) {
	for _, k := range precedingWords(toks, i, n) {
		if slices.Contains(words, toks[k].word) {
			return k, true
		}
	}
	return -1, false
}
