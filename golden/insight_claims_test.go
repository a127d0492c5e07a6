package golden_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// TestGoldenInsightWordsPassTheClaimChecker: every insight title and
// summary in the committed golden outputs passes claims.Check with its own
// grade, its sample size and its metric's display name; a direction may be
// stated for every kind but DATA_GAP (the loop's rule: only findings whose
// test passed the evening's false-discovery level become insights). The
// title alone is checked for its words as well (issue #12).
func TestGoldenInsightWordsPassTheClaimChecker(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, name := range cases(t) {
		raw, err := os.ReadFile(filepath.Join("testdata", name, "expected.json"))
		require.NoError(t, err)
		var out output
		require.NoError(t, json.Unmarshal(raw, &out))
		for _, in := range out.Insights {
			m, ok := metrics.Lookup(in["metric"].(string))
			require.True(t, ok, "%s: unknown metric %v", name, in["metric"])
			ctx := claims.Context{
				Grade:              evidence.Grade(in["evidenceGrade"].(string)),
				DirectionSupported: in["kind"] != "DATA_GAP",
				N:                  int(in["sampleSize"].(float64)),
				Coverage:           math.NaN(),
				Names:              []string{m.Name},
			}
			title, summary := in["title"].(string), in["summary"].(string)
			require.Empty(t, claims.Check(title+". "+summary, ctx), "%s %s: %q / %q", name, in["id"], title, summary)
			for _, v := range claims.Check(title, ctx) {
				require.Negative(t, v.Offset, "%s %s title %q: %s", name, in["id"], title, v.Message)
			}
			checked++
		}
	}
	require.Positive(t, checked)
}
