// Package evaluate judges an n-of-1 experiment: it compares a baseline
// window A with an intervention window B of one daily metric and grades the
// evidence (docs/design.md "EVALUATE", docs/domain.md §2).
//
// Designs: BASELINE_AB compares the BaselineDays days before the start day
// t₀ (A) with the planned window after a lag/washout (B); CROSSOVER compares
// randomized intervention and control blocks within cycles, with a washout
// at the start of every block. Missing days are simply absent — nothing is
// imputed. Two estimates are reported: per-protocol (B restricted to days
// logged as adherent) and intention-to-treat (every observed B day). Each
// carries the difference Δ, Hedges' g, NAP/Tau, an optional log response
// ratio and a 95% interval from a regression with AR(1) errors whose
// correlation is integrated out (armodel.go). A drift test catches a trend
// that would otherwise read as an effect. The claim, its confidence and the
// evidence grade with its explanation all come from Evaluate (one decision
// path; docs/statistics.md explains every method and word).
//
// The package is pure: values in, values out, no I/O, no clock (the caller
// passes Now), no global mutable state.
package evaluate

import (
	"fmt"
	"math"
	"slices"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Defaults and thresholds of the evaluation (docs/statistics.md).
const (
	// DefaultLagDays is the lag/washout length used when Input.LagDays is 0.
	DefaultLagDays = 2
	// NoLag requests an evaluation without lag/washout days (Input.LagDays).
	NoLag = -1
	// DefaultBaselineDays is the baseline length used when Input.BaselineDays is 0.
	DefaultBaselineDays = 28
	// AdherenceThreshold is the per-protocol adherence threshold (PDC
	// convention); below it the evaluation is unreliable and its grade is
	// lowered one step. It is evidence.AdherenceThreshold: one rule.
	AdherenceThreshold = evidence.AdherenceThreshold
	// MinCoverage is the window coverage below which the evaluation is
	// unreliable (grade C's coverage threshold).
	MinCoverage = 0.3
	// TrendAlpha is the one-sided level of the drift test: the trend guard
	// fires when the common slope of both windows is positive (negative)
	// with one-sided tail probability below TrendAlpha and the effect
	// estimate is positive (negative) too — a drift in the other direction
	// can only hide an effect, never invent one — …
	TrendAlpha = 0.025
	// TrendFraction … and the drift |β₁|·BaselineDays is at least
	// TrendFraction·MDE, so that a statistically clear but negligible
	// drift does not discard the comparison.
	TrendFraction = 0.5
	// CILevel is the level of every reported interval.
	CILevel = 0.95
	// MaxAbsValue bounds the magnitude of accepted values (far beyond any
	// health metric); larger values are rejected so sums cannot overflow.
	MaxAbsValue = 1e12
	// MaxWindowDays bounds PlannedDays and BaselineDays (ten years).
	MaxWindowDays = 3660
)

// Designs.
const (
	// DesignBaselineAB compares the baseline window before the start with
	// the intervention window after the lag.
	DesignBaselineAB = "BASELINE_AB"
	// DesignCrossover compares randomized intervention and control blocks
	// within cycles (Input.Crossover).
	DesignCrossover = "CROSSOVER"
)

// Reasons (Evaluation.Reasons) explain why an evaluation is unreliable. The
// adherence reason is formatted: "adherence 0.60 below 0.80".
const (
	// ReasonInsufficientData: too few per-protocol values to estimate an effect.
	ReasonInsufficientData = "insufficient data"
	// ReasonInsufficientCoverage: intervention coverage below MinCoverage.
	ReasonInsufficientCoverage = "insufficient coverage"
	// ReasonInsufficientBaselineCoverage: baseline coverage below MinCoverage.
	ReasonInsufficientBaselineCoverage = "insufficient baseline coverage"
	// ReasonNoVariability: the values do not vary, so no uncertainty can be estimated.
	ReasonNoVariability = "no variability"
)

// Caveats (Evaluation.Caveats) qualify an evaluation without making it unreliable.
const (
	// CaveatTrend: the drift test fired: values were already moving in the
	// direction of the difference before the start, so drift could explain
	// it; grade D.
	CaveatTrend = "trend"
	// CaveatInterim: the evaluation was made while the experiment runs
	// (InProgress, before the planned end).
	CaveatInterim = "interim"
	// CaveatUnexpectedDirection: the CI excludes zero on the side opposite
	// to Input.ExpectedDirection.
	CaveatUnexpectedDirection = "unexpected direction"
	// CaveatObservational: a retrospective analysis of a start in the past;
	// the grade is capped at C.
	CaveatObservational = "observational"
)

// Claims: what the evidence lets a narrative say (docs/statistics.md, "Words").
const (
	// ClaimDirection: the 95% interval excludes zero; a hedged direction may
	// be stated at grades A–C.
	ClaimDirection = "DIRECTION"
	// ClaimNoClearChange: the interval includes zero; the narrative says
	// there was no clear change and states the range the data rule out.
	ClaimNoClearChange = "NO_CLEAR_CHANGE"
	// ClaimCantTell: grade D; the narrative says we can't tell.
	ClaimCantTell = "CANT_TELL"
)

// Input is one experiment to evaluate. Days are series.Day values (midnight
// UTC of the local calendar date); values are in the metric's canonical unit.
type Input struct {
	// Metric is the canonical metric key; it is copied to the result.
	Metric string
	// Series holds the daily outcome values, at most one per day, in any
	// order; missing days are absent. Values must be finite and within
	// ±MaxAbsValue (and positive when LogScale). Points outside the windows,
	// and points dated after Now, are ignored.
	Series series.Series
	// Start is t₀, the first intervention day (the first day of the first
	// cycle for a crossover).
	Start series.Day
	// PlannedDays is the length of the intervention window in days,
	// including the lag; it must exceed the lag and be at most MaxWindowDays.
	// For a crossover it is Cycles·2·BlockDays.
	PlannedDays int
	// LagDays is the lag/washout length in days: 0 means DefaultLagDays,
	// NoLag means none; other negative values are invalid. For a crossover
	// it is the washout at the start of every block.
	LagDays int
	// BaselineDays is the baseline length in days: 0 means
	// DefaultBaselineDays; otherwise 2 to MaxWindowDays. Unused by a crossover.
	BaselineDays int
	// Adherence says, per intervention day, whether the protocol was
	// followed. A day absent from the map was not logged: it counts as
	// non-adherent for the per-protocol estimate (except the day in
	// progress, see InProgress) and is still included in the
	// intention-to-treat estimate.
	Adherence map[series.Day]bool
	// ExpectedDirection is +1 (increase expected), −1 (decrease) or 0
	// (either). It orients NAP/Tau and the "unexpected direction" caveat.
	ExpectedDirection int
	// LogRatio requests the log response ratio ln(ȳB/ȳA) (e.g. for steps).
	LogRatio bool
	// LogScale analyses ln(value) (HRV): the effect and its interval are
	// then in ln units and are reported as a percent change too.
	LogScale bool
	// MinImportantDiff is the smallest change worth caring about on the
	// analysis scale (metrics.Metric.MinImportantDiff); it defines the
	// confidence of a "no clear change" statement. 0 uses a quarter of the
	// baseline SD.
	MinImportantDiff float64
	// Now is the evaluation date. Days after Now have not happened yet: they
	// are not counted as planned days and their points are ignored. The
	// zero value means "after the whole planned window". Now before Start is
	// invalid.
	Now series.Day
	// InProgress says that Now is today and not over yet: without a value
	// it is not counted as a missing day, and without an adherence log it
	// is not counted as non-adherent.
	InProgress bool
	// Retrospective marks a start day chosen after the fact: an
	// observational analysis whose grade is capped at C.
	Retrospective bool
	// Crossover, when set, makes this a randomized crossover evaluation.
	Crossover *Crossover
}

// Crossover is the plan of a randomized multi-crossover experiment: Cycles
// cycles of two blocks of BlockDays days each, one with the intervention and
// one without, in the order InterventionFirst[c] drawn for each cycle.
type Crossover struct {
	Cycles            int
	BlockDays         int
	InterventionFirst []bool
}

// Window is one evaluation window, inclusive of both ends.
type Window struct {
	// From and To are the first and last planned day (To = From − 1 for an
	// empty lag window).
	From, To series.Day
	// Planned is the window length in days.
	Planned int
	// Elapsed is the number of planned days on or before Now (≤ Planned);
	// it is the coverage denominator (the day in progress counts only when
	// it has a value).
	Elapsed int
	// Valid is the number of elapsed days with an observed value.
	Valid int
	// Coverage is Valid/Elapsed in [0, 1] (0 when nothing has elapsed).
	Coverage float64
}

// Estimate compares baseline (or control) values A (M days) with
// intervention values B (N days). All fields are finite. When Defined is
// false only M, N, the means and Delta are set (means and Delta only where
// the phases are non-empty) and every other field is 0.
type Estimate struct {
	// Defined reports whether the effect could be estimated.
	Defined bool
	// M and N are the numbers of valid baseline and intervention days.
	M, N int
	// MeanA, MeanB are the phase means, SDA, SDB the sample SDs (divisor
	// n−1) and SP the pooled SD, on the analysis scale.
	MeanA, MeanB, SDA, SDB, SP float64
	// Delta is the effect on the analysis scale: ȳB − ȳA for BASELINE_AB,
	// the within-cycle contrast for a crossover.
	Delta float64
	// HedgesG is J·Δ/s_A with J = 1 − 3/(4M−5), SEG its standard error;
	// both 0 when s_A is 0.
	HedgesG, SEG float64
	// NAP is the non-overlap of all pairs in the expected direction
	// (decrease when ExpectedDirection is −1, else increase), in [0, 1];
	// NAPSE its null standard error; Tau = 2·NAP − 1.
	NAP, NAPSE, Tau float64
	// LogRatio is ln(ȳB/ȳA), set (HasLogRatio) only when requested and both
	// means are positive.
	LogRatio    float64
	HasLogRatio bool
	// R is the lag-1 autocorrelation of the within-phase residuals and
	// RStar its bias-corrected, clamped value (descriptive; the interval
	// integrates over ρ instead, see RhoPosterior).
	R, RStar float64
	// RhoPosterior is the posterior mean of the AR(1) correlation.
	RhoPosterior float64
	// SEDelta is the posterior SD of Delta, DF the t degrees of freedom of
	// the model (observations minus coefficients).
	SEDelta, DF float64
	// CILow, CIHigh bound the 95% interval of Delta.
	CILow, CIHigh float64
	// P is the two-sided tail probability of zero (the smallest level at
	// which the interval excludes zero; 1 when there is no variability).
	P float64

	mix *tMixture // the posterior of Delta; nil when not modelled
}

// Trend is the drift test. The test fits y = a + Slope·t + b·D (one slope
// shared by both windows, a step at the start) by OLS over the observed
// baseline and per-protocol intervention days (lag excluded), with t in
// days since the first baseline day and D = 1 in the intervention window,
// and AR(1) errors integrated out as for the effect. The piecewise
// regression y = B0 + B1·t + B2·D + B3·(t − t₀)·D (scan plm) is reported
// alongside for transparency.
type Trend struct {
	// Defined reports whether the model could be fitted; otherwise every
	// other field is zero.
	Defined bool
	// N is the number of days in the fit.
	N int
	// B0 is the level at the first baseline day, B1 the baseline slope per
	// day, B2 the level change at t₀ and B3 the change of slope per day.
	B0, B1, B2, B3 float64
	// Slope is the shared slope in outcome units per day, SlopeLow and
	// SlopeHigh its 95% interval and SlopeP its one-sided tail probability
	// of zero in the direction of the effect estimate.
	Slope, SlopeLow, SlopeHigh, SlopeP float64
	// Drift = |Slope|·BaselineDays is the drift over a baseline window, and
	// Threshold = TrendFraction·MDE, both in outcome units.
	Drift, Threshold float64
	// Fired reports SlopeP < TrendAlpha and Drift ≥ Threshold.
	Fired bool
	// Adjusted is the drift-adjusted effect B2 + B3·(t̄_B − t₀): the
	// intervention window's mean departure from the extrapolated baseline
	// trend, and AdjustedSE its posterior SD. They are reported for
	// transparency, never claimed: selected by a fired test, an interval
	// around them would not keep its coverage.
	Adjusted, AdjustedSE float64
}

// Effect is the effect the evaluation reports: the per-protocol estimate.
type Effect struct {
	// Estimate, Low and High are the effect and its 95% interval on the
	// analysis scale (ln units when LogScale).
	Estimate, Low, High float64
	// SE is the posterior SD and P the two-sided tail probability of zero.
	SE, P float64
	// LogScale reports that the effect is in ln units; Percent, PercentLow
	// and PercentHigh are then 100·(e^x − 1) of each, and InUnit, InUnitLow
	// and InUnitHigh the same change in the metric's unit at the baseline
	// level (geometric mean of the baseline). Without LogScale the InUnit
	// fields equal the effect.
	LogScale                         bool
	Percent, PercentLow, PercentHigh float64
	InUnit, InUnitLow, InUnitHigh    float64
	BaselineLevel                    float64

	mix *tMixture
}

// Evaluation is the result of Evaluate. All float fields are finite.
type Evaluation struct {
	// Metric is copied from the input; Design is DesignBaselineAB or DesignCrossover.
	Metric string
	Design string
	// Start is t₀; ExpectedDirection is copied from the input.
	Start             series.Day
	ExpectedDirection int
	// Baseline (A: the baseline window, or the control blocks of a
	// crossover), Lag (the lag or washout days) and Intervention (B) windows
	// with their coverage.
	Baseline, Lag, Intervention Window
	// End is the last day the evaluation covers: the planned end, or Now
	// when that is earlier (the day before when Now is the day in progress
	// without a value).
	End series.Day
	// Complete reports whether Now is on or after the last planned day.
	Complete bool
	// AdherentDays is the number of elapsed B days logged as adherent and
	// Adherence = AdherentDays / Intervention.Elapsed (0 when nothing elapsed).
	AdherentDays int
	Adherence    float64
	// PerProtocol uses adherent B days only; ITT uses every observed B day.
	// PerProtocol is the primary estimate behind the grade.
	PerProtocol, ITT Estimate
	// Effect is what is reported: the per-protocol estimate.
	Effect Effect
	// MDE is the per-protocol minimum detectable effect at 80% power on the
	// analysis scale, MDEMultiplier·SE.
	MDE float64
	// MinImportantDiff is the threshold behind a "no clear change"
	// statement's confidence (analysis scale).
	MinImportantDiff float64
	// Trend is the drift test (BASELINE_AB only).
	Trend Trend
	// Claim is what the evidence lets a narrative say (Claim* constants).
	Claim string
	// DirectionSupported reports that the effect's 95% interval excludes
	// zero (and the evidence is at least grade C): only then may a
	// direction be stated.
	DirectionSupported bool
	// CIExcludesZero reports whether the reported effect's interval excludes 0.
	CIExcludesZero bool
	// Confidence is the probability behind the claim (docs/statistics.md,
	// "Confidence"): for a direction, the probability that a repeat of the
	// experiment would again find a clear change in the same direction;
	// for no clear change, the probability that the true change is smaller
	// than MinImportantDiff.
	Confidence float64
	// SampleSize is the number of elapsed intervention days (the planned
	// window so far); Coverage their share with data.
	SampleSize int
	Coverage   float64
	// Assessment is the grade with its why / how confident / what would
	// change it; Grade is Assessment.Grade.
	Assessment evidence.Assessment
	Grade      evidence.Grade
	// Reliable is false when any Reasons apply.
	Reliable bool
	// Reasons explain unreliability (Reason* constants and the adherence reason).
	Reasons []string
	// Caveats qualify the result (Caveat* constants).
	Caveats []string
}

// Evaluate compares the intervention with its control (the baseline window,
// or the control blocks of a crossover) and grades the evidence. It is the
// one decision path of an evaluation: the effect, its interval, the claim,
// the confidence, the grade and its explanation all come from here, so they
// cannot disagree.
//
// Grade (evidence.Assess): the table on Confidence, SampleSize and
// Coverage; A also needs the interval to exclude zero; a fired drift test
// gives D;
// adherence below AdherenceThreshold or a baseline coverage below
// MinCoverage lowers it one step; a retrospective analysis is capped at C.
// Too few points give grade D, reason "insufficient data" and zeros.
//
// Errors: *engine.Error with code EINVALID when Start is zero, PlannedDays
// is ≤ the lag or above MaxWindowDays, LagDays or BaselineDays are out of
// range, ExpectedDirection is not −1, 0 or +1, Now is before Start, a value
// is NaN, infinite, beyond ±MaxAbsValue or not positive on the log scale, a
// day appears twice, the crossover plan is inconsistent, or the baseline
// window has no data.
func Evaluate(in Input) (Evaluation, error) {
	cfg, err := configure(in)
	if err != nil {
		return Evaluation{}, err
	}
	if in.Crossover != nil {
		return evaluateCrossover(in, cfg)
	}
	ph, err := split(in, cfg)
	if err != nil {
		return Evaluation{}, err
	}
	if len(ph.a) == 0 {
		return Evaluation{}, engine.Errorf(engine.EINVALID, "no baseline data in the %d days before the start", cfg.baseline)
	}

	ev := Evaluation{
		Metric:            in.Metric,
		Design:            DesignBaselineAB,
		Start:             cfg.start,
		ExpectedDirection: in.ExpectedDirection,
		Complete:          cfg.now >= cfg.bEnd,
	}
	ev.End = cfg.end(ph.todayValue)
	ev.Baseline = cfg.window(0, cfg.t0-1, len(ph.a), ph.todayValue)
	ev.Lag = cfg.window(cfg.t0, cfg.bStart-1, ph.lagValid, ph.todayValue)
	ev.Intervention = cfg.window(cfg.bStart, cfg.bEnd, len(ph.b), ph.todayValue)
	ev.AdherentDays = ph.adherentDays
	if e := ph.adherenceDays(cfg, ev.Intervention.Elapsed); e > 0 {
		ev.Adherence = float64(ph.adherentDays) / float64(e)
	}

	pp := make([]obs, 0, len(ph.b))
	for _, o := range ph.b {
		if ph.adherent[o.t] {
			pp = append(pp, o)
		}
	}
	ev.PerProtocol = estimate(ph.a, pp, in.ExpectedDirection, in.LogRatio && !in.LogScale)
	ev.ITT = estimate(ph.a, ph.b, in.ExpectedDirection, in.LogRatio && !in.LogScale)
	est := ev.PerProtocol
	usable := est.Defined && est.SEDelta > 0
	if usable {
		ev.MDE = MDEMultiplier * est.SEDelta
	}
	ev.Trend = trendGuard(ph.a, pp, cfg, ev.MDE, est.Delta, usable)
	ev.Effect = effectOf(est)
	if ev.Trend.Fired {
		ev.Caveats = append(ev.Caveats, CaveatTrend)
	}
	if !est.Defined {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientData)
	} else if est.SEDelta == 0 {
		ev.Reasons = append(ev.Reasons, ReasonNoVariability)
	}
	finish(&ev, in, ph.a, usable)
	return ev, nil
}

