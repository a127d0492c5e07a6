package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/feed"
)

// wsTransport serves GraphQL over websockets with the graphql-transport-ws
// subprotocol (enisdenjo/graphql-ws, PROTOCOL.md) in place of gqlgen's
// transport.Websocket, which still serves the legacy graphql-ws
// subprotocol. What it does differently, for the many long-lived idle
// sockets of the live feed:
//
//   - Do returns right after the upgrade: the HTTP handler, its goroutine
//     and net/http's buffers are gone; a socket keeps one goroutine, its
//     reader, and small buffers (wsReadBuffer, wsWriteBuffer). Writes go
//     through a queue per socket drained by a goroutine that exists only
//     while the queue is not empty; pings come from one ticker for all
//     sockets (wsHub.pingLoop).
//   - A subscription is executed once per group of identical subscriptions
//     (wsGroup: the same viewer, document, operation and variables, and no
//     resume cursor) and its encoded responses are written to every
//     member: one hub subscription, one execution of the selection and one
//     json.Marshal per event, whatever the number of sockets. A member
//     whose socket does not keep up (wsQueueFrames frames queued, or the
//     oldest queued SlowConsumerTimeout ago) is cut off with ELIMIT
//     without holding the others back.
//
// The rest is what gqlgen's transport and our wrappers did: connection_init
// within wsInitTimeout with the Authorization payload (websocketAuth: 4401,
// 4403, 1013), connection_ack without a payload, ping/pong, a stalled
// client closed with 4408 (no pong within two ping intervals), 1002 for
// unexpected or undecodable messages, 4409 for a subscription id in use,
// 4429 for a second connection_init, the origin allow-list, 4401 at token
// expiry, 1012 on shutdown (without "complete" for the subscriptions it
// ends), maxSubscriptionsPerConn, and the document limits and complexity
// checks of CreateOperationContext for every subscribe.
type wsTransport struct {
	app    *App
	accept coderws.AcceptOptions
	hub    *wsHub
}

const (
	wsSubprotocol = "graphql-transport-ws"
	// wsQueueFrames is how many frames may wait in a socket's queue; a
	// subscriber with more is cut off (a slow consumer).
	wsQueueFrames = 1024
	// wsReadBuffer is a socket's read buffer: clients send a few small
	// messages; a larger one is read through it in several reads.
	wsReadBuffer = 512
	// wsCloseProtocolError is RFC 6455's 1002.
	wsCloseProtocolError = 1002
)

var _ graphql.Transport = wsTransport{}

func newWSTransport(a *App) wsTransport {
	opts := a.websocketAcceptOptions()
	opts.Subprotocols = []string{wsSubprotocol}
	slow := a.feedSlowTimeout
	if slow <= 0 {
		slow = 10 * time.Second
	}
	return wsTransport{app: a, accept: opts, hub: &wsHub{
		app: a, conns: map[*wsConn]struct{}{}, groups: map[wsGroupKey]*wsGroup{},
		pingEvery: wsPingInterval, slow: slow,
	}}
}

// Supports takes websocket upgrades whose client prefers
// graphql-transport-ws to the legacy graphql-ws (the first of the two it
// offers); the others go to gqlgen's transport.
func (t wsTransport) Supports(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			switch strings.TrimSpace(p) {
			case wsSubprotocol:
				return true
			case "graphql-ws":
				return false
			}
		}
	}
	return false
}

func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	opts := t.accept
	var fw *frameWriter
	ws, err := coderws.Accept(smallBuffers{ResponseWriter: w, fw: &fw}, r, &opts)
	if err != nil {
		return // Accept has answered (403 for an origin not allowed, 400 …)
	}
	ws.SetReadLimit(wsReadLimit)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &wsConn{hub: t.hub, ws: ws, fw: fw, exec: exec, ctx: ctx, cancel: cancel, start: time.Now()}
	if h, ok := r.Context().Value(wsHolderKey{}).(*wsHolder); ok {
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
	}
	c.stopShutdown = context.AfterFunc(t.app.baseCtx, func() {
		c.closeWith(closeServiceRestart, "server restarting: reconnect and resume from your last cursor")
	})
	t.hub.register(c)
	go c.read() //nolint:gosec // the socket outlives the request; its reader ends with the socket (a Read bound to c.ctx would drop the close frame)
}

