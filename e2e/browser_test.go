// Package e2e drives the embedded playground and dashboard in a real headless
// Chromium (Debian's, installed by deploy/scripts/test-services.sh) against a
// real Vitalgraph server on PostgreSQL. Nothing is mocked and nothing is
// fetched from outside this machine: every request the page makes must go
// to the server under test.
package e2e_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// liveServer is one server process's worth of state: an App on its own store
// connection, serving on a fixed address so that a restart keeps the URL.
type liveServer struct {
	app *server.App
	hs  *http.Server
}

// jwtKeys writes a signing key ring that both server instances load, as a
// deploy does: tokens outlive a restart.
func jwtKeys(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys, err := json.Marshal(map[string]any{"signingKey": "k1", "keys": []map[string]string{{"kid": "k1", "privateKey": base64.StdEncoding.EncodeToString(priv.Seed())}}})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "jwt-keys.json")
	require.NoError(t, os.WriteFile(p, keys, 0o600))
	return p
}

func startServer(t *testing.T, dbURL, addr, queue, keys string, beforeListen func(*server.App)) *liveServer {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenPostgres(ctx, dbURL)
	require.NoError(t, err)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	cfg := servertest.Config()
	cfg.JobsQueue = queue
	cfg.Security.JWTKeysFile = keys
	app, err := server.NewAppWithStore(ctx, cfg, slog.New(slog.DiscardHandler), st)
	require.NoError(t, err)
	if beforeListen != nil {
		beforeListen(app)
	}
	var ln net.Listener
	require.Eventually(t, func() bool { // the previous instance's port may take a moment to free
		ln, err = net.Listen("tcp", addr)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "listen on %s", addr)
	hs := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &liveServer{app: app, hs: hs}
}

// stop ends the server as a deploy would: no new connections, open
// websockets closed (1012), every connection released.
func (s *liveServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.hs.Shutdown(ctx)
	_ = s.app.Close()
	_ = s.hs.Close()
}

// api posts one GraphQL operation to h as the bearer of token ("" = none).
func api(t *testing.T, h http.Handler, base, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	var resp *http.Response
	if h != nil { // in-process, before the listener opens
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp = rec.Result()
	} else {
		req.RequestURI = ""
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(raw, &r), "%s", raw)
	require.Empty(t, r.Errors, "%s", raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(r.Data, out))
	}
}

const ingestMutation = `mutation($input: [ObservationInput!]!) { ingestObservations(input: $input) { inserted } }`

const runLoopMutation = `mutation { runLoop { insightsCreated } }`

// series is 60 daily samples ending yesterday: steady with a small weekly
// pattern and one spike three days ago (the anomaly the loop must find).
func series(metric, unit string, level, spike float64) []map[string]any {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	out := make([]map[string]any, 0, 60)
	for back := 60; back >= 1; back-- {
		d := today.AddDate(0, 0, -back)
		v := level + float64(back%5)*level/100
		if back == 3 {
			v = spike
		}
		out = append(out, map[string]any{
			"metric": metric, "value": math.Round(v*10) / 10, "unit": unit, "source": "api",
			"observedAt": d.Add(7 * time.Hour).Format(time.RFC3339), "localDay": d.Format(time.DateOnly),
		})
	}
	return out
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_BIN"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	require.FailNow(t, "Chromium is needed: run `make test` (deploy/scripts/test-services.sh installs Debian's chromium) or set CHROMIUM_BIN")
	return ""
}

// browser starts a fresh headless Chromium whose every request, console
// error and exception is recorded.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	problems []string
	shots    string
	n        int
}

