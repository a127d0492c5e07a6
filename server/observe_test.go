package server_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/baseline"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// day1 is day 1 of the golden 60-day window (a Monday).
var day1 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func dayN(n int) time.Time { return day1.AddDate(0, 0, n-1) }

type sample map[string]any

func hrv(n int, v float64) sample {
	d := dayN(n)
	return sample{
		"metric": "hrv_rmssd", "value": v, "unit": "ms", "source": "oura",
		"observedAt": d.Add(7 * time.Hour).Format(time.RFC3339), "localDay": d.Format(time.DateOnly),
	}
}

func rhr(n int, v float64) sample {
	s := hrv(n, v)
	s["metric"], s["unit"] = "resting_hr", "bpm"
	return s
}

const ingestMutation = `mutation($input: [ObservationInput!]!, $key: String) {
  ingestObservations(input: $input, idempotencyKey: $key) { batchID received inserted duplicates missing rejected replayed }
}`

type ingestOut struct {
	IngestObservations struct {
		BatchID    string `json:"batchID"`
		Received   int    `json:"received"`
		Inserted   int    `json:"inserted"`
		Duplicates int    `json:"duplicates"`
		Missing    int    `json:"missing"`
		Rejected   int    `json:"rejected"`
		Replayed   bool   `json:"replayed"`
	} `json:"ingestObservations"`
}

func countObs(t *testing.T, srv *servertest.Server, userID string) int {
	t.Helper()
	n, err := srv.App.Store.Client.Observation.Query().Where(observation.UserID(userID)).Count(viewer.System(context.Background()))
	require.NoError(t, err)
	return n
}

// pinClock fixes the server's clock at the end of day n (local).
func pinClock(srv *servertest.Server, n int) {
	srv.App.SetClock(dayN(n).Add(20 * time.Hour))
}

