package metrics

import (
	"cmp"
	"math"
	"slices"
)

// Canonical metric keys.
const (
	KeyRestingHR         = "resting_hr"
	KeyHRVRMSSD          = "hrv_rmssd"
	KeyHRVSDNN           = "hrv_sdnn"
	KeySleepDuration     = "sleep_duration"
	KeySleepEfficiency   = "sleep_efficiency"
	KeyRecoveryScore     = "recovery_score"
	KeyReadinessScore    = "readiness_score"
	KeyStrain            = "strain"
	KeySteps             = "steps"
	KeySkinTempDeviation = "skin_temp_deviation"
	KeySkinTemperature   = "skin_temperature"
	KeyRespiratoryRate   = "respiratory_rate"
	KeySpO2              = "spo2"
)

// DefaultLagDays is the default lag/washout before an effect is expected
// (docs/domain.md §2: L = 2 days for sleep/HRV, configurable). Every metric uses
// it until a metric-specific value is justified; evaluation may override it.
const DefaultLagDays = 2

// unitAliases lists the accepted alternative spellings of each unit token
// (lower case). It is read-only after package initialization.
var unitAliases = map[string][]string{
	UnitBPM:              {"beats/min", "count/min", "1/min"},
	UnitBreathsPerMinute: {"brpm", "breaths/minute", "count/min", "1/min"},
	UnitMillisecond:      {"msec", "millisecond", "milliseconds"},
	UnitSecond:           {"sec", "secs", "second", "seconds"},
	UnitMinute:           {"mins", "minute", "minutes"},
	UnitHour:             {"hr", "hrs", "hour", "hours"},
	UnitPercent:          {"%", "pct"},
	UnitFraction:         {"ratio"},
	UnitCount:            {"steps", "count/day", "steps/day"},
	UnitCelsius:          {"°c", "℃", "degc", "c"},
	UnitFahrenheit:       {"°f", "℉", "degf", "f"},
	UnitScore:            nil,
}

// unit returns the Unit token with canonical = (value + shift) × num ÷ den.
func unit(token string, num, den, shift float64) Unit {
	return Unit{Token: token, Aliases: unitAliases[token], Num: num, Den: den, Shift: shift}
}

// canonical returns the identity Unit for token.
func canonical(token string) Unit { return unit(token, 1, 1, 0) }

// closed is [lo, hi]; openClosed is (lo, hi]; atLeast is [lo, +Inf);
// atMost is (−Inf, hi]; anyValue is (−Inf, +Inf).
func closed(lo, hi float64) Range     { return Range{Min: lo, Max: hi} }
func openClosed(lo, hi float64) Range { return Range{Min: lo, Max: hi, MinExclusive: true} }
func atLeast(lo float64) Range        { return Range{Min: lo, Max: math.Inf(1)} }
func atMost(hi float64) Range         { return Range{Min: math.Inf(-1), Max: hi} }
func anyValue() Range                 { return Range{Min: math.Inf(-1), Max: math.Inf(1)} }

// Conversions: time units are exact SI ratios; °F → °C is (F − 32) × 5/9 for
// absolute temperatures and × 5/9 for differences (NIST SP 811 §B.9).
var (
	secondsToMin = unit(UnitSecond, 1, 60, 0)
	hoursToMin   = unit(UnitHour, 60, 1, 0)
	msToMin      = unit(UnitMillisecond, 1, 60000, 0)
	fractionToPc = unit(UnitFraction, 100, 1, 0)
	fToCAbsolute = unit(UnitFahrenheit, 5, 9, -32)
	fToCDelta    = unit(UnitFahrenheit, 5, 9, 0)
)

