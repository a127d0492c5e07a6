package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/limits"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// testKey is one Ed25519 key written to a keys file.
type testKey struct {
	kid  string
	priv ed25519.PrivateKey
}

func newTestKey(t *testing.T, kid string) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return testKey{kid: kid, priv: priv}
}

// writeKeys writes a JWT keys file atomically (signing with signKID).
func writeKeys(t *testing.T, path, signKID string, keys ...testKey) {
	t.Helper()
	type entry struct {
		KID        string `json:"kid"`
		PrivateKey string `json:"privateKey"`
	}
	f := struct {
		SigningKey string  `json:"signingKey"`
		Keys       []entry `json:"keys"`
	}{SigningKey: signKID}
	for _, k := range keys {
		f.Keys = append(f.Keys, entry{KID: k.kid, PrivateKey: base64.StdEncoding.EncodeToString(k.priv.Seed())})
	}
	data, err := json.Marshal(f)
	require.NoError(t, err)
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// claims builds access-token claims that the test servers accept.
func claims(sub string, mutate func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": sub, "role": "USER", "iss": "vitalgraph", "aud": []string{"vitalgraph-api"},
		"exp": now.Add(10 * time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}

// sign signs c with method and key, with the given kid and typ headers.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid, typ string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	tok.Header["typ"] = typ
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// secureServer is a production-mode server on PostgreSQL behind a "trusted
// proxy" (the loopback), with a keys file in a temp dir.
type secureServer struct {
	*servertest.Server
	KeysFile string
	Old, Cur testKey
	DB       *sql.DB
}

func newSecureServer(t *testing.T, mutate func(*server.Config)) *secureServer {
	t.Helper()
	dir := t.TempDir()
	s := &secureServer{KeysFile: filepath.Join(dir, "jwt-keys.json"), Old: newTestKey(t, "k-old"), Cur: newTestKey(t, "k-cur")}
	writeKeys(t, s.KeysFile, s.Cur.kid, s.Cur, s.Old)
	st := servertest.NewPostgresStore(t)
	s.DB = st.DB
	proxies, err := limits.ParseProxies("127.0.0.1/32,::1/128")
	require.NoError(t, err)
	s.Server = servertest.NewServer(t, st, func(c *server.Config) {
		c.EnvMode = server.ModeProduction
		c.Security = server.SecurityConfig{
			JWTKeysFile: s.KeysFile, JWTKeysReload: 50 * time.Millisecond,
			CORSOrigins: []string{"https://app.example.com"}, TrustedProxies: proxies,
			PersistedQueries: server.PersistedAPQ,
		}
		if mutate != nil {
			mutate(c)
		}
	})
	return s
}

// request is one raw HTTP request in the security tests.
type request struct {
	method, path, contentType string
	header                    map[string]string
	body                      []byte
	plain                     bool // no X-Forwarded-Proto: https
}

type response struct {
	servertest.Response
	Header http.Header
}

func (s *secureServer) send(t *testing.T, r request) response {
	t.Helper()
	if r.path == "" {
		r.path = "/graphql"
	}
	req, err := http.NewRequestWithContext(context.Background(), r.method, s.URL+r.path, bytes.NewReader(r.body))
	require.NoError(t, err)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if !r.plain {
		req.Header.Set("X-Forwarded-Proto", "https")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{Response: servertest.Response{Status: resp.StatusCode}, Header: resp.Header}
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		require.NoError(t, json.Unmarshal(raw, &out.Response), "body: %s", raw)
	}
	return out
}

// gql posts a GraphQL operation with an optional bearer token.
func (s *secureServer) gql(t *testing.T, token, query string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return s.send(t, request{method: http.MethodPost, contentType: "application/json", body: body, header: h})
}

type session struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

const sessionFields = `{ accessToken refreshToken expiresAt user { id email } }`

// signUp creates an account through the API and returns its session.
func (s *secureServer) signUp(t *testing.T, email string) session {
	t.Helper()
	out := s.gql(t, "", `mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) `+sessionFields+` }`,
		map[string]any{"e": email, "p": "correct horse battery"})
	var data struct{ SignUp session }
	out.Decode(t, &data)
	return data.SignUp
}

// counts returns the row count of every table of the test schema.
func counts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '%migrations%'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.NotEmpty(t, tables)
	out := map[string]int{}
	for _, n := range tables {
		var c int
		require.NoError(t, db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q`, n)).Scan(&c))
		out[n] = c
	}
	return out
}
