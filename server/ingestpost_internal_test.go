package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/graph/model"
)

const typedTestQuery = `mutation($input: [ObservationInput!]!, $key: String) { ingestObservations(input: $input, idempotencyKey: $key) { inserted } }`

// typedIngest takes exactly the canonical bodies and hands gqlgen the rest
// of the body unchanged, with [] for the input; everything else is left to
// gqlgen's generic path.
func TestTypedIngestTakesOnlyTheTypedShape(t *testing.T) {
	ctx := context.Background()
	body := func(query, vars string) []byte {
		return []byte(`{"query":"` + query + `","variables":` + vars + `}`)
	}
	const s = `{"metric":"resting_hr","value":55.5,"unit":"bpm","observedAt":"2026-03-08T07:00:00.5+02:00","localDay":"2026-03-08","source":"oura"}`
	rewritten, in, ok := typedIngest(ctx, body(typedTestQuery, `{"input":[`+s+`, {"metric":"r\u0065sting_hr","value":-1e2,"unit":"bpm","observedAt":"2026-03-09T07:00:00Z","localDay":"2026-03-09","source":"oura","utcOffsetSeconds":-3600}],"key":"k"}`))
	require.True(t, ok)
	require.JSONEq(t, `{"query":"`+typedTestQuery+`","variables":{"input":[],"key":"k"}}`, string(rewritten))
	require.Equal(t, []*model.ObservationInput{
		{Metric: "resting_hr", Value: 55.5, Unit: "bpm", ObservedAt: time.Date(2026, 3, 8, 7, 0, 0, 5e8, time.FixedZone("", 7200)), LocalDay: "2026-03-08", Source: "oura"},
		{Metric: "resting_hr", Value: -100, Unit: "bpm", ObservedAt: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC), LocalDay: "2026-03-09", Source: "oura", UtcOffsetSeconds: -3600},
	}, normalizeZones(in))

	_, in, ok = typedIngest(ctx, body(typedTestQuery, `{"input":[]}`))
	require.True(t, ok)
	require.Empty(t, in)

	for name, b := range map[string][]byte{
		"value as a string":   body(typedTestQuery, `{"input":[`+replace(s, `55.5`, `"55.5"`)+`]}`),
		"null value":          body(typedTestQuery, `{"input":[`+replace(s, `55.5`, `null`)+`]}`),
		"huge value":          body(typedTestQuery, `{"input":[`+replace(s, `55.5`, `1e400`)+`]}`),
		"fractional offset":   body(typedTestQuery, `{"input":[`+replace(s, `"source"`, `"utcOffsetSeconds":1.5,"source"`)+`]}`),
		"huge offset":         body(typedTestQuery, `{"input":[`+replace(s, `"source"`, `"utcOffsetSeconds":99999999999999999999,"source"`)+`]}`),
		"missing field":       body(typedTestQuery, `{"input":[`+replace(s, `"unit":"bpm",`, ``)+`]}`),
		"extra field":         body(typedTestQuery, `{"input":[`+replace(s, `"source"`, `"extra":1,"source"`)+`]}`),
		"repeated field":      body(typedTestQuery, `{"input":[`+replace(s, `"source"`, `"unit":"bpm","source"`)+`]}`),
		"bad time":            body(typedTestQuery, `{"input":[`+replace(s, `2026-03-08T07:00:00.5+02:00`, `yesterday`)+`]}`),
		"null element":        body(typedTestQuery, `{"input":[null]}`),
		"object, not a list":  body(typedTestQuery, `{"input":`+s+`}`),
		"escaped key":         body(typedTestQuery, `{"input":[`+replace(s, `"metric"`, `"m\u0065tric"`)+`]}`),
		"no input variable":   body(typedTestQuery, `{}`),
		"other casing":        []byte(`{"query":"` + typedTestQuery + `","Variables":{"input":[]}}`),
		"two casings":         []byte(`{"query":"` + typedTestQuery + `","variables":{"input":[]},"VARIABLES":{"input":[]}}`),
		"inline fragment":     body(`mutation($input: [ObservationInput!]!) { ... on Mutation { ingestObservations(input: $input) { inserted } } }`, `{"input":[]}`),
		"two fields":          body(`mutation($input: [ObservationInput!]!) { a: ingestObservations(input: $input) { inserted } b: ingestObservations(input: $input) { inserted } }`, `{"input":[]}`),
		"literal input":       body(`mutation { ingestObservations(input: []) { inserted } }`, `{}`),
		"nullable elements":   body(`mutation($input: [ObservationInput]!) { ingestObservations(input: $input) { inserted } }`, `{"input":[]}`),
		"default value":       body(`mutation($input: [ObservationInput!]! = []) { ingestObservations(input: $input) { inserted } }`, `{"input":[]}`),
		"variable reused":     body(`mutation($input: [ObservationInput!]!) { ingestObservations(input: $input, idempotencyKey: $input) { inserted } }`, `{"input":[]}`),
		"directive":           body(`mutation($input: [ObservationInput!]!) { ingestObservations(input: $input) @include(if: true) { inserted } }`, `{"input":[]}`),
		"a query":             body(`query($input: [ObservationInput!]!) { ingestObservations(input: $input) { inserted } }`, `{"input":[]}`),
		"trailing garbage":    []byte(`{"query":"` + typedTestQuery + `","variables":{"input":[]}} x`),
		"broken elsewhere":    []byte(`{"query":"` + typedTestQuery + `","variables":{"input":[],"key":tru}}`),
		"unterminated string": []byte(`{"query":"` + typedTestQuery + `","variables":{"input":[{"metric":"x}]}}`),
	} {
		_, _, ok := typedIngest(ctx, b)
		require.False(t, ok, name)
	}
}

func replace(s, old, repl string) string {
	out := ""
	for i := 0; i < len(s); {
		if len(s)-i >= len(old) && s[i:i+len(old)] == old {
			out += repl
			i += len(old)
			continue
		}
		out += s[i : i+1]
		i++
	}
	return out
}

// normalizeZones makes times comparable with require.Equal (one location
// value per offset).
func normalizeZones(in []*model.ObservationInput) []*model.ObservationInput {
	for _, o := range in {
		_, off := o.ObservedAt.Zone()
		if off == 0 {
			o.ObservedAt = o.ObservedAt.UTC()
		} else {
			o.ObservedAt = o.ObservedAt.In(time.FixedZone("", off))
		}
	}
	return in
}

// No body makes the typed path panic, and a body it takes is valid JSON
// both before and after the input is cut out.
func FuzzTypedIngest(f *testing.F) {
	const s = `{"metric":"resting_hr","value":55.5,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","utcOffsetSeconds":0}`
	for _, vars := range []string{`{"input":[` + s + `]}`, `{"input":[]}`, `{"input":[` + s + `,` + s + `],"key":"k"}`, `{"input":[{"metric":"\u0041"}]}`} {
		f.Add([]byte(`{"query":"` + typedTestQuery + `","variables":` + vars + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rewritten, in, ok := typedIngest(context.Background(), body)
		if !ok {
			return
		}
		require.True(t, json.Valid(body), "%q", body)
		require.True(t, json.Valid(rewritten))
		for _, o := range in {
			require.NotNil(t, o)
		}
	})
}
