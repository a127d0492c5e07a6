package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/limits"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// lockedBuffer is a log sink tests read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// edgeApp is a production-mode App on a fresh PostgreSQL schema, driven
// through its real HTTP handler, with its log captured.
type edgeApp struct {
	App     *server.App
	Handler http.Handler
	Log     *lockedBuffer
	Token   string // a signed-up user's access token
	UserID  string
}

// newEdgeApp starts an edgeApp; mutate may adjust the configuration.
func newEdgeApp(tb testing.TB, st *server.Store, mutate func(*server.Config)) *edgeApp {
	tb.Helper()
	dir := tb.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(tb, err)
	keys, err := json.Marshal(map[string]any{"signingKey": "k1", "keys": []map[string]string{{"kid": "k1", "privateKey": base64.StdEncoding.EncodeToString(priv.Seed())}}})
	require.NoError(tb, err)
	keysFile := filepath.Join(dir, "jwt-keys.json")
	require.NoError(tb, os.WriteFile(keysFile, keys, 0o600))
	proxies, err := limits.ParseProxies("127.0.0.1/32,::1/128,192.0.2.0/24")
	require.NoError(tb, err)
	cfg := servertest.Config()
	cfg.EnvMode = server.ModeProduction
	cfg.JobsQueue = fmt.Sprintf("test-edge-%d", time.Now().UnixNano())
	cfg.Security = server.SecurityConfig{
		JWTKeysFile: keysFile, CORSOrigins: []string{"https://app.example.com"}, TrustedProxies: proxies,
		PersistedQueries: server.PersistedAPQ, RateLimitIP: 1_000_000, RateLimitUser: 1_000_000, RateLimitAuth: 1_000_000,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	buf := &lockedBuffer{}
	log := server.NewLogger(buf, cfg)
	app, err := server.NewAppWithStore(context.Background(), cfg, log, st)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = app.Close() })
	e := &edgeApp{App: app, Handler: app.Handler(), Log: buf}
	rec := e.do(tb, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"query":"mutation { signUp(email: \"fuzz@example.com\", password: \"correct horse battery\") { accessToken user { id } } }"}`))
	var out struct {
		Data struct {
			SignUp struct {
				AccessToken string
				User        struct{ ID string }
			}
		}
	}
	require.NoError(tb, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	require.NotEmpty(tb, out.Data.SignUp.AccessToken, rec.Body.String())
	e.Token, e.UserID = out.Data.SignUp.AccessToken, out.Data.SignUp.User.ID
	return e
}

// do sends one request through the handler (as if from a trusted proxy
// over HTTPS) and returns the recorded response.
func (e *edgeApp) do(tb testing.TB, method, target string, header map[string]string, body []byte) *httptest.ResponseRecorder {
	tb.Helper()
	timeout := 5 * time.Second
	if strings.Contains(header["Accept"], "event-stream") {
		timeout = 300 * time.Millisecond // a subscription streams until its context ends
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, method, "http://vitalgraph.test/", bytes.NewReader(body))
	req.URL.RawQuery = ""
	if i := strings.IndexByte(target, '?'); i >= 0 {
		req.URL.Path, req.URL.RawQuery = target[:i], target[i+1:]
	} else {
		req.URL.Path = target
	}
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("X-Forwarded-Proto", "https")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return rec
}

// leakMarkers are words of drivers, libraries and the runtime that must
// never reach a client (unless the client sent them itself).
var leakMarkers = []string{
	"pq: ", "dial tcp", "connection refused", "sql: ", "ent: constraint", "ent: validator", "ent: empty", "ent: ", "json: ", "runtime error", "goroutine ",
	"panic", "msgpack", "strconv.", "invalid character", "unexpected end of JSON", "cannot unmarshal",
	"gqlgen", ".go:", "illegal base64", "reflect:", "nil pointer", "index out of range", "EINTERNAL",
	"internal error", "could not be decoded", "body:", "Bearer ey",
}

// checkEdgeResponse fails when a response to client input is a 5xx other
// than 503, carries EINTERNAL, or quotes a driver, library or the runtime.
func checkEdgeResponse(t *testing.T, e *edgeApp, rec *httptest.ResponseRecorder, input string) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d for client input; body %.500s", rec.Code, body)
	}
	if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After")
	}
	if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After")
	}
	for _, m := range leakMarkers {
		scan := body
		if m == "ent: " {
			scan = strings.ReplaceAll(scan, "event: ", "") // the SSE field
		}
		if strings.Contains(scan, m) && !strings.Contains(input, m) {
			t.Fatalf("response quotes %q: %.800s", m, body)
		}
	}
	if logs := e.Log.String(); strings.Contains(logs, "panic recovered") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("client input logged an error or panic: %.2000s", logs)
	}
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		var out struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if json.Unmarshal([]byte(body), &out) == nil {
			for _, er := range out.Errors {
				if c, _ := er.Extensions["code"].(string); c == "" {
					t.Fatalf("an error without extensions.code: %.800s", body)
				}
			}
			if len(out.Errors) > 21 {
				t.Fatalf("%d errors: the list is not capped", len(out.Errors))
			}
		}
	}
}

// edgeSeeds are real operations and every hostile shape the bad-input
// suite knows, as request bodies.
func edgeSeeds() []string {
	ops := []string{
		`{ me { id email } }`,
		`{ systemStatus { envMode authMode } }`,
		`{ metrics { key unit } }`,
		`{ insights(first: 5) { totalCount edges { cursor node { id } } } }`,
		`{ insights(after: "garbage") { totalCount } }`,
		`{ insights(where: {idIn: []}) { totalCount } }`,
		`{ insights(where: {not: {idIn: []}}) { totalCount } }`,
		`{ observations(where: {not: {}}) { totalCount } }`,
		`{ observations(first: 3, orderBy: {field: OBSERVED_AT, direction: DESC}) { edges { node { id value } } } }`,
		`{ node(id: "nope") { id } }`,
		`{ auditEvents(first: -1) { totalCount } }`,
		`{ __typename @a @a @a @a @a }`,
		`{ __schema { types { name } } }`,
		`mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: "yesterday", localDay: "2024-01-01", source: "manual"}]) { inserted } }`,
		`mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: "1900-01-01T08:00:00Z", localDay: "1900-01-01", source: "manual"}]) { inserted } }`,
		`mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: "2024-01-02T08:00:00Z", localDay: "2024-01-02", source: "manual"}]) { inserted duplicates } }`,
		`mutation { signIn(email: "fuzz@example.com", password: "wrong") { accessToken } }`,
		`mutation { signUp(email: "fuzz@example.com", password: "correct horse battery") { accessToken } }`,
		`mutation { refreshToken(token: "vgr_nope") { accessToken } }`,
		`mutation { runLoop { __typename } }`,
		`subscription { feed { __typename } }`,
	}
	var seeds []string
	for _, op := range ops {
		b, _ := json.Marshal(map[string]any{"query": op})
		seeds = append(seeds, string(b))
	}
	return append(seeds,
		`{"query":42}`, `{"query":{"a":1}}`, `{"query":"{ me { id } }","variables":"x"}`,
		`{"query":"{ me { id } }","operationName":5}`, `{"query":"{ me { id } }","extensions":"x"}`,
		`{"query":"{ me { id } }","query":"{ __typename }"}`, `{"query":"{ me { id } }","variables":{"a":1,"a":2}}`,
		`{"query":"query($t: Time!) { __typename }","variables":{"t":"yesterday"}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abcd"}},"query":"{ __typename }"}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("ab", 32)+`"}}}`,
		`[{"query":"{ me { id } }"}]`, `"x"`, `{`, `{}`, `null`, "\xff",
	)
}

// FuzzHTTPHandler drives the real HTTP handler of a production-mode server
// on PostgreSQL with mutated bodies, query strings, headers and methods,
// seeded with real operations and every hostile case of the bad-input
// suite. Client input may never panic, answer a 5xx other than 503, answer
// EINTERNAL, or quote a driver, a library or the runtime.
func FuzzHTTPHandler(f *testing.F) {
	for i, s := range edgeSeeds() {
		f.Add([]byte(s), "", "", uint8(i%16))
	}
	f.Add([]byte(nil), "query=%7B%20me%20%7B%20id%20%7D%20%7D", "", uint8(1))
	f.Add([]byte(nil), "query=%7Bme%7Bid%7D%7D&variables=%7B%22a%22%3A1%2C%22a%22%3A2%7D", "", uint8(1))
	f.Add([]byte(nil), "query=mutation%7BrunLoop%7B__typename%7D%7D", "", uint8(5))
	f.Add([]byte(nil), "query=%7Bme%7Bid%7D%7D&query=%7B__typename%7D", "", uint8(1))
	f.Add([]byte(`{"query":"{ me { id } }"}`), "", "Bearer not.a.jwt", uint8(8))
	f.Add([]byte(`{"query":"{ me { id } }"}`), "", "Basic YWxpY2U6eA==", uint8(8))
	f.Add([]byte(`{"query":"subscription { feed { __typename } }"}`), "", "", uint8(0x14))
	st := servertest.NewPostgresStore(f)
	e := newEdgeApp(f, st, nil)
	f.Fuzz(func(t *testing.T, body []byte, rawQuery, authz string, flags uint8) {
		method := []string{http.MethodPost, http.MethodGet, http.MethodPost, http.MethodOptions}[flags&3]
		h := map[string]string{"Content-Type": "application/json"}
		switch {
		case flags&8 != 0:
			h["Authorization"] = authz
		case flags&4 != 0:
			h["Authorization"] = "Bearer " + e.Token
		}
		if flags&16 != 0 {
			h["Accept"] = "text/event-stream"
		}
		if flags&32 != 0 {
			h["X-Request-ID"] = authz
		}
		if flags&64 != 0 {
			h["Content-Type"] = "application/json; charset=" + authz
		}
		target := "/graphql"
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		if method != http.MethodPost {
			body = nil
		}
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() { done <- e.do(t, method, target, h, body) }()
		var rec *httptest.ResponseRecorder
		select {
		case rec = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("the request did not finish within 20 s (its context ends after 5 s): %s %s flags %#x", method, target, flags)
		}
		checkEdgeResponse(t, e, rec, string(body)+rawQuery+authz+e.Token)
		_, _ = io.Copy(io.Discard, rec.Body)
	})
}

// newSecureServerStore opens a migrated PostgreSQL store for an edgeApp.
func newSecureServerStore(t *testing.T) *server.Store {
	t.Helper()
	return servertest.NewPostgresStore(t)
}

// httptestServer serves an edgeApp on a real listener and returns its URL.
func httptestServer(t *testing.T, e *edgeApp) string {
	t.Helper()
	hs := httptest.NewServer(e.Handler)
	t.Cleanup(hs.Close)
	return hs.URL
}