// wsHub is the transport's shared state: the open sockets (for the ping
// ticker) and the groups of identical subscriptions.
type wsHub struct {
	app       *App
	pingEvery time.Duration
	slow      time.Duration // SlowConsumerTimeout

	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	groups   map[wsGroupKey]*wsGroup
	stopPing chan struct{} // non-nil while pingLoop runs (while there are sockets)
}

func (h *wsHub) register(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c] = struct{}{}
	if h.stopPing == nil {
		h.stopPing = make(chan struct{})
		go h.pingLoop(h.stopPing)
	}
}

func (h *wsHub) unregister(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	if len(h.conns) == 0 && h.stopPing != nil {
		close(h.stopPing)
		h.stopPing = nil
	}
}

// pingLoop pings every acknowledged socket each pingEvery and closes those
// that left a ping unanswered for two intervals: one timer for all sockets.
func (h *wsHub) pingLoop(stop <-chan struct{}) {
	t := time.NewTicker(h.pingEvery)
	defer t.Stop()
	var conns []*wsConn
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			h.mu.Lock()
			conns = conns[:0]
			for c := range h.conns {
				conns = append(conns, c)
			}
			h.mu.Unlock()
			for _, c := range conns {
				c.tick(now)
			}
			clear(conns)
		}
	}
}

// wsConn is one socket.
type wsConn struct {
	hub          *wsHub
	ws           *coderws.Conn
	fw           *frameWriter // under ws's write buffer: batches (drain)
	exec         graphql.GraphExecutor
	ctx          context.Context // the upgrade request's values, the viewer after connection_init; cancelled at close
	cancel       context.CancelFunc
	stopShutdown func() bool
	start        time.Time

	mu       sync.Mutex
	acked    bool
	closed   bool
	subs     []*wsSub
	q        []wsFrame // frames waiting for the writer
	spare    []wsFrame // the writer's batch, reused as q
	writing  bool      // a writer goroutine drains q
	awaiting bool      // a ping is unanswered
	pingAt   time.Time // when the unanswered ping was sent
}

// wsFrame is one queued message: head and body (when body is non-nil, the
// message is head + body + "}"), shared between the sockets it goes to.
type wsFrame struct {
	head []byte
	body []byte
	at   time.Time
}

var (
	wsPing = []byte(`{"type":"ping"}`)
	wsPong = []byte(`{"type":"pong"}`)
	wsAck  = []byte(`{"type":"connection_ack"}`)
)

// wsBuffers holds the buffers messages are assembled and written from.
var wsBuffers = sync.Pool{New: func() any { b := make([]byte, 0, wsWriteBuffer); return &b }}

// read is the socket's one goroutine: it reads messages and hands each to
// a short-lived goroutine (handle), so that its own stack, all an idle
// socket keeps, stays small: decoding, authentication and a
// subscription's parsing, validation and start run elsewhere.
func (c *wsConn) read() {
	defer c.closeNow()
	init := time.AfterFunc(wsInitTimeout, func() {
		c.closeWith(wsCloseProtocolError, "connection initialisation timeout")
	})
	defer init.Stop()
	for {
		start := graphql.Now()
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		done := make(chan bool, 1)
		go func() { done <- c.handle(start, b, init) }()
		if !<-done {
			return
		}
	}
}

// handle acts on one message; false ends the socket.
func (c *wsConn) handle(start time.Time, b []byte, init *time.Timer) bool {
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil || m.Type == "" {
		c.closeWith(wsCloseProtocolError, "invalid message")
		return false
	}
	c.mu.Lock()
	acked := c.acked
	c.mu.Unlock()
	if !acked {
		init.Stop()
		if m.Type != "connection_init" {
			c.closeWith(wsCloseProtocolError, "unexpected message")
			return false
		}
		return c.init(m.Payload)
	}
	switch m.Type {
	case "subscribe":
		c.subscribe(start, m.ID, m.Payload)
	case "complete":
		c.complete(m.ID)
	case "ping":
		if len(m.Payload) == 0 || string(m.Payload) == "null" {
			c.send(wsFrame{head: wsPong})
		} else {
			c.send(wsFrame{head: []byte(`{"type":"pong","payload":`), body: m.Payload})
		}
	case "pong":
		c.mu.Lock()
		c.awaiting = false
		c.mu.Unlock()
	case "connection_init":
		c.closeWith(4429, "Too many initialisation requests")
		return false
	default:
		c.closeWith(wsCloseProtocolError, "unexpected message")
		return false
	}
	return true
}

