package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func TestAuthFlowAndRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "alice@example.com")
	var me struct{ Me struct{ ID, Email string } }
	s.gql(t, alice.AccessToken, `{ me { id email } }`, nil).Decode(t, &me)
	require.Equal(t, alice.User.ID, me.Me.ID)

	in := s.gql(t, "", `mutation { signIn(email: "ALICE@example.com", password: "correct horse battery") `+sessionFields+` }`, nil)
	var signIn struct{ SignIn session }
	in.Decode(t, &signIn)
	require.Equal(t, alice.User.ID, signIn.SignIn.User.ID)

	refresh := func(tok string) response {
		return s.gql(t, "", `mutation($t: String!) { refreshToken(token: $t) `+sessionFields+` }`, map[string]any{"t": tok})
	}
	var r1 struct{ RefreshToken session }
	refresh(alice.RefreshToken).Decode(t, &r1)
	require.NotEqual(t, alice.RefreshToken, r1.RefreshToken.RefreshToken, "rotated")

	// Reuse of the rotated token: refused, the family revoked, one audit event.
	before := counts(t, s.DB)
	out := refresh(alice.RefreshToken)
	require.Equal(t, []string{"EUNAUTHORIZED"}, out.Codes())
	after := counts(t, s.DB)
	require.Equal(t, before["refresh_tokens"], after["refresh_tokens"], "no token issued")
	require.Equal(t, before["audit_events"]+1, after["audit_events"], "the revocation is audited")
	var reason string
	require.NoError(t, s.DB.QueryRow(`SELECT decision FROM audit_events WHERE user_id = $1 AND action = 'revoke' ORDER BY seq DESC LIMIT 1`, alice.User.ID).Scan(&reason))
	require.Equal(t, auth.ReasonReuse, reason)
	// The newest token of the family is dead too; the other sign-in lives.
	require.Equal(t, []string{"EUNAUTHORIZED"}, refresh(r1.RefreshToken.RefreshToken).Codes())
	var r2 struct{ RefreshToken session }
	refresh(signIn.SignIn.RefreshToken).Decode(t, &r2)

	// signOut revokes that family.
	var so struct{ SignOut bool }
	s.gql(t, "", `mutation($t: String!) { signOut(refreshToken: $t) }`, map[string]any{"t": r2.RefreshToken.RefreshToken}).Decode(t, &so)
	require.True(t, so.SignOut)
	require.Equal(t, []string{"EUNAUTHORIZED"}, refresh(r2.RefreshToken.RefreshToken).Codes())

	// systemStatus needs a viewer and reports production settings.
	var ss struct {
		SystemStatus struct{ EnvMode, AuthMode, SafetyStatus string }
	}
	s.gql(t, alice.AccessToken, `{ systemStatus { envMode authMode safetyStatus loggingLevel llmEnabled providersEnabled } }`, nil).Decode(t, &ss)
	require.Equal(t, "production", ss.SystemStatus.EnvMode)
	require.Equal(t, "required", ss.SystemStatus.AuthMode)
}

func TestAdminActionsAreCheckedAndAudited(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	bob := s.signUp(t, "bob@example.com")
	adminID, err := server.EnsureUser(context.Background(), s.App.Store.Client, "admin@example.com", "Admin", user.RoleADMIN)
	require.NoError(t, err)
	adminTok := sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "at+jwt", claims(adminID, func(c jwt.MapClaims) { c["role"] = "ADMIN" }))

	before := counts(t, s.DB)
	var trail struct {
		AdminAuditTrail []struct{ ID string } `json:"adminAuditTrail"`
	}
	s.gql(t, adminTok, `query($id: ID!) { adminAuditTrail(userID: $id, first: 10) { id } }`, map[string]any{"id": bob.User.ID}).Decode(t, &trail)
	var actor, action string
	require.NoError(t, s.DB.QueryRow(`SELECT actor, action FROM audit_events WHERE user_id = $1 ORDER BY seq DESC LIMIT 1`, bob.User.ID).Scan(&actor, &action))
	require.Equal(t, adminID, actor)
	require.Equal(t, "admin_read_audit_trail", action)
	require.Equal(t, before["audit_events"]+1, counts(t, s.DB)["audit_events"])

	var rev struct{ AdminRevokeSessions int }
	s.gql(t, adminTok, `mutation($id: ID!) { adminRevokeSessions(userID: $id) }`, map[string]any{"id": bob.User.ID}).Decode(t, &rev)
	require.Equal(t, 1, rev.AdminRevokeSessions)
	out := s.gql(t, "", `mutation($t: String!) { refreshToken(token: $t) { accessToken } }`, map[string]any{"t": bob.RefreshToken})
	require.Equal(t, []string{"EUNAUTHORIZED"}, out.Codes())
}

// dialWS opens a graphql-transport-ws socket and sends connection_init.
func dialSecureWS(t *testing.T, s *secureServer, origin string, payload map[string]any) (*websocket.Conn, error) {
	t.Helper()
	h := http.Header{"X-Forwarded-Proto": {"https"}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h,
	})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": payload}))
	return c, nil
}

