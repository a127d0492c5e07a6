package feed_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestMain fails the package when any goroutine (hub loops, pumps, bus
// connections) outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql and lib/pq keep no goroutines after Close; go-redis's
		// pool and the testing framework's own are ignored here.
		goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
	)
}

// env is one test's database, users and recorder.
type env struct {
	st    *server.Store
	users []string
}

func newEnv(t testing.TB, users int) *env {
	t.Helper()
	st := servertest.NewPostgresStore(t)
	t.Cleanup(func() { _ = st.Close() })
	e := &env{st: st}
	for i := range users {
		id, err := server.EnsureUser(context.Background(), st.Client, fmt.Sprintf("u%d@example.com", i), "u", user.RoleUSER)
		require.NoError(t, err)
		e.users = append(e.users, id)
	}
	return e
}

// write commits n feed events for userID through the Recorder, one
// transaction each, as that user.
func write(t testing.TB, c *ent.Client, rec *record.Recorder, userID string, kind feedevent.Kind, n int) {
	t.Helper()
	require.NoError(t, writeErr(c, rec, userID, kind, n))
}

func writeErr(c *ent.Client, rec *record.Recorder, userID string, kind feedevent.Kind, n int) error {
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: userID, Role: viewer.RoleUser})
	for i := range n {
		tx, err := c.Tx(ctx)
		if err != nil {
			return err
		}
		if _, err := rec.Feed(ctx, tx, userID, kind, fmt.Sprintf("ent_%d", i), map[string]any{"i": i}); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func newHub(t testing.TB, c *ent.Client, bus feed.Bus, opt feed.Options) *feed.Hub {
	t.Helper()
	h := feed.NewHub(c, bus, opt)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// collect reads from sub until it has want events or timeout.
func collect(t testing.TB, sub *feed.Subscription, want int, timeout time.Duration) []*feed.Event {
	t.Helper()
	got, err := collectErr(sub, want, timeout)
	require.NoError(t, err)
	return got
}

func collectErr(sub *feed.Subscription, want int, timeout time.Duration) ([]*feed.Event, error) {
	var got []*feed.Event
	deadline := time.After(timeout)
	for len(got) < want {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return got, fmt.Errorf("subscription closed after %d events: %w", len(got), sub.Err())
			}
			got = append(got, ev)
		case <-deadline:
			return got, fmt.Errorf("timed out with %d of %d events", len(got), want)
		}
	}
	return got, nil
}

func requireSeq(t testing.TB, evs []*feed.Event, from int64) {
	t.Helper()
	for i, ev := range evs {
		require.Equal(t, feed.Cursor(from+int64(i)), ev.Cursor, "event %d", i)
	}
}

// requireQuiet asserts nothing more arrives for a short while.
func requireQuiet(t testing.TB, sub *feed.Subscription) {
	t.Helper()
	select {
	case ev := <-sub.C:
		require.Nil(t, ev, "unexpected extra event")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestReplayThenTailHasNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{})
	rec := record.New(hub)
	u := e.users[0]
	write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 5)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := hub.Subscribe(ctx, u, 2, feed.Filter{})
	require.NoError(t, err)
	// Writes race with the replay: the seam must hold.
	werr := make(chan error, 1)
	go func() { werr <- writeErr(e.st.Client, rec, u, feedevent.KindAUDIT_EVENT, 20) }()
	got := collect(t, sub, 23, 10*time.Second)
	require.NoError(t, <-werr)
	requireSeq(t, got, 3)
	requireQuiet(t, sub)
	require.Equal(t, u, got[0].UserID)

	live, err := hub.Subscribe(ctx, u, -1, feed.Filter{Kinds: []feedevent.Kind{feedevent.KindEVALUATION_CREATED}})
	require.NoError(t, err)
	write(t, e.st.Client, rec, u, feedevent.KindAUDIT_EVENT, 1)
	write(t, e.st.Client, rec, u, feedevent.KindEVALUATION_CREATED, 1)
	got = collect(t, live, 1, 5*time.Second)
	require.Equal(t, feed.Cursor(27), got[0].Cursor)
	require.Equal(t, feedevent.KindEVALUATION_CREATED, got[0].Kind)

	cancel()
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestOnlyTheUsersOwnEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{})
	rec := record.New(hub)
	a, b := e.users[0], e.users[1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subB, err := hub.Subscribe(ctx, b, 0, feed.Filter{})
	require.NoError(t, err)
	write(t, e.st.Client, rec, a, feedevent.KindINSIGHT_CREATED, 10)
	write(t, e.st.Client, rec, b, feedevent.KindINSIGHT_CREATED, 2)
	got := collect(t, subB, 2, 5*time.Second)
	for _, ev := range got {
		require.Equal(t, b, ev.UserID)
	}
	requireQuiet(t, subB)
}

func TestCursorErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	old, pruned, fine := e.users[0], e.users[1], e.users[2]
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{Retention: 7 * 24 * time.Hour})
	// Events older than the retention.
	rec := record.New(hub)
	rec.Now = func() time.Time { return time.Now().Add(-10 * 24 * time.Hour) }
	write(t, e.st.Client, rec, old, feedevent.KindAUDIT_EVENT, 3)
	// Recent events, some of them pruned.
	rec = record.New(hub)
	write(t, e.st.Client, rec, pruned, feedevent.KindAUDIT_EVENT, 5)
	_, err := e.st.DB.Exec(`DELETE FROM feed_events WHERE user_id = $1 AND seq <= 3`, pruned)
	require.NoError(t, err)
	write(t, e.st.Client, rec, fine, feedevent.KindAUDIT_EVENT, 2)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name  string
		user  string
		after feed.Cursor
		code  string
	}{
		{"older than retention", old, 0, feed.ECURSOREXPIRED},
		{"pruned", pruned, 1, feed.ECURSOREXPIRED},
		{"just before the oldest retained", pruned, 3, ""},
		{"ahead of the feed", fine, 3, engine.EINVALID},
		{"at the head", fine, 2, ""},
		{"from the start", fine, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hub.Subscribe(ctx, tc.user, tc.after, feed.Filter{})
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			var ee *engine.Error
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tc.code, ee.Code)
		})
	}
}

func TestSlowConsumerIsCutOffWithoutStallingOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	// The slow subscriber never reads, so it is cut off whatever the
	// timeout; a timeout of seconds keeps the fast one (which reads as fast
	// as the machine lets it) from being cut off on a loaded machine.
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{Buffer: 2, SlowConsumerTimeout: 2 * time.Second})
	rec := record.New(hub)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, err := hub.Subscribe(ctx, u, 0, feed.Filter{})
	require.NoError(t, err)
	fast, err := hub.Subscribe(ctx, u, 0, feed.Filter{})
	require.NoError(t, err)
	write(t, e.st.Client, rec, u, feedevent.KindAUDIT_EVENT, 20)
	requireSeq(t, collect(t, fast, 20, 10*time.Second), 1)

	// The slow one got its buffer's worth, then was closed with ELIMIT.
	require.Eventually(t, func() bool { return hub.Subscribers() == 1 }, 10*time.Second, 10*time.Millisecond)
	n := 0
	for range slow.C {
		n++
	}
	require.Equal(t, 2, n)
	var ee *engine.Error
	require.ErrorAs(t, slow.Err(), &ee)
	require.Equal(t, engine.ELIMIT, ee.Code)
	require.Contains(t, ee.Message, "slow consumer")
}

func TestThousandSubscribersEachGetEveryEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{})
	rec := record.New(hub)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const subs, events = 1000, 5
	all := make([]*feed.Subscription, subs)
	for i := range all {
		s, err := hub.Subscribe(ctx, u, 0, feed.Filter{})
		require.NoError(t, err)
		all[i] = s
	}
	write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, events)
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range events {
				select {
				case ev := <-s.C:
					if ev == nil || ev.Cursor != feed.Cursor(i+1) {
						errs <- fmt.Errorf("event %d: %+v", i, ev)
						return
					}
				case <-time.After(20 * time.Second):
					errs <- fmt.Errorf("timed out at event %d", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	cancel()
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, 10*time.Second, 10*time.Millisecond)
}

// redisClient returns a client of the shared test Redis.
func redisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestTwoHubsOverRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	// Two instances: separate pools, one schema, one Redis channel.
	st2, err := server.OpenPostgres(context.Background(), schemaURL(t, e.st))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st2.Close() })
	channel := "vitalgraph:feed:test:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	slowPoll := feed.Options{PollInterval: time.Hour} // prove Redis delivers, not the poll
	hubA := newHub(t, e.st.Client, feed.NewRedisBus(redisClient(t, servertest.RedisURL()), channel, nil), slowPoll)
	hubB := newHub(t, st2.Client, feed.NewRedisBus(redisClient(t, servertest.RedisURL()), channel, nil), slowPoll)
	rec := record.New(hubA)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := hubB.Subscribe(ctx, u, -1, feed.Filter{})
	require.NoError(t, err)
	for i := range 5 {
		start := time.Now()
		write(t, e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 1)
		got := collect(t, sub, 1, time.Second)
		require.Equal(t, feed.Cursor(i+1), got[0].Cursor)
		require.Less(t, time.Since(start), time.Second)
	}
}

