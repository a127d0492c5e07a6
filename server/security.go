package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/rs/cors"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/resolvers"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// authMutations must each be the only field of their operation and run
// outside the request transaction (a refresh-token family revocation must
// commit even though the request fails).
var authMutations = []string{auth.OpSignUp, auth.OpSignIn, auth.OpRefresh, auth.OpSignOut}

// hstsValue is sent on every response outside dev mode.
const hstsValue = "max-age=31536000; includeSubDomains"

// security is the App's authentication and abuse-limit machinery.
type security struct {
	cfg     SecurityConfig
	keys    interface{ Ring() *auth.KeyRing }
	tokens  *auth.Tokens
	limiter *limits.Limiter
	allow   *limits.AllowList
	cors    *cors.Cors
}

// setupSecurity loads the key ring (starting the reload watcher), the
// limiter, the allow-list and the auth service. In production it refuses to
// start without a key file, or with a ring that has no signing key or holds
// the published example key or a dev-marked key.
func (a *App) setupSecurity(ctx context.Context) error {
	sc := a.Config.Security.withDefaults()
	a.Config.Security = sc
	s := &security{cfg: sc, limiter: limits.NewLimiter(a.Redis)}
	if sc.JWTKeysFile != "" {
		fk, err := auth.LoadFileKeys(sc.JWTKeysFile, a.Log)
		if err != nil {
			return err
		}
		go fk.Watch(a.baseCtx, sc.JWTKeysReload)
		s.keys = fk
	} else {
		if a.Config.EnvMode == ModeProduction {
			return fmt.Errorf("%w: ENV_MODE=%s needs JWT_KEYS_FILE", errUnsafeKeys, a.Config.EnvMode)
		}
		ring, err := auth.NewEphemeralKeyRing()
		if err != nil {
			return err
		}
		s.keys = auth.NewStaticKeys(ring)
		a.Log.WarnContext(ctx, "using an ephemeral JWT signing key: tokens end at restart (set JWT_KEYS_FILE)")
	}
	if a.Config.EnvMode == ModeProduction {
		kid, _, ok := s.keys.Ring().Signer()
		if !ok {
			return fmt.Errorf("%w: JWT_KEYS_FILE has no signingKey", errUnsafeKeys)
		}
		if auth.IsInsecureKeyRing(s.keys.Ring()) {
			return fmt.Errorf("%w: JWT_KEYS_FILE contains the published example/dev key %q; generate your own (docs/security.md)", errUnsafeKeys, kid)
		}
	}
	if sc.PersistedQueries == PersistedAllowList {
		al, err := limits.LoadAllowList(sc.PersistedQueryFile)
		if err != nil {
			return err
		}
		s.allow = &al
	}
	s.tokens = &auth.Tokens{Keys: s.keys, Config: auth.TokenConfig{
		Issuer: sc.JWTIssuer, Audience: sc.JWTAudience, AccessTTL: sc.AccessTokenTTL, Leeway: 30 * time.Second,
	}}
	s.cors = cors.New(cors.Options{
		AllowedOrigins: sc.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Content-Type", "Authorization", "X-Request-ID", "GraphQL-Preflight", "Apollo-Require-Preflight"},
		ExposedHeaders: []string{"X-Request-ID", "Retry-After"},
		MaxAge:         600,
	})
	a.sec = s
	a.Auth = &auth.Service{
		Client: a.Store.Client, Tokens: s.tokens, Recorder: a.Recorder, RefreshTTL: sc.RefreshTokenTTL,
		Argon2: auth.DefaultArgon2, Guard: a.authGuard,
	}
	return nil
}