// init authenticates the socket (connection_init).
func (c *wsConn) init(payload json.RawMessage) bool {
	var p transport.InitPayload
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			c.closeWith(wsCloseProtocolError, "decoding error")
			return false
		}
	}
	ctx, refusal := c.hub.app.websocketAuth(c.context(), p)
	if refusal != nil {
		c.closeWith(refusal.code, refusal.reason)
		return false
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.ctx = ctx
	c.acked = true
	c.mu.Unlock()
	c.send(wsFrame{head: wsAck})
	return true
}

// subscribe starts subscription id, or joins its group.
func (c *wsConn) subscribe(start time.Time, id string, payload json.RawMessage) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if slices.ContainsFunc(c.subs, func(s *wsSub) bool { return s.id == id }) {
		c.mu.Unlock()
		c.closeWith(4409, "Subscriber for "+id+" already exists")
		return
	}
	full := len(c.subs) >= maxSubscriptionsPerConn
	c.mu.Unlock()
	s := newWSSub(c, id)
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		c.sendErrors(s, gqlerror.List{{Message: "invalid json"}})
		c.send(s.completeFrame())
		return
	}
	if full {
		c.sendResponse(s, &graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("too many subscriptions on this connection (at most %d)", maxSubscriptionsPerConn),
			Extensions: map[string]any{"code": engine.ELIMIT},
		}}})
		c.send(s.completeFrame())
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := graphql.StartOperationTrace(c.context())
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			c.sendErrors(s, resp.Errors)
		} else {
			c.sendResponse(s, &graphql.Response{Errors: errs})
		}
		c.send(s.completeFrame())
		return
	}
	key, shared := groupKey(ctx, rc)
	h := c.hub
	h.mu.Lock()
	if shared {
		if g := h.groups[key]; g != nil && g.join(s) {
			h.mu.Unlock()
			if !c.add(s) {
				g.leave(s) // the socket closed meanwhile
			}
			return
		}
	}
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g := &wsGroup{hub: h, key: key, shared: shared, cancel: cancel, members: []*wsSub{s}}
	s.g = g
	if shared {
		h.groups[key] = g
	}
	h.mu.Unlock()
	stop := context.AfterFunc(h.app.baseCtx, cancel)
	if !c.add(s) {
		g.leave(s)
	}
	gctx, streamErrs := feed.WithStreamErrors(gctx)
	gctx = graphql.WithOperationContext(gctx, rc)
	var (
		responses graphql.ResponseHandler
		dctx      context.Context
		panicked  *gqlerror.Error
	)
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicked = recovered(gctx, rc, r)
			}
		}()
		responses, dctx = c.exec.DispatchOperation(gctx, rc)
	}()
	go g.run(responses, dctx, rc, streamErrs, panicked, stop)
}

// recovered turns a panic of an execution into the error sent to the
// client, through the executor's recover function.
func recovered(ctx context.Context, rc *graphql.OperationContext, r any) *gqlerror.Error {
	err := rc.Recover(ctx, r)
	var gqlerr *gqlerror.Error
	if !errors.As(err, &gqlerr) {
		gqlerr = &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": engine.EINTERNAL}}
	}
	return gqlerr
}

// add records s as one of the socket's subscriptions; false when the
// socket is closed.
func (c *wsConn) add(s *wsSub) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.subs = append(c.subs, s)
	return true
}

// remove takes s out of the socket's subscriptions; false when it was not
// there (ended already).
func (c *wsConn) remove(s *wsSub) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.subs, s)
	if i < 0 {
		return false
	}
	c.subs = slices.Delete(c.subs, i, i+1)
	if len(c.subs) == 0 {
		c.subs = nil
	}
	return true
}

// complete is the client's "complete": it stops subscription id.
func (c *wsConn) complete(id string) {
	c.mu.Lock()
	i := slices.IndexFunc(c.subs, func(s *wsSub) bool { return s.id == id })
	if i < 0 {
		c.mu.Unlock()
		return
	}
	s := c.subs[i]
	c.subs = slices.Delete(c.subs, i, i+1)
	c.mu.Unlock()
	if s.g != nil {
		s.g.leave(s)
	}
}