func newBrowser(t *testing.T, shots string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), // as on a phone: the page gets the full 375 px
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	limit, cancelTimeout := context.WithTimeout(context.Background(), 100*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(limit, opts...)
	b := &browser{shots: shots}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, e.Request.URL)
		case *network.EventWebSocketCreated:
			b.requests = append(b.requests, e.URL)
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, fmt.Sprintf("exception: %s %+v", e.ExceptionDetails.Text, e.ExceptionDetails.Exception))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError && !strings.Contains(e.Entry.Text, "WebSocket") {
				b.problems = append(b.problems, fmt.Sprintf("console %s: %s", e.Entry.Source, e.Entry.Text))
			}
		}
	}))
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelTimeout() })
	b.ctx = ctx
	require.NoError(t, chromedp.Do(ctx)) // starts the browser
	return b
}

func (b *browser) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, actions...))
}

// shot writes a full-page PNG of the current step.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	var alerts []string
	eval(t, b, `[...document.querySelectorAll('[role=alert]')].map(e => e.innerText)`, &alerts)
	require.Empty(t, alerts, "the page shows an error at step %s", name)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot %s", p)
}

// text returns the text of sel (which must exist).
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

// eval evaluates a JavaScript expression into out.
func eval[T any](t *testing.T, b *browser, expr string, out *T) {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "%s", expr)
	*out = v
}

// waitJS polls a boolean JavaScript expression until it is true.
func (b *browser) waitJS(t *testing.T, expr string, timeout time.Duration, msg string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var ok bool
		eval(t, b, "Boolean("+expr+")", &ok)
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			if png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(b.shots, "failure.png"), png, 0o644)
			}
			b.mu.Lock()
			t.Logf("console: %v", b.problems)
			b.mu.Unlock()
			require.FailNow(t, "timed out: "+msg, "after %s: %s", timeout, expr)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// setField sets an input or select the way a user would (the framework