// authGuard rate-limits auth operations per client IP; it fails closed when
// the shared limiter is unreachable.
func (a *App) authGuard(ctx context.Context, op string) error {
	ip := limits.ClientIPFromContext(ctx)
	ok, retry := a.sec.limiter.Allow(ctx, "auth:"+ip, limits.Rate{PerMinute: a.sec.cfg.RateLimitAuth, Burst: a.sec.cfg.RateLimitAuth}, true)
	if !ok {
		a.Log.WarnContext(ctx, "auth rate limit exceeded", slog.String("op", op), slog.String("ip", ip))
		return limits.LimitError(retry)
	}
	return nil
}

// useSecurityExtensions adds the operation limits and persisted queries.
func (a *App) useSecurityExtensions(srv *handler.Server) {
	sc := a.sec.cfg
	srv.Use(limits.Operation{
		MaxDepth: sc.MaxDepth, MaxCost: sc.MaxCost, MaxAliases: sc.MaxAliases, MaxRootFields: sc.MaxRootFields,
		DefaultPage: resolvers.DefaultPageSize, AllowIntrospection: a.Config.Dev(), SoloMutations: authMutations,
		Observe: a.observeLimits,
	})
	switch {
	case a.sec.allow != nil:
		srv.Use(*a.sec.allow)
	case sc.PersistedQueries == PersistedAPQ && a.Redis != nil:
		srv.Use(extension.AutomaticPersistedQuery{Cache: limits.RedisAPQCache{Client: a.Redis, TTL: 24 * time.Hour}})
	case sc.PersistedQueries == PersistedAPQ:
		srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	}
}

// transactioner runs mutations in one transaction, except auth mutations.
func (a *App) transactioner() entgql.Transactioner {
	// runLoop opens its own transaction (the runner enforces the loop's runtime
	// guardrail and audits an overrun in a second transaction).
	// deleteAccount and requestDataExport (app/datarights) open their own too.
	skip := append(append([]string{}, authMutations...), "runLoop", "deleteAccount", "requestDataExport")
	return entgql.Transactioner{TxOpener: a.Store.Client, SkipTxFunc: entgql.SkipIfHasFields(skip...)}
}

// systemStatus is what Query.systemStatus reports.
func (a *App) systemStatus() resolvers.SystemStatus {
	st := resolvers.SystemStatus{
		EnvMode: a.Config.EnvMode, AuthMode: "required", SafetyStatus: "strict",
		LoggingLevel: strings.ToLower(a.Config.LogLevel.String()), ProvidersEnabled: append([]string{}, providers.Providers...),
		LLMEnabled: a.Config.LLM.BaseURL != "",
	}
	if a.Config.Dev() {
		st.AuthMode, st.SafetyStatus = "optional", "standard"
	}
	return st
}

