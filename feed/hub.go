package feed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
)

// Event is one delivered feed event. Its Payload is shared between the
// subscribers of the same user and must not be modified.
type Event struct {
	UserID    string
	Cursor    Cursor
	Kind      feedevent.Kind
	EntityID  string
	CreatedAt time.Time
	Payload   map[string]any

	shared *shared // what is worked out once per event for all subscribers
}

// shared is worked out once per event, whatever the number of subscribers
// it goes to: the JSON of its payload and the insight it announces.
type shared struct {
	jsonOnce sync.Once
	json     []byte

	insOnce sync.Once
	ins     *ent.Insight
	insErr  error
}

// PayloadJSON returns the payload encoded as JSON, encoded once per event
// and shared by every subscriber it is given to ("null" for no payload).
func (e *Event) PayloadJSON() []byte {
	if e.shared == nil {
		b, _ := json.Marshal(e.Payload)
		return b
	}
	e.shared.jsonOnce.Do(func() {
		e.shared.json, _ = json.Marshal(e.Payload)
	})
	return e.shared.json
}

// PayloadRaw is the GraphQL field FeedItem.payload: PayloadJSON, or nil
// (null) when the event has no payload.
func (e *Event) PayloadRaw() RawJSON {
	if e.Payload == nil {
		return nil
	}
	return e.PayloadJSON()
}

// insight loads the insight the event announces, once per event: ctx is the
// first subscriber's (they all are the event's user), without its
// cancellation so that one subscriber leaving does not fail the others.
func (e *Event) insight(ctx context.Context, client *ent.Client) (*ent.Insight, error) {
	if e.shared == nil {
		return client.Insight.Get(ctx, e.EntityID)
	}
	e.shared.insOnce.Do(func() {
		e.shared.ins, e.shared.insErr = client.Insight.Get(context.WithoutCancel(ctx), e.EntityID)
	})
	return e.shared.ins, e.shared.insErr
}

// Filter selects the events a subscriber wants. The zero Filter takes all.
type Filter struct {
	Kinds []feedevent.Kind // empty = every kind
}

func (f Filter) match(e *Event) bool {
	return len(f.Kinds) == 0 || slices.Contains(f.Kinds, e.Kind)
}

// Options tune a Hub. Zero values take the defaults.
type Options struct {
	Buffer              int           // events buffered per subscriber (default 64)
	SlowConsumerTimeout time.Duration // how long a full buffer may stay full before the subscriber is cut off (default 10s)
	PollInterval        time.Duration // safety poll of the database for lost hints (default 2s)
	Retention           time.Duration // events older than this are out of retention (default 30 days)
	PageSize            int           // rows read per query (default 500)
	Window              int           // recent events kept in memory per user with subscribers (default 256)
	PublishQueue        int           // pending hints to publish; more are dropped (default 4096)
	Log                 *slog.Logger
	Now                 func() time.Time
	Observer            Observer // metrics hooks (server/telemetry); nil = none
}

