package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// throwawayPG is a PostgreSQL server the test starts on a temp dir and a
// free port, and may stop and start again.
type throwawayPG struct {
	dir, port string
	asUser    string // run the server binaries as this user (root may not)
}

func startThrowawayPG(t *testing.T) *throwawayPG {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Fatalf("the fault tests need PostgreSQL 15's binaries in %s", pgBin)
	}
	dir, err := os.MkdirTemp("", "vg-fault-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &throwawayPG{dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root: the fault tests need a postgres user for initdb")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		p.asUser = "postgres"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())
	p.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync")
	p.start(t)
	t.Cleanup(func() { _ = p.cmd("pg_ctl", "-D", filepath.Join(dir, "data"), "stop", "-m", "immediate").Run() })
	return p
}

func (p *throwawayPG) cmd(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(pgBin, name)
	if p.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", p.asUser, "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (p *throwawayPG) run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := p.cmd(name, args...).CombinedOutput()
	require.NoError(t, err, "%s: %s", name, out)
}

func (p *throwawayPG) start(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "log"), "-w", "start",
		"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir))
}

func (p *throwawayPG) stop(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-w", "stop", "-m", "fast")
}

func (p *throwawayPG) url() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// driverWords must never reach a client.
var driverWords = []string{"dial tcp", "connection refused", "pq:", "database system", "sql:", "driver", "EOF", "EINTERNAL"}

func requireNoDriverText(t *testing.T, body string) {
	t.Helper()
	for _, w := range driverWords {
		require.NotContains(t, body, w)
	}
}

// TestFaultDatabaseDown stops a throwaway PostgreSQL under a running
// production-mode server: HTTP and websocket answer EUNAVAILABLE with
// Retry-After (the header, and retryAfterSeconds on the websocket) and no
// driver text; when the database is back, the same server recovers without
// a restart.
func TestFaultDatabaseDown(t *testing.T) {
	pg := startThrowawayPG(t)
	st, err := server.OpenPostgres(context.Background(), pg.url())
	require.NoError(t, err)
	_, err = st.Migrate(context.Background())
	require.NoError(t, err)
	e := newEdgeApp(t, st, nil)
	hs := httptest.NewServer(e.Handler)
	t.Cleanup(hs.Close)

	post := func(token, q string) (int, http.Header, string) {
		b, _ := json.Marshal(map[string]any{"query": q})
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(raw)
	}
	ingest := `mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: "2024-03-01T08:00:00Z", localDay: "2024-03-01", source: "manual"}]) { inserted } }`
	status, _, body := post(e.Token, `{ me { id } }`)
	require.Equal(t, 200, status, body)

	// A websocket opened before the outage.
	early := wsOpen(t, hs.URL, "graphql-transport-ws", map[string]any{"Authorization": "Bearer " + e.Token})
	f, err := wsNext(t, early, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", f.Type)

	pg.stop(t)

	for _, tc := range []struct{ name, token, q string }{
		{"query with a token", e.Token, `{ me { id } }`},
		{"mutation with a token", e.Token, ingest},
		{"signIn", "", `mutation { signIn(email: "fuzz@example.com", password: "correct horse battery") { accessToken } }`},
		{"signUp", "", `mutation { signUp(email: "new@example.com", password: "correct horse battery") { accessToken } }`},
	} {
		status, h, body := post(tc.token, tc.q)
		require.Equal(t, http.StatusServiceUnavailable, status, "%s: %s", tc.name, body)
		require.NotEmpty(t, h.Get("Retry-After"), tc.name)
		require.Contains(t, body, `"EUNAVAILABLE"`, tc.name)
		requireNoDriverText(t, body)
	}

	// Websocket: an operation on the open socket, and a new connection_init.
	require.NoError(t, writeWS(early, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `{ me { id } }`}}))
	f, err = wsNext(t, early, 10*time.Second)
	require.NoError(t, err)
	require.Contains(t, f.Raw, `"EUNAVAILABLE"`, f.Raw)
	require.Contains(t, f.Raw, `"retryAfterSeconds"`, f.Raw)
	requireNoDriverText(t, f.Raw)

	late := wsOpen(t, hs.URL, "graphql-ws", map[string]any{"authToken": e.Token})
	f, err = wsNext(t, late, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_error", f.Type, f.Raw)
	require.Contains(t, f.Raw, `"EUNAVAILABLE"`, f.Raw)
	require.Contains(t, f.Raw, `"retryAfterSeconds"`, f.Raw)
	requireNoDriverText(t, f.Raw)

	require.NotContains(t, e.Log.String(), "panic")

	// Recovery without a restart.
	pg.start(t)
	require.Eventually(t, func() bool {
		status, _, _ := post(e.Token, `{ me { id } }`)
		return status == 200
	}, 15*time.Second, 200*time.Millisecond)
	status, _, body = post(e.Token, ingest)
	require.Equal(t, 200, status, body)
	require.Contains(t, body, `"inserted":1`)
}

func writeWS(c *websocket.Conn, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return wsjson.Write(ctx, c, v)
}
