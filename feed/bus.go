package feed

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// Hint says that a user may have new feed events. It is only a wake-up
// call: the events themselves are always read from the database. Seq is the
// newest seq the sender knows of, 0 when unknown.
type Hint struct {
	UserID string
	Seq    int64
}

// encode is the wire form of a hint: "<userID>" or "<userID> <seq>".
func (h Hint) encode() string {
	if h.Seq <= 0 {
		return h.UserID
	}
	return h.UserID + " " + strconv.FormatInt(h.Seq, 10)
}

func decodeHint(s string) (Hint, bool) {
	id, seq, _ := strings.Cut(strings.TrimSpace(s), " ")
	if id == "" || len(id) > 64 {
		return Hint{}, false
	}
	n, _ := strconv.ParseInt(seq, 10, 64)
	return Hint{UserID: id, Seq: n}, true
}

// Handler receives what a Bus delivers. Its methods must not block.
type Handler interface {
	// Hint is called for every hint received (including this instance's own).
	Hint(h Hint)
	// Resync is called whenever the bus subscription is (re)established:
	// hints may have been lost before it, so every stream must re-read the
	// database from its cursor.
	Resync()
}

// Bus carries hints between server instances.
type Bus interface {
	// Publish sends a hint to every instance. It returns an error when the
	// hint could not be sent; the caller may drop it (the safety poll and
	// resync cover lost hints).
	Publish(ctx context.Context, h Hint) error
	// Run delivers hints to h until ctx is done, reconnecting as needed and
	// calling h.Resync after every (re)subscription. It returns when ctx is
	// done.
	Run(ctx context.Context, h Handler) error
}

// LocalBus is the in-process Bus used when REDIS_URL is empty: it delivers
// hints to every Hub running on it in this process.
type LocalBus struct {
	mu       sync.Mutex
	handlers map[*Handler]struct{}
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{handlers: map[*Handler]struct{}{}} }

// Publish implements Bus.
func (b *LocalBus) Publish(_ context.Context, h Hint) error {
	b.mu.Lock()
	hs := make([]Handler, 0, len(b.handlers))
	for k := range b.handlers {
		hs = append(hs, *k)
	}
	b.mu.Unlock()
	for _, x := range hs {
		x.Hint(h)
	}
	return nil
}

// Run implements Bus.
func (b *LocalBus) Run(ctx context.Context, h Handler) error {
	key := &h
	b.mu.Lock()
	b.handlers[key] = struct{}{}
	b.mu.Unlock()
	h.Resync()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.handlers, key)
	b.mu.Unlock()
	return nil
}