// Observer is told what the hub does, for metrics. Its methods must not
// block.
type Observer interface {
	// Subscribed is called when a subscription starts (ctx is the
	// subscriber's); the returned function is called once when it ends.
	Subscribed(ctx context.Context) (ended func())
	// Delivered is called for each event handed to a subscriber: lag is
	// the time from the event's commit to the hand-off, replayed whether
	// the event predates the subscription (history).
	Delivered(lag time.Duration, replayed bool)
	// CutOff is called when a slow consumer is cut off.
	CutOff()
}

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.SlowConsumerTimeout <= 0 {
		o.SlowConsumerTimeout = 10 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.Window <= 0 {
		o.Window = 256
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = 4096
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Hub owns this instance's subscribers. It is the record.EventNotifier of
// the Recorder (Notify, NotifyEvents), a Handler of its Bus, and it polls
// the database every PollInterval for hints that were lost. Build it with
// NewHub and stop it with Close.
type Hub struct {
	client *ent.Client
	bus    Bus
	opt    Options
	log    *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	pubq   chan Hint

	mu      sync.Mutex
	streams map[string]*stream
	closed  bool

	active atomic.Int64
}

// stream is the shared state of one user's local subscribers: a window of
// the user's recent events, ring, that holds every event with base < seq <=
// head.
type stream struct {
	userID string

	mu       sync.Mutex
	base     int64
	head     int64
	ring     []Event
	subs     map[*Subscription]struct{}
	fetching bool    // a reader runs (readLoop): only it adds to the window and pushes
	pending  bool    // the reader must read the outbox again (a hint, the poll, a resync)
	inbox    []Event // events committed by this instance, for the reader to take without a read
}

// Subscription is one subscriber. C yields events in cursor order; it is
// closed when the subscriber's context ends, the Hub closes, or the
// subscriber is cut off, in which case Err says why.
//
// An idle subscriber costs no goroutine: new events are pushed into its
// buffer by the stream's one reader. Only a subscriber that is behind (a
// replay, or a full buffer) has a goroutine, which catches it up from the
// stream's window or the database and waits up to SlowConsumerTimeout for
// room in its buffer before cutting it off.
type Subscription struct {
	C <-chan *Event

	ctx  context.Context
	st   *stream
	emit emitFunc
	done func(err error) // closes the output and reports err; called once

	// Guarded by st.mu.
	last    int64 // cursor of the last event given to (or skipped for) the subscriber
	live    bool  // caught up: the stream's reader pushes to it
	running bool  // a catch-up goroutine owns it
	ended   bool
	err     error

	stop     chan struct{} // closed when the subscription ends
	stopOnce sync.Once

	mu     sync.Mutex // serializes hand-offs with closing the output
	closed bool

	head    int64       // feed head when the subscription started: events up to it are replays
	ended_  func()      // Observer.Subscribed's end hook, or nil
	cleanup func() bool // context.AfterFunc's stop
}

// emitFunc hands ev to a subscriber. With wait nil it must not block and
// returns errFull when there is no room; otherwise it waits for room until
// wait fires (errFull) or stop is closed (errStopped). errSkip says the
// event is not for this subscriber (its filter); any other error ends the
// subscription with that error.
type emitFunc func(ev *Event, wait <-chan time.Time, stop <-chan struct{}) error

var (
	errFull    = errors.New("subscriber buffer full")
	errStopped = errors.New("subscription ended")
	errSkip    = errors.New("not for this subscriber")
)

// Err returns why C was closed: nil after a normal end (context done, hub
// closed), an ELIMIT error for a slow consumer. Call it after C is closed.
func (s *Subscription) Err() error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.err
}

// NewHub starts a Hub reading client's FeedEvent rows and exchanging hints
// on bus.
func NewHub(client *ent.Client, bus Bus, opt Options) *Hub {
	opt = opt.withDefaults()
	h := &Hub{
		client:  client,
		bus:     bus,
		opt:     opt,
		log:     opt.Log,
		pubq:    make(chan Hint, opt.PublishQueue),
		streams: map[string]*stream{},
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(3)
	go func() {
		defer h.wg.Done()
		if err := bus.Run(h.ctx, h); err != nil {
			h.log.ErrorContext(h.ctx, "feed bus stopped", slog.Any("err", err))
		}
	}()
	go h.publishLoop()
	go h.pollLoop()
	return h
}

// Close stops the Hub: every subscription ends and every goroutine of the
// Hub has returned when Close returns.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.closed = true
	all := make([]*stream, 0, len(h.streams))
	for _, st := range h.streams {
		all = append(all, st)
	}
	h.mu.Unlock()
	h.cancel()
	for _, st := range all {
		h.endAll(st, nil)
	}
	h.wg.Wait()
	return nil
}

// Subscribers returns the number of live subscriptions.
func (h *Hub) Subscribers() int { return int(h.active.Load()) }

// Notify implements record.Notifier: it wakes this instance's subscribers
// of userID and publishes a hint to the other instances. It never blocks;
// when the publish queue is full the hint is dropped (the poll covers it).
func (h *Hub) Notify(userID string) {
	h.wakeUser(userID, 0)
	h.publish(Hint{UserID: userID})
}

// NotifyEvents implements record.EventNotifier: evs are userID's feed rows
// that a transaction of this process wrote right before its COMMIT, now
// committed. This instance's subscribers are given them from memory, with
// no read of the outbox, when they continue the stream's window without a
// gap; otherwise (another instance's or another transaction's events in
// between, announced later) the stream reads the outbox from its head, as
// for a hint. The other instances get a hint with the newest cursor, which
// this instance then knows and ignores. It never blocks.
func (h *Hub) NotifyEvents(userID string, evs []*ent.FeedEvent) {
	var newest int64
	for _, r := range evs {
		newest = max(newest, r.Seq)
	}
	h.mu.Lock()
	st := h.streams[userID]
	h.mu.Unlock()
	if st != nil {
		local := make([]Event, 0, len(evs))
		for _, r := range evs {
			p, err := normalizePayload(r.Payload)
			if r.UserID != userID || r.Seq <= 0 || err != nil {
				local = nil // not what the outbox holds: read it instead
				break
			}
			local = append(local, Event{
				UserID: r.UserID, Cursor: Cursor(r.Seq), Kind: r.Kind, EntityID: r.EntityID,
				CreatedAt: r.CreatedAt, Payload: p, shared: &shared{},
			})
		}
		h.wake(st, local == nil, local)
	}
	h.publish(Hint{UserID: userID, Seq: newest})
}

// normalizePayload is p as a read of the outbox returns it: the JSON the
// row holds, decoded (numbers become float64 and so on).
func normalizePayload(p map[string]any) (map[string]any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// publish queues a hint for the other instances; when the queue is full
// it is dropped (the poll covers it).
func (h *Hub) publish(hint Hint) {
	select {
	case h.pubq <- hint:
	default:
		h.log.Warn("feed hint dropped", slog.String("reason", "publish queue full"))
	}
}

// Hint implements Handler.
func (h *Hub) Hint(hint Hint) { h.wakeUser(hint.UserID, hint.Seq) }

// Resync implements Handler: every stream re-reads the database.
func (h *Hub) Resync() {
	h.mu.Lock()
	all := make([]*stream, 0, len(h.streams))
	for _, st := range h.streams {
		all = append(all, st)
	}
	h.mu.Unlock()
	for _, st := range all {
		h.wake(st, true, nil)
	}
}

// wakeUser has userID's stream read the outbox, unless seq (when known)
// is already in its window or its inbox (this instance's own commits,
// whose hints come back on the bus).
func (h *Hub) wakeUser(userID string, seq int64) {
	h.mu.Lock()
	st := h.streams[userID]
	h.mu.Unlock()
	if st == nil {
		return
	}
	if seq > 0 {
		st.mu.Lock()
		known := seq <= st.head
		for i := range st.inbox {
			known = known || seq <= int64(st.inbox[i].Cursor)
		}
		st.mu.Unlock()
		if known {
			return
		}
	}
	h.wake(st, true, nil)
}

// Subscribe starts a subscription to userID's feed. With after >= 0 it first
// replays the events after that cursor (from the database), then tails; with
// after < 0 it starts at the newest event. It fails with
// FEED_CURSOR_EXPIRED when the events after the cursor are out of
// retention, with EINVALID when the cursor is ahead of the feed, and with
// EINTERNAL when the Hub is closed or the database fails. The subscription
// ends when ctx is done.
func (h *Hub) Subscribe(ctx context.Context, userID string, after Cursor, f Filter) (*Subscription, error) {
	c := make(chan *Event, h.opt.Buffer)
	emit := func(ev *Event, wait <-chan time.Time, stop <-chan struct{}) error {
		if !f.match(ev) {
			return errSkip
		}
		return send(c, ev, wait, stop)
	}
	s, err := h.subscribe(ctx, userID, after, emit, func(error) { close(c) })
	if err != nil {
		return nil, err
	}
	s.C = c
	return s, nil
}

// send puts v on c: without waiting when wait is nil.
func send[T any](c chan<- *T, v *T, wait <-chan time.Time, stop <-chan struct{}) error {
	if wait == nil {
		select {
		case c <- v:
			return nil
		default:
			return errFull
		}
	}
	select {
	case c <- v:
		return nil
	case <-wait:
		return errFull
	case <-stop:
		return errStopped
	}
}

// subscribe registers a subscriber that receives events through emit and
// whose output done closes (with the error that ended it, nil for a normal
// end) exactly once.
func (h *Hub) subscribe(ctx context.Context, userID string, after Cursor, emit emitFunc, done func(error)) (*Subscription, error) {
	if userID == "" {
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "sign in required")
	}
	sctx := viewer.System(ctx)
	newest, err := h.client.FeedEvent.Query().
		Where(feedevent.UserID(userID)).Order(ent.Desc(feedevent.FieldSeq)).First(sctx)
	var head int64
	switch {
	case ent.IsNotFound(err):
	case err != nil:
		return nil, engine.Wrap(err, engine.EINTERNAL, "reading the feed")
	default:
		head = newest.Seq
	}
	start := head
	if after >= 0 {
		if err := h.checkCursor(sctx, userID, int64(after), head); err != nil {
			return nil, err
		}
		start = int64(after)
	}
	s := &Subscription{ctx: ctx, emit: emit, done: done, last: start, stop: make(chan struct{}), head: head, running: true}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, engine.Errorf(engine.EINTERNAL, "the feed is shutting down")
	}
	st := h.streams[userID]
	if st == nil {
		st = &stream{userID: userID, base: head, head: head, subs: map[*Subscription]struct{}{}}
		h.streams[userID] = st
	}
	s.st = st
	st.mu.Lock()
	st.subs[s] = struct{}{}
	st.mu.Unlock()
	h.active.Add(1)
	h.wg.Add(1)
	h.mu.Unlock()
	if h.opt.Observer != nil {
		s.ended_ = h.opt.Observer.Subscribed(ctx)
	}
	s.cleanup = context.AfterFunc(ctx, func() { h.end(s, nil) })

	// Replay (or confirm it is caught up), then go live.
	go h.catchUp(s)
	// Catch events committed between the head query and registration.
	h.wake(st, true, nil)
	return s, nil
}

