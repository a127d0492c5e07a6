package insight

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBHThresholdByHand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ps   []float64
		want float64
	}{
		// m = 5, q = 0.05: bounds 0.01, 0.02, 0.03, 0.04, 0.05.
		{"two rejected", []float64{0.001, 0.015, 0.2, 0.5, 0.9}, 0.015},
		{"step-up passes a later one", []float64{0.02, 0.025, 0.03, 0.035, 0.9}, 0.035},
		{"none", []float64{0.02, 0.5, 0.6, 0.7, 0.9}, 0},
		{"empty", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.want, BHThreshold(tc.ps, 0.05), 1e-12)
		})
	}
}

// Under the global null, BH at q controls the family-wise error at q.
func TestBHThresholdNullRate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	const runs, m = 20000, 15
	hits := 0
	ps := make([]float64, m)
	for range runs {
		for i := range ps {
			ps[i] = rng.Float64()
		}
		if BHThreshold(ps, FDRLevel) > 0 {
			hits++
		}
	}
	rate := float64(hits) / runs
	require.InDelta(t, FDRLevel, rate, 0.006)
}
