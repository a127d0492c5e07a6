package evidence

import (
	"math"
	"strconv"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
)

// AdherenceThreshold is the per-protocol adherence below which a grade is
// lowered one step (PDC convention ≥ 0.8; docs/domain.md §2).
const AdherenceThreshold = 0.8

// Caveats reported in Assessment.Caveats, always in this order.
const (
	CaveatInvalidInput   = "invalid_input"     // an input is NaN or out of its domain; grade D
	CaveatCIIncludesZero = "ci_includes_zero"  // the effect's 95% CI includes zero; A drops to B
	CaveatTrend          = "trend"             // the trend guard fired; grade D
	CaveatLowAdherence   = "low_adherence"     // adherence below AdherenceThreshold; one step lower
	CaveatDriftAdjusted  = "drift_adjusted"    // drift found; drift-adjusted effect, at most C
	CaveatLowBaseline    = "low_baseline"      // baseline coverage below MinBaselineCoverage; one step lower
	CaveatObservational  = "observational"     // retrospective analysis; at most C
	CaveatInsufficient   = "insufficient_data" // nothing could be estimated; grade D
)

// Input is what an evaluation or insight knows about its evidence.
type Input struct {
	Confidence  float64 // in [0, 1], e.g. 1 − adjusted p
	SampleSize  int     // number of valid observations n, ≥ 0
	Coverage    float64 // valid ÷ planned days, in [0, 1]
	PlannedDays int     // planned days behind Coverage, ≥ 0; 0 when unknown (no day counts in explanations)
	// CIExcludesZero is nil when no effect CI applies (e.g. an anomaly),
	// else whether the effect's 95% CI excludes zero.
	CIExcludesZero *bool
	TrendFlag      bool     // the trend guard fired (drift could explain the effect); grade D
	Adherence      *float64 // adherent ÷ intervention days in [0, 1]; nil when not applicable
	// BaselineCoverage is the baseline window's coverage in [0, 1]; below
	// MinBaselineCoverage the grade is lowered one step. nil when not applicable.
	BaselineCoverage *float64
	// Retrospective marks an observational analysis (a start day chosen
	// after the fact); the grade is capped at C.
	Retrospective bool
	// Insufficient: there is too little data to estimate anything; grade D.
	Insufficient bool
}

// MinBaselineCoverage is the baseline coverage below which an evaluation's
// grade is lowered one step (grade C's coverage threshold).
const MinBaselineCoverage = 0.3

// Assessment is a grade with its explanation triplet (docs/design.md
// "Explainability": why, how confident, what would change it).
type Assessment struct {
	Grade     Grade // final grade after the CI, trend and adherence rules
	BaseGrade Grade // grade from Table alone (GradeOf); D for invalid input
	// Confidence, SampleSize and Coverage echo the input.
	Confidence float64
	SampleSize int
	Coverage   float64
	Caveats    []string // Caveat* constants in declaration order; nil when none
	// Why explains how the grade was reached: the table row that holds and
	// every rule that lowered it.
	Why string
	// HowConfident states the GRADE certainty level (docs/domain.md §4) and the
	// numbers behind it.
	HowConfident string
	// WhatWouldChange names the concrete, computed changes that would reach
	// a higher grade, or says that A is the highest.
	WhatWouldChange string
}

// ValidateInput reports whether in satisfies its invariants: Confidence and
// Coverage in [0, 1] (not NaN), SampleSize ≥ 0, PlannedDays ≥ 0 and, when
// set, Adherence in [0, 1]. It returns nil or an *engine.Error with code
// EINVALID naming every violation.
func ValidateInput(in Input) error {
	if reasons := invalidReasons(in); len(reasons) > 0 {
		return engine.Errorf(engine.EINVALID, "invalid evidence input: %s", strings.Join(reasons, "; "))
	}
	return nil
}

// Assess grades in and explains the grade. Rules (docs/design.md "Evidence
// grades"): the base grade is GradeOf(Confidence, SampleSize, Coverage); an
// A whose CI applies and includes zero drops to B; a fired trend guard gives
// D; adherence below AdherenceThreshold lowers the grade one step. Invalid
// input (see ValidateInput), NaN included, yields D with CaveatInvalidInput.
// Assess is deterministic: equal inputs give byte-identical texts.
func Assess(in Input) Assessment {
	a := Assessment{Confidence: in.Confidence, SampleSize: in.SampleSize, Coverage: in.Coverage}
	if reasons := invalidReasons(in); len(reasons) > 0 {
		list := strings.Join(reasons, "; ")
		a.Grade, a.BaseGrade = GradeD, GradeD
		a.Caveats = []string{CaveatInvalidInput}
		a.Why = "Grade D: the input is invalid (" + list + "), so no higher grade can be given."
		a.HowConfident = "Very low certainty (grade D): the input is invalid."
		a.WhatWouldChange = "Correcting the input (" + list + ") would allow a real grade."
		return a
	}

	base, grade, caveats, steps := rules(in)
	a.BaseGrade, a.Grade, a.Caveats = base, grade, caveats
	a.Why = strings.Join(append([]string{"Grade " + string(grade) + ".", baseReason(in, base)}, steps...), " ")
	a.HowConfident = howConfident(in, grade)
	a.WhatWouldChange = whatWouldChange(in, base, grade)
	return a
}

