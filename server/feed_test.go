package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// Live-feed tests: real PostgreSQL, real Redis, real websockets (coder/websocket
// as the client) and real SSE streams against httptest servers.

const (
	protoTransportWS = "graphql-transport-ws"
	protoGraphQLWS   = "graphql-ws"
)

// feedApp is one server instance.
type feedApp struct {
	*httptest.Server
	App *server.App
}

// startFeedApp starts an App on its own pool over the PostgreSQL schema at
// dbURL (migrated once by the caller), with Redis at redisURL ("" = the
// in-process bus) on channel.
func startFeedApp(t testing.TB, dbURL, redisURL, channel string, hub feed.Options) *feedApp {
	t.Helper()
	st, err := server.OpenPostgres(context.Background(), dbURL)
	require.NoError(t, err)
	cfg := servertest.Config()
	cfg.RedisURL = redisURL
	app, err := server.NewAppWithFeed(context.Background(), cfg, slog.New(slog.DiscardHandler), st,
		server.FeedOptions{Hub: hub, Channel: channel})
	require.NoError(t, err)
	hs := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		_ = app.Close()
	})
	return &feedApp{Server: hs, App: app}
}

// newFeedSchema returns a migrated, empty PostgreSQL schema's URL.
func newFeedSchema(t testing.TB) string {
	t.Helper()
	url := servertest.NewPostgresSchema(t)
	st, err := server.OpenPostgres(context.Background(), url)
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Migrate(context.Background())
	require.NoError(t, err)
	return url
}

func uniqueChannel() string {
	return "vitalgraph:feed:test:" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func (a *feedApp) user(t testing.TB, email string) string {
	t.Helper()
	id, err := server.EnsureUser(context.Background(), a.App.Store.Client, email, email, "USER")
	require.NoError(t, err)
	return id
}

// createInsight writes an insight and its feed event in one transaction as
// the user, the way the loop does, through this instance's Recorder.
func (a *feedApp) createInsight(t testing.TB, userID, metric string, grade evidence.Grade) string {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: userID, Role: viewer.RoleUser})
	tx, err := a.App.Store.Client.Tx(ctx)
	require.NoError(t, err)
	day := time.Now().UTC().Format(time.DateOnly)
	in, err := tx.Insight.Create().
		SetUserID(userID).SetMetric(metric).SetKind(insight.KindANOMALY).SetTitle(metric + " anomaly").
		SetStartDay(day).SetEndDay(day).SetDedupeKey(fmt.Sprintf("t:%s:%d", metric, time.Now().UnixNano())).
		SetEvidenceGrade(grade).SetConfidence(0.7).SetSampleSize(20).SetCoverage(0.8).
		Save(ctx)
	require.NoError(t, err)
	_, err = a.App.Recorder.Feed(ctx, tx, userID, feedevent.KindINSIGHT_CREATED, in.ID, map[string]any{"metric": metric})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	return in.ID
}

// events writes n AUDIT_EVENT feed events for userID through rec.
func (a *feedApp) events(t testing.TB, rec *record.Recorder, userID string, n int) {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: userID, Role: viewer.RoleUser})
	for i := range n {
		tx, err := a.App.Store.Client.Tx(ctx)
		require.NoError(t, err)
		_, err = rec.Feed(ctx, tx, userID, feedevent.KindAUDIT_EVENT, fmt.Sprintf("aud_%d", i), nil)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
}

// wsClient speaks graphql-transport-ws or the legacy graphql-ws.
type wsClient struct {
	t     testing.TB
	conn  *websocket.Conn
	proto string
}

// wsMsg is a protocol message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t testing.TB, baseURL, proto, userID string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{proto}})
	require.NoError(t, err)
	conn.SetReadLimit(1 << 22)
	c := &wsClient{t: t, conn: conn, proto: proto}
	t.Cleanup(func() { _ = conn.CloseNow() })
	init, _ := json.Marshal(map[string]any{"debugUser": userID})
	c.send(wsMsg{Type: "connection_init", Payload: init})
	m, err := c.read(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", m.Type, "payload: %s", m.Payload)
	return c
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(c.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, websocket.MessageText, b))
}

