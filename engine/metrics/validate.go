package metrics

import (
	"slices"
	"strconv"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Sources a sample may come from. The first four are wearable providers.
const (
	SourceWhoop       = "whoop"
	SourceOura        = "oura"
	SourceFitbit      = "fitbit"
	SourceAppleHealth = "apple_health"
	SourceManual      = "manual" // entered by the user
	SourceAPI         = "api"    // posted by an API client
)

// IsProvider reports whether source is a wearable provider (whoop, oura,
// fitbit, apple_health), whose zeros can mean "no data". Manual and API
// values are taken at face value.
func IsProvider(source string) bool {
	switch source {
	case SourceWhoop, SourceOura, SourceFitbit, SourceAppleHealth:
		return true
	}
	return false
}

func knownSource(source string) bool {
	return IsProvider(source) || source == SourceManual || source == SourceAPI
}

// Problem codes reported by ValidateBatch.
const (
	CodeUnknownMetric    = "UNKNOWN_METRIC"     // Metric is not a registered key
	CodeBadUnit          = "BAD_UNIT"           // Unit is not accepted by the metric
	CodeNotFinite        = "NOT_FINITE"         // Value is NaN or ±Inf
	CodeOutOfRange       = "OUT_OF_RANGE"       // canonical value outside Metric.RejectOutside
	CodeFutureTimestamp  = "FUTURE_TIMESTAMP"   // ObservedAt later than now + MaxFutureSkew
	CodeTooOld           = "TOO_OLD"            // ObservedAt before Options.Earliest (implausible: a default or a typo)
	CodeWrongLocalDay    = "WRONG_LOCAL_DAY"    // LocalDay malformed or not the local date of ObservedAt
	CodeBadOffset        = "BAD_OFFSET"         // |UTCOffsetSeconds| > 14 h
	CodeBadSource        = "BAD_SOURCE"         // Source is not one of the Source* constants
	CodeMissingField     = "MISSING_FIELD"      // a required field is empty or zero
	CodeDuplicateInBatch = "DUPLICATE_IN_BATCH" // same metric, source, local day and ObservedAt as an earlier sample
	CodeBatchTooLarge    = "BATCH_TOO_LARGE"    // more samples than Options.MaxBatch (Index −1)
	CodeEmptyBatch       = "EMPTY_BATCH"        // no samples (Index −1)
)

// Soft flags attached to accepted samples.
const (
	FlagLow  = "FLAG_LOW"  // canonical value below Metric.FlagOutside
	FlagHigh = "FLAG_HIGH" // canonical value above Metric.FlagOutside
)

// Field names used in Problem.Field (the GraphQL input field names).
const (
	FieldMetric     = "metric"
	FieldValue      = "value"
	FieldUnit       = "unit"
	FieldObservedAt = "observedAt"
	FieldLocalDay   = "localDay"
	FieldUTCOffset  = "utcOffsetSeconds"
	FieldSource     = "source"
)

// Defaults and limits of ValidateBatch.
const (
	DefaultMaxBatch      = 1000            // samples per batch (docs/design.md guardrails)
	DefaultMaxFutureSkew = 5 * time.Minute // tolerated clock skew into the future
	MaxUTCOffsetSeconds  = 14 * 60 * 60    // real UTC offsets lie within ±14 h
)

// DefaultEarliest is the default plausibility floor of ObservedAt
// (2000-01-01T00:00:00Z): no wearable recorded before it, and older dates
// are a device's zero clock or a typo. OBSERVATION_DATE_FLOOR changes it.
var DefaultEarliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Sample is one incoming measurement, as received from a provider, an
// import or the API.
type Sample struct {
	Metric string  // canonical metric key, e.g. "resting_hr"
	Value  float64 // in Unit
	Unit   string  // a unit token or alias accepted by the metric
	// ObservedAt is when the value was measured; for NightDerived metrics
	// it is the end of the night (wake time).
	ObservedAt time.Time
	// LocalDay is the user's calendar day the value belongs to, as
	// "2006-01-02": the local date of ObservedAt, or for NightDerived
	// metrics also the day before (the day the night began).
	LocalDay string
	// UTCOffsetSeconds is the device's UTC offset at ObservedAt, within
	// ±MaxUTCOffsetSeconds.
	UTCOffsetSeconds int
	Source           string // one of the Source* constants
}

// Options tunes ValidateBatch. The zero value selects the defaults.
type Options struct {
	MaxBatch      int           // maximum samples per batch; ≤ 0 means DefaultMaxBatch
	MaxFutureSkew time.Duration // how far ObservedAt may lie after now; ≤ 0 means DefaultMaxFutureSkew
	Earliest      time.Time     // ObservedAt may not lie before it; zero means DefaultEarliest
}

// Checked is a sample that passed validation, in canonical form.
type Checked struct {
	Index  int     // position in the input batch
	Sample Sample  // the input as given
	Value  float64 // canonical value; 0 and meaningless when Missing
	Unit   string  // the metric's canonical unit token
	Day    series.Day
	// Missing is true for a provider zero of a ZeroMeansMissing metric: the
	// sample records "no data" and must be stored as missing, never as 0.
	Missing bool
	Flags   []string // soft flags (FlagLow, FlagHigh); nil when none
}

// Problem is one validation failure.
type Problem struct {
	Index   int    // position in the batch, or −1 for the batch as a whole
	Field   string // a Field* constant, or "" when the whole sample or batch is at fault
	Code    string // a Code* constant
	Message string // user-safe English explanation
}

// Result is the outcome of ValidateBatch.
type Result struct {
	// Accepted lists the samples that passed every check, in input order.
	// When Problems is non-empty the batch as a whole must still be refused
	// (nothing partial is stored); Accepted then serves per-item reporting.
	Accepted []Checked
	// Problems lists every problem found, ordered by Index, then by check.
	Problems []Problem
}

// Err returns nil when r has no problems, else an *engine.Error with code
// EINVALID whose Details["problems"] is a copy of r.Problems ([]Problem).
func (r Result) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	noun := "problems"
	if len(r.Problems) == 1 {
		noun = "problem"
	}
	return engine.Errorf(engine.EINVALID, "the sample batch was refused: %d %s", len(r.Problems), noun).
		WithDetails("problems", slices.Clone(r.Problems))
}