// finish derives the claim, confidence, grade and explanation of ev (shared
// by both designs) from ev's windows, adherence and effect.
func finish(ev *Evaluation, in Input, baseline []obs, usable bool) {
	ev.SampleSize = ev.Intervention.Elapsed
	ev.Coverage = ev.Intervention.Coverage
	ev.MinImportantDiff = in.MinImportantDiff
	if ev.MinImportantDiff <= 0 {
		ev.MinImportantDiff = 0.25 * SampleSD(values(baseline))
	}
	if in.LogScale {
		ev.Effect.toPercent(math.Exp(mean(values(baseline))))
	} else {
		ev.Effect.InUnit, ev.Effect.InUnitLow, ev.Effect.InUnitHigh = ev.Effect.Estimate, ev.Effect.Low, ev.Effect.High
		ev.Effect.BaselineLevel = mean(values(baseline))
	}
	e := ev.Effect
	ev.CIExcludesZero = usable && (e.Low > 0 || e.High < 0)
	if ev.Intervention.Coverage < MinCoverage {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientCoverage)
	}
	if ev.Baseline.Coverage < MinCoverage {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientBaselineCoverage)
	}
	if ev.Intervention.Elapsed > 0 && ev.Adherence < AdherenceThreshold {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("adherence %.2f below %.2f", ev.Adherence, AdherenceThreshold))
	}
	if !ev.Complete && in.InProgress {
		ev.Caveats = append(ev.Caveats, CaveatInterim)
	}
	if in.Retrospective {
		ev.Caveats = append(ev.Caveats, CaveatObservational)
	}
	if in.ExpectedDirection != 0 && ev.CIExcludesZero && (e.Estimate > 0) != (in.ExpectedDirection > 0) {
		ev.Caveats = append(ev.Caveats, CaveatUnexpectedDirection)
	}

	switch {
	case !usable:
		ev.Confidence = 0
	case ev.CIExcludesZero:
		ev.Confidence = ReplicationProbability(e.P)
	default:
		ev.Confidence = probWithin(e, ev.MinImportantDiff)
	}
	ciExcl := ev.CIExcludesZero
	adherence := ev.Adherence
	baseCov := ev.Baseline.Coverage
	ev.Assessment = evidence.Assess(evidence.Input{
		Confidence: evidence.Clamp01(ev.Confidence), SampleSize: ev.SampleSize, Coverage: evidence.Clamp01(ev.Coverage),
		PlannedDays: ev.Intervention.Elapsed, CIExcludesZero: &ciExcl, TrendFlag: ev.Trend.Fired,
		Adherence: &adherence, BaselineCoverage: &baseCov, Retrospective: in.Retrospective, Insufficient: !usable,
	})
	ev.Grade = ev.Assessment.Grade
	ev.Reliable = len(ev.Reasons) == 0
	ev.DirectionSupported = ev.CIExcludesZero && ev.Grade != evidence.GradeD
	switch {
	case ev.Grade == evidence.GradeD:
		ev.Claim = ClaimCantTell
	case ev.DirectionSupported:
		ev.Claim = ClaimDirection
	default:
		ev.Claim = ClaimNoClearChange
	}
}