// read returns the next message that is not a keepalive, answering pings.
func (c *wsClient) read(timeout time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMsg{}, err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return wsMsg{}, err
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			pong, _ := json.Marshal(wsMsg{Type: "pong"})
			if err := c.conn.Write(ctx, websocket.MessageText, pong); err != nil {
				return wsMsg{}, err
			}
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(c.t, err)
	typ := "subscribe"
	if c.proto == protoGraphQLWS {
		typ = "start"
	}
	c.send(wsMsg{ID: id, Type: typ, Payload: p})
}

// result is the payload of a next/data message.
type result struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []servertest.Error         `json:"errors"`
}

// feedItem is a decoded FeedItem.
type feedItem struct {
	Cursor   string `json:"cursor"`
	Kind     string `json:"kind"`
	EntityID string `json:"entityID"`
}

// nextItem reads the next data message of subscription id and decodes its
// field into v. It fails on errors.
func (c *wsClient) nextItem(id, field string, v any, timeout time.Duration) {
	c.t.Helper()
	m, err := c.read(timeout)
	require.NoError(c.t, err)
	require.Equal(c.t, id, m.ID)
	require.Contains(c.t, []string{"next", "data"}, m.Type, "message %s: %s", m.Type, m.Payload)
	var r result
	require.NoError(c.t, json.Unmarshal(m.Payload, &r))
	require.Empty(c.t, r.Errors)
	require.NoError(c.t, json.Unmarshal(r.Data[field], v))
}

// requireQuiet asserts no data message arrives for a moment.
func (c *wsClient) requireQuiet() {
	c.t.Helper()
	m, err := c.read(400 * time.Millisecond)
	require.Error(c.t, err, "unexpected message %s: %s", m.Type, m.Payload)
	require.ErrorIs(c.t, err, context.DeadlineExceeded)
}

const feedSub = `subscription($after: FeedCursor, $kinds: [FeedEventKind!]) {
  feed(after: $after, kinds: $kinds) { cursor kind entityID createdAt payload }
}`

const insightSub = `subscription($after: FeedCursor, $minGrade: EvidenceGrade, $metrics: [String!]) {
  insightCreated(after: $after, minGrade: $minGrade, metrics: $metrics) {
    cursor
    insight { id metric evidenceGrade }
  }
}`

type insightItem struct {
	Cursor  string `json:"cursor"`
	Insight struct {
		ID            string `json:"id"`
		Metric        string `json:"metric"`
		EvidenceGrade string `json:"evidenceGrade"`
	} `json:"insight"`
}

func TestFeedTwoInstancesShareOneFeedOverRedis(t *testing.T) {
	t.Parallel()
	db, channel := newFeedSchema(t), uniqueChannel()
	noPoll := feed.Options{PollInterval: time.Hour} // Redis must carry it, not the poll
	a := startFeedApp(t, db, servertest.RedisURL(), channel, noPoll)
	b := startFeedApp(t, db, servertest.RedisURL(), channel, noPoll)
	u := a.user(t, "two@example.com")

	c := dialWS(t, b.URL, protoTransportWS, u)
	c.subscribe("1", insightSub, map[string]any{"after": "0", "minGrade": "C"})
	for i := range 5 {
		start := time.Now()
		grade := evidence.GradeB
		if i == 2 {
			grade = evidence.GradeD // below minGrade: skipped, not delivered
		}
		id := a.createInsight(t, u, "hrv_rmssd", grade)
		if grade == evidence.GradeD {
			continue
		}
		var got insightItem
		c.nextItem("1", "insightCreated", &got, time.Second)
		require.Less(t, time.Since(start), time.Second, "delivery from A to B within 1 s")
		require.Equal(t, strconv.Itoa(i+1), got.Cursor, "in order")
		require.Equal(t, id, got.Insight.ID)
		require.Equal(t, "B", got.Insight.EvidenceGrade)
	}
	c.requireQuiet()
}