func TestIngestObservations(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "ingest@example.com")
	pinClock(srv, 60)

	batch := func(n int) []sample {
		out := make([]sample, n)
		for i := range n {
			s := hrv(1+i%60, 40+float64(i%50))
			s["observedAt"] = dayN(1 + i%60).Add(time.Duration(i/60) * time.Minute).Add(7 * time.Hour).Format(time.RFC3339)
			out[i] = s
		}
		return out
	}

	t.Run("a 1000-sample batch is accepted and stored once", func(t *testing.T) {
		var out ingestOut
		in := batch(1000)
		srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &out)
		require.Equal(t, 1000, out.IngestObservations.Inserted)
		require.Equal(t, 1000, countObs(t, srv, uid))
		// The same samples again: nothing new, and the result says so.
		srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &out)
		require.Equal(t, 0, out.IngestObservations.Inserted)
		require.Equal(t, 1000, out.IngestObservations.Duplicates)
		require.Equal(t, 1000, countObs(t, srv, uid))
	})

	t.Run("a 1001-sample batch is refused", func(t *testing.T) {
		before := countObs(t, srv, uid)
		in := batch(1001)
		for i := range in {
			in[i]["source"] = "whoop" // all new natural keys
		}
		resp := srv.Do(t, uid, ingestMutation, map[string]any{"input": in})
		require.Equal(t, []string{"ELIMIT"}, resp.Codes())
		require.Equal(t, before, countObs(t, srv, uid))
	})

	t.Run("one bad sample stores nothing and names its index", func(t *testing.T) {
		before := countObs(t, srv, uid)
		in := []sample{rhr(1, 55), rhr(2, 56), rhr(3, 200), rhr(4, 57)}
		resp := srv.Do(t, uid, ingestMutation, map[string]any{"input": in})
		require.Equal(t, []string{"EINVALID"}, resp.Codes())
		problems := resp.Errors[0].Extensions["problems"].([]any)
		require.Len(t, problems, 1)
		p := problems[0].(map[string]any)
		require.InDelta(t, 2, p["index"], 0)
		require.Equal(t, "OUT_OF_RANGE", p["code"])
		require.Equal(t, "value", p["field"])
		require.Equal(t, before, countObs(t, srv, uid))
	})

	t.Run("each bad value is refused with a code", func(t *testing.T) {
		future := rhr(1, 55)
		future["observedAt"] = dayN(62).Format(time.RFC3339)
		future["localDay"] = dayN(62).Format(time.DateOnly)
		wrongDay := rhr(1, 55)
		wrongDay["localDay"] = dayN(10).Format(time.DateOnly)
		unknownMetric := rhr(1, 55)
		unknownMetric["metric"] = "vo2max_per_banana"
		cases := map[string]struct {
			in   sample
			code string
		}{
			"negative HRV":      {hrv(1, -5), "OUT_OF_RANGE"},
			"200 bpm RHR":       {rhr(1, 200), "OUT_OF_RANGE"},
			"unknown unit":      {func() sample { s := rhr(1, 55); s["unit"] = "furlongs"; return s }(), "BAD_UNIT"},
			"future timestamp":  {future, "FUTURE_TIMESTAMP"},
			"wrong local day":   {wrongDay, "WRONG_LOCAL_DAY"},
			"unknown metric":    {unknownMetric, "UNKNOWN_METRIC"},
			"unknown source":    {func() sample { s := rhr(1, 55); s["source"] = "myspace"; return s }(), "BAD_SOURCE"},
			"manual zero RMSSD": {func() sample { s := hrv(1, 0); s["source"] = "manual"; return s }(), "OUT_OF_RANGE"},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				before := countObs(t, srv, uid)
				resp := srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{rhr(5, 60), c.in}})
				require.Equal(t, []string{"EINVALID"}, resp.Codes())
				p := resp.Errors[0].Extensions["problems"].([]any)[0].(map[string]any)
				require.Equal(t, c.code, p["code"])
				require.InDelta(t, 1, p["index"], 0)
				require.Equal(t, before, countObs(t, srv, uid))
			})
		}
	})

	t.Run("NaN and Inf cannot get in", func(t *testing.T) {
		before := countObs(t, srv, uid)
		// JSON has no NaN/Inf: such bodies are malformed JSON.
		body := `{"query":` + jsonString(ingestMutation) + `,"variables":{"input":[{"metric":"resting_hr","value":NaN,"unit":"bpm","source":"oura","observedAt":"2026-03-02T07:00:00Z","localDay":"2026-03-02"}]}}`
		resp := srv.Raw(t, uid, "application/json", []byte(body))
		require.NotEmpty(t, resp.Errors)
		// A float literal beyond float64 overflows to Inf and is refused.
		q := `mutation { ingestObservations(input: [{metric: "resting_hr", value: 1e400, unit: "bpm", source: "oura", observedAt: "2026-03-02T07:00:00Z", localDay: "2026-03-02"}]) { inserted } }`
		resp = srv.Do(t, uid, q, nil)
		require.NotEmpty(t, resp.Errors)
		require.NotEmpty(t, resp.Codes()[0])
		require.Equal(t, before, countObs(t, srv, uid))
	})

	t.Run("provider zeros are stored as missing", func(t *testing.T) {
		var out ingestOut
		z := hrv(3, 0)
		z["source"] = "whoop"
		srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{z}}).Decode(t, &out)
		require.Equal(t, 1, out.IngestObservations.Missing)
		o, err := srv.App.Store.Client.Observation.Query().
			Where(observation.UserID(uid), observation.Source("whoop"), observation.LocalDay(dayN(3).Format(time.DateOnly))).
			Only(viewer.System(context.Background()))
		require.NoError(t, err)
		require.True(t, o.Missing)
		require.Nil(t, o.Value, "a provider zero is never stored as 0")
	})

	t.Run("idempotency key replays; different content conflicts", func(t *testing.T) {
		in := []sample{rhr(10, 58), rhr(11, 59)}
		var first, again ingestOut
		srv.Do(t, uid, ingestMutation, map[string]any{"input": in, "key": "sync-42"}).Decode(t, &first)
		require.Equal(t, 2, first.IngestObservations.Inserted)
		srv.Do(t, uid, ingestMutation, map[string]any{"input": in, "key": "sync-42"}).Decode(t, &again)
		require.True(t, again.IngestObservations.Replayed)
		require.Equal(t, first.IngestObservations.BatchID, again.IngestObservations.BatchID)
		resp := srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{rhr(12, 60)}, "key": "sync-42"})
		require.Equal(t, []string{"ECONFLICT"}, resp.Codes())
	})
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// ar1 returns n AR(1) values with coefficient phi and marginal SD sigma.
func ar1(rng *rand.Rand, n int, phi, sigma float64) []float64 {
	out := make([]float64, n)
	innov := sigma * math.Sqrt(1-phi*phi)
	x := rng.NormFloat64() * sigma
	for i := range out {
		out[i] = x
		x = phi*x + rng.NormFloat64()*innov
	}
	return out
}

