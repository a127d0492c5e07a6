package server_test

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const honestEvalMutation = `mutation($id: ID!) {
  evaluateIntervention(id: $id) {
    id effect ciLow ciHigh effectPercent ciLowPercent ciHighPercent claim directionSupported interim
    evidenceGrade confidence coverage interventionWindow { from to }
    evidence { grade why }
    narrative { text }
  }
}`

type honestEval struct {
	EvaluateIntervention struct {
		ID                 string   `json:"id"`
		Effect             *float64 `json:"effect"`
		CILow              *float64 `json:"ciLow"`
		CIHigh             *float64 `json:"ciHigh"`
		EffectPercent      *float64 `json:"effectPercent"`
		CILowPercent       *float64 `json:"ciLowPercent"`
		CIHighPercent      *float64 `json:"ciHighPercent"`
		Claim              string   `json:"claim"`
		DirectionSupported bool     `json:"directionSupported"`
		Interim            bool     `json:"interim"`
		EvidenceGrade      string   `json:"evidenceGrade"`
		Confidence         float64  `json:"confidence"`
		Coverage           float64  `json:"coverage"`
		InterventionWindow struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"interventionWindow"`
		Evidence struct {
			Grade string `json:"grade"`
			Why   string `json:"why"`
		} `json:"evidence"`
		Narrative struct {
			Text string `json:"text"`
		} `json:"narrative"`
	} `json:"evaluateIntervention"`
}

func evaluateHonestly(t *testing.T, srv *servertest.Server, uid, id string) honestEval {
	t.Helper()
	var ev honestEval
	srv.Do(t, uid, honestEvalMutation, map[string]any{"id": id}).Decode(t, &ev)
	e := ev.EvaluateIntervention
	require.Equal(t, e.EvidenceGrade, e.Evidence.Grade)
	require.True(t, strings.HasPrefix(e.Evidence.Why, "Grade "+e.EvidenceGrade+"."), "the stored grade and its explanation agree: %s", e.Evidence.Why)
	return ev
}

func startExperiment(t *testing.T, srv *servertest.Server, uid string, in map[string]any) string {
	t.Helper()
	var st startOut
	srv.Do(t, uid, startMutation, map[string]any{"in": in}).Decode(t, &st)
	require.True(t, st.StartIntervention.Started, st.StartIntervention.Message)
	return st.StartIntervention.Intervention.ID
}

func logAll(t *testing.T, srv *servertest.Server, uid, id string, from time.Time, days int, adherent func(time.Time) bool) {
	t.Helper()
	for k := range days {
		d := from.AddDate(0, 0, k)
		srv.Do(t, uid, `mutation($id: ID!, $day: String!, $a: Boolean!) { logAdherence(interventionID: $id, day: $day, adherent: $a) { id } }`,
			map[string]any{"id": id, "day": d.Format(time.DateOnly), "a": adherent(d)}).Decode(t, &struct{}{})
	}
}

// TestCrossoverThroughTheAPI: a CROSSOVER start draws a randomized,
// balanced block order from a stored seed, returns the day-by-day schedule
// and audits the draw; the order is reproducible from the audited seed; the
// evaluation compares within cycles and finds a planted effect under drift.
func TestCrossoverThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "crossover@example.com")
	// 28 days of history (days 1–28), the crossover from day 29.
	rng := rand.New(rand.NewPCG(3, 4))
	var hist []sample
	for n := 1; n <= 28; n++ {
		s := hrv(n, 0)
		s["metric"], s["unit"], s["value"] = "sleep_duration", "min", 400+20*rng.NormFloat64()+1.5*float64(n)
		hist = append(hist, s)
	}
	pinClock(srv, 28)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": hist}).Decode(t, &ingestOut{})
	pinClock(srv, 29)
	// A fixed seed keeps the test deterministic (production draws it from
	// crypto/rand); the order it gives is still checked against the audit.
	srv.App.Intervene.Seed = func() uint64 { return 20261202 }
	id := startExperiment(t, srv, uid, map[string]any{
		"title": "No screens after 10pm", "protocolKind": "SCREEN_CURFEW", "targetMetric": "sleep_duration",
		"expectedDirection": "INCREASE", "design": "CROSSOVER", "cycles": 4, "blockDays": 9, "lagDays": 2,
	})

	var sched struct {
		Node struct {
			Design    string `json:"design"`
			Cycles    int    `json:"cycles"`
			BlockDays int    `json:"blockDays"`
			Planned   int    `json:"plannedDays"`
			Schedule  []struct {
				Day     string `json:"day"`
				Cycle   int    `json:"cycle"`
				Arm     string `json:"arm"`
				Washout bool   `json:"washout"`
			} `json:"schedule"`
		} `json:"node"`
	}
	srv.Do(t, uid, `query($id: ID!) { node(id: $id) { ... on Intervention { design cycles blockDays plannedDays schedule { day cycle arm washout } } } }`,
		map[string]any{"id": id}).Decode(t, &sched)
	n := sched.Node
	require.Equal(t, "CROSSOVER", n.Design)
	require.Equal(t, 72, n.Planned, "4 cycles × 2 blocks × 9 days")
	require.Len(t, n.Schedule, 72)
	require.Equal(t, dayN(29).Format(time.DateOnly), n.Schedule[0].Day)
	perCycle := map[int]int{}
	for i, d := range n.Schedule {
		require.Equal(t, i%9 < 2, d.Washout, "the first 2 days of every block are washout")
		if d.Arm == evaluate.ArmIntervention {
			perCycle[d.Cycle]++
		}
	}
	require.Equal(t, map[int]int{1: 9, 2: 9, 3: 9, 4: 9}, perCycle, "one intervention block per cycle")

	// The draw is audited with its seed and reproducible from it.
	ctx := viewer.System(context.Background())
	ev, err := srv.App.Store.Client.AuditEvent.Query().Where(auditevent.EntityID(id), auditevent.Action("start")).Only(ctx)
	require.NoError(t, err)
	cross, ok := ev.Details["crossover"].(map[string]any)
	require.True(t, ok, "the audit event carries the crossover draw: %v", ev.Details)
	itv, err := srv.App.Store.Client.Intervention.Get(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, itv.CrossoverSeed)
	require.InDelta(t, float64(*itv.CrossoverSeed), cross["seed"], 1e6, "the audited seed is the stored seed")
	redraw, err := evaluate.DrawCrossover(4, 9, uint64(*itv.CrossoverSeed))
	require.NoError(t, err)
	require.Equal(t, redraw.InterventionFirst, itv.CrossoverOrder, "the order is reproducible from the seed")
	require.Equal(t, intervention.DesignCROSSOVER, itv.Design)

	// Data: drift continues (+1.5/day) and the intervention adds +30 min.
	var data []sample
	for i, d := range n.Schedule {
		day := 29 + i
		s := hrv(day, 0)
		v := 400 + 20*rng.NormFloat64() + 1.5*float64(day)
		if d.Arm == evaluate.ArmIntervention {
			v += 30
		}
		s["metric"], s["unit"], s["value"] = "sleep_duration", "min", v
		data = append(data, s)
	}
	pinClock(srv, 29+71)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": data}).Decode(t, &ingestOut{})
	logAll(t, srv, uid, id, dayN(29), 72, func(time.Time) bool { return true })
	out := evaluateHonestly(t, srv, uid, id).EvaluateIntervention
	require.Equal(t, evaluate.ClaimDirection, out.Claim, "a 1.5 SD effect is found within cycles despite the drift: %s", out.Narrative.Text)
	require.Greater(t, *out.Effect, 10.0)
	require.Contains(t, out.Narrative.Text, "randomized order over 4 cycles")
}

// TestRetrospectiveAnalysisIsObservationalAndCappedAtC: the G1 data (grade A
// as a planned experiment) registered after the fact is an observational
// look back: labelled so in the API and the narrative, grade at most C.
func TestRetrospectiveAnalysisIsObservationalAndCappedAtC(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "retro@example.com")
	fx := loadFixture(t, "g1")
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	in := startInput(fx, "CAFFEINE_CUTOFF")["in"].(map[string]any)
	id := startExperiment(t, srv, uid, in) // startDay 2026-03-30 while today is day 60
	var got struct {
		Node struct {
			Retrospective bool `json:"retrospective"`
		} `json:"node"`
	}
	srv.Do(t, uid, `query($id: ID!) { node(id: $id) { ... on Intervention { retrospective } } }`, map[string]any{"id": id}).Decode(t, &got)
	require.True(t, got.Node.Retrospective)
	logAll(t, srv, uid, id, dayN(29), 32, func(time.Time) bool { return true })
	out := evaluateHonestly(t, srv, uid, id).EvaluateIntervention
	require.Equal(t, "C", out.EvidenceGrade, "capped at C: %s", out.Evidence.Why)
	require.Contains(t, out.Evidence.Why, "observational look back")
	require.Contains(t, out.Narrative.Text, "observational look back")
	require.Contains(t, out.Narrative.Text, "may have increased", "grade C wording")
}

// TestHRVEffectInPercentAndInterimWithTheCurrentDay: HRV is analysed on the
// log scale and reported as a percent change (and in ms at the usual
// level); an evaluation while the experiment runs is interim, shows the
// real last day, and today's missing value counts neither as missing nor as
// non-adherent.
func TestHRVEffectInPercentAndInterimWithTheCurrentDay(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "hrv-pct@example.com")
	rng := rand.New(rand.NewPCG(11, 12))
	var data []sample
	for n := 1; n <= 49; n++ { // day 50 (today) has no value yet
		v := math.Log(50) + 0.08*rng.NormFloat64()
		if n >= 31 {
			v += 0.25 // +28% from day 31 (after the 2 lag days)
		}
		data = append(data, hrv(n, math.Round(math.Exp(v)*10)/10))
	}
	pinClock(srv, 49)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": data}).Decode(t, &ingestOut{})
	pinClock(srv, 29)
	id := startExperiment(t, srv, uid, map[string]any{
		"title": "Evening meditation", "protocolKind": "MEDITATION", "targetMetric": "hrv_rmssd",
		"expectedDirection": "INCREASE", "plannedDays": 32, "lagDays": 2,
	})
	pinClock(srv, 50)
	logAll(t, srv, uid, id, dayN(29), 21, func(time.Time) bool { return true }) // days 29–49 logged; today not yet
	out := evaluateHonestly(t, srv, uid, id).EvaluateIntervention
	require.NotNil(t, out.EffectPercent)
	require.InDelta(t, 28.4, *out.EffectPercent, 8, "percent change of a +0.25 ln effect")
	require.Less(t, *out.CILowPercent, *out.EffectPercent)
	require.Greater(t, *out.CIHighPercent, *out.EffectPercent)
	require.InDelta(t, 50*math.Expm1(0.25), *out.Effect, 5, "the effect in ms at the usual level")
	require.True(t, out.Interim)
	require.InDelta(t, 1.0, out.Coverage, 1e-9, "today without a value is not a missing day")
	require.Equal(t, dayN(49).Format(time.DateOnly), out.InterventionWindow.To, "the window shows the last day that is over")
	require.Contains(t, out.Narrative.Text, "interim")
	require.Contains(t, out.Narrative.Text, "%")
	require.Contains(t, out.Narrative.Text, "ms at your usual level")
	require.NotContains(t, out.Narrative.Text, "adherence 9", "adherence stays 100%: today is not non-adherent")
}

// TestEarlyCompletionShowsTheRealEnd: completing on day 50 of a window
// planned to day 60 evaluates up to day 50 and says it ended early.
func TestEarlyCompletionShowsTheRealEnd(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "early@example.com")
	fx := loadFixture(t, "g1")
	pinClock(srv, 50)
	var upTo50 []sample
	for _, s := range fx.samples() {
		if s["localDay"].(string) <= dayN(50).Format(time.DateOnly) {
			upTo50 = append(upTo50, s)
		}
	}
	srv.Do(t, uid, ingestMutation, map[string]any{"input": upTo50}).Decode(t, &ingestOut{})
	pinClock(srv, 29)
	id := startExperiment(t, srv, uid, startInput(fx, "CAFFEINE_CUTOFF")["in"].(map[string]any))
	pinClock(srv, 50)
	logAll(t, srv, uid, id, dayN(29), 22, func(time.Time) bool { return true })
	srv.Do(t, uid, `mutation($id: ID!) { completeIntervention(id: $id) { id status } }`, map[string]any{"id": id}).Decode(t, &struct{}{})
	out := evaluateHonestly(t, srv, uid, id).EvaluateIntervention
	require.False(t, out.Interim)
	require.Equal(t, dayN(50).Format(time.DateOnly), out.InterventionWindow.To)
	require.Contains(t, out.Narrative.Text, "ending 10 days before its planned end on "+dayN(60).Format(time.DateOnly))
	require.NotContains(t, out.Narrative.Text, "interim")
}

// TestSlowLLMDoesNotBlockTheUsersOtherWriters: while an evaluation waits
// 2.5 s for the LLM, an ingestion for the same user goes through: the
// narrative is written before the evaluation's first write, so no row lock
// is held during the network call (issue #10).
func TestSlowLLMDoesNotBlockTheUsersOtherWriters(t *testing.T) {
	t.Parallel()
	llmCalled := make(chan struct{}, 1)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case llmCalled <- struct{}{}:
		default:
		}
		select {
		case <-time.After(2500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"We can't tell."}}]}`))
	}))
	defer fake.Close()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.LLM.BaseURL, c.LLM.Model, c.LLM.APIKey = fake.URL, "test-model", "sk-test"
		c.LLM.Timeout = 5 * time.Second
	})
	uid := srv.CreateUser(t, "slow-llm@example.com")
	fx := loadFixture(t, "g1")
	pinClock(srv, 60)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": fx.samples()}).Decode(t, &ingestOut{})
	pinClock(srv, fx.startIdx)
	id := startExperiment(t, srv, uid, startInput(fx, "CAFFEINE_CUTOFF")["in"].(map[string]any))
	pinClock(srv, 60)
	logAll(t, srv, uid, id, dayN(29), 32, func(time.Time) bool { return true })

	evalDone := make(chan time.Time, 1)
	go func() {
		var ev honestEval
		srv.Do(t, uid, honestEvalMutation, map[string]any{"id": id}).Decode(t, &ev)
		evalDone <- time.Now()
	}()
	select {
	case <-llmCalled:
	case <-time.After(20 * time.Second):
		t.Fatal("the LLM was never called")
	}
	began := time.Now()
	s := hrv(60, 48)
	srv.Do(t, uid, ingestMutation, map[string]any{"input": []sample{s}}).Decode(t, &ingestOut{})
	ingested := time.Now()
	t.Logf("ingestion for the same user took %v while the LLM was still answering", ingested.Sub(began))
	finished := <-evalDone
	require.True(t, ingested.Before(finished), "the ingestion finished before the evaluation: it did not wait for the LLM")
	require.Less(t, ingested.Sub(began), 2*time.Second, "not held up by the 2.5 s LLM call")
}
