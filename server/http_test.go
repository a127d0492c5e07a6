package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	t.Run("ready with postgres and redis", func(t *testing.T) {
		t.Parallel()
		srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
			c.RedisURL = servertest.RedisURL()
		})
		resp, _ := get(t, srv.URL+"/healthz", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, body := get(t, srv.URL+"/readyz", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.JSONEq(t, `{"ready":true,"checks":{"database":"ok","redis":"ok"}}`, string(body))
	})
	t.Run("not ready when redis is unreachable", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close()) // nothing listens there now
		srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), func(c *server.Config) {
			c.RedisURL = "redis://" + addr + "/0"
		})
		resp, body := get(t, srv.URL+"/readyz", nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Contains(t, string(body), `"redis":"unreachable"`)
	})
}

func TestRequestIDAndDevViewer(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	resp, _ := get(t, srv.URL+"/healthz", map[string]string{"X-Request-ID": "client-chosen-id-1"})
	require.Equal(t, "client-chosen-id-1", resp.Header.Get("X-Request-ID"))
	resp, _ = get(t, srv.URL+"/healthz", map[string]string{"X-Request-ID": "bad id with spaces"})
	require.Len(t, resp.Header.Get("X-Request-ID"), 24, "a malformed id is replaced")

	// No header: the dev demo user.
	var me struct {
		Me struct{ Email string } `json:"me"`
	}
	srv.Do(t, "", `{ me { email } }`, nil).Decode(t, &me)
	require.Equal(t, "demo@vitalgraph.local", me.Me.Email)
	// Unknown X-Debug-User: 401 with a code, never someone else.
	out := srv.Do(t, "usr_01J9ZK3Q4M6V8T2W5X7Y9A1B3C", `{ me { email } }`, nil)
	require.Equal(t, http.StatusUnauthorized, out.Status)
	require.Equal(t, []string{"EUNAUTHORIZED"}, out.Codes())
}

func TestStagingHasNoDevViewerNoPlaygroundNoIntrospection(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	srv := servertest.NewServer(t, st, func(c *server.Config) {
		c.EnvMode = server.ModeStaging
		c.Security.AllowPlainHTTP = true // HTTPS enforcement is tested in security_test.go
	})
	other := srv.CreateUser(t, "someone@example.com")
	out := srv.Do(t, other, `{ me { id } }`, nil) // X-Debug-User is ignored outside dev
	require.Equal(t, []string{"EUNAUTHORIZED"}, out.Codes())
	out = srv.Do(t, other, `{ insights { totalCount } }`, nil)
	require.NotEmpty(t, out.Errors)
	require.NotContains(t, string(out.Data), `"totalCount"`)
	out = srv.Do(t, "", `{ __schema { types { name } } }`, nil)
	require.NotEmpty(t, out.Errors, "introspection is off outside dev")
	resp, _ := get(t, srv.URL+"/", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no playground outside dev")
}

func TestGETServesQueriesButNotMutationsAndBodyLimit(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	resp, body := get(t, srv.URL+"/graphql?query="+`%7B%20me%20%7B%20email%20%7D%20%7D`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), "demo@vitalgraph.local")

	big := `{"query":"{ me { email } }","variables":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
	out := srv.Raw(t, "", "application/json", []byte(big))
	require.Equal(t, http.StatusRequestEntityTooLarge, out.Status)
	require.Equal(t, []string{"ELIMIT"}, out.Codes())
}

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	cfg := servertest.Config()
	app, err := server.NewAppWithStore(context.Background(), cfg, slog.New(slog.DiscardHandler), servertest.NewSQLiteStore(t))
	require.NoError(t, err)
	defer app.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancellation")
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed")
}
