package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/observationrevision"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
	"github.com/vitalgraph/vitalgraph/wearable"
	"github.com/vitalgraph/vitalgraph/wearable/wearabletest"
)

const publicURL = "http://vitalgraph.test"

// providerServer runs Vitalgraph configured for the fake provider f.
func providerServer(t *testing.T, f *wearabletest.Fake) *servertest.Server {
	t.Helper()
	ring, err := connect.ParseKeyRing("k1:" + strings.Repeat("A", 43))
	require.NoError(t, err)
	return servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		o := server.OAuthClient{ClientID: f.ClientID, ClientSecret: f.ClientSecret, BaseURL: f.URL}
		c.Providers = server.ProvidersConfig{PublicURL: publicURL, Keys: ring, SyncInterval: time.Hour, MaxRetryWait: 10 * time.Second}
		if f.Kind == "WHOOP" {
			c.Providers.WHOOP = o
		} else {
			c.Providers.Oura = o
			c.Providers.OuraVerificationToken = "verify-me"
		}
	})
}

// nights are n nights ending at 11:30 UTC (06:30 at -05:00) on the days
// before now, the newest first skipped days ago.
func nights(now time.Time, skip, n int) []wearabletest.Day {
	day := time.Date(now.Year(), now.Month(), now.Day(), 11, 30, 0, 0, time.UTC)
	out := make([]wearabletest.Day, 0, n)
	for i := skip; i < skip+n; i++ {
		end := day.AddDate(0, 0, -i)
		out = append(out, wearabletest.Day{End: end, Offset: "-05:00", HRV: 40 + float64(i%7), RestingHR: 55 + float64(i%3), Updated: end.Add(time.Hour)})
	}
	return out
}

// inWindow counts the nights whose sleep (8 h before the wake time) starts
// in the window a sync reads.
func inWindow(days []wearabletest.Day, since, until time.Time) int {
	n := 0
	for _, d := range days {
		if s := d.End.Add(-8 * time.Hour); !s.Before(since) && s.Before(until) {
			n++
		}
	}
	return n
}

// connectVia runs connectProvider and the browser's round trip through the
// fake's consent page back to the callback, and returns the callback's
// answer and the callback URL.
func connectVia(t *testing.T, srv *servertest.Server, uid, provider string) (int, map[string]any, string) {
	t.Helper()
	var out struct {
		ConnectProvider struct {
			Provider         string    `json:"provider"`
			AuthorizationURL string    `json:"authorizationUrl"`
			ExpiresAt        time.Time `json:"expiresAt"`
		} `json:"connectProvider"`
	}
	srv.Do(t, uid, `mutation($p: ProviderConnectionProvider!) { connectProvider(provider: $p) { provider authorizationUrl expiresAt } }`,
		map[string]any{"p": provider}).Decode(t, &out)
	link, err := url.Parse(out.ConnectProvider.AuthorizationURL)
	require.NoError(t, err)
	q := link.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.Equal(t, publicURL+"/oauth/"+strings.ToLower(provider)+"/callback", q.Get("redirect_uri"))
	require.NotContains(t, q.Get("state"), uid, "the state is sealed, not readable")

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link.String())
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/oauth/"+strings.ToLower(provider)+"/callback", back.Path)
	cb := srv.URL + back.Path + "?" + back.RawQuery
	status, body := getJSON(t, cb)
	return status, body, cb
}

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &body), "body: %s", raw)
	return resp.StatusCode, body
}

func conn(t *testing.T, srv *servertest.Server, uid string, p providerconnection.Provider) *ent.ProviderConnection {
	t.Helper()
	c, err := srv.App.Store.Client.ProviderConnection.Query().
		Where(providerconnection.UserID(uid), providerconnection.ProviderEQ(p)).Only(viewer.System(context.Background()))
	require.NoError(t, err)
	return c
}

