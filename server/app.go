package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/intervene"
	"github.com/vitalgraph/vitalgraph/app/jobs"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/llm"
	"github.com/vitalgraph/vitalgraph/server/telemetry"
	"github.com/vitalgraph/vitalgraph/wearable"
)

// App is one running Vitalgraph server: its configuration, logger and
// connections. It is built by NewApp and torn down by Close.
type App struct {
	Config    Config
	Log       *slog.Logger
	Store     *Store
	Redis     *redis.Client    // nil when REDIS_URL is empty
	Recorder  *record.Recorder // audit and feed events
	Feed      *feed.Hub        // live feed: the Recorder's Notifier, the subscriptions' source
	Ingest    *ingest.Service
	Loop      *loop.Runner
	Intervene *intervene.Service
	Jobs      jobs.Queue          // background loop runs (Redis or in-process)
	Auth      *auth.Service       // accounts and tokens (security.go)
	Rights    *datarights.Service // audit checkpoints, export, account deletion (data.go)
	Metrics   *telemetry.Metrics  // Prometheus families (served on METRICS_ADDR; observability.go)
	Connect   *connect.Service    // wearable OAuth connections and syncs (providers.go)
	Importer  *importer.Service   // uploaded health-data files (imports.go)
	webhooks  *replayGuard        // seen webhook deliveries (providers.go)
	wearables map[providerconnection.Provider]*wearable.Client
	sec       *security
	fixedNow  atomic.Int64 // unix nanos of a pinned clock (SetClock); 0 = real time
	demoUser  string       // dev-mode default viewer id
	viewers   viewerCache  // recent viewer lookups (viewercache.go)
	draining  atomic.Bool
	baseCtx   context.Context
	// feedSlowTimeout is the feed's SlowConsumerTimeout (0 = its
	// default), which the websocket transport applies to its queues.
	feedSlowTimeout time.Duration
	cancel          context.CancelFunc
}

// NewApp opens storage (and Redis when configured), applies migrations when
// asked, and in dev mode makes sure the demo user exists.
func NewApp(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return NewAppWithStore(ctx, cfg, log, st)
}

// NewAppWithStore is NewApp on an already opened store, which the App owns
// from then on (Close closes it).
func NewAppWithStore(ctx context.Context, cfg Config, log *slog.Logger, st *Store) (*App, error) {
	return NewAppWithFeed(ctx, cfg, log, st, FeedOptions{Hub: feed.Options{
		PollInterval: cfg.Feed.PollInterval, Retention: cfg.Feed.Retention,
		Buffer: cfg.Feed.Buffer, SlowConsumerTimeout: cfg.Feed.SlowConsumerTimeout,
	}})
}

// NewAppWithFeed is NewAppWithStore with options for the live feed.
func NewAppWithFeed(ctx context.Context, cfg Config, log *slog.Logger, st *Store, fo FeedOptions) (*App, error) {
	a := &App{Config: cfg, Log: log, Store: st}
	st.Client.User.Use(a.evictViewersOnChange)
	a.baseCtx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	fail := func(err error) (*App, error) {
		_ = a.Close()
		return nil, err
	}
	a.setupMetrics()
	a.Recorder = record.New(nil)
	a.Recorder.Dialect = st.Dialect
	a.Recorder.Committed = a.observeDecision
	a.Ingest = &ingest.Service{MaxBatch: cfg.Guardrails.IngestMaxBatch, Earliest: cfg.Guardrails.ObservationFloor, Recorder: a.Recorder, Now: a.clock, Dialect: st.Dialect}
	a.Ingest.Observe = a.observeIngest
	a.Loop = &loop.Runner{Recorder: a.Recorder, InsightsPerDay: cfg.Guardrails.InsightsPerDay, Now: a.clock, Dialect: st.Dialect}
	a.Loop.Observe = a.observeLoop
	narrator := &llm.Narrator{Timeout: cfg.Guardrails.NarrativeTimeout}
	if cfg.LLM.Enabled() {
		client, err := llm.NewClient(cfg.LLM, nil)
		if err != nil {
			return fail(err)
		}
		narrator.Client = client
	}
	a.Intervene = &intervene.Service{
		Recorder: a.Recorder, Narrator: observedNarrator{inner: narrator, m: a.Metrics, llmOn: narrator.Client != nil}, ActiveLimit: cfg.Guardrails.ExperimentsPerMetric,
		MaxLagDays: cfg.Guardrails.AttributionLagDays, Now: a.clock,
	}
	a.Loop.Evaluator, a.Loop.Timeout = a.Intervene, cfg.Guardrails.LoopTimeout
	if cfg.MigrateOnStart {
		applied, err := st.Migrate(ctx)
		if err != nil {
			return fail(fmt.Errorf("applying migrations: %w", err))
		}
		log.InfoContext(ctx, "migrations applied", slog.Int("count", len(applied)), slog.String("dialect", st.Dialect))
	}
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fail(fmt.Errorf("REDIS_URL: %w", err))
		}
		a.Redis = redis.NewClient(opt)
		a.observeRedis(a.Redis)
	}
	if err := a.setupSecurity(ctx); err != nil {
		return fail(err)
	}
	a.Feed = a.newFeedHub(fo)
	a.feedSlowTimeout = fo.Hub.SlowConsumerTimeout
	a.Recorder.Notifier = a.Feed
	if err := a.setupDataRights(); err != nil {
		return fail(err)
	}
	if cfg.Dev() {
		id, err := EnsureUser(ctx, st.Client, cfg.DemoUserEmail, "Demo user", user.RoleUSER)
		if err != nil {
			return fail(fmt.Errorf("creating the demo user (did you apply migrations? run with --migrate): %w", err))
		}
		a.demoUser = id
	}
	a.setupProviders()
	a.setupImports()
	// Jobs start last: a queued job (on Redis, possibly left by an earlier
	// process) may run at once and needs the whole App.
	if err := a.setupJobs(); err != nil {
		return fail(err)
	}
	a.Connect.Jobs = a.Jobs
	a.Importer.Jobs = a.Jobs
	a.startPeriodicSync()
	if cfg.WorkerInProcess {
		a.resumeImports(ctx) // this process works the queue (serve, worker); CLI commands do not
	}
	return a, nil
}