func TestFeedResumeAfterMissingHundredEvents(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	a := startFeedApp(t, db, servertest.RedisURL(), uniqueChannel(), feed.Options{})
	u := a.user(t, "resume@example.com")

	c := dialWS(t, a.URL, protoTransportWS, u)
	c.subscribe("s", feedSub, map[string]any{"after": "0"})
	a.events(t, a.App.Recorder, u, 3)
	var last feedItem
	for i := range 3 {
		c.nextItem("s", "feed", &last, 5*time.Second)
		require.Equal(t, strconv.Itoa(i+1), last.Cursor)
	}
	require.NoError(t, c.conn.Close(websocket.StatusNormalClosure, "bye"))

	a.events(t, a.App.Recorder, u, 100) // missed while away

	c = dialWS(t, a.URL, protoTransportWS, u)
	c.subscribe("s", feedSub, map[string]any{"after": last.Cursor})
	for i := range 100 {
		var got feedItem
		c.nextItem("s", "feed", &got, 5*time.Second)
		require.Equal(t, strconv.Itoa(4+i), got.Cursor, "exactly the missed events, in order")
	}
	a.events(t, a.App.Recorder, u, 2) // then live
	for i := range 2 {
		var got feedItem
		c.nextItem("s", "feed", &got, 5*time.Second)
		require.Equal(t, strconv.Itoa(104+i), got.Cursor)
	}
	c.requireQuiet() // no duplicate
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	Event, ID string
	Data      json.RawMessage
}

// sseStream opens a subscription over SSE and returns its events.
func sseStream(t testing.TB, baseURL, userID, query string, vars map[string]any, lastEventID string) (<-chan sseEvent, func()) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-Debug-User", userID)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	out := make(chan sseEvent, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = json.RawMessage(strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out, func() { cancel(); client.CloseIdleConnections() }
}

func nextSSE(t testing.TB, events <-chan sseEvent, timeout time.Duration) (sseEvent, feedItem) {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "SSE stream ended")
		require.Equal(t, "next", ev.Event)
		var r result
		require.NoError(t, json.Unmarshal(ev.Data, &r))
		require.Empty(t, r.Errors)
		var it feedItem
		require.NoError(t, json.Unmarshal(r.Data["feed"], &it))
		return ev, it
	case <-time.After(timeout):
		require.FailNow(t, "no SSE event")
	}
	return sseEvent{}, feedItem{}
}

// TestFeedOnlyTheViewersEvents: user B's subscription never sees user A's
// events, over graphql-transport-ws, legacy graphql-ws and SSE.
func TestFeedOnlyTheViewersEvents(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	app := startFeedApp(t, db, servertest.RedisURL(), uniqueChannel(), feed.Options{})
	for _, transport := range []string{protoTransportWS, protoGraphQLWS, "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			ua, ub := app.user(t, transport+"-a@example.com"), app.user(t, transport+"-b@example.com")
			app.events(t, app.App.Recorder, ua, 3) // before B subscribes (replay)
			var next func() feedItem
			switch transport {
			case "sse":
				events, stop := sseStream(t, app.URL, ub, feedSub, map[string]any{"after": "0"}, "")
				defer stop()
				next = func() feedItem {
					ev, it := nextSSE(t, events, 5*time.Second)
					require.Equal(t, it.Cursor, ev.ID, "SSE id is the cursor")
					return it
				}
			default:
				c := dialWS(t, app.URL, transport, ub)
				c.subscribe("b", feedSub, map[string]any{"after": "0"})
				// B's insight subscription as well: A's insights never show.
				c.subscribe("i", insightSub, map[string]any{"after": "0"})
				next = func() feedItem {
					var it feedItem
					c.nextItem("b", "feed", &it, 5*time.Second)
					return it
				}
				defer func() {
					c.requireQuiet()
				}()
			}
			app.events(t, app.App.Recorder, ua, 5) // live, A's
			ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: ub, Role: viewer.RoleUser})
			app.createInsightFor(t, ua)
			tx, err := app.App.Store.Client.Tx(ctx)
			require.NoError(t, err)
			_, err = app.App.Recorder.Feed(ctx, tx, ub, feedevent.KindAUDIT_EVENT, "aud_b", nil)
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
			it := next()
			require.Equal(t, "1", it.Cursor, "B's own first event")
			require.Equal(t, "aud_b", it.EntityID)
		})
	}
}

