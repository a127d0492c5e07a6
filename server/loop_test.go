package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func spikeSeries() []sample {
	var in []sample
	for d := 1; d <= 60; d++ {
		v := 55.0 + float64(d%5)
		if d == 58 {
			v = 90
		}
		in = append(in, rhr(d, v))
	}
	return in
}

// TestIngestionTriggersTheLoop: no runLoop call; the debounced background job
// (in-process, and asynq on Redis) creates the insight.
func TestIngestionTriggersTheLoop(t *testing.T) {
	t.Parallel()
	for name, redisURL := range map[string]string{"in-process": "", "redis": servertest.RedisURL()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
				c.JobsDebounce = 100 * time.Millisecond
				c.RedisURL = redisURL
			})
			uid := srv.CreateUser(t, "auto@example.com")
			pinClock(srv, 60)
			srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
			sys := viewer.System(context.Background())
			require.Eventually(t, func() bool {
				n, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid)).Count(sys)
				require.NoError(t, err)
				return n > 0
			}, 15*time.Second, 50*time.Millisecond, "the loop ran after ingestion without a manual call")
			// The background run was the system's.
			ev, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Action("create"), auditevent.EntityType("Insight")).First(sys)
			require.NoError(t, err)
			require.Equal(t, "system", ev.Actor)
			// A manual run right after creates nothing new.
			var lo loopOut
			srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
			require.Zero(t, lo.RunLoop.InsightsCreated)
		})
	}
}

// TestLoopRuntimeGuardrailIsEnforcedAndAudited sets a 1ns guardrail: the
// run is rolled back, the caller gets ELIMIT and the overrun is audited.
func TestLoopRuntimeGuardrailIsEnforcedAndAudited(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, b.Open(t), func(c *server.Config) { c.Guardrails.LoopTimeout = time.Nanosecond })
			uid := srv.CreateUser(t, "slow@example.com")
			pinClock(srv, 60)
			srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
			resp := srv.Do(t, uid, runLoop, nil)
			require.Equal(t, []string{"ELIMIT"}, resp.Codes())
			sys := viewer.System(context.Background())
			n, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid)).Count(sys)
			require.NoError(t, err)
			require.Zero(t, n, "nothing from the overrunning run is kept")
			timeouts, err := srv.App.Store.Client.AuditEvent.Query().
				Where(auditevent.UserID(uid), auditevent.Action("loop"), auditevent.Decision("timeout")).Count(sys)
			require.NoError(t, err)
			require.Equal(t, 1, timeouts)
		})
	}
}