// ReplicationProbability is the confidence of a directional claim: the
// probability that a repeat of the same experiment (same length, same noise)
// would again give a 95% interval excluding zero on the same side,
//
//	Φ((z − z₀.₉₇₅)/√2),  z = Φ⁻¹(1 − p/2),
//
// with p the two-sided tail probability of zero under the effect's
// posterior: the repeat's estimate differs from this one by the noise of
// both experiments (variance 2·SE²), and the normal score of p carries the
// posterior's heavier tails at high autocorrelation. It is 0.5 for an
// interval that just excludes zero and reaches 0.8 only when p ≤ 0.0016
// (Goodman 1992, "A comment on replication, p-values and evidence", Stat
// Med 11:875–879).
func ReplicationProbability(p float64) float64 {
	switch {
	case !(p < 1):
		return 0
	case !(p > 0):
		return 1
	}
	z := normalQuantile(1 - p/2)
	return normalCDF((z - normalQuantile(1-(1-CILevel)/2)) / math.Sqrt2)
}

// probWithin is the posterior probability that |effect| < mid.
func probWithin(e Effect, mid float64) float64 {
	if mid <= 0 || e.mix == nil {
		return 0
	}
	return math.Max(0, e.mix.cdf(mid)-e.mix.cdf(-mid))
}

