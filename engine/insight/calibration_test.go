package insight

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// simMetric is one metric of the synthetic users of issue #12: level,
// marginal SD (ln units for HRV) and weekend effect (Sat/Sun).
type simMetric struct {
	key     string
	level   float64
	sd      float64
	weekend float64
	ln      bool
}

var simMetrics = []simMetric{
	{key: metrics.KeyRestingHR, level: 58, sd: 2.5},
	{key: metrics.KeyHRVRMSSD, level: math.Log(55), sd: 0.15, ln: true},
	{key: metrics.KeySleepDuration, level: 420, sd: 35, weekend: 40},
	{key: metrics.KeySteps, level: 8000, sd: 2500, weekend: -2000},
	{key: metrics.KeyRespiratoryRate, level: 15, sd: 0.6},
}

const (
	simPhi         = 0.4
	simMissing     = 0.10
	simOutlierSDs  = 6.0 // planted single-day outliers, in SDs (≥ 5 robust SD)
	simOutlierFrom = 60  // outliers are planted once a baseline exists
)

var simStart = series.DayOf(2026, 1, 5) // a Monday

// simUser is one synthetic person: per metric a daily series (NaN missing)
// and the planted outlier days.
type simUser struct {
	vals     map[string][]float64
	outliers map[string][]int
}

// genUser draws a user: AR(1) noise with marginal SD sd, weekend effects,
// ~10% missing days, 1–2 outlier days, and an optional resting-HR shift of
// shiftSDs from day shiftDay on.
func genUser(rng *rand.Rand, days int, outliers bool, shiftDay int, shiftSDs float64) simUser {
	u := simUser{vals: map[string][]float64{}, outliers: map[string][]int{}}
	for _, m := range simMetrics {
		v := make([]float64, days)
		e := rng.NormFloat64() * m.sd
		innov := m.sd * math.Sqrt(1-simPhi*simPhi)
		for d := range days {
			if d > 0 {
				e = simPhi*e + rng.NormFloat64()*innov
			}
			x := m.level + e
			if wd := series.AddDays(simStart, d).Weekday(); wd == 0 || wd == 6 {
				x += m.weekend
			}
			if shiftDay > 0 && d >= shiftDay && m.key == metrics.KeyRestingHR {
				x += shiftSDs * m.sd
			}
			v[d] = x
		}
		u.vals[m.key] = v
	}
	if outliers {
		for range 1 + rng.IntN(2) {
			m := simMetrics[rng.IntN(len(simMetrics))]
			d := simOutlierFrom + rng.IntN(days-simOutlierFrom)
			if slices.Contains(u.outliers[m.key], d) {
				continue
			}
			sign := 1.0
			if rng.IntN(2) == 0 && m.key != metrics.KeySteps { // steps cannot go 15,000 below 8,000
				sign = -1
			}
			u.vals[m.key][d] += sign * simOutlierSDs * m.sd
			u.outliers[m.key] = append(u.outliers[m.key], d)
		}
	}
	for _, m := range simMetrics {
		for d := range days {
			if rng.Float64() < simMissing && !slices.Contains(u.outliers[m.key], d) {
				u.vals[m.key][d] = math.NaN()
			}
			if m.ln && !math.IsNaN(u.vals[m.key][d]) {
				u.vals[m.key][d] = math.Exp(u.vals[m.key][d])
			}
		}
	}
	return u
}

// simStored is an insight in the simulation's store.
type simStored struct {
	Record
	everB, everC bool
	text         Text
}

// simOutcome is what one user's run produced.
type simOutcome struct {
	notices           int // change/trend insights created (any grade, D "too early to tell" included)
	claims, claimsB   int // those graded ≥ C (a stated direction) and ≥ B at any time
	byDetector        map[string]int
	anomalies         int // anomaly insights not on a planted day
	scored            int // metric-days with an anomaly test
	planted, found    int
	errors            []string
	shiftDelay        int // days from the shift to its first report (-1 = never)
	shiftCatchUpDays  int // longest run of days the stored grade lagged the one-go grade
	shiftFirstGrade   evidence.Grade
	gradesAfterReport []evidence.Grade
}

