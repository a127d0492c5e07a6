// Package narrate writes the narrative of an evaluated intervention. The
// default narrator is Template: deterministic wording that complies with the
// claim policy of engine/claims for every grade. Prompt builds the request
// for an optional LLM narrator, and Finalize is the gate every narrative from
// any source passes: a candidate that violates the claim policy is replaced
// by the template narrative, with a Replacement to audit. The package is
// pure: no I/O (the HTTP adapter lives in the top-level llm package).
package narrate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Direction is the direction of an estimated effect.
type Direction string

// Directions. The zero value "" means "derive from the sign of Delta".
const (
	DirectionIncrease Direction = "INCREASE"
	DirectionDecrease Direction = "DECREASE"
	DirectionNone     Direction = "NONE"
)

// Narrative sources.
const (
	SourceTemplate = "template"
	SourceLLM      = "llm"
)

// Caveat codes with a fixed explanation (see Template). Any other code is
// reported as "another caveat applies (code)".
const (
	CaveatTrend        = "trend"
	CaveatLowAdherence = "low_adherence"
	CaveatLowCoverage  = "low_coverage"
	CaveatDataGap      = "data_gap"
	CaveatSwing        = "swing"
	CaveatBelowMDE     = "below_mde"
)

var caveatTexts = map[string]string{
	CaveatTrend:        "Your values were already drifting before the experiment, so part of this difference may be drift rather than an effect.",
	CaveatLowAdherence: "You followed the protocol on fewer days than planned, so this estimate may not reflect what following it fully would do.",
	CaveatLowCoverage:  "Data were missing on many days, so the estimate rests on fewer days than planned.",
	CaveatDataGap:      "Your wearable was disconnected for part of the period; those days were left out, not filled in.",
	CaveatSwing:        "Your values swung sharply for a few days, which looks like a short-lived anomaly rather than a lasting change.",
	CaveatBelowMDE:     "The estimate is smaller than the smallest effect this design could reliably detect.",
}

// Facts are the evaluated numbers a narrative is written from.
//
// Delta, CILow, CIHigh and MDE are in Unit (CILow/CIHigh are the 95% CI of
// Delta; NaN when unavailable); N is the number of valid intervention days
// and M of valid baseline days; Coverage and Adherence are fractions in
// [0,1] (Adherence nil when not tracked); Caveats are codes such as
// CaveatTrend; SafetyText is the intervention's safety boundary, carried
// verbatim; PeriodFrom/PeriodTo bound the intervention window (zero when
// unknown).
type Facts struct {
	Subject     string
	MetricKey   string
	MetricName  string
	Unit        string
	Direction   Direction
	Grade       evidence.Grade
	Delta       float64
	CILow       float64
	CIHigh      float64
	N           int
	M           int
	Coverage    float64
	Adherence   *float64
	MDE         float64
	Confounders []string
	SafetyText  string
	Caveats     []string
	Reliable    bool
	PeriodFrom  series.Day
	PeriodTo    series.Day
	// DirectionSupported is set when the 95% interval excludes zero: only
	// then does the narrative state a direction (docs/design.md, claim policy).
	// Otherwise it says there was no clear change and states the range the
	// data rule out.
	DirectionSupported bool
	// Decimals is the display precision of Delta and MDE (the metric's);
	// the CI keeps claims.FormatCI's one decimal.
	Decimals int
	// LogScale: the metric was analysed on the log scale; Delta, CILow,
	// CIHigh and MDE are percent changes (Unit "%") and AtBaseline states
	// Delta in the metric's unit at the person's usual level (e.g. "about
	// 6 ms at your usual level").
	LogScale   bool
	AtBaseline string
	// Interim: the experiment is still running (PeriodTo is the last day
	// so far, PlannedTo the planned end). EndedEarly: it was completed
	// before PlannedTo.
	Interim, EndedEarly bool
	PlannedTo           series.Day
	// Observational: a retrospective look back at a change made on
	// PeriodFrom, not a planned experiment.
	Observational bool
	// Cycles > 0 describes a randomized crossover of that many cycles.
	Cycles int
	// NoEffectSignal is set when the phases overlap almost completely (NAP
	// within 0.5 ± 0.1) and the CI includes zero: whatever the grade, the
	// narrative then says "we can't tell" (docs/domain.md G4a) instead of
	// hedging a direction.
	NoEffectSignal bool
}