func (a *feedApp) createInsightFor(t testing.TB, userID string) {
	t.Helper()
	a.createInsight(t, userID, "resting_hr", evidence.GradeA)
}

func TestFeedSSELastEventIDResumes(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	app := startFeedApp(t, db, "", "", feed.Options{}) // in-process bus
	u := app.user(t, "sse@example.com")
	app.events(t, app.App.Recorder, u, 5)
	// The header wins over the `after` argument, as on an EventSource reconnect.
	events, stop := sseStream(t, app.URL, u, feedSub, map[string]any{"after": "0"}, "3")
	defer stop()
	for _, want := range []string{"4", "5"} {
		ev, it := nextSSE(t, events, 5*time.Second)
		require.Equal(t, want, it.Cursor)
		require.Equal(t, want, ev.ID)
	}
	app.events(t, app.App.Recorder, u, 1)
	ev, it := nextSSE(t, events, 5*time.Second)
	require.Equal(t, "6", it.Cursor)
	require.Equal(t, "6", ev.ID)
}

func TestFeedErrors(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	app := startFeedApp(t, db, servertest.RedisURL(), uniqueChannel(), feed.Options{Retention: 7 * 24 * time.Hour})
	u := app.user(t, "errors@example.com")
	old := record.New(app.App.Feed)
	old.Now = func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }
	app.events(t, old, u, 2)

	c := dialWS(t, app.URL, protoTransportWS, u)
	var lastID string
	errorOf := func(id string) string {
		t.Helper()
		m, err := c.read(5 * time.Second)
		require.NoError(t, err)
		if id != "" {
			require.Equal(t, id, m.ID)
		}
		lastID = m.ID
		var errs []servertest.Error
		if m.Type == "error" {
			require.NoError(t, json.Unmarshal(m.Payload, &errs))
		} else {
			var r result
			require.NoError(t, json.Unmarshal(m.Payload, &r))
			errs = r.Errors
		}
		require.NotEmpty(t, errs, "message %s: %s", m.Type, m.Payload)
		return errs[0].Code()
	}
	drainComplete := func(id string) {
		t.Helper()
		m, err := c.read(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "complete", m.Type)
		require.Equal(t, id, m.ID)
	}

	t.Run("cursor older than retention", func(t *testing.T) {
		c.subscribe("old", feedSub, map[string]any{"after": "0"})
		require.Equal(t, feed.ECURSOREXPIRED, errorOf("old"))
		drainComplete("old")
	})
	t.Run("subscription cap per connection", func(t *testing.T) {
		for i := range 20 {
			c.subscribe("ok"+strconv.Itoa(i), feedSub, nil)
		}
		c.subscribe("over", feedSub, nil)
		// gqlgen resolves subscriptions concurrently: whichever comes 21st
		// is refused, and only that one.
		require.Equal(t, "ELIMIT", errorOf(""))
		drainComplete(lastID)
		c.requireQuiet()
	})
}

// TestFeedShutdownClosesSocketsWith1012: on shutdown (SIGTERM cancels
// Serve's context) websockets close with 1012 so clients resume elsewhere.
func TestFeedShutdownClosesSocketsWith1012(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	st, err := server.OpenPostgres(context.Background(), db)
	require.NoError(t, err)
	app, err := server.NewAppWithFeed(context.Background(), servertest.Config(), slog.New(slog.DiscardHandler), st, server.FeedOptions{})
	require.NoError(t, err)
	defer app.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()

	u, err := server.EnsureUser(context.Background(), st.Client, "bye@example.com", "bye", "USER")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	for _, proto := range []string{protoTransportWS, protoGraphQLWS} {
		c := dialWS(t, url, proto, u)
		c.subscribe("s", feedSub, map[string]any{"after": "0"})
		defer func() {
			for {
				m, err := c.read(10 * time.Second)
				if err != nil {
					require.Equal(t, websocket.StatusCode(1012), websocket.CloseStatus(err), "%s: %v", proto, err)
					return
				}
				require.NotEqual(t, "complete", m.Type, "%s: a subscription cut by shutdown must not be completed", proto)
			}
		}()
	}
	require.Eventually(t, func() bool { return app.Feed.Subscribers() == 2 }, 5*time.Second, 10*time.Millisecond)
	stop()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		require.FailNow(t, "Serve did not return")
	}
}

