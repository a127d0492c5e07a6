package providers

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// AppleRecord is one <Record> of an Apple Health export.xml, with the
// attributes the import reads. Dates are "2006-01-02 15:04:05 -0700" in the
// device's local time.
type AppleRecord struct {
	Type       string // HKQuantityTypeIdentifier…
	SourceName string // the app or device that wrote it (iPhone, Watch…)
	Unit       string // HKUnit string: count, ms, count/min
	StartDate  string
	Value      string
}

// AppleDateLayout is the date format of export.xml.
const AppleDateLayout = "2006-01-02 15:04:05 -0700"

// AppleDaily turns the raw records of an export.xml into one sample per
// metric and local day, with the same metric mapping as ParseHealthKit:
// HKStepCount → steps, HKHRVSDNN → hrv_sdnn (SDNN, never RMSSD),
// HKRestingHeartRate → resting_hr. Raw samples are aggregated per local
// day of their start (at the record's own offset):
//
//   - steps: summed per source, and the day's value is the largest source
//     total (iPhone and Watch both count the same steps; adding them would
//     double-count, and HealthKit's own de-duplication is not in the export);
//   - hrv_sdnn and resting_hr: the mean of the day's samples of all sources.
//
// The memory it holds grows with days × metrics × sources, never with the
// number of records, so a multi-gigabyte export streams through it. It is
// not safe for concurrent use.
type AppleDaily struct {
	days    map[appleKey]*appleAgg
	Skipped map[string]int // records not used, by reason
}

type appleKey struct {
	metric, day string
}

type appleAgg struct {
	unit   string
	offset int
	at     time.Time          // the day's local midnight, UTC instant
	sums   map[string]float64 // steps: per source
	sum    float64            // averages: running sum
	n      int
}

// NewAppleDaily returns an empty aggregator.
func NewAppleDaily() *AppleDaily {
	return &AppleDaily{days: map[appleKey]*appleAgg{}, Skipped: map[string]int{}}
}

// Add aggregates one record; records of other types, with unparseable
// dates or values, or in a unit the metric does not accept, are counted in
// Skipped and otherwise ignored.
func (a *AppleDaily) Add(r AppleRecord) {
	var metric string
	switch r.Type {
	case HKStepCount:
		metric = metrics.KeySteps
	case HKHRVSDNN:
		metric = metrics.KeyHRVSDNN
	case HKRestingHeartRate:
		metric = metrics.KeyRestingHR
	default:
		a.Skipped["unsupported type"]++
		return
	}
	start, err := time.Parse(AppleDateLayout, r.StartDate)
	if err != nil {
		a.Skipped["bad startDate"]++
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(r.Value), 64)
	if err != nil {
		a.Skipped["bad value"]++
		return
	}
	_, off := start.Zone()
	local := start.In(time.FixedZone("", off))
	day := local.Format(time.DateOnly)
	k := appleKey{metric: metric, day: day}
	agg := a.days[k]
	if agg == nil {
		midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
		agg = &appleAgg{unit: r.Unit, offset: off, at: midnight.UTC(), sums: map[string]float64{}}
		a.days[k] = agg
	}
	if r.Unit != agg.unit {
		a.Skipped["unit differs within a day"]++
		return
	}
	if metric == metrics.KeySteps {
		agg.sums[r.SourceName] += v
		return
	}
	agg.sum += v
	agg.n++
}

// Samples returns the daily samples (source apple_health), sorted by local
// day and metric, so the same export always yields the same samples in the
// same order (the import's chunks, and so their idempotency keys, repeat on
// a re-run). Each is observed at the local midnight starting its day.
func (a *AppleDaily) Samples() []metrics.Sample {
	keys := make([]appleKey, 0, len(a.days))
	for k := range a.days {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].day != keys[j].day {
			return keys[i].day < keys[j].day
		}
		return keys[i].metric < keys[j].metric
	})
	out := make([]metrics.Sample, 0, len(keys))
	for _, k := range keys {
		agg := a.days[k]
		var v float64
		if k.metric == metrics.KeySteps {
			best := ""
			for src, s := range agg.sums {
				if best == "" || s > agg.sums[best] || (s == agg.sums[best] && src < best) {
					best = src
				}
			}
			if best == "" {
				continue
			}
			v = agg.sums[best]
		} else {
			if agg.n == 0 {
				continue
			}
			v = agg.sum / float64(agg.n)
		}
		out = append(out, metrics.Sample{
			Metric: k.metric, Value: v, Unit: agg.unit, ObservedAt: agg.at, LocalDay: k.day,
			UTCOffsetSeconds: agg.offset, Source: metrics.SourceAppleHealth,
		})
	}
	return out
}
