package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Planted HRV model of G3 and G4a (docs/domain.md §6).
const (
	hrvLevelMS = 55.0
	hrvSigma   = 0.10
	hrvPhi     = 0.4
	maxSeeds   = 500
)

// randomSeries returns numDays values level + σ·AR(1), rounded to places.
func randomSeries(seed uint64, level, sigma, phi float64, places int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0xa11ce)) //nolint:gosec // seeded fixture data, not security
	noise := arNoise(rng, numDays, phi)
	out := make([]float64, numDays)
	for i, e := range noise {
		out[i] = round(level+sigma*e, places)
	}
	return out
}

// findings runs engine/detect on vals (index day−1, NaN = missing) as of
// the last day and returns the findings.
func findings(metric string, vals []float64) []detect.Finding {
	m, _ := metrics.Lookup(metric)
	var s series.Series
	for i, v := range vals {
		if !math.IsNaN(v) && v != 0 {
			s = append(s, series.Point{Day: date(i + 1), Value: v})
		}
	}
	return detect.Run(detect.Input{
		Metric: metric, HigherIsBetter: m.Direction == metrics.HigherIsBetter, LnTransform: m.LnTransform,
		Series: s, AsOf: date(numDays),
	}, detect.Options{}).Findings
}

// kinds returns, per finding kind, the sorted first days (1-based) found.
func kinds(fs []detect.Finding) map[detect.Kind][]int {
	out := map[detect.Kind][]int{}
	for _, f := range fs {
		out[f.Kind] = append(out[f.Kind], series.DaysBetween(firstDay, f.Day)+1)
	}
	return out
}

func onlyKinds(fs []detect.Finding, want map[detect.Kind][]int) bool {
	got := kinds(fs)
	if len(got) != len(want) {
		return false
	}
	for k, days := range want {
		if !slices.Equal(got[k], days) {
			return false
		}
	}
	return true
}

func expSeries(ln []float64) []float64 {
	out := make([]float64, len(ln))
	for i, v := range ln {
		out[i] = round(math.Exp(v), 6)
	}
	return out
}

// ---------------------------------------------------------------------------
// G3

