package server

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/XSAM/otelsql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/performance"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/server/limits"
	"github.com/vitalgraph/vitalgraph/server/telemetry"
)

// requestInfo is what the layers inside a request learn for its access log
// line and metrics: the GraphQL operation, the pseudonymous user, the first
// error code and the limit that refused it. The access-log middleware puts
// one in the context; the others fill it in.
type requestInfo struct {
	mu        sync.Mutex
	opName    string // bounded label (allow-list or "other")
	opType    string
	user      string // pseudonymous id
	errCode   string
	limit     string
	transport string // websocket, sse or "" (plain request)
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

func (ri *requestInfo) update(f func(*requestInfo)) {
	if ri == nil {
		return
	}
	ri.mu.Lock()
	f(ri)
	ri.mu.Unlock()
}

// codeRe finds the first error code of a JSON error body.
var codeRe = regexp.MustCompile(`"code"\s*:\s*"([A-Z_]{3,40})"`)

// withAccessLog logs one line per request after it finishes (request and
// trace ids come from the logger's handler: NewLogger), and counts it in
// the HTTP metrics. Nothing a client sends in a body or query string is
// logged: only the method, the route, the bounded operation label, the
// pseudonymous user, the status and the error code.
func withAccessLog(log *slog.Logger, m *telemetry.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			ri.transport = "websocket"
		case isEventStream(r):
			ri.transport = "sse"
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
		d := time.Since(start)
		ri.mu.Lock()
		opName, opType, user, code, limit := ri.opName, ri.opType, ri.user, ri.errCode, ri.limit
		ri.mu.Unlock()
		if code == "" && rec.status >= 400 {
			if mm := codeRe.FindSubmatch(rec.head); mm != nil {
				code = string(mm[1])
				m.Errors.WithLabelValues(telemetry.ErrorCode(code)).Inc()
			}
		}
		if limit == "" {
			switch rec.status {
			case http.StatusTooManyRequests:
				limit = "rate"
			case http.StatusRequestEntityTooLarge:
				limit = "body_size"
			}
			if limit != "" {
				m.Rejected.WithLabelValues(limit).Inc()
			}
		}
		route := telemetry.Route(r.URL.Path)
		m.HTTPRequests.WithLabelValues(route, telemetry.StatusCode(rec.status)).Inc()
		if opType != "subscription" && ri.transport == "" {
			m.HTTPDuration.WithLabelValues(route).Observe(d.Seconds())
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", d),
		}
		if opType != "" {
			attrs = append(attrs, slog.String("operation", opName), slog.String("operation_type", opType))
		}
		if user != "" {
			attrs = append(attrs, slog.String("user", user))
		}
		if code != "" {
			attrs = append(attrs, slog.String("error_code", code))
		}
		if limit != "" {
			attrs = append(attrs, slog.String("limit", limit))
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
	})
}

// withTracing starts the HTTP server span (otelhttp) when tracing is on.
func withTracing(next http.Handler) http.Handler {
	if !telemetry.TracingEnabled() {
		return next
	}
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + telemetry.Route(r.URL.Path)
		}))
}

// setViewerInfo records the request's pseudonymous user for the access log.
func setViewerInfo(ctx context.Context, v viewer.Viewer) {
	if v.UserID == "" {
		return
	}
	requestInfoFrom(ctx).update(func(ri *requestInfo) { ri.user = PseudonymousUserID(v.UserID) })
}

// operationNames is the allow-list of operation names that get their own
// label: METRICS_OPERATION_NAMES and the names of the persisted-query
// allow-list. Any other name (and an anonymous operation) is "other".
type operationNames map[string]bool

func newOperationNames(configured []string, allow *limits.AllowList) operationNames {
	n := operationNames{}
	for _, s := range configured {
		if s = strings.TrimSpace(s); s != "" {
			n[s] = true
		}
	}
	if allow != nil {
		for _, q := range allow.Queries {
			doc, err := parser.ParseQuery(&ast.Source{Input: q})
			if err != nil {
				continue
			}
			for _, op := range doc.Operations {
				if op.Name != "" {
					n[op.Name] = true
				}
			}
		}
	}
	return n
}

func (n operationNames) label(name string) string {
	if n[name] {
		return name
	}
	return telemetry.OtherOperation
}