// checkCursor validates after against userID's feed whose newest seq is head.
func (h *Hub) checkCursor(ctx context.Context, userID string, after, head int64) error {
	if after > head {
		return engine.Errorf(engine.EINVALID, "the feed cursor %d is ahead of the feed", after)
	}
	if after == head {
		return nil
	}
	next, err := h.client.FeedEvent.Query().
		Where(feedevent.UserID(userID), feedevent.SeqGT(after)).Order(ent.Asc(feedevent.FieldSeq)).First(ctx)
	if err != nil {
		return engine.Wrap(err, engine.EINTERNAL, "reading the feed")
	}
	if next.Seq > after+1 || next.CreatedAt.Before(h.opt.Now().Add(-h.opt.Retention)) {
		return engine.Errorf(ECURSOREXPIRED, "the feed cursor %d is older than the feed's retention of %s; reload and subscribe without a cursor", after, h.opt.Retention)
	}
	return nil
}

// catchUp is the goroutine of a subscriber that is behind: it hands it the
// events after its cursor, from the stream's window or the database, waiting
// up to SlowConsumerTimeout for room for each, until it has caught up with
// the stream's head; then the subscriber is live again and the goroutine
// returns.
func (h *Hub) catchUp(s *Subscription) {
	defer h.wg.Done()
	st := s.st
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		st.mu.Lock()
		last, ended := s.last, s.ended
		st.mu.Unlock()
		if ended {
			h.release(s)
			return
		}
		evs, err := h.next(s.ctx, st, last)
		if err != nil {
			if s.ctx.Err() == nil && h.ctx.Err() == nil {
				h.log.WarnContext(s.ctx, "feed read failed", slog.Any("err", err))
				if h.sleep(s.ctx, h.opt.PollInterval) {
					continue
				}
			}
			h.end(s, nil)
			continue
		}
		if len(evs) == 0 {
			st.mu.Lock()
			if !s.ended && s.last >= st.head {
				s.live, s.running = true, false
				st.mu.Unlock()
				return
			}
			if !s.ended && s.last < st.base {
				// The rows after the cursor are gone (erased): resume at the window.
				s.last = st.base
			}
			st.mu.Unlock()
			continue // the window moved on while reading, or s ended: look again
		}
		for i := range evs {
			ev := &evs[i]
			if timer == nil {
				timer = time.NewTimer(h.opt.SlowConsumerTimeout)
			} else {
				timer.Reset(h.opt.SlowConsumerTimeout)
			}
			err := h.hand(s, ev, timer.C)
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			if errors.Is(err, errFull) {
				if h.opt.Observer != nil {
					h.opt.Observer.CutOff()
				}
				st.mu.Lock()
				at := s.last
				st.mu.Unlock()
				h.log.WarnContext(s.ctx, "feed subscriber cut off", slog.String("reason", "slow consumer"), slog.Int64("cursor", at))
				h.end(s, engine.Errorf(engine.ELIMIT, "slow consumer: the subscription did not keep up and was closed; resubscribe with after: \"%d\"", at))
				break
			}
			if err != nil && !errors.Is(err, errSkip) {
				if !errors.Is(err, errStopped) {
					h.end(s, err)
				}
				break
			}
			st.mu.Lock()
			s.last = int64(ev.Cursor)
			st.mu.Unlock()
		}
	}
}