// Narrative is a finished narrative: its text, its source (SourceTemplate,
// SourceLLM or a caller's label) and the grade its wording was checked at.
type Narrative struct {
	Text   string
	Source string
	Grade  evidence.Grade
}

// grade returns the grade the narrative is written at: an invalid grade is
// D (the most cautious wording).
func (f Facts) grade() evidence.Grade {
	if f.Grade.Valid() {
		return f.Grade
	}
	return evidence.GradeD
}

// direction returns Direction, or the sign of Delta when it is empty or
// unknown.
func (f Facts) direction() Direction {
	switch f.Direction {
	case DirectionIncrease, DirectionDecrease, DirectionNone:
		return f.Direction
	}
	switch {
	case f.Delta > 0:
		return DirectionIncrease
	case f.Delta < 0:
		return DirectionDecrease
	}
	return DirectionNone
}

func (f Facts) subject() string {
	if s := oneLine(f.Subject); s != "" {
		return s
	}
	return "The intervention"
}

func (f Facts) metricName() string {
	if s := oneLine(f.MetricName); s != "" {
		return s
	}
	if s := oneLine(strings.ReplaceAll(f.MetricKey, "_", " ")); s != "" {
		return s
	}
	return "metric"
}

func (f Facts) hasCI() bool { return finite(f.CILow) && finite(f.CIHigh) }