// observeOperations is the gqlgen extension of the GraphQL metrics and
// spans: it names the operation for the access log, counts it, and times
// queries and mutations under a span of their own.
type observeOperations struct {
	m     *telemetry.Metrics
	names operationNames
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = observeOperations{}

func (observeOperations) ExtensionName() string                   { return "VitalgraphObservability" }
func (observeOperations) Validate(graphql.ExecutableSchema) error { return nil }

func opTypeOf(oc *graphql.OperationContext) string {
	if oc == nil || oc.Operation == nil {
		return "none"
	}
	return string(oc.Operation.Operation)
}

// MutateOperationContext runs once per operation (subscriptions too),
// before the limits: it names the operation and counts it.
func (o observeOperations) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	name, typ := o.names.label(oc.OperationName), opTypeOf(oc)
	if oc.OperationName == "" && oc.Operation != nil {
		name = o.names.label(oc.Operation.Name)
	}
	requestInfoFrom(ctx).update(func(ri *requestInfo) { ri.opName, ri.opType = name, typ })
	o.m.Operations.WithLabelValues(typ, name).Inc()
	return nil
}

// InterceptResponse times queries and mutations under a GraphQL span.
func (o observeOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	typ := opTypeOf(oc)
	if typ == "subscription" {
		return next(ctx)
	}
	name := o.names.label(oc.OperationName)
	start := time.Now()
	ctx, span := telemetry.Tracer().Start(ctx, "graphql."+typ+" "+name,
		trace.WithAttributes(attribute.String("graphql.operation.type", typ), attribute.String("graphql.operation.name", name)))
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, "graphql errors")
	}
	span.End()
	o.m.OperationSeconds.WithLabelValues(typ, name).Observe(time.Since(start).Seconds())
	return resp
}

// observeLimits is limits.Operation's Observe hook.
func (a *App) observeLimits(ctx context.Context, st limits.Stats) {
	a.Metrics.OperationCost.Observe(float64(st.Cost))
	a.Metrics.OperationDepth.Observe(float64(st.Depth))
	if st.Limit != "" {
		a.Metrics.Rejected.WithLabelValues(telemetry.Limit(st.Limit)).Inc()
		requestInfoFrom(ctx).update(func(ri *requestInfo) { ri.limit = st.Limit })
	}
}

// observedPresenter counts every error sent to a client by code and keeps
// the first code for the access log.
func observedPresenter(m *telemetry.Metrics, present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := present(ctx, err)
		code, _ := out.Extensions["code"].(string)
		m.Errors.WithLabelValues(telemetry.ErrorCode(code)).Inc()
		requestInfoFrom(ctx).update(func(ri *requestInfo) {
			if ri.errCode == "" {
				ri.errCode = code
			}
		})
		return out
	}
}

// useObservability adds the operation extension (before the limits, so
// refused operations are named and counted too).
func (a *App) useObservability(srv *handler.Server) {
	srv.Use(observeOperations{m: a.Metrics, names: newOperationNames(a.Config.MetricsOperations, a.sec.allow)})
}

// observedNarrator times narrations and counts LLM outcomes around the
// configured narrator.
type observedNarrator struct {
	inner interface {
		Narrate(ctx context.Context, f narrate.Facts) narrate.Outcome
	}
	m     *telemetry.Metrics
	llmOn bool
}

func (n observedNarrator) Narrate(ctx context.Context, f narrate.Facts) narrate.Outcome {
	kind := "template"
	if n.llmOn {
		kind = "llm"
	}
	ctx, span := telemetry.Tracer().Start(ctx, "narrate "+kind)
	start := time.Now()
	out := n.inner.Narrate(ctx, f)
	took := time.Since(start)
	n.m.NarrativeSeconds.WithLabelValues(kind).Observe(took.Seconds())
	n.m.Timings.Add(performance.KindNarrative, time.Now(), took)
	if n.llmOn {
		outcome := telemetry.LLMOutcome(out.Replaced, out.ReplaceReason)
		n.m.LLMCalls.WithLabelValues(outcome).Inc()
		n.m.LLMSeconds.Observe(float64(out.LatencyMS) / 1000)
		n.m.ClaimViolations.Add(float64(len(out.Violations)))
		if out.ReplaceReason == "timeout" {
			n.m.GuardrailBreach.WithLabelValues("narrative_timeout").Inc()
		}
		span.SetAttributes(attribute.String("llm.outcome", outcome))
	}
	span.End()
	return out
}

