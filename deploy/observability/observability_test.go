// Package observability_test checks deploy/observability against a live
// server: every metric that the Grafana dashboard and the Prometheus rules
// name is one the server really exports on its private /metrics.
package observability_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// rulesFile is the part of rules.yml the test reads.
type rulesFile struct {
	Groups []struct {
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var (
	strLit    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braces    = regexp.MustCompile(`\{[^}]*\}`)
	brackets  = regexp.MustCompile(`\[[^\]]*\]`)
	grouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	keywords  = []string{"by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset", "Inf", "NaN", "e"}
	generated = []string{"up"} // series Prometheus itself makes for every target
)

// metricNames returns the metric names a PromQL expression selects.
func metricNames(expr string) []string {
	e := strLit.ReplaceAllString(expr, `""`)
	e = braces.ReplaceAllString(e, " ")
	e = brackets.ReplaceAllString(e, " ")
	e = grouping.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range ident.FindAllStringIndex(e, -1) {
		name := e[loc[0]:loc[1]]
		if loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.') {
			continue // a number's exponent or suffix
		}
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || slices.Contains(keywords, name) {
			continue // a function or a keyword
		}
		out = append(out, name)
	}
	return out
}

func TestMetricNamesExtraction(t *testing.T) {
	t.Parallel()
	got := metricNames(`histogram_quantile(0.99, sum by (le, route) (rate(vitalgraph_http_request_duration_seconds_bucket{route="/graphql",code=~"5.."}[5m]))) > 1e3 and on(job) up{job="x"} == 0 or vitalgraph:x:rate5m / (go_sql_max_open_connections > 0)`)
	require.Equal(t, []string{"vitalgraph_http_request_duration_seconds_bucket", "up", "vitalgraph:x:rate5m", "go_sql_max_open_connections"}, got)
}

// liveFamilies runs a server (PostgreSQL, Redis) through a little traffic
// and scrapes its private /metrics.
func liveFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.RedisURL = servertest.RedisURL()
	})
	ms := httptest.NewServer(srv.App.Metrics.PrivateHandler())
	t.Cleanup(ms.Close)
	uid := srv.CreateUser(t, "dash@example.com")
	sample := func(day int, unit string) map[string]any {
		d := time.Date(2026, 3, day, 7, 0, 0, 0, time.UTC)
		return map[string]any{
			"metric": "resting_hr", "value": 55, "unit": unit, "source": "oura",
			"observedAt": d.Format(time.RFC3339), "localDay": d.Format(time.DateOnly),
		}
	}
	const ingest = `mutation($input: [ObservationInput!]!) { ingestObservations(input: $input) { inserted } }`
	srv.Do(t, uid, ingest, map[string]any{"input": []any{sample(2, "bpm"), sample(3, "bpm")}}).Decode(t, &struct{}{})
	require.NotEmpty(t, srv.Do(t, uid, ingest, map[string]any{"input": []any{sample(4, "furlongs")}}).Errors)
	srv.Do(t, uid, `mutation { runLoop { metrics } }`, nil).Decode(t, &struct{}{})

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ms.URL+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// exported reports whether name is a series of a scraped family (a
// histogram's _bucket, _sum and _count included).
func exported(fams map[string]*dto.MetricFamily, name string) bool {
	if _, ok := fams[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := fams[base]; ok && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				return true
			}
		}
	}
	return false
}

func TestDashboardAndRulesNameOnlyExportedMetrics(t *testing.T) {
	t.Parallel()
	fams := liveFamilies(t)

	raw, err := os.ReadFile("rules.yml")
	require.NoError(t, err)
	var rules rulesFile
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	recorded := map[string]bool{}
	var exprs []string
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
			if r.Alert != "" {
				alerts++
			}
			exprs = append(exprs, r.Expr)
		}
	}
	require.GreaterOrEqual(t, alerts, 9, "the alerts of docs/observability.md")

	raw, err = os.ReadFile("grafana-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			exprs = append(exprs, tg.Expr)
		}
	}
	require.Greater(t, queries, 20)

	for _, e := range exprs {
		names := metricNames(e)
		require.NotEmpty(t, names, "query %q names no metric", e)
		for _, n := range names {
			switch {
			case strings.Contains(n, ":"):
				require.True(t, recorded[n], "%q: recording rule %s is not defined in rules.yml", e, n)
			case slices.Contains(generated, n):
			default:
				require.True(t, exported(fams, n), "%q: metric %s is not exported by the server", e, n)
			}
		}
	}
}
