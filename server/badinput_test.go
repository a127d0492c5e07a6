package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// TestBadInput sends hostile requests to a production-mode server on
// PostgreSQL and checks each is refused with the right status and code and
// that no row anywhere was written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, func(c *server.Config) {
		c.Security.MaxDepth = 4   // the schema has no recursive edges: a valid depth-5 document is the bomb
		c.Security.MaxCost = 1000 // one 100-wide connection of 13 fields is the complexity bomb
	})
	alice := s.signUp(t, "alice@example.com")
	bob := s.signUp(t, "bob@example.com")
	now := time.Now()
	_, strangerKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pub := s.Cur.priv.Public().(ed25519.PublicKey)
	tok := func(kid string, mutate func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, kid, "at+jwt", claims(alice.User.ID, mutate))
	}
	noneTok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, s.Cur.kid, "at+jwt", claims(alice.User.ID, nil))
	hsTok := sign(t, jwt.SigningMethodHS256, []byte(pub), s.Cur.kid, "at+jwt", claims(alice.User.ID, nil))

	post := func(body string) request {
		return request{method: http.MethodPost, contentType: "application/json", body: []byte(body)}
	}
	gqlBody := func(q string, vars map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"query": q, "variables": vars})
		require.NoError(t, err)
		return b
	}
	authed := func(token, q string, vars map[string]any) request {
		r := request{method: http.MethodPost, contentType: "application/json", body: gqlBody(q, vars)}
		if token != "" {
			r.header = map[string]string{"Authorization": "Bearer " + token}
		}
		return r
	}
	as := func(q string) request { return authed(alice.AccessToken, q, nil) }
	repeat := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
			b.WriteByte(' ')
		}
		return b.String()
	}
	introspectionBomb := "{ __schema { types { " + strings.Repeat("fields { type { ", 25) + "name" + strings.Repeat(" } }", 25) + " } } }"
	fragChain := "query { ...F0 } " + repeat(6, func(i int) string {
		if i == 5 {
			return fmt.Sprintf("fragment F%d on Query { insights { edges { node { evidence { grade } } } } }", i)
		}
		return fmt.Sprintf("fragment F%d on Query { ...F%d }", i, i+1)
	})
	batch := "[" + strings.TrimSuffix(repeat(100, func(int) string { return `{"query":"{ me { id } }"},` }), ", ") + "]"
	batch = strings.ReplaceAll(batch, ", ]", "]")
	batch = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(batch, "]")), ",") + "]"

	cases := []badCase{
		{"depth bomb (valid document deeper than the limit)", as(`{ insights { edges { node { evidence { grade } } } } }`), 200, "ELIMIT", nil},
		{"depth bomb through a fragment chain", as(fragChain), 200, "ELIMIT", nil},
		{"depth bomb through introspection (50 levels)", as(introspectionBomb), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"complexity bomb: 100-wide connection × 13 fields", as(`{ auditEvents(first: 100) { edges { node { id seq entityType entityID action decision reason actor requestID prevHash hash createdAt details } } } }`), 200, "ELIMIT", nil},
		{"1000 aliases", as("{ me { " + repeat(1000, func(i int) string { return fmt.Sprintf("a%d: id", i) }) + "} }"), 200, "ELIMIT", nil},
		{"1000 aliased signIn calls", post(string(gqlBody("mutation { "+repeat(1000, func(i int) string {
			return fmt.Sprintf(`s%d: signIn(email: "alice@example.com", password: "guess%d") { accessToken }`, i, i)
		})+"}", nil))), 200, "ELIMIT", nil},
		{"signIn sent with another mutation", post(string(gqlBody(`mutation { signIn(email: "a@example.com", password: "x") { accessToken } runLoop { __typename } }`, nil))), 200, "EINVALID", nil},
		{"same field 2000 times", as("{ me { " + strings.Repeat("id ", 2000) + "} }"), 200, "ELIMIT", nil},
		{"huge first", as(`{ auditEvents(first: 2147483647) { totalCount } }`), 200, "ELIMIT", nil},
		{"first above the page cap", as(`{ auditEvents(first: 101) { totalCount } }`), 200, "ELIMIT", nil},
		{"negative first", as(`{ auditEvents(first: -1) { totalCount } }`), 200, "EINVALID", nil},
		{"batch of 100 operations", post(batch), 400, "ELIMIT", nil},
		{"10 MB body", post(`{"query":"{ me { id } }","variables":{"x":"` + strings.Repeat("a", 10<<20) + `"}}`), 413, "ELIMIT", nil},
		{"invalid UTF-8", post("{\"query\":\"{ me { id } }\",\"variables\":{\"x\":\"\xff\xfe\"}}"), 400, "EINVALID", nil},
		{"malformed JSON", post(`{"query": "{ me { id } }"`), 400, "EINVALID", nil},
		{"JSON that is not an object", post(`"{ me { id } }"`), 400, "EINVALID", nil},
		{"text/plain POST (CSRF)", request{method: http.MethodPost, contentType: "text/plain", body: gqlBody(`{ me { id } }`, nil)}, 415, "EINVALID", nil},
		{"urlencoded POST (CSRF)", request{method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: []byte("query=%7B%20me%20%7B%20id%20%7D%20%7D")}, 415, "EINVALID", nil},
		{"multipart POST without a preflight header (CSRF)", request{method: http.MethodPost, contentType: "multipart/form-data; boundary=x", body: []byte("--x--")}, 400, "EINVALID", nil},
		{"multipart POST without operations", request{method: http.MethodPost, contentType: "multipart/form-data; boundary=x", body: []byte("--x--"), header: map[string]string{"GraphQL-Preflight": "1"}}, 422, "EINVALID", nil},
		{"unknown operation", post(`{"query":"query A { me { id } }","operationName":"Nope"}`), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"mutation over GET", request{method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(`mutation { signUp(email: "x@example.com", password: "0123456789ab") { accessToken } }`)}, 405, "EINVALID", nil},
		{"introspection in production", as(`{ __schema { types { name } } }`), 200, "EFORBIDDEN", nil},
		{"misspelt field gets no suggestion", as(`{ mee { id } }`), 422, "GRAPHQL_VALIDATION_FAILED", nil},
		{"directive overloading beyond the token limit", as("{ __typename " + strings.Repeat("@a", 20000) + " }"), 422, "GRAPHQL_PARSE_FAILED", nil},
		{"unknown persisted query hash", post(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`), 200, "PERSISTED_QUERY_NOT_FOUND", nil},
		{"no token in production", authed("", `{ me { id } }`, nil), 200, "EUNAUTHORIZED", nil},
		{"expired token", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"not-yet-valid token", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"token without exp", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { delete(c, "exp") }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"wrong audience", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { c["aud"] = "someone-else" }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"wrong issuer", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"role escalation claim", authed(tok(s.Cur.kid, func(c jwt.MapClaims) { c["role"] = "SYSTEM" }), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"alg none", authed(noneTok, `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"HS256 signed with the public key", authed(hsTok, `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"unknown kid", authed(tok("k-unknown", nil), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"stranger's key with a known kid", authed(sign(t, jwt.SigningMethodEdDSA, strangerKey, s.Cur.kid, "at+jwt", claims(alice.User.ID, nil)), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"hostile jku header is ignored", authed(func() string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(alice.User.ID, nil))
			tk.Header["kid"], tk.Header["typ"], tk.Header["jku"] = "k-evil", "at+jwt", "https://evil.example/jwks.json"
			str, err := tk.SignedString(strangerKey)
			require.NoError(t, err)
			return str
		}(), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"wrong typ", authed(sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "JWT", claims(alice.User.ID, nil)), `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"refresh token used as an access token", authed(alice.RefreshToken, `{ me { id } }`, nil), 401, "EUNAUTHORIZED", nil},
		{"Basic instead of Bearer", request{method: http.MethodPost, contentType: "application/json", body: gqlBody(`{ me { id } }`, nil), header: map[string]string{"Authorization": "Basic YWxpY2U6eA=="}}, 401, "EUNAUTHORIZED", nil},
		{"wrong password", post(string(gqlBody(`mutation { signIn(email: "alice@example.com", password: "wrong password!") { accessToken } }`, nil))), 200, "EUNAUTHORIZED", nil},
		{"sign up with a taken email", post(string(gqlBody(`mutation { signUp(email: "bob@example.com", password: "0123456789ab") { accessToken } }`, nil))), 200, "ECONFLICT", nil},
		{"sign up with a short password", post(string(gqlBody(`mutation { signUp(email: "carol@example.com", password: "short") { accessToken } }`, nil))), 200, "EINVALID", nil},
		{"unknown refresh token", post(string(gqlBody(`mutation { refreshToken(token: "vgr_nope") { accessToken } }`, nil))), 200, "EUNAUTHORIZED", nil},
		{"another user's node(id:)", authed(alice.AccessToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": bob.User.ID}), 200, "ENOTFOUND", nil},
		{"another user's audit trail (admin only)", authed(alice.AccessToken, `query($id: ID!) { adminAuditTrail(userID: $id) { id } }`, map[string]any{"id": bob.User.ID}), 200, "EFORBIDDEN", nil},
		{"plain HTTP in production", request{method: http.MethodPost, contentType: "application/json", body: gqlBody(`{ me { id } }`, nil), plain: true}, 403, "EFORBIDDEN", nil},
	}
	// Documents whose validation cost is quadratic are refused before it.
	for _, wc := range limits.WorstCases(7000) {
		cases = append(cases, badCase{"worst case: " + wc.Name, as(wc.Query), 200, "ELIMIT", nil})
	}
	// Every mutation argument that takes an id, with another user's id: add
	// new mutations here.
	idMutations := []struct{ name, query string }{
		{"runLoop(userID:)", `mutation($id: ID!) { runLoop(userID: $id) { __typename } }`},
		{"adminRevokeSessions(userID:)", `mutation($id: ID!) { adminRevokeSessions(userID: $id) }`},
	}
	for _, m := range idMutations {
		cases = append(cases, badCase{"another user's id in " + m.name, authed(alice.AccessToken, m.query, map[string]any{"id": bob.User.ID}), 200, "EFORBIDDEN", nil})
	}
	cases = append(cases, edgeCases(t, alice.AccessToken, func(kid, sub string) string {
		return sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, kid, "at+jwt", claims(sub, nil))
	}, s.Cur.kid)...)
	require.GreaterOrEqual(t, len(cases), 120)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := counts(t, s.DB)
			out := s.send(t, tc.req)
			if tc.status != 0 {
				require.Equal(t, tc.status, out.Status, "errors: %+v", out.Errors)
			}
			require.NotEmpty(t, out.Errors)
			require.Contains(t, out.Codes(), tc.code, "errors: %+v", out.Errors)
			require.LessOrEqual(t, len(out.Errors), 21, "error lists are capped at 20 (+1 summary)")
			require.NotEmpty(t, out.Header.Get("X-Request-ID"))
			for k, v := range tc.header {
				if v == "" {
					require.NotEmpty(t, out.Header.Get(k), "header %s", k)
				} else {
					require.Equal(t, v, out.Header.Get(k), "header %s", k)
				}
			}
			for _, e := range out.Errors {
				require.NotEmpty(t, e.Code(), "every error has extensions.code: %+v", out.Errors)
				require.NotEqual(t, "EINTERNAL", e.Code(), "client input is never an internal error: %+v", out.Errors)
				require.NotContains(t, e.Message, "Did you mean", "no field suggestions in production")
				for _, leak := range []string{"pq:", "dial tcp", "json:", "ent:", "token is malformed", "token contains", "strconv", "msgpack", "base64", "runtime error", "goroutine"} {
					require.NotContains(t, e.Message, leak, "no library or driver text")
				}
			}
			require.Equal(t, before, counts(t, s.DB), "nothing may be stored")
		})
	}
}

