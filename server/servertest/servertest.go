// Package servertest starts real Vitalgraph servers for tests: on a fresh
// PostgreSQL schema (TEST_DATABASE_URL, default the local "test" database) or
// a fresh SQLite file, behind a real httptest server, with a small GraphQL
// client. Nothing is mocked.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns TEST_DATABASE_URL or the default local test database.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RedisURL returns TEST_REDIS_URL or the default local Redis.
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NewPostgresSchema creates an empty schema for this test and returns a URL
// whose search_path points at it; the schema is dropped at cleanup. It fails
// (never skips) when PostgreSQL does not answer: `make test` brings it up.
func NewPostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL()
	db, err := sql.Open("postgres", base)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	require.NoError(tb, db.PingContext(context.Background()), "PostgreSQL is not reachable at %s: run `make test` (it starts it) or set TEST_DATABASE_URL", base)
	schema := randomName("t_")
	_, err = db.ExecContext(context.Background(), `CREATE SCHEMA `+schema)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	require.NoError(tb, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NewPostgresStore opens a migrated store on a fresh schema.
func NewPostgresStore(tb testing.TB) *server.Store {
	tb.Helper()
	st, err := server.OpenPostgres(context.Background(), NewPostgresSchema(tb))
	require.NoError(tb, err)
	_, err = st.Migrate(context.Background())
	require.NoError(tb, err)
	return st
}

// NewSQLiteStore opens a migrated store on a fresh SQLite file.
func NewSQLiteStore(tb testing.TB) *server.Store {
	tb.Helper()
	st, err := server.OpenSQLite(context.Background(), server.SQLiteDSN(tb.TempDir()))
	require.NoError(tb, err)
	_, err = st.Migrate(context.Background())
	require.NoError(tb, err)
	return st
}

// Backends lists the storage backends every API test runs on.
var Backends = []struct {
	Name string
	Open func(testing.TB) *server.Store
}{
	{Name: "postgres", Open: NewPostgresStore},
	{Name: "sqlite", Open: NewSQLiteStore},
}

// Server is a running Vitalgraph behind httptest.
type Server struct {
	*httptest.Server
	App *server.App
}

// Config returns a dev-mode configuration for tests.
func Config() server.Config {
	return server.Config{
		EnvMode:         server.ModeDev,
		Addr:            "127.0.0.1:0",
		LogLevel:        slog.LevelWarn,
		ShutdownTimeout: 5e9,
		MaxBodyBytes:    1 << 20,
		DemoUserEmail:   "demo@vitalgraph.local",
		Guardrails:      server.DefaultGuardrails(),
		JobsDebounce:    time.Hour, // background loop runs never interleave with a test; TestIngestionTriggersTheLoop shortens it
		WorkerInProcess: true,
		Version:         "test",
		Commit:          "test",
	}
}

// NewServer starts a server on st. mutate may adjust the configuration.
func NewServer(tb testing.TB, st *server.Store, mutate func(*server.Config)) *Server {
	tb.Helper()
	cfg := Config()
	cfg.JobsQueue = randomName("test-loop-") // parallel servers never share a job queue
	if mutate != nil {
		mutate(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = server.NewLogger(os.Stderr, cfg)
	}
	app, err := server.NewAppWithStore(context.Background(), cfg, log, st)
	require.NoError(tb, err)
	hs := httptest.NewServer(app.Handler())
	tb.Cleanup(func() {
		hs.Close()
		_ = app.Close()
	})
	return &Server{Server: hs, App: app}
}

// CreateUser creates a user (as the system viewer) and returns its id.
func (s *Server) CreateUser(tb testing.TB, email string) string {
	tb.Helper()
	id, err := server.EnsureUser(context.Background(), s.App.Store.Client, email, email, user.RoleUSER)
	require.NoError(tb, err)
	return id
}

// Response is a decoded GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Status int             `json:"-"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string {
	s, _ := e.Extensions["code"].(string)
	return s
}

// Codes returns the codes of all errors.
func (r Response) Codes() []string {
	out := make([]string, 0, len(r.Errors))
	for _, e := range r.Errors {
		out = append(out, e.Code())
	}
	return out
}

// Decode unmarshals data into v, failing the test on errors in the response.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	require.Empty(tb, r.Errors, "unexpected GraphQL errors")
	require.NoError(tb, json.Unmarshal(r.Data, v))
}

// Do posts a GraphQL request as userID (sent as X-Debug-User; "" = the demo user).
func (s *Server) Do(tb testing.TB, userID, query string, vars map[string]any) Response {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(tb, err)
	return s.Raw(tb, userID, "application/json", body)
}

// Raw posts a raw body to /graphql and decodes whatever JSON comes back.
func (s *Server) Raw(tb testing.TB, userID, contentType string, body []byte) Response {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", contentType)
	if userID != "" {
		req.Header.Set("X-Debug-User", userID)
	}
	resp, err := s.Client().Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	out := Response{Status: resp.StatusCode}
	if len(raw) > 0 && strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		require.NoError(tb, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return out
}
