package limits_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/vitalgraph/vitalgraph/graph"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// Every generated worst case (the 7,000-duplicate document among
// them) is refused with ELIMIT before validation; every document built to
// sit just inside the limits passes them and is valid. How long each takes
// is measured by `make bench`, not here.
func TestDocumentLimits(t *testing.T) {
	t.Parallel()
	d := limits.NewDocument(limits.Document{})
	for _, wc := range limits.WorstCases(7000) {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: wc.Query}, 15000)
		require.NoError(t, err, wc.Name)
		gerr := d.Check(doc)
		require.NotNil(t, gerr, wc.Name)
		require.Equal(t, "ELIMIT", gerr.Extensions["code"], wc.Name)
	}
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, wc := range limits.WithinLimits() {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: wc.Query}, 15000)
		require.NoError(t, err, wc.Name)
		require.Nil(t, d.Check(doc), wc.Name)
		require.Empty(t, validator.ValidateWithRules(s, doc, nil), wc.Name)
	}
}

// Each limit fires one past its value and not at it.
func TestDocumentLimitEdges(t *testing.T) {
	t.Parallel()
	d := limits.NewDocument(limits.Document{MaxOverlap: 3, MaxSelections: 6, MaxDirectivesAt: 1, MaxFragments: 1, MaxOperations: 1, MaxVariableDefs: 1, MaxSpreads: 2, MaxExpanded: 8})
	cases := []struct {
		q    string
		fail bool
	}{
		{"{ a a a }", false},               // 3 pairs
		{"{ a a a a }", true},              // 6 pairs
		{"{ a { b } a { b } }", false},     // a: 1, a/b: 1
		{"{ a { b b } a { b } }", true},    // a: 1, a/b: 3
		{"{ ... on Q { a a } a }", false},  // inline fragments merge: 3
		{"{ ... on Q { a a } a a }", true}, // 6
		{"{ a b c d e f }", false},         // 6 selections
		{"{ a b c d e f g }", true},        // 7
		{"{ a @x }", false},                // 1 directive in one place
		{"{ a @x @y }", true},              // 2
		{"{ ...F ...F } fragment F on Q { a }", false},
		{"{ ...F ...F ...F } fragment F on Q { a }", true},             // 3 spreads
		{"{ ...F } fragment F on Q { a } fragment G on Q { a }", true}, // 2 fragments
		{"query A { a } query B { a }", true},                          // 2 operations
		{"query($a: Int) { a }", false},                                // 1 variable
		{"query($a: Int, $b: Int) { a }", true},                        // 2
		{"{ ...F ...F } fragment F on Q { b c d }", true},              // expanded: 2+3+3 = 8, then the fragment's own 3
		{"{ ...F } fragment F on Q { ...F b }", false},                 // a cycle is left to validation
	}
	for _, c := range cases {
		doc, err := parser.ParseQuery(&ast.Source{Input: c.q})
		require.NoError(t, err, c.q)
		gerr := d.Check(doc)
		if c.fail {
			require.NotNil(t, gerr, c.q)
			require.Equal(t, "ELIMIT", gerr.Extensions["code"], c.q)
		} else {
			require.Nil(t, gerr, c.q)
		}
	}
}
