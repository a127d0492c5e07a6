package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// captureTransport keeps every event Sentry would send.
type captureTransport struct {
	mu     sync.Mutex
	events []*sentry.Event
}

func (c *captureTransport) Configure(sentry.ClientOptions)        {}
func (c *captureTransport) Flush(time.Duration) bool              { return true }
func (c *captureTransport) FlushWithContext(context.Context) bool { return true }
func (c *captureTransport) Close()                                {}
func (c *captureTransport) SendEvent(e *sentry.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func (c *captureTransport) all() []*sentry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*sentry.Event{}, c.events...)
}

// TestSentryEvents checks what reaches Sentry: client mistakes nothing; an
// internal error exactly one event with a pseudonymous user id, the request
// id and the operation name, and no token, email or health value.
func TestSentryEvents(t *testing.T) {
	tr := &captureTransport{}
	cfg := servertest.Config()
	cfg.EnvMode = server.ModeProduction
	require.NoError(t, server.InitSentryWithTransport(cfg, tr))
	t.Cleanup(func() { _ = sentry.Init(sentry.ClientOptions{}) })

	st := servertest.NewPostgresStore(t)
	e := newEdgeApp(t, st, nil)
	send := func(reqID, body string) string {
		rec := e.do(t, http.MethodPost, "/graphql", map[string]string{
			"Content-Type": "application/json", "Authorization": "Bearer " + e.Token, "X-Request-ID": reqID,
		}, []byte(body))
		return rec.Body.String()
	}
	// Client mistakes: no event.
	for _, b := range edgeSeeds() {
		send("client-mistake-0001", b)
	}
	send("client-mistake-0002", `{"query":"mutation { ingestObservations(input: [{metric: \"resting_hr\", value: 61.5, unit: \"bpm\", observedAt: \"yesterday\", localDay: \"2024-03-01\", source: \"manual\"}]) { inserted } }"}`)
	sentry.Flush(time.Second)
	require.Empty(t, tr.all(), "client mistakes are not reported")

	// An internal error: the narratives table is gone.
	_, err := st.DB.Exec(`DROP TABLE narratives CASCADE`)
	require.NoError(t, err)
	body := send("req-sentry-000042", `{"query":"query NarrativesOfSeventyOne($v: ID) { narratives(where: {idNEQ: $v}) { totalCount } }","operationName":"NarrativesOfSeventyOne","variables":{"v":"71.25"}}`)
	require.Contains(t, body, "EINTERNAL")
	require.NotContains(t, body, "narratives\" does not exist")
	sentry.Flush(time.Second)
	events := tr.all()
	require.Len(t, events, 1, "one event per internal error")
	ev := events[0]
	require.Equal(t, "req-sentry-000042", ev.Tags["request_id"])
	require.Equal(t, "NarrativesOfSeventyOne", ev.Tags["operation"])
	require.Equal(t, server.PseudonymousUserID(e.UserID), ev.User.ID)
	require.NotEqual(t, e.UserID, ev.User.ID)
	require.NotEmpty(t, ev.User.ID)
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	for _, secret := range []string{e.Token, "fuzz@example.com", e.UserID, "71.25", "61.5", "Bearer"} {
		require.NotContains(t, string(raw), secret)
	}
	require.Equal(t, 1, strings.Count(e.Log.String(), `"msg":"internal error"`), "one log line")
}
