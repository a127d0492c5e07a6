package providers_test

import (
	"testing"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// FuzzParse checks that no parser panics, that every error is EINVALID, and
// that parsed samples never repeat a natural key within one payload.
func FuzzParse(f *testing.F) {
	f.Add(uint8(0), page(whoopSleep(sleepID, "2026-03-08T04:00:00.000Z", "2026-03-08T11:00:00.000Z", "-04:00",
		providers.WhoopScored, false, 12_600_000, 4_800_000, 5_400_000, 25_200_000)))
	f.Add(uint8(0), `{"recovery": `+page(whoopRecovery("1", sleepID, "SCORED", "2026-03-08T11:25:44.774Z", "", recoveryScore))+`}`)
	f.Add(uint8(1), ouraPage(ouraSleep("s1", "2026-03-08", "2026-03-07T23:30:00-05:00", "2026-03-08T07:00:00-04:00", "long_sleep", 22800, 23400), ouraReadiness))
	f.Add(uint8(2), `{"statistics": [{"type": "HKQuantityTypeIdentifierStepCount", "start": "2026-03-08T00:00:00-05:00", "sum": 1, "unit": "count"}]}`)
	f.Add(uint8(0), `{"records": [{"nap": false, "start": "+99999-01-01T00:00:00Z", "end": "2026-03-08T11:00:00Z", "timezone_offset": "+99:99"}]}`)
	provs := []string{metrics.SourceWhoop, metrics.SourceOura, metrics.SourceAppleHealth}
	f.Fuzz(func(t *testing.T, which uint8, payload string) {
		res, err := providers.Parse(provs[int(which)%len(provs)], []byte(payload))
		if err != nil {
			if engine.ErrorCode(err) != engine.EINVALID {
				t.Fatalf("error code %q: %v", engine.ErrorCode(err), err)
			}
			return
		}
		type key struct {
			metric, day string
			at          time.Time
		}
		seen := map[key]bool{}
		for _, s := range res.Samples {
			k := key{s.Metric, s.LocalDay, s.ObservedAt}
			if seen[k] {
				t.Fatalf("duplicate sample %+v", s)
			}
			seen[k] = true
			if _, ok := metrics.Lookup(s.Metric); !ok {
				t.Fatalf("unknown metric %q", s.Metric)
			}
		}
	})
}