// badCase is one hostile request of TestBadInput and what it must answer.
type badCase struct {
	name   string
	req    request
	status int // 0 = any
	code   string
	header map[string]string // headers the response must carry ("" = any value)
}

func TestPlainHTTPGetIsRedirectedAndHSTSIsSent(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	out := s.send(t, request{method: http.MethodGet, path: "/graphql?query=%7B__typename%7D", plain: true})
	require.Equal(t, http.StatusPermanentRedirect, out.Status)
	require.True(t, strings.HasPrefix(out.Header.Get("Location"), "https://"))
	out = s.send(t, request{method: http.MethodGet, path: "/graphql?query=%7B__typename%7D"})
	require.Equal(t, "max-age=31536000; includeSubDomains", out.Header.Get("Strict-Transport-Security"))
	// Probes stay on plain HTTP.
	out = s.send(t, request{method: http.MethodGet, path: "/healthz", plain: true})
	require.Equal(t, http.StatusOK, out.Status)
}

func TestCORSAllowList(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	pre := func(origin string) response {
		return s.send(t, request{method: http.MethodOptions, header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type",
		}})
	}
	ok := pre("https://app.example.com")
	require.Equal(t, "https://app.example.com", ok.Header.Get("Access-Control-Allow-Origin"), "status %d headers %v", ok.Status, ok.Header)
	require.Empty(t, pre("https://evil.example").Header.Get("Access-Control-Allow-Origin"))
}