func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// effectOf reports an estimate as the effect.
func effectOf(e Estimate) Effect {
	return Effect{Estimate: e.Delta, Low: e.CILow, High: e.CIHigh, SE: e.SEDelta, P: e.P, mix: e.mix}
}

// toPercent converts a log-scale effect to percent and to the unit at the
// baseline level.
func (e *Effect) toPercent(level float64) {
	e.LogScale = true
	pct := func(x float64) float64 { return 100 * math.Expm1(x) }
	e.Percent, e.PercentLow, e.PercentHigh = pct(e.Estimate), pct(e.Low), pct(e.High)
	e.BaselineLevel = level
	e.InUnit, e.InUnitLow, e.InUnitHigh = level*math.Expm1(e.Estimate), level*math.Expm1(e.Low), level*math.Expm1(e.High)
}

// config is the validated input with every day converted to an index: days
// since the first baseline day (so the baseline is [0, t0)).
type config struct {
	start    series.Day // t₀
	first    series.Day // first baseline day
	baseline int        // baseline length (days)
	lag      int        // lag length (days)
	t0       int        // index of t₀ (= baseline)
	bStart   int        // first B day
	bEnd     int        // last planned B day
	now      int        // index of Now (math.MaxInt when Now is zero)
	today    int        // index of the day in progress, or -1
}