// hand gives ev to s (blocking up to wait when wait is not nil), unless the
// subscription has ended. The output's mutex keeps a hand-off from racing
// with its closing.
func (h *Hub) hand(s *Subscription, ev *Event, wait <-chan time.Time) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errStopped
	}
	if wait == nil {
		err := s.emit(ev, nil, s.stop)
		s.mu.Unlock()
		if err == nil {
			h.observeDelivered(s, ev)
		}
		return err
	}
	s.mu.Unlock()
	// A blocking hand-off only happens on the catch-up goroutine, which owns
	// the output until it returns (end does not close it meanwhile).
	err := s.emit(ev, wait, s.stop)
	if err == nil {
		h.observeDelivered(s, ev)
	}
	return err
}

// end ends s with err (nil: a normal end). The output is closed by the
// catch-up goroutine if one runs, else here.
func (h *Hub) end(s *Subscription, err error) {
	st := s.st
	st.mu.Lock()
	if s.ended {
		st.mu.Unlock()
		return
	}
	s.ended = true
	s.err = err
	running := s.running
	delete(st.subs, s)
	empty := len(st.subs) == 0
	st.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stop) })
	if empty {
		h.mu.Lock()
		st.mu.Lock()
		if len(st.subs) == 0 && h.streams[st.userID] == st {
			delete(h.streams, st.userID)
		}
		st.mu.Unlock()
		h.mu.Unlock()
	}
	if !running {
		h.release(s)
	}
}

