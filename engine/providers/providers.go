// Package providers converts provider-shaped payloads (WHOOP v2, Oura v2,
// Apple HealthKit statistics) into canonical metrics.Sample values for the
// OBSERVE stage (docs/domain.md §1). It is pure: bytes in, samples out, no I/O and
// no clock. Range checks, unit validation and provider-zero handling are not
// repeated here: every sample must still pass metrics.ValidateBatch, which
// stores a provider 0 of a ZeroMeansMissing metric as missing.
//
// # Payloads
//
// Each parser accepts either one page of one collection exactly as the
// provider's REST API returns it, or a bundle of such pages keyed by
// collection (the form the golden files use, because a WHOOP recovery needs
// its sleep record to know its local day):
//
//	WHOOP page    {"records": [...], "next_token": "..."}            (GET /v2/activity/sleep, /v2/recovery, /v2/cycle)
//	WHOOP bundle  {"sleep": page, "recovery": page, "cycle": page}   (any subset)
//	Oura page     {"data": [...], "next_token": "..."}                (GET /v2/usercollection/sleep, daily_readiness, daily_activity)
//	Oura bundle   {"sleep": page, "daily_readiness": page, "daily_activity": page}
//	HealthKit     {"statistics": [{"type", "start", "end", "sum"|"average", "unit"}]}
//
// In a bare page the collection of each record is recognised by its
// distinctive fields (WHOOP: "sleep_id" → recovery, "nap" → sleep, "start"
// → cycle; Oura: "bedtime_end" → sleep, "temperature_deviation" →
// daily_readiness, "steps" → daily_activity). next_token is accepted and
// ignored: the caller pages, each page is parsed on its own.
//
// # Days and times
//
// Night-derived values (sleep, HRV, resting HR, recovery, readiness) are
// observed at the end of the night (wake time) and belong to the wake day:
// the local date of the sleep's end at the record's own UTC offset (WHOOP
// timezone_offset, the offset in Oura's bedtime_end). A night spanning a DST
// change therefore lands on the right day whichever offset the provider
// reports, since both offsets put the wake time on the same date.
//
// # Rescored records
//
// A WHOOP record first seen PENDING_SCORE yields no samples (it is reported
// in Result.Skipped) and yields samples once it is seen SCORED. A record
// scored again with different values keeps its natural key (metric, source,
// local day, observedAt = sleep end), so the ingestion layer treats the
// re-sent samples as duplicates and keeps the first stored value; a rescore
// is represented by the same record id with a later updated_at. Within one
// payload the version with the latest updated_at wins and the others are
// reported as superseded.
//
// Every sample a parse returns has a distinct (metric, source, local day,
// observedAt), so a parsed payload never trips DUPLICATE_IN_BATCH.
package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// Skip is a record, or a part of one, that produced no sample.
type Skip struct {
	// RecordID is "<collection>/<provider id>", e.g. "sleep/2b8e…" or
	// "recovery/93845" (WHOOP keys a recovery by its cycle id).
	RecordID string
	// Reason is a user-safe English explanation, e.g. "score_state is
	// PENDING_SCORE: not scored yet".
	Reason string
}

// Result is the outcome of parsing one payload.
type Result struct {
	// Samples are in canonical units (min, ms, bpm, percent, score,
	// celsius, breaths/min, count), in payload order: per collection,
	// night collections first.
	Samples []metrics.Sample
	// Skipped lists every record (or part) that yielded no sample, in
	// payload order.
	Skipped []Skip
}

// Parse dispatches on provider: metrics.SourceWhoop ("whoop"),
// metrics.SourceOura ("oura") or metrics.SourceAppleHealth ("apple_health").
// It returns an *engine.Error with code EINVALID for any other provider and
// whatever the chosen parser returns.
func Parse(provider string, payload []byte) (Result, error) {
	switch provider {
	case metrics.SourceWhoop:
		return ParseWHOOP(payload)
	case metrics.SourceOura:
		return ParseOura(payload)
	case metrics.SourceAppleHealth:
		return ParseHealthKit(payload)
	}
	return Result{}, engine.Errorf(engine.EINVALID, "unknown provider %q; use one of: whoop, oura, apple_health", provider)
}