// observeDecision counts a committed audited decision (record.Recorder's
// Committed hook): insights created/skipped/updated, evaluations by grade,
// narratives by source, guardrail skips and loop timeouts.
func (a *App) observeDecision(ev record.Audit) {
	a.Metrics.Decision(ev.EntityType, ev.Action, ev.Decision)
	if ev.EntityType == "Insight" {
		kind, _ := ev.Details["kind"].(string)
		grade, _ := ev.Details["evidenceGrade"].(string)
		a.Metrics.Insight(ev.Action, kind, grade)
	}
	switch {
	case ev.EntityType == "Insight" && ev.Decision == "guardrail_skipped":
		a.Metrics.GuardrailBreach.WithLabelValues("insights_per_day").Inc()
	case ev.Action == "loop" && ev.Decision == "timeout":
		a.Metrics.GuardrailBreach.WithLabelValues("loop_timeout").Inc()
	}
}

// queueGauge registers a gauge read from the job queue at scrape time (2 s
// at most): 0 without a queue, -1 when it cannot be read.
func (a *App) queueGauge(m *telemetry.Metrics, name, help string, read func(context.Context) (int, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: telemetry.Namespace, Name: name, Help: help}, func() float64 {
		if a.Jobs == nil {
			return 0
		}
		ctx, cancel := context.WithTimeout(a.baseCtx, 2*time.Second)
		defer cancel()
		n, err := read(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// observeLoop is loop.Runner's Observe hook.
func (a *App) observeLoop(stage string, d time.Duration, err error) {
	a.Metrics.LoopSeconds.WithLabelValues(stage).Observe(d.Seconds())
	if stage != "total" {
		return
	}
	a.Metrics.Timings.Add(performance.KindLoop, time.Now(), d)
	switch {
	case err == nil:
		a.Metrics.LoopRuns.WithLabelValues("ok").Inc()
	case engine.ErrorCode(err) == engine.ELIMIT:
		a.Metrics.LoopRuns.WithLabelValues("timeout").Inc()
	default:
		a.Metrics.LoopRuns.WithLabelValues("error").Inc()
	}
}

// observeIngest is ingest.Service's Observe hook.
func (a *App) observeIngest(o ingest.Outcome) {
	m := a.Metrics
	m.IngestBatch.Observe(float64(o.Samples))
	if !o.Stored {
		m.IngestBatches.WithLabelValues("rejected").Inc()
		m.IngestSamples.WithLabelValues("rejected").Add(float64(o.Samples))
		for _, c := range o.Problems {
			m.IngestProblems.WithLabelValues(problemCode(c)).Inc()
		}
		return
	}
	m.IngestBatches.WithLabelValues("stored").Inc()
	// The outcomes partition the batch: missing samples are stored too (as
	// missing), and whatever was not stored was a duplicate.
	r := o.Result
	m.IngestSamples.WithLabelValues("inserted").Add(float64(r.Inserted - r.Missing))
	m.IngestSamples.WithLabelValues("missing").Add(float64(r.Missing))
	m.IngestSamples.WithLabelValues("duplicate").Add(float64(max(r.Received-r.Inserted, 0)))
}

// problemCode bounds an ingestion problem code (engine/metrics Code*
// constants are upper-case words).
func problemCode(c string) string {
	if len(c) == 0 || len(c) > 40 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		return "other"
	}
	return c
}

// feedObserver is the live feed's Observer.
type feedObserver struct{ m *telemetry.Metrics }

func (f feedObserver) Subscribed(ctx context.Context) func() {
	t := "websocket"
	if ri := requestInfoFrom(ctx); ri != nil && ri.transport == "sse" {
		t = "sse"
	}
	g := f.m.FeedSubscriptions.WithLabelValues(t)
	g.Inc()
	return g.Dec
}

func (f feedObserver) Delivered(lag time.Duration, replayed bool) {
	f.m.FeedDelivered.Inc()
	if replayed {
		f.m.FeedReplayed.Inc()
		return
	}
	f.m.FeedLag.Observe(max(lag, 0).Seconds())
}

func (f feedObserver) CutOff() { f.m.FeedCutOffs.Inc() }

// setupMetrics creates the metric families and the collectors that read
// state at scrape time: the database pool, Redis' pool, dead jobs and the
// feed outbox rows past retention.
func (a *App) setupMetrics() {
	m := telemetry.New()
	a.Metrics = m
	m.ObserveDB(a.Store.Dialect, a.Store.DB)
	a.queueGauge(m, "jobs_dead", "Loop jobs parked dead after their last retry (vitalgraph jobs dead); -1 when the queue cannot be read.",
		func(ctx context.Context) (int, error) {
			dead, err := a.Jobs.Dead(ctx)
			return len(dead), err
		})
	a.queueGauge(m, "jobs_waiting", "Jobs not yet run: debounced or scheduled, queued, or waiting for a retry (the queue depth); -1 when the queue cannot be read.",
		func(ctx context.Context) (int, error) { return a.Jobs.Waiting(ctx) })
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace, Name: "feed_outbox_expired_rows",
		Help: "Live-feed outbox rows older than FEED_RETENTION still stored (vitalgraph prune deletes them; capped at 10001); -1 when the database cannot be read.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(a.baseCtx, 2*time.Second)
		defer cancel()
		retention := a.Config.Feed.Retention
		if retention <= 0 {
			retention = 30 * 24 * time.Hour
		}
		ids, err := a.Store.Client.FeedEvent.Query().Where(feedevent.CreatedAtLT(time.Now().Add(-retention))).
			Limit(10001).IDs(viewer.System(ctx))
		if err != nil {
			return -1
		}
		return float64(len(ids))
	}))
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace, Name: "ready",
		Help: "1 when this instance is ready (/readyz: database and Redis answer, not draining), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(a.baseCtx, 2*time.Second)
		defer cancel()
		if a.draining.Load() || a.Store.Ping(ctx) != nil || (a.Redis != nil && a.Redis.Ping(ctx).Err() != nil) {
			return 0
		}
		return 1
	}))
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace, Name: "feed_subscribers",
		Help: "Live-feed subscribers of this instance's hub (all transports).",
	}, func() float64 {
		if a.Feed == nil {
			return 0
		}
		return float64(a.Feed.Subscribers())
	}))
}