func configure(in Input) (config, error) {
	c := config{today: -1}
	if in.Start.IsZero() {
		return c, engine.Errorf(engine.EINVALID, "the experiment start day is required")
	}
	switch {
	case in.LagDays == 0:
		c.lag = DefaultLagDays
	case in.LagDays == NoLag:
		c.lag = 0
	case in.LagDays < 0:
		return c, engine.Errorf(engine.EINVALID, "lag days must be 0 (default), %d (none) or positive, got %d", NoLag, in.LagDays)
	default:
		c.lag = in.LagDays
	}
	switch {
	case in.BaselineDays == 0:
		c.baseline = DefaultBaselineDays
	case in.BaselineDays < 2 || in.BaselineDays > MaxWindowDays:
		return c, engine.Errorf(engine.EINVALID, "baseline days must be between 2 and %d, got %d", MaxWindowDays, in.BaselineDays)
	default:
		c.baseline = in.BaselineDays
	}
	if in.PlannedDays <= c.lag {
		return c, engine.Errorf(engine.EINVALID, "planned days (%d) must exceed the lag (%d days)", in.PlannedDays, c.lag)
	}
	if in.PlannedDays > MaxWindowDays {
		return c, engine.Errorf(engine.EINVALID, "planned days must be at most %d, got %d", MaxWindowDays, in.PlannedDays)
	}
	if d := in.ExpectedDirection; d < -1 || d > 1 {
		return c, engine.Errorf(engine.EINVALID, "expected direction must be -1, 0 or +1, got %d", d)
	}
	if x := in.Crossover; x != nil {
		if err := x.validate(in.PlannedDays, c.lag); err != nil {
			return c, err
		}
		c.baseline = 0
	}
	c.start = series.Truncate(in.Start)
	c.first = series.AddDays(c.start, -c.baseline)
	c.t0 = c.baseline
	c.bStart = c.t0 + c.lag
	c.bEnd = c.t0 + in.PlannedDays - 1
	c.now = math.MaxInt
	if !in.Now.IsZero() {
		c.now = c.index(in.Now)
		if c.now < c.t0 {
			return c, engine.Errorf(engine.EINVALID, "cannot evaluate before the experiment starts (%s)", c.start.Format("2006-01-02"))
		}
		if in.InProgress {
			c.today = c.now
		}
	}
	return c, nil
}

