// Command gen writes the provider-shaped inputs of the golden regression
// scenarios (docs/domain.md §6; issue 6) to golden/testdata/<case>/:
//
//	go run ./golden/internal/gen -out golden/testdata
//
// Every case covers 60 days from Monday 2026-03-02 in America/New_York
// (daylight saving starts on 2026-03-08, day 7, so offsets switch from
// -05:00 to -04:00 inside the window). For each case it writes the provider
// payloads (WHOOP / Oura bundles, Apple HealthKit statistics), the
// scenario.json that drives the API regression (see golden/README.md) and
// expected_series.csv, the canonical values the payloads must parse to.
//
// G1, G2 and G4b reuse the committed evaluation fixtures
// engine/evaluate/testdata/{g1,g2,g4b}.csv as the nightly sleep: each value
// is written as WHOOP stage milliseconds rounded to the millisecond, so it
// parses back within 1/120 000 min (< 0.00001 min) of the CSV. G3 and G4a
// plant ln RMSSD series with the same seeded AR(1) construction as
// engine/evaluate/internal/fixturegen (noise projected off each window's
// mean and trend, baseline noise scaled to exactly σ); their seeds are the
// first ones for which engine/detect finds exactly the planted pattern.
//
// Output is deterministic. The files are generated once and committed;
// tests read them and never regenerate them.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// Common setup (docs/domain.md §6).
const (
	timeZone     = "America/New_York"
	numDays      = 60
	startDayN    = 29 // intervention start
	lagDays      = 2
	plannedDays  = 32 // days 29–60, lag included
	baselineDays = 28
)

var firstDay = series.DayOf(2026, time.March, 2)

// date returns the calendar date of 1-based day n.
func date(n int) series.Day { return series.AddDays(firstDay, n-1) }

func dayString(n int) string { return date(n).Format(time.DateOnly) }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", filepath.Join("golden", "testdata"), "output directory")
	fixtures := fs.String("fixtures", filepath.Join("engine", "evaluate", "testdata"), "directory of the committed g1/g2/g4b CSVs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("unexpected arguments")
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return err
	}
	g := &gen{loc: loc, fixtures: *fixtures}
	cases := []func() (*caseOut, error){
		g.g1, g.g2, g.g3, g.g4a, g.g4b, g.dstDay, g.duplicateSources, g.rescored,
	}
	for _, build := range cases {
		c, err := build()
		if err != nil {
			return err
		}
		if err := c.write(filepath.Join(*out, c.scenario.Name)); err != nil {
			return fmt.Errorf("%s: %w", c.scenario.Name, err)
		}
		fmt.Fprintln(stdout, "wrote", filepath.Join(*out, c.scenario.Name))
	}
	return nil
}

// ---------------------------------------------------------------------------
// scenario.json

// Scenario is golden/testdata/<case>/scenario.json (format: golden/README.md).
type Scenario struct {
	Name                string         `json:"name"`
	Description         string         `json:"description"`
	Timezone            string         `json:"timezone"`
	FirstDay            string         `json:"first_day"`
	Days                int            `json:"days"`
	Clock               string         `json:"clock"`
	ProviderConnections []Connection   `json:"provider_connections"`
	Interventions       []Intervention `json:"interventions"`
	Steps               []Step         `json:"steps"`
	Planted             map[string]any `json:"planted"`
}

// Connection is a provider connection (GraphQL enum spellings).
type Connection struct {
	Provider       string  `json:"provider"`
	Status         string  `json:"status"`
	DisconnectedAt *string `json:"disconnected_at"`
}

// Intervention is a StartInterventionInput plus its adherence log and the
// day it is evaluated on.
type Intervention struct {
	Title             string          `json:"title"`
	ProtocolKind      string          `json:"protocolKind"`
	TargetMetric      string          `json:"targetMetric"`
	ExpectedDirection string          `json:"expectedDirection"`
	PlannedDays       int             `json:"plannedDays"`
	LagDays           int             `json:"lagDays"`
	StartDay          string          `json:"startDay"`
	Adherence         map[string]bool `json:"adherence"`
	EvaluateOn        string          `json:"evaluateOn"`
}