// observeRedis exports the Redis pool's counters (a rising
// vitalgraph_redis_pool_misses_total with timeouts means reconnects) and,
// with tracing on, traces Redis commands.
func (a *App) observeRedis(rdb *redis.Client) {
	stats := func(f func(*redis.PoolStats) uint32) func() float64 {
		return func() float64 { return float64(f(rdb.PoolStats())) }
	}
	reg := a.Metrics.Registry
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Name: "redis_pool_misses_total",
			Help: "Redis connections opened because none was free in the pool (new connections and reconnects).",
		},
			stats(func(s *redis.PoolStats) uint32 { return s.Misses })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Name: "redis_pool_timeouts_total",
			Help: "Redis pool waits that timed out.",
		},
			stats(func(s *redis.PoolStats) uint32 { return s.Timeouts })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Name: "redis_pool_stale_connections_total",
			Help: "Redis connections closed as stale (broken or idle too long).",
		},
			stats(func(s *redis.PoolStats) uint32 { return s.StaleConns })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: telemetry.Namespace, Name: "redis_pool_connections",
			Help: "Redis connections in the pool.",
		},
			stats(func(s *redis.PoolStats) uint32 { return s.TotalConns })),
	)
	if telemetry.TracingEnabled() {
		if err := redisotel.InstrumentTracing(rdb); err != nil {
			a.Log.Warn("redis tracing not enabled", slog.String("err", err.Error()))
		}
	}
}

// openDB opens a database/sql pool, through the otelsql wrapper when
// tracing is on (SQL spans carry the statement, never its arguments).
func openDB(driver, dsn, system string) (*sql.DB, error) {
	if !telemetry.TracingEnabled() {
		return sql.Open(driver, dsn)
	}
	return otelsql.Open(driver, dsn, otelsql.WithAttributes(attribute.String("db.system", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitRows: true, OmitConnPrepare: true}))
}

// traceJob runs one background loop job under a span and counts it.
func (a *App) traceJob(ctx context.Context, run func(context.Context) error) error {
	ctx, span := telemetry.Tracer().Start(ctx, "job loop", trace.WithSpanKind(trace.SpanKindConsumer))
	defer span.End()
	start := time.Now()
	err := run(ctx)
	a.Metrics.JobSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		span.SetStatus(codes.Error, "loop job failed")
		a.Metrics.JobRuns.WithLabelValues("error").Inc()
		return err
	}
	a.Metrics.JobRuns.WithLabelValues("ok").Inc()
	return nil
}