// MaxCycles bounds Crossover.Cycles; MinCycles is the fewest cycles a
// crossover may have (docs/design.md: ≥ 3).
const (
	MinCycles = 3
	MaxCycles = 26
)

func (x *Crossover) validate(planned, lag int) error {
	if x.Cycles < MinCycles || x.Cycles > MaxCycles {
		return engine.Errorf(engine.EINVALID, "a crossover needs %d to %d cycles, got %d", MinCycles, MaxCycles, x.Cycles)
	}
	if x.BlockDays < lag+2 {
		return engine.Errorf(engine.EINVALID, "crossover blocks must be at least %d days (washout %d + 2), got %d", lag+2, lag, x.BlockDays)
	}
	if len(x.InterventionFirst) != x.Cycles {
		return engine.Errorf(engine.EINVALID, "the crossover order must name %d cycles, got %d", x.Cycles, len(x.InterventionFirst))
	}
	if planned != 2*x.Cycles*x.BlockDays {
		return engine.Errorf(engine.EINVALID, "a crossover of %d cycles of 2×%d days lasts %d days, not %d", x.Cycles, x.BlockDays, 2*x.Cycles*x.BlockDays, planned)
	}
	return nil
}

// end is the last day an evaluation covers: the planned end or Now, and the
// day before when Now is the day in progress without a value yet.
func (c config) end(todayValue bool) series.Day {
	last := min(c.bEnd, c.now)
	if last == c.today && !todayValue {
		last--
	}
	return c.day(last)
}