// ValidateBatch checks every sample of a batch against the registry and
// reports every problem, not just the first. now is the injected clock.
//
// An empty batch yields one EMPTY_BATCH problem and a batch larger than
// opts.MaxBatch one BATCH_TOO_LARGE problem (both with Index −1); the samples
// are then not examined. Otherwise each sample is checked for: missing
// fields (MISSING_FIELD), a registered metric (UNKNOWN_METRIC), a known
// source (BAD_SOURCE), an accepted unit (BAD_UNIT), a finite value
// (NOT_FINITE), a canonical value inside Metric.RejectOutside (OUT_OF_RANGE),
// ObservedAt ≥ opts.Earliest (TOO_OLD), ObservedAt ≤ now + MaxFutureSkew (FUTURE_TIMESTAMP), |UTCOffsetSeconds| ≤
// 14 h (BAD_OFFSET), a well-formed LocalDay equal to the local date of
// ObservedAt at UTCOffsetSeconds, or the day before for NightDerived metrics
// (WRONG_LOCAL_DAY), and uniqueness of (metric, source, local day,
// ObservedAt) within the batch (DUPLICATE_IN_BATCH, reported on the later
// sample). Checks that need the metric are skipped when it is unknown.
//
// A 0 from a wearable provider (IsProvider) for a ZeroMeansMissing metric is
// not an error: it is accepted with Missing set. Values outside
// Metric.FlagOutside are accepted with FLAG_LOW or FLAG_HIGH.
func ValidateBatch(samples []Sample, now time.Time, opts Options) Result {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxFutureSkew <= 0 {
		opts.MaxFutureSkew = DefaultMaxFutureSkew
	}
	var r Result
	switch {
	case len(samples) == 0:
		r.Problems = []Problem{{Index: -1, Code: CodeEmptyBatch, Message: "the batch has no samples"}}
		return r
	case len(samples) > opts.MaxBatch:
		r.Problems = []Problem{{Index: -1, Code: CodeBatchTooLarge, Message: "the batch has " +
			strconv.Itoa(len(samples)) + " samples; at most " + strconv.Itoa(opts.MaxBatch) + " are allowed"}}
		return r
	}
	if opts.Earliest.IsZero() {
		opts.Earliest = DefaultEarliest
	}
	latest := now.Add(opts.MaxFutureSkew)
	first := make(map[sampleKey]int, len(samples))
	for i, s := range samples {
		c := checker{index: i}
		checked := c.check(s, opts.Earliest, latest)
		if k, ok := keyOf(s); ok {
			if j, dup := first[k]; dup {
				c.add("", CodeDuplicateInBatch, "duplicate of sample "+strconv.Itoa(j)+
					" (same metric, source, local day and observedAt)")
			} else {
				first[k] = i
			}
		}
		if len(c.problems) == 0 {
			r.Accepted = append(r.Accepted, checked)
		}
		r.Problems = append(r.Problems, c.problems...)
	}
	return r
}

// sampleKey identifies a sample for duplicate detection. ObservedAt is
// compared as an instant, whatever its location.
type sampleKey struct {
	metric, source, localDay string
	sec                      int64
	nsec                     int
}

func keyOf(s Sample) (sampleKey, bool) {
	if s.Metric == "" || s.Source == "" || s.LocalDay == "" || s.ObservedAt.IsZero() {
		return sampleKey{}, false
	}
	return sampleKey{
		metric: s.Metric, source: s.Source, localDay: s.LocalDay,
		sec: s.ObservedAt.Unix(), nsec: s.ObservedAt.Nanosecond(),
	}, true
}

