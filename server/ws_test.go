package server_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestFeedIdenticalSubscriptionsShareOneExecution: graphql-transport-ws
// subscriptions of one user with the same document and variables (and no
// resume cursor) are one hub subscription, executed once, whose frames every
// socket gets, in order; a socket that leaves does not end it for the
// others, and a different filter or user is a subscription of its own.
func TestFeedIdenticalSubscriptionsShareOneExecution(t *testing.T) {
	t.Parallel()
	db := newFeedSchema(t)
	app := startFeedApp(t, db, servertest.RedisURL(), uniqueChannel(), feed.Options{})
	u, other := app.user(t, "group-a@example.com"), app.user(t, "group-b@example.com")
	var socks []*wsClient
	for i := range 6 {
		c := dialWS(t, app.URL, protoTransportWS, u)
		c.subscribe("s"+strconv.Itoa(i), feedSub, nil)
		socks = append(socks, c)
	}
	socks[0].subscribe("kinds", feedSub, map[string]any{"kinds": []string{"AUDIT_EVENT"}})
	o := dialWS(t, app.URL, protoTransportWS, other)
	o.subscribe("o", feedSub, nil)
	// The six identical ones, the filtered one, the other user's.
	require.Eventually(t, func() bool { return app.App.Feed.Subscribers() == 3 }, 10*time.Second, 10*time.Millisecond)

	// readAll reads n data messages of c, by subscription id, in order.
	readAll := func(c *wsClient, n int) map[string][]string {
		t.Helper()
		got := map[string][]string{}
		for range n {
			m, err := c.read(10 * time.Second)
			require.NoError(t, err)
			require.Equal(t, "next", m.Type, "%s: %s", m.Type, m.Payload)
			var r result
			require.NoError(t, json.Unmarshal(m.Payload, &r))
			require.Empty(t, r.Errors)
			var it feedItem
			require.NoError(t, json.Unmarshal(r.Data["feed"], &it))
			got[m.ID] = append(got[m.ID], it.Cursor)
		}
		return got
	}
	app.events(t, app.App.Recorder, u, 3)
	require.Equal(t, map[string][]string{"s0": {"1", "2", "3"}, "kinds": {"1", "2", "3"}}, readAll(socks[0], 6))
	for i, c := range socks[1:] {
		require.Equal(t, map[string][]string{"s" + strconv.Itoa(i+1): {"1", "2", "3"}}, readAll(c, 3))
	}

	// A socket completes its subscription: the others go on.
	socks[1].send(wsMsg{ID: "s1", Type: "complete"})
	require.NoError(t, socks[2].conn.Close(websocket.StatusNormalClosure, "bye"))
	require.Zero(t, pingPong(t, socks[1])) // the server handles a socket's messages in order: the complete is done
	app.events(t, app.App.Recorder, u, 2)
	for i, c := range socks {
		switch i {
		case 0:
			require.Equal(t, map[string][]string{"s0": {"4", "5"}, "kinds": {"4", "5"}}, readAll(c, 4))
		case 1, 2:
		default:
			require.Equal(t, map[string][]string{"s" + strconv.Itoa(i): {"4", "5"}}, readAll(c, 2))
		}
	}
	require.Zero(t, pingPong(t, socks[1]), "a completed subscription gets nothing more")
	require.Equal(t, 3, app.App.Feed.Subscribers())
	app.events(t, app.App.Recorder, other, 1)
	require.Equal(t, map[string][]string{"o": {"1"}}, readAll(o, 1))
	require.Zero(t, pingPong(t, o), "the other user's socket got only its own event")

	// When the last member leaves, the execution ends.
	for i, c := range socks {
		if i != 2 {
			require.NoError(t, c.conn.Close(websocket.StatusNormalClosure, "bye"))
		}
	}
	require.Eventually(t, func() bool { return app.App.Feed.Subscribers() == 1 }, 10*time.Second, 10*time.Millisecond)
}

// TestWebsocketProtocolErrors: a second connection_init closes with 4429,
// a subscription id in use with 4409 (graphql-transport-ws), a message
// before connection_init and an undecodable one with 1002.
func TestWebsocketProtocolErrors(t *testing.T) {
	t.Parallel()
	s := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	u := s.CreateUser(t, "protocol@example.com")
	closeCode := func(c *wsClient) websocket.StatusCode {
		t.Helper()
		for {
			if _, err := c.read(10 * time.Second); err != nil {
				return websocket.CloseStatus(err)
			}
		}
	}
	c := dialWS(t, s.URL, protoTransportWS, u)
	c.send(wsMsg{Type: "connection_init"})
	require.Equal(t, websocket.StatusCode(4429), closeCode(c))

	c = dialWS(t, s.URL, protoTransportWS, u)
	c.subscribe("a", feedSub, nil)
	c.subscribe("a", feedSub, nil)
	require.Equal(t, websocket.StatusCode(4409), closeCode(c))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, first := range []string{`{"type":"subscribe","id":"x","payload":{"query":"subscription { feed { cursor } }"}}`, `not json`} {
		conn, _, err := websocket.Dial(ctx, "ws"+s.URL[len("http"):]+"/graphql", &websocket.DialOptions{Subprotocols: []string{protoTransportWS}})
		require.NoError(t, err)
		require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(first)))
		_, _, err = conn.Read(ctx)
		require.Equal(t, websocket.StatusCode(1002), websocket.CloseStatus(err), "%s: %v", first, err)
		_ = conn.CloseNow()
	}
}

// pingPong sends a ping and reads until its pong; it returns how many data
// messages came before it.
func pingPong(t *testing.T, c *wsClient) int {
	t.Helper()
	c.send(wsMsg{Type: "ping"})
	data := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		require.NoError(t, err)
		var m wsMsg
		require.NoError(t, json.Unmarshal(b, &m))
		switch m.Type {
		case "pong":
			return data
		case "next":
			data++
		}
	}
}
