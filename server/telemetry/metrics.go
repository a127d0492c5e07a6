// Package telemetry holds Vitalgraph's operational signals: the Prometheus
// metric families (one definition each, bounded labels only, no user ids),
// the private listener that serves /metrics and net/http/pprof, and the
// OpenTelemetry tracer setup (off unless OTEL_* is set). The server wires
// it; app/ and feed/ only see small hook interfaces they declare themselves.
// docs/observability.md lists every family, the SLOs and the alerts.
package telemetry

import (
	"database/sql"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// Namespace prefixes every family.
const Namespace = "vitalgraph"

// OtherOperation is the operation label of any operation whose name is not
// in the allow-list (and of anonymous operations): the label set stays
// bounded whatever clients send.
const OtherOperation = "other"

// Bounded label vocabularies.
var (
	routes          = []string{"/graphql", "/healthz", "/readyz", "/exports", "other"}
	errorCodes      = []string{"EINVALID", "ENOTFOUND", "EUNAUTHORIZED", "EFORBIDDEN", "ECONFLICT", "ELIMIT", "EINTERNAL", "EUNAVAILABLE", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "FEED_CURSOR_EXPIRED"}
	limitNames      = []string{"depth", "cost", "aliases", "root_fields", "fields", "introspection", "rate", "body_size", "allow_list", "other"}
	llmOutcomes     = []string{"kept", "replaced_violation", "replaced_timeout", "error", "canceled"}
	ingestOutcomes  = []string{"inserted", "duplicate", "missing", "rejected"}
	feedTransports  = []string{"websocket", "sse"}
	jobOutcomes     = []string{"ok", "error"}
	loopStages      = []string{"model", "evaluate", "total"}
	decisionLimit   = 200 // distinct (entity, action, decision) triples kept; more go to "other"
	latencyBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	slowBuckets     = []float64{.01, .05, .1, .25, .5, 1, 2, 3, 5, 10, 30}
	costBuckets     = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}
	depthBuckets    = []float64{1, 2, 3, 4, 5, 6, 8, 10, 12, 16}
	feedLagBuckets  = []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10}
	batchSizeBucket = []float64{1, 10, 50, 100, 250, 500, 1000, 5000}
)

// Metrics are the server's metric families on one registry.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests     *prometheus.CounterVec   // route, code
	HTTPDuration     *prometheus.HistogramVec // route
	Operations       *prometheus.CounterVec   // type, operation
	OperationSeconds *prometheus.HistogramVec // type, operation
	Errors           *prometheus.CounterVec   // code
	OperationCost    prometheus.Histogram
	OperationDepth   prometheus.Histogram
	Rejected         *prometheus.CounterVec // limit

	LoopSeconds      *prometheus.HistogramVec // stage
	LoopRuns         *prometheus.CounterVec   // outcome
	GuardrailBreach  *prometheus.CounterVec   // guardrail
	Decisions        *prometheus.CounterVec   // entity, action, decision
	Insights         *prometheus.CounterVec   // action, kind, grade
	NarrativeSeconds *prometheus.HistogramVec // source
	ClaimViolations  prometheus.Counter

	LLMCalls   *prometheus.CounterVec // outcome
	LLMSeconds prometheus.Histogram

	IngestSamples  *prometheus.CounterVec // outcome
	IngestBatches  *prometheus.CounterVec // outcome
	IngestProblems *prometheus.CounterVec // code
	IngestBatch    prometheus.Histogram

	FeedSubscriptions *prometheus.GaugeVec // transport
	FeedLag           prometheus.Histogram
	FeedDelivered     prometheus.Counter
	FeedReplayed      prometheus.Counter
	FeedCutOffs       prometheus.Counter

	JobRuns    *prometheus.CounterVec // outcome
	JobSeconds prometheus.Histogram

	Timings *Timings // recent loop and narrative durations (the performance report)

	decisionsMu   sync.Mutex
	decisionsSeen map[[3]string]bool
}

