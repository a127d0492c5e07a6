package server

import (
	"context"
	"errors"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/graph"
	"github.com/vitalgraph/vitalgraph/resolvers"
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
		Client: a.Store.Client,
		Build:  resolvers.BuildInfo{Version: a.Config.Version, Commit: a.Config.Commit, EnvMode: a.Config.EnvMode},
	}
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: r}))
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: 15 * time.Second})
	readLimit := wsReadLimit
	srv.AddTransport(transport.Websocket{
		InitFunc:              a.websocketInit,
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsPingInterval,
		PingPongInterval:      wsPingInterval,
		PayloadReadLimit:      &readLimit,
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			InsecureSkipVerify: a.Config.Dev(),
		}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.SetDisableSuggestion(!a.Config.Dev())
	if a.Config.Dev() {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(complexityLimit))
	srv.Use(entgql.Transactioner{TxOpener: a.Store.Client})
	srv.SetErrorPresenter(errorPresenter(a.Log))
	srv.SetRecoverFunc(recoverFunc(a.Log))
	return srv
}

// websocketInit authenticates a websocket at connection_init. The viewer of
// the upgrade request (set by the HTTP middleware) is kept; in dev mode a
// "debugUser" in the init payload may choose another user. A refused init
// closes with 4403, not 1000, so clients do not retry forever.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	if a.Config.Dev() {
		if id := payload.GetString("debugUser"); id != "" {
			v, err := a.lookupViewer(ctx, id)
			if err != nil {
				ctx = transport.WithWebsocketCloseCode(ctx, 4403)
				ctx = transport.AppendCloseReason(ctx, "forbidden")
				return ctx, nil, err
			}
			ctx = viewer.NewContext(ctx, v)
		}
	}
	if _, ok := viewer.FromContext(ctx); !ok {
		ctx = transport.WithWebsocketCloseCode(ctx, 4401)
		ctx = transport.AppendCloseReason(ctx, "unauthorized")
		return ctx, nil, errors.New("unauthorized")
	}
	a.Log.DebugContext(ctx, "websocket initialised")
	return ctx, &payload, nil
}