// tick is the ping ticker's visit: a stalled socket is closed, an
// acknowledged one pinged.
func (c *wsConn) tick(now time.Time) {
	c.mu.Lock()
	if !c.acked || c.closed {
		c.mu.Unlock()
		return
	}
	// The first unanswered ping closes the socket two intervals after it
	// was sent (at the second tick after it; half an interval of slack for
	// the ticker).
	if c.awaiting && now.Sub(c.pingAt) > 2*c.hub.pingEvery-c.hub.pingEvery/2 {
		c.mu.Unlock()
		c.hub.app.Log.WarnContext(c.context(), "websocket subscriber stalled: closing", slog.Int("close_code", closeStalled))
		c.closeWith(closeStalled, "subscriber stalled: no pong in time")
		return
	}
	if !c.awaiting {
		c.awaiting, c.pingAt = true, now
	}
	c.enqueueLocked(wsFrame{head: wsPing})
	c.mu.Unlock()
}

// send queues a message whatever the queue's length (control messages and
// the last message of a subscription).
func (c *wsConn) send(f wsFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueueLocked(f)
}

func (c *wsConn) enqueueLocked(f wsFrame) {
	if c.closed {
		return
	}
	if f.at.IsZero() {
		f.at = time.Now()
	}
	c.q = append(c.q, f)
	if !c.writing {
		c.writing = true
		go c.drain()
	}
}

// sendNext queues a data message of s unless the socket is too far behind:
// false then (the caller cuts s off).
func (c *wsConn) sendNext(s *wsSub, body []byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return true
	}
	if n := len(c.q); n >= wsQueueFrames || (n > 0 && now.Sub(c.q[0].at) > c.hub.slow) {
		return false
	}
	c.enqueueLocked(wsFrame{head: s.next, body: body, at: now})
	return true
}

// drain writes the queued messages, then ends: an idle socket has no
// writer goroutine. What queued up while it wrote goes out as one batch, in
// one write to the connection (frameWriter.Hold).
func (c *wsConn) drain() {
	bp := wsBuffers.Get().(*[]byte)
	defer wsBuffers.Put(bp)
	var batch []wsFrame
	for {
		c.mu.Lock()
		c.spare = batch[:0]
		if c.closed || len(c.q) == 0 {
			c.writing = false
			if cap(c.q) > 4 {
				c.q = nil
			}
			if cap(c.spare) > 4 {
				c.spare = nil
			}
			c.mu.Unlock()
			return
		}
		batch, c.q, c.spare = c.q, c.spare, nil
		c.mu.Unlock()
		if len(batch) > 1 && c.fw != nil {
			c.fw.Hold()
		}
		for i, f := range batch {
			msg := f.head
			if f.body != nil {
				b := append((*bp)[:0], f.head...)
				b = append(b, f.body...)
				b = append(b, '}')
				*bp, msg = b, b
			}
			batch[i] = wsFrame{}
			if err := c.ws.Write(context.Background(), coderws.MessageText, msg); err != nil {
				if c.fw != nil {
					_ = c.fw.Flush() // a close frame written meanwhile goes out
				}
				c.closeNow()
				return
			}
		}
		if len(batch) > 1 && c.fw != nil {
			if err := c.fw.Flush(); err != nil {
				c.closeNow()
				return
			}
		}
	}
}