// New creates every family on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{Registry: reg, decisionsSeen: map[[3]string]bool{}, Timings: NewTimings()}
	f := factory{reg}
	m.HTTPRequests = f.counterVec("http_requests_total", "HTTP requests by route and status code.", "route", "code")
	m.HTTPDuration = f.histogramVec("http_request_duration_seconds", "HTTP request latency by route (subscriptions excluded: they last as long as the client stays).", latencyBuckets, "route")
	m.Operations = f.counterVec("graphql_operations_total", "GraphQL operations by type and operation name (names outside the allow-list are \"other\").", "type", "operation")
	m.OperationSeconds = f.histogramVec("graphql_operation_duration_seconds", "GraphQL operation latency (queries and mutations) by type and operation name.", latencyBuckets, "type", "operation")
	m.Errors = f.counterVec("graphql_errors_total", "Errors returned to clients, by error code (extensions.code).", "code")
	m.OperationCost = f.histogram("graphql_operation_cost", "Connection-aware cost of accepted and refused operations.", costBuckets)
	m.OperationDepth = f.histogram("graphql_operation_depth", "Field depth of accepted and refused operations.", depthBuckets)
	m.Rejected = f.counterVec("graphql_rejected_total", "Requests refused by an abuse limit, by limit.", "limit")

	m.LoopSeconds = f.histogramVec("loop_duration_seconds", "Loop run time per user by stage (model, evaluate, total).", slowBuckets, "stage")
	m.LoopRuns = f.counterVec("loop_runs_total", "Loop runs by outcome (ok, error, timeout).", "outcome")
	m.GuardrailBreach = f.counterVec("guardrail_breaches_total", "Guardrail breaches by guardrail (loop_timeout, insights_per_day, narrative_timeout).", "guardrail")
	m.Decisions = f.counterVec("decisions_total", "Audited decisions after commit, by entity type, action and decision (insights created/skipped/updated, evaluations by grade, narratives by source, ...).", "entity", "action", "decision")
	m.Insights = f.counterVec("insights_total", "Insight decisions by action (create, update, skip, suppress), insight kind and evidence grade (none when not graded).", "action", "kind", "grade")
	m.NarrativeSeconds = f.histogramVec("narrative_duration_seconds", "Narrative generation time by narrator (template, llm).", slowBuckets, "narrator")
	m.ClaimViolations = f.counter("claim_violations_total", "Claim-policy violations found in LLM narratives (each replaced by the template).")

	m.LLMCalls = f.counterVec("llm_calls_total", "LLM narration calls by outcome (kept, replaced_violation, replaced_timeout, error, canceled).", "outcome")
	m.LLMSeconds = f.histogram("llm_call_duration_seconds", "LLM call latency.", slowBuckets)

	m.IngestSamples = f.counterVec("ingest_samples_total", "Ingested samples by outcome (inserted, duplicate, missing, rejected).", "outcome")
	m.IngestBatches = f.counterVec("ingest_batches_total", "Ingestion batches by outcome (stored, rejected).", "outcome")
	m.IngestProblems = f.counterVec("ingest_problems_total", "Problems found in refused ingestion batches, by problem code.", "code")
	m.IngestBatch = f.histogram("ingest_batch_samples", "Samples per ingestion batch.", batchSizeBucket)

	m.FeedSubscriptions = f.gaugeVec("feed_subscriptions_active", "Open live-feed subscriptions by transport.", "transport")
	m.FeedLag = f.histogram("feed_delivery_lag_seconds", "Live-feed delivery lag: commit of the event to hand-off to the subscriber's stream.", feedLagBuckets)
	m.FeedDelivered = f.counter("feed_events_delivered_total", "Live-feed events handed to subscribers.")
	m.FeedReplayed = f.counter("feed_events_replayed_total", "Live-feed events delivered from history (created before the subscription started).")
	m.FeedCutOffs = f.counter("feed_slow_consumer_cutoffs_total", "Subscriptions cut off because the client did not keep up.")

	m.JobRuns = f.counterVec("job_runs_total", "Background loop job runs by outcome (an error is retried, then parked dead).", "outcome")
	m.JobSeconds = f.histogram("job_duration_seconds", "Background loop job run time.", slowBuckets)

	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.init()
	return m
}