// Step actions.
const (
	actIngest            = "ingest"
	actStartIntervention = "start_intervention"
	actLogAdherence      = "log_adherence"
	actSetConnection     = "set_connection"
	actRunLoop           = "run_loop"
	actEvaluate          = "evaluate"
)

// Step is one action of the regression run, in order.
type Step struct {
	At             string  `json:"at"` // simulated clock of the step, RFC 3339
	Action         string  `json:"action"`
	Provider       string  `json:"provider,omitempty"` // ingest: providers.Parse name; set_connection: GraphQL enum
	File           string  `json:"file,omitempty"`
	Samples        *int    `json:"samples,omitempty"` // ingest: samples the file parses to
	Intervention   *int    `json:"intervention,omitempty"`
	Through        string  `json:"through,omitempty"` // log_adherence: last day logged
	Status         string  `json:"status,omitempty"`
	DisconnectedAt *string `json:"disconnected_at,omitempty"`
	Note           string  `json:"note,omitempty"`
}

func intp(i int) *int { return &i }

// ---------------------------------------------------------------------------
// case output

type file struct {
	name string
	data []byte
}

type seriesRow struct {
	day            int
	metric, source string
	value          float64
}

type caseOut struct {
	scenario Scenario
	files    []file
	expected []seriesRow
}

func (c *caseOut) addFile(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	c.files = append(c.files, file{name: name, data: append(b, '\n')})
	return nil
}

// ingest appends an ingest step for the last added file, with its sample
// count from providers.Parse.
func (c *caseOut) ingest(at time.Time, provider, note string) error {
	f := c.files[len(c.files)-1]
	res, err := providers.Parse(provider, f.data)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	c.scenario.Steps = append(c.scenario.Steps, Step{
		At: rfc(at), Action: actIngest, Provider: provider, File: f.name, Samples: intp(len(res.Samples)), Note: note,
	})
	return nil
}

func (c *caseOut) step(at time.Time, s Step) {
	s.At = rfc(at)
	c.scenario.Steps = append(c.scenario.Steps, s)
}

func (c *caseOut) expect(day int, metric, source string, v float64) {
	c.expected = append(c.expected, seriesRow{day: day, metric: metric, source: source, value: v})
}