// hears the input and change events).
func (b *browser) setField(t *testing.T, sel, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.focus(); el.value = %q;
	  el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return el.value; })()`, sel, value)
	var got string
	eval(t, b, js, &got)
	require.Equal(t, value, got, "field %s", sel)
}

// checkClean asserts every request went to the server under test and the
// page logged no error (a CSP violation is one).
func (b *browser) checkClean(t *testing.T, base string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	for _, u := range b.requests {
		ok := strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, wsBase+"/") || strings.HasPrefix(u, "data:")
		require.True(t, ok, "the page requested %s: only the server itself may be asked", u)
	}
	require.Empty(t, b.problems, "console errors or exceptions")
}

func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		abs, err := filepath.Abs(filepath.Join("..", ".tmp", "e2e-screenshots", time.Now().UTC().Format("20060102-150405")))
		require.NoError(t, err)
		dir = abs
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	t.Logf("screenshots of each step: %s", dir)
	return dir
}

// cursors reads the cursors the dashboard's live feed has delivered.
func cursors(t *testing.T, b *browser) []int {
	t.Helper()
	var s string
	eval(t, b, `document.querySelector('#feed-count').dataset.cursors`, &s)
	var out []int
	for _, c := range strings.Split(s, ",") {
		if c == "" {
			continue
		}
		n, err := strconv.Atoi(c)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

// insightIDs lists the viewer's insights (API) and the dashboard's cards.
func insightIDs(t *testing.T, base, token string, b *browser) (apiIDs, shown []string) {
	t.Helper()
	var got struct {
		Insights struct {
			Edges []struct {
				Node struct{ ID string } `json:"node"`
			} `json:"edges"`
		} `json:"insights"`
	}
	api(t, nil, base, token, `{ insights(first: 100, includeDismissed: true) { edges { node { id } } } }`, nil, &got)
	for _, e := range got.Insights.Edges {
		apiIDs = append(apiIDs, e.Node.ID)
	}
	eval(t, b, `[...document.querySelectorAll('#insight-list [data-insight-id]')].map(e => e.dataset.insightId)`, &shown)
	slices.Sort(apiIDs)
	slices.Sort(shown)
	return apiIDs, shown
}

func TestBrowserPlaygroundAndDashboard(t *testing.T) {
	dbURL := servertest.NewPostgresSchema(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	base := "http://" + addr
	queue := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	keys := jwtKeys(t)
	srv := startServer(t, dbURL, addr, queue, keys, nil)
	t.Cleanup(func() { srv.stop() })

	b := newBrowser(t, screenshotDir(t))

	// 1. The playground renders with its note and default tabs, and runs a query.
	b.run(t, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".graphiql-container")))
	require.Contains(t, b.text(t, "#auth-note"), "Authorization")
	var tabs int
	eval(t, b, `document.querySelectorAll('.graphiql-tab').length`, &tabs)
	require.Equal(t, 3, tabs, "a query, a mutation and a subscription tab")
	b.run(t, chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	b.waitJS(t, `document.querySelector('.graphiql-response')?.innerText.includes('demo@vitalgraph.local')`, 10*time.Second, "the query's result")
	b.shot(t, "playground-query")

	// … and a subscription: the feed tab, then an ingestion (audited, so a feed event).
	b.run(t, chromedp.Click(chromedp.CSS(`.graphiql-tab:nth-of-type(3) button.graphiql-tab-button`)))
	b.waitJS(t, `document.querySelector('.graphiql-query-editor')?.innerText.includes('subscription Feed')`, 5*time.Second, "the subscription tab")
	b.run(t, chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	time.Sleep(500 * time.Millisecond) // the websocket subscribes
	api(t, nil, base, "", ingestMutation, map[string]any{"input": series("resting_hr", "bpm", 55, 56)[:1]}, nil)
	b.waitJS(t, `document.querySelector('.graphiql-response')?.innerText.includes('AUDIT_EVENT')`, 10*time.Second, "a feed event over the subscription")
	b.shot(t, "playground-subscription")
	b.checkClean(t, base)

	// 2. The dashboard at phone width: a new user signs up.
	b.run(t, chromedp.EmulateViewport(375, 812), chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("#auth-form")))
	b.setField(t, "#email", "e2e@example.com")
	b.setField(t, "#password", "correct horse battery")
	b.run(t, chromedp.Click(chromedp.CSS("#sign-up")), chromedp.WaitVisible(chromedp.CSS("#insights")))
	b.waitJS(t, `document.querySelector('#feed-status').innerText === 'Live'`, 10*time.Second, "the live feed connects")
	var token string
	eval(t, b, `JSON.parse(sessionStorage.getItem('vitalgraph.session')).accessToken`, &token)
	require.NotEmpty(t, token)
	var width int
	eval(t, b, `document.documentElement.scrollWidth`, &width)
	require.LessOrEqual(t, width, 375, "no horizontal scrolling at 375 px")
	b.shot(t, "dashboard-signed-up")
	// Keyboard: Tab reaches the sign-out button (focus order works).
	var focused string
	for range 8 {
		b.run(t, chromedp.KeyEvent("\t"))
		eval(t, b, `document.activeElement?.id || document.activeElement?.innerText || ''`, &focused)
		if focused == "sign-out" {
			break
		}
	}
	require.Equal(t, "sign-out", focused, "the sign-out button is reachable with Tab")

	// 3. Data is ingested through the API; the insight appears live, without reload, within 2 s.
	api(t, nil, base, token, ingestMutation, map[string]any{"input": series("resting_hr", "bpm", 55, 90)}, nil)
	var loop struct {
		RunLoop struct{ InsightsCreated int } `json:"runLoop"`
	}
	api(t, nil, base, token, runLoopMutation, nil, &loop)
	require.Positive(t, loop.RunLoop.InsightsCreated)
	took := b.waitJS(t, `document.querySelectorAll('#insight-list [data-insight-id]').length > 0`, 2*time.Second, "a live insight within 2 s")
	t.Logf("first live insight shown %s after runLoop returned", took)
	b.waitJS(t, fmt.Sprintf(`document.querySelectorAll('#insight-list [data-insight-id]').length === %d`, loop.RunLoop.InsightsCreated), 2*time.Second, "every new insight")
	before := cursors(t, b)
	require.Len(t, before, loop.RunLoop.InsightsCreated)
	b.shot(t, "dashboard-live-insight")

	// 4. The server restarts (same database, same address). While it is down
	// more insights are made; the feed resumes from its cursor with them.
	srv.stop()
	b.waitJS(t, `document.querySelector('#feed-status').innerText !== 'Live'`, 5*time.Second, "the page notices the restart")
	b.shot(t, "dashboard-reconnecting")
	var made int
	srv = startServer(t, dbURL, addr, queue, keys, func(app *server.App) {
		h := app.Handler()
		api(t, h, base, token, ingestMutation, map[string]any{"input": series("hrv_rmssd", "ms", 60, 20)}, nil)
		var again struct {
			RunLoop struct{ InsightsCreated int } `json:"runLoop"`
		}
		api(t, h, base, token, runLoopMutation, nil, &again)
		made = again.RunLoop.InsightsCreated
	})
	require.Positive(t, made, "insights made while the page was away")
	b.waitJS(t, `document.querySelector('#feed-status').innerText === 'Live'`, 10*time.Second, "the feed reconnects")
	total := len(before) + made
	b.waitJS(t, fmt.Sprintf(`document.querySelectorAll('#insight-list [data-insight-id]').length === %d`, total), 5*time.Second, "the missed insights")
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	after := cursors(t, b)
	require.Len(t, after, total, "each insight delivered exactly once: %v", after)
	require.True(t, slices.IsSorted(after) && len(slices.Compact(slices.Clone(after))) == len(after), "cursors strictly increase: %v", after)
	require.Equal(t, before, after[:len(before)])
	apiIDs, shown := insightIDs(t, base, token, b)
	require.Equal(t, apiIDs, shown, "no gap: every insight of the user is on the page")
	b.shot(t, "dashboard-resumed")

	// The metric chart: observations, the baseline band and the anomaly marked.
	b.waitJS(t, `document.querySelector('#metrics .chart-box canvas') && /[1-9]\d* anomalous/.test(document.querySelector('#metrics figcaption').innerText)`, 10*time.Second, "a chart with its anomaly")
	b.run(t, chromedp.ScrollIntoView(chromedp.CSS("#metrics")))
	b.shot(t, "metric-chart")

	// 5. An experiment: start it (the minimum detectable effect first), log adherence, evaluate.
	// Token refresh: an access token about to expire is rotated before use.
	var oldRefresh string
	eval(t, b, `(() => { const s = JSON.parse(sessionStorage.getItem('vitalgraph.session'));
	  s.expiresAt = new Date(Date.now() + 1000).toISOString(); sessionStorage.setItem('vitalgraph.session', JSON.stringify(s));
	  return s.refreshToken; })()`, &oldRefresh)
	b.run(t, chromedp.Reload())
	b.waitJS(t, `document.querySelector('#start-form')`, 10*time.Second, "the experiment form")
	var refreshed struct{ AccessToken, RefreshToken string }
	eval(t, b, `JSON.parse(sessionStorage.getItem('vitalgraph.session'))`, &refreshed)
	require.NotEqual(t, oldRefresh, refreshed.RefreshToken, "the refresh token was rotated")
	require.NotEqual(t, token, refreshed.AccessToken, "a new access token")
	token = refreshed.AccessToken
	start := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	b.setField(t, "#x-title", "No coffee after noon")
	b.setField(t, "#x-protocol", "CAFFEINE_CUTOFF")
	b.setField(t, "#x-metric", "resting_hr")
	b.setField(t, "#x-direction", "DECREASE")
	// A randomized crossover is planned (not started) first: its schedule
	// shows cycles and blocks, and no arm before the order is drawn.
	b.setField(t, "#x-design", "CROSSOVER")
	b.setField(t, "#x-cycles", "3")
	b.setField(t, "#x-block", "5")
	b.setField(t, "#x-start", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly))
	b.run(t, chromedp.Click(chromedp.CSS("#plan-button")))
	b.waitJS(t, `document.querySelector('#plan-result') || document.querySelector('#start-form .error')`, 10*time.Second, "the crossover plan")
	var xErr string
	eval(t, b, `(document.querySelector('#start-form .error') || {}).innerText || ''`, &xErr)
	require.Empty(t, xErr, "planIntervention (CROSSOVER) failed in the page")
	xplan := b.text(t, "#plan-result")
	require.Contains(t, xplan, "Day-by-day schedule (30 days)", "3 cycles × 2 blocks × 5 days")
	require.Contains(t, xplan, "drawn at random when you start")
	var arms []string
	eval(t, b, `[...document.querySelectorAll('#plan-result tbody tr td:nth-child(3)')].map(td => td.textContent)`, &arms)
	require.Len(t, arms, 30)
	for _, a := range arms {
		require.Equal(t, "not drawn yet", a)
	}
	b.shot(t, "crossover-planned")
	b.setField(t, "#x-design", "BASELINE_AB")
	b.setField(t, "#x-days", "21")
	b.setField(t, "#x-start", start)
	// Start stays disabled until the plan's minimum detectable effect is shown
	// (planIntervention: nothing stored until Start).
	var disabled bool
	eval(t, b, `document.querySelector('#start-button').disabled`, &disabled)
	require.True(t, disabled, "Start is disabled before the minimum detectable effect is shown")
	b.run(t, chromedp.Click(chromedp.CSS("#plan-button")))
	b.waitJS(t, `document.querySelector('#plan-result') || document.querySelector('#start-form .error')`, 10*time.Second, "the plan's minimum detectable effect")
	var planErr string
	eval(t, b, `(document.querySelector('#start-form .error') || {}).innerText || ''`, &planErr)
	require.Empty(t, planErr, "planIntervention failed in the page")
	plan := b.text(t, "#plan-result")
	require.Regexp(t, `^Minimum detectable effect: \d+(\.\d+)? bpm`, strings.TrimSpace(plan))
	require.Contains(t, plan, "21 days from "+start)
	require.Contains(t, plan, "Day-by-day schedule (21 days)")
	eval(t, b, `document.querySelector('#start-button').disabled`, &disabled)
	require.False(t, disabled, "Start is enabled once the minimum detectable effect is shown")
	b.shot(t, "experiment-planned")
	b.run(t, chromedp.Click(chromedp.CSS("#start-button")))
	b.waitJS(t, `document.querySelector('#start-result')`, 10*time.Second, "the start result")
	res := b.text(t, "#start-result")
	require.True(t, strings.HasPrefix(strings.TrimSpace(res), "Minimum detectable effect:"), "%q", res)
	require.Contains(t, res, "Started.")
	b.waitJS(t, `document.querySelector('#experiment-list .experiment .log-all')`, 5*time.Second, "the experiment's adherence form")
	b.shot(t, "experiment-started")
	b.run(t, chromedp.Click(chromedp.CSS("#experiment-list .experiment .log-all")))
	b.waitJS(t, `/for (\d+) of \1 days/.test(document.querySelector('#experiment-list .adherence-count')?.innerText || '')`, 10*time.Second, "adherence logged for every day")
	b.shot(t, "adherence-logged")
	b.run(t, chromedp.Click(chromedp.CSS("#experiment-list .experiment button.evaluate")))
	b.waitJS(t, `document.querySelector('#experiment-list .evaluation .narrative') && document.querySelector('#experiment-list .evaluation svg.interval .ci')`, 10*time.Second, "the evaluation with its interval and narrative")
	ev := b.text(t, "#experiment-list .evaluation")
	require.Contains(t, ev, "95% interval")
	b.run(t, chromedp.ScrollIntoView(chromedp.CSS("#experiment-list .evaluation")))
	b.shot(t, "evaluation")

	// The audit trail of the experiment.
	b.run(t, chromedp.Click(chromedp.CSS(`#experiment-list .experiment > .audit button`)))
	b.waitJS(t, `document.querySelectorAll('#experiment-list .experiment > .audit li').length > 0`, 5*time.Second, "the experiment's audit trail")
	b.shot(t, "audit-trail")
	eval(t, b, `document.documentElement.scrollWidth`, &width)
	require.LessOrEqual(t, width, 375, "no horizontal scrolling at 375 px")

	// 6. A HIGH-risk experiment waits for review; an admin approves it on the dashboard.
	var high struct {
		StartIntervention struct {
			Intervention struct{ ID, Status string } `json:"intervention"`
		} `json:"startIntervention"`
	}
	api(t, nil, base, token, `mutation($input: StartInterventionInput!) { startIntervention(input: $input) { intervention { id status } } }`,
		map[string]any{"input": map[string]any{
			"title": "Change my medication", "protocolKind": "MEDICATION_CHANGE",
			"targetMetric": "resting_hr", "expectedDirection": "DECREASE", "plannedDays": 21,
		}}, &high)
	pending := high.StartIntervention.Intervention
	require.Equal(t, "PENDING_REVIEW", pending.Status)
	var admin struct {
		SignUp struct {
			User struct{ ID string } `json:"user"`
		} `json:"signUp"`
	}
	api(t, nil, base, "", `mutation { signUp(email: "admin@example.com", password: "admin password 1") { user { id } } }`, nil, &admin)
	require.NoError(t, srv.app.Store.Client.User.UpdateOneID(admin.SignUp.User.ID).SetRole(user.RoleADMIN).
		Exec(viewer.System(context.Background())), "an operator makes the account an admin")
	b.run(t, chromedp.Click(chromedp.CSS("#sign-out")))
	b.waitJS(t, `document.querySelector('#auth-form')`, 5*time.Second, "signed out")
	b.setField(t, "#email", "admin@example.com")
	b.setField(t, "#password", "admin password 1")
	b.run(t, chromedp.Click(chromedp.CSS("#sign-in")))
	item := fmt.Sprintf(`#review li[data-intervention-id=%q]`, pending.ID)
	b.waitJS(t, fmt.Sprintf(`document.querySelector(%q)`, item), 10*time.Second, "the experiment in the review queue")
	b.setField(t, item+" input", "reviewed with the user's doctor")
	b.run(t, chromedp.ScrollIntoView(chromedp.CSS(item)))
	b.shot(t, "review-queue")
	b.run(t, chromedp.Click(chromedp.CSS(item+" button.approve")))
	b.waitJS(t, fmt.Sprintf(`!document.querySelector(%q)`, item), 10*time.Second, "the approved experiment leaves the queue")
	b.shot(t, "review-approved")
	var approved struct {
		Node struct {
			Status     string `json:"status"`
			AuditTrail struct {
				Edges []struct {
					Node struct{ Action, Reason, Actor string } `json:"node"`
				} `json:"edges"`
			} `json:"auditTrail"`
		} `json:"node"`
	}
	api(t, nil, base, token, `query($id: ID!) { node(id: $id) { ... on Intervention { status auditTrail(first: 50) { edges { node { action reason actor } } } } } }`,
		map[string]any{"id": pending.ID}, &approved)
	require.Contains(t, []string{"ACTIVE", "SUPPRESSED"}, approved.Node.Status, "approved")
	reasons := []string{}
	for _, e := range approved.Node.AuditTrail.Edges {
		reasons = append(reasons, e.Node.Reason)
	}
	require.Contains(t, reasons, "reviewed with the user's doctor", "the reason is in the owner's audit trail")
	b.checkClean(t, base)
}