// waitSynced waits until the connection's last sync is the one at now.
func waitSynced(t *testing.T, srv *servertest.Server, uid string, p providerconnection.Provider, now time.Time) *ent.ProviderConnection {
	t.Helper()
	var c *ent.ProviderConnection
	require.Eventually(t, func() bool {
		c = conn(t, srv, uid, p)
		return c.SyncStatus == providerconnection.SyncStatusERROR ||
			(c.SyncStatus == providerconnection.SyncStatusOK && c.LastSyncAt != nil && c.LastSyncAt.Equal(now.UTC().Truncate(time.Microsecond)))
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, providerconnection.SyncStatusOK, c.SyncStatus, "lastError: %v", c.LastError)
	return c
}

func countSource(t *testing.T, srv *servertest.Server, uid, source string) int {
	t.Helper()
	n, err := srv.App.Store.Client.Observation.Query().Where(observation.UserID(uid), observation.Source(source)).
		Count(viewer.System(context.Background()))
	require.NoError(t, err)
	return n
}

// postWebhook posts a signed delivery and returns the answer.
func postWebhook(t *testing.T, srv *servertest.Server, path string, body []byte, h http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// TestWHOOPConnectionLifecycle drives a WHOOP connection through the fake:
// connect, callback, a first sync that pages, a 429 with Retry-After, a
// webhook-triggered incremental sync with a token refresh, a rescore,
// disconnect (baselines freeze) and reconnect; the token columns never
// hold a token in plaintext.
func TestWHOOPConnectionLifecycle(t *testing.T) {
	t.Parallel()
	f := wearabletest.NewWHOOP(t)
	now := time.Now().UTC().Truncate(time.Second)
	initial := nights(now, 2, 40) // the newest night arrives later
	f.SetDays(initial)
	srv := providerServer(t, f)
	uid := srv.CreateUser(t, "whoop-oauth@example.com")
	srv.App.SetClock(now)
	const perNight = 9 // sleep: duration, efficiency, respiratory rate; recovery: RHR, HRV, score, SpO2, skin temp; cycle: strain
	W := providerconnection.ProviderWHOOP

	// Connect and callback: the first sync is queued and reads the backfill, page by page.
	status, body, _ := connectVia(t, srv, uid, "WHOOP")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, true, body["connected"])
	c := waitSynced(t, srv, uid, W, now)
	require.Equal(t, providerconnection.StatusCONNECTED, c.Status)
	require.Equal(t, f.AccountID, c.ExternalUserID)
	since, until := providers.SyncWindow(time.Time{}, now)
	first := inWindow(initial, since, until)
	require.Greater(t, first, f.PageSize, "the backfill spans more than one page")
	require.Equal(t, first*perNight, countSource(t, srv, uid, metrics.SourceWhoop), "cursor %s, lastError %v", c.SyncCursor, c.LastError)
	paged := map[string]int{}
	for _, r := range f.Requests() {
		if r.Query.Get("nextToken") != "" {
			paged[r.Path]++
		}
	}
	require.Len(t, paged, 3, "sleep, recovery and cycle each followed next_token: %v", paged)

	// Tokens are sealed: no issued token appears in the columns, and
	// they open only with the ring.
	var access, refresh string
	require.NoError(t, srv.App.Store.DB.QueryRowContext(context.Background(),
		`SELECT access_token_sealed, refresh_token_sealed FROM provider_connections WHERE user_id = $1`, uid).Scan(&access, &refresh))
	require.True(t, strings.HasPrefix(access, "v1.k1."), "sealed with the current key")
	require.True(t, strings.HasPrefix(refresh, "v1.k1."))
	for _, tok := range f.ValidTokens() {
		require.NotContains(t, access+refresh, tok)
	}
	var connJSON struct {
		ProviderConnection map[string]any `json:"node"`
	}
	srv.Do(t, uid, `query($id: ID!) { node(id: $id) { ... on ProviderConnection { status syncStatus lastSyncedAt lastError } } }`,
		map[string]any{"id": c.ID}).Decode(t, &connJSON)
	require.Equal(t, "OK", connJSON.ProviderConnection["syncStatus"])
	require.NotNil(t, connJSON.ProviderConnection["lastSyncedAt"])

	// A 429 with Retry-After is waited out and the sync completes.
	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	f.Throttle(1, time.Second)
	var sp struct {
		SyncProvider struct{ SyncStatus string } `json:"syncProvider"`
	}
	srv.Do(t, uid, `mutation { syncProvider(provider: WHOOP) { syncStatus } }`, nil).Decode(t, &sp)
	require.Equal(t, "QUEUED", sp.SyncProvider.SyncStatus)
	waitSynced(t, srv, uid, W, now)
	log := f.Requests()
	var limited *wearabletest.Request
	for i := range log {
		if log[i].Status == http.StatusTooManyRequests {
			limited = &log[i]
			require.Greater(t, len(log), i+1)
			next := log[i+1]
			require.Equal(t, limited.Path, next.Path, "the same request is retried")
			require.Equal(t, http.StatusOK, next.Status)
			require.GreaterOrEqual(t, next.At.Sub(limited.At), time.Second, "after Retry-After")
		}
	}
	require.NotNil(t, limited, "the fake answered 429 once")
	require.Equal(t, first*perNight, countSource(t, srv, uid, metrics.SourceWhoop), "re-reading the overlap stores nothing twice")

	// A webhook names the account: an incremental sync runs, refreshing the
	// access token that is about to expire, and stores the new night.
	now = time.Now().UTC().Add(f.TokenTTL - 2*time.Minute).Truncate(time.Second)
	srv.App.SetClock(now)
	f.ExpireAccessTokens() // only a refreshed token works now
	newest := nights(now, 1, 1)
	f.SetDays(append(newest, initial...))
	before := len(f.Requests())
	hook := wearable.NewWHOOP(wearable.Config{ClientSecret: f.ClientSecret})
	delivery := []byte(fmt.Sprintf(`{"user_id": %s, "id": "ecfc6a15-4661-442f-a9a4-f160dd7afae8", "type": "sleep.updated", "trace_id": "trace-1"}`, f.AccountID))
	status, body = postWebhook(t, srv, "/webhooks/whoop", delivery, hook.SignWebhook(delivery, now))
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.InDelta(t, 1, body["queued"], 0)
	c = waitSynced(t, srv, uid, W, now)
	refreshes, _ := f.Counts()
	require.Equal(t, 1, refreshes)
	require.Equal(t, (first+inWindow(newest, since, now))*perNight, countSource(t, srv, uid, metrics.SourceWhoop),
		"newest %v, now %v, cursor %s, lastError %v, requests %+v", newest[0].End, now, c.SyncCursor, c.LastError, f.Requests()[before:])
	for _, r := range f.Requests()[before:] {
		start, err := time.Parse(time.RFC3339, r.Query.Get("start"))
		require.NoError(t, err)
		require.True(t, start.After(since), "incremental: from the cursor, not the backfill (%s)", start)
	}
	// The same delivery again, a stale one and a forged one queue nothing.
	status, body = postWebhook(t, srv, "/webhooks/whoop", delivery, hook.SignWebhook(delivery, now))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, true, body["duplicate"])
	stale := []byte(strings.Replace(string(delivery), "trace-1", "trace-2", 1))
	status, _ = postWebhook(t, srv, "/webhooks/whoop", stale, hook.SignWebhook(stale, now.Add(-10*time.Minute)))
	require.Equal(t, http.StatusUnauthorized, status)
	forged := wearable.NewWHOOP(wearable.Config{ClientSecret: "not-the-secret"})
	status, _ = postWebhook(t, srv, "/webhooks/whoop", stale, forged.SignWebhook(stale, now))
	require.Equal(t, http.StatusUnauthorized, status)

	// A rescore replaces the stored value as a new, audited revision.
	rescored := initial[2]
	f.Rescore(rescored.End, rescored.HRV+9.5, now)
	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	srv.Do(t, uid, `mutation { syncProvider(provider: WHOOP) { id } }`, nil).Decode(t, &struct{}{})
	waitSynced(t, srv, uid, W, now)
	ctx := viewer.System(context.Background())
	day := rescored.End.Add(-5 * time.Hour).Format(time.DateOnly)
	obs, err := srv.App.Store.Client.Observation.Query().Where(observation.UserID(uid), observation.Metric(metrics.KeyHRVRMSSD),
		observation.Source(metrics.SourceWhoop), observation.LocalDay(day)).Only(ctx)
	require.NoError(t, err)
	require.InDelta(t, rescored.HRV+9.5, *obs.Value, 1e-9)
	revs, err := srv.App.Store.Client.ObservationRevision.Query().Where(observationrevision.UserID(uid)).All(ctx)
	require.NoError(t, err)
	require.Len(t, revs, 1, "only the rescored value changed")
	require.Equal(t, obs.ID, revs[0].ObservationID)
	require.Equal(t, 2, revs[0].Revision)
	require.InDelta(t, rescored.HRV, *revs[0].PreviousValue, 1e-9)
	audits, err := srv.App.Store.Client.AuditEvent.Query().Where(auditevent.UserID(uid), auditevent.Action("revise")).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, audits)
	synced, err := srv.App.Store.Client.FeedEvent.Query().Where(feedevent.UserID(uid), feedevent.KindEQ(feedevent.KindPROVIDER_SYNCED)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, synced, "one feed event per sync")
	// Syncing the same records again revises nothing.
	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	srv.Do(t, uid, `mutation { syncProvider(provider: WHOOP) { id } }`, nil).Decode(t, &struct{}{})
	waitSynced(t, srv, uid, W, now)
	n, err := srv.App.Store.Client.ObservationRevision.Query().Where(observationrevision.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Disconnect: revoked at WHOOP, tokens gone, baselines frozen.
	srv.Do(t, uid, runLoop, nil).Decode(t, &struct{}{})
	var dc struct {
		DisconnectProvider struct{ Status string } `json:"disconnectProvider"`
	}
	srv.Do(t, uid, `mutation { disconnectProvider(provider: WHOOP) { status } }`, nil).Decode(t, &dc)
	require.Equal(t, "DISCONNECTED", dc.DisconnectProvider.Status)
	_, revoked := f.Counts()
	require.Equal(t, 1, revoked)
	c = conn(t, srv, uid, W)
	require.Empty(t, c.AccessTokenSealed)
	require.Empty(t, c.RefreshTokenSealed)
	require.Equal(t, []string{"EINVALID"}, srv.Do(t, uid, `mutation { syncProvider(provider: WHOOP) { id } }`, nil).Codes())
	now = now.Add(24 * time.Hour)
	srv.App.SetClock(now)
	srv.Do(t, uid, runLoop, nil).Decode(t, &struct{}{})
	var bl struct {
		Baselines []struct{ State string } `json:"baselines"`
	}
	srv.Do(t, uid, `{ baselines(metric: "hrv_rmssd") { state } }`, nil).Decode(t, &bl)
	require.Len(t, bl.Baselines, 1)
	require.Equal(t, "FROZEN", bl.Baselines[0].State)

	// Reconnect: a new authorization, a sync, no duplicates.
	stored := countSource(t, srv, uid, metrics.SourceWhoop)
	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	status, body, _ = connectVia(t, srv, uid, "WHOOP")
	require.Equal(t, http.StatusOK, status, "%v", body)
	c = waitSynced(t, srv, uid, W, now)
	require.Equal(t, providerconnection.StatusCONNECTED, c.Status)
	require.Equal(t, stored, countSource(t, srv, uid, metrics.SourceWhoop))
}