// closeCode reads until the socket closes and returns the close code.
func wsCloseCode(t *testing.T, c *websocket.Conn, within time.Duration) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestWebsocketAuthentication(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "alice@example.com")
	expired := sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "at+jwt", claims(alice.User.ID, func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-time.Hour).Unix()
	}))
	cases := []struct {
		name    string
		payload map[string]any
		code    websocket.StatusCode
	}{
		{"no token", map[string]any{}, 4401},
		{"garbage token", map[string]any{"Authorization": "Bearer nope"}, 4403},
		{"expired token", map[string]any{"authToken": expired}, 4403},
		{"refresh token as access token", map[string]any{"authToken": alice.RefreshToken}, 4403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := counts(t, s.DB)
			c, err := dialSecureWS(t, s, "https://app.example.com", tc.payload)
			require.NoError(t, err)
			require.Equal(t, tc.code, wsCloseCode(t, c, 5*time.Second))
			require.Equal(t, before, counts(t, s.DB))
		})
	}
	t.Run("disallowed origin", func(t *testing.T) {
		_, err := dialSecureWS(t, s, "https://evil.example", map[string]any{"authToken": alice.AccessToken})
		require.ErrorContains(t, err, "403")
	})
	t.Run("valid token is acknowledged, then closed 4401 at expiry", func(t *testing.T) {
		short := sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "at+jwt", claims(alice.User.ID, func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(2 * time.Second).Unix()
		}))
		c, err := dialSecureWS(t, s, "https://app.example.com", map[string]any{"Authorization": "Bearer " + short})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var ack struct{ Type string }
		require.NoError(t, wsjson.Read(ctx, c, &ack))
		require.Equal(t, "connection_ack", ack.Type)
		require.Equal(t, websocket.StatusCode(4401), wsCloseCode(t, c, 10*time.Second))
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"in-process", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newSecureServer(t, func(c *server.Config) {
				c.Security.RateLimitIP = 3
				c.Security.RateLimitAuth = 2
				if backend == "redis" {
					c.RedisURL = servertest.RedisURL()
				}
			})
			n, err := rand.Int(rand.Reader, big.NewInt(1<<24))
			require.NoError(t, err)
			ip := fmt.Sprintf("10.%d.%d.%d", n.Int64()>>16, (n.Int64()>>8)&255, n.Int64()&255) // a fresh bucket per run
			req := request{
				method: http.MethodPost, contentType: "application/json", body: []byte(`{"query":"{ __typename }"}`),
				header: map[string]string{"X-Forwarded-For": ip},
			}
			for range 3 {
				require.Equal(t, http.StatusOK, s.send(t, req).Status)
			}
			before := counts(t, s.DB)
			out := s.send(t, req)
			require.Equal(t, http.StatusTooManyRequests, out.Status)
			require.Equal(t, []string{"ELIMIT"}, out.Codes())
			require.NotEmpty(t, out.Header.Get("Retry-After"))
			require.Equal(t, before, counts(t, s.DB))
		})
	}
}

func TestKeyRotationWithoutRestart(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "alice@example.com")
	oldTok := sign(t, jwt.SigningMethodEdDSA, s.Old.priv, s.Old.kid, "at+jwt", claims(alice.User.ID, nil))
	me := func(tok string) response { return s.gql(t, tok, `{ me { id } }`, nil) }
	require.Empty(t, me(oldTok).Errors, "the previous key still verifies")
	require.Empty(t, me(alice.AccessToken).Errors)

	// Add a new signing key and retire the old one by rewriting the file.
	next := newTestKey(t, "k-next")
	writeKeys(t, s.KeysFile, next.kid, next, s.Cur)
	require.Eventually(t, func() bool { return me(oldTok).Status == http.StatusUnauthorized }, 5*time.Second, 25*time.Millisecond,
		"a retired key stops verifying without a restart")
	require.Equal(t, []string{"EUNAUTHORIZED"}, me(oldTok).Codes())
	require.Empty(t, me(alice.AccessToken).Errors, "tokens of the still-listed key keep working")
	in := s.gql(t, "", `mutation { signIn(email: "alice@example.com", password: "correct horse battery") `+sessionFields+` }`, nil)
	var data struct{ SignIn session }
	in.Decode(t, &data)
	parsed, _, err := jwt.NewParser().ParseUnverified(data.SignIn.AccessToken, jwt.MapClaims{})
	require.NoError(t, err)
	require.Equal(t, "k-next", parsed.Header["kid"], "new tokens are signed with the new key")
	require.Empty(t, me(data.SignIn.AccessToken).Errors)

	// A broken file keeps the previous ring.
	require.NoError(t, os.WriteFile(s.KeysFile, []byte("{not json"), 0o600))
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, me(data.SignIn.AccessToken).Errors)
}

func TestProductionRefusesUnsafeKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	verifyOnly := newTestKey(t, "k1")
	pubOnly, err := json.Marshal(map[string]any{"keys": []map[string]string{{"kid": "k1", "publicKey": jsonB64(verifyOnly.priv.Public())}}})
	require.NoError(t, err)
	devKey := newTestKey(t, "dev-laptop")
	devPath := filepath.Join(dir, "dev.json")
	writeKeys(t, devPath, devKey.kid, devKey)
	cases := map[string]string{
		"no keys file":              "",
		"missing keys file":         filepath.Join(dir, "absent.json"),
		"the published example key": write("example.json", auth.ExampleKeyFile),
		"a dev key":                 devPath,
		"no signing key":            write("pub.json", string(pubOnly)),
		"an HS256 key":              write("hs.json", `{"signingKey":"h","keys":[{"kid":"h","alg":"HS256","privateKey":"c2VjcmV0"}]}`),
		"not JSON":                  write("bad.json", "secret"),
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := servertest.Config()
			cfg.EnvMode = server.ModeProduction
			cfg.Security.JWTKeysFile = path
			_, err := server.NewAppWithStore(context.Background(), cfg, slog.New(slog.DiscardHandler), servertest.NewSQLiteStore(t))
			require.Error(t, err)
		})
	}
}

func jsonB64(k any) string {
	b, _ := json.Marshal(k) // []byte marshals as base64
	return strings.Trim(string(b), `"`)
}
