package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/vitalgraph/vitalgraph/internal/benchdata"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// ---- the table ----

type row struct{ path, vg, bare, ratio, goal string }

type table struct{ rows []row }

func (t *table) add(path, vg, bare, ratio, goal string) {
	t.rows = append(t.rows, row{path, vg, bare, ratio, goal})
}

func (t *table) print(w io.Writer) {
	fmt.Fprintln(w, "| path | Vitalgraph | bare baseline | ratio | goal |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.path, r.vg, r.bare, r.ratio, r.goal)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(xs []float64, format string) string {
	if len(xs) < 2 {
		return ""
	}
	return fmt.Sprintf(" ("+format+"–"+format+")", slices.Min(xs), slices.Max(xs))
}

// cpuNow is this process's user+system CPU time (servers and load
// generator together: both run in this process).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---- load ----

type loadResult struct {
	reqPerSec, cpuPerReqMs float64
	p99Ms                  float64
	ok, failed             uint64
	firstErr               string
}

// attack runs tr for d with conns connections, at max rate when rate is 0;
// a response that is not 200 or carries GraphQL errors is a failure.
func attack(tr vegeta.Targeter, conns, rate int, d time.Duration) loadResult {
	opts := []func(*vegeta.Attacker){
		vegeta.Connections(conns), vegeta.MaxConnections(conns), vegeta.KeepAlive(true),
		vegeta.Timeout(30 * time.Second),
	}
	var pacer vegeta.Pacer
	if rate == 0 {
		opts = append(opts, vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)))
		pacer = vegeta.ConstantPacer{}
	} else {
		opts = append(opts, vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(4*conns)))
		pacer = vegeta.ConstantPacer{Freq: rate, Per: time.Second}
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	var res loadResult
	cpu0 := cpuNow()
	for r := range a.Attack(tr, pacer, d, "") {
		if r.Code == http.StatusOK && r.Error == "" && !bytes.Contains(r.Body, []byte(`"errors"`)) {
			res.ok++
			m.Add(r)
		} else {
			res.failed++
			if res.firstErr == "" {
				res.firstErr = fmt.Sprintf("%d %s %.200s", r.Code, r.Error, r.Body)
			}
		}
	}
	cpu := cpuNow() - cpu0
	m.Close()
	if m.Duration > 0 {
		res.reqPerSec = float64(res.ok) / (m.Duration + m.Wait).Seconds()
	}
	if res.ok > 0 {
		res.cpuPerReqMs = float64(cpu.Microseconds()) / 1000 / float64(res.ok)
	}
	res.p99Ms = float64(m.Latencies.P99.Microseconds()) / 1000
	return res
}

func check(name string, r loadResult) error {
	if r.ok == 0 || r.failed > 0 {
		return fmt.Errorf("%s: %d ok, %d failed; first failure: %s", name, r.ok, r.failed, r.firstErr)
	}
	return nil
}

func gqlBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func jsonHeader(token string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// gql runs one GraphQL request and decodes data into out.
func gql(ctx context.Context, url, token, query string, vars map[string]any, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(gqlBody(query, vars)))
	if err != nil {
		return err
	}
	req.Header = jsonHeader(token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if len(body.Errors) > 0 {
		return fmt.Errorf("graphql error: %s", body.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(body.Data, out)
	}
	return nil
}

// ---- the loop rows (they also make the insights the read rows read) ----

// userYear is benchdata's user-year ending yesterday, as the variables of
// ingestObservations.
func userYear(days int, seed uint64) []map[string]any {
	samples := benchdata.UserYear(days, seed, time.Now().UTC().Add(-24*time.Hour))
	out := make([]map[string]any, len(samples))
	for i, s := range samples {
		out[i] = map[string]any{
			"metric": s.Metric, "value": s.Value, "unit": s.Unit,
			"observedAt": s.ObservedAt.Format(time.RFC3339), "localDay": s.LocalDay,
			"utcOffsetSeconds": 0, "source": s.Source,
		}
	}
	return out
}

const (
	ingestMutation  = `mutation($input: [ObservationInput!]!) { ingestObservations(input: $input) { inserted duplicates } }`
	runLoopMutation = `mutation { runLoop { insightsCreated stateChanges } }`
)

func loopRows(ctx context.Context, e *env, t *table) error {
	var first, rerun []float64
	created := 0
	for round := range e.o.rounds {
		token := ""
		if round > 0 { // a fresh user for each first run; round 0 is the demo user, whose insights the read rows read
			var p struct {
				SignUp struct {
					AccessToken string `json:"accessToken"`
				} `json:"signUp"`
			}
			email := fmt.Sprintf("bench-%d-%d@example.com", time.Now().UnixNano(), round)
			if err := gql(ctx, e.vgURL, "", `mutation($e: String!) { signUp(email: $e, password: "bench-password-1") { accessToken } }`, map[string]any{"e": email}, &p); err != nil {
				return fmt.Errorf("signUp: %w", err)
			}
			token = p.SignUp.AccessToken
		}
		samples := userYear(e.o.days, uint64(round+1))
		for i := 0; i < len(samples); i += 1000 {
			if err := gql(ctx, e.vgURL, token, ingestMutation, map[string]any{"input": samples[i:min(i+1000, len(samples))]}, nil); err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
		}
		var out struct {
			RunLoop struct {
				InsightsCreated int `json:"insightsCreated"`
			} `json:"runLoop"`
		}
		start := time.Now()
		if err := gql(ctx, e.vgURL, token, runLoopMutation, nil, &out); err != nil {
			return fmt.Errorf("runLoop: %w", err)
		}
		first = append(first, float64(time.Since(start).Microseconds())/1000)
		if round == 0 {
			created = out.RunLoop.InsightsCreated
		}
		start = time.Now()
		if err := gql(ctx, e.vgURL, token, runLoopMutation, nil, nil); err != nil {
			return fmt.Errorf("runLoop rerun: %w", err)
		}
		rerun = append(rerun, float64(time.Since(start).Microseconds())/1000)
	}
	t.add(fmt.Sprintf("runLoop, %d days × %d metrics, first run (%d insights)", e.o.days, len(benchdata.Metrics), created),
		fmt.Sprintf("%.0f ms%s", median(first), spread(first, "%.0f")), "—", "—", "≤ 50 ms")
	t.add("runLoop rerun, no new data", fmt.Sprintf("%.0f ms%s", median(rerun), spread(rerun, "%.0f")), "—", "—", "≤ 10 ms")
	return nil
}

// ---- the read rows ----

const insightsQuery = `{ insights(first: 50) { edges { node { id metric kind status title summary direction startDay endDay } } } }`

func readRows(_ context.Context, e *env, t *table) error {
	vgT := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: e.vgURL, Body: gqlBody(insightsQuery, nil), Header: jsonHeader("")})
	bareT := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: e.bareURL + "/insights", Header: jsonHeader("")})
	type cell struct{ vg, bare, vgCPU, bareCPU []float64 }
	sat := map[int]*cell{16: {}, 64: {}}
	for round := range e.o.rounds {
		for _, conns := range []int{16, 64} {
			c := sat[conns]
			pair := []func() error{
				func() error {
					r := attack(vgT, conns, 0, e.o.dur)
					c.vg, c.vgCPU = append(c.vg, r.reqPerSec), append(c.vgCPU, r.cpuPerReqMs)
					return check("insights (Vitalgraph)", r)
				},
				func() error {
					r := attack(bareT, conns, 0, e.o.dur)
					c.bare, c.bareCPU = append(c.bare, r.reqPerSec), append(c.bareCPU, r.cpuPerReqMs)
					return check("insights (bare)", r)
				},
			}
			if round%2 == 1 {
				slices.Reverse(pair)
			}
			for _, f := range pair {
				if err := f(); err != nil {
					return err
				}
			}
		}
	}
	for _, conns := range []int{16, 64} {
		c := sat[conns]
		t.add(fmt.Sprintf("`insights(first: 50)` saturation, %d conns", conns),
			fmt.Sprintf("%.0f req/s%s, %.2f ms CPU/req", median(c.vg), spread(c.vg, "%.0f"), median(c.vgCPU)),
			fmt.Sprintf("%.0f req/s%s, %.2f ms CPU/req", median(c.bare), spread(c.bare, "%.0f"), median(c.bareCPU)),
			fmt.Sprintf("%.2f×", median(c.vg)/median(c.bare)), "≥ 0.6×")
	}
	rate := e.o.fixedRate
	if rate == 0 {
		rate = max(1, int(0.6*median(sat[16].vg)))
	}
	var vgP99, bareP99 []float64
	for round := range e.o.rounds {
		pair := []func() error{
			func() error {
				r := attack(vgT, 16, rate, e.o.dur)
				vgP99 = append(vgP99, r.p99Ms)
				return check("insights fixed rate (Vitalgraph)", r)
			},
			func() error {
				r := attack(bareT, 16, rate, e.o.dur)
				bareP99 = append(bareP99, r.p99Ms)
				return check("insights fixed rate (bare)", r)
			},
		}
		if round%2 == 1 {
			slices.Reverse(pair)
		}
		for _, f := range pair {
			if err := f(); err != nil {
				return err
			}
		}
	}
	t.add(fmt.Sprintf("same at a fixed %d req/s (≈ 60%% of capacity)", rate),
		fmt.Sprintf("p99 %.1f ms%s", median(vgP99), spread(vgP99, "%.1f")),
		fmt.Sprintf("p99 %.1f ms%s", median(bareP99), spread(bareP99, "%.1f")),
		fmt.Sprintf("%.1f×", median(vgP99)/median(bareP99)), "≤ 3×")
	return nil
}