// TestOAuthCallbackRefusals: a forged, expired or cross-provider state and a
// declined consent connect nothing.
func TestOAuthCallbackRefusals(t *testing.T) {
	t.Parallel()
	f := wearabletest.NewWHOOP(t)
	srv := providerServer(t, f)
	uid := srv.CreateUser(t, "refusals@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	srv.App.SetClock(now)
	var out struct {
		ConnectProvider struct {
			AuthorizationURL string `json:"authorizationUrl"`
		} `json:"connectProvider"`
	}
	srv.Do(t, uid, `mutation { connectProvider(provider: WHOOP) { authorizationUrl } }`, nil).Decode(t, &out)
	link, err := url.Parse(out.ConnectProvider.AuthorizationURL)
	require.NoError(t, err)
	state := link.Query().Get("state")
	cases := map[string]string{
		"forged state":   "/oauth/whoop/callback?code=abc&state=v1.k1.AAAA",
		"other provider": "/oauth/oura/callback?code=abc&state=" + url.QueryEscape(state),
		"declined":       "/oauth/whoop/callback?error=access_denied&state=" + url.QueryEscape(state),
		"bad code":       "/oauth/whoop/callback?code=never-issued&state=" + url.QueryEscape(state),
	}
	for name, path := range cases {
		status, body := getJSON(t, srv.URL+path)
		require.Equal(t, http.StatusBadRequest, status, "%s: %v", name, body)
		require.Contains(t, fmt.Sprint(body["errors"]), "EINVALID", name)
	}
	srv.App.SetClock(now.Add(providers.OAuthStateTTL + time.Second))
	status, body := getJSON(t, srv.URL+"/oauth/whoop/callback?code=abc&state="+url.QueryEscape(state))
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, fmt.Sprint(body["errors"]), "expired")
	n, err := srv.App.Store.Client.ProviderConnection.Query().Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Zero(t, n)
	for _, p := range []string{"FITBIT", "APPLE_HEALTH", "OURA"} {
		require.Equal(t, []string{"EINVALID"}, srv.Do(t, uid, `mutation($p: ProviderConnectionProvider!) { connectProvider(provider: $p) { authorizationUrl } }`,
			map[string]any{"p": p}).Codes(), p)
	}
}

