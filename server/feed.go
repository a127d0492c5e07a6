package server

import (
	"context"
	"encoding"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/feed"
)

// Live-feed limits of one connection.
const (
	maxSubscriptionsPerConn = 20
	// closeServiceRestart is the websocket close code sent when the server
	// shuts down (RFC 6455 §7.4.1, 1012 "service restart"): clients reconnect
	// to another instance and resume from their last cursor.
	closeServiceRestart = 1012
	// closeStalled is the websocket close code sent to a subscriber that
	// stopped answering pings (no pong within two ping intervals): its
	// socket is closed with this code and a reason, and a warn line logged.
	closeStalled = 4408
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
	if opt.Observer == nil {
		opt.Observer = feedObserver{m: a.Metrics}
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
	log      *slog.Logger
}

func (s shutdownAwareWebsocket) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := s.inner.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	log := s.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &shutdownAwareConn{WebsocketConn: c, shutdown: s.shutdown, log: log, ctx: r.Context()}, nil
}

// shutdownAwareConn is every accepted websocket: 1012 on shutdown, 4408 for
// a stalled subscriber, and coded protocol errors (codedMessage).
type shutdownAwareConn struct {
	transport.WebsocketConn
	shutdown context.Context
	log      *slog.Logger
	ctx      context.Context // the upgrade request's (request id)

	mu    sync.Mutex
	timer *time.Timer
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
// them after the 1012 close. Data messages (every feed event) are passed
// through untouched: only the few message types that need a look are
// decoded, so a frame is encoded once per subscriber, not four times.
func (c *shutdownAwareConn) WriteJSON(v any) error {
	switch t := messageType(v); t {
	case "complete", "error", "connection_error", "":
	case "next", "data":
		if frame, ok := dataFrame(v, t); ok {
			return c.WebsocketConn.WriteJSON(frame)
		}
		return c.WebsocketConn.WriteJSON(v)
	default:
		return c.WebsocketConn.WriteJSON(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return c.WebsocketConn.WriteJSON(v)
	}
	var m wsMessage
	if json.Unmarshal(b, &m) != nil {
		return c.WebsocketConn.WriteJSON(v)
	}
	if c.shutdown.Err() != nil && m.Type == "complete" {
		return nil
	}
	if out, changed := codedMessage(m); changed {
		return c.WebsocketConn.WriteJSON(out)
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(b))
}

// reflectStruct is v (or what it points to) when it is a struct.
func reflectStruct(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return rv
}

// messageType reads the type of a message gqlgen writes (a struct with a
// Type field whose text form is the wire type) without encoding it; "" when
// it cannot tell.
func messageType(v any) string {
	rv := reflectStruct(v)
	if !rv.IsValid() {
		return ""
	}
	f := rv.FieldByName("Type")
	if !f.IsValid() || !f.CanInterface() {
		return ""
	}
	if t, ok := f.Interface().(encoding.TextMarshaler); ok {
		b, err := t.MarshalText()
		if err != nil {
			return ""
		}
		return string(b)
	}
	if f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// wsMessage is a message of either websocket subprotocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// codedMessage gives gqlgen's own protocol errors a code: a
// connection_error's message "CODE: text" (wsInitError) becomes text with
// extensions.code CODE, any other connection_error (bad JSON, an unexpected
// message) and any error without a code get EINVALID.
func codedMessage(m wsMessage) (wsMessage, bool) {
	type gqlErr struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}
	switch m.Type {
	case "connection_error":
		var e gqlErr
		_ = json.Unmarshal(m.Payload, &e)
		code, msg := engine.EINVALID, e.Message
		if c, rest, ok := strings.Cut(e.Message, ": "); ok && isErrorCode(c) {
			code, msg = c, rest
		}
		if msg == "" {
			msg = "connection refused"
		}
		ext := map[string]any{"code": code}
		if code == EUNAVAILABLE {
			ext["retryAfterSeconds"] = unavailableRetryAfter
		}
		b, _ := json.Marshal(gqlErr{Message: msg, Extensions: ext})
		m.Payload = b
		return m, true
	case "error":
		var list []gqlErr
		if json.Unmarshal(m.Payload, &list) != nil {
			return m, false
		}
		changed := false
		for i := range list {
			if list[i].Extensions == nil {
				list[i].Extensions = map[string]any{}
			}
			if _, ok := list[i].Extensions["code"]; !ok {
				list[i].Extensions["code"] = engine.EINVALID
				changed = true
			}
		}
		if changed {
			b, _ := json.Marshal(list)
			m.Payload = b
		}
		return m, changed
	}
	return m, false
}

// isErrorCode reports whether s looks like one of our codes (EINVALID…).
func isErrorCode(s string) bool {
	if len(s) < 2 || len(s) > 20 || s[0] != 'E' {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// SetReadLimit forwards transport.WebsocketReadLimiter.
func (c *shutdownAwareConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline implements transport.WebsocketReadDeadliner: gqlgen sets
// the deadline when it pings and clears it on a pong. When it passes, the
// subscriber is stalled: a warn line is logged and the socket is closed with
// closeStalled and a reason (the inner implementation would drop the TCP
// connection without a close frame).
func (c *shutdownAwareConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if t.IsZero() {
		return nil
	}
	c.timer = time.AfterFunc(max(time.Until(t), 0), func() {
		c.log.WarnContext(c.ctx, "websocket subscriber stalled: closing", slog.Int("close_code", closeStalled))
		_ = c.WebsocketConn.WriteClose(closeStalled, "subscriber stalled: no pong in time")
		_ = c.WebsocketConn.Close()
	})
	return nil
}

// Close stops the stall timer.
func (c *shutdownAwareConn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
	return c.WebsocketConn.Close()
}
