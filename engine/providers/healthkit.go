package providers

import (
	"strconv"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// HealthKit quantity type identifiers understood by ParseHealthKit.
const (
	HKStepCount        = "HKQuantityTypeIdentifierStepCount"
	HKHRVSDNN          = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
	HKRestingHeartRate = "HKQuantityTypeIdentifierRestingHeartRate"
	// HKHRVRMSSD is listed by Apple for OS 27+ only (docs/domain.md §1); it is
	// skipped rather than guessed at.
	HKHRVRMSSD = "HKQuantityTypeIdentifierHeartRateVariabilityRMSSD"
)

// HealthKitStatistic is one daily HKStatistics value as an iOS client
// exports it from an HKStatisticsCollectionQuery with a one-day interval:
// Sum for cumulative types (steps, already de-duplicated across iPhone and
// Watch by HealthKit), Average for discrete types (SDNN, resting HR).
type HealthKitStatistic struct {
	Type    string   `json:"type"`              // HKQuantityTypeIdentifier…
	Start   string   `json:"start"`             // RFC 3339, local midnight with offset
	End     string   `json:"end"`               // RFC 3339
	Sum     *float64 `json:"sum,omitempty"`     // cumulative types
	Average *float64 `json:"average,omitempty"` // discrete types
	Unit    string   `json:"unit"`              // HKUnit string: "count", "ms", "count/min"
}

// HealthKitPayload is the statistics export.
type HealthKitPayload struct {
	Statistics []HealthKitStatistic `json:"statistics"`
}

// ParseHealthKit converts an Apple HealthKit statistics export into samples
// with Source "apple_health": HKStepCount sums → steps (count),
// HKHRVSDNN averages → hrv_sdnn (ms; SDNN is never stored as RMSSD) and
// HKRestingHeartRate averages → resting_hr (bpm). Each is observed at the
// statistic's start, on its local date. Raw samples are not accepted
// (iPhone and Watch samples double-count steps). Unknown types, RMSSD, a
// missing Sum/Average and unparseable times are skipped and reported; the
// RecordID is "<type>/<start>".
//
// It returns an *engine.Error with code EINVALID when payload is not JSON of
// that shape.
func ParseHealthKit(payload []byte) (Result, error) {
	top, err := decodeObject("HealthKit", payload)
	if err != nil {
		return Result{}, err
	}
	if !has(top, "statistics") {
		return Result{}, engine.Errorf(engine.EINVALID, "the HealthKit payload must hold \"statistics\"")
	}
	var p HealthKitPayload
	if err := strictUnmarshal(payload, &p); err != nil {
		return Result{}, invalidJSON("HealthKit", err)
	}
	b := newBuilder(metrics.SourceAppleHealth)
	for i, s := range p.Statistics {
		id := s.Type + "/" + s.Start
		if s.Type == "" {
			id = "statistics/" + strconv.Itoa(i)
		}
		var metric string
		var value *float64
		switch s.Type {
		case HKStepCount:
			metric, value = metrics.KeySteps, s.Sum
		case HKHRVSDNN:
			metric, value = metrics.KeyHRVSDNN, s.Average
		case HKRestingHeartRate:
			metric, value = metrics.KeyRestingHR, s.Average
		case HKHRVRMSSD:
			b.skip(id, "HealthKit RMSSD is not supported yet (OS 27+); SDNN is ingested as hrv_sdnn")
			continue
		default:
			b.skip(id, "unsupported HealthKit type %q", s.Type)
			continue
		}
		if value == nil {
			b.skip(id, "no sum or average for %s", s.Type)
			continue
		}
		start, err := parseTime(s.Start)
		if err != nil {
			b.skip(id, "start: %v", err)
			continue
		}
		b.add(id, metric, value, s.Unit, newAnchor(start, offsetOf(start)))
	}
	return b.res, nil
}