// release closes s's output and ends its bookkeeping; called once, by the
// catch-up goroutine if it owned s when s ended, else by end.
func (h *Hub) release(s *Subscription) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	if s.cleanup != nil {
		s.cleanup()
	}
	s.st.mu.Lock()
	err := s.err
	s.st.mu.Unlock()
	h.active.Add(-1)
	if s.ended_ != nil {
		s.ended_()
	}
	s.done(err)
}

// CloseUser ends every local subscription of userID with err (their C is
// closed and Err returns err): the account was deleted. Subscriptions on
// other instances end when their token expires.
func (h *Hub) CloseUser(userID string, err error) int {
	h.mu.Lock()
	st := h.streams[userID]
	h.mu.Unlock()
	if st == nil {
		return 0
	}
	return h.endAll(st, err)
}

func (h *Hub) endAll(st *stream, err error) int {
	st.mu.Lock()
	subs := make([]*Subscription, 0, len(st.subs))
	for s := range st.subs {
		subs = append(subs, s)
	}
	st.mu.Unlock()
	for _, s := range subs {
		h.end(s, err)
	}
	return len(subs)
}

func (h *Hub) observeDelivered(s *Subscription, ev *Event) {
	if h.opt.Observer != nil {
		h.opt.Observer.Delivered(h.opt.Now().Sub(ev.CreatedAt), int64(ev.Cursor) <= s.head)
	}
}

func (h *Hub) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-h.ctx.Done():
	}
	return false
}