// runUser runs the loop logic day by day (pinned clock: AsOf = each day).
func runUser(u simUser, days, shiftDay int) simOutcome {
	var out simOutcome
	out.shiftDelay = -1
	out.byDetector = map[string]int{}
	var store []simStored
	reg := map[string]metrics.Metric{}
	for _, m := range simMetrics {
		mm, _ := metrics.Lookup(m.key)
		reg[m.key] = mm
	}
	keys := map[string]bool{}
	lag := 0
	for d := range days {
		asOf := series.AddDays(simStart, d)
		var results []MetricResult
		for _, sm := range simMetrics {
			m := reg[sm.key]
			var s series.Series
			for i := 0; i <= d; i++ {
				if v := u.vals[sm.key][i]; !math.IsNaN(v) {
					s = append(s, series.Point{Day: series.AddDays(simStart, i), Value: v})
				}
			}
			res := detect.Run(detect.Input{
				Metric: sm.key, HigherIsBetter: m.Direction == metrics.HigherIsBetter,
				LnTransform: m.LnTransform, Series: s, AsOf: asOf,
			}, detect.Options{})
			for _, t := range res.Tests {
				if t.Kind == detect.KindAnomaly {
					out.scored++
				}
			}
			results = append(results, MetricResult{Metric: m, Result: res})
		}
		existing := make([]Record, len(store))
		for i, s := range store {
			existing[i] = s.Record
		}
		plan := Decide(results, existing)
		for _, a := range plan.Actions {
			switch a.Kind {
			case Create:
				if keys[a.Key] {
					out.errors = append(out.errors, "duplicate key "+a.Key)
					continue
				}
				keys[a.Key] = true
				if err := checkText(reg[a.Finding.Metric], a); err != "" {
					out.errors = append(out.errors, err)
				}
				if !(a.Assessment.Confidence >= 0 && a.Assessment.Confidence <= 1) {
					out.errors = append(out.errors, "confidence out of range")
				}
				for _, sup := range a.Supersedes {
					for i := range store {
						if store[i].ID == sup.ID {
							store[i].Status = Closed
						}
					}
				}
				f := a.Finding
				st := simStored{Record: Record{
					ID: fmt.Sprintf("ins%d", len(store)), Key: a.Key, Kind: f.Kind, Metric: f.Metric, Direction: f.Direction,
					StartDay: f.Day, EndDay: f.EndDay, Status: Open, Grade: a.Assessment.Grade, Confidence: a.Assessment.Confidence,
				}, everB: a.Assessment.Grade.AtLeast(evidence.GradeB), everC: a.Assessment.Grade.AtLeast(evidence.GradeC), text: a.Text}
				store = append(store, st)
				switch f.Kind {
				case detect.KindChange, detect.KindTrend:
					out.notices++
					out.byDetector[f.Detector+"/"+string(a.Assessment.Grade)]++
				case detect.KindAnomaly:
					if slices.Contains(u.outliers[f.Metric], series.DaysBetween(simStart, f.Day)) {
						out.found++
					} else {
						out.anomalies++
					}
				}
			case Regrade, ExtendGap:
				if err := checkText(reg[a.Finding.Metric], a); err != "" {
					out.errors = append(out.errors, err)
				}
				for i := range store {
					if store[i].ID == a.Target.ID {
						store[i].Grade, store[i].Confidence = a.Assessment.Grade, a.Assessment.Confidence
						store[i].EndDay = a.Finding.EndDay
						store[i].everB = store[i].everB || a.Assessment.Grade.AtLeast(evidence.GradeB)
						store[i].everC = store[i].everC || a.Assessment.Grade.AtLeast(evidence.GradeC)
					}
				}
			}
		}
		if shiftDay > 0 && d >= shiftDay {
			if out.shiftDelay < 0 {
				for _, s := range store {
					if isShiftReport(s.Record, shiftDay) {
						out.shiftDelay = d - shiftDay
						out.shiftFirstGrade = s.Grade
						break
					}
				}
			}
			if out.shiftDelay >= 0 {
				// Grade catch-up: the stored insight against what the same
				// data earns in one go (no history).
				once := Decide(results, nil)
				var stored, fresh evidence.Grade
				for _, s := range store {
					if isShiftReport(s.Record, shiftDay) && s.Status == Open && s.Grade.Rank() > stored.Rank() {
						stored = s.Grade
					}
				}
				for _, a := range once.Actions {
					if a.Kind == Create && isShiftReport(Record{Metric: a.Finding.Metric, Kind: a.Finding.Kind, Direction: a.Finding.Direction, StartDay: a.Finding.Day}, shiftDay) {
						if a.Assessment.Grade.Rank() > fresh.Rank() {
							fresh = a.Assessment.Grade
						}
					}
				}
				if fresh != "" && stored != "" && stored.Rank() < fresh.Rank() {
					lag++
					out.shiftCatchUpDays = max(out.shiftCatchUpDays, lag)
				} else {
					lag = 0
				}
				out.gradesAfterReport = append(out.gradesAfterReport, stored)
			}
		}
	}
	for _, ds := range u.outliers {
		out.planted += len(ds)
	}
	for _, s := range store {
		if s.Kind == detect.KindChange || s.Kind == detect.KindTrend {
			if s.everB {
				out.claimsB++
			}
			if s.everC {
				out.claims++
			}
		}
	}
	return out
}

func isShiftReport(r Record, shiftDay int) bool {
	return r.Metric == metrics.KeyRestingHR && (r.Kind == detect.KindChange || r.Kind == detect.KindTrend) &&
		r.Direction == detect.DirectionUp && series.DaysBetween(simStart, r.StartDay) >= shiftDay-2*ChangeMatchDays
}

// checkText runs the claim checker over an action's words with its grade.
func checkText(m metrics.Metric, a Action) string {
	if v := Violations(m, a.Finding, a.Text, a.Assessment.Grade, a.DirectionSupported); len(v) > 0 {
		return fmt.Sprintf("claim check (grade %s): %q: %s", a.Assessment.Grade, a.Text.Title+". "+a.Text.Summary, v[0].Message)
	}
	return ""
}