// sendResponse queues a data message of s outside any group.
func (c *wsConn) sendResponse(s *wsSub, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"EINTERNAL"}}],"data":null}`)
	}
	c.send(wsFrame{head: s.next, body: b})
}

// sendErrors queues an "error" message of s; every error gets a code
// (EINVALID unless it has one), as codedMessage does for gqlgen's.
func (c *wsConn) sendErrors(s *wsSub, errs gqlerror.List) {
	c.send(s.errorFrame(errs))
}

// WriteClose closes the socket with code (closeAtExpiry's 4401).
func (c *wsConn) WriteClose(code int, reason string) error {
	c.closeWith(code, reason)
	return nil
}

// Close closes the socket (after WriteClose, nothing more).
func (c *wsConn) Close() error {
	c.closeNow()
	return nil
}

// closeWith ends the socket with a close frame: its subscriptions leave
// their groups, queued messages are dropped, and the close handshake runs in
// the background (coder/websocket waits up to 5 s for the peer's reply).
func (c *wsConn) closeWith(code int, reason string) {
	if c.end() {
		go func() { _ = c.ws.Close(coderws.StatusCode(code), reason) }()
		c.log(code)
	}
}

// closeNow ends the socket without a close frame (the peer is gone).
func (c *wsConn) closeNow() {
	if c.end() {
		_ = c.ws.CloseNow()
		c.log(0)
	}
}

func (c *wsConn) end() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	subs := c.subs
	c.subs, c.q, c.spare = nil, nil, nil
	c.mu.Unlock()
	c.stopShutdown()
	c.cancel()
	for _, s := range subs {
		if s.g != nil {
			s.g.leave(s)
		}
	}
	c.hub.unregister(c)
	return true
}

// log writes the socket's line when it ends (the access log's line was
// written at the upgrade).
func (c *wsConn) log(code int) {
	c.hub.app.Log.LogAttrs(c.context(), slog.LevelDebug, "websocket closed",
		slog.Duration("duration", time.Since(c.start)), slog.Int("close_code", code))
}

// context is c.ctx, which connection_init replaces.
func (c *wsConn) context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctx
}

// wsSub is one subscription of a socket.
type wsSub struct {
	c    *wsConn
	id   string
	next []byte   // `{"id":…,"type":"next","payload":`
	g    *wsGroup // nil until it has one
}

func newWSSub(c *wsConn, id string) *wsSub {
	qid, _ := json.Marshal(id)
	next := make([]byte, 0, len(qid)+32)
	if id != "" {
		next = append(append(append(next, `{"id":`...), qid...), `,"type":"next","payload":`...)
	} else {
		next = append(next, `{"type":"next","payload":`...)
	}
	return &wsSub{c: c, id: id, next: next}
}

func (s *wsSub) frame(typ string, payload []byte) wsFrame {
	m := wsMessage{ID: s.id, Type: typ, Payload: payload}
	b, _ := json.Marshal(m)
	return wsFrame{head: b}
}

func (s *wsSub) completeFrame() wsFrame { return s.frame("complete", nil) }

func (s *wsSub) errorFrame(errs gqlerror.List) wsFrame {
	for _, e := range errs {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		if _, ok := e.Extensions["code"]; !ok {
			e.Extensions["code"] = engine.EINVALID
		}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal error","extensions":{"code":"EINTERNAL"}}]`)
	}
	return s.frame("error", b)
}

// wsGroupKey identifies subscriptions that yield the same responses: one
// viewer (user and role), one document, operation and variables.
type wsGroupKey struct {
	user, role, query, operation, variables string
}

// groupKey is rc's group; shared is false for an operation that must run on
// its own: not a subscription, no viewer, or a resume cursor (its replay
// starts where the subscriber says, which a running group is past).
func groupKey(ctx context.Context, rc *graphql.OperationContext) (wsGroupKey, bool) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.UserID == "" || rc.Operation == nil || rc.Operation.Operation != ast.Subscription || rc.RawQuery == "" {
		return wsGroupKey{}, false
	}
	for _, sel := range rc.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return wsGroupKey{}, false
		}
		if after, ok := f.ArgumentMap(rc.Variables)["after"]; ok && after != nil {
			return wsGroupKey{}, false
		}
	}
	vars, err := json.Marshal(rc.Variables)
	if err != nil {
		return wsGroupKey{}, false
	}
	return wsGroupKey{user: v.UserID, role: string(v.Role), query: rc.RawQuery, operation: rc.OperationName, variables: string(vars)}, true
}

// wsGroup is one execution of a subscription and the subscriptions (of any
// sockets) it is written to.
type wsGroup struct {
	hub    *wsHub
	key    wsGroupKey
	shared bool // in hub.groups: others may join
	cancel context.CancelFunc

	mu      sync.Mutex
	members []*wsSub
	ended   bool
}

// join adds s to a running group (hub.mu held); false when it has ended.
func (g *wsGroup) join(s *wsSub) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return false
	}
	g.members = append(g.members, s)
	s.g = g
	g.hub.app.Metrics.FeedSubscriptions.WithLabelValues("websocket").Inc()
	return true
}