// TestOuraConnectionSync connects Oura through its fake and syncs pages of
// sleep and readiness documents; a signed webhook queues a sync.
func TestOuraConnectionSync(t *testing.T) {
	t.Parallel()
	f := wearabletest.NewOura(t)
	f.PageSize = 10
	now := time.Now().UTC().Truncate(time.Second)
	days := nights(now, 1, 20)
	f.SetDays(days)
	srv := providerServer(t, f)
	uid := srv.CreateUser(t, "oura-oauth@example.com")
	srv.App.SetClock(now)
	status, body, callback := connectVia(t, srv, uid, "OURA")
	require.Equal(t, http.StatusOK, status, "%v", body)
	oc := waitSynced(t, srv, uid, providerconnection.ProviderOURA, now)
	// The state is single-use: the same callback again is refused before
	// the code reaches the provider.
	exchanges := len(f.Requests())
	status, body = getJSON(t, callback)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "EINVALID", body["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)["code"])
	require.Contains(t, body["errors"].([]any)[0].(map[string]any)["message"], "already used")
	require.Len(t, f.Requests(), exchanges, "nothing was sent to the provider")
	const perNight = 7 // sleep: duration, efficiency, HRV, RHR, respiratory rate; readiness: score, temperature deviation
	require.Equal(t, len(days)*perNight, countSource(t, srv, uid, metrics.SourceOura), "lastError %v, requests %+v", oc.LastError, f.Requests())
	pages := 0
	for _, r := range f.Requests() {
		if r.Query.Get("next_token") != "" {
			pages++
		}
	}
	require.Positive(t, pages, "next_token was followed")

	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	hook := wearable.NewOura(wearable.Config{ClientSecret: f.ClientSecret})
	delivery := []byte(fmt.Sprintf(`{"event_type": "update", "data_type": "sleep", "object_id": "x1", "event_time": "%s", "user_id": %q}`,
		now.Format(time.RFC3339), f.AccountID))
	status, body = postWebhook(t, srv, "/webhooks/oura", delivery, hook.SignWebhook(delivery, now))
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.InDelta(t, 1, body["queued"], 0)
	waitSynced(t, srv, uid, providerconnection.ProviderOURA, now)
	require.Equal(t, len(days)*perNight, countSource(t, srv, uid, metrics.SourceOura))

	// The subscription handshake echoes the challenge for our token only.
	status, body = getJSON(t, srv.URL+"/webhooks/oura?verification_token=verify-me&challenge=c-123")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "c-123", body["challenge"])
	status, _ = getJSON(t, srv.URL+"/webhooks/oura?verification_token=guess&challenge=c-123")
	require.Equal(t, http.StatusUnauthorized, status)
}