// calibrationSize is (null users, days each, shift users, seeds).
func calibrationSize(t *testing.T) (users, days, shiftUsers int, seeds []uint64) {
	if os.Getenv("CALIBRATE") == "full" {
		return 10, 365, 40, []uint64{1, 2, 3, 4, 5}
	}
	if testing.Short() {
		return 2, 240, 6, []uint64{1}
	}
	return 3, 300, 8, []uint64{1}
}

// TestPassiveInsightsCalibration is the acceptance simulation of issue #12
// (docs/calibration.md "Passive insights"): null users (no real change),
// then users with a sustained +2 SD resting-HR shift. The full run
// (CALIBRATE=full: 5 seeds × 10 users × 365 days = 50 null user-years, and
// 200 shift users) checks the
// issue's targets; the CI variant runs a few users and checks only what a
// small sample can support (no loop errors, no text violations, planted
// outliers found).
func TestPassiveInsightsCalibration(t *testing.T) {
	users, days, shiftUsers, seeds := calibrationSize(t)
	full := os.Getenv("CALIBRATE") == "full"
	type job struct {
		seed     uint64
		i        int
		shift    bool
		outcome  simOutcome
		daysUsed int
	}
	var jobs []*job
	for _, seed := range seeds {
		for i := range users {
			jobs = append(jobs, &job{seed: seed, i: i, daysUsed: days})
		}
		for i := range shiftUsers {
			jobs = append(jobs, &job{seed: seed, i: 1000 + i, shift: true, daysUsed: 160})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(j.seed, uint64(j.i)))
			if j.shift {
				u := genUser(rng, j.daysUsed, false, 120, 2)
				j.outcome = runUser(u, j.daysUsed, 120)
				return
			}
			u := genUser(rng, j.daysUsed, true, 0, 0)
			j.outcome = runUser(u, j.daysUsed, 0)
		}()
	}
	wg.Wait()

	byDet := map[string]int{}
	var notices, claimsN, claimsB, anomalies, scored, planted, found, nullDays int
	var errs []string
	var delays []int
	var catchUp []int
	firstGrades := map[evidence.Grade]int{}
	for _, j := range jobs {
		o := j.outcome
		errs = append(errs, o.errors...)
		if j.shift {
			if o.shiftDelay >= 0 {
				delays = append(delays, o.shiftDelay)
				firstGrades[o.shiftFirstGrade]++
			} else {
				delays = append(delays, 1000)
			}
			catchUp = append(catchUp, o.shiftCatchUpDays)
			continue
		}
		claimsN += o.claims
		notices += o.notices
		for k, v := range o.byDetector {
			byDet[k] += v
		}
		claimsB += o.claimsB
		anomalies += o.anomalies
		scored += o.scored
		planted += o.planted
		found += o.found
		nullDays += j.daysUsed
	}
	months := float64(nullDays) / (365.0 / 12)
	sort.Ints(delays)
	median := float64(delays[len(delays)/2])
	if len(delays)%2 == 0 {
		median = float64(delays[len(delays)/2-1]+delays[len(delays)/2]) / 2
	}
	maxCatch := slices.Max(catchUp)
	t.Logf("null: %d users × %d days × %d seeds = %.1f user-years", users, days, len(seeds), float64(nullDays)/365)
	t.Logf("change/trend insights of any grade: %d (%.3f per user-month)", notices, float64(notices)/months)
	t.Logf("change/trend claims (graded ≥ C, a stated direction): %d (%.3f per user-month); graded ≥ B: %d (%.3f per user-month)",
		claimsN, float64(claimsN)/months, claimsB, float64(claimsB)/months)
	t.Logf("claims by detector/grade at creation: %v", byDet)
	t.Logf("spurious anomalies: %d of %d scored metric-days (%.3f%%)", anomalies, scored, 100*float64(anomalies)/float64(max(scored, 1)))
	t.Logf("planted outliers found: %d of %d (%.1f%%)", found, planted, 100*float64(found)/float64(max(planted, 1)))
	within := 0
	for _, d := range delays {
		if d <= 7 {
			within++
		}
	}
	t.Logf("shift users: %d; delays %v; median %.1f days (%d within 7 days); first grades %v; longest grade lag %d days",
		len(delays), delays, median, within, firstGrades, maxCatch)
	t.Logf("loop errors: %d", len(errs))
	require.Empty(t, errs, strings.Join(errs[:min(len(errs), 5)], "\n"))
	require.GreaterOrEqual(t, float64(found), 0.9*float64(planted), "planted outliers must be found")
	require.LessOrEqual(t, maxCatch, 3, "a reported shift's grade must catch up within 3 days")
	if full {
		require.LessOrEqual(t, float64(claimsB)/months, 0.02, "change/trend claims graded ≥ B per user-month")
		require.LessOrEqual(t, float64(claimsN)/months, 0.10, "change/trend claims per user-month")
		require.LessOrEqual(t, float64(anomalies)/float64(scored), 0.001, "spurious anomalies per metric-day")
		require.LessOrEqual(t, median, 7.0, "median delay of a +2 SD shift")
	}
}
