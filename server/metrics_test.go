package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// scrape reads the private listener's /metrics.
func scrape(t testing.TB, metricsURL string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(metricsURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// metricValue sums the samples of family name whose labels include want:
// counter and gauge values, histogram sample counts.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// observedServer is a dev-mode server whose logs (JSON, debug level) are
// captured and whose private listener runs on its own httptest server.
func observedServer(t *testing.T, st *server.Store, mutate func(*server.Config)) (*servertest.Server, string, *lockedBuffer) {
	t.Helper()
	cfg := servertest.Config()
	cfg.JobsQueue = fmt.Sprintf("test-loop-metrics-%d", time.Now().UnixNano())
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &lockedBuffer{}
	logCfg := cfg
	logCfg.EnvMode = server.ModeStaging // JSON lines
	logCfg.LogLevel = -4                // debug: every line a request can produce
	app, err := server.NewAppWithStore(context.Background(), cfg, server.NewLogger(logs, logCfg), st)
	require.NoError(t, err)
	hs := httptest.NewServer(app.Handler())
	ms := httptest.NewServer(app.Metrics.PrivateHandler())
	t.Cleanup(func() {
		hs.Close()
		ms.Close()
		_ = app.Close()
	})
	return &servertest.Server{Server: hs, App: app}, ms.URL, logs
}

// TestMetricsMoveWithAScriptedRun scrapes /metrics before and after a
// scripted sequence (sign up, ingest, a refused batch, experiment with an
// LLM narrative replaced for a claim violation, evaluation, loop run, a live
// subscription, a rejected alias bomb) and checks that each family moved by
// what the sequence did. The logs of the whole run must hold no email, no
// token and no health value.
func TestMetricsMoveWithAScriptedRun(t *testing.T) {
	t.Parallel()
	var llmCalls atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		llmCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"Cutting caffeine cures insomnia and proves you will always sleep better."}}]}`))
	}))
	defer fake.Close()
	srv, murl, logs := observedServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.LLM.BaseURL, c.LLM.Model, c.LLM.APIKey = fake.URL, "test-model", "sk-test"
		c.MetricsOperations = []string{"SignUp", "RunLoop"}
	})
	before := scrape(t, murl)
	delta := func(after map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
		return metricValue(after, name, labels) - metricValue(before, name, labels)
	}

	// Sign up (a named, allow-listed operation).
	const email = "metrics-person@example.com"
	signUp := srv.Do(t, "", `mutation SignUp($e: String!, $p: String!) { signUp(email: $e, password: $p) { accessToken refreshToken user { id } } }`,
		map[string]any{"e": email, "p": "correct horse battery"})
	var su struct {
		SignUp struct {
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
			User         struct{ ID string }
		} `json:"signUp"`
	}
	signUp.Decode(t, &su)
	uid := su.SignUp.User.ID
	require.NotEmpty(t, su.SignUp.AccessToken)

	// A live subscription over SSE: it sees the run's events.
	events, stop := sseStream(t, srv.URL, uid, feedSub, nil, "")
	defer stop()
	require.Eventually(t, func() bool {
		return metricValue(scrape(t, murl), "vitalgraph_feed_subscriptions_active", map[string]string{"transport": "sse"}) == 1
	}, 5*time.Second, 20*time.Millisecond, "the SSE subscription is counted")

	// A refused batch: two samples, one with a bad unit (health values
	// 123.456789 and 87.654321 must never reach the logs).
	bad := hrv(3, 123.456789)
	bad["unit"] = "furlongs"
	refused := srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{hrv(2, 87.654321), bad}})
	require.Equal(t, []string{"EINVALID"}, refused.Codes())

	// Experiment: ingest, start, adherence, evaluation with an LLM
	// narrative that overclaims (replaced by the template).
	fx := loadFixture(t, "g1")
	_, ev := runExperiment(t, srv, uid, fx, 0)
	require.True(t, ev.EvaluateIntervention.Narrative.Replaced)
	require.Positive(t, llmCalls.Load())

	// A loop run and an alias bomb.
	srv.Do(t, uid, `mutation RunLoop { runLoop { metrics } }`, nil).Decode(t, &struct{}{})
	bomb := srv.Do(t, uid, "query Bomb { me { "+aliases(40)+" } }", nil)
	require.Equal(t, []string{"ELIMIT"}, bomb.Codes())

	// Live events were handed to the subscriber.
	_, _ = nextSSE(t, events, 5*time.Second)

	after := scrape(t, murl)
	samples := float64(len(fx.samples()))
	cases := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"vitalgraph_graphql_operations_total", map[string]string{"type": "mutation", "operation": "SignUp"}, 1},
		{"vitalgraph_graphql_operations_total", map[string]string{"type": "mutation", "operation": "RunLoop"}, 1},
		{"vitalgraph_graphql_operations_total", map[string]string{"type": "query", "operation": "other"}, 1}, // the bomb: "Bomb" is not allow-listed
		{"vitalgraph_graphql_operations_total", map[string]string{"type": "subscription", "operation": "other"}, 1},
		{"vitalgraph_graphql_rejected_total", map[string]string{"limit": "aliases"}, 1},
		{"vitalgraph_graphql_errors_total", map[string]string{"code": "ELIMIT"}, 1},
		{"vitalgraph_graphql_errors_total", map[string]string{"code": "EINVALID"}, 1},
		{"vitalgraph_ingest_batches_total", map[string]string{"outcome": "stored"}, 1},
		{"vitalgraph_ingest_batches_total", map[string]string{"outcome": "rejected"}, 1},
		{"vitalgraph_ingest_samples_total", map[string]string{"outcome": "rejected"}, 2},
		{"vitalgraph_ingest_samples_total", nil, samples + 2},
		{"vitalgraph_ingest_problems_total", nil, 1},
		{"vitalgraph_llm_calls_total", map[string]string{"outcome": "replaced_violation"}, 1},
		{"vitalgraph_llm_call_duration_seconds", nil, 1},
		{"vitalgraph_narrative_duration_seconds", map[string]string{"narrator": "llm"}, 1},
		{"vitalgraph_decisions_total", map[string]string{"entity": "Evaluation", "action": "evaluate", "decision": "grade_B"}, 1},
		{"vitalgraph_decisions_total", map[string]string{"entity": "Narrative", "action": "replace", "decision": "claim_violation"}, 1},
		{"vitalgraph_decisions_total", map[string]string{"entity": "Intervention", "action": "start", "decision": "started"}, 1},
		{"vitalgraph_decisions_total", map[string]string{"entity": "IngestionBatch", "action": "ingest", "decision": "stored"}, 1},
		{"vitalgraph_loop_runs_total", map[string]string{"outcome": "ok"}, 1},
		{"vitalgraph_loop_duration_seconds", map[string]string{"stage": "total"}, 1},
		{"vitalgraph_loop_duration_seconds", map[string]string{"stage": "model"}, 1},
		{"vitalgraph_graphql_operation_cost", nil, delta(after, "vitalgraph_graphql_operations_total", nil)},
	}
	for _, c := range cases {
		require.InDelta(t, c.want, delta(after, c.name, c.labels), 1e-9, "%s%v", c.name, c.labels)
	}
	require.GreaterOrEqual(t, delta(after, "vitalgraph_claim_violations_total", nil), 1.0)
	require.GreaterOrEqual(t, delta(after, "vitalgraph_feed_events_delivered_total", nil), 1.0)
	require.GreaterOrEqual(t, delta(after, "vitalgraph_feed_delivery_lag_seconds", nil), 1.0)
	require.InDelta(t, delta(after, "vitalgraph_graphql_operations_total", nil)-1,
		delta(after, "vitalgraph_http_requests_total", map[string]string{"route": "/graphql"}), 1e-9, "every operation but the open subscription's request is one finished request")
	require.Positive(t, metricValue(after, "go_sql_open_connections", nil)+metricValue(after, "go_sql_idle_connections", nil), "database pool stats")
	require.Positive(t, metricValue(after, "go_goroutines", nil), "Go runtime")
	require.Zero(t, metricValue(after, "vitalgraph_jobs_dead", nil))
	require.InDelta(t, 1.0, metricValue(after, "vitalgraph_jobs_waiting", nil), 1e-9, "the ingest's debounced loop run waits in the queue")

	// The subscription ends: the gauge goes back.
	stop()
	require.Eventually(t, func() bool {
		return metricValue(scrape(t, murl), "vitalgraph_feed_subscriptions_active", map[string]string{"transport": "sse"}) == 0
	}, 5*time.Second, 20*time.Millisecond)

	// The logs: access lines carry the operation, the pseudonymous user and
	// the error code; nothing personal.
	out := logs.String()
	require.Contains(t, out, `"operation":"SignUp"`)
	require.Contains(t, out, `"error_code":"ELIMIT"`)
	require.Contains(t, out, `"user":"`+server.PseudonymousUserID(uid)+`"`)
	for _, secret := range []string{email, "@example.com", su.SignUp.AccessToken, su.SignUp.RefreshToken, "correct horse", "123.456789", "87.654321", "sk-test"} {
		require.NotContains(t, out, secret)
	}
	for _, s := range fx.samples()[:5] {
		require.NotContains(t, out, fmt.Sprintf(`%v`, s["value"])+`,`, "a health value in the logs")
	}
}

func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: id ", i)
	}
	return b.String()
}

// TestOperationLabelIsBounded sends 1,000 distinct operation names: the
// operation label keeps the allow-listed names and one "other".
func TestOperationLabelIsBounded(t *testing.T) {
	t.Parallel()
	srv, murl, _ := observedServer(t, servertest.NewSQLiteStore(t), func(c *server.Config) {
		c.MetricsOperations = []string{"Me"}
	})
	srv.Do(t, "", `query Me { me { id } }`, nil).Decode(t, &struct{}{})
	for i := range 1000 {
		srv.Do(t, "", fmt.Sprintf(`query Op%d { me { id } }`, i), nil).Decode(t, &struct{}{})
	}
	fams := scrape(t, murl)
	ops := fams["vitalgraph_graphql_operations_total"]
	require.NotNil(t, ops)
	names := map[string]float64{}
	for _, m := range ops.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "operation" {
				names[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	require.Equal(t, map[string]float64{"Me": 1, "other": 1000}, names)
	for name, f := range fams {
		if strings.HasPrefix(name, "vitalgraph_") {
			require.LessOrEqual(t, len(f.GetMetric()), 300, "%s has too many series", name)
		}
	}
}

// TestMetricsAreNotPublic: the public handler has no /metrics and no pprof;
// the private one has both.
func TestMetricsAreNotPublic(t *testing.T) {
	t.Parallel()
	srv, murl, _ := observedServer(t, servertest.NewSQLiteStore(t), nil)
	for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
	for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(murl + p)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		require.NotEmpty(t, body, p)
	}
}

// TestInsightMetricsByKindAndGrade: a loop run that creates insights counts
// each by action, kind and grade, exactly as the API then lists them.
func TestInsightMetricsByKindAndGrade(t *testing.T) {
	t.Parallel()
	srv, murl, _ := observedServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "insight-metrics@example.com")
	pinClock(srv, 60)
	before := scrape(t, murl)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": spikeSeries()}).Decode(t, &ingestOut{})
	runLoopOK(t, srv, uid)
	after := scrape(t, murl)
	delta := func(labels map[string]string) float64 {
		return metricValue(after, "vitalgraph_insights_total", labels) - metricValue(before, "vitalgraph_insights_total", labels)
	}

	var listed struct {
		Insights struct {
			Edges []struct {
				Node struct{ Kind, EvidenceGrade string }
			}
		}
	}
	srv.Do(t, uid, `query { insights(first: 100, minGrade: D) { edges { node { kind evidenceGrade } } } }`, nil).Decode(t, &listed)
	require.NotEmpty(t, listed.Insights.Edges, "the spike makes at least one insight")
	byKindGrade := map[[2]string]float64{}
	for _, e := range listed.Insights.Edges {
		byKindGrade[[2]string{e.Node.Kind, e.Node.EvidenceGrade}]++
	}
	for kg, n := range byKindGrade {
		require.InDelta(t, n, delta(map[string]string{"action": "create", "kind": kg[0], "grade": kg[1]}), 1e-9, "insights created %v", kg)
	}
	require.InDelta(t, float64(len(listed.Insights.Edges)), delta(map[string]string{"action": "create"}), 1e-9)
	require.InDelta(t, float64(len(listed.Insights.Edges)),
		metricValue(after, "vitalgraph_decisions_total", map[string]string{"entity": "Insight", "action": "create"})-
			metricValue(before, "vitalgraph_decisions_total", map[string]string{"entity": "Insight", "action": "create"}), 1e-9)
	t.Logf("insights created: %v", byKindGrade)
}