func (c *caseOut) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // committed test data, world-readable like the repo
		return err
	}
	sc, err := json.MarshalIndent(c.scenario, "", "  ")
	if err != nil {
		return err
	}
	all := append([]file{{name: "scenario.json", data: append(sc, '\n')}}, c.files...)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"day", "metric", "source", "value"})
	rows := slices.Clone(c.expected)
	slices.SortStableFunc(rows, func(a, b seriesRow) int {
		if a.day != b.day {
			return a.day - b.day
		}
		if a.source != b.source {
			return cmpString(a.source, b.source)
		}
		return cmpString(a.metric, b.metric)
	})
	for _, r := range rows {
		_ = w.Write([]string{dayString(r.day), r.metric, r.source, strconv.FormatFloat(r.value, 'f', -1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	all = append(all, file{name: "expected_series.csv", data: buf.Bytes()})
	for _, f := range all {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil { //nolint:gosec // committed test data
			return err
		}
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// time helpers

type gen struct {
	loc      *time.Location
	fixtures string
}

// local returns the instant of day n at hh:mm local time.
func (g *gen) local(n, hh, mm int) time.Time {
	d := date(n)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, g.loc)
}

// endOfDay returns 23:59:59 local on day n.
func (g *gen) endOfDay(n int) time.Time {
	d := date(n)
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, g.loc)
}

func rfc(t time.Time) string { return t.Format(time.RFC3339) }

// whoopTime formats t as WHOOP does: UTC with milliseconds.
func whoopTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// offsetString formats the offset of t as "±HH:MM".
func offsetString(t time.Time) string { return t.Format("-07:00") }

// uuid returns a deterministic version-4 UUID drawn from rng.
func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func ptr(v float64) *float64 { return &v }

// ---------------------------------------------------------------------------
// WHOOP nights

// night is one day's WHOOP data. sleepMin < 0 means no sleep record.
type night struct {
	day      int
	sleepMin float64 // planted total sleep, minutes
	state    string  // score_state of sleep and recovery
	zero     bool    // provider returns zeros (scored, all values 0)
	hrv, rhr float64 // recovery values; hrv == 0 → no recovery record
	updated  time.Duration
}

// whoopPlan turns nights into WHOOP records with deterministic ids and times.
type whoopPlan struct {
	g      *gen
	rng    *rand.Rand
	ids    map[int]string // sleep UUID per day (stable across files)
	wakes  map[int]time.Time
	inBeds map[int]int64
}

func (g *gen) newWhoopPlan(seed uint64) *whoopPlan {
	p := &whoopPlan{g: g, rng: rand.New(rand.NewPCG(seed, 0x3779)), //nolint:gosec // seeded fixture data, not security
		ids: map[int]string{}, wakes: map[int]time.Time{}, inBeds: map[int]int64{}}
	for n := 1; n <= numDays; n++ {
		p.ids[n] = uuid(p.rng)
		p.wakes[n] = g.local(n, 6, 30).Add(time.Duration(p.rng.IntN(61)) * time.Minute)
		p.inBeds[n] = int64(15+p.rng.IntN(31)) * 60_000 // awake time, whole minutes
	}
	return p
}

// sleepMS returns minutes as whole milliseconds (exact for multiples of 0.001 min).
func sleepMS(minutes float64) int64 { return int64(math.Round(minutes * 60000)) }

// records returns the WHOOP sleep and recovery records of nights.
func (p *whoopPlan) records(nights []night) ([]providers.WhoopSleepRecord, []providers.WhoopRecoveryRecord) {
	var sleeps []providers.WhoopSleepRecord
	var recs []providers.WhoopRecoveryRecord
	for _, nt := range nights {
		if nt.sleepMin < 0 {
			continue
		}
		n := nt.day
		end := p.wakes[n]
		asleep := sleepMS(nt.sleepMin)
		awake := p.inBeds[n]
		inBed := asleep + awake
		if nt.zero {
			inBed, awake = 0, 0
		}
		start := end.Add(-time.Duration(asleep+p.inBeds[n]) * time.Millisecond)
		created := end.Add(25 * time.Minute)
		updated := created.Add(nt.updated)
		state := nt.state
		if state == "" {
			state = providers.WhoopScored
		}
		cycleID := int64(1_180_000 + n)
		s := providers.WhoopSleepRecord{
			ID: p.ids[n], CycleID: cycleID, UserID: 10129,
			CreatedAt: whoopTime(created), UpdatedAt: whoopTime(updated),
			Start: whoopTime(start), End: whoopTime(end),
			// WHOOP reports one offset per record; we use the offset at
			// the start, so the spring-forward night carries -05:00
			// although it ends in EDT (the wake day is the same).
			TimezoneOffset: offsetString(start.In(p.g.loc)),
			ScoreState:     state,
		}
		if state == providers.WhoopScored {
			if nt.zero {
				asleep = 0
			}
			light := asleep * 55 / 100
			sws := asleep * 20 / 100
			rem := asleep - light - sws
			eff, resp := 0.0, 0.0
			if !nt.zero {
				eff = round(100*float64(asleep)/float64(inBed), 4)
				resp = round(14.2+0.1*float64(p.rng.IntN(13)), 1)
			}
			s.Score = &providers.WhoopSleepScore{
				StageSummary: &providers.WhoopStageSummary{
					TotalInBedTimeMilli: inBed, TotalAwakeTimeMilli: awake,
					TotalLightSleepTimeMilli: light, TotalSlowWaveSleepTimeMilli: sws, TotalRemSleepTimeMilli: rem,
					SleepCycleCount: 4 + int(asleep/(100*60_000)), DisturbanceCount: p.rng.IntN(12),
				},
				RespiratoryRate:            ptr(resp),
				SleepPerformancePercentage: ptr(float64(min(100, int(100*float64(asleep)/(480*60_000))))),
				SleepConsistencyPercentage: ptr(float64(70 + p.rng.IntN(25))),
				SleepEfficiencyPercentage:  ptr(eff),
			}
		}
		sleeps = append(sleeps, s)
		if nt.hrv == 0 && !nt.zero {
			continue
		}
		r := providers.WhoopRecoveryRecord{
			CycleID: cycleID, SleepID: p.ids[n], UserID: 10129,
			CreatedAt: whoopTime(created), UpdatedAt: whoopTime(updated), ScoreState: state,
		}
		if state == providers.WhoopScored {
			sc := &providers.WhoopRecoveryScore{
				UserCalibrating:  n <= 4, // WHOOP calibrates over the first 4 recoveries
				RestingHeartRate: ptr(nt.rhr), HRVRMSSDMilli: ptr(nt.hrv),
				RecoveryScore:   ptr(recoveryScore(nt.hrv)),
				SpO2Percentage:  ptr(round(95.5+0.125*float64(p.rng.IntN(20)), 4)),
				SkinTempCelsius: ptr(round(33.2+0.1*float64(p.rng.IntN(9)), 1)),
			}
			if nt.zero {
				sc = &providers.WhoopRecoveryScore{
					RestingHeartRate: ptr(0), HRVRMSSDMilli: ptr(0), RecoveryScore: ptr(0),
					SpO2Percentage: ptr(0), SkinTempCelsius: ptr(0),
				}
			}
			r.Score = sc
		}
		recs = append(recs, r)
	}
	return sleeps, recs
}

// nap returns a scored nap on the afternoon of day n.
func (p *whoopPlan) nap(n int) providers.WhoopSleepRecord {
	start := p.g.local(n, 14, 10)
	end := start.Add(35 * time.Minute)
	return providers.WhoopSleepRecord{
		ID: uuid(p.rng), CycleID: int64(1_180_000 + n), UserID: 10129,
		CreatedAt: whoopTime(end.Add(10 * time.Minute)), UpdatedAt: whoopTime(end.Add(10 * time.Minute)),
		Start: whoopTime(start), End: whoopTime(end), TimezoneOffset: offsetString(start), Nap: true,
		ScoreState: providers.WhoopScored,
		Score: &providers.WhoopSleepScore{
			StageSummary: &providers.WhoopStageSummary{
				TotalInBedTimeMilli: 2_100_000, TotalAwakeTimeMilli: 300_000,
				TotalLightSleepTimeMilli: 1_200_000, TotalSlowWaveSleepTimeMilli: 420_000, TotalRemSleepTimeMilli: 180_000,
				SleepCycleCount: 1,
			},
			RespiratoryRate: ptr(14.6), SleepEfficiencyPercentage: ptr(85.7143),
		},
	}
}

// recoveryScore maps HRV to a plausible 1–99 recovery score.
func recoveryScore(hrv float64) float64 {
	return math.Max(1, math.Min(99, math.Round(55+120*(math.Log(hrv)-math.Log(55)))))
}

func whoopBundle(sleeps []providers.WhoopSleepRecord, recs []providers.WhoopRecoveryRecord, cycles []providers.WhoopCycleRecord) providers.WhoopBundle {
	if sleeps == nil {
		sleeps = []providers.WhoopSleepRecord{}
	}
	b := providers.WhoopBundle{Sleep: &providers.WhoopPage[providers.WhoopSleepRecord]{Records: sleeps}}
	if recs != nil {
		b.Recovery = &providers.WhoopPage[providers.WhoopRecoveryRecord]{Records: recs}
	}
	if cycles != nil {
		b.Cycle = &providers.WhoopPage[providers.WhoopCycleRecord]{Records: cycles}
	}
	return b
}

// expectNights records the canonical values the nights parse to.
func (c *caseOut) expectNights(nights []night) {
	for _, nt := range nights {
		if nt.sleepMin < 0 || (nt.state != "" && nt.state != providers.WhoopScored) {
			continue
		}
		v := nt.sleepMin
		if nt.zero {
			v = 0
		}
		c.expect(nt.day, metrics.KeySleepDuration, metrics.SourceWhoop, v)
		if nt.hrv != 0 || nt.zero {
			c.expect(nt.day, metrics.KeyHRVRMSSD, metrics.SourceWhoop, nt.hrv)
			c.expect(nt.day, metrics.KeyRestingHR, metrics.SourceWhoop, nt.rhr)
		}
	}
}

// ---------------------------------------------------------------------------
// fixture CSVs (engine/evaluate/testdata)

type fixtureDay struct {
	value    float64 // NaN when missing
	adherent *bool   // nil before the intervention
}

func (g *gen) readFixture(name string) ([]fixtureDay, error) {
	f, err := os.Open(filepath.Join(g.fixtures, name+".csv")) //nolint:gosec // developer-supplied fixture directory
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) != numDays+1 {
		return nil, fmt.Errorf("%s.csv: %d rows, want %d", name, len(rows)-1, numDays)
	}
	out := make([]fixtureDay, numDays)
	for i, r := range rows[1:] {
		if r[0] != dayString(i+1) {
			return nil, fmt.Errorf("%s.csv row %d: day %s, want %s", name, i+1, r[0], dayString(i+1))
		}
		out[i].value = math.NaN()
		if r[1] != "" {
			if out[i].value, err = strconv.ParseFloat(r[1], 64); err != nil {
				return nil, err
			}
		}
		if r[2] != "" {
			b := r[2] == "true"
			out[i].adherent = &b
		}
	}
	return out, nil
}

func adherenceOf(fx []fixtureDay) map[string]bool {
	out := map[string]bool{}
	for i, d := range fx {
		if d.adherent != nil {
			out[dayString(i+1)] = *d.adherent
		}
	}
	return out
}

func allAdherent() map[string]bool {
	out := map[string]bool{}
	for n := startDayN; n < startDayN+plannedDays; n++ {
		out[dayString(n)] = true
	}
	return out
}

func intervention(title, kind, metric string, adherence map[string]bool) Intervention {
	return Intervention{
		Title: title, ProtocolKind: kind, TargetMetric: metric, ExpectedDirection: "INCREASE",
		PlannedDays: plannedDays, LagDays: lagDays, StartDay: dayString(startDayN),
		Adherence: adherence, EvaluateOn: dayString(numDays),
	}
}

func (g *gen) newCase(name, desc string) *caseOut {
	return &caseOut{scenario: Scenario{
		Name: name, Description: desc, Timezone: timeZone, FirstDay: dayString(1), Days: numDays,
		Clock:               rfc(g.endOfDay(numDays)),
		ProviderConnections: []Connection{{Provider: "WHOOP", Status: "CONNECTED"}},
		Interventions:       []Intervention{},
		Planted:             map[string]any{},
	}}
}

// standardTail appends the steps after the ingest steps: each intervention
// is started on its start day at 08:00 (the service refuses start days more
// than a week in the past: no backdating after seeing the data), then at the
// clock its adherence is logged, the loop runs once and each intervention is
// evaluated.
func (c *caseOut) standardTail(g *gen, interventions int) {
	end := g.endOfDay(numDays)
	for i := range interventions {
		c.step(g.local(startDayN, 8, 0), Step{Action: actStartIntervention, Intervention: intp(i)})
		c.step(end, Step{Action: actLogAdherence, Intervention: intp(i), Through: dayString(numDays)})
	}
	c.step(end, Step{Action: actRunLoop})
	for i := range interventions {
		c.step(end, Step{Action: actEvaluate, Intervention: intp(i)})
	}
}

// fixtureCase builds G1, G2 or G4b from its committed CSV.
func (g *gen) fixtureCase(name, fixture, desc string, seed uint64, iv Intervention, unscorable []int, napDays []int) (*caseOut, error) {
	fx, err := g.readFixture(fixture)
	if err != nil {
		return nil, err
	}
	c := g.newCase(name, desc)
	p := g.newWhoopPlan(seed)
	var nights []night
	for i, d := range fx {
		n := i + 1
		switch {
		case slices.Contains(unscorable, n):
			nights = append(nights, night{day: n, sleepMin: 420, state: providers.WhoopUnscorable})
		case math.IsNaN(d.value):
			// no record at all
		default:
			nights = append(nights, night{day: n, sleepMin: d.value})
		}
	}
	sleeps, _ := p.records(nights)
	for _, n := range napDays {
		sleeps = append(sleeps, p.nap(n))
	}
	slices.SortStableFunc(sleeps, func(a, b providers.WhoopSleepRecord) int { return cmpString(a.End, b.End) })
	if err := c.addFile("whoop.json", whoopBundle(sleeps, nil, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceWhoop, "60 nights of WHOOP sleep (sleep collection only)"); err != nil {
		return nil, err
	}
	c.expectNights(nights)
	c.scenario.Interventions = []Intervention{iv}
	c.standardTail(g, 1)
	c.scenario.Planted["source_csv"] = "engine/evaluate/testdata/" + fixture + ".csv"
	c.scenario.Planted["source_json"] = "engine/evaluate/testdata/" + fixture + ".json"
	c.scenario.Planted["rounding"] = "sleep minutes written as whole WHOOP milliseconds: |parsed − CSV| ≤ 1/120000 min"
	return c, nil
}

func (g *gen) g1() (*caseOut, error) {
	fx, err := g.readFixture("g1")
	if err != nil {
		return nil, err
	}
	c, err := g.fixtureCase("g1_clean", "g1",
		"G1: clean 'no caffeine after 2pm'; sleep 400 min, σ=30, φ=0.3, +40 min from day 29; coverage and adherence 1.0. Expect Δ=40.0±0.5, g=1.296±0.01, grade A. One nap (day 13) is dropped.",
		101, intervention("No caffeine after 2pm", "CAFFEINE_CUTOFF", metrics.KeySleepDuration, adherenceOf(fx)), nil, []int{13})
	if err != nil {
		return nil, err
	}
	c.scenario.Planted["effect"], c.scenario.Planted["sigma"] = 40.0, 30.0
	return c, nil
}

func (g *gen) g2() (*caseOut, error) {
	fx, err := g.readFixture("g2")
	if err != nil {
		return nil, err
	}
	c, err := g.fixtureCase("g2_gaps_adherence", "g2",
		"G2: gaps plus partial adherence; +25 min on adherent days only. Missing days 5, 12, 19 (baseline) and 32, 35, 36, 40, 43, 44, 49, 50, 53, 55, 56, 59 (coverage 18/30); days 32 and 49 are UNSCORABLE records, the others have no record. Non-adherent days 33, 38, 41, 47, 52, 58 (adherence 0.80). Expect per-protocol Δ=25.0±0.5, ITT Δ=16.7±0.5, grade B or C.",
		102, intervention("No caffeine after 2pm", "CAFFEINE_CUTOFF", metrics.KeySleepDuration, adherenceOf(fx)), []int{32, 49}, nil)
	if err != nil {
		return nil, err
	}
	c.scenario.Planted["effect"], c.scenario.Planted["sigma"] = 25.0, 30.0
	return c, nil
}

func (g *gen) g4b() (*caseOut, error) {
	fx, err := g.readFixture("g4b")
	if err != nil {
		return nil, err
	}
	c, err := g.fixtureCase("g4b_drift", "g4b",
		"G4b: drift without effect; sleep σ=20, +1.5 min/day, no effect, noise orthogonalized. Expect slope 1.5±0.01, piecewise β₂=0±0.5, trend guard fired, grade D with a trend caveat.",
		104, intervention("Earlier bedtime", "SLEEP_SCHEDULE", metrics.KeySleepDuration, adherenceOf(fx)), nil, nil)
	if err != nil {
		return nil, err
	}
	c.scenario.Planted["effect"], c.scenario.Planted["sigma"], c.scenario.Planted["drift_per_day"] = 0.0, 20.0, 1.5
	return c, nil
}