func (g *gen) g3() (*caseOut, error) {
	var gap []int
	for d := 36; d <= 55; d++ {
		gap = append(gap, d)
	}
	var hrv, rhr, sleep []float64
	var seed uint64
	for seed = 1; seed <= maxSeeds; seed++ {
		ln, err := plan{
			seed: 3000 + seed, level: math.Log(hrvLevelMS), sigma: hrvSigma, phi: hrvPhi, effect: 0.077,
			missing: gap, orthogonalize: true,
		}.build()
		if err != nil {
			return nil, err
		}
		hrv = expSeries(ln)
		rhr = randomSeries(3100+seed, 56, 2, 0.4, 0)
		sleep = randomSeries(3200+seed, 420, 30, 0.3, 3)
		for _, d := range gap {
			rhr[d-1], sleep[d-1] = math.NaN(), math.NaN()
		}
		gapOnly := map[detect.Kind][]int{detect.KindDataGap: {36}}
		if onlyKinds(findings(metrics.KeyHRVRMSSD, hrv), gapOnly) &&
			onlyKinds(findings(metrics.KeyRestingHR, rhr), gapOnly) &&
			onlyKinds(findings(metrics.KeySleepDuration, sleep), gapOnly) {
			break
		}
	}
	if seed > maxSeeds {
		return nil, fmt.Errorf("g3: no seed with a lone data gap in %d tries", maxSeeds)
	}
	c := g.newCase("g3_disconnection",
		"G3: disconnection. ln RMSSD mean ln 55, σ=0.10, φ=0.4, +0.077 from day 29. The WHOOP token is revoked on day 36; days 36–45 come back as scored records full of zeros, days 46–55 as empty pages; the connection returns on day 56 and days 56–60 are backfilled. Expect zeros stored as missing, a frozen baseline, exactly one data-gap insight, n=10, coverage 0.33, grade ≤ C with status insufficient coverage.")
	p := g.newWhoopPlan(3300 + seed)
	nightsFor := func(from, to int) []night {
		var ns []night
		for d := from; d <= to; d++ {
			switch {
			case d >= 36 && d <= 45:
				ns = append(ns, night{day: d, sleepMin: 420, zero: true})
			case d >= 46 && d <= 55:
			default:
				ns = append(ns, night{day: d, sleepMin: sleep[d-1], hrv: hrv[d-1], rhr: rhr[d-1]})
			}
		}
		return ns
	}
	iv := intervention("Ten minutes of slow breathing before bed", "MEDITATION", metrics.KeyHRVRMSSD, allAdherent())
	c.scenario.Interventions = []Intervention{iv}
	type chunk struct {
		name     string
		from, to int
		at       time.Time
		note     string
	}
	chunks := []chunk{
		{"whoop_days01_28.json", 1, 28, g.local(28, 9, 0), "baseline nights 1–28"},
		{"whoop_days29_35.json", 29, 35, g.local(35, 9, 0), "nights 29–35"},
		{"whoop_days36_45_zeros.json", 36, 45, g.local(45, 9, 0), "token revoked: the provider returns scored records full of zeros; every sample is stored as missing"},
		{"whoop_days46_55_empty.json", 46, 55, g.local(55, 9, 0), "token revoked: empty pages; 0 samples, so no ingest call (an empty batch is refused with EMPTY_BATCH)"},
		{"whoop_days56_60_backfill.json", 56, 60, g.endOfDay(numDays), "reconnected: backfill of nights 56–60"},
	}
	revokedAt := rfc(g.local(36, 3, 0))
	for i, ch := range chunks {
		ns := nightsFor(ch.from, ch.to)
		sl, rc := p.records(ns)
		if rc == nil {
			rc = []providers.WhoopRecoveryRecord{}
		}
		if err := c.addFile(ch.name, whoopBundle(sl, rc, nil)); err != nil {
			return nil, err
		}
		switch i {
		case 1:
			c.step(g.local(29, 8, 0), Step{Action: actStartIntervention, Intervention: intp(0)})
		case 2:
			c.step(g.local(36, 3, 0), Step{
				Action: actSetConnection, Provider: "WHOOP", Status: "REVOKED", DisconnectedAt: &revokedAt,
				Note: "the user revoked the WHOOP token",
			})
		case 4:
			c.step(g.local(56, 8, 0), Step{
				Action: actSetConnection, Provider: "WHOOP", Status: "CONNECTED",
				Note: "reconnected; disconnected_at is cleared",
			})
		}
		if err := c.ingest(ch.at, metrics.SourceWhoop, ch.note); err != nil {
			return nil, err
		}
		if i < len(chunks)-1 {
			c.step(ch.at, Step{Action: actRunLoop})
		}
		c.expectNights(ns)
	}
	end := g.endOfDay(numDays)
	c.step(end, Step{Action: actLogAdherence, Intervention: intp(0), Through: dayString(numDays)})
	c.step(end, Step{Action: actRunLoop})
	c.step(end, Step{Action: actEvaluate, Intervention: intp(0)})
	c.scenario.Planted = map[string]any{
		"metric": metrics.KeyHRVRMSSD, "ln_mean": math.Log(hrvLevelMS), "sigma_ln": hrvSigma, "phi": hrvPhi,
		"effect_ln": 0.077, "seed": seed, "zero_days": "36–45", "empty_days": "46–55", "backfill_days": "56–60",
		"evaluation_valid_days": 10, "coverage": 10.0 / 30,
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// G4a

func (g *gen) g4a() (*caseOut, error) {
	swing := []int{44, 45, 46}
	var hrv, rhr, sleep, ln []float64
	var seed uint64
	var nap float64
	for seed = 1; seed <= maxSeeds; seed++ {
		var err error
		ln, err = plan{
			seed: 4000 + seed, level: math.Log(hrvLevelMS), sigma: hrvSigma, phi: hrvPhi,
			excludeNoise: swing, orthogonalize: true,
		}.build()
		if err != nil {
			return nil, err
		}
		rhr = randomSeries(4100+seed, 55, 2, 0.4, 0)
		sleep = randomSeries(4200+seed, 420, 30, 0.3, 3)
		for _, d := range swing {
			ln[d-1] += math.Log(0.6) // −40 %
			rhr[d-1] += 8
		}
		hrv = expSeries(ln)
		nap = nonOverlap(ln[:baselineDays], ln[startDayN+lagDays-1:])
		anomalies := map[detect.Kind][]int{detect.KindAnomaly: swing}
		if math.Abs(nap-0.5) <= 0.05 &&
			onlyKinds(findings(metrics.KeyHRVRMSSD, hrv), anomalies) &&
			onlyKinds(findings(metrics.KeyRestingHR, rhr), anomalies) &&
			onlyKinds(findings(metrics.KeySleepDuration, sleep), nil) {
			break
		}
	}
	if seed > maxSeeds {
		return nil, fmt.Errorf("g4a: no seed with anomalies on exactly days 44–46 in %d tries", maxSeeds)
	}
	c := g.newCase("g4a_swing",
		"G4a: rapid swing, no effect. ln RMSSD mean ln 55, σ=0.10, φ=0.4, no effect; HRV −40% (ln −0.51) and resting HR +8 bpm on days 44–46, recovered from day 47. Expect anomalies on exactly days 44–46, no PELT change, NAP 0.5±0.1, wording 'can't tell', rest/safety notice not contradicted.")
	p := g.newWhoopPlan(4300 + seed)
	var ns []night
	for d := 1; d <= numDays; d++ {
		ns = append(ns, night{day: d, sleepMin: sleep[d-1], hrv: hrv[d-1], rhr: rhr[d-1]})
	}
	sl, rc := p.records(ns)
	if err := c.addFile("whoop.json", whoopBundle(sl, rc, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceWhoop, "60 nights of WHOOP sleep and recovery"); err != nil {
		return nil, err
	}
	c.expectNights(ns)
	c.scenario.Interventions = []Intervention{intervention("Evening breathing practice", "MEDITATION", metrics.KeyHRVRMSSD, allAdherent())}
	c.standardTail(g, 1)
	c.scenario.Planted = map[string]any{
		"metric": metrics.KeyHRVRMSSD, "ln_mean": math.Log(hrvLevelMS), "sigma_ln": hrvSigma, "phi": hrvPhi,
		"effect_ln": 0.0, "swing_days": swing, "swing_ln": math.Log(0.6), "swing_rhr_bpm": 8, "seed": seed,
		"nap_ln_hrv": round(nap, 4),
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// DST day

// stepsStatistics returns one HealthKit step-count statistic per local day
// (local midnight to the next local midnight: 23 h on 2026-03-08).
func (g *gen) stepsStatistics(seed uint64, c *caseOut) providers.HealthKitPayload {
	steps := randomSeries(seed, 8500, 1800, 0.2, 0)
	var out providers.HealthKitPayload
	for d := 1; d <= numDays; d++ {
		start, end := g.local(d, 0, 0), g.local(d+1, 0, 0)
		out.Statistics = append(out.Statistics, providers.HealthKitStatistic{
			Type: providers.HKStepCount, Start: rfc(start), End: rfc(end), Sum: ptr(steps[d-1]), Unit: "count",
		})
		c.expect(d, metrics.KeySteps, metrics.SourceAppleHealth, steps[d-1])
	}
	return out
}

func (g *gen) dstDay() (*caseOut, error) {
	c := g.newCase("dst_day",
		"Daylight saving: DST starts in America/New_York at 02:00 on 2026-03-08 (day 7). WHOOP reports one offset per record (the offset at its start), so the spring-forward night carries -05:00 although it ends at 07:xx EDT; it still belongs to wake day 2026-03-08 and lasts one real hour less than its wall-clock span. Apple HealthKit daily statistics run local midnight to local midnight, 23 h on 2026-03-08. WHOOP cycles give strain on the cycle's start day; the last cycle is still in progress and is skipped.")
	c.scenario.ProviderConnections = append(c.scenario.ProviderConnections, Connection{Provider: "APPLE_HEALTH", Status: "CONNECTED"})
	p := g.newWhoopPlan(7000)
	sleep := randomSeries(7001, 425, 25, 0.3, 3)
	hrv := randomSeries(7002, 52, 5, 0.4, 6)
	rhr := randomSeries(7003, 57, 2, 0.4, 0)
	strain := randomSeries(7004, 11, 2.5, 0.2, 1)
	var ns []night
	for d := 1; d <= numDays; d++ {
		ns = append(ns, night{day: d, sleepMin: sleep[d-1], hrv: hrv[d-1], rhr: rhr[d-1]})
	}
	sl, rc := p.records(ns)
	var cycles []providers.WhoopCycleRecord
	for d := 1; d <= numDays; d++ {
		start := p.wakes[d]
		cy := providers.WhoopCycleRecord{
			ID: int64(1_180_000 + d), UserID: 10129, CreatedAt: whoopTime(start), UpdatedAt: whoopTime(start),
			Start: whoopTime(start), TimezoneOffset: offsetString(start), ScoreState: providers.WhoopScored,
			Score: &providers.WhoopCycleScore{
				Strain: ptr(strain[d-1]), Kilojoule: ptr(round(7000+300*strain[d-1], 3)),
				AverageHeartRate: ptr(68), MaxHeartRate: ptr(150),
			},
		}
		if d < numDays {
			end := whoopTime(p.wakes[d+1])
			cy.End = &end
			c.expect(d, metrics.KeyStrain, metrics.SourceWhoop, strain[d-1])
		}
		cycles = append(cycles, cy)
	}
	if err := c.addFile("whoop.json", whoopBundle(sl, rc, cycles)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceWhoop, "WHOOP sleep, recovery and cycles; night of day 7 spans the spring-forward change"); err != nil {
		return nil, err
	}
	c.expectNights(ns)
	if err := c.addFile("apple_health.json", g.stepsStatistics(7005, c)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceAppleHealth, "HealthKit daily step statistics; 2026-03-08 is a 23-hour day"); err != nil {
		return nil, err
	}
	c.step(g.endOfDay(numDays), Step{Action: actRunLoop})
	c.scenario.Planted = map[string]any{
		"dst_day": dayString(7), "dst_night_sleep_start": sl[6].Start, "dst_night_sleep_end": sl[6].End,
		"dst_night_timezone_offset": sl[6].TimezoneOffset,
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// Duplicate sources

func (g *gen) duplicateSources() (*caseOut, error) {
	const conflictDay = 50
	c := g.newCase("duplicate_sources",
		"The same 60 nights from WHOOP and Oura (Oura reports about 9 min more sleep and a higher HRV), plus Apple HealthKit daily step statistics and SDNN. Per-source series are stored separately; HealthKit SDNN is hrv_sdnn and never pooled with RMSSD. On day 50 the ring was off for part of the night: Oura reports 290 min against WHOOP's ~430 (a source conflict). One Oura nap (type \"sleep\") on day 20 is skipped. Raw iPhone+Watch step samples (double counting) are out of scope: HealthKit statistics are already de-duplicated.")
	c.scenario.ProviderConnections = append(c.scenario.ProviderConnections,
		Connection{Provider: "OURA", Status: "CONNECTED"}, Connection{Provider: "APPLE_HEALTH", Status: "CONNECTED"})
	p := g.newWhoopPlan(8000)
	sleep := randomSeries(8001, 430, 25, 0.3, 3)
	hrv := randomSeries(8002, 50, 4, 0.4, 6)
	rhr := randomSeries(8003, 56, 2, 0.4, 0)
	var ns []night
	for d := 1; d <= numDays; d++ {
		ns = append(ns, night{day: d, sleepMin: sleep[d-1], hrv: hrv[d-1], rhr: rhr[d-1]})
	}
	sl, rc := p.records(ns)
	if err := c.addFile("whoop.json", whoopBundle(sl, rc, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceWhoop, "WHOOP sleep and recovery"); err != nil {
		return nil, err
	}
	c.expectNights(ns)

	rng := rand.New(rand.NewPCG(8004, 1)) //nolint:gosec // seeded fixture data, not security
	var osl []providers.OuraSleepRecord
	var ord []providers.OuraReadinessRecord
	for d := 1; d <= numDays; d++ {
		end := p.wakes[d].Add(2 * time.Minute).In(g.loc)
		start := end.Add(-time.Duration(sleepMS(sleep[d-1])+p.inBeds[d])*time.Millisecond - 5*time.Minute).In(g.loc)
		start = start.Truncate(time.Second)
		total := int(math.Round(sleep[d-1]*60)) + 9*60
		if d == conflictDay {
			total = 290 * 60
		}
		inBed := int(end.Sub(start) / time.Second)
		deep, rem := total/5, total/4
		hrvO := math.Round(hrv[d-1] * 1.08)
		osl = append(osl, providers.OuraSleepRecord{
			ID: uuid(rng), Day: dayString(d), BedtimeStart: start.Format(time.RFC3339), BedtimeEnd: end.Format(time.RFC3339),
			Type: providers.OuraMainSleepType, TotalSleepDuration: ptr(float64(total)), TimeInBed: ptr(float64(inBed)),
			AwakeTime: ptr(float64(inBed - total)), DeepSleepDuration: ptr(float64(deep)), RemSleepDuration: ptr(float64(rem)),
			LightSleepDuration: ptr(float64(total - deep - rem)), Efficiency: ptr(math.Round(100 * float64(total) / float64(inBed))),
			AverageHRV: ptr(hrvO), LowestHeartRate: ptr(rhr[d-1] - 2), AverageHeartRate: ptr(rhr[d-1] + 4),
			AverageBreath: ptr(round(14.5+0.125*float64(rng.IntN(10)), 3)),
		})
		c.expect(d, metrics.KeySleepDuration, metrics.SourceOura, float64(total)/60)
		c.expect(d, metrics.KeyHRVRMSSD, metrics.SourceOura, hrvO)
		c.expect(d, metrics.KeyRestingHR, metrics.SourceOura, rhr[d-1]-2)
		ts := g.local(d, 0, 0)
		ord = append(ord, providers.OuraReadinessRecord{
			ID: uuid(rng), Day: dayString(d), Score: ptr(float64(70 + rng.IntN(20))),
			TemperatureDeviation: ptr(round(-0.3+0.05*float64(rng.IntN(12)), 2)), Timestamp: ts.Format("2006-01-02T15:04:05.000-07:00"),
		})
		if d == 20 {
			ns := g.local(d, 15, 0)
			osl = append(osl, providers.OuraSleepRecord{
				ID: uuid(rng), Day: dayString(d), BedtimeStart: ns.Format(time.RFC3339), BedtimeEnd: ns.Add(40 * time.Minute).Format(time.RFC3339),
				Type: "sleep", TotalSleepDuration: ptr(1800), TimeInBed: ptr(2400), Efficiency: ptr(75),
				AverageHRV: ptr(45), LowestHeartRate: ptr(60), AverageBreath: ptr(15),
			})
		}
	}
	oura := providers.OuraBundle{
		Sleep:          &providers.OuraPage[providers.OuraSleepRecord]{Data: osl},
		DailyReadiness: &providers.OuraPage[providers.OuraReadinessRecord]{Data: ord},
	}
	if err := c.addFile("oura.json", oura); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceOura, "Oura sleep and daily readiness for the same nights"); err != nil {
		return nil, err
	}
	hk := g.stepsStatistics(8005, c)
	sdnn := randomSeries(8006, 42, 5, 0.4, 2)
	for d := 1; d <= numDays; d++ {
		hk.Statistics = append(hk.Statistics, providers.HealthKitStatistic{
			Type: providers.HKHRVSDNN, Start: rfc(g.local(d, 0, 0)), End: rfc(g.local(d+1, 0, 0)), Average: ptr(sdnn[d-1]), Unit: "ms",
		})
		c.expect(d, metrics.KeyHRVSDNN, metrics.SourceAppleHealth, sdnn[d-1])
	}
	if err := c.addFile("apple_health.json", hk); err != nil {
		return nil, err
	}
	if err := c.ingest(g.endOfDay(numDays), metrics.SourceAppleHealth, "HealthKit daily statistics: steps and SDNN"); err != nil {
		return nil, err
	}
	c.scenario.ProviderConnections[0].Provider = "WHOOP"
	c.step(g.endOfDay(numDays), Step{Action: actRunLoop})
	c.scenario.Planted = map[string]any{"conflict_day": dayString(conflictDay), "oura_sleep_bias_min": 9, "oura_hrv_ratio": 1.08, "oura_nap_day": dayString(20)}
	return c, nil
}

// ---------------------------------------------------------------------------
// Rescored record

func (g *gen) rescored() (*caseOut, error) {
	c := g.newCase("rescored_record",
		"A WHOOP sleep and recovery first seen PENDING_SCORE and later SCORED. Night 60 (2026-04-30) is PENDING_SCORE in whoop_initial.json (skipped, no samples), SCORED in whoop_rescored.json (ingested), and scored again with different values and a later updated_at in whoop_rescored_again.json: the same natural key (observedAt = sleep end), so every sample is a duplicate and the first stored value is kept.")
	p := g.newWhoopPlan(9000)
	sleep := randomSeries(9001, 420, 28, 0.3, 3)
	hrv := randomSeries(9002, 55, 5, 0.4, 6)
	rhr := randomSeries(9003, 55, 2, 0.4, 0)
	var ns []night
	for d := 1; d <= numDays; d++ {
		ns = append(ns, night{day: d, sleepMin: sleep[d-1], hrv: hrv[d-1], rhr: rhr[d-1]})
	}
	initial := slices.Clone(ns)
	initial[numDays-1].state = providers.WhoopPendingScore
	sl, rc := p.records(initial)
	if err := c.addFile("whoop_initial.json", whoopBundle(sl, rc, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.local(numDays, 7, 45), metrics.SourceWhoop, "nights 1–60; night 60 is PENDING_SCORE and yields no sample"); err != nil {
		return nil, err
	}
	c.step(g.local(numDays, 7, 45), Step{Action: actRunLoop})
	last := ns[numDays-1]
	last.updated = 2 * time.Hour
	sl, rc = p.records([]night{last})
	if err := c.addFile("whoop_rescored.json", whoopBundle(sl, rc, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.local(numDays, 10, 0), metrics.SourceWhoop, "night 60 now SCORED: its samples are inserted"); err != nil {
		return nil, err
	}
	c.step(g.local(numDays, 10, 0), Step{Action: actRunLoop})
	again := last
	again.updated = 10 * time.Hour
	again.sleepMin += 12
	again.hrv = round(again.hrv+5, 6)
	sl, rc = p.records([]night{again})
	if err := c.addFile("whoop_rescored_again.json", whoopBundle(sl, rc, nil)); err != nil {
		return nil, err
	}
	if err := c.ingest(g.local(numDays, 20, 0), metrics.SourceWhoop, "night 60 rescored with new values and a later updated_at: same natural keys, all duplicates, the first values stay"); err != nil {
		return nil, err
	}
	c.step(g.local(numDays, 20, 0), Step{Action: actRunLoop, Note: "nothing new: no new insight or event"})
	c.expectNights(ns)
	c.scenario.Planted = map[string]any{
		"rescored_day": dayString(numDays), "sleep_id": p.ids[numDays],
		"first_scored_sleep_min": last.sleepMin, "rescored_sleep_min": again.sleepMin,
		"first_scored_hrv_ms": last.hrv, "rescored_hrv_ms": again.hrv,
	}
	return c, nil
}