// SetClock pins the clock of ingestion, the loop and interventions to t
// (golden scenarios and tests happen in the past); the zero time unpins it.
// Safe for concurrent use.
func (a *App) SetClock(t time.Time) {
	if t.IsZero() {
		a.fixedNow.Store(0)
		return
	}
	a.fixedNow.Store(t.UnixNano())
}

// clock is the App's current time: the pinned time, else the real time.
func (a *App) clock() time.Time {
	if n := a.fixedNow.Load(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Now()
}

// Close releases every connection.
func (a *App) Close() error {
	a.cancel()
	var errs []error
	if a.Rights != nil {
		a.Rights.Wait() // running data exports
	}
	if a.Jobs != nil {
		errs = append(errs, a.Jobs.Close())
	}
	if a.Feed != nil {
		errs = append(errs, a.Feed.Close())
	}
	if a.Redis != nil {
		errs = append(errs, a.Redis.Close())
	}
	errs = append(errs, a.Store.Close())
	return errors.Join(errs...)
}

// EnsureUser returns the id of the user with email, creating it if needed.
// It runs as the system viewer.
func EnsureUser(ctx context.Context, client *ent.Client, email, name string, role user.Role) (string, error) {
	sctx := viewer.System(ctx)
	u, err := client.User.Query().Where(user.EmailEQ(email)).Only(sctx)
	if err == nil {
		return u.ID, nil
	}
	if !ent.IsNotFound(err) {
		return "", err
	}
	u, err = client.User.Create().SetEmail(email).SetDisplayName(name).SetRole(role).Save(sctx)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// Handler returns the HTTP routes with their middleware.
func (a *App) Handler() http.Handler {
	gql := newGraphQLHandler(a)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("/graphql", a.withViewer(a.withGraphQLLimits(gql)))
	mux.HandleFunc("GET /exports/{id}", a.exportDownload) // data export download (data.go)
	// wearable OAuth callbacks and webhooks (providers.go)
	mux.HandleFunc("GET /oauth/{provider}/callback", a.oauthCallback)
	mux.HandleFunc("POST /webhooks/{provider}", a.providerWebhook)
	mux.HandleFunc("GET /webhooks/oura", a.ouraWebhookHandshake)
	a.webRoutes(mux) // playground (dev), dashboard, assets: server/web.go
	var h http.Handler = mux
	h = a.withBodyLimit(h)
	h = a.withTransportSecurity(h)
	h = a.withDrain(h)
	h = withRecover(a.Log, h)
	h = withAccessLog(a.Log, a.Metrics, h)
	h = withTracing(h)
	h = withRequestID(h)
	return h
}

func (a *App) withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := a.Config.MaxBodyBytes
		if r.URL.Path == "/graphql" && isMultipart(r) {
			limit = a.uploadBodyLimit() // a file upload (imports.go)
		}
		if r.ContentLength > limit {
			writeJSONError(w, http.StatusRequestEntityTooLarge, engine.ELIMIT, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// withViewer resolves who is asking: an "Authorization: Bearer <jwt>" header
// (any mode; a bad token is 401 EUNAUTHORIZED), else in dev mode an
// X-Debug-User header (a user id) or the demo user. Outside dev mode a
// request without a token has no viewer: only signUp/signIn/refreshToken/
// signOut work, and every data access is refused by the privacy layer.
func (a *App) withViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		reqID := RequestIDFromContext(ctx)
		if authz := r.Header.Get("Authorization"); authz != "" {
			v, exp, err := a.bearerViewer(ctx, authz)
			if err != nil && engine.ErrorCode(err) == EUNAVAILABLE {
				writeUnavailable(w)
				return
			}
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				writeJSONError(w, http.StatusUnauthorized, engine.EUNAUTHORIZED, engine.ErrorMessage(err))
				return
			}
			ctx = viewer.NewContext(ctx, v)
			setViewerInfo(ctx, v)
			ctx = context.WithValue(ctx, tokenExpiryKey{}, exp)
			if isEventStream(r) {
				// An SSE subscription lives no longer than its token.
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, exp)
				defer cancel()
			}
		} else if a.Config.Dev() {
			id := r.Header.Get("X-Debug-User")
			if id == "" {
				id = a.demoUser
			}
			v, err := a.lookupViewer(ctx, id)
			if err != nil {
				writeJSONError(w, http.StatusUnauthorized, engine.EUNAUTHORIZED, "unknown X-Debug-User")
				return
			}
			v.RequestID = reqID
			ctx = viewer.NewContext(ctx, v)
			setViewerInfo(ctx, v)
		}
		if hub := sentry.GetHubFromContext(ctx); hub == nil && sentry.CurrentHub().Client() != nil {
			ctx = sentry.SetHubOnContext(ctx, sentry.CurrentHub().Clone())
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// lookupViewer loads a user's role for a dev-mode viewer.
func (a *App) lookupViewer(ctx context.Context, id string) (viewer.Viewer, error) {
	s, err := a.userStatus(ctx, id)
	if err != nil || !s.found {
		return viewer.Viewer{}, engine.Errorf(engine.EUNAUTHORIZED, "unknown user")
	}
	role := viewer.RoleUser
	if s.admin {
		role = viewer.RoleAdmin
	}
	return viewer.Viewer{UserID: id, Role: role, RequestID: RequestIDFromContext(ctx)}, nil
}

func (a *App) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// readyz reports ready when the database (and Redis, when configured)
// answers and the server is not draining.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok"}
	ready := true
	if a.draining.Load() {
		checks["server"] = "draining"
		ready = false
	}
	if err := a.Store.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		ready = false
	}
	if a.Redis != nil {
		checks["redis"] = "ok"
		if err := a.Redis.Ping(ctx).Err(); err != nil {
			checks["redis"] = "unreachable"
			ready = false
		}
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONError writes a GraphQL-shaped error body with a code.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// Serve listens on the configured address until ctx is cancelled, then shuts
// down gracefully: readiness goes false, the listener closes, open
// subscriptions are cancelled, in-flight requests drain within
// SHUTDOWN_TIMEOUT, and Sentry is flushed.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// Requests do not inherit the shutdown signal: in-flight requests
		// drain (SHUTDOWN_TIMEOUT); subscriptions end through connContext.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(a.baseCtx) },
		ErrorLog:    slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	// Hijacked websockets are not tracked by Shutdown: cancelling the base
	// context ends their subscriptions.
	srv.RegisterOnShutdown(a.cancel)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	mctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	if err := a.StartMetrics(mctx); err != nil {
		_ = srv.Close()
		return err
	}
	a.Log.InfoContext(ctx, "listening", slog.String("addr", ln.Addr().String()), slog.String("env_mode", a.Config.EnvMode),
		slog.String("database", a.Store.Dialect), slog.Bool("redis", a.Redis != nil))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.draining.Store(true)
	a.Log.InfoContext(ctx, "shutting down", slog.Duration("timeout", a.Config.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		a.Log.WarnContext(ctx, "shutdown timeout: closing the requests still running", slog.Duration("timeout", a.Config.ShutdownTimeout))
		_ = srv.Close()
	}
	sentry.Flush(2 * time.Second)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// DemoUserID is the dev-mode demo viewer's id ("" outside dev mode).
func (a *App) DemoUserID() string { return a.demoUser }

// isEventStream reports whether r asks for a server-sent event stream.
func isEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// StartMetrics serves /metrics and /debug/pprof/ on METRICS_ADDR (when set)
// until ctx ends. The listener is opened before it returns, so a bad or
// busy address fails the start.
func (a *App) StartMetrics(ctx context.Context) error {
	if a.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", a.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	go func() {
		if err := a.Metrics.ServePrivate(ctx, ln, a.Log); err != nil {
			a.Log.ErrorContext(ctx, "metrics listener stopped", slog.String("err", err.Error()))
		}
	}()
	return nil
}