// TestSyncErrorIsVisible: a provider that refuses the access token fails
// the sync with status ERROR, a user-safe lastError on the connection and
// a PROVIDER_SYNCED feed event saying so; nothing is stored.
func TestSyncErrorIsVisible(t *testing.T) {
	t.Parallel()
	f := wearabletest.NewWHOOP(t)
	now := time.Now().UTC().Truncate(time.Second)
	f.SetDays(nights(now, 1, 3))
	srv := providerServer(t, f)
	uid := srv.CreateUser(t, "whoop-error@example.com")
	srv.App.SetClock(now)
	status, body, _ := connectVia(t, srv, uid, "WHOOP")
	require.Equal(t, http.StatusOK, status, "%v", body)
	waitSynced(t, srv, uid, providerconnection.ProviderWHOOP, now)
	stored := countSource(t, srv, uid, metrics.SourceWhoop)

	f.ExpireAccessTokens() // WHOOP now answers 401
	now = now.Add(time.Minute)
	srv.App.SetClock(now)
	f.Rescore(nights(now, 1, 1)[0].End, 99, now)
	srv.Do(t, uid, `mutation { syncProvider(provider: WHOOP) { id } }`, nil).Decode(t, &struct{}{})
	var c *ent.ProviderConnection
	require.Eventually(t, func() bool {
		c = conn(t, srv, uid, providerconnection.ProviderWHOOP)
		return c.SyncStatus == providerconnection.SyncStatusERROR
	}, 30*time.Second, 20*time.Millisecond)
	require.NotNil(t, c.LastError)
	require.Contains(t, *c.LastError, "connect again")
	var out struct {
		Node struct {
			SyncStatus string  `json:"syncStatus"`
			LastError  *string `json:"lastError"`
		} `json:"node"`
	}
	srv.Do(t, uid, `query($id: ID!) { node(id: $id) { ... on ProviderConnection { syncStatus lastError } } }`,
		map[string]any{"id": c.ID}).Decode(t, &out)
	require.Equal(t, "ERROR", out.Node.SyncStatus)
	require.Equal(t, c.LastError, out.Node.LastError)
	ev, err := srv.App.Store.Client.FeedEvent.Query().Where(feedevent.UserID(uid), feedevent.KindEQ(feedevent.KindPROVIDER_SYNCED)).
		Order(ent.Asc(feedevent.FieldSeq)).All(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Len(t, ev, 2)
	require.Equal(t, "ERROR", ev[1].Payload["status"])
	require.Equal(t, stored, countSource(t, srv, uid, metrics.SourceWhoop), "nothing stored by the failed sync")
	n, err := srv.App.Store.Client.ObservationRevision.Query().Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Zero(t, n, "the rescore was not applied")
}