type insightRow struct {
	ID       string `json:"id"`
	Metric   string `json:"metric"`
	Kind     string `json:"kind"`
	StartDay string `json:"startDay"`
	EndDay   string `json:"endDay"`
	Evidence struct {
		Grade           string   `json:"grade"`
		Confidence      float64  `json:"confidence"`
		Coverage        float64  `json:"coverage"`
		Why             string   `json:"why"`
		WhatWouldChange string   `json:"whatWouldChange"`
		Detectors       []string `json:"detectors"`
	} `json:"evidence"`
}

func listInsights(t *testing.T, srv *servertest.Server, uid string, where map[string]any) []insightRow {
	t.Helper()
	var out struct {
		Insights struct {
			Edges []struct{ Node insightRow } `json:"edges"`
		} `json:"insights"`
	}
	srv.Do(t, uid, `query($where: InsightWhereInput) {
	  insights(first: 100, where: $where, orderBy: [{field: START_DAY, direction: ASC}]) {
	    edges { node { id metric kind startDay endDay evidence { grade confidence coverage why whatWouldChange detectors } } }
	  }
	}`, map[string]any{"where": where}).Decode(t, &out)
	rows := make([]insightRow, len(out.Insights.Edges))
	for i, e := range out.Insights.Edges {
		rows[i] = e.Node
	}
	return rows
}

const runLoop = `mutation { runLoop { metrics insightsCreated insightsSkipped stateChanges } }`

type loopOut struct {
	RunLoop struct {
		Metrics         []string `json:"metrics"`
		InsightsCreated int      `json:"insightsCreated"`
		InsightsSkipped int      `json:"insightsSkipped"`
	} `json:"runLoop"`
}

