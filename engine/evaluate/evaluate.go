// Package evaluate judges an n-of-1 experiment: it compares a baseline
// window A with an intervention window B of one daily metric and grades the
// evidence (DESIGN.md "EVALUATE", DOMAIN.md §2).
//
// Windows: A is the BaselineDays days before the start day t₀; the first
// LagDays days from t₀ are a lag/washout that is excluded; B is the rest of
// the planned window. Missing days are simply absent — nothing is imputed.
// Two estimates are reported: per-protocol (B restricted to days logged as
// adherent) and intention-to-treat (every observed B day). Each carries the
// raw difference Δ, Hedges' g, NAP/Tau, an optional log response ratio and
// an AR(1)-adjusted confidence interval. A piecewise-regression trend guard
// catches drift that would otherwise read as an effect, and the evidence
// grade follows DESIGN.md with the CI, trend and adherence rules applied.
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

// Defaults and thresholds of the evaluation (DESIGN.md "EVALUATE").
const (
	// DefaultLagDays is the lag/washout length used when Input.LagDays is 0.
	DefaultLagDays = 2
	// NoLag requests an evaluation without lag/washout days (Input.LagDays).
	NoLag = -1
	// DefaultBaselineDays is the baseline length used when Input.BaselineDays is 0.
	DefaultBaselineDays = 28
	// AdherenceThreshold is the per-protocol adherence threshold (PDC
	// convention); below it the evaluation is unreliable and its grade is
	// lowered one step.
	AdherenceThreshold = 0.8
	// MinCoverage is the window coverage below which the evaluation is unreliable.
	MinCoverage = 0.3
	// TrendFraction: the trend guard fires when the baseline drift
	// |β₁|·BaselineDays exceeds TrendFraction·MDE.
	TrendFraction = 0.5
	// MaxAbsValue bounds the magnitude of accepted values (far beyond any
	// health metric); larger values are rejected so sums cannot overflow.
	MaxAbsValue = 1e12
	// MaxWindowDays bounds PlannedDays and BaselineDays (ten years).
	MaxWindowDays = 3660
)

// Reasons (Evaluation.Reasons) explain why an evaluation is unreliable. The
// adherence reason is formatted: "adherence 0.60 below 0.80".
const (
	// ReasonInsufficientData: fewer than two per-protocol values in a phase.
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
	// CaveatTrend: the trend guard fired; the difference may be drift (grade D).
	CaveatTrend = "trend"
	// CaveatInterim: Now is before the end of the planned window.
	CaveatInterim = "interim"
	// CaveatUnexpectedDirection: the CI excludes zero on the side opposite
	// to Input.ExpectedDirection.
	CaveatUnexpectedDirection = "unexpected direction"
)

// Input is one experiment to evaluate. Days are series.Day values (midnight
// UTC of the local calendar date); values are in the metric's canonical unit.
type Input struct {
	// Metric is the canonical metric key; it is copied to the result.
	Metric string
	// Series holds the daily outcome values, at most one per day, in any
	// order; missing days are absent. Values must be finite and within
	// ±MaxAbsValue. Points outside the baseline and planned windows, and
	// points dated after Now, are ignored.
	Series series.Series
	// Start is t₀, the first intervention day.
	Start series.Day
	// PlannedDays is the length of the intervention window in days,
	// including the lag; it must exceed the lag and be at most MaxWindowDays.
	PlannedDays int
	// LagDays is the lag/washout length in days: 0 means DefaultLagDays,
	// NoLag means none; other negative values are invalid.
	LagDays int
	// BaselineDays is the baseline length in days: 0 means
	// DefaultBaselineDays; otherwise 2 to MaxWindowDays.
	BaselineDays int
	// Adherence says, per intervention day, whether the protocol was
	// followed. A day absent from the map was not logged: it counts as
	// non-adherent for the per-protocol estimate and is still included in
	// the intention-to-treat estimate.
	Adherence map[series.Day]bool
	// ExpectedDirection is +1 (increase expected), −1 (decrease) or 0
	// (either). It orients NAP/Tau and the "unexpected direction" caveat.
	ExpectedDirection int
	// LogRatio requests the log response ratio ln(ȳB/ȳA) (e.g. for steps).
	LogRatio bool
	// Now is the evaluation date. Days after Now have not happened yet: they
	// are not counted as planned days and their points are ignored. The
	// zero value means "after the whole planned window". Now before Start is
	// invalid.
	Now series.Day
}