// rules applies the grading rules to a valid input in order and returns
// the base and final grades, the caveats and one sentence per rule that
// applied.
func rules(in Input) (base, final Grade, caveats, steps []string) {
	base = GradeOf(in.Confidence, in.SampleSize, in.Coverage)
	final = base
	// lower records a rule that sets the grade to to, or notes the reason
	// when the grade is already at or below to.
	lower := func(to Grade, because string) {
		if to.Rank() < final.Rank() {
			steps = append(steps, "Lowered from "+string(final)+" to "+string(to)+" because "+because+".")
			final = to
			return
		}
		steps = append(steps, "Also, "+because+".")
	}
	if in.CIExcludesZero != nil && !*in.CIExcludesZero {
		caveats = append(caveats, CaveatCIIncludesZero)
		if final == GradeA {
			lower(GradeB, "the 95% CI includes zero")
		} else {
			steps = append(steps, "The 95% CI includes zero (this only limits grade A).")
		}
	}
	if in.TrendFlag {
		caveats = append(caveats, CaveatTrend)
		lower(GradeD, "the trend guard fired: a drift could explain the difference")
	}
	if in.BaselineCoverage != nil && *in.BaselineCoverage < MinBaselineCoverage {
		caveats = append(caveats, CaveatLowBaseline)
		lower(final.Lower(), "baseline coverage "+percent(*in.BaselineCoverage)+" is below "+percent(MinBaselineCoverage))
	}
	if lowAdherence(in) {
		caveats = append(caveats, CaveatLowAdherence)
		lower(final.Lower(), "adherence "+percent(*in.Adherence)+" is below "+percent(AdherenceThreshold))
	}
	if in.Retrospective {
		caveats = append(caveats, CaveatObservational)
		lower(GradeC, "this is an observational look back, not a planned experiment")
	}
	if in.Insufficient {
		caveats = append(caveats, CaveatInsufficient)
		lower(GradeD, "there is too little data to estimate an effect")
	}
	return base, final, caveats, steps
}

func lowAdherence(in Input) bool { return in.Adherence != nil && *in.Adherence < AdherenceThreshold }

