package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestShutdownDrainsUnderLoad sends SIGTERM's equivalent (the Serve
// context ends) while ingestion requests are in flight — held inside their
// transaction by a table lock — and while load keeps coming: every request
// accepted before the signal completes successfully, new ones get 503 with
// Retry-After (or find the listener closed), a websocket closes with 1012,
// and every acknowledged sample is stored (0 acknowledged-but-missing).
func TestShutdownDrainsUnderLoad(t *testing.T) {
	st := servertest.NewPostgresStore(t)
	e := newEdgeApp(t, st, func(c *server.Config) { c.ShutdownTimeout = 20 * time.Second })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, signal := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.App.Serve(ctx, ln) }()

	var seq atomic.Int64
	client := &http.Client{Timeout: 30 * time.Second}
	ingest := func() (status int, body string, err error) {
		i := seq.Add(1)
		at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		q := fmt.Sprintf(`mutation { ingestObservations(input: [{metric: "resting_hr", value: 60, unit: "bpm", observedAt: %q, localDay: %q, source: "manual"}]) { inserted } }`,
			at.Format(time.RFC3339), at.Format(time.DateOnly))
		b, _ := json.Marshal(map[string]any{"query": q})
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("Authorization", "Bearer "+e.Token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			return resp.StatusCode, "503 without Retry-After", nil
		}
		return resp.StatusCode, string(raw), nil
	}
	acked := func(status int, body string) bool { return status == 200 && strings.Contains(body, `"inserted":1`) }

	// A websocket that must be told to reconnect (1012).
	ws := wsOpen(t, base, "graphql-transport-ws", map[string]any{"Authorization": "Bearer " + e.Token})
	f, err := wsNext(t, ws, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", f.Type)

	// Hold the in-flight requests inside their transactions.
	lockCtx := context.Background()
	conn, err := st.DB.Conn(lockCtx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(lockCtx, `BEGIN; LOCK TABLE observations IN SHARE ROW EXCLUSIVE MODE`)
	require.NoError(t, err)

	const inflight = 6
	var mu sync.Mutex
	var ackedCount int
	var failures []string
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body, err := ingest()
			mu.Lock()
			defer mu.Unlock()
			if err != nil || !acked(status, body) {
				failures = append(failures, fmt.Sprintf("in-flight request: status %d err %v body %.300s", status, err, body))
				return
			}
			ackedCount++
		}()
	}
	require.Eventually(t, func() bool {
		var n int
		_ = st.DB.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%observations%'`).Scan(&n)
		return n >= inflight
	}, 10*time.Second, 20*time.Millisecond, "the in-flight requests never reached the lock")

	// Load that keeps coming across the signal.
	stopLoad := make(chan struct{})
	var loadWG sync.WaitGroup
	for range 3 {
		loadWG.Add(1)
		go func() {
			defer loadWG.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				status, body, err := ingest()
				mu.Lock()
				switch {
				case err != nil: // the listener is closed: never accepted
				case acked(status, body):
					ackedCount++
				case status == http.StatusServiceUnavailable && strings.Contains(body, "EUNAVAILABLE"):
				default:
					failures = append(failures, fmt.Sprintf("load request: status %d body %.300s", status, body))
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}

	signal()
	time.Sleep(300 * time.Millisecond) // the server is draining, the requests still wait for the lock
	_, err = conn.ExecContext(lockCtx, `COMMIT`)
	require.NoError(t, err)
	wg.Wait()

	select {
	case err := <-served:
		require.NoError(t, err, "Serve returns cleanly once drained")
	case <-time.After(25 * time.Second):
		t.Fatal("Serve did not return within SHUTDOWN_TIMEOUT")
	}
	close(stopLoad)
	loadWG.Wait()

	code := wsCloseStatus(ws, 5*time.Second)
	require.Equal(t, websocket.StatusCode(1012), code, "subscriptions close with 1012 (service restart)")

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, failures)
	require.GreaterOrEqual(t, ackedCount, inflight)
	var stored int
	require.NoError(t, st.DB.QueryRow(`SELECT count(*) FROM observations`).Scan(&stored))
	require.Equal(t, ackedCount, stored, "every acknowledged sample is stored")
}

// wsCloseStatus reads until the socket closes and returns its close code.
func wsCloseStatus(c *websocket.Conn, within time.Duration) websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return -1
		}
	}
}
