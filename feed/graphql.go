package feed

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
)

// This file is the glue between the Hub and GraphQL subscriptions: what the
// resolvers call, and what the transports (websocket, SSE) put in the
// context for them.

// InsightEvent is one event of the insightCreated subscription: the insight,
// loaded fresh (and through the viewer's privacy) for each event.
type InsightEvent struct {
	Cursor  Cursor
	Insight *ent.Insight
}

// InsightFilter narrows insightCreated.
type InsightFilter struct {
	MinGrade *evidence.Grade // at least this grade (A is the highest)
	Metrics  []string        // only these metric keys; empty = all
}

func (f InsightFilter) match(in *ent.Insight) bool {
	if in.Status == insight.StatusDISMISSED {
		return false // the user dismissed it before it was delivered
	}
	if f.MinGrade != nil && in.EvidenceGrade.Rank() < f.MinGrade.Rank() {
		return false
	}
	return len(f.Metrics) == 0 || slices.Contains(f.Metrics, in.Metric)
}

// Events is the `feed` subscription: userID's events of the given kinds
// after the cursor (see ResumeFrom), as a channel that closes when ctx ends.
func (h *Hub) Events(ctx context.Context, userID string, after *Cursor, kinds []feedevent.Kind) (<-chan *Event, error) {
	return pipe(ctx, h, userID, after, Filter{Kinds: kinds}, func(_ context.Context, ev *Event) (*Event, error) {
		return ev, nil
	})
}

// Insights is the `insightCreated` subscription. The insight of an event
// is loaded once for all the user's subscribers on this instance (with the
// first one's context, so the viewer's privacy policy applies: they are
// all that user), then each subscriber's filter is applied.
func (h *Hub) Insights(ctx context.Context, client *ent.Client, userID string, after *Cursor, f InsightFilter) (<-chan *InsightEvent, error) {
	kinds := []feedevent.Kind{feedevent.KindINSIGHT_CREATED}
	return pipe(ctx, h, userID, after, Filter{Kinds: kinds}, func(ctx context.Context, ev *Event) (*InsightEvent, error) {
		in, err := ev.insight(ctx, client)
		if ent.IsNotFound(err) {
			return nil, nil // gone (or not the viewer's): nothing to show
		}
		if err != nil {
			return nil, err
		}
		if !f.match(in) {
			return nil, nil
		}
		return &InsightEvent{Cursor: ev.Cursor, Insight: in}, nil
	})
}

// pipe subscribes and maps events with conv (nil = skip) onto the channel
// a gqlgen subscription resolver returns; it costs no goroutine of its own
// (the Hub hands events over). When the subscription is cut off the reason
// is sent to the client as a subscription error.
func pipe[T any](ctx context.Context, h *Hub, userID string, after *Cursor, f Filter,
	conv func(context.Context, *Event) (*T, error),
) (<-chan *T, error) {
	release, err := acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	from := Cursor(-1)
	if c, ok := ResumeFrom(ctx, after); ok {
		from = c
	}
	trail := cursorTrailFrom(ctx)
	out := make(chan *T, h.opt.Buffer)
	emit := func(ev *Event, wait <-chan time.Time, stop <-chan struct{}) error {
		if !f.match(ev) {
			return errSkip
		}
		v, err := conv(ctx, ev)
		if err != nil {
			if ctx.Err() != nil {
				return errStopped
			}
			return engine.Wrap(err, engine.EINTERNAL, "reading a feed event")
		}
		if v == nil {
			return errSkip
		}
		trail.push(ev.Cursor)
		if err := send(out, v, wait, stop); err != nil {
			trail.unpush()
			return err
		}
		return nil
	}
	done := func(err error) {
		if err != nil {
			ReportStreamError(ctx, err)
		}
		release()
		close(out)
	}
	if _, err := h.subscribe(ctx, userID, from, emit, done); err != nil {
		release()
		return nil, err
	}
	return out, nil
}

type ctxKey int

const (
	keySlots ctxKey = iota
	keyResume
	keyTrail
	keyErrors
)