func invalidReasons(in Input) []string {
	var out []string
	unit := func(name string, v float64) {
		if !(v >= 0 && v <= 1) { // also catches NaN
			out = append(out, name+" must be in [0, 1], got "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	unit("confidence", in.Confidence)
	if in.SampleSize < 0 {
		out = append(out, "sample size must be ≥ 0, got "+strconv.Itoa(in.SampleSize))
	}
	unit("coverage", in.Coverage)
	if in.PlannedDays < 0 {
		out = append(out, "planned days must be ≥ 0, got "+strconv.Itoa(in.PlannedDays))
	}
	if in.Adherence != nil {
		unit("adherence", *in.Adherence)
	}
	return out
}

// row returns the Table row of g; ok is false for D.
func row(g Grade) (Thresholds, bool) {
	for _, t := range Table {
		if t.Grade == g {
			return t, true
		}
	}
	return Thresholds{}, false
}

// higher returns the grade one step stronger than g (A stays A).
func higher(g Grade) Grade {
	switch g {
	case GradeD:
		return GradeC
	case GradeC:
		return GradeB
	default:
		return GradeA
	}
}

func baseReason(in Input, base Grade) string {
	nums := "confidence " + decimal(in.Confidence) + ", n = " + strconv.Itoa(in.SampleSize) +
		", coverage " + decimal(in.Coverage)
	if t, ok := row(base); ok {
		return "The table gives " + string(base) + ": " + nums + " meet every grade-" + string(base) +
			" threshold (" + thresholds(t) + ")."
	}
	t, _ := row(GradeC)
	return "The table gives D: " + nums + " do not meet every grade-C threshold (" + thresholds(t) + ")."
}

func thresholds(t Thresholds) string {
	return "confidence ≥ " + decimal(t.Confidence) + ", n ≥ " + strconv.Itoa(t.SampleSize) +
		", coverage ≥ " + decimal(t.Coverage)
}

// certainty is the GRADE certainty level of g (docs/domain.md §4).
func certainty(g Grade) string {
	switch g {
	case GradeA:
		return "High"
	case GradeB:
		return "Moderate"
	case GradeC:
		return "Low"
	}
	return "Very low"
}

func howConfident(in Input, g Grade) string {
	s := certainty(g) + " certainty (grade " + string(g) + "): confidence " + decimal(in.Confidence) +
		", n = " + strconv.Itoa(in.SampleSize) + ", coverage " + decimal(in.Coverage)
	if in.PlannedDays > 0 {
		s += " (" + strconv.Itoa(validDays(in)) + " of " + strconv.Itoa(in.PlannedDays) + " planned days)"
	}
	if in.Adherence != nil {
		s += ", adherence " + percent(*in.Adherence)
	}
	if in.CIExcludesZero != nil {
		if *in.CIExcludesZero {
			s += ", 95% CI excludes zero"
		} else {
			s += ", 95% CI includes zero"
		}
	}
	return s + "."
}

// validDays is the number of valid days behind Coverage: ⌊coverage ×
// planned⌋, tolerating the rounding of a ratio computed as valid ÷ planned.
func validDays(in Input) int {
	return int(math.Floor(in.Coverage*float64(in.PlannedDays) + 1e-9))
}

// daysFor returns the fewest valid days k with k ÷ planned ≥ threshold,
// which is ⌈threshold × planned⌉ corrected for floating-point rounding so
// that it agrees with GradeOf's comparison.
func daysFor(threshold float64, planned int) int {
	p := float64(planned)
	k := int(math.Ceil(threshold * p))
	for k > 0 && float64(k-1)/p >= threshold {
		k--
	}
	for float64(k)/p < threshold {
		k++
	}
	return k
}

// whatWouldChange lists the changes that reach the next grade up and
// states the grade they would actually give (recomputed with rules).
func whatWouldChange(in Input, base, g Grade) string {
	if g == GradeA {
		return "This is the highest grade; a contradicting result would lower it."
	}
	target := higher(g)
	next := in
	var needs []string
	if in.TrendFlag {
		needs = append(needs, "ruling out the drift (e.g. with a randomized crossover design)")
		next.TrendFlag = false
	}
	if in.Retrospective && target.Rank() > GradeC.Rank() {
		needs = append(needs, "a planned experiment instead of a look back")
		next.Retrospective = false
	}
	if in.Insufficient {
		needs = append(needs, "more days with data in both windows")
		next.Insufficient = false
	}
	if in.BaselineCoverage != nil && *in.BaselineCoverage < MinBaselineCoverage {
		needs = append(needs, "baseline coverage of at least "+percent(MinBaselineCoverage))
		bc := MinBaselineCoverage
		next.BaselineCoverage = &bc
	}
	if lowAdherence(in) {
		now, want := pair(*in.Adherence*100, AdherenceThreshold*100, 0)
		needs = append(needs, "adherence of at least "+want+"% (now "+now+"%)")
		th := AdherenceThreshold
		next.Adherence = &th
	}
	if base.Rank() < target.Rank() {
		t, _ := row(target)
		if in.Coverage < t.Coverage {
			if in.PlannedDays > 0 {
				need := daysFor(t.Coverage, in.PlannedDays)
				more := max(need-validDays(in), 1)
				needs = append(needs, plural(more, "more valid day", "more valid days"))
				next.Coverage = float64(need) / float64(in.PlannedDays)
			} else {
				now, want := pair(in.Coverage, t.Coverage, 2)
				needs = append(needs, "coverage of at least "+want+" (now "+now+")")
				next.Coverage = t.Coverage
			}
		}
		if in.SampleSize < t.SampleSize {
			needs = append(needs, "a sample size of at least "+strconv.Itoa(t.SampleSize)+
				" (now "+strconv.Itoa(in.SampleSize)+")")
			next.SampleSize = t.SampleSize
		}
		if in.Confidence < t.Confidence {
			now, want := pair(in.Confidence, t.Confidence, 2)
			needs = append(needs, "confidence of at least "+want+" (now "+now+")")
			next.Confidence = t.Confidence
		}
	}
	if target == GradeA && in.CIExcludesZero != nil && !*in.CIExcludesZero {
		needs = append(needs, "a 95% CI that excludes zero")
		yes := true
		next.CIExcludesZero = &yes
	}
	if len(needs) == 0 {
		return "No single change would raise the grade."
	}
	_, reached, _, _ := rules(next)
	text := join(needs) + " would reach grade " + string(reached) + "."
	return strings.ToUpper(text[:1]) + text[1:] // every need starts with an ASCII letter or digit
}

// join joins items as "a", "a and b" or "a, b and c".
func join(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// decimal formats a [0, 1] quantity with 2 to 4 decimals ("0.80", "0.2667").
func decimal(v float64) string {
	s := strings.TrimRight(strconv.FormatFloat(v, 'f', 4, 64), "0")
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 < 2 {
		s += strings.Repeat("0", 2-(len(s)-i-1))
	}
	return s
}

// percent formats a [0, 1] fraction as a percentage with up to 2 decimals ("80%", "79.5%").
func percent(v float64) string {
	s := strings.TrimRight(strconv.FormatFloat(v*100, 'f', 2, 64), "0")
	return strings.TrimSuffix(s, ".") + "%"
}

// pair formats a value below a threshold with at least prec decimals, and
// more when needed so the two never print alike ("0.7999" vs "0.8000").
func pair(now, threshold float64, prec int) (string, string) {
	for p := prec; p <= 6; p++ {
		n, t := strconv.FormatFloat(now, 'f', p, 64), strconv.FormatFloat(threshold, 'f', p, 64)
		if n != t {
			return n, strconv.FormatFloat(threshold, 'f', prec, 64)
		}
	}
	return strconv.FormatFloat(now, 'g', -1, 64), strconv.FormatFloat(threshold, 'f', prec, 64)
}