func (c config) index(d series.Day) int { return series.DaysBetween(c.first, series.Truncate(d)) }

func (c config) day(i int) series.Day { return series.AddDays(c.first, i) }

// window describes days [from, to] with valid observed days. The day in
// progress is elapsed only when it has a value (todayValue).
func (c config) window(from, to, valid int, todayValue bool) Window {
	w := Window{From: c.day(from), To: c.day(to), Planned: max(0, to-from+1)}
	last := min(to, c.now)
	if c.today >= from && c.today <= to && c.today == last && !todayValue {
		last--
	}
	w.Elapsed = max(0, last-from+1)
	w.Valid = valid
	if w.Elapsed > 0 {
		w.Coverage = float64(valid) / float64(w.Elapsed)
	}
	return w
}

// phases are the observed values of A and B (sorted by day) and the
// adherence per B day index.
type phases struct {
	a, b         []obs
	lagValid     int
	adherent     map[int]bool
	logged       map[int]bool
	adherentDays int
	todayValue   bool
}

// adherenceDays is the adherence denominator: the elapsed B days, plus the
// day in progress when it is logged but has no value yet.
func (ph phases) adherenceDays(c config, elapsed int) int {
	if c.today >= c.bStart && c.today <= c.bEnd && !ph.todayValue && ph.logged[c.today] {
		return elapsed + 1
	}
	return elapsed
}

func split(in Input, c config) (phases, error) {
	var ph phases
	seen := make(map[int]bool, len(in.Series))
	for _, p := range in.Series {
		v, err := analysisValue(p, in.LogScale)
		if err != nil {
			return ph, err
		}
		i := c.index(p.Day)
		if seen[i] {
			return ph, engine.Errorf(engine.EINVALID, "day %s appears more than once", p.Day.Format("2006-01-02"))
		}
		seen[i] = true
		if i == c.today {
			ph.todayValue = true
		}
		switch {
		case i > c.now || i < 0 || i > c.bEnd:
			// In the future or outside every window.
		case i < c.t0:
			ph.a = append(ph.a, obs{t: i, v: v})
		case i < c.bStart:
			ph.lagValid++
		default:
			ph.b = append(ph.b, obs{t: i, v: v})
		}
	}
	byDay := func(x, y obs) int { return x.t - y.t }
	slices.SortFunc(ph.a, byDay)
	slices.SortFunc(ph.b, byDay)
	ph.adherent, ph.logged = adherence(in.Adherence, c)
	for i, ok := range ph.adherent {
		if ok && i >= c.bStart && i <= min(c.bEnd, c.now) {
			ph.adherentDays++
		}
	}
	return ph, nil
}

// analysisValue validates p and returns its value on the analysis scale.
func analysisValue(p series.Point, logScale bool) (float64, error) {
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || math.Abs(p.Value) > MaxAbsValue {
		return 0, engine.Errorf(engine.EINVALID, "value %v on %s is not a finite number within ±%g", p.Value, p.Day.Format("2006-01-02"), MaxAbsValue)
	}
	if !logScale {
		return p.Value, nil
	}
	if p.Value <= 0 {
		return 0, engine.Errorf(engine.EINVALID, "value %v on %s must be positive on the log scale", p.Value, p.Day.Format("2006-01-02"))
	}
	return math.Log(p.Value), nil
}

// adherence maps the logs to day indices. A day is adherent only if every
// map entry falling on it says so (entries in different locations may name
// the same calendar day).
func adherence(logs map[series.Day]bool, c config) (adherent, logged map[int]bool) {
	adherent = make(map[int]bool, len(logs))
	logged = make(map[int]bool, len(logs))
	conflict := map[int]bool{}
	for d, ok := range logs {
		i := c.index(d)
		if prev, dup := adherent[i]; dup && prev != ok {
			conflict[i] = true
		}
		adherent[i] = ok
		logged[i] = true
	}
	for i := range conflict {
		adherent[i] = false
	}
	return adherent, logged
}

// estimate computes every statistic comparing a with b (both sorted by day).
func estimate(a, b []obs, direction int, wantLog bool) Estimate {
	e := describe(a, b, direction, wantLog)
	if !e.Defined {
		return e
	}
	// The effect model: y = μ + δ·D + AR(1) errors (armodel.go).
	all := append(slices.Clone(a), b...)
	t := make([]int, len(all))
	y := make([]float64, len(all))
	x := make([][]float64, len(all))
	for i, o := range all {
		t[i], y[i] = o.t, o.v
		x[i] = []float64{1, 0}
		if i >= len(a) {
			x[i][1] = 1
		}
	}
	setModel(&e, t, y, x, []float64{0, 1})
	return e
}