// ---- the ingestion rows ----

// batchTargeter makes a fresh 1000-sample batch per request: one metric,
// one sample a minute from a per-run origin, so no two batches collide.
func batchTargeter(url string, origin time.Time, seq *atomic.Int64) vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		n := seq.Add(1) - 1
		input := make([]map[string]any, 1000)
		for i := range input {
			at := origin.Add(time.Duration(n*1000+int64(i)) * time.Minute)
			input[i] = map[string]any{
				"metric": "steps", "value": float64(5000 + i), "unit": "count",
				"observedAt": at.Format(time.RFC3339), "localDay": at.Format("2006-01-02"),
				"utcOffsetSeconds": 0, "source": "api",
			}
		}
		tgt.Method, tgt.URL, tgt.Header = http.MethodPost, url, jsonHeader("")
		tgt.Body = gqlBody(ingestMutation, map[string]any{"input": input})
		return nil
	}
}

func ingestRows(_ context.Context, e *env, t *table) error {
	type cell struct{ vg, insert, copy []float64 }
	cells := map[int]*cell{1: {}, 16: {}}
	run := 0
	origin := func() time.Time { // a distinct stretch of past time per run
		run++
		return time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(run, 0, 0)
	}
	for round := range e.o.rounds {
		for _, clients := range []int{1, 16} {
			c := cells[clients]
			steps := []func() error{
				func() error {
					var seq atomic.Int64
					r := attack(batchTargeter(e.vgURL, origin(), &seq), clients, 0, e.o.dur)
					c.vg = append(c.vg, 1000*r.reqPerSec)
					return check("ingestion (Vitalgraph)", r)
				},
				func() error {
					var seq atomic.Int64
					r := attack(batchTargeter(e.bareURL+"/ingest/insert", origin(), &seq), clients, 0, e.o.dur)
					c.insert = append(c.insert, 1000*r.reqPerSec)
					return check("ingestion (bare INSERT)", r)
				},
				func() error {
					var seq atomic.Int64
					r := attack(batchTargeter(e.bareURL+"/ingest/copy", origin(), &seq), clients, 0, e.o.dur)
					c.copy = append(c.copy, 1000*r.reqPerSec)
					return check("ingestion (bare COPY)", r)
				},
			}
			if round%2 == 1 {
				slices.Reverse(steps)
			}
			for _, f := range steps {
				if err := f(); err != nil {
					return err
				}
			}
		}
	}
	for _, clients := range []int{1, 16} {
		c := cells[clients]
		name := "ingestion, 1000-sample batches, 1 client"
		if clients > 1 {
			name = fmt.Sprintf("same, %d clients", clients)
		}
		t.add(name, fmt.Sprintf("%.0f samples/s%s", median(c.vg), spread(c.vg, "%.0f")),
			fmt.Sprintf("multi-row INSERT %.0f; COPY %.0f", median(c.insert), median(c.copy)),
			fmt.Sprintf("%.2f× INSERT", median(c.vg)/median(c.insert)), "≥ 1.0× INSERT")
	}
	return nil
}

// ---- the document rows ----

// documentRows times, one request at a time, how much CPU the server spends
// answering or refusing each worst-case document (the 7,000-duplicate one
// first) and each document built to sit just inside the limits.
func documentRows(ctx context.Context, e *env, t *table) error {
	timeDoc := func(q string) (float64, error) {
		var cpus []float64
		for range e.o.rounds {
			c0 := cpuNow()
			for range e.o.docReps {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.vgURL, bytes.NewReader(gqlBody(q, nil)))
				if err != nil {
					return 0, err
				}
				req.Header = jsonHeader("")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return 0, err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			cpus = append(cpus, float64((cpuNow()-c0).Microseconds())/1000/float64(e.o.docReps))
		}
		return median(cpus), nil
	}
	var worst []string
	maxMs := 0.0
	for i, wc := range append(limits.WorstCases(7000), limits.WithinLimits()...) {
		ms, err := timeDoc(wc.Query)
		if err != nil {
			return err
		}
		if i == 0 {
			t.add(fmt.Sprintf("a %d KB document of 7,000 duplicated selections", len(wc.Query)/1000),
				fmt.Sprintf("%.2f ms CPU to refuse", ms), "—", "—", "< 20 ms CPU")
			continue
		}
		maxMs = max(maxMs, ms)
		worst = append(worst, fmt.Sprintf("%s %.1f", wc.Name, ms))
	}
	depth, err := timeDoc(`{ insights { edges { node { evidence { grade } } } } }`)
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("%d generated worst cases and just-inside-the-limits documents", len(worst)),
		fmt.Sprintf("max %.2f ms CPU (%s)", maxMs, strings.Join(worst, "; ")),
		fmt.Sprintf("a small valid query: %.2f ms", depth), "—", "each < 20 ms CPU")
	return nil
}
