// Package insight holds the rules that turn an evening's detector results
// into insight decisions: which findings become new insights (after the
// Benjamini–Hochberg step across the evening's tests), which open insights
// are re-graded, which are superseded by a reversal, their dedupe keys, and
// their words. It is the pure core of the loop use case (app/loop), which
// only loads, calls Plan and persists; the calibration simulation runs the
// same Plan day by day.
package insight

import (
	"fmt"
	"math"
	"strconv"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Rules of matching and re-grading.
const (
	// ChangeMatchDays: an insight about a change matches a finding of the
	// same direction whose first day is within this many days of its own
	// (a change point moves as data accumulates).
	ChangeMatchDays = 7
	// ConfidenceStep is the smallest confidence move that re-grades an open
	// insight when its grade is unchanged.
	ConfidenceStep = 0.05
)

// Status is whether a stored insight can still change.
type Status int

// Statuses. Open insights are re-graded; closed ones (dismissed,
// superseded, resolved, suppressed) are never reopened or duplicated.
const (
	Open Status = iota + 1
	Closed
)

// Record is an insight already stored.
type Record struct {
	ID         string
	Key        string
	Kind       detect.Kind
	Metric     string
	Direction  detect.Direction
	StartDay   series.Day
	EndDay     series.Day
	Status     Status
	Grade      evidence.Grade
	Confidence float64
}

// MetricResult is one metric's detector result with its registry entry.
type MetricResult struct {
	Metric metrics.Metric
	Result detect.Result
}

// ActionKind is what to do with a finding.
type ActionKind string

// Action kinds.
const (
	// Create a new insight (superseding Action.Supersedes).
	Create ActionKind = "create"
	// Regrade an open insight: new grade, confidence, words and end day.
	Regrade ActionKind = "regrade"
	// ExtendGap moves an open data gap's end day.
	ExtendGap ActionKind = "extend_gap"
	// Hold records a finding that did not pass the evening's
	// false-discovery control (audited, nothing shown).
	Hold ActionKind = "hold"
)

// Action is one decision of Plan.
type Action struct {
	Kind    ActionKind
	Finding detect.Finding
	// Key is the new insight's dedupe key (Create).
	Key string
	// Target is the record re-graded or extended (Regrade, ExtendGap).
	Target *Record
	// Supersedes are the open insights a Create reverses.
	Supersedes []Record
	Assessment evidence.Assessment
	Text       Text
	// DirectionSupported: the finding's test passed its
	// false-discovery-controlled level (words may state a direction).
	DirectionSupported bool
	// Reason says why, for the audit trail.
	Reason string
}

// Plan is the evening's decisions.
type Plan struct {
	Actions []Action
	// Threshold is the Benjamini–Hochberg p-value threshold of the evening,
	// and Tests the number of tests in its family.
	Threshold float64
	Tests     int
}

// Decide plans the evening for one person: results are every metric's
// detector result as of the same day, existing the stored insights of
// those metrics (any status) whose findings could recur.
//
// Rules:
//   - Matching: an anomaly or gap matches the record with its key; a change
//     matches a record of the same kind and direction starting within
//     ChangeMatchDays; a trend matches the open trend of the same direction,
//     a closed one whose span overlaps it, or a record with its key. A match on a closed
//     record is dropped (a dismissed insight is never re-raised).
//   - False discoveries: the family is every test run for the day
//     (Result.Tests) plus the p-value of every new finding not among them
//     (a change found by segmentation, an anomaly on an earlier day that
//     arrived late); a new finding is created only when its p-value is at
//     most the Benjamini–Hochberg threshold at FDRLevel. Data gaps are
//     observed facts, not tests.
//   - Re-grading: an open matched insight is re-graded when its grade
//     changes or its confidence moves by ConfidenceStep or more, with fresh
//     words; an open gap whose end day moved is extended.
//   - Reversal: a new trend (or change) supersedes the open trends (or
//     changes) of the metric in the other direction.
//   - Keys: the finding's key, suffixed "#2", "#3", … when a closed record
//     already holds it, so keys and the (user, key) uniqueness rule agree.
func Decide(results []MetricResult, existing []Record) Plan {
	type cand struct {
		mr    MetricResult
		f     detect.Finding
		match *Record
	}
	var cands []cand
	var family []float64
	taken := map[string]bool{}
	for i := range existing {
		taken[existing[i].Key] = true
	}
	for _, mr := range results {
		for _, t := range mr.Result.Tests {
			family = append(family, t.P)
		}
		for _, f := range mr.Result.Findings {
			c := cand{mr: mr, f: f, match: match(existing, f)}
			if c.match == nil && f.Kind != detect.KindDataGap && !inTests(f, mr.Result.AsOf) {
				family = append(family, f.PValue)
			}
			cands = append(cands, c)
		}
	}
	plan := Plan{Threshold: BHThreshold(family, FDRLevel), Tests: len(family)}
	for _, c := range cands {
		f := c.f
		if c.match != nil {
			if c.match.Status != Open {
				continue
			}
			if a, ok := regrade(c.mr.Metric, f, c.match); ok {
				plan.Actions = append(plan.Actions, a)
			}
			continue
		}
		supported := f.Kind == detect.KindDataGap || f.PValue <= plan.Threshold
		if !supported {
			plan.Actions = append(plan.Actions, Action{
				Kind: Hold, Finding: f, Key: f.Key,
				Reason: fmt.Sprintf("p = %.2g is above the evening's false-discovery threshold %.2g (%d tests, q = %.2f)",
					f.PValue, plan.Threshold, plan.Tests, FDRLevel),
			})
			continue
		}
		a := assess(f)
		act := Action{
			Kind: Create, Finding: f, Key: uniqueKey(f.Key, taken), Assessment: a,
			DirectionSupported: f.Kind != detect.KindDataGap,
			Text:               CheckedWords(c.mr.Metric, f, a.Grade, f.Kind != detect.KindDataGap),
			Supersedes:         reversed(existing, f),
		}
		taken[act.Key] = true
		act.Reason = fmt.Sprintf("%s detected by %s (p = %.2g ≤ %.2g); grade %s",
			kindWords(f.Kind), f.Detector, f.PValue, plan.Threshold, a.Grade)
		if f.Kind == detect.KindDataGap {
			act.Reason = fmt.Sprintf("data gap of %d days; grade %s", series.DaysBetween(f.Day, f.EndDay)+1, a.Grade)
		}
		plan.Actions = append(plan.Actions, act)
	}
	return plan
}

// Assess grades a finding (evidence.Assess over its confidence, sample
// size, coverage and window).
func assess(f detect.Finding) evidence.Assessment {
	return evidence.Assess(evidence.Input{
		Confidence: evidence.Clamp01(f.Confidence), SampleSize: f.SampleSize,
		Coverage: evidence.Clamp01(f.Coverage), PlannedDays: series.DaysBetween(f.WindowFrom, f.WindowTo) + 1,
	})
}

func regrade(m metrics.Metric, f detect.Finding, r *Record) (Action, bool) {
	if f.Kind == detect.KindDataGap {
		if f.EndDay.After(r.EndDay) {
			return Action{
				Kind: ExtendGap, Finding: f, Target: r, Assessment: assess(f), Text: CheckedWords(m, f, evidence.GradeD, false),
				Reason: fmt.Sprintf("the data gap continued: it now ends on %s (was %s)", dayWords(f.EndDay), dayWords(r.EndDay)),
			}, true
		}
		return Action{}, false
	}
	if f.Kind == detect.KindAnomaly {
		return Action{}, false // a day's decision never changes
	}
	a := assess(f)
	if a.Grade == r.Grade && math.Abs(a.Confidence-r.Confidence) < ConfidenceStep {
		return Action{}, false
	}
	return Action{
		Kind: Regrade, Finding: f, Target: r, Assessment: a, DirectionSupported: true,
		Text: CheckedWords(m, f, a.Grade, true),
		Reason: fmt.Sprintf("re-assessed with data to %s: grade %s → %s, confidence %.2f → %.2f",
			f.EndDay.Format("2006-01-02"), r.Grade, a.Grade, r.Confidence, a.Confidence),
	}, true
}

// match finds the stored record f is about (see Decide).
func match(existing []Record, f detect.Finding) *Record {
	for i := range existing {
		r := &existing[i]
		if r.Metric != f.Metric || r.Kind != f.Kind {
			continue
		}
		if r.Key == f.Key {
			return r
		}
		switch f.Kind {
		case detect.KindChange:
			if r.Direction == f.Direction && absDays(series.DaysBetween(r.StartDay, f.Day)) <= ChangeMatchDays {
				return r
			}
		case detect.KindTrend:
			// One open trend per metric and direction; a closed one (e.g.
			// dismissed) still holds while its span overlaps the finding's.
			if r.Direction == f.Direction && (r.Status == Open || !r.EndDay.Before(f.Day)) {
				return r
			}
		}
	}
	return nil
}

// reversed lists the open records a new trend or change reverses.
func reversed(existing []Record, f detect.Finding) []Record {
	if f.Kind != detect.KindTrend && f.Kind != detect.KindChange {
		return nil
	}
	var out []Record
	for _, r := range existing {
		if r.Status == Open && r.Metric == f.Metric && r.Kind == f.Kind && r.Direction != f.Direction {
			out = append(out, r)
		}
	}
	return out
}

// inTests reports whether f's p-value is already in the day's tests: the
// trend, the recent-shift change and the latest day's anomaly.
func inTests(f detect.Finding, asOf series.Day) bool {
	switch {
	case f.Kind == detect.KindTrend, f.Detector == detect.DetectorRecentShift:
		return true
	case f.Kind == detect.KindAnomaly:
		return f.Day.Equal(asOf)
	}
	return false
}

func uniqueKey(key string, taken map[string]bool) string {
	if !taken[key] {
		return key
	}
	for n := 2; ; n++ {
		if k := key + "#" + strconv.Itoa(n); !taken[k] {
			return k
		}
	}
}

func kindWords(k detect.Kind) string {
	switch k {
	case detect.KindAnomaly:
		return "unusual day"
	case detect.KindChange:
		return "sustained change"
	case detect.KindTrend:
		return "gradual trend"
	}
	return "data gap"
}

func absDays(d int) int {
	if d < 0 {
		return -d
	}
	return d
}
