package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/wearable"
)

// setupProviders builds the wearable clients that are configured and the
// connection service (always present: without clients every connect is
// EINVALID and syncs have nothing to do).
func (a *App) setupProviders() {
	pc := a.Config.Providers
	keys := pc.Keys
	if keys == nil {
		keys = connect.EphemeralKeyRing() // dev mode only (LoadConfig refuses otherwise)
	}
	clients := map[providerconnection.Provider]*wearable.Client{}
	cfg := func(o OAuthClient, path string) wearable.Config {
		return wearable.Config{
			ClientID: o.ClientID, ClientSecret: o.ClientSecret, BaseURL: o.BaseURL,
			RedirectURL: pc.PublicURL + "/oauth/" + path + "/callback", MaxRetryWait: pc.MaxRetryWait,
		}
	}
	if pc.WHOOP.Enabled() {
		clients[providerconnection.ProviderWHOOP] = wearable.NewWHOOP(cfg(pc.WHOOP, "whoop"))
	}
	if pc.Oura.Enabled() {
		clients[providerconnection.ProviderOURA] = wearable.NewOura(cfg(pc.Oura, "oura"))
	}
	impls := make(map[providerconnection.Provider]connect.Provider, len(clients))
	for p, c := range clients {
		impls[p] = c
	}
	a.wearables = clients
	a.webhooks = &replayGuard{redis: a.Redis, seen: map[string]time.Time{}}
	a.Connect = &connect.Service{
		Client: a.Store.Client, Providers: impls, Keys: keys, Ingest: a.Ingest, Recorder: a.Recorder, Now: a.clock,
		States: a.webhooks, // an authorization link's state is accepted once (Redis when configured)
	}
}

// providerOf maps a URL path segment (whoop, oura) to a provider.
func providerOf(s string) (providerconnection.Provider, bool) {
	p := providerconnection.Provider(strings.ToUpper(s))
	switch p {
	case providerconnection.ProviderWHOOP, providerconnection.ProviderOURA:
		return p, true
	}
	return "", false
}

// runSyncJob is the background sync of one connection, as the system.
func (a *App) runSyncJob(ctx context.Context, connectionID string) error {
	res, err := a.Connect.Sync(ctx, connectionID)
	if err != nil {
		a.Log.WarnContext(ctx, "provider sync failed", slog.String("connection_id", connectionID),
			slog.String("code", engine.ErrorCode(err)), slog.String("error", engine.ErrorMessage(err)))
		if c := engine.ErrorCode(err); c == engine.EUNAUTHORIZED || c == engine.EINVALID {
			return nil // retrying cannot help: the connection shows the error until the user acts
		}
		return err
	}
	if !res.Skipped {
		a.Log.InfoContext(ctx, "provider sync", slog.String("connection_id", connectionID), slog.Int("received", res.Received),
			slog.Int("inserted", res.Inserted), slog.Int("revised", res.Revised), slog.Int("rejected", res.Rejected),
			slog.Bool("token_refreshed", res.Refreshed))
	}
	return nil
}

// startPeriodicSync queues a sync of every connected provider every
// PROVIDER_SYNC_INTERVAL until the App closes.
func (a *App) startPeriodicSync() {
	if len(a.wearables) == 0 {
		return
	}
	every := a.Config.Providers.SyncInterval
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-a.baseCtx.Done():
				return
			case <-t.C:
				a.QueueDueSyncs(a.baseCtx)
			}
		}
	}()
}

// QueueDueSyncs queues a sync of every connected provider and returns how
// many were queued.
func (a *App) QueueDueSyncs(ctx context.Context) int {
	ids, err := a.Connect.Due(ctx)
	if err != nil {
		a.Log.WarnContext(ctx, "listing connections to sync failed", slog.Any("err", err))
		return 0
	}
	n := 0
	for _, id := range ids {
		if err := a.Jobs.EnqueueSync(ctx, id); err != nil {
			a.Log.WarnContext(ctx, "sync enqueue failed", slog.String("connection_id", id), slog.Any("err", err))
			continue
		}
		n++
	}
	return n
}