// TestPlantedSwingGivesAnomaliesNotChange is docs/domain.md G4a through the API:
// 60 days of HRV (ln noise σ=0.10, φ=0.4) and RHR, HRV −40% and RHR +8 bpm
// on days 44–46.
func TestPlantedSwingGivesAnomaliesNotChange(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "swing@example.com")
	pinClock(srv, 60)
	// Seed 3 has no natural anomaly outside the swing (checked once; a
	// different seed may legitimately flag a natural ±3.5σ day).
	rng := rand.New(rand.NewPCG(3, 44))
	lnNoise := ar1(rng, 60, 0.4, 0.10)
	rhrNoise := ar1(rng, 60, 0.4, 1.0)
	var in []sample
	for d := 1; d <= 60; d++ {
		h := math.Exp(math.Log(55) + lnNoise[d-1])
		r := 55 + rhrNoise[d-1]
		if d >= 44 && d <= 46 {
			h *= 0.6
			r += 8
		}
		in = append(in, hrv(d, math.Round(h*10)/10), rhr(d, math.Round(r*10)/10))
	}
	var ing ingestOut
	srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &ing)
	require.Equal(t, 120, ing.IngestObservations.Inserted)

	var lo loopOut
	srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
	require.Equal(t, []string{"hrv_rmssd", "resting_hr"}, lo.RunLoop.Metrics)

	rows := listInsights(t, srv, uid, map[string]any{"metric": "hrv_rmssd"})
	var days []string
	for _, r := range rows {
		require.Equal(t, "ANOMALY", r.Kind, "a swing is an anomaly, never a change: %+v", r)
		require.Equal(t, []string{"robust_z"}, r.Evidence.Detectors)
		require.NotEmpty(t, r.Evidence.Why)
		require.NotEmpty(t, r.Evidence.WhatWouldChange)
		days = append(days, r.StartDay)
	}
	require.Equal(t, []string{dayN(44).Format(time.DateOnly), dayN(45).Format(time.DateOnly), dayN(46).Format(time.DateOnly)}, days)
	for _, r := range listInsights(t, srv, uid, map[string]any{"metric": "resting_hr"}) {
		require.NotEqual(t, "CHANGE", r.Kind)
	}

	// Every insight has its audit event and feed event.
	ctx := viewer.System(context.Background())
	c := srv.App.Store.Client
	all, err := c.Insight.Query().Where(insight.UserID(uid)).All(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for _, in := range all {
		n, err := c.AuditEvent.Query().Where(auditevent.EntityID(in.ID), auditevent.Action("create")).Count(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = c.FeedEvent.Query().Where(feedevent.EntityID(in.ID), feedevent.KindEQ(feedevent.KindINSIGHT_CREATED)).Count(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}

	// minGrade filters by "grade at least".
	var graded struct {
		Insights struct {
			Edges []struct {
				Node struct{ EvidenceGrade string }
			} `json:"edges"`
		} `json:"insights"`
	}
	srv.Do(t, uid, `{ insights(minGrade: B) { edges { node { evidenceGrade } } } }`, nil).Decode(t, &graded)
	for _, e := range graded.Insights.Edges {
		require.Contains(t, []string{"A", "B"}, e.Node.EvidenceGrade)
	}

	// Running again with no new data creates nothing and writes no event.
	audits, err := c.AuditEvent.Query().Where(auditevent.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	feed, err := c.FeedEvent.Query().Where(feedevent.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
	require.Zero(t, lo.RunLoop.InsightsCreated)
	audits2, err := c.AuditEvent.Query().Where(auditevent.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	feed2, err := c.FeedEvent.Query().Where(feedevent.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, audits, audits2)
	require.Equal(t, feed, feed2)
}

// TestDisconnectionYieldsOneGapAndFrozenBaseline is docs/domain.md G3's gap: the
// provider is disconnected on day 36 and returns zeros until day 55.
func TestDisconnectionYieldsOneGapAndFrozenBaseline(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "gap@example.com")
	pinClock(srv, 55)
	rng := rand.New(rand.NewPCG(5, 36))
	noise := ar1(rng, 55, 0.4, 0.10)
	var in []sample
	for d := 1; d <= 55; d++ {
		v := math.Round(math.Exp(math.Log(55)+noise[d-1])*10) / 10
		if d >= 36 {
			v = 0 // the revoked provider returns zeros: stored as missing
		}
		in = append(in, hrv(d, v))
	}
	var ing ingestOut
	srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &ing)
	require.Equal(t, 20, ing.IngestObservations.Missing)
	ctx := viewer.System(context.Background())
	c := srv.App.Store.Client
	_, err := c.ProviderConnection.Create().SetUserID(uid).SetProvider(providerconnection.ProviderOURA).
		SetStatus(providerconnection.StatusREVOKED).SetDisconnectedAt(dayN(36).Add(6 * time.Hour)).Save(ctx)
	require.NoError(t, err)

	var lo loopOut
	srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
	rows := listInsights(t, srv, uid, nil)
	gaps := 0
	for _, r := range rows {
		require.NotEqual(t, "ANOMALY", r.Kind, "no run of anomalies during a gap: %+v", r)
		if r.Kind == "DATA_GAP" {
			gaps++
			require.Equal(t, dayN(36).Format(time.DateOnly), r.StartDay)
		}
	}
	require.Equal(t, 1, gaps, "exactly one data-gap insight")

	var bl struct {
		Baselines []struct {
			Metric        string  `json:"metric"`
			State         string  `json:"state"`
			DetectorState string  `json:"detectorState"`
			FrozenSince   *string `json:"frozenSince"`
			Median        *float64
			BandLow       *float64 `json:"bandLow"`
			BandHigh      *float64 `json:"bandHigh"`
		} `json:"baselines"`
	}
	srv.Do(t, uid, `{ baselines(metric: "hrv_rmssd") { metric state detectorState frozenSince median bandLow bandHigh } }`, nil).Decode(t, &bl)
	require.Len(t, bl.Baselines, 1)
	require.Equal(t, "FROZEN", bl.Baselines[0].State)
	require.Equal(t, dayN(36).Format(time.DateOnly), *bl.Baselines[0].FrozenSince)
	require.NotNil(t, bl.Baselines[0].BandLow)
	require.Less(t, *bl.Baselines[0].BandLow, *bl.Baselines[0].BandHigh)

	b, err := c.Baseline.Query().Where(baseline.UserID(uid)).Only(ctx)
	require.NoError(t, err)
	require.Equal(t, baseline.StateFROZEN, b.State)
}

// TestInsightAndAuditShareOneTransaction kills the transaction after the
// loop wrote insights and finds neither insights nor audit events.
func TestInsightAndAuditShareOneTransaction(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "tx@example.com")
	pinClock(srv, 60)
	var in []sample
	for d := 1; d <= 60; d++ {
		v := 55.0 + float64(d%5)
		if d == 58 {
			v = 90
		}
		in = append(in, rhr(d, v))
	}
	srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &ingestOut{})
	c := srv.App.Store.Client
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
	sys := viewer.System(context.Background())
	auditsBefore, err := c.AuditEvent.Query().Where(auditevent.UserID(uid)).Count(sys)
	require.NoError(t, err)

	tx, err := c.Tx(ctx)
	require.NoError(t, err)
	sum, err := srv.App.Loop.Model(ctx, tx, uid)
	require.NoError(t, err)
	require.Positive(t, sum.InsightsCreated, "the planted spike must produce an insight")
	n, err := tx.Insight.Query().Where(insight.UserID(uid)).Count(ctx)
	require.NoError(t, err)
	require.Positive(t, n, "visible inside the transaction")
	require.NoError(t, tx.Rollback()) // the process "dies" before commit

	n, err = c.Insight.Query().Where(insight.UserID(uid)).Count(sys)
	require.NoError(t, err)
	require.Zero(t, n)
	auditsAfter, err := c.AuditEvent.Query().Where(auditevent.UserID(uid)).Count(sys)
	require.NoError(t, err)
	require.Equal(t, auditsBefore, auditsAfter)
}

// TestDailyInsightGuardrailSkipsAndAudits caps insights at 2 per day.
func TestDailyInsightGuardrailSkipsAndAudits(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) { c.Guardrails.InsightsPerDay = 2 })
	uid := srv.CreateUser(t, "cap@example.com")
	pinClock(srv, 60)
	var in []sample
	for d := 1; d <= 60; d++ {
		v := 55.0 + float64(d%5)
		if d == 30 || d == 40 || d == 50 || d == 58 {
			v = 95
		}
		in = append(in, rhr(d, v))
	}
	srv.Do(t, uid, ingestMutation, map[string]any{"input": in}).Decode(t, &ingestOut{})
	var lo loopOut
	srv.Do(t, uid, runLoop, nil).Decode(t, &lo)
	require.Equal(t, 2, lo.RunLoop.InsightsCreated)
	require.Positive(t, lo.RunLoop.InsightsSkipped)
	sys := viewer.System(context.Background())
	skipped, err := srv.App.Store.Client.AuditEvent.Query().
		Where(auditevent.UserID(uid), auditevent.Decision("guardrail_skipped")).Count(sys)
	require.NoError(t, err)
	require.Equal(t, lo.RunLoop.InsightsSkipped, skipped, "every skip is audited, not silently dropped")
	total, err := srv.App.Store.Client.Insight.Query().Where(insight.UserID(uid)).Count(sys)
	require.NoError(t, err)
	require.Equal(t, 2, total)
}