// next returns the events after cursor last: from the stream's window when
// it covers last, else from the database.
func (h *Hub) next(ctx context.Context, st *stream, last int64) ([]Event, error) {
	st.mu.Lock()
	if last >= st.base {
		i := sort.Search(len(st.ring), func(i int) bool { return int64(st.ring[i].Cursor) > last })
		out := slices.Clone(st.ring[i:])
		st.mu.Unlock()
		return out, nil
	}
	st.mu.Unlock()
	return h.fetch(ctx, st.userID, last)
}

// fetch reads up to PageSize events of userID after cursor after, in
// order, as the system viewer but only ever that user's rows.
func (h *Hub) fetch(ctx context.Context, userID string, after int64) ([]Event, error) {
	rows, err := h.client.FeedEvent.Query().
		Where(feedevent.UserID(userID), feedevent.SeqGT(after)).
		Order(ent.Asc(feedevent.FieldSeq)).
		Limit(h.opt.PageSize).
		All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(rows))
	for _, r := range rows {
		if r.UserID != userID { // defence in depth: never another user's row
			continue
		}
		out = append(out, Event{
			UserID: r.UserID, Cursor: Cursor(r.Seq), Kind: r.Kind, EntityID: r.EntityID,
			CreatedAt: r.CreatedAt, Payload: r.Payload, shared: &shared{},
		})
	}
	return out, nil
}

// wake asks st's reader to read the outbox (read) and to take the
// committed events evs, starting the reader when none runs. Requests made
// while a reader runs coalesce: it looks again before giving up its role.
func (h *Hub) wake(st *stream, read bool, evs []Event) {
	st.mu.Lock()
	st.pending = st.pending || read
	st.inbox = append(st.inbox, evs...)
	if st.fetching {
		st.mu.Unlock()
		return
	}
	st.fetching = true
	st.mu.Unlock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		st.mu.Lock()
		st.fetching = false
		st.mu.Unlock()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		h.readLoop(st)
	}()
}

// readLoop is the stream's one reader: it adds the stream's new events to
// its window and hands them to its live subscribers, without blocking (a
// subscriber whose buffer is full gets a catch-up goroutine instead). The
// new events are the inbox's when they continue the window without a gap
// and no read was asked for; otherwise they are read from the outbox
// (the truth: it also fills any gap), and inbox events it did not reach
// wait for the next round. It runs until nothing is left to do.
func (h *Hub) readLoop(st *stream) {
	for {
		st.mu.Lock()
		from := st.head
		read := st.pending
		st.pending = false
		in := st.inbox
		st.inbox = nil
		st.mu.Unlock()

		in = after(in, from)
		var evs, keep []Event
		var err error
		more := false
		switch {
		case !read && contiguous(in, from):
			evs = in
		case read || len(in) > 0:
			evs, err = h.fetch(h.ctx, st.userID, from)
			more = err == nil && len(evs) == h.opt.PageSize
			reached := from
			if len(evs) > 0 {
				reached = int64(evs[len(evs)-1].Cursor)
			}
			keep = after(in, reached)
		}

		st.mu.Lock()
		st.inbox = append(keep, st.inbox...)
		n := len(st.ring)
		for _, ev := range evs {
			if int64(ev.Cursor) > st.head {
				st.ring = append(st.ring, ev)
				st.head = int64(ev.Cursor)
			}
		}
		fresh := slices.Clone(st.ring[n:]) // shares each event's cache with the window
		if over := len(st.ring) - h.opt.Window; over > 0 {
			st.base = int64(st.ring[over-1].Cursor)
			st.ring = slices.Clone(st.ring[over:])
		}
		var live []*Subscription
		if len(fresh) > 0 {
			live = make([]*Subscription, 0, len(st.subs))
			for s := range st.subs {
				if s.live {
					live = append(live, s)
				}
			}
		}
		st.mu.Unlock()
		for _, s := range live {
			h.push(s, fresh)
		}
		if err != nil && h.ctx.Err() == nil {
			h.log.Warn("feed refresh failed", slog.String("user_id", st.userID), slog.Any("err", err))
		}
		// The reader role is given up only after its events are pushed: a
		// second reader pushing newer events meanwhile would hand them to a
		// subscriber first, and the older ones would then be skipped as
		// seen (TestThousandSubscribersEachGetEveryEvent caught that). After
		// a failed read the inbox waits for the next wake-up (a hint, or
		// the poll, which finds the outbox ahead of the window).
		st.mu.Lock()
		if !more && (err != nil || (!st.pending && len(st.inbox) == 0)) {
			st.fetching = false
			st.mu.Unlock()
			return
		}
		st.mu.Unlock()
	}
}