// oauthCallback completes a connection: GET /oauth/{provider}/callback
// ?code=…&state=… (or ?error=… when the person declined).
func (a *App) oauthCallback(w http.ResponseWriter, r *http.Request) {
	p, ok := providerOf(r.PathValue("provider"))
	if !ok {
		writeJSONError(w, http.StatusNotFound, engine.ENOTFOUND, "unknown provider")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		writeJSONError(w, http.StatusBadRequest, engine.EINVALID, "the provider did not grant access; nothing was connected")
		return
	}
	conn, err := a.Connect.Complete(r.Context(), p, q.Get("state"), q.Get("code"))
	if err != nil {
		code := engine.ErrorCode(err)
		status := map[string]int{engine.EINVALID: http.StatusBadRequest, engine.EUNAUTHORIZED: http.StatusBadRequest}[code]
		if status == 0 {
			a.Log.ErrorContext(r.Context(), "oauth callback failed", slog.String("provider", string(p)), slog.Any("err", err))
			writeJSONError(w, http.StatusBadGateway, engine.EINTERNAL, "connecting failed; try again")
			return
		}
		writeJSONError(w, status, code, engine.ErrorMessage(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"connected": true, "provider": string(p), "connectionId": conn.ID})
}

// providerWebhook receives POST /webhooks/{provider}: the signature and its
// timestamp are verified, a delivery seen before is acknowledged and
// ignored (replay protection), and a sync of the named account is queued.
func (a *App) providerWebhook(w http.ResponseWriter, r *http.Request) {
	p, ok := providerOf(r.PathValue("provider"))
	client := a.wearables[p]
	if !ok || client == nil {
		writeJSONError(w, http.StatusNotFound, engine.ENOTFOUND, "unknown provider")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, engine.ELIMIT, "request body too large")
		return
	}
	ev, err := client.VerifyWebhook(r.Header, body, a.clock())
	if err != nil {
		status := http.StatusUnauthorized
		if engine.ErrorCode(err) == engine.EINVALID {
			status = http.StatusBadRequest
		}
		writeJSONError(w, status, engine.ErrorCode(err), engine.ErrorMessage(err))
		return
	}
	fresh, err := a.webhooks.first(r.Context(), string(p)+"/"+ev.ID)
	if err != nil {
		writeUnavailable(w)
		return
	}
	if !fresh {
		writeJSON(w, http.StatusOK, map[string]any{"queued": 0, "duplicate": true})
		return
	}
	n, err := a.Connect.Webhook(r.Context(), p, ev.UserID)
	if err != nil {
		a.Log.ErrorContext(r.Context(), "webhook failed", slog.String("provider", string(p)), slog.Any("err", err))
		writeJSONError(w, http.StatusInternalServerError, engine.EINTERNAL, "the webhook could not be processed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queued": n})
}

// ouraWebhookHandshake answers the GET Oura sends when a webhook
// subscription is created: the verification token must be ours, and the
// challenge is echoed as {"challenge": …}.
func (a *App) ouraWebhookHandshake(w http.ResponseWriter, r *http.Request) {
	want := a.Config.Providers.OuraVerificationToken
	q := r.URL.Query()
	got := q.Get("verification_token")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 || q.Get("challenge") == "" {
		writeJSONError(w, http.StatusUnauthorized, engine.EUNAUTHORIZED, "bad verification token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": q.Get("challenge")})
}

// replayGuard remembers webhook deliveries for twice the signature
// tolerance (older ones fail the timestamp check anyway): in Redis when
// configured (shared by every instance), else in process.
type replayGuard struct {
	redis *redis.Client
	mu    sync.Mutex
	seen  map[string]time.Time
}

// first reports whether the webhook delivery key is seen for the first
// time, and remembers it.
func (g *replayGuard) first(ctx context.Context, key string) (bool, error) {
	return g.use(ctx, "webhook", key, 2*providers.WebhookTolerance)
}

// FirstUse implements connect.StateGuard: an OAuth state is accepted once.
func (g *replayGuard) FirstUse(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return g.use(ctx, "oauth-state", key, ttl)
}

// use reports whether key (in namespace ns) is seen for the first time
// within ttl, and remembers it.
func (g *replayGuard) use(ctx context.Context, ns, key string, ttl time.Duration) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	k := "vitalgraph:" + ns + ":" + hex.EncodeToString(sum[:16])
	if g.redis != nil {
		return g.redis.SetNX(ctx, k, 1, ttl).Result()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	for s, until := range g.seen {
		if now.After(until) {
			delete(g.seen, s)
		}
	}
	if until, ok := g.seen[k]; ok && now.Before(until) {
		return false, nil
	}
	g.seen[k] = now.Add(ttl)
	return true, nil
}