// withTransportSecurity resolves the client IP (trusting X-Forwarded-For
// only from TRUSTED_PROXIES), enforces HTTPS and sends HSTS outside dev mode
// (probes on /healthz and /readyz excepted), applies CORS and the per-IP
// rate limit.
func (a *App) withTransportSecurity(next http.Handler) http.Handler {
	s := a.sec
	enforceHTTPS := !a.Config.Dev() && !s.cfg.AllowPlainHTTP
	inner := s.cors.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.cfg.TrustedProxies.ClientIP(r)
		ctx := limits.NewContextWithClientIP(r.Context(), ip)
		ctx = auth.NewContextWithUserAgent(ctx, r.UserAgent())
		r = r.WithContext(ctx)
		probe := r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
		if enforceHTTPS && !probe {
			if !s.cfg.TrustedProxies.Secure(r) {
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					u := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
					http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
					return
				}
				writeJSONError(w, http.StatusForbidden, engine.EFORBIDDEN, "HTTPS is required")
				return
			}
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		if !probe && r.Method != http.MethodOptions {
			if ok, retry := s.limiter.Allow(ctx, "ip:"+ip, limits.Rate{PerMinute: s.cfg.RateLimitIP, Burst: s.cfg.RateLimitIP}, false); !ok {
				limits.WriteLimited(w, retry)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// withGraphQLLimits applies the per-user rate limit and the request guard,
// and prepares websocket upgrades for closing at token expiry.
func (a *App) withGraphQLLimits(next http.Handler) http.Handler {
	s := a.sec
	guarded := limits.Guard(parserTokenLimit, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if v, ok := viewer.FromContext(ctx); ok && v.UserID != "" {
			if ok, retry := s.limiter.Allow(ctx, "user:"+v.UserID, limits.Rate{PerMinute: s.cfg.RateLimitUser, Burst: s.cfg.RateLimitUser}, false); !ok {
				limits.WriteLimited(w, retry)
				return
			}
		}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			r = r.WithContext(context.WithValue(ctx, wsHolderKey{}, &wsHolder{}))
		}
		if isMultipart(r) {
			a.serveUpload(w, r, next) // a file upload: its own checks (imports.go)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// bearerViewer verifies an "Authorization: Bearer <jwt>" value.
func (a *App) bearerViewer(ctx context.Context, header string) (viewer.Viewer, time.Time, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return viewer.Viewer{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "Authorization must be a Bearer token")
	}
	v, exp, err := a.sec.tokens.Verify(strings.TrimSpace(token))
	if err != nil {
		// The verifier's cause (the JWT library's words) stays in the log.
		return viewer.Viewer{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "%s", engine.ErrorMessage(err))
	}
	// A token outlives nothing: its user must still exist, with its role
	// (looked up at most viewerCacheTTL ago, or since a change here).
	s, err := a.userStatus(ctx, v.UserID)
	switch {
	case err != nil && IsUnavailable(err):
		return viewer.Viewer{}, time.Time{}, unavailableError(err)
	case err != nil:
		return viewer.Viewer{}, time.Time{}, engine.Wrap(err, engine.EINTERNAL, "internal error")
	case !s.found: // erased account (deleteAccount)
		return viewer.Viewer{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid access token")
	}
	if !s.admin && v.Role == viewer.RoleAdmin {
		v.Role = viewer.RoleUser
	}
	v.RequestID = RequestIDFromContext(ctx)
	return v, exp, nil
}

type tokenExpiryKey struct{}

// wsHolder carries the accepted websocket from Accept to InitFunc so the
// socket can be closed with 4401 when its token expires.
type wsHolder struct {
	mu   sync.Mutex
	conn wsCloser
}

// wsCloser is an accepted websocket as closeAtExpiry sees it.
type wsCloser interface {
	WriteClose(code int, reason string) error
	Close() error
}

type wsHolderKey struct{}

// expiringWebsocket accepts sockets with the origin allow-list and records
// each connection in the request's wsHolder.
type expiringWebsocket struct {
	inner coderWebsocket
}

func (e expiringWebsocket) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := e.inner.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	if h, ok := r.Context().Value(wsHolderKey{}).(*wsHolder); ok {
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
	}
	return c, nil
}

// websocketAcceptOptions check the Origin of upgrades against
// CORS_ALLOWED_ORIGINS (same-origin always passes); "*" (dev only) skips it.
func (a *App) websocketAcceptOptions() websocket.AcceptOptions {
	opts := websocket.AcceptOptions{}
	if a.sec.cfg.AllowAnyOrigin() {
		opts.InsecureSkipVerify = true
	}
	for _, o := range a.sec.cfg.CORSOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			opts.OriginPatterns = append(opts.OriginPatterns, u.Host)
		}
	}
	return opts
}

// websocketImplementation accepts gqlgen's websockets (the legacy
// graphql-ws subprotocol) with websocketAcceptOptions.
func (a *App) websocketImplementation() transport.WebsocketImplementation {
	return expiringWebsocket{inner: coderWebsocket{AcceptOptions: a.websocketAcceptOptions()}}
}

// wsRefusal is why connection_init was refused: the close code and reason.
type wsRefusal struct {
	code   int
	reason string
	err    error // the connection_error of the legacy subprotocol
}

// websocketInit is websocketAuth as gqlgen's InitFunc (legacy graphql-ws).
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	ctx, r := a.websocketAuth(ctx, payload)
	if r != nil {
		ctx = transport.WithWebsocketCloseCode(ctx, r.code)
		ctx = transport.AppendCloseReason(ctx, r.reason)
		return ctx, nil, r.err
	}
	// The acknowledgement carries nothing: echoing the init payload would
	// send the client's token back over the wire.
	return ctx, nil, nil
}

// websocketAuth authenticates a websocket at connection_init: a token in the
// payload ("Authorization: Bearer …" or "authToken") wins over the viewer of
// the upgrade request (its Authorization header, or dev mode's demo user);
// in dev mode "debugUser" may choose a user. No viewer closes with 4401, a
// bad token with 4403; an authenticated socket is closed with 4401 when its
// token expires.
func (a *App) websocketAuth(ctx context.Context, payload transport.InitPayload) (context.Context, *wsRefusal) {
	refuse := func(code int, reason string, err error) (context.Context, *wsRefusal) {
		return ctx, &wsRefusal{code: code, reason: reason, err: err}
	}
	// A socket authenticates once and lives long: look the user up afresh.
	ctx = freshViewer(ctx)
	tok := payload.Authorization()
	if tok == "" {
		if t := payload.GetString("authToken"); t != "" {
			tok = "Bearer " + t
		}
	}
	switch {
	case tok != "":
		v, exp, err := a.bearerViewer(ctx, tok)
		if err != nil && engine.ErrorCode(err) == EUNAVAILABLE {
			return refuse(closeTryAgainLater, "service unavailable: retry later", wsInitError{EUNAVAILABLE, engine.ErrorMessage(err)})
		}
		if err != nil {
			return refuse(4403, "forbidden", wsInitError{engine.EUNAUTHORIZED, engine.ErrorMessage(err)})
		}
		ctx = viewer.NewContext(ctx, v)
		ctx = context.WithValue(ctx, tokenExpiryKey{}, exp)
	case a.Config.Dev() && payload.GetString("debugUser") != "":
		v, err := a.lookupViewer(ctx, payload.GetString("debugUser"))
		if err != nil {
			return refuse(4403, "forbidden", wsInitError{engine.EUNAUTHORIZED, "unknown debugUser"})
		}
		ctx = viewer.NewContext(ctx, v)
	}
	if _, ok := viewer.FromContext(ctx); !ok {
		return refuse(4401, "unauthorized", wsInitError{engine.EUNAUTHORIZED, "authentication required"})
	}
	if exp, ok := ctx.Value(tokenExpiryKey{}).(time.Time); ok {
		a.closeAtExpiry(ctx, exp)
	}
	a.Log.DebugContext(ctx, "websocket initialised")
	return ctx, nil
}

// closeTryAgainLater is the websocket close code of an outage at
// connection_init (RFC 6455 §7.4.1, 1013 "try again later").
const closeTryAgainLater = 1013

// wsInitError is a connection_init refusal. gqlgen sends its Error() as the
// connection_error message; codedConn turns the "CODE: message" form into a
// message with extensions.code.
type wsInitError struct{ code, msg string }

func (e wsInitError) Error() string { return e.code + ": " + e.msg }

// closeAtExpiry closes the request's websocket with 4401 at exp.
func (a *App) closeAtExpiry(ctx context.Context, exp time.Time) {
	h, ok := ctx.Value(wsHolderKey{}).(*wsHolder)
	if !ok {
		return
	}
	t := time.AfterFunc(time.Until(exp), func() {
		h.mu.Lock()
		c := h.conn
		h.mu.Unlock()
		if c != nil {
			_ = c.WriteClose(4401, "token expired")
			_ = c.Close()
		}
	})
	context.AfterFunc(ctx, func() { t.Stop() })
}