// registry holds every metric by key. Ranges follow docs/domain.md §1 "Range
// checks". It is read-only after package initialization; Lookup and All
// return deep copies.
var registry = func() map[string]Metric {
	ms := []Metric{
		{
			Key: KeyRestingHR, Name: "Resting heart rate", CanonicalUnit: UnitBPM,
			Units:         []Unit{canonical(UnitBPM)},
			RejectOutside: closed(25, 130), FlagOutside: closed(35, 100),
			Direction: LowerIsBetter, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 2.5, MinImportantDiff: 1.5, Decimals: 0,
		},
		{
			Key: KeyHRVRMSSD, Name: "Heart rate variability (RMSSD)", CanonicalUnit: UnitMillisecond,
			Units:         []Unit{canonical(UnitMillisecond)},
			RejectOutside: openClosed(0, 300), FlagOutside: closed(10, 200),
			Direction: HigherIsBetter, LnTransform: true, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 0.15, MinImportantDiff: 0.05, Decimals: 0,
		},
		{
			// Apple HealthKit reports SDNN, which must not be pooled with
			// RMSSD (docs/domain.md main point 1); the ranges are RMSSD's.
			Key: KeyHRVSDNN, Name: "Heart rate variability (SDNN)", CanonicalUnit: UnitMillisecond,
			Units:         []Unit{canonical(UnitMillisecond)},
			RejectOutside: openClosed(0, 300), FlagOutside: closed(10, 200),
			Direction: HigherIsBetter, LnTransform: true, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 0.15, MinImportantDiff: 0.05, Decimals: 0,
		},
		{
			Key: KeySleepDuration, Name: "Sleep duration", CanonicalUnit: UnitMinute,
			Units:         []Unit{canonical(UnitMinute), secondsToMin, hoursToMin, msToMin},
			RejectOutside: closed(0, 960), FlagOutside: closed(180, 720),
			Direction: HigherIsBetter, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 30, MinImportantDiff: 15, Decimals: 0,
		},
		{
			Key: KeySleepEfficiency, Name: "Sleep efficiency", CanonicalUnit: UnitPercent,
			Units:         []Unit{canonical(UnitPercent), fractionToPc},
			RejectOutside: closed(0, 100), FlagOutside: atLeast(50),
			Direction: HigherIsBetter, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 4, MinImportantDiff: 2, Decimals: 0,
		},
		{
			Key: KeyRecoveryScore, Name: "Recovery score", CanonicalUnit: UnitScore,
			Units:         []Unit{canonical(UnitScore), canonical(UnitPercent)},
			RejectOutside: closed(0, 100), FlagOutside: anyValue(),
			Direction: HigherIsBetter, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 15, MinImportantDiff: 5, Decimals: 0,
		},
		{
			Key: KeyReadinessScore, Name: "Readiness score", CanonicalUnit: UnitScore,
			Units:         []Unit{canonical(UnitScore), canonical(UnitPercent)},
			RejectOutside: closed(0, 100), FlagOutside: anyValue(),
			Direction: HigherIsBetter, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 8, MinImportantDiff: 4, Decimals: 0,
		},
		{
			Key: KeyStrain, Name: "Strain", CanonicalUnit: UnitScore,
			Units:         []Unit{canonical(UnitScore)},
			RejectOutside: closed(0, 21), FlagOutside: anyValue(),
			Direction: Neutral,
			TypicalSD: 3, MinImportantDiff: 1, Decimals: 1,
		},
		{
			// docs/domain.md also flags 0 steps on a worn day; wear time is not
			// part of a sample, so that flag belongs to a later stage.
			Key: KeySteps, Name: "Steps", CanonicalUnit: UnitCount,
			Units:         []Unit{canonical(UnitCount)},
			RejectOutside: closed(0, 100000), FlagOutside: atMost(50000),
			Direction: HigherIsBetter,
			TypicalSD: 2500, MinImportantDiff: 1000, Decimals: 0,
		},
		{
			// A deviation of exactly 0 is a real value (at baseline), so
			// zeros are not treated as missing.
			Key: KeySkinTempDeviation, Name: "Skin temperature deviation", CanonicalUnit: UnitCelsius,
			Units:         []Unit{canonical(UnitCelsius), fToCDelta},
			RejectOutside: closed(-5, 5), FlagOutside: closed(-1.5, 0.6),
			Direction: Neutral, NightDerived: true,
			TypicalSD: 0.3, MinImportantDiff: 0.2, Decimals: 1,
		},
		{
			Key: KeySkinTemperature, Name: "Skin temperature", CanonicalUnit: UnitCelsius,
			Units:         []Unit{canonical(UnitCelsius), fToCAbsolute},
			RejectOutside: closed(30, 40), FlagOutside: anyValue(),
			Direction: Neutral, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 0.3, MinImportantDiff: 0.2, Decimals: 1,
		},
		{
			Key: KeyRespiratoryRate, Name: "Respiratory rate", CanonicalUnit: UnitBreathsPerMinute,
			Units:         []Unit{canonical(UnitBreathsPerMinute)},
			RejectOutside: closed(6, 35), FlagOutside: closed(10, 25),
			Direction: Neutral, ZeroMeansMissing: true, NightDerived: true,
			TypicalSD: 0.6, MinImportantDiff: 0.5, Decimals: 1,
		},
		{
			Key: KeySpO2, Name: "Blood oxygen saturation (SpO2)", CanonicalUnit: UnitPercent,
			Units:         []Unit{canonical(UnitPercent), fractionToPc},
			RejectOutside: closed(0, 100), FlagOutside: atLeast(90),
			Direction: HigherIsBetter, ZeroMeansMissing: true,
			TypicalSD: 1, MinImportantDiff: 1, Decimals: 0,
		},
	}
	out := make(map[string]Metric, len(ms))
	for _, m := range ms {
		m.LagDays = DefaultLagDays
		out[m.Key] = m
	}
	return out
}()

// Lookup returns the metric with the given canonical key (exact,
// case-sensitive). The returned Metric is a copy the caller may modify.
func Lookup(key string) (Metric, bool) {
	m, ok := registry[key]
	if !ok {
		return Metric{}, false
	}
	return clone(m), true
}

// All returns a copy of every registered metric, sorted by key.
func All() []Metric {
	out := make([]Metric, 0, len(registry))
	for _, m := range registry {
		out = append(out, clone(m))
	}
	slices.SortFunc(out, func(a, b Metric) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// clone deep-copies m so callers cannot mutate the registry.
func clone(m Metric) Metric {
	m.Units = slices.Clone(m.Units)
	for i := range m.Units {
		m.Units[i].Aliases = slices.Clone(m.Units[i].Aliases)
	}
	return m
}
