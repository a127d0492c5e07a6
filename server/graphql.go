package server

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vitalgraph/vitalgraph/app/performance"
	"github.com/vitalgraph/vitalgraph/graph"
	"github.com/vitalgraph/vitalgraph/resolvers"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// Limits on GraphQL documents.
const (
	parserTokenLimit = 15000
	complexityLimit  = 2000
	queryCacheSize   = 1000
	wsInitTimeout    = 10 * time.Second
	wsPingInterval   = 10 * time.Second
	wsReadLimit      = int64(1 << 20)
)

// newGraphQLHandler builds the gqlgen server: only the transports we serve
// (SSE, websocket with both subprotocols, GET for queries, POST), a parser
// token limit, a complexity limit, query caching, masked errors, and the
// entgql Transactioner so each mutation runs in one transaction.
// Introspection and field suggestions are on in dev mode only.
func newGraphQLHandler(a *App) *handler.Server {
	r := &resolvers.Resolver{
		Client:    a.Store.Client,
		Build:     resolvers.BuildInfo{Version: a.Config.Version, Commit: a.Config.Commit, EnvMode: a.Config.EnvMode},
		Ingest:    a.Ingest,
		Loop:      a.Loop,
		Intervene: a.Intervene,
		Jobs:      a.Jobs,
		Live:      a.Feed,
		Auth:      a.Auth,
		Rights:    a.Rights,
		Connect:   a.Connect,
		Importer:  a.Importer,
		Status:    a.systemStatus(),
		Performance: &performance.Service{Client: a.Store.Client, Timings: a.Metrics.Timings, Limits: performance.Limits{
			LoopTimeout: a.Config.Guardrails.LoopTimeout, NarrativeTimeout: a.Config.Guardrails.NarrativeTimeout,
			InsightsPerDay: a.Config.Guardrails.InsightsPerDay, IngestMaxBatch: a.Config.Guardrails.IngestMaxBatch,
			ExperimentsPerMetric: a.Config.Guardrails.ExperimentsPerMetric, AttributionLagDays: a.Config.Guardrails.AttributionLagDays,
		}},
	}
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: r}))
	srv.AddTransport(sseTransport{app: a, keepAlive: 15 * time.Second}) // SSE with id:/Last-Event-ID (server/sse.go)
	// graphql-transport-ws: our transport (server/ws.go); the legacy
	// graphql-ws subprotocol: gqlgen's.
	srv.AddTransport(newWSTransport(a))
	readLimit := wsReadLimit
	srv.AddTransport(transport.Websocket{
		InitFunc:              a.feedInit(a.websocketInit), // shutdown-bound context, subscription cap
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsPingInterval,
		PingPongInterval:      wsPingInterval,
		PayloadReadLimit:      &readLimit,
		Implementation:        shutdownAwareWebsocket{inner: a.websocketImplementation(), shutdown: a.baseCtx, log: a.Log}, // origin allow-list, close at token expiry, 1012 on shutdown

	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(rawDataPOST{})          // transport.POST without re-marshalling the data (rawpost.go)
	srv.AddTransport(a.multipartTransport()) // file uploads (imports.go)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.SetDisableSuggestion(!a.Config.Dev())
	if a.Config.Dev() {
		srv.Use(extension.Introspection{})
	}
	a.useObservability(srv)      // operation metrics and spans (observability.go)
	a.useSecurityExtensions(srv) // depth, cost, aliases, root fields, introspection, persisted queries
	// Bounded document work before validation (after persisted-query
	// resolution, which the security extensions add first).
	srv.Use(limits.NewDocument(limits.Document{TokenLimit: parserTokenLimit, CacheSize: queryCacheSize}))
	srv.Use(extension.FixedComplexityLimit(complexityLimit))
	present := observedPresenter(a.Metrics, errorPresenter(a.Log, a.Config.Dev()))
	srv.Use(safeTransactioner{Transactioner: a.transactioner(), present: present})
	srv.Use(errorCap{})
	// Per-operation dataloaders for N+1 edges (resolvers/loaders.go).
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(r.WithLoaders(ctx))
	})
	srv.Use(resolverErrorMarker{}) // markResolverErrors on every field (errors.go)
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(recoverFunc(a.Log))
	return srv
}