// init creates every known label combination at zero so that rates and
// alerts see a series before its first event.
func (m *Metrics) init() {
	for _, r := range routes {
		m.HTTPDuration.WithLabelValues(r)
	}
	for _, c := range errorCodes {
		m.Errors.WithLabelValues(c)
	}
	for _, l := range limitNames {
		m.Rejected.WithLabelValues(l)
	}
	for _, s := range loopStages {
		m.LoopSeconds.WithLabelValues(s)
	}
	for _, o := range []string{"ok", "error", "timeout"} {
		m.LoopRuns.WithLabelValues(o)
	}
	for _, g := range []string{"loop_timeout", "insights_per_day", "narrative_timeout"} {
		m.GuardrailBreach.WithLabelValues(g)
	}
	for _, o := range llmOutcomes {
		m.LLMCalls.WithLabelValues(o)
	}
	for _, o := range ingestOutcomes {
		m.IngestSamples.WithLabelValues(o)
	}
	for _, o := range []string{"stored", "rejected"} {
		m.IngestBatches.WithLabelValues(o)
	}
	for _, t := range feedTransports {
		m.FeedSubscriptions.WithLabelValues(t)
	}
	for _, o := range jobOutcomes {
		m.JobRuns.WithLabelValues(o)
	}
	for _, n := range []string{"template", "llm"} {
		m.NarrativeSeconds.WithLabelValues(n)
	}
}

// Route maps a request path to its bounded route label.
func Route(path string) string {
	switch {
	case path == "/graphql" || path == "/healthz" || path == "/readyz":
		return path
	case len(path) > len("/exports/") && path[:len("/exports/")] == "/exports/":
		return "/exports"
	}
	return "other"
}

// StatusCode is the code label of an HTTP status.
func StatusCode(status int) string { return strconv.Itoa(status) }

// ErrorCode bounds an error code label: unknown codes become "other".
func ErrorCode(code string) string {
	if slices.Contains(errorCodes, code) {
		return code
	}
	return "other"
}

// Limit bounds a limit label.
func Limit(name string) string {
	if slices.Contains(limitNames, name) {
		return name
	}
	return "other"
}

// Decision counts one committed audited decision. The vocabulary is the
// code's (entity types, actions and decisions are constants), but the
// family is capped at decisionLimit triples all the same.
func (m *Metrics) Decision(entity, action, decision string) {
	k := [3]string{entity, action, decision}
	m.decisionsMu.Lock()
	if !m.decisionsSeen[k] {
		if len(m.decisionsSeen) >= decisionLimit {
			k = [3]string{"other", "other", "other"}
		}
		m.decisionsSeen[k] = true
	}
	m.decisionsMu.Unlock()
	m.Decisions.WithLabelValues(k[0], k[1], k[2]).Inc()
}

// Insight counts one audited insight decision. Labels outside the known
// actions, kinds and grades become "other" so the set stays bounded.
func (m *Metrics) Insight(action, kind, grade string) {
	known := func(v string, set []string) string {
		switch {
		case v == "":
			return "none"
		case slices.Contains(set, v):
			return v
		}
		return "other"
	}
	m.Insights.WithLabelValues(
		known(action, []string{"create", "update", "skip", "suppress", "dismiss", "acknowledge"}),
		known(kind, detect.Kind("").Values()),
		known(grade, evidence.Grade("").Values()),
	).Inc()
}

// LLMOutcome is the outcome label of one LLM narration.
func LLMOutcome(replaced bool, reason string) string {
	switch {
	case !replaced:
		return "kept"
	case reason == "timeout":
		return "replaced_timeout"
	case reason == "canceled":
		return "canceled"
	case reason == "upstream_error":
		return "error"
	}
	return "replaced_violation"
}

// ObserveDB registers the database pool's sql.DBStats
// (go_sql_* families, labelled db_name).
func (m *Metrics) ObserveDB(name string, db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Since is the seconds elapsed since start.
func Since(start time.Time) float64 { return time.Since(start).Seconds() }

type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}