// checker collects the problems of one sample.
type checker struct {
	index    int
	problems []Problem
}

func (c *checker) add(field, code, msg string) {
	c.problems = append(c.problems, Problem{Index: c.index, Field: field, Code: code, Message: msg})
}

func (c *checker) missing(field string) {
	c.add(field, CodeMissingField, field+" is required")
}

// check runs every per-sample check and returns the canonical form; the
// result is meaningful only when no problem was added.
func (c *checker) check(s Sample, earliest, latest time.Time) Checked {
	out := Checked{Index: c.index, Sample: s}

	m, known := Metric{}, false
	if s.Metric == "" {
		c.missing(FieldMetric)
	} else if m, known = registry[s.Metric]; !known { // read-only: no copy needed
		c.add(FieldMetric, CodeUnknownMetric, "unknown metric "+strconv.Quote(s.Metric))
	}

	switch {
	case s.Source == "":
		c.missing(FieldSource)
	case !knownSource(s.Source):
		c.add(FieldSource, CodeBadSource, "unknown source "+strconv.Quote(s.Source)+
			"; use one of: whoop, oura, fitbit, apple_health, manual, api")
	}

	var u Unit
	unitOK := false
	switch {
	case s.Unit == "":
		c.missing(FieldUnit)
	case known:
		if u, unitOK = m.LookupUnit(s.Unit); !unitOK {
			c.add(FieldUnit, CodeBadUnit, badUnitMessage(m, s.Unit))
		}
	}

	if !isFinite(s.Value) {
		c.add(FieldValue, CodeNotFinite, "value must be a finite number, got "+formatFloat(s.Value))
	} else if unitOK {
		c.checkValue(&out, m, u, s)
	}

	offsetOK := s.UTCOffsetSeconds >= -MaxUTCOffsetSeconds && s.UTCOffsetSeconds <= MaxUTCOffsetSeconds
	if !offsetOK {
		c.add(FieldUTCOffset, CodeBadOffset, "utcOffsetSeconds "+strconv.Itoa(s.UTCOffsetSeconds)+
			" is outside ±"+strconv.Itoa(MaxUTCOffsetSeconds))
	}

	if s.ObservedAt.IsZero() {
		c.missing(FieldObservedAt)
	} else if s.ObservedAt.Before(earliest) {
		c.add(FieldObservedAt, CodeTooOld, "observedAt "+s.ObservedAt.UTC().Format(time.RFC3339Nano)+
			" is before "+earliest.UTC().Format(time.RFC3339)+", the earliest plausible observation date")
	} else if s.ObservedAt.After(latest) {
		c.add(FieldObservedAt, CodeFutureTimestamp, "observedAt "+s.ObservedAt.UTC().Format(time.RFC3339Nano)+
			" is in the future")
	}

	if s.LocalDay == "" {
		c.missing(FieldLocalDay)
		return out
	}
	day, err := series.ParseDay(s.LocalDay)
	if err != nil {
		c.add(FieldLocalDay, CodeWrongLocalDay, "localDay "+strconv.Quote(s.LocalDay)+" is not a date (YYYY-MM-DD)")
		return out
	}
	out.Day = day
	if known && offsetOK && !s.ObservedAt.IsZero() {
		local := s.ObservedAt.In(time.FixedZone("", s.UTCOffsetSeconds))
		want := series.Truncate(local)
		if !day.Equal(want) && !(m.NightDerived && day.Equal(series.AddDays(want, -1))) {
			expect := want.Format(time.DateOnly)
			if m.NightDerived {
				expect += " or " + series.AddDays(want, -1).Format(time.DateOnly)
			}
			c.add(FieldLocalDay, CodeWrongLocalDay, "localDay "+s.LocalDay+" does not match observedAt "+
				local.Format(time.RFC3339)+"; expected "+expect)
		}
	}
	return out
}

// checkValue converts a finite value in an accepted unit, handles provider
// zeros and checks the reject and flag ranges.
func (c *checker) checkValue(out *Checked, m Metric, u Unit, s Sample) {
	out.Unit = m.CanonicalUnit
	if s.Value == 0 && m.ZeroMeansMissing && IsProvider(s.Source) {
		out.Missing = true
		return
	}
	v := u.ToCanonical(s.Value)
	if !m.RejectOutside.Contains(v) {
		msg := "value " + formatFloat(s.Value) + " " + u.Token
		if u.Token != m.CanonicalUnit {
			msg += " (" + formatFloat(v) + " " + m.CanonicalUnit + ")"
		}
		c.add(FieldValue, CodeOutOfRange, msg+" is outside the accepted range "+
			m.RejectOutside.String()+" "+m.CanonicalUnit)
		return
	}
	out.Value = v
	switch {
	case m.FlagOutside.Below(v):
		out.Flags = []string{FlagLow}
	case m.FlagOutside.Above(v):
		out.Flags = []string{FlagHigh}
	}
}
