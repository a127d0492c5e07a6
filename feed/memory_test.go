package feed_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/feed"
)

// captured is an EventNotifier that keeps what the Recorder announces, so
// a test can hand it to the hub in any order.
type captured struct {
	mu    sync.Mutex
	calls [][]*ent.FeedEvent
}

func (c *captured) Notify(string) {}

func (c *captured) NotifyEvents(_ string, evs []*ent.FeedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, evs)
}

// TestCommittedEventsOutOfOrderKeepCursorOrder: announcements of committed
// events that arrive late, out of order or twice never make a subscriber
// skip, reorder or repeat a cursor (a gap is filled from the outbox), and
// an event given from memory is what a read of the outbox returns (the
// payload as stored JSON decodes, the commit time).
func TestCommittedEventsOutOfOrderKeepCursorOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{PollInterval: time.Hour})
	c := &captured{}
	rec := record.New(c)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := hub.Subscribe(ctx, u, 0, feed.Filter{})
	require.NoError(t, err)
	write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 5)
	require.Len(t, c.calls, 5)

	// 3 first (a gap: 1 and 2 come from the outbox), then 1 and 2 late,
	// then 3 again: each cursor once, in order.
	for _, i := range []int{2, 0, 1, 2} {
		hub.NotifyEvents(u, c.calls[i])
	}
	requireSeq(t, collect(t, sub, 3, 10*time.Second), 1)
	// 4 and 5 continue the window: from memory.
	hub.NotifyEvents(u, c.calls[3])
	hub.NotifyEvents(u, c.calls[4])
	got := collect(t, sub, 2, 10*time.Second)
	requireSeq(t, got, 4)
	requireQuiet(t, sub)

	rows, err := e.st.Client.FeedEvent.Query().Where(feedevent.UserID(u), feedevent.SeqGTE(4)).
		Order(ent.Asc(feedevent.FieldSeq)).All(viewer.System(ctx))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	for i, r := range rows {
		require.Equal(t, r.Payload, got[i].Payload, "the payload as the outbox holds it")
		require.IsType(t, float64(0), got[i].Payload["i"])
		require.True(t, r.CreatedAt.Equal(got[i].CreatedAt))
		require.Equal(t, r.EntityID, got[i].EntityID)
		require.Equal(t, r.Kind, got[i].Kind)
		require.JSONEq(t, fmt.Sprintf(`{"i": %d}`, 3+i), string(got[i].PayloadJSON()))
	}
}

// TestLocalCommitsAreNotReadBack: once a subscriber is live, the events
// this process commits reach it without a query of the outbox (the rows
// are known at COMMIT); before, every commit cost a read per user.
func TestLocalCommitsAreNotReadBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	var reads atomic.Int64
	drv := dialect.DebugWithContext(entsql.OpenDB(dialect.Postgres, e.st.DB), func(_ context.Context, args ...any) {
		if q := fmt.Sprint(args...); strings.Contains(q, "SELECT") && strings.Contains(q, "feed_events") {
			reads.Add(1)
		}
	})
	counted := ent.NewClient(ent.Driver(drv))
	hub := newHub(t, counted, feed.NewLocalBus(), feed.Options{PollInterval: time.Hour})
	rec := record.New(hub)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := hub.Subscribe(ctx, u, -1, feed.Filter{})
	require.NoError(t, err)
	write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 1)
	requireSeq(t, collect(t, sub, 1, 10*time.Second), 1)
	require.Positive(t, reads.Load(), "the subscription's own reads are counted")
	// The subscription's reads are done once its first event arrived.
	reads.Store(0)
	write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 10)
	requireSeq(t, collect(t, sub, 10, 10*time.Second), 2)
	require.Zero(t, reads.Load(), "reads of the outbox for events committed here")
}
