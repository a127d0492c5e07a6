package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// edgeCases are TestBadInput's cases for the error boundary (issue #13):
// request envelopes, GET parameters, methods and content types, mistyped
// scalars (Time, Cursor, ID, the local day), implausible samples, empty
// filters, capped error lists and unauthenticated or orphaned credentials.
// Each must answer a coded error (never EINTERNAL, never library text) and
// store nothing.
func edgeCases(t *testing.T, token string, signFor func(kid, sub string) string, kid string) []badCase {
	t.Helper()
	body := func(s string) request {
		return request{
			method: http.MethodPost, contentType: "application/json", body: []byte(s),
			header: map[string]string{"Authorization": "Bearer " + token},
		}
	}
	anon := func(s string) request {
		return request{method: http.MethodPost, contentType: "application/json", body: []byte(s)}
	}
	op := func(tok, q string, vars map[string]any) request {
		b, err := json.Marshal(map[string]any{"query": q, "variables": vars})
		require.NoError(t, err)
		r := request{method: http.MethodPost, contentType: "application/json", body: b}
		if tok != "" {
			r.header = map[string]string{"Authorization": "Bearer " + tok}
		}
		return r
	}
	get := func(rawQuery string) request {
		return request{method: http.MethodGet, path: "/graphql?" + rawQuery, header: map[string]string{"Authorization": "Bearer " + token}}
	}
	method := func(m string) request {
		return request{method: m, contentType: "application/json", body: []byte(`{"query":"{ me { id } }"}`)}
	}
	ctype := func(ct string) request {
		return request{method: http.MethodPost, contentType: ct, body: []byte(`{"query":"{ me { id } }"}`)}
	}
	sample := func(fields string) string {
		return `mutation { ingestObservations(input: [{` + fields + `}]) { inserted } }`
	}
	okSample := func(over map[string]any) map[string]any {
		s := map[string]any{"metric": "resting_hr", "value": 60, "unit": "bpm", "observedAt": "2024-03-01T08:00:00Z", "localDay": "2024-03-01", "source": "manual"}
		for k, v := range over {
			s[k] = v
		}
		return s
	}
	ingest := func(over map[string]any) request {
		return op(token, `mutation($in: [ObservationInput!]!) { ingestObservations(input: $in) { inserted } }`, map[string]any{"in": []any{okSample(over)}})
	}
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	allow := map[string]string{"Allow": ""}
	wwwAuth := map[string]string{"WWW-Authenticate": ""}

	cases := []badCase{
		// Request envelopes (POST): 400 EINVALID naming the field.
		{"query is a number", anon(`{"query":42}`), 400, "EINVALID", nil},
		{"query is an object", anon(`{"query":{"a":1}}`), 400, "EINVALID", nil},
		{"query is an array", anon(`{"query":["{ me { id } }"]}`), 400, "EINVALID", nil},
		{"query is null", anon(`{"query":null}`), 400, "EINVALID", nil},
		{"query is a boolean", anon(`{"query":true}`), 400, "EINVALID", nil},
		{"query is a number, with a token", body(`{"query":42}`), 400, "EINVALID", nil},
		{"variables is a string", anon(`{"query":"{ me { id } }","variables":"x"}`), 400, "EINVALID", nil},
		{"variables is an array", anon(`{"query":"{ me { id } }","variables":[1]}`), 400, "EINVALID", nil},
		{"variables is a number", anon(`{"query":"{ me { id } }","variables":1}`), 400, "EINVALID", nil},
		{"operationName is a number", anon(`{"query":"{ me { id } }","operationName":5}`), 400, "EINVALID", nil},
		{"operationName is an object", anon(`{"query":"{ me { id } }","operationName":{}}`), 400, "EINVALID", nil},
		{"extensions is a string", anon(`{"query":"{ me { id } }","extensions":"x"}`), 400, "EINVALID", nil},
		{"extensions is an array", anon(`{"query":"{ me { id } }","extensions":[]}`), 400, "EINVALID", nil},
		{"duplicate query keys", body(`{"query":"{ me { id } }","query":"{ __typename }"}`), 400, "EINVALID", nil},
		{"duplicate keys in variables", body(`{"query":"{ me { id } }","variables":{"a":1,"a":2}}`), 400, "EINVALID", nil},
		{"duplicate keys deep in extensions", body(`{"query":"{ me { id } }","extensions":{"x":{"y":1,"y":1}}}`), 400, "EINVALID", nil},
		{"variables nested 100 deep", body(`{"query":"{ me { id } }","variables":` + deep + `}`), 400, "EINVALID", nil},
		{"garbage after the object", anon(`{"query":"{ me { id } }"} x`), 400, "EINVALID", nil},
		{"two objects", anon(`{"query":"{ me { id } }"}{"query":"{ me { id } }"}`), 400, "EINVALID", nil},
		{"empty body", anon(``), 400, "EINVALID", nil},
		{"whitespace body", anon("  \n "), 400, "EINVALID", nil},
		{"null body", anon(`null`), 400, "EINVALID", nil},
		{"number body", anon(`42`), 400, "EINVALID", nil},
		{"no query at all", body(`{}`), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"subscription over plain POST", body(`{"query":"subscription { feed { __typename } }"}`), 400, "EINVALID", nil},
		{"PUT", method(http.MethodPut), 405, "EINVALID", allow},
		{"DELETE", method(http.MethodDelete), 405, "EINVALID", allow},
		{"PATCH", method(http.MethodPatch), 405, "EINVALID", allow},
		{"Content-Type with an empty parameter", ctype("application/json; charset="), 415, "EINVALID", nil},
		{"no Content-Type", ctype(""), 415, "EINVALID", nil},
		{"application/graphql", ctype("application/graphql"), 415, "EINVALID", nil},

		// GET parameters.
		{"GET variables not JSON", get("query=" + url.QueryEscape(`{ me { id } }`) + "&variables=nope"), 400, "EINVALID", nil},
		{"GET variables an array", get("query=" + url.QueryEscape(`{ me { id } }`) + "&variables=%5B1%5D"), 400, "EINVALID", nil},
		{"GET variables with duplicate keys", get("query=" + url.QueryEscape(`{ me { id } }`) + "&variables=" + url.QueryEscape(`{"a":1,"a":2}`)), 400, "EINVALID", nil},
		{"GET extensions a string", get("query=" + url.QueryEscape(`{ me { id } }`) + "&extensions=%22x%22"), 400, "EINVALID", nil},
		{"GET query twice", get("query=" + url.QueryEscape(`{ me { id } }`) + "&query=" + url.QueryEscape(`{ __typename }`)), 400, "EINVALID", nil},
		{"GET malformed escape", get("query=%zz"), 400, "EINVALID", nil},
		{"GET subscription", get("query=" + url.QueryEscape(`subscription { feed { __typename } }`)), 405, "EINVALID", allow},
		{"GET without a query", get(""), 422, "GRAPHQL_VALIDATION_FAILED", nil},

		// Scalars: Time, Cursor, ID, the local day, Int, Float.
		{"observedAt yesterday (literal)", body(mustJSON(t, map[string]any{"query": sample(`metric: "resting_hr", value: 60, unit: "bpm", observedAt: "yesterday", localDay: "2024-01-01", source: "manual"`)})), 200, "EINVALID", nil},
		{"observedAt yesterday (variable)", ingest(map[string]any{"observedAt": "yesterday"}), 200, "EINVALID", nil},
		{"observedAt a number", ingest(map[string]any{"observedAt": 1700000000}), 200, "EINVALID", nil},
		{"observedAt month 13", ingest(map[string]any{"observedAt": "2024-13-01T00:00:00Z"}), 200, "EINVALID", nil},
		{"observedAt without a zone", ingest(map[string]any{"observedAt": "2024-03-01T08:00:00"}), 200, "EINVALID", nil},
		{"observedAt an object", ingest(map[string]any{"observedAt": map[string]any{"a": 1}}), 0, "EINVALID", nil},
		{"localDay yesterday", ingest(map[string]any{"localDay": "yesterday"}), 200, "EINVALID", nil},
		{"localDay February 30", ingest(map[string]any{"localDay": "2024-02-30"}), 200, "EINVALID", nil},
		{"localDay another day", ingest(map[string]any{"localDay": "2024-03-05"}), 200, "EINVALID", nil},
		{"insights after garbage", body(mustJSON(t, map[string]any{"query": `{ insights(after: "garbage") { totalCount } }`})), 200, "EINVALID", nil},
		{"insights before garbage", body(mustJSON(t, map[string]any{"query": `{ insights(last: 2, before: "garbage") { totalCount } }`})), 200, "EINVALID", nil},
		{"auditEvents after base64 of nothing", body(mustJSON(t, map[string]any{"query": `{ auditEvents(after: "AAAA") { totalCount } }`})), 200, "EINVALID", nil},
		{"observations after punctuation", body(mustJSON(t, map[string]any{"query": `{ observations(after: "!!!") { totalCount } }`})), 200, "EINVALID", nil},
		{"evaluations after garbage", body(mustJSON(t, map[string]any{"query": `{ evaluations(after: "x") { totalCount } }`})), 200, "EINVALID", nil},
		{"interventions after garbage", body(mustJSON(t, map[string]any{"query": `{ interventions(after: "x") { totalCount } }`})), 200, "EINVALID", nil},
		{"narratives after garbage", body(mustJSON(t, map[string]any{"query": `{ narratives(after: "x") { totalCount } }`})), 200, "EINVALID", nil},
		{"cursor in a variable", op(token, `query($c: Cursor) { insights(after: $c) { totalCount } }`, map[string]any{"c": "garbage"}), 200, "EINVALID", nil},
		{"cursor a number", op(token, `query($c: Cursor) { insights(after: $c) { totalCount } }`, map[string]any{"c": 12}), 200, "EINVALID", nil},
		{"ID an object", op(token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": map[string]any{"a": 1}}), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"ID unknown", op(token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "nope"}), 200, "ENOTFOUND", nil},
		{"first a string", op(token, `query($n: Int) { insights(first: $n) { totalCount } }`, map[string]any{"n": "ten"}), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"first beyond 32 bits", body(mustJSON(t, map[string]any{"query": `{ insights(first: 99999999999) { totalCount } }`})), 200, "ELIMIT", nil},
		{"value beyond float64", body(`{"query":"mutation($in: [ObservationInput!]!) { ingestObservations(input: $in) { inserted } }","variables":{"in":[{"metric":"resting_hr","value":1e400,"unit":"bpm","observedAt":"2024-03-01T08:00:00Z","localDay":"2024-03-01","source":"manual"}]}}`), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"value a string", ingest(map[string]any{"value": "sixty"}), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"unknown enum value", body(mustJSON(t, map[string]any{"query": `{ insights(minGrade: Z) { totalCount } }`})), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"undeclared variable", op(token, `{ insights(first: $n) { totalCount } }`, nil), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"required variable missing", op(token, `query($id: ID!) { node(id: $id) { id } }`, nil), 422, "GRAPHQL_VALIDATION_FAILED", nil},

		// Implausible samples: refused whole.
		{"sample dated 1900-01-01", ingest(map[string]any{"observedAt": "1900-01-01T08:00:00Z", "localDay": "1900-01-01"}), 200, "EINVALID", nil},
		{"sample the second before the floor", ingest(map[string]any{"observedAt": "1999-12-31T23:59:59Z", "localDay": "1999-12-31"}), 200, "EINVALID", nil},
		{"sample at the Unix epoch", ingest(map[string]any{"observedAt": "1970-01-01T00:00:00Z", "localDay": "1970-01-01"}), 200, "EINVALID", nil},
		{"sample in year 2999", ingest(map[string]any{"observedAt": "2999-01-01T08:00:00Z", "localDay": "2999-01-01"}), 200, "EINVALID", nil},
		{"unknown metric", ingest(map[string]any{"metric": "mood_ring"}), 200, "EINVALID", nil},
		{"unknown unit", ingest(map[string]any{"unit": "furlongs"}), 200, "EINVALID", nil},
		{"unknown source", ingest(map[string]any{"source": "telepathy"}), 200, "EINVALID", nil},
		{"offset beyond 14 h", ingest(map[string]any{"utcOffsetSeconds": 999999}), 200, "EINVALID", nil},
		{"value out of range", ingest(map[string]any{"value": 100000}), 200, "EINVALID", nil},
		{"empty batch", op(token, `mutation { ingestObservations(input: []) { inserted } }`, nil), 200, "EINVALID", nil},
		{"idempotency key of 300 characters", op(token, `mutation($in: [ObservationInput!]!, $k: String) { ingestObservations(input: $in, idempotencyKey: $k) { inserted } }`, map[string]any{"in": []any{okSample(nil)}, "k": strings.Repeat("k", 300)}), 200, "EINVALID", nil},

		// Filters.
		{"where not {}", body(mustJSON(t, map[string]any{"query": `{ observations(where: {not: {}}) { totalCount } }`})), 200, "EINVALID", nil},
		{"where and [{}]", body(mustJSON(t, map[string]any{"query": `{ insights(where: {and: [{}]}) { totalCount } }`})), 200, "EINVALID", nil},
		{"where or [{}]", body(mustJSON(t, map[string]any{"query": `{ auditEvents(where: {or: [{}]}) { totalCount } }`})), 200, "EINVALID", nil},
		{"where on an unknown field", body(mustJSON(t, map[string]any{"query": `{ insights(where: {nope: 1}) { totalCount } }`})), 422, "GRAPHQL_VALIDATION_FAILED", nil},

		// Capped error lists.
		{"1000 repeated directives (refused before validation)", body(mustJSON(t, map[string]any{"query": "{ __typename " + strings.Repeat("@a ", 1000) + "}"})), 200, "ELIMIT", nil},
		{"200 unknown fields, one name (refused before validation)", body(mustJSON(t, map[string]any{"query": "{ " + strings.Repeat("nope ", 200) + "}"})), 200, "ELIMIT", nil},
		{"30 unknown fields", body(mustJSON(t, map[string]any{"query": "{ " + strings.Repeat("nope ", 30) + "}"})), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"APQ hash mismatch", body(`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abcd"}}}`), 200, "EINVALID", nil},
		{"APQ version 2", body(`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":2,"sha256Hash":"abcd"}}}`), 0, "EINVALID", nil},

		// Credentials.
		{"Bearer with nothing", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"query":"{ me { id } }"}`), header: map[string]string{"Authorization": "Bearer "}}, 401, "EUNAUTHORIZED", wwwAuth},
		{"Bearer a.b.c", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"query":"{ me { id } }"}`), header: map[string]string{"Authorization": "Bearer a.b.c"}}, 401, "EUNAUTHORIZED", wwwAuth},
		{"Bearer of 4 KB", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"query":"{ me { id } }"}`), header: map[string]string{"Authorization": "Bearer " + strings.Repeat("x", 4096)}}, 401, "EUNAUTHORIZED", wwwAuth},
		{"token of a user that does not exist (deleted)", op(signFor(kid, "01HZZZZZZZZZZZZZZZZZZZZZZZ"), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", wwwAuth},
		{"deleted user's token on a mutation", op(signFor(kid, "01HZZZZZZZZZZZZZZZZZZZZZZZ"), sample(`metric: "resting_hr", value: 60, unit: "bpm", observedAt: "2024-03-01T08:00:00Z", localDay: "2024-03-01", source: "manual"`), nil), 401, "EUNAUTHORIZED", wwwAuth},
	}
	// Without a token every field is EUNAUTHORIZED, never EFORBIDDEN.
	for _, q := range []string{
		`{ me { id } }`, `{ insights { totalCount } }`, `{ auditEvents { totalCount } }`, `{ observations { totalCount } }`,
		`{ evaluations { totalCount } }`, `{ interventions { totalCount } }`, `{ narratives { totalCount } }`,
		`{ node(id: "x") { id } }`, `{ adminAuditTrail(userID: "x") { id } }`, `mutation { runLoop { __typename } }`,
		sample(`metric: "resting_hr", value: 60, unit: "bpm", observedAt: "2024-03-01T08:00:00Z", localDay: "2024-03-01", source: "manual"`),
		`{ insights(where: {idIn: []}) { totalCount } }`,
	} {
		cases = append(cases, badCase{fmt.Sprintf("no token: %.60s", q), op("", q, nil), 200, "EUNAUTHORIZED", nil})
	}
	return cases
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
