// Package metrics is the metric registry of the OBSERVE stage: canonical
// metric keys and units, exact unit conversions, reject and flag ranges,
// and validation of ingestion batches (docs/design.md "The loop"; docs/domain.md §1).
//
// # Units
//
// Every unit has one canonical lowercase token. Spellings are compared after
// trimming spaces and lower-casing; each token also accepts the aliases below.
// Which units a metric accepts, and how they convert, is listed in its
// Metric.Units.
//
//	token        aliases
//	bpm          beats/min, count/min, 1/min
//	breaths/min  brpm, breaths/minute, count/min, 1/min
//	ms           msec, millisecond, milliseconds
//	s            sec, secs, second, seconds
//	min          mins, minute, minutes
//	h            hr, hrs, hour, hours
//	percent      %, pct
//	fraction     ratio
//	count        steps, count/day, steps/day
//	celsius      °c, ℃, degc, c
//	fahrenheit   °f, ℉, degf, f
//	score        (none)
//
// "count/min" and "1/min" mean bpm for resting_hr and breaths/min for
// respiratory_rate; no metric accepts both, so a spelling is never ambiguous.
// For skin_temp_deviation, celsius and fahrenheit denote temperature
// differences (°F → °C is ×5/9 with no offset).
package metrics

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Canonical unit tokens.
const (
	UnitBPM              = "bpm"
	UnitBreathsPerMinute = "breaths/min"
	UnitMillisecond      = "ms"
	UnitSecond           = "s"
	UnitMinute           = "min"
	UnitHour             = "h"
	UnitPercent          = "percent"
	UnitFraction         = "fraction"
	UnitCount            = "count"
	UnitCelsius          = "celsius"
	UnitFahrenheit       = "fahrenheit"
	UnitScore            = "score"
)

// Unit is one unit a metric accepts, with its exact conversion to the
// metric's canonical unit:
//
//	canonical = (value + Shift) × Num ÷ Den
//
// Num and Den are exact small integers (for example 1 and 60 for seconds →
// minutes) so the conversion rounds at most twice. The canonical unit itself
// has Num = Den = 1 and Shift = 0.
type Unit struct {
	Token   string   // canonical lowercase token, e.g. "min"
	Aliases []string // other accepted lowercase spellings, e.g. "minutes"
	Num     float64  // multiplier, > 0
	Den     float64  // divisor, > 0
	Shift   float64  // added before scaling (−32 for absolute °F → °C)
}

// Matches reports whether spelling names u: it equals the token or one of
// the aliases after trimming spaces and lower-casing.
func (u Unit) Matches(spelling string) bool {
	s := strings.ToLower(strings.TrimSpace(spelling))
	return s == u.Token || slices.Contains(u.Aliases, s)
}

// ToCanonical converts value from u to the canonical unit. It does not check
// that the result is finite.
func (u Unit) ToCanonical(value float64) float64 { return (value + u.Shift) * u.Num / u.Den }

// FromCanonical converts a canonical value to u; it is the inverse of
// ToCanonical up to floating-point rounding. It does not check that the
// result is finite.
func (u Unit) FromCanonical(canonical float64) float64 {
	return canonical*u.Den/u.Num - u.Shift
}

// Range is an interval of canonical values. Unbounded sides use ±Inf.
// MinExclusive / MaxExclusive exclude the bound itself: RMSSD's accepted
// range is (0, 300], so MinExclusive is true.
type Range struct {
	Min, Max                   float64
	MinExclusive, MaxExclusive bool
}

// Contains reports whether v lies in r. NaN is in no range.
func (r Range) Contains(v float64) bool {
	return !r.Below(v) && !r.Above(v) && !math.IsNaN(v)
}

// Below reports whether v lies below r's lower bound.
func (r Range) Below(v float64) bool {
	return v < r.Min || (r.MinExclusive && v == r.Min)
}

// Above reports whether v lies above r's upper bound.
func (r Range) Above(v float64) bool {
	return v > r.Max || (r.MaxExclusive && v == r.Max)
}

// String formats r in interval notation, e.g. "(0, 300]" or "[50, +Inf)".
func (r Range) String() string {
	lo, hi := "[", "]"
	if r.MinExclusive || math.IsInf(r.Min, -1) {
		lo = "("
	}
	if r.MaxExclusive || math.IsInf(r.Max, 1) {
		hi = ")"
	}
	return lo + formatFloat(r.Min) + ", " + formatFloat(r.Max) + hi
}

// Direction says which way a metric improves.
type Direction int

// Directions. Neutral means neither higher nor lower is better in general
// (strain, temperatures, respiratory rate).
const (
	Neutral Direction = iota
	HigherIsBetter
	LowerIsBetter
)