// after returns evs's events after cursor from, sorted by cursor, without
// duplicates.
func after(evs []Event, from int64) []Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]Event, 0, len(evs))
	for _, ev := range evs {
		if int64(ev.Cursor) > from {
			out = append(out, ev)
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int { return cmp.Compare(a.Cursor, b.Cursor) })
	return slices.CompactFunc(out, func(a, b Event) bool { return a.Cursor == b.Cursor })
}

// contiguous reports whether evs (sorted, after from) are the cursors
// from+1, from+2, … without a gap.
func contiguous(evs []Event, from int64) bool {
	for i, ev := range evs {
		if int64(ev.Cursor) != from+int64(i)+1 {
			return false
		}
	}
	return true
}

// push hands a live subscriber the stream's new events without blocking.
// Only the stream's reader pushes, and only to live subscribers, so the
// events arrive in order; on a full buffer the subscriber stops being live
// and a catch-up goroutine takes over from its cursor.
func (h *Hub) push(s *Subscription, evs []Event) {
	st := s.st
	for i := range evs {
		ev := &evs[i]
		st.mu.Lock()
		seen := int64(ev.Cursor) <= s.last
		st.mu.Unlock()
		if seen {
			continue
		}
		err := h.hand(s, ev, nil)
		switch {
		case err == nil, errors.Is(err, errSkip):
			st.mu.Lock()
			s.last = int64(ev.Cursor)
			st.mu.Unlock()
		case errors.Is(err, errFull):
			st.mu.Lock()
			if s.ended {
				st.mu.Unlock()
				return
			}
			s.live, s.running = false, true
			h.wg.Add(1) // the reader itself is counted, so Close is still waiting
			st.mu.Unlock()
			go h.catchUp(s)
			return
		case errors.Is(err, errStopped):
			return
		default:
			h.end(s, err)
			return
		}
	}
}

// publishLoop sends queued hints on the bus.
func (h *Hub) publishLoop() {
	defer h.wg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case hint := <-h.pubq:
			ctx, cancel := context.WithTimeout(h.ctx, time.Second)
			err := h.bus.Publish(ctx, hint)
			cancel()
			if err != nil && h.ctx.Err() == nil {
				h.log.Debug("feed hint not published", slog.Any("err", err))
			}
		}
	}
}

// pollLoop is the safety net for lost hints: every PollInterval one query
// finds the users whose newest event is past their stream's head.
func (h *Hub) pollLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.opt.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.poll()
		}
	}
}

func (h *Hub) poll() {
	h.mu.Lock()
	heads := make(map[string]*stream, len(h.streams))
	for id, st := range h.streams {
		heads[id] = st
	}
	h.mu.Unlock()
	ids := make([]string, 0, len(heads))
	for id := range heads {
		ids = append(ids, id)
	}
	for chunk := range slices.Chunk(ids, 500) {
		var rows []struct {
			UserID string `json:"user_id"`
			Max    int64  `json:"max"`
		}
		err := h.client.FeedEvent.Query().Where(feedevent.UserIDIn(chunk...)).
			GroupBy(feedevent.FieldUserID).Aggregate(ent.Max(feedevent.FieldSeq)).
			Scan(viewer.System(h.ctx), &rows)
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Warn("feed poll failed", slog.Any("err", err))
			}
			return
		}
		for _, r := range rows {
			st := heads[r.UserID]
			if st == nil {
				continue
			}
			st.mu.Lock()
			behind := r.Max > st.head
			st.mu.Unlock()
			if behind {
				h.wake(st, true, nil)
			}
		}
	}
}