// Providers lists the providers Parse understands.
var Providers = []string{metrics.SourceWhoop, metrics.SourceOura, metrics.SourceAppleHealth}

// decodeObject decodes payload as a JSON object of raw members. It returns
// EINVALID when payload is not a single JSON object.
func decodeObject(provider string, payload []byte) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := strictUnmarshal(payload, &top); err != nil || top == nil {
		return nil, invalidJSON(provider, err)
	}
	return top, nil
}

// strictUnmarshal decodes exactly one JSON value into v.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func invalidJSON(provider string, err error) error {
	if err == nil {
		return engine.Errorf(engine.EINVALID, "the %s payload must be a JSON object", provider)
	}
	return engine.Wrap(err, engine.EINVALID, "the "+provider+" payload is not valid JSON of the expected shape")
}

func rawArray(provider string, raw json.RawMessage) ([]json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, invalidJSON(provider, err)
	}
	return recs, nil
}

// parseOffset parses a UTC offset "±HH:MM", "±HHMM", "±HH" or "Z" into
// seconds east of UTC.
func parseOffset(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "Z" || s == "z" {
		return 0, nil
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	if len(digits) != 2 && len(digits) != 4 {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	h, err := strconv.Atoi(digits[:2])
	if err != nil {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	m := 0
	if len(digits) == 4 {
		if m, err = strconv.Atoi(digits[2:]); err != nil || m >= 60 {
			return 0, fmt.Errorf("bad UTC offset %q", s)
		}
	}
	off := sign * (h*3600 + m*60)
	if off < -metrics.MaxUTCOffsetSeconds || off > metrics.MaxUTCOffsetSeconds {
		return 0, fmt.Errorf("UTC offset %q is outside ±14:00", s)
	}
	return off, nil
}

// parseTime parses an RFC 3339 timestamp (fractional seconds allowed).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("bad timestamp %q", s)
	}
	return t, nil
}

// offsetOf returns the UTC offset of t in seconds.
func offsetOf(t time.Time) int {
	_, off := t.Zone()
	return off
}

// localDay returns the local date of t at offset seconds, as "2006-01-02".
func localDay(t time.Time, offset int) string {
	return t.In(time.FixedZone("", offset)).Format(time.DateOnly)
}

// anchor is when and where a record's values are observed.
type anchor struct {
	at     time.Time // UTC instant
	offset int       // seconds east of UTC
	day    string    // local day
}

func newAnchor(at time.Time, offset int) anchor {
	return anchor{at: at.UTC(), offset: offset, day: localDay(at, offset)}
}

// builder accumulates samples and skips, dropping samples whose natural key
// repeats within the payload.
type builder struct {
	source string
	res    Result
	seen   map[sampleKey]bool
}

type sampleKey struct {
	metric, day string
	at          int64
}

func newBuilder(source string) *builder {
	return &builder{source: source, seen: map[sampleKey]bool{}}
}

func (b *builder) skip(id, format string, args ...any) {
	b.res.Skipped = append(b.res.Skipped, Skip{RecordID: id, Reason: fmt.Sprintf(format, args...)})
}

// add appends a sample of metric in unit at a, unless v is nil.
func (b *builder) add(id, metric string, v *float64, unit string, a anchor) {
	if v == nil {
		return
	}
	k := sampleKey{metric: metric, day: a.day, at: a.at.UnixNano()}
	if b.seen[k] {
		b.skip(id, "%s duplicates another record's sample for %s at the same time", metric, a.day)
		return
	}
	b.seen[k] = true
	b.res.Samples = append(b.res.Samples, metrics.Sample{
		Metric: metric, Value: *v, Unit: unit, ObservedAt: a.at,
		LocalDay: a.day, UTCOffsetSeconds: a.offset, Source: b.source,
	})
}

func ptr(v float64) *float64 { return &v }