// Window is one evaluation window, inclusive of both ends.
type Window struct {
	// From and To are the first and last planned day (To = From − 1 for an
	// empty lag window).
	From, To series.Day
	// Planned is the window length in days.
	Planned int
	// Elapsed is the number of planned days on or before Now (≤ Planned);
	// it is the coverage denominator.
	Elapsed int
	// Valid is the number of elapsed days with an observed value.
	Valid int
	// Coverage is Valid/Elapsed in [0, 1] (0 when nothing has elapsed).
	Coverage float64
}

// Estimate compares baseline values A (M days) with intervention values B
// (N days). All fields are finite. When Defined is false (M < 2 or N < 2)
// only M, N, the means and Delta are set (means and Delta only where the
// phases are non-empty) and every other field is 0.
type Estimate struct {
	// Defined reports whether both phases have at least two values.
	Defined bool
	// M and N are the numbers of valid baseline and intervention days.
	M, N int
	// MeanA, MeanB are the phase means, SDA, SDB the sample SDs (divisor
	// n−1) and SP the pooled SD, in outcome units.
	MeanA, MeanB, SDA, SDB, SP float64
	// Delta is ȳB − ȳA in outcome units.
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
	// R is the lag-1 autocorrelation of the within-phase residuals, RStar
	// its bias-corrected, clamped value, K = (1+RStar)/(1−RStar) the
	// variance inflation, NEffA = M/K and NEffB = N/K the effective sizes.
	R, RStar, K, NEffA, NEffB float64
	// SEDelta = SP·√(K/M + K/N) is the AR(1)-adjusted standard error of
	// Delta (outcome units).
	SEDelta float64
	// DF = max(1, NEffA + NEffB − 2) are the t degrees of freedom (not
	// necessarily an integer) and TCrit = t₀.₉₇₅(DF).
	DF, TCrit float64
	// T = Delta/SEDelta is the test statistic (0 when SEDelta is 0).
	T float64
	// CILow, CIHigh bound the 95% CI Delta ± TCrit·SEDelta.
	CILow, CIHigh float64
	// P is the two-sided p-value from t(DF) (1 when SEDelta is 0) and
	// Confidence = 1 − P.
	P, Confidence float64
}

// Trend is the piecewise-regression trend guard
// y = B0 + B1·t + B2·D + B3·(t − t₀)·D, fitted by OLS over the observed
// baseline and per-protocol intervention days (lag excluded), with t in
// days since the first baseline day and D = 1 in the intervention window.
type Trend struct {
	// Defined reports whether the model could be fitted (two or more
	// distinct days in each phase); otherwise every other field is zero.
	Defined bool
	// N is the number of days in the fit.
	N int
	// B0 is the level at the first baseline day, B1 the baseline slope per
	// day, B2 the level change at t₀ and B3 the change of slope per day.
	B0, B1, B2, B3 float64
	// Slope = B1, in outcome units per day.
	Slope float64
	// Drift = |B1|·BaselineDays is the baseline drift over the baseline
	// window, and Threshold = TrendFraction·MDE, both in outcome units.
	Drift, Threshold float64
	// Fired reports Drift > Threshold: the difference may be drift.
	Fired bool
}

// Evaluation is the result of Evaluate. All float fields are finite.
type Evaluation struct {
	// Metric is copied from the input.
	Metric string
	// Start is t₀; ExpectedDirection is copied from the input.
	Start             series.Day
	ExpectedDirection int
	// Baseline (A), Lag and Intervention (B) windows with their coverage.
	Baseline, Lag, Intervention Window
	// Complete reports whether Now is on or after the last planned day.
	Complete bool
	// AdherentDays is the number of elapsed B days logged as adherent and
	// Adherence = AdherentDays / Intervention.Elapsed (0 when nothing elapsed).
	AdherentDays int
	Adherence    float64
	// PerProtocol uses adherent B days only; ITT uses every observed B day.
	// PerProtocol is the primary estimate behind the grade.
	PerProtocol, ITT Estimate
	// MDE is the per-protocol minimum detectable effect at 80% power,
	// MDEMultiplier·SEDelta (outcome units; see MDE).
	MDE float64
	// Trend is the trend guard.
	Trend Trend
	// UnadjustedGrade is evidence.GradeOf(Confidence, SampleSize, Coverage)
	// before the CI, trend and adherence rules; Grade is the final grade.
	UnadjustedGrade, Grade evidence.Grade
	// Confidence = 1 − p of the per-protocol estimate, in [0, 1].
	Confidence float64
	// SampleSize is the number of valid per-protocol B days.
	SampleSize int
	// Coverage is the intervention-window coverage.
	Coverage float64
	// CIExcludesZero reports whether the per-protocol 95% CI excludes 0.
	CIExcludesZero bool
	// Reliable is false when any Reasons apply.
	Reliable bool
	// Reasons explain unreliability (Reason* constants and the adherence reason).
	Reasons []string
	// Caveats qualify the result (Caveat* constants).
	Caveats []string
}