// leave takes s out of the group; the last one out stops its execution.
func (g *wsGroup) leave(s *wsSub) {
	h := g.hub
	h.mu.Lock()
	g.mu.Lock()
	i := slices.Index(g.members, s)
	if i < 0 {
		g.mu.Unlock()
		h.mu.Unlock()
		return
	}
	g.members = slices.Delete(g.members, i, i+1)
	last := len(g.members) == 0 && !g.ended
	if !last && !g.ended {
		// the hub counts the group's one subscription; joins the others
		h.app.Metrics.FeedSubscriptions.WithLabelValues("websocket").Dec()
	}
	if last {
		g.ended = true
		if g.shared && h.groups[g.key] == g {
			delete(h.groups, g.key)
		}
	}
	g.mu.Unlock()
	h.mu.Unlock()
	if last {
		g.cancel()
	}
}

// run executes the group's subscription: each response is encoded once and
// queued on every member's socket.
func (g *wsGroup) run(responses graphql.ResponseHandler, ctx context.Context, rc *graphql.OperationContext, streamErrs *feed.StreamErrors, panicked *gqlerror.Error, stop func() bool) {
	defer stop()
	var errs gqlerror.List
	if panicked != nil {
		errs = gqlerror.List{panicked}
	} else {
		func() {
			defer func() {
				if r := recover(); r != nil {
					errs = gqlerror.List{recovered(ctx, rc, r)}
				}
			}()
			for {
				resp := responses(ctx)
				if resp == nil {
					break
				}
				b, err := json.Marshal(resp)
				if err != nil {
					errs = gqlerror.List{{Message: "internal error", Extensions: map[string]any{"code": engine.EINTERNAL}}}
					return
				}
				g.broadcast(b)
			}
			errs = streamErrs.List()
		}()
	}
	g.end(errs)
}

// broadcast queues body on every member's socket; members too far behind
// are cut off.
func (g *wsGroup) broadcast(body []byte) {
	now := time.Now()
	var cut []*wsSub
	g.mu.Lock()
	for _, s := range g.members {
		if !s.c.sendNext(s, body, now) {
			cut = append(cut, s)
		}
	}
	if n := len(g.members) - 1 - len(cut); n > 0 {
		g.hub.app.Metrics.FeedDelivered.Add(float64(n)) // the hub counted one
	}
	g.mu.Unlock()
	for _, s := range cut {
		g.leave(s)
		if s.c.remove(s) {
			g.hub.app.Metrics.FeedCutOffs.Inc()
			g.hub.app.Log.WarnContext(s.c.context(), "feed subscriber cut off", slog.String("reason", "slow consumer"))
			s.c.send(s.errorFrame(gqlerror.List{{
				Message:    "slow consumer: the subscription did not keep up and was closed; resubscribe with after: the cursor of the last event received",
				Extensions: map[string]any{"code": engine.ELIMIT},
			}}))
		}
	}
}

// end finishes the group: each member gets the errors that ended it, or
// "complete" — nothing on shutdown (the socket's 1012 says: resume).
func (g *wsGroup) end(errs gqlerror.List) {
	h := g.hub
	h.mu.Lock()
	g.mu.Lock()
	members := g.members
	if !g.ended && len(members) > 1 {
		h.app.Metrics.FeedSubscriptions.WithLabelValues("websocket").Sub(float64(len(members) - 1))
	}
	g.members, g.ended = nil, true
	if g.shared && h.groups[g.key] == g {
		delete(h.groups, g.key)
	}
	g.mu.Unlock()
	h.mu.Unlock()
	g.cancel()
	shutdown := h.app.baseCtx.Err() != nil
	for _, s := range members {
		if !s.c.remove(s) || shutdown {
			continue
		}
		if len(errs) > 0 {
			s.c.send(s.errorFrame(errs))
		} else {
			s.c.send(s.completeFrame())
		}
	}
}

// smallReader is the read side of a hijacked connection with a small
// buffer instead of net/http's 4 KiB one. Bytes the client sent early are
// moved into the new buffer: coder/websocket's Accept takes what is
// buffered and reads on from the connection itself.
func smallReader(br *bufio.Reader, conn io.Reader) *bufio.Reader {
	n := br.Buffered()
	if n == 0 {
		return bufio.NewReaderSize(conn, wsReadBuffer)
	}
	b, _ := br.Peek(n)
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn), max(wsReadBuffer, n))
	_, _ = r.Peek(n)
	return r
}
