package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// typedIngestMutation has the typed shape (server/ingestpost.go);
// genericIngestMutation is the same operation through an inline fragment,
// which the typed path does not take (padded so that the field sits at
// the same column). Both must answer every body alike.
const (
	typedIngestMutation   = `mutation($input: [ObservationInput!]!, $key: String) {                   ingestObservations(input: $input, idempotencyKey: $key) { received inserted duplicates missing replayed } }`
	genericIngestMutation = `mutation($input: [ObservationInput!]!, $key: String) { ... on Mutation { ingestObservations(input: $input, idempotencyKey: $key) { received inserted duplicates missing replayed } } }`
)

// ingestVariableCases are variables (raw JSON) sent to both paths, in
// order: good batches (stored, then re-sent as duplicates or replays) and
// every kind of bad input — wrong types, nulls, missing and extra fields,
// out-of-range and huge numbers, strings where numbers go, escapes.
func ingestVariableCases() []string {
	sample := func(day int, fields string) string {
		return fmt.Sprintf(`{"metric":"resting_hr","value":%d,"unit":"bpm","observedAt":"2026-03-%02dT07:00:00Z","localDay":"2026-03-%02d","source":"oura"%s}`, 50+day, day, day, fields)
	}
	good := "[" + sample(1, "") + "," + sample(2, `,"utcOffsetSeconds":3600`) + "]"
	var big []string
	for i := range 1001 {
		big = append(big, fmt.Sprintf(`{"metric":"steps","value":%d,"unit":"count","observedAt":"2025-01-01T00:%02d:%02dZ","localDay":"2025-01-01","source":"api"}`, i, i/60, i%60))
	}
	return []string{
		`{"input":` + good + `}`,
		`{"input":` + good + `}`, // duplicates
		`{"input":` + good + `,"key":"k1"}`,
		`{"input":` + good + `,"key":"k1"}`,            // replay
		`{"input":[` + sample(3, "") + `],"key":"k1"}`, // reused key: ECONFLICT
		`{"input":[]}`,
		` { "input" : [ ` + sample(4, ` , "utcOffsetSeconds" : -18000 `) + ` ] } `,
		`{"input":[{"metric":"r\u0065sting_hr","value":1e1,"unit":"bpm","observedAt":"2026-03-05T07:00:00.123456789+02:00","localDay":"2026-03-05","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":-0.0,"unit":"bpm","observedAt":"2026-03-06T07:00:00Z","localDay":"2026-03-06","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":"55","unit":"bpm","observedAt":"2026-03-07T07:00:00Z","localDay":"2026-03-07","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":null,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":true,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":1e400,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":1e308,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","foo":1}]}`,
		`{"input":[{"__typename":"ObservationInput","metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-09T07:00:00Z","localDay":"2026-03-09","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","utcOffsetSeconds":1.5}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","utcOffsetSeconds":99999999999999999999}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","utcOffsetSeconds":9999999999}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-10T07:00:00Z","localDay":"2026-03-10","source":"oura","utcOffsetSeconds":"3600"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","utcOffsetSeconds":null}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"not a time","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":1234,"localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":5,"value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"\ud800 oura"}]}`,
		`{"input":[{"metric":"resting_hr","value":55,"unit":"bpm","observedAt":"2026-03-08T07:00:00Z","localDay":"2026-03-08","source":"oura","metric":"steps"}]}`,
		`{"input":[null]}`,
		`{"input":[[]]}`,
		`{"input":` + sample(11, "") + `}`,
		`{"input":null}`,
		`{}`,
		`{"input":[` + sample(12, "") + `],"key":5}`,
		`{"input":[` + sample(13, "") + `],"other":{"deep":[1,2,{"x":null}]}}`,
		`{"input":[` + strings.Join(big, ",") + `]}`,
		`{"input":[{"metric":"resting_hr","value":0,"unit":"bpm","observedAt":"2026-03-14T07:00:00Z","localDay":"2026-03-14","source":"oura"},{"metric":"nope","value":1,"unit":"x","observedAt":"1900-01-01T00:00:00Z","localDay":"1900-01-01","source":"??"}]}`,
	}
}

// The typed ingestion path answers every body — good or bad — exactly as
// gqlgen's generic path: same status, same data, same errors and codes.
func TestTypedIngestMatchesGenericPath(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	ctx := context.Background()
	typedUser, err := server.EnsureUser(ctx, srv.App.Store.Client, "typed@example.com", "typed", user.RoleUSER)
	require.NoError(t, err)
	genericUser, err := server.EnsureUser(ctx, srv.App.Store.Client, "generic@example.com", "generic", user.RoleUSER)
	require.NoError(t, err)
	post := func(uid, query, vars string) (int, string) {
		body := `{"query":` + quoteJSON(t, query) + `,"variables":` + vars + `}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Debug-User", uid)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer func() { require.NoError(t, resp.Body.Close()) }()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	stored := 0
	for i, vars := range ingestVariableCases() {
		ts, typed := post(typedUser, typedIngestMutation, vars)
		gs, generic := post(genericUser, genericIngestMutation, vars)
		require.Equal(t, gs, ts, "case %d: %s", i, vars)
		require.JSONEq(t, generic, typed, "case %d: %s", i, vars)
		if strings.Contains(typed, `"inserted":`) && !strings.Contains(typed, `"inserted":0`) {
			stored++
		}
	}
	require.GreaterOrEqual(t, stored, 4, "good batches were stored")
}

func quoteJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