func (f Facts) confounders() []string {
	var out []string
	for _, c := range f.Confounders {
		if c = oneLine(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (f Facts) caveats() []string {
	var out []string
	for _, c := range f.Caveats {
		if c = oneLine(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// unknownCaveats returns the caveat codes without a fixed explanation.
func (f Facts) unknownCaveats() []string {
	var out []string
	for _, c := range f.caveats() {
		if _, ok := caveatTexts[c]; !ok {
			out = append(out, c)
		}
	}
	return out
}

// ClaimContext returns the claims.Context a narrative of f is checked
// against: f's grade (D when invalid), safety text, n, CI (nil when not
// finite), coverage, adherence, confounders, scope required, and the
// subject, metric name and unknown caveat codes as exempt names.
func (f Facts) ClaimContext() claims.Context {
	ctx := claims.Context{
		Grade:        f.grade(),
		SafetyText:   f.SafetyText,
		N:            f.N,
		Coverage:     f.Coverage,
		Confounders:  f.confounders(),
		RequireScope: true,
		Names:        append([]string{f.subject(), f.metricName()}, f.unknownCaveats()...),
		// The template never states a direction without support; the flag
		// gates candidates from every source (an LLM included).
		DirectionSupported: f.DirectionSupported,
	}
	if f.hasCI() {
		lo, hi := f.CILow, f.CIHigh
		ctx.CILow, ctx.CIHigh = &lo, &hi
	}
	if f.Adherence != nil {
		a := *f.Adherence
		ctx.Adherence = &a
	}
	return ctx
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// oneLine collapses whitespace so user-given names cannot break sentences.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func withUnit(num, unit string) string {
	unit = oneLine(unit)
	switch unit {
	case "":
		return num
	case "%":
		return num + unit
	}
	return num + " " + unit
}

// numbers are the formatted required numbers shared by Template and Prompt.
type numbers struct {
	n, ci, coverage, adherence string
}

func (f Facts) numbers() numbers {
	nb := numbers{n: fmt.Sprintf("n = %d days", f.N)}
	if f.hasCI() {
		nb.ci = "95% CI " + claims.FormatCI(f.CILow) + " to " + withUnit(claims.FormatCI(f.CIHigh), f.Unit)
	} else {
		nb.ci = "95% CI not available"
	}
	if finite(f.Coverage) {
		nb.coverage = "coverage " + claims.FormatPercent(f.Coverage)
	} else {
		nb.coverage = "coverage not available"
	}
	if f.Adherence != nil && finite(*f.Adherence) {
		nb.adherence = "adherence " + claims.FormatPercent(*f.Adherence)
	} else {
		nb.adherence = "adherence not tracked"
	}
	return nb
}

func (nb numbers) String() string {
	return strings.Join([]string{nb.ci, nb.n, nb.coverage, nb.adherence}, "; ")
}

const scope = "for you during this experiment"

// Template returns the deterministic narrative of f. Its wording follows the
// claim policy of f's grade (an invalid grade is written as D):
//
//	A  "<Subject> increased|reduced your <metric> by <|Δ|> <unit> for you during this experiment (…)"
//	   or "made little to no difference to your <metric> …"
//	B  "<Subject> probably increased|reduced …" / "probably made little to no difference …"
//	C  "<Subject> may have increased|reduced …" / "may have made little to no difference …"
//	D  "We can't tell whether "<Subject>" changed your <metric> for you during this experiment; the evidence is very uncertain (estimate …)"
//
// The parenthesis states the 95% CI, n, coverage and adherence. Then follow,
// in order: the period and baseline size, the minimum detectable effect,
// the flagged confounders, each caveat explained, an unreliability note, a
// statement of uncertainty, and finally the safety text verbatim.
// Template(f) always passes claims.Check(text, f.ClaimContext()).
func Template(f Facts) Narrative {
	g := f.grade()
	nb := f.numbers()
	subj, metric := f.subject(), f.metricName()
	delta := f.amount(math.Abs(f.Delta))

	var s []string
	switch {
	case g == evidence.GradeD || f.NoEffectSignal:
		est := "estimate not available"
		if finite(f.Delta) {
			est = "estimate " + f.signed(f.Delta)
		}
		s = append(s, fmt.Sprintf("We can't tell whether \"%s\" changed your %s %s; the evidence is very uncertain (%s; %s).",
			subj, metric, scope, est, nb))
	case !f.DirectionSupported || f.direction() == DirectionNone || !finite(f.Delta):
		hedge := map[evidence.Grade]string{evidence.GradeA: "", evidence.GradeB: "probably ", evidence.GradeC: "may have "}[g]
		claim := fmt.Sprintf("%s %smade little to no difference to your %s %s: there was no clear change", subj, hedge, metric, scope)
		if f.hasCI() {
			claim += fmt.Sprintf(", and a change above %s or below %s is unlikely", f.signed(f.CIHigh), f.signed(f.CILow))
		}
		s = append(s, fmt.Sprintf("%s (%s).", claim, nb))
	default:
		hedge := map[evidence.Grade]string{evidence.GradeA: "", evidence.GradeB: "probably ", evidence.GradeC: "may have "}[g]
		about := "by about "
		if g == evidence.GradeA {
			about = "by "
		}
		claim := fmt.Sprintf("%s %s%s your %s %s%s", subj, hedge, verb(f.direction()), metric, about, delta)
		if f.LogScale && strings.TrimSpace(f.AtBaseline) != "" {
			claim += " (" + oneLine(f.AtBaseline) + ")"
		}
		s = append(s, fmt.Sprintf("%s %s (%s).", claim, scope, nb))
	}
	if f.Observational {
		s = append(s, "This is an observational look back at a change you had already made, not a planned experiment, so anything else that changed at the same time could explain the result.")
	}
	if f.Cycles > 0 {
		s = append(s, fmt.Sprintf("The experiment alternated intervention and control blocks in a randomized order over %d cycles, leaving out the washout days.", f.Cycles))
	}
	if f.Interim {
		s = append(s, "This is an interim result: the experiment is still running, and the result may change as more days come in.")
	}

	if p := period(f); p != "" {
		s = append(s, p)
	}
	if finite(f.MDE) && f.MDE > 0 {
		s = append(s, fmt.Sprintf("The smallest effect this design could reliably detect was %s.", f.amount(f.MDE)))
	}
	if cs := f.confounders(); len(cs) > 0 {
		s = append(s, "Other things that changed during the experiment could explain part of this: "+strings.Join(cs, ", ")+".")
	}
	for _, c := range f.caveats() {
		if t, ok := caveatTexts[c]; ok {
			s = append(s, t)
		} else {
			s = append(s, fmt.Sprintf("Another caveat applies (%s).", c))
		}
	}
	if !f.Reliable {
		s = append(s, "This evaluation is marked unreliable, so treat it as a rough indication only.")
	}
	s = append(s, uncertaintySentence(g, f.hasCI()))
	if st := strings.TrimSpace(f.SafetyText); st != "" {
		s = append(s, st)
	}
	return Narrative{Text: strings.Join(s, " "), Source: SourceTemplate, Grade: g}
}

// amount formats a non-negative magnitude in the unit at the metric's
// display precision ("12%", "40 min", "0.3 °C").
func (f Facts) amount(v float64) string {
	return withUnit(strconv.FormatFloat(v, 'f', f.decimals(), 64), f.Unit)
}

// signed formats a signed value ("+12%", "−3 ms" with an ASCII minus).
func (f Facts) signed(v float64) string {
	s := strconv.FormatFloat(v, 'f', f.decimals(), 64)
	if v >= 0 && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	if s == "-0" || s == "+0" {
		s = "0"
	}
	return withUnit(s, f.Unit)
}

func (f Facts) decimals() int {
	if f.Decimals < 0 || f.Decimals > 3 {
		return 1
	}
	return f.Decimals
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

func verb(d Direction) string {
	if d == DirectionDecrease {
		return "reduced"
	}
	return "increased"
}

func uncertaintySentence(g evidence.Grade, hasCI bool) string {
	switch g {
	case evidence.GradeA:
		if hasCI {
			return "The 95% CI is the range of effects compatible with your data."
		}
		return "The uncertainty of this estimate could not be quantified."
	case evidence.GradeB:
		return "There is some uncertainty: the true effect could lie anywhere in the 95% CI."
	case evidence.GradeC:
		return "The evidence is uncertain: the true effect could be smaller, absent or in the opposite direction."
	default:
		return "More valid days would be needed to tell."
	}
}

func period(f Facts) string {
	var p string
	if !f.PeriodFrom.IsZero() && !f.PeriodTo.IsZero() {
		from, to := f.PeriodFrom.Format("2006-01-02"), f.PeriodTo.Format("2006-01-02")
		switch {
		case f.Interim:
			p = fmt.Sprintf("So far it covers %s to %s", from, to)
			if !f.PlannedTo.IsZero() {
				p += fmt.Sprintf(" of a period planned to end on %s", f.PlannedTo.Format("2006-01-02"))
			}
		case f.EndedEarly && !f.PlannedTo.IsZero():
			p = fmt.Sprintf("The experiment ran from %s to %s, ending %s before its planned end on %s",
				from, to, days(series.DaysBetween(f.PeriodTo, f.PlannedTo)), f.PlannedTo.Format("2006-01-02"))
		default:
			p = fmt.Sprintf("The experiment ran from %s to %s", from, to)
		}
	}
	switch {
	case p != "" && f.M > 0:
		return fmt.Sprintf("%s and was compared with %d baseline days.", p, f.M)
	case p != "":
		return p + "."
	case f.M > 0:
		return fmt.Sprintf("It was compared with %d baseline days.", f.M)
	}
	return ""
}

// Study describes the experiment behind an evaluation, for FromEvaluation.
type Study struct {
	Subject    string     // the experiment's title
	SafetyText string     // the safety boundary, carried verbatim
	PlannedTo  series.Day // the planned last day
	// Interim: the experiment is still running; EndedEarly: it was
	// completed before PlannedTo.
	Interim, EndedEarly bool
	// Cycles of a crossover (0 otherwise).
	Cycles int
}

// FromEvaluation returns the facts a narrative of ev is written from: the
// one mapping from an evaluation to words (units, percent for log-scale
// metrics, display precision, caveats), so every narrator and every caller
// states the same numbers.
func FromEvaluation(ev evaluate.Evaluation, m metrics.Metric, st Study) Facts {
	e := ev.Effect
	adherence := ev.Adherence
	f := Facts{
		Subject: st.Subject, MetricKey: m.Key, MetricName: displayName(m.Name), Unit: m.CanonicalUnit,
		Grade: ev.Grade, Delta: e.Estimate, CILow: e.Low, CIHigh: e.High,
		N: ev.PerProtocol.N, M: ev.PerProtocol.M, Coverage: ev.Coverage, Adherence: &adherence, MDE: ev.MDE,
		SafetyText: st.SafetyText, Reliable: ev.Reliable, PeriodFrom: ev.Intervention.From, PeriodTo: ev.End,
		DirectionSupported: ev.DirectionSupported, Decimals: m.Decimals, Interim: st.Interim,
		EndedEarly: st.EndedEarly && !st.Interim, PlannedTo: st.PlannedTo,
		Observational: slices.Contains(ev.Caveats, evaluate.CaveatObservational),
	}
	if ev.Design == evaluate.DesignCrossover {
		f.PeriodFrom, f.Cycles = ev.Start, st.Cycles
	}
	if e.LogScale {
		f.LogScale, f.Unit, f.Decimals = true, "%", 0
		f.Delta, f.CILow, f.CIHigh = e.Percent, e.PercentLow, e.PercentHigh
		f.MDE = 100 * math.Expm1(ev.MDE)
		f.AtBaseline = fmt.Sprintf("about %s %s at your usual level", strconv.FormatFloat(math.Abs(e.InUnit), 'f', m.Decimals, 64), m.CanonicalUnit)
	}
	if !ev.PerProtocol.Defined {
		f.Delta, f.CILow, f.CIHigh = 0, math.NaN(), math.NaN()
	}
	if ev.Trend.Fired {
		f.Caveats = append(f.Caveats, CaveatTrend)
	}
	if ev.Adherence < evaluate.AdherenceThreshold {
		f.Caveats = append(f.Caveats, CaveatLowAdherence)
	}
	if ev.Coverage < LowCoverage {
		f.Caveats = append(f.Caveats, CaveatLowCoverage)
	}
	if ev.PerProtocol.Defined && math.Abs(e.Estimate) < ev.MDE {
		f.Caveats = append(f.Caveats, CaveatBelowMDE)
	}
	f.NoEffectSignal = ev.PerProtocol.Defined && !ev.CIExcludesZero && math.Abs(ev.PerProtocol.NAP-0.5) <= NoEffectNAPBand
	return f
}

// LowCoverage is the intervention coverage below which a narrative explains
// that many days were missing (grade A's coverage threshold).
const LowCoverage = 0.7

// NoEffectNAPBand: NAP within 0.5 ± this band, with an interval including
// zero, means the phases overlap almost completely, which is what no effect
// looks like (docs/domain.md G4a); the narrative then says "we can't tell".
const NoEffectNAPBand = 0.1

// displayName lower-cases the first letter of a metric name for use inside
// a sentence ("Sleep duration" → "sleep duration"), keeping acronyms ("HRV").
func displayName(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'A' && r[0] <= 'Z' && (len(r) < 2 || !(r[1] >= 'A' && r[1] <= 'Z')) {
		r[0] += 'a' - 'A'
	}
	return string(r)
}
