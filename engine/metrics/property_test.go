package metrics_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// closeEnough is the round-trip tolerance: relative 1e-9, absolute 1e-9 near 0.
func closeEnough(tb testing.TB, want, got float64) {
	tb.Helper()
	require.LessOrEqual(tb, math.Abs(want-got), 1e-9*math.Max(1, math.Abs(want)), "want %v, got %v", want, got)
}

// spellings returns every accepted spelling of u plus an upper-cased and a
// space-padded variant of its token.
func spellings(u metrics.Unit) []string {
	return append([]string{u.Token, strings.ToUpper(u.Token), " " + u.Token + " "}, u.Aliases...)
}

// randomValidSample draws a sample that must pass validation: a canonical
// value strictly inside the reject range, expressed in a random accepted
// spelling, observed up to 400 days before now at a random offset, dated by
// its local date (or the day before for a night-derived metric). i makes the
// instant unique within a batch.
func randomValidSample(rng *rand.Rand, all []metrics.Metric, i int) metrics.Sample {
	m := all[rng.IntN(len(all))]
	lo, hi := m.RejectOutside.Min, m.RejectOutside.Max
	v := lo + (hi-lo)*(0.001+0.998*rng.Float64())
	u := m.Units[rng.IntN(len(m.Units))]
	sp := spellings(u)
	spelling := sp[rng.IntN(len(sp))]
	raw, err := metrics.ConvertTo(m, v, spelling)
	if err != nil {
		panic(err)
	}
	sources := []string{
		metrics.SourceWhoop, metrics.SourceOura, metrics.SourceFitbit,
		metrics.SourceAppleHealth, metrics.SourceManual, metrics.SourceAPI,
	}
	offset := (rng.IntN(113) - 56) * 15 * 60 // −14 h … +14 h in 15-minute steps
	at := now.Add(-time.Duration(rng.Int64N(400*24*3600))*time.Second - time.Duration(i))
	day := series.Truncate(at.In(time.FixedZone("", offset)))
	if m.NightDerived && rng.IntN(2) == 0 {
		day = series.AddDays(day, -1)
	}
	return metrics.Sample{
		Metric: m.Key, Value: raw, Unit: spelling, ObservedAt: at,
		LocalDay: day.Format(time.DateOnly), UTCOffsetSeconds: offset,
		Source: sources[rng.IntN(len(sources))],
	}
}

func TestPropertyRandomValidSamplesValidate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20240310, 1))
	all := metrics.All()
	for iter := range 300 {
		batch := make([]metrics.Sample, 1+rng.IntN(60))
		for i := range batch {
			batch[i] = randomValidSample(rng, all, i)
		}
		r := metrics.ValidateBatch(batch, now, metrics.Options{})
		require.Empty(t, r.Problems, "iteration %d", iter)
		require.Len(t, r.Accepted, len(batch))
		for i, c := range r.Accepted {
			m, _ := metrics.Lookup(batch[i].Metric)
			require.Equal(t, i, c.Index)
			require.False(t, c.Missing)
			require.True(t, m.RejectOutside.Contains(c.Value))
			require.Equal(t, m.CanonicalUnit, c.Unit)
		}
	}
}

func TestPropertyConversionRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for _, m := range metrics.All() {
		for _, u := range m.Units {
			seed := rng.Uint64()
			t.Run(m.Key+"/"+u.Token, func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(seed, 0))
				for range 1000 {
					// canonical → unit → canonical, inside the accepted range.
					lo, hi := m.RejectOutside.Min, m.RejectOutside.Max
					v := lo + (hi-lo)*rng.Float64()
					raw, err := metrics.ConvertTo(m, v, u.Token)
					require.NoError(t, err)
					back, err := metrics.Convert(m, raw, u.Token)
					require.NoError(t, err)
					closeEnough(t, v, back)

					// unit → canonical → unit, over a wide range.
					x := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(13)-6))
					c, err := metrics.Convert(m, x, u.Token)
					require.NoError(t, err)
					again, err := metrics.ConvertTo(m, c, u.Token)
					require.NoError(t, err)
					closeEnough(t, x, again)
				}
			})
		}
	}
}
