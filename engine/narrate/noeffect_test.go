package narrate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// TestNoEffectSignalSaysCantTell: a grade-C result whose phases overlap
// (NAP ≈ 0.5, CI includes 0) is worded "we can't tell" and still passes the
// claim policy of its grade.
func TestNoEffectSignalSaysCantTell(t *testing.T) {
	t.Parallel()
	f := g1()
	f.Grade, f.Delta, f.CILow, f.CIHigh = evidence.GradeC, -2.3, -8.8, 4.2
	without := Template(f)
	require.Contains(t, without.Text, "may have")
	f.NoEffectSignal = true
	n := Template(f)
	require.True(t, strings.HasPrefix(n.Text, "We can't tell whether"), n.Text)
	require.NotContains(t, n.Text, "may have")
	require.Empty(t, claims.Check(n.Text, f.ClaimContext()))
}
