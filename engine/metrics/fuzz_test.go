package metrics_test

import (
	"math"
	"testing"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// knownCodes is every problem code ValidateBatch may report.
var knownCodes = map[string]bool{
	metrics.CodeUnknownMetric: true, metrics.CodeBadUnit: true, metrics.CodeNotFinite: true,
	metrics.CodeOutOfRange: true, metrics.CodeFutureTimestamp: true, metrics.CodeWrongLocalDay: true,
	metrics.CodeBadOffset: true, metrics.CodeBadSource: true, metrics.CodeMissingField: true,
	metrics.CodeDuplicateInBatch: true, metrics.CodeBatchTooLarge: true, metrics.CodeEmptyBatch: true,
	metrics.CodeTooOld: true,
}

// FuzzValidateBatch checks that ValidateBatch never panics and that every
// sample is either accepted with a finite canonical value inside the reject
// range (or Missing) or has at least one problem. Each input yields a batch
// of the sample followed by copies variant times (exercising duplicates).
func FuzzValidateBatch(f *testing.F) {
	at := time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC).Unix()
	f.Add("resting_hr", 55.0, "bpm", at, int64(0), "2024-03-10", 0, "manual", uint8(0))
	f.Add("resting_hr", 24.99, "bpm", at, int64(0), "2024-03-10", 0, "oura", uint8(0))
	f.Add("hrv_rmssd", 0.0, "ms", at, int64(0), "2024-03-09", 3600, "whoop", uint8(1))
	f.Add("sleep_duration", 7.5, "Hours", at, int64(5), "2024-03-10", -18000, "fitbit", uint8(2))
	f.Add("skin_temperature", 98.6, "°F", at, int64(0), "2024-03-10", 50400, "oura", uint8(0))
	f.Add("skin_temp_deviation", 0.9, "degF", at, int64(0), "2024-03-10", -50400, "oura", uint8(0))
	f.Add("spo2", 0.97, "fraction", at, int64(0), "2024-3-10", 0, "apple_health", uint8(0))
	f.Add("steps", 100001.0, "count", at+86400, int64(0), "2024-03-11", 50401, "api", uint8(0))
	f.Add("", math.NaN(), "", int64(0), int64(0), "", 0, "", uint8(0))
	f.Add("mood", math.Inf(1), "x", int64(math.MaxInt64), int64(-1), "0000-00-00", math.MinInt, "garmin", uint8(3))
	now := time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, metric string, value float64, unit string, sec, nsec int64,
		localDay string, offset int, source string, variant uint8,
	) {
		var observedAt time.Time
		if sec != 0 || nsec != 0 {
			observedAt = time.Unix(sec, nsec)
		}
		s := metrics.Sample{
			Metric: metric, Value: value, Unit: unit, ObservedAt: observedAt,
			LocalDay: localDay, UTCOffsetSeconds: offset, Source: source,
		}
		batch := []metrics.Sample{s}
		for range variant % 4 {
			batch = append(batch, s)
		}
		r := metrics.ValidateBatch(batch, now, metrics.Options{MaxBatch: 3})

		if len(batch) > 3 {
			if len(r.Problems) != 1 || r.Problems[0].Code != metrics.CodeBatchTooLarge || len(r.Accepted) != 0 {
				t.Fatalf("batch of %d: want one BATCH_TOO_LARGE, got %+v", len(batch), r)
			}
			return
		}
		failed := map[int]bool{}
		for _, p := range r.Problems {
			if p.Index < 0 || p.Index >= len(batch) || !knownCodes[p.Code] || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
			failed[p.Index] = true
		}
		for _, c := range r.Accepted {
			if failed[c.Index] {
				t.Fatalf("sample %d both accepted and failed", c.Index)
			}
			m, ok := metrics.Lookup(c.Sample.Metric)
			if !ok {
				t.Fatalf("accepted unknown metric %q", c.Sample.Metric)
			}
			if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
				t.Fatalf("accepted non-finite value %v", c.Value)
			}
			if c.Missing {
				if c.Value != 0 || !m.ZeroMeansMissing || !metrics.IsProvider(c.Sample.Source) {
					t.Fatalf("bad missing sample %+v", c)
				}
			} else if !m.RejectOutside.Contains(c.Value) {
				t.Fatalf("accepted %v outside %v", c.Value, m.RejectOutside)
			}
			if c.Unit != m.CanonicalUnit {
				t.Fatalf("accepted unit %q, want %q", c.Unit, m.CanonicalUnit)
			}
		}
		if len(r.Accepted)+len(failed) != len(batch) {
			t.Fatalf("%d accepted + %d failed != %d samples", len(r.Accepted), len(failed), len(batch))
		}
		if (r.Err() == nil) != (len(r.Problems) == 0) || (r.Err() != nil && engine.ErrorCode(r.Err()) != engine.EINVALID) {
			t.Fatalf("Err() = %v with %d problems", r.Err(), len(r.Problems))
		}
		if len(batch) > 1 && len(r.Accepted) > 1 {
			t.Fatalf("identical samples accepted twice")
		}
	})
}

// FuzzConvert checks that Convert and ConvertTo never panic, return finite
// values or an EINVALID error, and invert each other within 1e-9 relative.
func FuzzConvert(f *testing.F) {
	f.Add(uint8(0), 55.0, "bpm")
	f.Add(uint8(8), 7.5, "h")
	f.Add(uint8(8), 27000.0, "SEC")
	f.Add(uint8(8), math.MaxFloat64, "h")
	f.Add(uint8(7), 98.6, "°F")
	f.Add(uint8(6), -2.7, "f")
	f.Add(uint8(9), 0.87, "fraction")
	f.Add(uint8(1), math.NaN(), "ms")
	f.Add(uint8(1), math.Inf(-1), "ms")
	f.Add(uint8(3), 1.0, "")
	f.Add(uint8(4), 5e-324, "count/min")
	all := metrics.All()
	f.Fuzz(func(t *testing.T, which uint8, value float64, unit string) {
		m := all[int(which)%len(all)]
		c, err := metrics.Convert(m, value, unit)
		if err != nil {
			if engine.ErrorCode(err) != engine.EINVALID {
				t.Fatalf("Convert error code %q", engine.ErrorCode(err))
			}
			return
		}
		if math.IsNaN(c) || math.IsInf(c, 0) {
			t.Fatalf("Convert(%v %q) = %v", value, unit, c)
		}
		back, err := metrics.ConvertTo(m, c, unit)
		if err != nil {
			// Only a value at the edge of float64 may overflow on the way back.
			if math.Abs(value) < 1e300 {
				t.Fatalf("ConvertTo(%v %q): %v", c, unit, err)
			}
			return
		}
		if math.Abs(back-value) > 1e-9*math.Max(1, math.Abs(value)) {
			t.Fatalf("round trip %v %q → %v → %v", value, unit, c, back)
		}
	})
}
