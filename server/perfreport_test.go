package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const perfReportQuery = `query($w: Int) { performanceReport(windowHours: $w) {
  windowHours withinLimits
  limits { loopTimeoutMs narrativeTimeoutMs insightsPerDay ingestMaxBatch experimentsPerMetric attributionLagDays }
  loop { samples p50Ms p99Ms limitMs withinLimit }
  narrative { samples p50Ms p99Ms limitMs withinLimit }
  breaches { guardrail count }
} }`

type timingOut struct {
	Samples     int      `json:"samples"`
	P50Ms       *float64 `json:"p50Ms"`
	P99Ms       *float64 `json:"p99Ms"`
	LimitMs     int      `json:"limitMs"`
	WithinLimit bool     `json:"withinLimit"`
}

type perfReportOut struct {
	PerformanceReport struct {
		WindowHours  int  `json:"windowHours"`
		WithinLimits bool `json:"withinLimits"`
		Limits       struct {
			LoopTimeoutMs      int `json:"loopTimeoutMs"`
			NarrativeTimeoutMs int `json:"narrativeTimeoutMs"`
			InsightsPerDay     int `json:"insightsPerDay"`
		} `json:"limits"`
		Loop      timingOut `json:"loop"`
		Narrative timingOut `json:"narrative"`
		Breaches  []struct {
			Guardrail string `json:"guardrail"`
			Count     int    `json:"count"`
		} `json:"breaches"`
	} `json:"performanceReport"`
}

// TestPerformanceReport: admins only; it reports the configured limits, the
// loop runs' p50/p99 and the loop timeouts of the window, and says whether
// the deployment is within its limits.
func TestPerformanceReport(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.Guardrails.LoopTimeout = 250 * time.Millisecond
		c.Guardrails.InsightsPerDay = 7
	})
	uid := srv.CreateUser(t, "perf-user@example.com")
	admin, err := server.EnsureUser(context.Background(), srv.App.Store.Client, "perf-admin@example.com", "Admin", user.RoleADMIN)
	require.NoError(t, err)

	require.Equal(t, []string{"EFORBIDDEN"}, srv.Do(t, uid, perfReportQuery, nil).Codes())
	require.Equal(t, []string{"EINVALID"}, srv.Do(t, admin, perfReportQuery, map[string]any{"w": 0}).Codes())
	require.Equal(t, []string{"EINVALID"}, srv.Do(t, admin, perfReportQuery, map[string]any{"w": 721}).Codes())

	var empty perfReportOut
	srv.Do(t, admin, perfReportQuery, nil).Decode(t, &empty)
	r := empty.PerformanceReport
	require.Equal(t, 24, r.WindowHours)
	require.Equal(t, 250, r.Limits.LoopTimeoutMs)
	require.Equal(t, 7, r.Limits.InsightsPerDay)
	require.Equal(t, 3000, r.Limits.NarrativeTimeoutMs)
	require.Zero(t, r.Loop.Samples)
	require.Nil(t, r.Loop.P99Ms)
	require.True(t, r.WithinLimits)

	// Two loop runs within the limit.
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
	for range 2 {
		srv.Do(t, uid, runLoop, nil).Decode(t, &loopOut{})
	}
	var ok perfReportOut
	srv.Do(t, admin, perfReportQuery, map[string]any{"w": 1}).Decode(t, &ok)
	r = ok.PerformanceReport
	require.Equal(t, 2, r.Loop.Samples)
	require.NotNil(t, r.Loop.P50Ms)
	require.NotNil(t, r.Loop.P99Ms)
	require.LessOrEqual(t, *r.Loop.P50Ms, *r.Loop.P99Ms)
	require.Positive(t, *r.Loop.P99Ms)
	require.Less(t, *r.Loop.P99Ms, 250.0)
	require.True(t, r.Loop.WithinLimit)
	require.True(t, r.WithinLimits)
	for _, b := range r.Breaches {
		require.Zero(t, b.Count, b.Guardrail)
	}

	// A loop timeout (audited by the runner) breaks the limits.
	srv.App.Loop.Timeout = time.Nanosecond
	require.Equal(t, []string{"ELIMIT"}, srv.Do(t, uid, runLoop, nil).Codes())
	var breached perfReportOut
	srv.Do(t, admin, perfReportQuery, nil).Decode(t, &breached)
	r = breached.PerformanceReport
	require.Equal(t, 3, r.Loop.Samples)
	require.False(t, r.WithinLimits)
	counts := map[string]int{}
	for _, b := range r.Breaches {
		counts[b.Guardrail] = b.Count
	}
	require.Equal(t, map[string]int{"loop_timeout": 1, "narrative_timeout": 0, "insights_per_day": 0}, counts)
}