// Evaluate compares the baseline and intervention windows of in and grades
// the evidence.
//
// Grade: evidence.GradeOf(Confidence, SampleSize, Coverage); an A also
// needs the CI to exclude 0 (else B); a fired trend guard makes it D (caveat
// "trend"); adherence below AdherenceThreshold lowers it one step and makes
// the evaluation unreliable; so does a baseline coverage below MinCoverage.
// An intervention coverage below MinCoverage makes it unreliable
// ("insufficient coverage"). Too few points for the statistics (fewer than
// two per-protocol values in a phase) give grade D, reason "insufficient
// data" and zeros — never NaN.
//
// Errors: *engine.Error with code EINVALID when Start is zero, PlannedDays
// is ≤ the lag or above MaxWindowDays, LagDays or BaselineDays are out of
// range, ExpectedDirection is not −1, 0 or +1, Now is before Start, a value
// is NaN, infinite or beyond ±MaxAbsValue, a day appears twice, or the
// baseline window has no data.
func Evaluate(in Input) (Evaluation, error) {
	cfg, err := configure(in)
	if err != nil {
		return Evaluation{}, err
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
		Start:             cfg.start,
		ExpectedDirection: in.ExpectedDirection,
		Complete:          cfg.now >= cfg.bEnd,
	}
	ev.Baseline = cfg.window(0, cfg.t0-1, len(ph.a))
	ev.Lag = cfg.window(cfg.t0, cfg.bStart-1, ph.lagValid)
	ev.Intervention = cfg.window(cfg.bStart, cfg.bEnd, len(ph.b))
	ev.AdherentDays = ph.adherentDays
	if ev.Intervention.Elapsed > 0 {
		ev.Adherence = float64(ph.adherentDays) / float64(ev.Intervention.Elapsed)
	}

	pp := make([]obs, 0, len(ph.b))
	for _, o := range ph.b {
		if ph.adherent[o.t] {
			pp = append(pp, o)
		}
	}
	ev.PerProtocol = estimate(ph.a, pp, in.ExpectedDirection, in.LogRatio)
	ev.ITT = estimate(ph.a, ph.b, in.ExpectedDirection, in.LogRatio)

	est := ev.PerProtocol
	ev.SampleSize = est.N
	ev.Coverage = ev.Intervention.Coverage
	ev.Confidence = est.Confidence
	ev.CIExcludesZero = est.Defined && est.SEDelta > 0 && (est.CILow > 0 || est.CIHigh < 0)
	noVariability := est.Defined && est.SEDelta == 0
	if est.Defined && !noVariability {
		ev.MDE = MDE(est.SP, est.RStar, est.M, est.N)
	}
	ev.Trend = trendGuard(ph.a, pp, cfg, ev.MDE, est.Defined && !noVariability)

	// Grade and reliability.
	ev.UnadjustedGrade = evidence.GradeD
	if est.Defined && !noVariability {
		ev.UnadjustedGrade = evidence.GradeOf(ev.Confidence, ev.SampleSize, ev.Coverage)
	}
	grade := ev.UnadjustedGrade
	if grade == evidence.GradeA && !ev.CIExcludesZero {
		grade = evidence.GradeB
	}
	if !est.Defined {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientData)
	}
	if noVariability {
		ev.Reasons = append(ev.Reasons, ReasonNoVariability)
	}
	if ev.Intervention.Coverage < MinCoverage {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientCoverage)
	}
	if ev.Baseline.Coverage < MinCoverage {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientBaselineCoverage)
		grade = grade.Lower()
	}
	if ev.Trend.Fired {
		grade = evidence.GradeD
		ev.Caveats = append(ev.Caveats, CaveatTrend)
	}
	if ev.Intervention.Elapsed > 0 && ev.Adherence < AdherenceThreshold {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("adherence %.2f below %.2f", ev.Adherence, AdherenceThreshold))
		grade = grade.Lower()
	}
	if !ev.Complete {
		ev.Caveats = append(ev.Caveats, CaveatInterim)
	}
	if in.ExpectedDirection != 0 && ev.CIExcludesZero && (est.Delta > 0) != (in.ExpectedDirection > 0) {
		ev.Caveats = append(ev.Caveats, CaveatUnexpectedDirection)
	}
	ev.Grade = grade
	ev.Reliable = len(ev.Reasons) == 0
	return ev, nil
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
}