// describe computes the descriptive statistics of a and b; Defined is set
// when both have at least two values.
func describe(a, b []obs, direction int, wantLog bool) Estimate {
	e := Estimate{M: len(a), N: len(b)}
	va, vb := values(a), values(b)
	e.MeanA, e.MeanB = mean(va), mean(vb)
	if e.M > 0 && e.N > 0 {
		e.Delta = e.MeanB - e.MeanA
	}
	if e.M < 2 || e.N < 2 {
		return e
	}
	e.Defined = true
	e.SDA, e.SDB = SampleSD(va), SampleSD(vb)
	e.SP = pooledSD(e.SDA, e.M, e.SDB, e.N)
	// Treat SDs that vanish relative to the data's magnitude as zero, so
	// that no ratio can overflow.
	scale := math.Max(1, math.Max(math.Abs(e.MeanA), math.Abs(e.MeanB)))
	if e.SDA <= 1e-9*scale {
		e.SDA = 0
	}
	if e.SP <= 1e-9*scale {
		e.SP = 0
	}
	if e.SDA > 0 {
		e.HedgesG, e.SEG = hedgesG(e.Delta, e.SDA, e.SDB, e.M, e.N)
	}
	e.NAP, e.NAPSE, e.Tau = nap(va, vb, direction)
	if wantLog && e.MeanA > 0 && e.MeanB > 0 {
		// Source: jepusto/SingleCaseES Effect-size-definitions.Rmd (LRR, ln(ȳB/ȳA)).
		e.LogRatio, e.HasLogRatio = math.Log(e.MeanB/e.MeanA), true
	}
	e.R, _, _ = lag1(a, b)
	e.RStar = biasCorrectRho(e.R, float64(e.M+e.N)/2)
	e.P = 1
	return e
}

// setModel fits the AR(1) regression of y on x and sets e's effect (the
// contrast c), interval and tail probability. With no residual variation the
// effect keeps Delta with a zero-width interval and P = 1.
func setModel(e *Estimate, t []int, y []float64, x [][]float64, c []float64) {
	if e.SP == 0 {
		e.CILow, e.CIHigh, e.P = e.Delta, e.Delta, 1
		return
	}
	f, ok := fitAR(t, y, x)
	if !ok {
		e.Defined = false
		e.P = 0
		return
	}
	m := f.contrast(c)
	e.Delta = m.center
	e.RhoPosterior = f.rhoMean()
	e.SEDelta = m.se()
	e.DF = m.df
	e.CILow = m.quantile((1 - CILevel) / 2)
	e.CIHigh = m.quantile(1 - (1-CILevel)/2)
	e.P = m.twoSidedP()
	e.mix = &m
}

// trendGuard fits the piecewise model on a and b and tests whether the
// baseline slope points the way of the effect estimate delta; usable is
// false when the effect is not defined, and then the guard cannot fire.
// Source: scan::plm piecewise regression (Huitema & McKean 2000); the slope
// test integrates over the AR(1) correlation like the effect (armodel.go).
func trendGuard(a, b []obs, c config, mde, delta float64, usable bool) Trend {
	if len(a) < 2 || len(b) < 2 {
		return Trend{}
	}
	all := append(slices.Clone(a), b...)
	t := make([]int, len(all))
	y := make([]float64, len(all))
	x := make([][]float64, len(all))
	var tb float64
	for i, o := range all {
		t[i], y[i] = o.t, o.v
		d := 0.0
		if i >= len(a) {
			d = 1
			tb += float64(o.t)
		}
		x[i] = []float64{1, float64(o.t), d, (float64(o.t) - float64(c.t0)) * d}
	}
	tb /= float64(len(b))
	f, ok := fitAR(t, y, x)
	if !ok {
		return Trend{}
	}
	tr := Trend{Defined: true, N: len(all), B0: f.beta[0], B1: f.beta[1], B2: f.beta[2], B3: f.beta[3]}
	adj := f.contrast([]float64{0, 0, 1, tb - float64(c.t0)})
	tr.Adjusted, tr.AdjustedSE = adj.center, adj.se()
	// The test: one slope over both windows (more days than the baseline
	// alone, so a real drift is found sooner).
	x3 := make([][]float64, len(x))
	for i, row := range x {
		x3[i] = row[:3]
	}
	g, ok := fitAR(t, y, x3)
	if !ok {
		return tr
	}
	slope := g.contrast([]float64{0, 1, 0})
	tr.Slope = g.beta[1]
	tr.SlopeLow, tr.SlopeHigh = slope.quantile((1-CILevel)/2), slope.quantile(1-(1-CILevel)/2)
	tr.SlopeP = slope.cdf(0) // P(slope ≤ 0): small when the slope is clearly positive
	if delta < 0 {
		tr.SlopeP = 1 - tr.SlopeP
	}
	tr.Drift = math.Abs(tr.B1) * float64(c.baseline)
	tr.Threshold = TrendFraction * mde
	tr.Fired = usable && delta != 0 && tr.SlopeP < TrendAlpha && tr.Drift >= tr.Threshold
	return tr
}