// schemaURL returns the URL of the test schema behind st.
func schemaURL(t testing.TB, st *server.Store) string {
	t.Helper()
	var schema string
	require.NoError(t, st.DB.QueryRow(`SELECT current_schema()`).Scan(&schema))
	return servertest.PostgresURL() + "&search_path=" + schema
}

// TestRedisRestart kills this test's own redis-server (SIGKILL) while
// events are being written and starts it again on the same port: every
// subscriber on both instances ends with every event exactly once, in
// order, and no write fails. The poll is off (one hour), so the resync
// after the reconnect is what recovers the hints lost while Redis was down.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	bin := os.Getenv("REDIS_SERVER_BIN")
	if bin == "" {
		bin = "redis-server"
	}
	port := sparePort(t)
	srv := startRedisNoFail(bin, port)
	require.NotNil(t, srv, "starting %s (set REDIS_SERVER_BIN)", bin)
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	e := newEnv(t, 1)
	st2, err := server.OpenPostgres(context.Background(), schemaURL(t, e.st))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st2.Close() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opt := feed.Options{PollInterval: time.Hour}
	hubA := newHub(t, e.st.Client, feed.NewRedisBus(redisClient(t, url), "", nil), opt)
	hubB := newHub(t, st2.Client, feed.NewRedisBus(redisClient(t, url), "", nil), opt)
	rec := record.New(hubA)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var subs []*feed.Subscription
	for _, h := range []*feed.Hub{hubA, hubB, hubB} {
		s, err := h.Subscribe(ctx, u, 0, feed.Filter{})
		require.NoError(t, err)
		subs = append(subs, s)
	}

	// 20 events with Redis up, 20 while it is down (their hints are lost),
	// then Redis comes back and nothing more is written: only the resync
	// after B's reconnect can deliver the last 20 to B.
	const total = 40
	werr := make(chan error, 1)
	restarted := make(chan *exec.Cmd, 1)
	go func() {
		defer func() { restarted <- startRedisNoFail(bin, port) }()
		for i := range total {
			if err := writeErr(e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, 1); err != nil {
				werr <- err
				return
			}
			if i == 19 {
				_ = srv.Process.Kill()
				_ = srv.Wait()
			}
			time.Sleep(10 * time.Millisecond)
		}
		werr <- nil
	}()
	type result struct {
		got []*feed.Event
		err error
	}
	results := make(chan result, len(subs))
	for _, s := range subs {
		go func() {
			got, err := collectErr(s, total, 60*time.Second)
			results <- result{got, err}
		}()
	}
	require.NoError(t, <-werr, "writes must not fail while Redis is down")
	srv2 := <-restarted
	require.NotNil(t, srv2, "redis-server did not restart")
	t.Cleanup(func() { _ = srv2.Process.Kill(); _ = srv2.Wait() })
	for range subs {
		r := <-results
		require.NoError(t, r.err)
		requireSeq(t, r.got, 1)
	}
	for _, s := range subs {
		requireQuiet(t, s)
	}
}

// startRedisNoFail starts redis-server on port and waits until it accepts
// connections; nil when it does not within 10 s.
func startRedisNoFail(bin string, port int) *exec.Cmd {
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if cmd.Start() != nil {
		return nil
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			_ = c.Close()
			return cmd
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil
}

func sparePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOneReaderAtATimeKeepsOrder: events committed one by one while a
// thousand live subscribers are being served; every subscriber gets every
// cursor in order. A second reader that started while the first was still
// pushing would hand newer events first and the older ones would be lost.
func TestOneReaderAtATimeKeepsOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	hub := newHub(t, e.st.Client, feed.NewLocalBus(), feed.Options{})
	rec := record.New(hub)
	u := e.users[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const subs, events = 1000, 40
	all := make([]*feed.Subscription, subs)
	for i := range all {
		s, err := hub.Subscribe(ctx, u, 0, feed.Filter{})
		require.NoError(t, err)
		all[i] = s
	}
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range events {
				select {
				case ev := <-s.C:
					if ev == nil || ev.Cursor != feed.Cursor(i+1) {
						errs <- fmt.Errorf("event %d: got cursor %v", i+1, ev)
						return
					}
				case <-time.After(30 * time.Second):
					errs <- fmt.Errorf("timed out at event %d", i+1)
					return
				}
			}
		}()
	}
	// Eight writers commit at once, and every commit wakes the stream:
	// readers overlap if they can.
	var writers sync.WaitGroup
	werrs := make(chan error, 8)
	for range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			werrs <- writeErr(e.st.Client, rec, u, feedevent.KindINSIGHT_CREATED, events/8)
		}()
	}
	writers.Wait()
	close(werrs)
	for err := range werrs {
		require.NoError(t, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