func configure(in Input) (config, error) {
	var c config
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
	}
	return c, nil
}

func (c config) index(d series.Day) int { return series.DaysBetween(c.first, series.Truncate(d)) }

func (c config) day(i int) series.Day { return series.AddDays(c.first, i) }

// window describes days [from, to] with valid observed days.
func (c config) window(from, to, valid int) Window {
	w := Window{From: c.day(from), To: c.day(to), Planned: max(0, to-from+1)}
	w.Elapsed = max(0, min(to, c.now)-from+1)
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
	adherentDays int
}

func split(in Input, c config) (phases, error) {
	var ph phases
	seen := make(map[int]bool, len(in.Series))
	for _, p := range in.Series {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || math.Abs(p.Value) > MaxAbsValue {
			return ph, engine.Errorf(engine.EINVALID, "value %v on %s is not a finite number within ±%g", p.Value, p.Day.Format("2006-01-02"), MaxAbsValue)
		}
		i := c.index(p.Day)
		if seen[i] {
			return ph, engine.Errorf(engine.EINVALID, "day %s appears more than once", p.Day.Format("2006-01-02"))
		}
		seen[i] = true
		switch {
		case i > c.now || i < 0 || i > c.bEnd:
			// In the future or outside every window.
		case i < c.t0:
			ph.a = append(ph.a, obs{t: i, v: p.Value})
		case i < c.bStart:
			ph.lagValid++
		default:
			ph.b = append(ph.b, obs{t: i, v: p.Value})
		}
	}
	byDay := func(x, y obs) int { return x.t - y.t }
	slices.SortFunc(ph.a, byDay)
	slices.SortFunc(ph.b, byDay)

	// A day is adherent only if every map entry falling on it says so
	// (entries in different locations may name the same calendar day).
	ph.adherent = make(map[int]bool, len(in.Adherence))
	conflict := map[int]bool{}
	for d, ok := range in.Adherence {
		i := c.index(d)
		if prev, dup := ph.adherent[i]; dup && prev != ok {
			conflict[i] = true
		}
		ph.adherent[i] = ok
	}
	for i := range conflict {
		ph.adherent[i] = false
	}
	for i, ok := range ph.adherent {
		if ok && i >= c.bStart && i <= min(c.bEnd, c.now) {
			ph.adherentDays++
		}
	}
	return ph, nil
}

// estimate computes every statistic comparing a with b (both sorted by day).
func estimate(a, b []obs, direction int, wantLog bool) Estimate {
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

	// AR(1)-adjusted CI. Source: DOMAIN.md §2; Geyer AR(1) notes for k and n_eff.
	e.R, _, _ = lag1(a, b)
	e.RStar = biasCorrectRho(e.R, float64(e.M+e.N)/2)
	e.K = inflation(e.RStar)
	fm, fn := float64(e.M), float64(e.N)
	e.NEffA, e.NEffB = fm/e.K, fn/e.K
	e.DF = math.Max(1, e.NEffA+e.NEffB-2)
	e.TCrit = tQuantile(0.975, e.DF)
	e.SEDelta = e.SP * math.Sqrt(e.K/fm+e.K/fn)
	if e.SEDelta == 0 {
		e.CILow, e.CIHigh, e.P = e.Delta, e.Delta, 1
		return e
	}
	e.T = e.Delta / e.SEDelta
	e.CILow, e.CIHigh = e.Delta-e.TCrit*e.SEDelta, e.Delta+e.TCrit*e.SEDelta
	e.P = tTwoSidedP(e.T, e.DF)
	e.Confidence = 1 - e.P // DOMAIN.md §2 "Confidence score": confidence = 1 − p_adj

	return e
}

// trendGuard fits the piecewise model on a and b and compares the baseline
// drift with TrendFraction·mde. usable is false when the estimate is not
// defined; then only the fit is reported and the guard cannot fire.
// Source: scan::plm piecewise regression; magnitude rule per DOMAIN.md §2.
func trendGuard(a, b []obs, c config, mde float64, usable bool) Trend {
	beta, ok := piecewise(a, b, c.t0)
	if !ok {
		return Trend{}
	}
	tr := Trend{Defined: true, N: len(a) + len(b), B0: beta[0], B1: beta[1], B2: beta[2], B3: beta[3]}
	tr.Slope = tr.B1
	tr.Drift = math.Abs(tr.B1) * float64(c.baseline)
	tr.Threshold = TrendFraction * mde
	tr.Fired = usable && tr.Drift > tr.Threshold
	return tr
}
