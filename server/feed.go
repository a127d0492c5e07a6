package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vitalgraph/vitalgraph/feed"
)

// Live-feed limits of one connection.
const (
	maxSubscriptionsPerConn = 20
	// closeServiceRestart is the websocket close code sent when the server
	// shuts down (RFC 6455 §7.4.1, 1012 "service restart"): clients reconnect
	// to another instance and resume from their last cursor.
	closeServiceRestart = 1012
)

// FeedOptions tune an App's live feed. The zero value is the production
// default: the Redis channel feed.DefaultChannel and feed.Options defaults.
type FeedOptions struct {
	Hub     feed.Options
	Channel string // Redis pub/sub channel; "" = feed.DefaultChannel
}

// newFeedHub starts the live feed: on Redis when REDIS_URL is set (one
// pub/sub connection for this instance), else on an in-process bus.
func (a *App) newFeedHub(fo FeedOptions) *feed.Hub {
	var bus feed.Bus
	if a.Redis != nil {
		bus = feed.NewRedisBus(a.Redis, fo.Channel, a.Log)
	} else {
		bus = feed.NewLocalBus()
	}
	opt := fo.Hub
	if opt.Log == nil {
		opt.Log = a.Log
	}
	return feed.NewHub(a.Store.Client, bus, opt)
}

// connContext derives a long-lived connection's context (websocket, SSE)
// from the request's: it is also cancelled when the App shuts down
// (hijacked connections are not tracked by http.Server.Shutdown, and gqlgen
// does not cancel subscriptions), and it allows at most
// maxSubscriptionsPerConn subscriptions.
func (a *App) connContext(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.baseCtx, cancel)
	context.AfterFunc(ctx, func() { stop() })
	return feed.WithSubscriptionLimit(ctx, maxSubscriptionsPerConn)
}

// feedInit wraps a websocket InitFunc so that the connection's context is
// connContext's: cancelled on shutdown and capped in subscriptions.
func (a *App) feedInit(next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		return next(a.connContext(ctx), p)
	}
}

// shutdownAwareWebsocket accepts websockets whose normal closure becomes
// 1012 (service restart) once the App is shutting down, so clients know to
// reconnect and resume rather than treat the stream as finished.
type shutdownAwareWebsocket struct {
	inner    transport.WebsocketImplementation
	shutdown context.Context // done when the App shuts down
}

func (s shutdownAwareWebsocket) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := s.inner.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	return &shutdownAwareConn{WebsocketConn: c, shutdown: s.shutdown}, nil
}

type shutdownAwareConn struct {
	transport.WebsocketConn
	shutdown context.Context
}

func (c *shutdownAwareConn) WriteClose(code int, reason string) error {
	if c.shutdown.Err() != nil && code == transport.WebsocketCloseNormalClosure {
		code, reason = closeServiceRestart, "server restarting: reconnect and resume from your last cursor"
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// WriteJSON drops "complete" messages once the App is shutting down:
// subscriptions end because their context is cancelled, not because the
// stream is finished, and a client that saw "complete" would not resume
// them after the 1012 close.
func (c *shutdownAwareConn) WriteJSON(v any) error {
	if c.shutdown.Err() != nil {
		if b, err := json.Marshal(v); err == nil {
			var m struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(b, &m) == nil && m.Type == "complete" {
				return nil
			}
		}
	}
	return c.WebsocketConn.WriteJSON(v)
}

// SetReadLimit forwards transport.WebsocketReadLimiter.
func (c *shutdownAwareConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline forwards transport.WebsocketReadDeadliner.
func (c *shutdownAwareConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
