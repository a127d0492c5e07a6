package limits_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vitalgraph/vitalgraph/server/limits"
)

// A recursive schema with nested connections, which Vitalgraph's own schema
// does not (yet) have.
const schema = `
type Query { user(id: ID!): User, users(first: Int, last: Int): UserConnection! }
type User { id: ID! name: String friends(first: Int, last: Int): UserConnection! best: User }
type UserConnection { edges: [UserEdge!]! totalCount: Int! }
type UserEdge { node: User! }
`

func measure(t *testing.T, o limits.Operation, q string, vars map[string]any) (limits.Stats, string) {
	t.Helper()
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQueryWithRules(s, q, nil)
	require.Empty(t, errs)
	st, err := o.Measure(doc, doc.Operations[0], vars)
	if err != nil {
		return st, err.Extensions["code"].(string)
	}
	return st, ""
}

func TestOperationLimits(t *testing.T) {
	t.Parallel()
	nested := func(n int) string {
		return "{ user(id: 1) { " + strings.Repeat("best { ", n) + "id" + strings.Repeat(" }", n) + " } }"
	}
	cases := []struct {
		name string
		q    string
		vars map[string]any
		code string
		cost int
	}{
		{"small", `{ user(id: 1) { id name } }`, nil, "", 3},
		{"depth at the limit", nested(10), nil, "", 0},
		{"depth bomb (50 levels)", nested(50), nil, "ELIMIT", 0},
		{"deep fragment chain", `{ ...A } fragment A on Query { user(id: 1) { ...B } } fragment B on User { best { ...C } }
			fragment C on User { best { best { best { best { best { best { best { best { best { best { best { id } } } } } } } } } } } }`, nil, "ELIMIT", 0},
		{"connection cost is first × children", `{ users(first: 10) { edges { node { id name } } } }`, nil, "", 1 + 10*(1+1+2)},
		{"connection without first costs the default page", `{ users { totalCount } }`, nil, "", 1 + 20*1},
		{"first from a variable", `query($n: Int) { users(first: $n) { totalCount } }`, map[string]any{"n": int64(50)}, "", 1 + 50},
		{"nested connections bomb", `{ users(first: 100) { edges { node { friends(first: 100) { edges { node { id } } } } } } }`, nil, "ELIMIT", 0},
		{"huge first", `{ users(first: 2147483647) { totalCount } }`, nil, "ELIMIT", 0},
		{"aliases", "{ " + strings.Repeat("u: user(id: 1) { id } ", 1) + " }", nil, "", 2},
		{"too many aliases", "{ user(id: 1) { " + func() string {
			var b strings.Builder
			for i := range 31 {
				b.WriteString("a" + strings.Repeat("x", i) + ": id ")
			}
			return b.String()
		}() + "} }", nil, "ELIMIT", 0},
		{"too many root fields", "{ " + strings.Repeat("user(id: 1) { id } ", 11) + "}", nil, "ELIMIT", 0},
		{"introspection refused", `{ __schema { types { name } } }`, nil, "EFORBIDDEN", 0},
		{"__typename is free", `{ __typename }`, nil, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, code := measure(t, limits.Operation{}, tc.q, tc.vars)
			require.Equal(t, tc.code, code)
			if tc.code == "" && tc.cost > 0 {
				require.Equal(t, tc.cost, st.Cost)
			}
		})
	}
}

func TestFragmentCycleIsSafe(t *testing.T) {
	t.Parallel()
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	// Validation rejects cycles, so build the document without it.
	doc, err := gqlparser.LoadQueryWithRules(s, `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, nil)
	_ = err
	if doc == nil {
		t.Skip("parser refused the document")
	}
	_, gerr := limits.Operation{}.Measure(doc, doc.Operations[0], nil)
	require.NotNil(t, gerr)
	require.Equal(t, "EINVALID", gerr.Extensions["code"])
}