// Metric describes one canonical metric. Values are stored in CanonicalUnit.
type Metric struct {
	Key           string    // stable canonical key, e.g. "resting_hr"
	Name          string    // human-readable English name
	CanonicalUnit string    // unit token values are stored in
	Units         []Unit    // accepted units, canonical first
	RejectOutside Range     // canonical values outside are rejected (OUT_OF_RANGE)
	FlagOutside   Range     // canonical values outside are accepted but flagged FLAG_LOW / FLAG_HIGH
	Direction     Direction // which way the metric improves
	LnTransform   bool      // analyse ln(value) rather than value (HRV; docs/domain.md §3)
	// ZeroMeansMissing marks metrics for which a 0 reported by a wearable
	// provider means "no data" (docs/design.md: provider zeros are stored as
	// missing). False where 0 is a real value (steps, strain, temperature
	// deviation).
	ZeroMeansMissing bool
	LagDays          int // default lag/washout in days before an effect is expected (docs/domain.md §2: L = 2)
	// TypicalSD is a typical day-to-day standard deviation on the analysis
	// scale (ln units when LnTransform): the prior SD used for the minimum
	// detectable effect before a person has enough history
	// (docs/statistics.md, "Minimum detectable effect").
	TypicalSD float64
	// MinImportantDiff is the smallest change on the analysis scale that a
	// person would care about (ln units when LnTransform: 0.05 ≈ 5%). A
	// null result whose interval lies within ±MinImportantDiff is a
	// well-measured null (docs/statistics.md, "Confidence").
	MinImportantDiff float64
	// Decimals is the display precision of a value in CanonicalUnit.
	Decimals int
	// NightDerived marks values that belong to a night crossing midnight;
	// their local day may be the wake day or the day the night began.
	NightDerived bool
}

// LookupUnit returns the accepted unit named by spelling (a token or an
// alias, compared after trimming spaces and lower-casing).
func (m Metric) LookupUnit(spelling string) (Unit, bool) {
	for _, u := range m.Units {
		if u.Matches(spelling) {
			return u, true
		}
	}
	return Unit{}, false
}

// UnitTokens returns the tokens of m's accepted units, canonical first.
func (m Metric) UnitTokens() []string {
	out := make([]string, len(m.Units))
	for i, u := range m.Units {
		out[i] = u.Token
	}
	return out
}

// Convert converts value, expressed in unit (a token or an alias), to m's
// canonical unit. It only converts: range checks are ValidateBatch's job.
// It returns an *engine.Error with code EINVALID when unit is not accepted by
// m, when value is NaN or ±Inf, or when the result overflows to ±Inf.
func Convert(m Metric, value float64, unit string) (float64, error) {
	u, ok := m.LookupUnit(unit)
	if !ok {
		return 0, badUnitError(m, unit)
	}
	if !isFinite(value) {
		return 0, engine.Errorf(engine.EINVALID, "value must be a finite number, got %s", formatFloat(value))
	}
	c := u.ToCanonical(value)
	if !isFinite(c) {
		return 0, engine.Errorf(engine.EINVALID, "value %s %s does not convert to a finite %s",
			formatFloat(value), u.Token, m.CanonicalUnit)
	}
	return c, nil
}

// ConvertTo converts a canonical value of m to unit (a token or an alias);
// it is the inverse of Convert up to floating-point rounding (relative error
// below 1e-9). It returns an *engine.Error with code EINVALID under the same
// conditions as Convert.
func ConvertTo(m Metric, canonical float64, unit string) (float64, error) {
	u, ok := m.LookupUnit(unit)
	if !ok {
		return 0, badUnitError(m, unit)
	}
	if !isFinite(canonical) {
		return 0, engine.Errorf(engine.EINVALID, "value must be a finite number, got %s", formatFloat(canonical))
	}
	v := u.FromCanonical(canonical)
	if !isFinite(v) {
		return 0, engine.Errorf(engine.EINVALID, "value %s %s does not convert to a finite %s",
			formatFloat(canonical), m.CanonicalUnit, u.Token)
	}
	return v, nil
}

func badUnitError(m Metric, unit string) *engine.Error {
	return engine.Errorf(engine.EINVALID, "%s", badUnitMessage(m, unit))
}

func badUnitMessage(m Metric, unit string) string {
	return "unit " + strconv.Quote(unit) + " is not accepted for " + m.Key +
		"; use one of: " + strings.Join(m.UnitTokens(), ", ")
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// formatFloat formats v with the fewest digits that round-trip, so messages
// are stable ("24.99", "NaN", "+Inf").
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