// TestFeedManySocketsAndNoGoroutineLeak runs 50 websocket subscribers (both
// subprotocols) and 10 SSE subscribers on one instance, checks each gets
// every event, then that no goroutine outlives them. It is not parallel so
// that goleak sees only its own goroutines.
func TestFeedManySocketsAndNoGoroutineLeak(t *testing.T) {
	db := newFeedSchema(t)
	app := startFeedApp(t, db, servertest.RedisURL(), uniqueChannel(), feed.Options{})
	u := app.user(t, "many@example.com")
	app.events(t, app.App.Recorder, u, 1) // warm the pools
	require.Eventually(t, func() bool { return app.App.Feed.Subscribers() == 0 }, 10*time.Second, 10*time.Millisecond)
	ignore := goleak.IgnoreCurrent()

	var clients []*wsClient
	for i := range 50 {
		proto := protoTransportWS
		if i%2 == 1 {
			proto = protoGraphQLWS
		}
		c := dialWS(t, app.URL, proto, u)
		c.subscribe("s", feedSub, map[string]any{"after": "1"})
		clients = append(clients, c)
	}
	type sse struct {
		events <-chan sseEvent
		stop   func()
	}
	var streams []sse
	for range 10 {
		ev, stop := sseStream(t, app.URL, u, feedSub, map[string]any{"after": "1"}, "")
		streams = append(streams, sse{ev, stop})
	}
	app.events(t, app.App.Recorder, u, 3)
	for _, c := range clients {
		for i := range 3 {
			var it feedItem
			c.nextItem("s", "feed", &it, 10*time.Second)
			require.Equal(t, strconv.Itoa(2+i), it.Cursor)
		}
	}
	for _, s := range streams {
		for i := range 3 {
			_, it := nextSSE(t, s.events, 10*time.Second)
			require.Equal(t, strconv.Itoa(2+i), it.Cursor)
		}
	}
	require.Equal(t, 60, app.App.Feed.Subscribers())

	for _, c := range clients {
		require.NoError(t, c.conn.Close(websocket.StatusNormalClosure, "bye"))
	}
	for _, s := range streams {
		s.stop()
		for range s.events { // drain until the reader goroutine ends
		}
	}
	require.Eventually(t, func() bool { return app.App.Feed.Subscribers() == 0 }, 10*time.Second, 10*time.Millisecond)
	// Every goroutine of the sockets ends; a closing socket's close
	// handshake may wait for its peer for a few seconds, so a loaded machine
	// gets time, but a leak (a goroutine that never ends) still fails.
	leak := goleak.Find(ignore)
	for deadline := time.Now().Add(30 * time.Second); leak != nil && time.Now().Before(deadline); leak = goleak.Find(ignore) {
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, leak)
}

// TestFeedEmbeddedDefault: with no REDIS_URL and no DATABASE_URL the same
// code runs on the in-process bus and SQLite.
func TestFeedEmbeddedDefault(t *testing.T) {
	t.Parallel()
	s := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	app := &feedApp{Server: s.Server, App: s.App}
	u := s.CreateUser(t, "embedded@example.com")
	c := dialWS(t, s.URL, protoTransportWS, u)
	c.subscribe("s", feedSub, map[string]any{"after": "0"})
	app.events(t, s.App.Recorder, u, 2)
	for i := range 2 {
		var it feedItem
		c.nextItem("s", "feed", &it, 5*time.Second)
		require.Equal(t, strconv.Itoa(i+1), it.Cursor)
	}
	app.createInsight(t, u, "sleep_duration", evidence.GradeA)
	var it feedItem
	c.nextItem("s", "feed", &it, 5*time.Second)
	require.Equal(t, "INSIGHT_CREATED", it.Kind)
}
