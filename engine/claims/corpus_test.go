package claims

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// corpusLine is one labelled sentence of testdata/corpus.tsv.
type corpusLine struct {
	line  int
	flag  bool
	ctx   Context
	class string
	text  string
}

func readCorpus(t testing.TB) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	require.NoError(t, err)
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		cols := strings.Split(l, "\t")
		require.Len(t, cols, 6, "line %d", n)
		require.Contains(t, []string{"FLAG", "PASS"}, cols[0], "line %d", n)
		require.Contains(t, []string{"0", "1"}, cols[2], "line %d", n)
		g := evidence.Grade(cols[1])
		require.True(t, g.Valid(), "line %d: grade %q", n, cols[1])
		ctx := Context{Grade: g, DirectionSupported: cols[2] == "1"}
		if cols[3] != "-" {
			for _, name := range strings.Split(cols[3], "|") {
				if c, ok := strings.CutPrefix(name, "c:"); ok {
					ctx.Confounders = append(ctx.Confounders, c)
				} else {
					ctx.Names = append(ctx.Names, name)
				}
			}
		}
		out = append(out, corpusLine{n, cols[0] == "FLAG", ctx, cols[4], cols[5]})
	}
	require.NoError(t, sc.Err())
	return out
}

// wordRuleViolations are the violations of the word rules (the corpus
// checks wording only; required content is tested elsewhere).
func wordRuleViolations(text string, ctx Context) []Violation {
	var out []Violation
	for _, v := range Check(text, ctx) {
		if v.Code == CodeDisallowedWord || v.Code == CodeUnhedgedVerb {
			out = append(out, v)
		}
	}
	return out
}

// minCorpusPrecision is the precision the checker must keep on the corpus;
// recall on the FLAG lines must be 1.
const minCorpusPrecision = 0.97

// TestCorpus runs the checker over the labelled corpus, prints precision
// and recall overall and per class, and requires recall 1.0 on the
// violating sentences.
func TestCorpus(t *testing.T) {
	t.Parallel()
	lines := readCorpus(t)
	type counts struct{ tp, fp, fn, tn int }
	byClass := map[string]*counts{}
	var all counts
	var misses, falseAlarms []string
	nFlag, nPass := 0, 0
	for _, l := range lines {
		vs := wordRuleViolations(l.text, l.ctx)
		for _, v := range vs {
			require.Equal(t, v.Phrase, l.text[v.Offset:v.Offset+len(v.Phrase)], "line %d", l.line)
		}
		c := byClass[l.class]
		if c == nil {
			c = &counts{}
			byClass[l.class] = c
		}
		got := len(vs) > 0
		desc := fmt.Sprintf("line %d [%s dir=%v] %q", l.line, l.ctx.Grade, l.ctx.DirectionSupported, l.text)
		switch {
		case l.flag && got:
			c.tp++
			all.tp++
		case l.flag && !got:
			c.fn++
			all.fn++
			misses = append(misses, desc)
		case !l.flag && got:
			c.fp++
			all.fp++
			falseAlarms = append(falseAlarms, fmt.Sprintf("%s flagged %q", desc, vs[0].Phrase))
		default:
			c.tn++
			all.tn++
		}
		if l.flag {
			nFlag++
		} else {
			nPass++
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 1
		}
		return float64(a) / float64(b)
	}
	classes := make([]string, 0, len(byClass))
	for k := range byClass {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	t.Logf("corpus: %d sentences, %d FLAG, %d PASS", len(lines), nFlag, nPass)
	for _, k := range classes {
		c := byClass[k]
		t.Logf("  %-14s FLAG %3d (caught %3d)  PASS %3d (flagged %d)", k, c.tp+c.fn, c.tp, c.tn+c.fp, c.fp)
	}
	precision, recall := ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn)
	t.Logf("precision %.4f (%d/%d), recall %.4f (%d/%d)", precision, all.tp, all.tp+all.fp, recall, all.tp, all.tp+all.fn)
	for _, s := range falseAlarms {
		t.Logf("false positive: %s", s)
	}
	for _, s := range misses {
		t.Errorf("missed violation: %s", s)
	}
	require.GreaterOrEqual(t, len(lines), 300)
	require.InDelta(t, 1.0, recall, 0, "recall on the violating sentences must be 1")
	require.GreaterOrEqual(t, precision, minCorpusPrecision)
}
