package limits_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// Duplicate keys are found in small objects (scanned) and large ones (a
// map past 16 keys), before and after the switch, and named with their path.
func TestEnvelopeDuplicateKeys(t *testing.T) {
	t.Parallel()
	obj := func(n int, dup string) string {
		parts := make([]string, 0, n+1)
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"k%d":%d`, i, i))
		}
		if dup != "" {
			parts = append(parts, fmt.Sprintf(`"%s":{"z":[1,{"a":1}]}`, dup))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	body := func(vars string) []byte {
		return []byte(`{"query":"{ me { id } }","variables":{"input":[{"a":1},` + vars + `]}}`)
	}
	for _, n := range []int{0, 5, 16, 17, 40} {
		require.NoError(t, limits.CheckEnvelope(body(obj(n, ""))), n)
		require.NoError(t, limits.CheckEnvelope(body(obj(n, "fresh"))), n)
	}
	for _, c := range []struct {
		n   int
		dup string
	}{{5, "k0"}, {5, "k4"}, {16, "k15"}, {17, "k3"}, {17, "k16"}, {40, "k39"}, {40, "k2"}} {
		err := limits.CheckEnvelope(body(obj(c.n, c.dup)))
		require.Error(t, err, c)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		require.Contains(t, err.Error(), fmt.Sprintf(`duplicate key %q in variables.input`, c.dup))
	}
	deep := `{"query":"{ me { id } }","extensions":{"x":{"y":{"w":1},"v":{"u":1,"u":2}}}}`
	require.ErrorContains(t, limits.CheckEnvelope([]byte(deep)), `duplicate key "u" in extensions.x.v`)
}

// The single-pass scanner agrees with a decoder on what JSON means: escaped
// keys are compared decoded, strings may hold any delimiter, whitespace goes
// anywhere, nesting stops at 64 levels, and anything after the object or a
// wrong envelope type is refused.
func TestEnvelopeScanner(t *testing.T) {
	t.Parallel()
	nested := func(n int) string { // n nested arrays as the value of variables.x
		return `{"query":"{ me { id } }","variables":{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
	}
	ok := []string{
		`{"query":"{ me { id } }"}`,
		" \n{ \"query\" : \"{ me { id } }\" , \"variables\" : { \"a\" : [ 1 , 2.5e3 , -0 , true , false , null , \"}]{[,:\\\"\" ] } }\n",
		`{"query":"q","variables":{"a\"b":1,"a\\b":2,"ab":3}}`,
		`{"query":"q","variables":{"é":1,"\u00e8":2},"operationName":null,"extensions":null}`,
		`{"query":"q","variables":{"a":{"a":{"a":1}},"b":[{"a":1},{"a":1}]}}`,
		nested(63), // variables is level 1, x's arrays levels 2–64
	}
	for _, b := range ok {
		require.NoError(t, limits.CheckEnvelope([]byte(b)), b)
	}
	bad := map[string]string{
		`{"query":"q","variables":{"a":1,"\u0061":2}}`:      `duplicate key "a" in variables`,
		`{"query":"q","\u0071uery":"r"}`:                    `duplicate key "query" in the request body`,
		`{"query":"q","variables":{"a\"b":1,"a\u0022b":2}}`: `duplicate key "a\"b" in variables`,
		nested(64):                         `variables.x is nested more than 64 levels deep`,
		`{"query":"q"} {}`:                 `request body must be one JSON object`,
		`{"query":"q"`:                     `request body must be one JSON object`,
		`["query"]`:                        `request body must be one JSON object`,
		`{"query":1}`:                      `query must be a string`,
		`{"query":"q","operationName":[]}`: `operationName must be a string or null`,
		`{"query":"q","variables":"{}"}`:   `variables must be an object or null`,
		`{"query":"q","extensions":[{}]}`:  `extensions must be an object or null`,
		`{"query":"q","variables":{"a":{"b":1},"c":{"b":1,"b":2}}}`: `duplicate key "b" in variables.c`,
	}
	for b, msg := range bad {
		err := limits.CheckEnvelope([]byte(b))
		require.Error(t, err, b)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err), b)
		require.Contains(t, err.Error(), msg, b)
	}
	require.ErrorContains(t, limits.CheckJSONObjectParam("variables", `{"a":{"b":[1,{"c":1,"c":1}]}}`), `duplicate key "c" in variables.a.b`)
	require.ErrorContains(t, limits.CheckJSONObjectParam("variables", `[1]`), "variables must be a JSON object")
	require.NoError(t, limits.CheckJSONObjectParam("variables", `{"a":1}`))
}

// A 1000-sample ingestion body is checked with a few allocations per
// request, none per key or value: the envelope check runs on every request,
// before gqlgen's own decoding (the json.Decoder token walk it replaced
// allocated for every token).
func TestEnvelopeCheckDoesNotAllocate(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"query":"mutation($input: [ObservationInput!]!) { ingestObservations(input: $input) { inserted } }","variables":{"input":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":"steps","value":%d,"unit":"count","observedAt":"2024-01-01T00:%02d:00Z","localDay":"2024-01-01","utcOffsetSeconds":0,"source":"api"}`, 5000+i, i%60)
	}
	b.WriteString(`]}}`)
	body := []byte(b.String())
	require.NoError(t, limits.CheckEnvelope(body))
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	require.LessOrEqual(t, testing.AllocsPerRun(5, func() { _ = limits.CheckEnvelope(body) }), 2.0)
}