type slots struct {
	mu   sync.Mutex
	used int
	max  int
}

// WithSubscriptionLimit returns ctx (a connection's context) allowing at
// most n concurrent subscriptions on that connection; one more fails with
// ELIMIT.
func WithSubscriptionLimit(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, keySlots, &slots{max: n})
}

func acquireSlot(ctx context.Context) (func(), error) {
	s, _ := ctx.Value(keySlots).(*slots)
	if s == nil {
		return func() {}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used >= s.max {
		return nil, engine.Errorf(engine.ELIMIT, "too many subscriptions on this connection (at most %d)", s.max)
	}
	s.used++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.used--
			s.mu.Unlock()
		})
	}, nil
}

// WithResumeCursor returns ctx carrying a cursor the transport got out of
// band (the SSE Last-Event-ID header); it takes precedence over `after`.
func WithResumeCursor(ctx context.Context, c Cursor) context.Context {
	return context.WithValue(ctx, keyResume, c)
}

// ResumeFrom returns the cursor to resume after: the transport's resume
// cursor if any, else after; ok is false for "from now on".
func ResumeFrom(ctx context.Context, after *Cursor) (Cursor, bool) {
	if c, ok := ctx.Value(keyResume).(Cursor); ok {
		return c, true
	}
	if after != nil {
		return *after, true
	}
	return 0, false
}

// CursorTrail hands the cursor of each emitted subscription event to a
// transport that needs it out of band (SSE `id:`). The subscription pushes
// a cursor just before emitting its event, and the transport pops one per
// response, so they pair up in order.
type CursorTrail struct {
	mu sync.Mutex
	q  []Cursor
}

// WithCursorTrail returns ctx with a new trail.
func WithCursorTrail(ctx context.Context) (context.Context, *CursorTrail) {
	t := &CursorTrail{}
	return context.WithValue(ctx, keyTrail, t), t
}

func cursorTrailFrom(ctx context.Context) *CursorTrail {
	t, _ := ctx.Value(keyTrail).(*CursorTrail)
	return t
}

func (t *CursorTrail) push(c Cursor) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.q = append(t.q, c)
	t.mu.Unlock()
}

// unpush takes back the cursor just pushed (its event was not sent).
func (t *CursorTrail) unpush() {
	if t == nil {
		return
	}
	t.mu.Lock()
	if len(t.q) > 0 {
		t.q = t.q[:len(t.q)-1]
	}
	t.mu.Unlock()
}

// Pop returns the cursor of the next response, ok false when none is known.
func (t *CursorTrail) Pop() (Cursor, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.q) == 0 {
		return 0, false
	}
	c := t.q[0]
	t.q = t.q[1:]
	return c, true
}

// StreamErrors collects the errors that end a subscription, for transports
// other than gqlgen's websocket (which has its own).
type StreamErrors struct {
	mu   sync.Mutex
	errs gqlerror.List
}

// WithStreamErrors returns ctx with a new collector.
func WithStreamErrors(ctx context.Context) (context.Context, *StreamErrors) {
	e := &StreamErrors{}
	return context.WithValue(ctx, keyErrors, e), e
}

// List returns the collected errors.
func (e *StreamErrors) List() gqlerror.List {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.errs)
}

// ReportStreamError sends err, with its code in extensions.code, to the
// client as the error that ends its subscription: through the context's
// StreamErrors, else gqlgen's websocket subscription error.
func ReportStreamError(ctx context.Context, err error) {
	ge := &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": engine.EINTERNAL}}
	var ee *engine.Error
	if errors.As(err, &ee) {
		ge.Message = ee.Message
		ge.Extensions["code"] = ee.Code
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		ge.Path = fc.Path()
	}
	if e, ok := ctx.Value(keyErrors).(*StreamErrors); ok {
		e.mu.Lock()
		e.errs = append(e.errs, ge)
		e.mu.Unlock()
		return
	}
	defer func() { _ = recover() }() // not a websocket subscription: nowhere to report
	transport.AddSubscriptionError(ctx, ge)
}
