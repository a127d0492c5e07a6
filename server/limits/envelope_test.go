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
