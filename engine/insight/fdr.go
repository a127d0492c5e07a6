package insight

import (
	"math"
	"slices"
)

// FDRLevel is the false-discovery rate q at which the evening's tests are
// controlled (docs/domain.md §5: Benjamini–Hochberg for passive insights).
const FDRLevel = 0.05

// BHThreshold returns the Benjamini–Hochberg rejection threshold for the
// p-values ps at level q: the largest p₍ₖ₎ with p₍ₖ₎ ≤ k·q/m (m = len(ps)),
// or 0 when none qualifies, so that exactly the tests with p ≤ the
// threshold are rejected (Benjamini & Hochberg 1995, JRSS B 57; R
// p.adjust(method = "BH")). NaN p-values count as 1.
func BHThreshold(ps []float64, q float64) float64 {
	m := len(ps)
	if m == 0 {
		return 0
	}
	s := make([]float64, m)
	for i, p := range ps {
		if math.IsNaN(p) {
			p = 1
		}
		s[i] = p
	}
	slices.Sort(s)
	for k := m; k >= 1; k-- {
		if s[k-1] <= float64(k)*q/float64(m) {
			return s[k-1]
		}
	}
	return 0
}