func TestMetricsQueryListsTheRegistry(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	var out struct {
		Metrics []struct {
			Key           string `json:"key"`
			CanonicalUnit string `json:"canonicalUnit"`
			RejectRange   struct {
				Min *float64 `json:"min"`
				Max *float64 `json:"max"`
			} `json:"rejectRange"`
		} `json:"metrics"`
	}
	srv.Do(t, "", `{ metrics { key canonicalUnit rejectRange { min max } } }`, nil).Decode(t, &out)
	keys := map[string]string{}
	for _, m := range out.Metrics {
		keys[m.Key] = m.CanonicalUnit
	}
	for _, k := range []string{"resting_hr", "hrv_rmssd", "hrv_sdnn", "sleep_duration", "sleep_efficiency", "strain", "steps", "spo2", "respiratory_rate", "skin_temp_deviation"} {
		require.Contains(t, keys, k)
	}
	require.Equal(t, "bpm", keys["resting_hr"])
}

// baselines returns the newest row of each metric (of the viewer only), on
// both databases, whatever order the days were written in.
func TestBaselinesNewestPerMetric(t *testing.T) {
	t.Parallel()
	for name, store := range map[string]func(testing.TB) *server.Store{"postgres": servertest.NewPostgresStore, "sqlite": servertest.NewSQLiteStore} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.NewServer(t, store(t), nil)
			alice := srv.CreateUser(t, "alice-bl@example.com")
			bob := srv.CreateUser(t, "bob-bl@example.com")
			sys := viewer.System(context.Background())
			newest := map[string]string{}
			for _, uid := range []string{alice, bob} {
				for _, m := range []string{"resting_hr", "hrv_rmssd", "steps"} {
					for _, d := range []int{3, 9, 1, 7} { // written out of order
						day := dayN(d).Format(time.DateOnly)
						if uid == bob {
							day = dayN(d + 20).Format(time.DateOnly) // bob's are newer
						}
						_, err := srv.App.Store.Client.Baseline.Create().SetUserID(uid).SetMetric(m).SetAsOfDay(day).
							SetState(baseline.StateREADY).SetValidDays(d).SetValidDaysLast28(d).Save(sys)
						require.NoError(t, err)
						if uid == alice && day > newest[m] {
							newest[m] = day
						}
					}
				}
			}
			var out struct {
				Baselines []struct {
					Metric  string `json:"metric"`
					AsOfDay string `json:"asOfDay"`
				} `json:"baselines"`
			}
			srv.Do(t, alice, `{ baselines { metric asOfDay } }`, nil).Decode(t, &out)
			require.Len(t, out.Baselines, 3)
			for i, b := range out.Baselines {
				require.Equal(t, newest[b.Metric], b.AsOfDay, b.Metric)
				if i > 0 {
					require.Less(t, out.Baselines[i-1].Metric, b.Metric, "ordered by metric")
				}
			}
			srv.Do(t, alice, `{ baselines(metric: "steps") { metric asOfDay } }`, nil).Decode(t, &out)
			require.Len(t, out.Baselines, 1)
			require.Equal(t, newest["steps"], out.Baselines[0].AsOfDay)
		})
	}
}
