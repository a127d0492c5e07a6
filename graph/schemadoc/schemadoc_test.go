package schemadoc

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vitalgraph/vitalgraph/engine/safety"
)

// TestEveryPlaceOfTheSchemaIsDescribed: every type, field, argument, input
// field and enum value of the executable schema has a description; there is
// no list of exceptions.
func TestEveryPlaceOfTheSchemaIsDescribed(t *testing.T) {
	t.Parallel()
	got := Undocumented(Schema())
	sort.Strings(got)
	require.Empty(t, got, "describe these in the .graphqls (a description string), the ent schema "+
		"(field.Comment, edge.Comment, schema.Comment) or, for enum values, ent/schema/gqldoc")
}

func TestUndocumentedFindsEveryKindOfGap(t *testing.T) {
	t.Parallel()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "t.graphql", Input: `
"described" type Query { "described" a(x: Int, "described" y: Int): E b: Int }
enum E { "described" ONE TWO }
input I { "described" c: Int d: Int }
scalar S
`})
	require.NoError(t, err)
	got := Undocumented(s)
	sort.Strings(got)
	require.Equal(t, []string{"E", "E.TWO", "I", "I.d", "Query.a(x)", "Query.b", "S"}, got)
}

func TestEnumsAreTheEngines(t *testing.T) {
	t.Parallel()
	s := Schema()
	values := func(name string) []string {
		def := s.Types[name]
		require.NotNil(t, def, name)
		out := make([]string, len(def.EnumValues))
		for i, v := range def.EnumValues {
			out[i] = v.Name
		}
		return out
	}
	require.Equal(t, safety.ProtocolKind("").Values(), values("ProtocolKind"))
	require.Equal(t, safety.Flag("").Values(), values("SafetyFlag"))
	require.Subset(t, values("ProviderConnectionProvider"), []string{"WHOOP", "OURA", "APPLE_HEALTH"})
	for _, f := range []struct{ typ, field, arg, want string }{
		{"Mutation", "ingestProviderPayload", "provider", "ProviderConnectionProvider"},
		{"Mutation", "setProviderConnection", "provider", "ProviderConnectionProvider"},
		{"StartInterventionInput", "protocolKind", "", "ProtocolKind"},
		{"Intervention", "protocolKind", "", "ProtocolKind"},
		{"Mutation", "updateSafetyFlags", "flags", "SafetyFlag"},
		{"MetricInfo", "direction", "", "MetricDirection"},
	} {
		fd := s.Types[f.typ].Fields.ForName(f.field)
		require.NotNil(t, fd, f.typ+"."+f.field)
		typ := fd.Type
		if f.arg != "" {
			typ = fd.Arguments.ForName(f.arg).Type
		}
		require.Equal(t, f.want, typ.Name(), f.typ+"."+f.field+" "+f.arg)
	}
}

// TestOneIDCasing: every field or argument naming an id ends in "ID".
func TestOneIDCasing(t *testing.T) {
	t.Parallel()
	var bad []string
	for name, def := range Schema().Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.Contains(f.Name, "Id") && !strings.Contains(f.Name, "Ident") {
				bad = append(bad, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if strings.Contains(a.Name, "Id") {
					bad = append(bad, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
	}
	require.Empty(t, bad)
}
