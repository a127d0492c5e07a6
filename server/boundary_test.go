package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

// TestEveryRateLimitIs429 checks that the auth limit answers like every
// other limit: HTTP 429, Retry-After and ELIMIT, and nothing is stored.
func TestEveryRateLimitIs429(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, func(c *server.Config) { c.Security.RateLimitAuth = 2 })
	signIn := func() response {
		return s.gql(t, "", `mutation { signIn(email: "nobody@example.com", password: "wrong password!") { accessToken } }`, nil)
	}
	before := counts(t, s.DB)
	var last response
	for range 4 {
		last = signIn()
	}
	require.Equal(t, http.StatusTooManyRequests, last.Status, "errors: %+v", last.Errors)
	require.Contains(t, last.Codes(), "ELIMIT")
	require.NotEmpty(t, last.Header.Get("Retry-After"))
	require.Equal(t, before, counts(t, s.DB))

	// The per-IP limit, before GraphQL.
	s2 := newSecureServer(t, func(c *server.Config) { c.Security.RateLimitIP = 2 })
	for range 3 {
		last = s2.gql(t, "", `{ __typename }`, nil)
	}
	require.Equal(t, http.StatusTooManyRequests, last.Status)
	require.Contains(t, last.Codes(), "ELIMIT")
	require.NotEmpty(t, last.Header.Get("Retry-After"))
}

// wsOpen dials /graphql with a subprotocol and sends connection_init.
func wsOpen(t *testing.T, baseURL, proto string, payload map[string]any) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{"X-Forwarded-Proto": {"https"}, "Origin": {"https://app.example.com"}}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{proto}, HTTPHeader: h})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": payload}))
	return c
}

type wsFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
	Raw     string          `json:"-"`
}

// wsNext reads the next message that is not a keep-alive or ping.
func wsNext(t *testing.T, c *websocket.Conn, within time.Duration) (wsFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return wsFrame{}, err
		}
		var f wsFrame
		require.NoError(t, json.Unmarshal(b, &f))
		f.Raw = string(b)
		if f.Type == "ka" || f.Type == "ping" || f.Type == "pong" {
			continue
		}
		return f, nil
	}
}

// TestWebsocketNeverEchoesCredentials checks connection_ack carries no
// token, and that refusals are coded and never quote the JWT library.
func TestWebsocketNeverEchoesCredentials(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "alice@example.com")

	c := wsOpen(t, s.URL, "graphql-transport-ws", map[string]any{"Authorization": "Bearer " + alice.AccessToken})
	f, err := wsNext(t, c, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", f.Type, f.Raw)
	require.NotContains(t, f.Raw, alice.AccessToken)
	require.NotContains(t, f.Raw, "Bearer")

	for _, tc := range []struct {
		name    string
		payload map[string]any
		code    string
	}{
		{"malformed token", map[string]any{"authToken": "not.a.jwt"}, "EUNAUTHORIZED"},
		{"garbage token", map[string]any{"Authorization": "Bearer " + strings.Repeat("x", 300)}, "EUNAUTHORIZED"},
		{"no token", map[string]any{}, "EUNAUTHORIZED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wsOpen(t, s.URL, "graphql-ws", tc.payload)
			f, err := wsNext(t, c, 5*time.Second)
			require.NoError(t, err)
			require.Equal(t, "connection_error", f.Type, f.Raw)
			var p struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			}
			require.NoError(t, json.Unmarshal(f.Payload, &p))
			require.Equal(t, tc.code, p.Extensions["code"], f.Raw)
			for _, leak := range []string{"token is malformed", "token contains", "segments", "jwt", "illegal base64", "EUNAUTHORIZED:"} {
				require.NotContains(t, p.Message, leak)
			}
		})
	}
}

// TestEmptyIdInMeansNone checks the set meaning of an empty `idIn` on the
// six connections: none; `not: {idIn: []}` all, never an error.
func TestEmptyIdInMeansNone(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "alice@example.com")
	out := s.gql(t, alice.AccessToken, `mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: "2024-03-01T08:00:00Z", localDay: "2024-03-01", source: "manual"}]) { inserted } }`, nil)
	require.Empty(t, out.Errors)
	count := func(conn, where string) int {
		t.Helper()
		q := `{ ` + conn + `(where: ` + where + `) { totalCount } }`
		if where == "" {
			q = `{ ` + conn + ` { totalCount } }`
		}
		out := s.gql(t, alice.AccessToken, q, nil)
		require.Empty(t, out.Errors, "%s: %+v", q, out.Errors)
		var data map[string]struct{ TotalCount int }
		require.NoError(t, json.Unmarshal(out.Data, &data))
		return data[conn].TotalCount
	}
	require.Equal(t, 1, count("observations", ""))
	require.Equal(t, 0, count("observations", `{idIn: []}`))
	require.Equal(t, 1, count("observations", `{not: {idIn: []}}`))
	require.Equal(t, 1, count("observations", `{idNotIn: []}`))
	require.Equal(t, 0, count("observations", `{or: [{idIn: []}]}`))
	for _, conn := range []string{"insights", "auditEvents", "evaluations", "interventions", "narratives"} {
		all := count(conn, "")
		require.Equal(t, 0, count(conn, `{idIn: []}`), conn)
		require.Equal(t, all, count(conn, `{not: {idIn: []}}`), conn)
	}
}

// TestStalledSubscriberIsClosedWithReason checks that a graphql-transport-ws
// client that stops answering pings is closed with 4408 and a reason, and
// that the server logs a warn line (gqlgen alone would drop the TCP
// connection without a close frame).
func TestStalledSubscriberIsClosedWithReason(t *testing.T) {
	if testing.Short() {
		t.Skip("waits two ping intervals (20 s)")
	}
	t.Parallel()
	st := newSecureServerStore(t)
	e := newEdgeApp(t, st, nil)
	hs := httptestServer(t, e)
	c := wsOpen(t, hs, "graphql-transport-ws", map[string]any{"Authorization": "Bearer " + e.Token})
	f, err := wsNext(t, c, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", f.Type)
	// Never answer "ping": read until the server closes.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var closeErr websocket.CloseError
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			require.ErrorAs(t, err, &closeErr, "the socket must end with a close frame, not a dropped connection")
			break
		}
	}
	require.Equal(t, websocket.StatusCode(4408), closeErr.Code)
	require.Contains(t, closeErr.Reason, "stalled")
	require.Eventually(t, func() bool { return strings.Contains(e.Log.String(), "websocket subscriber stalled") }, 5*time.Second, 50*time.Millisecond)
}
