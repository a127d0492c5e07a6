package ingest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// The content hash's lines are byte for byte what json.Marshal wrote
// before hashLine replaced it (stored hashes are compared on replay).
func TestContentHashLinesAreJSONMarshal(t *testing.T) {
	marshal := func(c metrics.Checked) string {
		b, _ := json.Marshal([]any{
			c.Sample.Metric, c.Sample.Source, c.Sample.LocalDay,
			c.Sample.ObservedAt.UTC().Format(time.RFC3339Nano), c.Value, c.Unit, c.Missing,
		})
		return string(b)
	}
	strs := []string{"", "resting_hr", "a\"b", `back\slash`, "<script>&", "tab\there", "\x00\x1f\x7f", "é ü 日本", "\u2028\u2029", "bad \xff utf8", "emoji 🫀"}
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 55.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 1e20, 1e21, 1.234e21, -3e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.NaN(), 123456789.123456789}
	times := []time.Time{
		time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 7, 0, 0, 123456789, time.FixedZone("", 7200)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1000, time.FixedZone("", -18000)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	var buf []byte
	for range 5000 {
		c := metrics.Checked{
			Sample: metrics.Sample{Metric: pick(strs), Source: pick(strs), LocalDay: pick(strs), ObservedAt: times[r.IntN(len(times))]},
			Value:  vals[r.IntN(len(vals))], Unit: pick(strs), Missing: r.IntN(2) == 0,
		}
		if r.IntN(3) == 0 {
			c.Value = r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30))
		}
		buf = hashLine(buf[:0], c)
		require.Equal(t, marshal(c), string(buf), "%+v", c)
	}
}
