package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine/baseline"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Run analyses in as of the end of in.AsOf and returns the state, the
// baseline as of AsOf and the findings of the last HistoryDays (see the
// package documentation for every rule and threshold). Each day d in the
// history is scored against the baseline as of d−1, exactly as a daily loop
// would have scored it, so re-running on more data never changes an earlier
// day's anomaly decision unless earlier data changed. Zero fields of opt take
// their defaults. Run never panics on well-formed values and is
// deterministic; it does not validate in (see Input.Validate).
func Run(in Input, opt Options) Result {
	a := newAnalysis(in, opt)
	if a == nil {
		return emptyResult(in, opt)
	}
	return a.run()
}

// idxSpan is an inclusive range of day indices.
type idxSpan struct{ from, to int }

// scoredDay is a day scored against a usable trailing baseline.
type scoredDay struct {
	ok   bool
	z    float64
	base dayBase
	// thr is the anomaly threshold for this day's z (see anomalyThreshold).
	thr float64
}

// dayBase is what the detectors use of a scored day's trailing baseline
// (a day's row stays small: one is kept for every day of the history).
type dayBase struct {
	median, scale        float64 // Analysis.Median and Analysis.Scale
	validDays            int
	coverage             float64 // Coverage()
	windowFrom, windowTo series.Day
	frozen               bool // State == baseline.StateFrozen
}

func dayBaseOf(b baseline.Baseline) dayBase {
	return dayBase{
		median: b.Analysis.Median, scale: b.Analysis.Scale, validDays: b.ValidDays, coverage: b.Coverage(),
		windowFrom: b.WindowFrom, windowTo: b.WindowTo, frozen: b.State == baseline.StateFrozen,
	}
}

// analysis holds the dense working arrays of one Run, indexed by day offset
// from the first valid day.
type analysis struct {
	in   Input
	opt  Options
	bopt baseline.Options
	asOf series.Day
	disc *series.Day
	from series.Day
	n    int
	vals []float64 // metric units, NaN when missing or invalid
	y    []float64 // analysis space, NaN when missing
	// wday is each day's day-of-week effect (analysis units, see
	// weekdayEffects); ya = y − wday is what the detectors score, and adj
	// its metric-unit image that the scoring baselines are computed from.
	wday    []float64
	ya      []float64
	adj     []float64
	roll    *baseline.Rolling // adj's scoring baselines, day after day
	horizon int               // first index findings are computed for
	gaps    []idxSpan
	sources []sourceDense
	scored  []scoredDay
	swing   []bool
	// conflict marks days on which the sources disagree.
	conflict []bool
	// swingSpans are the swings found, as day-index spans.
	swingSpans []idxSpan
}

type sourceDense struct {
	name string
	vals []float64
}

// prepare returns the effective options and the clamped disconnection day.
func prepare(in Input, opt Options) (Options, baseline.Options, series.Day, *series.Day) {
	opt = opt.withDefaults()
	bopt := opt.Baseline
	bopt.LnTransform = in.LnTransform
	asOf := series.Truncate(in.AsOf)
	var disc *series.Day
	if in.DisconnectedSince != nil {
		if d := series.Truncate(*in.DisconnectedSince); !d.After(asOf) {
			disc = &d
		}
	}
	return opt, bopt, asOf, disc
}

// newAnalysis builds the dense arrays, or returns nil when there is no valid
// day up to AsOf (before any disconnection).
func newAnalysis(in Input, opt Options) *analysis {
	opt, bopt, asOf, disc := prepare(in, opt)
	a := &analysis{in: in, opt: opt, bopt: bopt, asOf: asOf, disc: disc}
	// usable truncates days to calendar dates (on a copy) before
	// normalizing, so two points on one date dedupe to the later one.
	usable := func(s series.Series) series.Series {
		cp := make(series.Series, len(s))
		for i, p := range s {
			cp[i] = series.Point{Day: series.Truncate(p.Day), Value: p.Value}
		}
		return series.Normalize(cp)
	}
	s := usable(in.Series)
	found := false
	for _, p := range s {
		if p.Day.After(asOf) || (disc != nil && !p.Day.Before(*disc)) {
			break
		}
		if bopt.Valid(p.Value) {
			a.from, found = p.Day, true
			break
		}
	}
	if !found {
		return nil
	}
	a.vals = a.dense(s)
	a.n = len(a.vals)
	a.y = make([]float64, a.n)
	for i, v := range a.vals {
		a.y[i] = math.NaN()
		if !math.IsNaN(v) {
			a.y[i] = bopt.ToAnalysis(v)
		}
	}
	a.wday = weekdayEffects(a.y, int(a.from.Weekday()), opt)
	a.ya = make([]float64, a.n)
	a.adj = make([]float64, a.n)
	for i, v := range a.y {
		a.ya[i] = v - a.wday[i]
		a.adj[i] = math.NaN()
		if !math.IsNaN(v) {
			a.adj[i] = bopt.FromAnalysis(a.ya[i])
		}
	}
	a.horizon = max(0, a.n-opt.HistoryDays)
	a.gaps = missingRuns(a.vals, opt.MinGapDays)
	if len(in.BySource) >= 2 {
		names := make([]string, 0, len(in.BySource))
		for name := range in.BySource {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			a.sources = append(a.sources, sourceDense{name: name, vals: a.dense(usable(in.BySource[name]))})
		}
	}
	return a
}

// dense maps s onto [from, asOf] with NaN for missing, invalid or
// disconnected days.
func (a *analysis) dense(s series.Series) []float64 {
	out := s.Dense(a.from, a.asOf)
	for i, v := range out {
		if !a.bopt.Valid(v) || (a.disc != nil && !a.day(i).Before(*a.disc)) {
			out[i] = math.NaN()
		}
	}
	return out
}

// day returns the Day of index i.
func (a *analysis) day(i int) series.Day { return series.AddDays(a.from, i) }

// missingRuns returns the runs of at least minLen consecutive NaN values.
func missingRuns(vals []float64, minLen int) []idxSpan {
	var out []idxSpan
	start := -1
	for i := 0; i <= len(vals); i++ {
		missing := i < len(vals) && math.IsNaN(vals[i])
		switch {
		case missing && start < 0:
			start = i
		case !missing && start >= 0:
			if i-start >= minLen {
				out = append(out, idxSpan{from: start, to: i - 1})
			}
			start = -1
		}
	}
	return out
}

// baselineAt returns the scoring baseline (of the weekday-adjusted values)
// as of the end of day index k; see baselineOf.
func (a *analysis) baselineAt(k int) baseline.Baseline {
	if a.roll == nil {
		a.roll = baseline.NewRolling(a.adj, a.from, a.bopt)
	}
	return a.baselineOf(a.adj, k, a.roll)
}

// baselineOf returns the baseline of vals as of the end of day index k. While the live baseline is INSUFFICIENT within
// ValidLookbackDays after a data gap, it returns the baseline frozen before
// that gap when that one was READY (bridging the gap).
// roll, when not nil, is vals's Rolling (the same live baseline, kept up
// to date as k moves forward).
func (a *analysis) baselineOf(vals []float64, k int, roll *baseline.Rolling) baseline.Baseline {
	d := a.day(k)
	var live baseline.Baseline
	if roll != nil {
		live = roll.At(d)
	} else {
		live = baseline.ComputeDense(vals, a.from, d, nil, a.bopt)
	}
	if live.State != baseline.StateInsufficient {
		return live
	}
	for g := len(a.gaps) - 1; g >= 0; g-- {
		gap := a.gaps[g]
		if gap.to > k {
			continue
		}
		if k-gap.to >= a.bopt.ValidLookbackDays {
			break
		}
		since := a.day(gap.from)
		fb := baseline.ComputeDense(vals, a.from, d, &since, a.bopt)
		if fb.Usable() {
			fb.Reason = fmt.Sprintf("data gap since %s: baseline frozen at its value of %s until %d of the last %d days are valid again (%d now)",
				since.Format(dateLayout), fb.WindowTo.Format(dateLayout), a.bopt.MinValidDays, a.bopt.ValidLookbackDays, live.ValidDaysLookback)
			return fb
		}
		break
	}
	return live
}

// run executes the per-day loop and the detectors.
func (a *analysis) run() Result {
	conflicts := a.scoreDays()
	a.findSwings()

	// Change and trend input: valid, conflict-free, non-swing days.
	ci := make([]int, 0, a.n-a.horizon)
	cy := make([]float64, 0, a.n-a.horizon)
	for i := a.horizon; i < a.n; i++ {
		if !math.IsNaN(a.vals[i]) && !a.conflict[i] && !a.swing[i] {
			ci = append(ci, i)
			cy = append(cy, a.ya[i])
		}
	}
	var floor float64
	if len(cy) > 0 {
		floor = baseline.ScaleFloorAt(baseline.Median(cy), a.bopt)
	} else {
		floor = baseline.ScaleFloorAt(0, a.bopt)
	}
	shifts, model := detectShifts(cy, a.opt, floor)
	trend, keep, trendTest := a.trend(ci, cy, shifts, model, floor)

	var findings []Finding
	var tests []Test
	var kept []shift
	for k, s := range shifts {
		if !keep[k] {
			continue
		}
		f := a.changeFinding(ci, s, model)
		if f.PValue > a.opt.ChangeAlpha {
			continue
		}
		kept = append(kept, s)
		findings = append(findings, f)
	}
	if trendTest != nil {
		tests = append(tests, *trendTest)
	}
	if trend != nil {
		findings = append(findings, *trend)
	}
	// The recent-shift test sees pending swing days too (it winsorizes and
	// needs most of its days beyond the midpoint, so one wild day cannot
	// make a shift): the first days of a new level are often flagged as a
	// swing until later data shows they did not return.
	ri := make([]int, 0, a.n-a.horizon)
	ry := make([]float64, 0, a.n-a.horizon)
	for i := a.horizon; i < a.n; i++ {
		if !math.IsNaN(a.vals[i]) && !a.conflict[i] {
			ri = append(ri, i)
			ry = append(ry, a.ya[i])
		}
	}
	// The latest change the segmentation found: the recent-shift baseline
	// never reaches back across it (a baseline must be one level).
	since := -1
	for _, f := range findings {
		if f.Kind == KindChange {
			since = max(since, series.DaysBetween(a.from, f.Day))
		}
	}
	if rs, test := a.recentShift(ri, ry, floor, since); test != nil {
		tests = append(tests, *test)
		if rs != nil && !nearChange(findings, *rs, a.opt.RecentShiftDays) {
			findings = append(findings, *rs)
		}
	}
	if sd := a.scored[a.n-1]; sd.ok {
		tests = append(tests, Test{Kind: KindAnomaly, P: anomalyP(sd.z, sd.thr, a.opt.ZThreshold)})
	}
	for i := a.horizon; i < a.n; i++ {
		sd := a.scored[i]
		if !sd.ok || math.Abs(sd.z) <= a.dayThreshold(i) || a.explainedByChange(i, sd.z, ci, kept) {
			continue
		}
		findings = append(findings, a.anomalyFinding(i, sd))
	}
	gaps := a.gapFindings()
	findings = append(findings, gaps...)

	res := Result{
		Metric:         a.in.Metric,
		AsOf:           a.asOf,
		RecentCoverage: a.recentCoverage(),
		Conflicts:      conflicts,
	}
	for _, sp := range a.swingSpans {
		res.Swings = append(res.Swings, Span{From: a.day(sp.from), To: a.day(sp.to)})
	}
	if a.disc != nil {
		res.Baseline = baseline.ComputeDense(a.vals, a.from, a.asOf, a.disc, a.bopt)
	} else {
		res.Baseline = a.baselineOf(a.vals, a.n-1, nil)
	}
	recentConflicts := conflictsSince(conflicts, a.conflict, a.n-a.opt.RecentDays)
	res.State, res.StateReason = a.state(res, recentConflicts)
	switch res.State {
	case StateCalibrating, StateInsufficientData, StatePausedDataQuality:
		findings, tests = gaps, nil
	}
	res.Tests = tests
	slices.SortFunc(findings, func(x, y Finding) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Key, y.Key))
	})
	res.Findings = findings
	return res
}

// scoreDays runs the per-day loop: for every valid day with a usable
// trailing baseline, the conflict check first, then the robust z. Conflicting
// days are not scored and are marked in a.conflict; they stay in the
// baseline history (the median is robust to them, and removing them would
// let a persistent disagreement starve the baseline).
func (a *analysis) scoreDays() []Conflict {
	a.scored = make([]scoredDay, a.n)
	a.conflict = make([]bool, a.n)
	var conflicts []Conflict
	srcBuf := make([]SourceValue, 0, len(a.sources))
	flagged := make([]bool, a.n)
	for i := a.horizon; i < a.n; i++ {
		valid := !math.IsNaN(a.vals[i])
		srcBuf = srcBuf[:0]
		for _, src := range a.sources {
			if v := src.vals[i]; !math.IsNaN(v) {
				srcBuf = append(srcBuf, SourceValue{Source: src.name, Value: v})
			}
		}
		if !valid && len(srcBuf) < 2 {
			continue
		}
		b := a.baselineAt(i - 1)
		if !b.Usable() {
			continue
		}
		if len(srcBuf) >= 2 {
			if c, ok := a.checkConflict(i, srcBuf, b); ok {
				conflicts = append(conflicts, c)
				a.conflict[i] = true
				continue
			}
		}
		if valid {
			sd, n := a.scoreScale(b, flagged)
			a.scored[i] = scoredDay{ok: true, z: (a.ya[i] - b.Analysis.Median) / sd, base: dayBaseOf(b), thr: a.anomalyThreshold(n)}
			flagged[i] = math.Abs(a.scored[i].z) > a.scored[i].thr
		}
	}
	return conflicts
}

// checkConflict applies the two-tolerance rule to the source values of day
// i against the usable trailing baseline b.
func (a *analysis) checkConflict(i int, vals []SourceValue, b baseline.Baseline) (Conflict, bool) {
	lo, hi := vals[0].Value, vals[0].Value
	for _, v := range vals[1:] {
		lo, hi = min(lo, v.Value), max(hi, v.Value)
	}
	denom := (math.Abs(hi) + math.Abs(lo)) / 2
	if !(denom > 0) {
		return Conflict{}, false
	}
	rel := (hi - lo) / denom
	if rel <= a.opt.ConflictRelTol {
		return Conflict{}, false
	}
	abs := a.bopt.ToAnalysis(hi) - a.bopt.ToAnalysis(lo)
	scale := b.Analysis.Scale
	if abs <= a.opt.ConflictScales*scale {
		return Conflict{}, false
	}
	return Conflict{Day: a.day(i), Values: slices.Clone(vals), RelDiff: rel, AbsDiff: abs, Scale: scale}, true
}

// findSwings marks the days of every excursion that is a rapid swing.
func (a *analysis) findSwings() {
	a.swing = make([]bool, a.n)
	var idx []int
	for i := a.horizon; i < a.n; i++ {
		if a.scored[i].ok {
			idx = append(idx, i)
		}
	}
	for k := 0; k < len(idx); {
		z := a.scored[idx[k]].z
		if math.Abs(z) <= a.opt.ExcursionZ {
			k++
			continue
		}
		sign := math.Copysign(1, z)
		e := k
		for e+1 < len(idx) && sign*a.scored[idx[e+1]].z > a.opt.ExcursionZ {
			e++
		}
		anomalous := false
		for j := k; j <= e; j++ {
			anomalous = anomalous || math.Abs(a.scored[idx[j]].z) > a.scored[idx[j]].thr
		}
		if anomalous && idx[e]-idx[k]+1 <= a.opt.MaxSwingDays {
			// Judge the return against the baseline in force when the
			// excursion began: later baselines absorb a genuine shift.
			b0 := a.scored[idx[k]].base
			after := make([]float64, 0, a.opt.MinSegmentDays)
			for j := e + 1; j < len(idx) && len(after) < a.opt.MinSegmentDays; j++ {
				after = append(after, sign*(a.ya[idx[j]]-b0.median)/b0.scale)
			}
			if len(after) == 0 || baseline.Median(after) <= a.opt.ReturnZ {
				for j := k; j <= e; j++ {
					a.swing[idx[j]] = true
				}
				a.swingSpans = append(a.swingSpans, idxSpan{from: idx[k], to: idx[e]})
			}
		}
		k = e + 1
	}
}

// trend evaluates the OLS trend over the last TrendWindowDays and decides
// which shifts stand (keep[k]). A trend is only reported when no kept change
// point falls inside its window. test is the slope test run (nil when the
// window is too short or sparse to test).
//
// Rules: the observed span (first to last valid day of the window) must be
// at least TrendMinDays; the slope's z = b/SE with SE = σ·√(k/Sxx), σ the
// winsorized SD of the residuals (winsorizedSD: a MAD-based σ from 60 days
// is too noisy for a test at this level) and k = (1+φ)/(1−φ) for φ = max(AR1Prior, r*)
// of the residuals (the AR(1) variance inflation of a regression
// coefficient with a smooth regressor); z must pass TrendAlpha, and the
// fitted change over the observed span, b·(last − first), must be at least
// TrendMinSigmas·σ.
func (a *analysis) trend(ci []int, cy []float64, shifts []shift, model changeModel, floor float64) (*Finding, []bool, *Test) {
	keep := make([]bool, len(shifts))
	for k := range keep {
		keep[k] = true
	}
	w := a.opt.TrendWindowDays
	lo := a.n - w
	first := sortFirstAtLeast(ci, lo)
	xs := make([]float64, 0, len(ci)-first)
	ys := cy[first:]
	for _, i := range ci[first:] {
		xs = append(xs, float64(i))
	}
	if len(xs) < 3 || float64(len(xs)) < a.opt.TrendMinCoverage*float64(w) {
		return nil, keep, nil
	}
	span := int(xs[len(xs)-1]-xs[0]) + 1
	if span < a.opt.TrendMinDays {
		return nil, keep, nil
	}
	slope, icpt := OLS(xs, ys)
	resid := make([]float64, len(xs))
	var mx, sxx float64
	for k := range xs {
		resid[k] = ys[k] - (icpt + slope*xs[k])
		mx += xs[k]
	}
	mx /= float64(len(xs))
	for _, x := range xs {
		sxx += (x - mx) * (x - mx)
	}
	sigma := winsorizedSD(resid, floor)
	phi := max(a.opt.AR1Prior, AR1(resid))
	se := sigma * math.Sqrt(ar1Inflation(phi)/sxx)
	zSlope := slope / se
	p := NormalP(zSlope)
	test := &Test{Kind: KindTrend, P: p}
	total := slope * float64(span-1)
	crit := NormalCrit(a.opt.TrendAlpha)
	big := math.Abs(total) >= a.opt.TrendMinSigmas*sigma && math.Abs(zSlope) >= crit

	var inside []int
	for k, s := range shifts {
		if s.start > first {
			inside = append(inside, k)
		}
	}
	if len(inside) > 0 {
		if !big || !lineBeatsSteps(cy, first, shifts, inside, slope, icpt, xs, model) {
			return nil, keep, test
		}
		for _, k := range inside {
			keep[k] = false
		}
	}
	if !big {
		return nil, keep, test
	}
	// The trend starts at the first valid day of its window, never before
	// the data does.
	from := int(xs[0])
	fromDay := a.day(from)
	startFit, endFit := icpt+slope*xs[0], icpt+slope*xs[len(xs)-1]
	f := Finding{
		Kind:        KindTrend,
		Metric:      a.in.Metric,
		Day:         fromDay,
		EndDay:      a.asOf,
		Direction:   direction(slope),
		Value:       a.bopt.FromAnalysis(endFit),
		Baseline:    a.bopt.FromAnalysis(startFit),
		Z:           total / sigma,
		SlopePerDay: slope,
		Detector:    DetectorOLS,
		Thresholds: map[string]float64{
			ThresholdTrendSigmas:   a.opt.TrendMinSigmas,
			ThresholdTrendCoverage: a.opt.TrendMinCoverage,
			ThresholdTrendMinDays:  float64(a.opt.TrendMinDays),
			ThresholdAlpha:         a.opt.TrendAlpha,
		},
		Confidence: exceedConfidence(zSlope, crit),
		SampleSize: len(xs),
		Coverage:   clamp01(float64(len(xs)) / float64(a.n-from)),
		WindowFrom: fromDay,
		WindowTo:   a.asOf,
		PValue:     p,
		Span:       span,
	}
	a.finish(&f)
	return &f, keep, test
}

// trendMarginPenalties is the margin, in MBIC penalties, by which a line
// must beat the steps to replace them. It breaks near-ties towards CHANGE;
// tuned on 500 seeded fixtures each (AR(1) noise): a +3σ step at day 31 of
// 60 stays a CHANGE in 99.6% of runs and a G4b drift (+1.5/day, σ = 20)
// becomes a TREND in 86% (92%/91% with no margin, 100%/75% with half a
// penalty).
const trendMarginPenalties = 0.25

// lineBeatsSteps reports whether, on the trend window (change-input
// positions first…), a straight line beats the piecewise-constant fit with
// the inside change points by trendMarginPenalties MBIC penalties, with
// cost = SSE/σ² + Σ ln(segment length) + penalty·(parameters beyond one
// mean), σ² the marginal AR(1) variance σ_η²/(1−φ²) of the change
// detector's model (the slope counts as one parameter, each step as one).
func lineBeatsSteps(cy []float64, first int, shifts []shift, inside []int, slope, icpt float64, xs []float64, model changeModel) bool {
	sigma2 := model.noise * model.noise / (1 - model.phi*model.phi) // marginal AR(1) variance
	if !(sigma2 > 0) {
		return false
	}
	ys := cy[first:]
	var sseLine float64
	for k := range xs {
		r := ys[k] - (icpt + slope*xs[k])
		sseLine += r * r
	}
	bounds := []int{first}
	for _, k := range inside {
		bounds = append(bounds, shifts[k].start)
	}
	bounds = append(bounds, len(cy))
	var sseSteps, lnLen float64
	for b := 0; b+1 < len(bounds); b++ {
		seg := cy[bounds[b]:bounds[b+1]]
		var m float64
		for _, v := range seg {
			m += v
		}
		m /= float64(len(seg))
		for _, v := range seg {
			sseSteps += (v - m) * (v - m)
		}
		lnLen += math.Log(float64(len(seg)))
	}
	lineCost := sseLine/sigma2 + math.Log(float64(len(ys))) + model.penalty
	stepCost := sseSteps/sigma2 + lnLen + float64(len(inside))*model.penalty
	return lineCost+trendMarginPenalties*model.penalty <= stepCost
}

// sortFirstAtLeast returns the first position in the sorted ints xs whose
// value is ≥ v (len(xs) when none).
func sortFirstAtLeast(xs []int, v int) int {
	i, _ := slices.BinarySearch(xs, v)
	return i
}

// changeFinding builds the CHANGE finding of shift s (positions into ci).
// Its test: z = (after − before)/(σ·√(k/n_pre + k/n_post)) with the segment
// medians, σ the robust within-segment SD and k = (1+φ)/(1−φ) for the change
// model's φ; Confidence = exceed(z, crit(ChangeAlpha))·(1 − e^{−n_post/14}),
// so a new level seen for a week is graded lower than one seen for a month.
func (a *analysis) changeFinding(ci []int, s shift, model changeModel) Finding {
	from, start, end := ci[s.preFrom], ci[s.start], ci[s.postTo-1]
	z := (s.after - s.before) / s.sigma
	nPost := s.postTo - s.start
	nPre := s.start - s.preFrom
	used := s.postTo - s.preFrom
	k := ar1Inflation(model.phi)
	zt := (s.after - s.before) / (s.sigma * math.Sqrt(k/float64(nPre)+k/float64(nPost)))
	f := Finding{
		Kind:      KindChange,
		Metric:    a.in.Metric,
		Day:       a.day(start),
		EndDay:    a.day(end),
		Direction: direction(z),
		Value:     a.bopt.FromAnalysis(s.after),
		Baseline:  a.bopt.FromAnalysis(s.before),
		Z:         z,
		Detector:  DetectorPELT,
		Thresholds: map[string]float64{
			ThresholdMBICPenalty:    s.penalty,
			ThresholdMinSegmentDays: float64(a.opt.MinSegmentDays),
			ThresholdMinShiftSigmas: a.opt.MinShiftSigmas,
			ThresholdMaxSwingDays:   float64(a.opt.MaxSwingDays),
		},
		Confidence: clamp01((1 - math.Exp(-float64(nPost)/changeConfidenceDays)) * exceedConfidence(zt, NormalCrit(a.opt.ChangeAlpha))),
		SampleSize: used,
		Coverage:   clamp01(float64(used) / float64(end-from+1)),
		WindowFrom: a.day(from),
		WindowTo:   a.day(end),
		PValue:     NormalP(zt),
		Span:       end - start + 1,
	}
	f.Thresholds[ThresholdAlpha] = a.opt.ChangeAlpha
	a.finish(&f)
	return f
}

// anomalyFinding builds the ANOMALY finding of scored day i.
func (a *analysis) anomalyFinding(i int, sd scoredDay) Finding {
	b := sd.base
	f := Finding{
		Kind:           KindAnomaly,
		Metric:         a.in.Metric,
		Day:            a.day(i),
		EndDay:         a.day(i),
		Direction:      direction(sd.z),
		Value:          a.vals[i],
		Baseline:       a.bopt.FromAnalysis(b.median + a.wday[i]),
		Z:              sd.z,
		Detector:       DetectorRobustZ,
		Thresholds:     map[string]float64{ThresholdRobustZ: a.dayThreshold(i)},
		Confidence:     exceedConfidence(sd.z, a.dayThreshold(i)),
		SampleSize:     b.validDays,
		Coverage:       b.coverage,
		WindowFrom:     b.windowFrom,
		WindowTo:       b.windowTo,
		FrozenBaseline: b.frozen,
		PValue:         anomalyP(sd.z, a.dayThreshold(i), a.opt.ZThreshold),
	}
	a.finish(&f)
	return f
}

// gapFindings returns one DATA_GAP finding per missing run in the horizon.
func (a *analysis) gapFindings() []Finding {
	var out []Finding
	for _, g := range a.gaps {
		if g.to < a.horizon {
			continue
		}
		var med float64
		if b := a.baselineOf(a.vals, g.from-1, nil); b.Usable() {
			med = b.Median
		}
		f := Finding{
			Kind:       KindDataGap,
			Metric:     a.in.Metric,
			Day:        a.day(g.from),
			EndDay:     a.day(g.to),
			Direction:  DirectionNone,
			Baseline:   med,
			Detector:   DetectorGap,
			Thresholds: map[string]float64{ThresholdMinGapDays: float64(a.opt.MinGapDays)},
			Confidence: 1,
			WindowFrom: a.day(g.from),
			WindowTo:   a.day(g.to),
		}
		a.finish(&f)
		out = append(out, f)
	}
	return out
}

// finish sets the derived fields Key, Delta and Valence.
func (a *analysis) finish(f *Finding) {
	f.Key = findingKey(f.Kind, a.in.Metric, f.Day, f.Direction)
	if f.Kind != KindDataGap {
		f.Delta = f.Value - f.Baseline
	}
	switch {
	case f.Direction == DirectionNone:
		f.Valence = ValenceNeutral
	case (f.Direction == DirectionUp) == a.in.HigherIsBetter:
		f.Valence = ValenceFavorable
	default:
		f.Valence = ValenceUnfavorable
	}
}

// explainedByChange reports whether the anomaly of day i (robust z) lies
// inside a confirmed change in the same direction and within ZThreshold
// robust SDs of the new level: the change is the insight, not its days. A
// swing on top of the new level is still an anomaly.
func (a *analysis) explainedByChange(i int, z float64, ci []int, kept []shift) bool {
	for _, s := range kept {
		if ci[s.start] > i || ci[s.postTo-1] < i || (s.after > s.before) != (z > 0) {
			continue
		}
		if math.Abs(a.ya[i]-s.after) <= a.opt.ZThreshold*s.sigma {
			return true
		}
	}
	return false
}

// direction maps a signed magnitude to UP or DOWN.
func direction(v float64) Direction {
	if v < 0 {
		return DirectionDown
	}
	return DirectionUp
}

// recentCoverage is the fraction of valid days in the last RecentDays.
func (a *analysis) recentCoverage() float64 {
	valid := 0
	for i := max(0, a.n-a.opt.RecentDays); i < a.n; i++ {
		if !math.IsNaN(a.vals[i]) {
			valid++
		}
	}
	return clamp01(float64(valid) / float64(a.opt.RecentDays))
}

// conflictsSince returns the conflicts on day indices ≥ from.
func conflictsSince(all []Conflict, conflictDay []bool, from int) []Conflict {
	n := 0
	for i := max(from, 0); i < len(conflictDay); i++ {
		if conflictDay[i] {
			n++
		}
	}
	return all[len(all)-n:]
}

// state applies the documented precedence.
func (a *analysis) state(res Result, recentConflicts []Conflict) (State, string) {
	b := res.Baseline
	switch {
	case a.disc != nil:
		return StateFrozen, b.Reason
	case b.State == baseline.StateCalibrating:
		return StateCalibrating, b.Reason
	case b.State == baseline.StateInsufficient:
		return StateInsufficientData, b.Reason
	case res.RecentCoverage < a.opt.MinRecentCoverage:
		return StatePausedDataQuality, fmt.Sprintf("data quality: %.0f%% of the last %d days are valid (< %.0f%%), so learning is paused",
			100*res.RecentCoverage, a.opt.RecentDays, 100*a.opt.MinRecentCoverage)
	case b.State == baseline.StateFrozen:
		return StateFrozen, b.Reason
	case len(recentConflicts) > 0:
		return StateConflictingSources, conflictReason(recentConflicts, a.opt)
	}
	return StateOK, b.Reason
}

// conflictReason names the conflicting days and sources.
func conflictReason(cs []Conflict, opt Options) string {
	days := make([]string, 0, len(cs))
	var srcs []string
	for _, c := range cs {
		days = append(days, c.Day.Format(dateLayout))
		for _, v := range c.Values {
			if !slices.Contains(srcs, v.Source) {
				srcs = append(srcs, v.Source)
			}
		}
	}
	slices.Sort(srcs)
	return fmt.Sprintf("sources %s disagree by more than %.0f%% and %.0f robust SDs on %s; no insight is drawn for those days",
		strings.Join(srcs, ", "), 100*opt.ConflictRelTol, opt.ConflictScales, strings.Join(days, ", "))
}

// emptyResult is the result when there is no valid day up to AsOf.
func emptyResult(in Input, opt Options) Result {
	_, bopt, asOf, disc := prepare(in, opt)
	b := baseline.ComputeDense(nil, asOf, asOf, disc, bopt)
	res := Result{Metric: in.Metric, AsOf: asOf, Baseline: b, State: StateCalibrating, StateReason: b.Reason}
	if disc != nil {
		res.State = StateFrozen
	}
	return res
}

// changeConfidenceDays is the post-change length at which a change's
// confidence reaches 1 − 1/e of its test's confidence: a level seen for
// a week earns less than one seen for a month.
const changeConfidenceDays = 14

// recentShift tests whether the latest days sit at a new level. The window
// is the valid change-input days among the last RecentShiftDays calendar
// days up to the latest valid one (AsOf or the day before; at most
// recentShiftMaxMissing missing). The baseline is the LongWindowDays
// calendar days ending RecentShiftDays days before the window (≥
// MinValidDays values), so a shift that began just before the window is not
// part of its own baseline, and starting no earlier than since (the first
// day of the latest change the segmentation found, or −1): a baseline that
// straddles a known change is not one level. With σ the winsorized SD of the baseline
// residuals pooled with the window before it (see olderResiduals), φ =
// max(AR1Prior, r*) of the same pooled residuals, L the baseline's mean
// winsorized at its median ± ZThreshold·σ, each recent value winsorized to
// L ± ZThreshold·σ and r̄ their mean:
// z = (r̄ − L)/(σ·√(f/m + k/n)), k = (1+φ)/(1−φ) and f the exact AR(1)
// variance factor of a mean of the m window days (ar1MeanFactorDays). A
// finding needs p ≤ RecentShiftAlpha, |r̄ − L| ≥ MinShiftSigmas·σ and at
// least RecentShiftSustained days (one fewer per missing day) beyond the
// midpoint of L and r̄. This finds a sustained shift about a week after it
// began, long before the penalised segmentation has enough post-change
// days; test is nil when not run. Measured choices: docs/calibration.md.
func (a *analysis) recentShift(ci []int, cy []float64, floor float64, since int) (*Finding, *Test) {
	w := a.opt.RecentShiftDays
	if len(ci) < w+1 || ci[len(ci)-1] < a.n-2 {
		return nil, nil
	}
	// The recent window: the valid days among the last w calendar days
	// up to the latest valid one (a missing night does not push the
	// window back a day, which would delay a real shift).
	last := ci[len(ci)-1]
	r0 := len(ci) - 1
	for r0 > 0 && ci[r0-1] > last-w {
		r0--
	}
	m := len(ci) - r0
	if m < w-recentShiftMaxMissing {
		return nil, nil
	}
	// The baseline: LongWindowDays calendar days ending w days before the
	// window, so that the first days of a shift that began just before
	// the window are not in it (they would raise its level, its scale and
	// its autocorrelation and hide the shift for weeks).
	hi := ci[r0] - w
	lo := max(hi-a.bopt.LongWindowDays, since)
	var base []float64
	first := r0
	for k := r0 - 1; k >= 0 && ci[k] >= lo; k-- {
		if ci[k] >= hi {
			continue
		}
		base = append(base, cy[k])
		first = k
	}
	if len(base) < a.bopt.MinValidDays {
		return nil, nil
	}
	med := baseline.Median(base)
	resid := make([]float64, len(base))
	for k, v := range base {
		resid[k] = v - med
	}
	// The scale: a winsorized SD (a MAD from 60 autocorrelated days is too
	// noisy for a test at this level and gives it tails twice the nominal
	// rate) of the baseline residuals pooled with those of the window
	// before it, each about its own median, so up to 2·LongWindowDays
	// estimate σ while a level change between the windows does not
	// inflate it. φ comes from the same pooled residuals (never below
	// AR1Prior): 60 values alone give an estimate too noisy for this test.
	older := olderResiduals(ci, cy, first, lo, a.bopt.LongWindowDays)
	pooled := append(slices.Clone(resid), older...)
	sigma := winsorizedSD(pooled, floor)
	phi := max(AR1(pooled), a.opt.AR1Prior)
	// The baseline level: the winsorized mean (variance ≈ k·σ²/n, against
	// (π/2)·k·σ²/n for the median).
	clip := a.opt.ZThreshold * sigma
	var level float64
	for _, v := range base {
		level += min(max(v, med-clip), med+clip) / float64(len(base))
	}
	var mean float64
	rec := make([]float64, m)
	for k := range m {
		v := min(max(cy[r0+k], level-clip), level+clip)
		rec[k] = v
		mean += v / float64(m)
	}
	med = level
	z := (mean - med) / (sigma * math.Sqrt(ar1MeanFactorDays(phi, ci[r0:])/float64(m)+ar1Inflation(phi)/float64(len(base))))
	test := &Test{Kind: KindChange, P: NormalP(z)}
	if test.P > a.opt.RecentShiftAlpha || math.Abs(mean-med) < a.opt.MinShiftSigmas*sigma {
		return nil, test
	}
	mid := (mean + med) / 2
	sustained := 0
	for _, v := range rec {
		if (mean > med && v > mid) || (mean < med && v < mid) {
			sustained++
		}
	}
	if sustained < a.opt.RecentShiftSustained-(w-m) {
		return nil, test
	}
	start, end := ci[r0], ci[len(ci)-1]
	used := len(base) + m
	from := ci[first]
	f := Finding{
		Kind:      KindChange,
		Metric:    a.in.Metric,
		Day:       a.day(start),
		EndDay:    a.day(end),
		Direction: direction(mean - med),
		Value:     a.bopt.FromAnalysis(mean),
		Baseline:  a.bopt.FromAnalysis(med),
		Z:         (mean - med) / sigma,
		Detector:  DetectorRecentShift,
		Thresholds: map[string]float64{
			ThresholdAlpha:          a.opt.RecentShiftAlpha,
			ThresholdMinShiftSigmas: a.opt.MinShiftSigmas,
			ThresholdMinSegmentDays: float64(w),
		},
		Confidence: clamp01((1 - math.Exp(-float64(m)/changeConfidenceDays)) * exceedConfidence(z, NormalCrit(a.opt.RecentShiftAlpha))),
		SampleSize: used,
		Coverage:   clamp01(float64(used) / float64((hi-from)+(end-start+1))),
		WindowFrom: a.day(from),
		WindowTo:   a.day(end),
		PValue:     test.P,
		Span:       end - start + 1,
	}
	a.finish(&f)
	return &f, test
}

// olderResiduals returns the values of the change input in the window of
// days calendar days before day lo (indices below end in ci) minus their
// own median; nil when that window holds fewer than minScaleDays values.
func olderResiduals(ci []int, cy []float64, end, lo, days int) []float64 {
	var v []float64
	for k := end - 1; k >= 0 && ci[k] >= lo-days; k-- {
		v = append(v, cy[k])
	}
	if len(v) < minScaleDays {
		return nil
	}
	med := baseline.Median(v)
	for k := range v {
		v[k] -= med
	}
	return v
}

// recentShiftMaxMissing is how many days of the recent-shift window may be
// missing.
const recentShiftMaxMissing = 2

// minScaleDays is the fewest values a window needs to join the pooled
// scale of the recent-shift test.
const minScaleDays = 14

// nearChange reports whether findings hold a CHANGE in f's direction
// starting within days of f.
func nearChange(findings []Finding, f Finding, days int) bool {
	for _, g := range findings {
		if g.Kind == KindChange && g.Direction == f.Direction && abs(series.DaysBetween(g.Day, f.Day)) <= days {
			return true
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// scoreScale returns the scale days are scored with against baseline b and
// the number of values behind it: the SD of b's window values (weekday-
// adjusted, analysis space) winsorized at median ± winsorSigmas·Scale and
// made consistent for σ (winsorConsistency), never below b's Scale floor.
// Its efficiency is ≈ 0.9 of the SD against 0.37 for the MAD (Huber &
// Ronchetti, Robust Statistics, §5). Days already flagged as anomalies are
// left out of it (they stay in the median): the second day of a swing is
// not hidden by the first.: with 60 days of
// autocorrelated data a MAD-based scale is often 25% too small, which is
// what made spurious anomalies six times too common.
func (a *analysis) scoreScale(b baseline.Baseline, flagged []bool) (float64, int) {
	lo := max(0, series.DaysBetween(a.from, b.WindowFrom))
	hi := min(a.n-1, series.DaysBetween(a.from, b.WindowTo))
	med, clip := b.Analysis.Median, winsorSigmas*b.Analysis.Scale
	var ss float64
	n := 0
	for i := lo; i <= hi; i++ {
		if math.IsNaN(a.ya[i]) || flagged[i] {
			continue
		}
		d := min(max(a.ya[i]-med, -clip), clip)
		ss += d * d
		n++
	}
	if n < 2 {
		return b.Analysis.Scale, n
	}
	floor := baseline.ScaleFloorAt(med, a.bopt)
	return max(math.Sqrt(ss/float64(n-1)/winsorConsistency), floor), n
}

// winsorSigmas is where scoreScale clips deviations, in MAD-based Scales:
// one earlier outlier then moves the scale by at most 2²/n of its variance.
const winsorSigmas = 2

// winsorConsistency is E[min(Z², 4)] for standard normal Z,
// 1 − 2(2φ(2) + 1 − Φ(2)) + 4·2(1 − Φ(2)) ≈ 0.9205, which makes the
// winsorized variance consistent for σ² under normal noise.
const winsorConsistency = 0.92054

// anomalyThreshold is the |z| above which a day scored against a scale
// estimated from n values is an anomaly: the Student-t quantile with the
// tail probability of |Z| > ZThreshold under a known scale, for ν = 0.95·n·
// (1−φ²)/(1+φ²) effective degrees of freedom (φ = AR1Prior; the variance
// of a sample variance of AR(1) data is (1+φ²)/(1−φ²) times larger), by the
// Cornish–Fisher expansion t ≈ z + (z³+z)/(4ν) + (5z⁵+16z³+3z)/(96ν²)
// (Abramowitz & Stegun 26.7.5). With 60 days it is ≈ 3.8; with 14, ≈ 5.
func (a *analysis) anomalyThreshold(n int) float64 {
	z := a.opt.ZThreshold
	phi := a.opt.AR1Prior
	nu := max(2, 0.95*float64(n)*(1-phi*phi)/(1+phi*phi))
	return z + (z*z*z+z)/(4*nu) + (5*math.Pow(z, 5)+16*z*z*z+3*z)/(96*nu*nu)
}

// anomalyP maps a day's z to a p-value for the evening's false-discovery
// step: the normal tail of z rescaled so that the day's threshold thr maps
// to the tail of base (ZThreshold), i.e. NormalP(z·base/thr).
func anomalyP(z, thr, base float64) float64 { return NormalP(z * base / thr) }

// dayThreshold is the |z| above which scored day i is an anomaly: its
// calibrated threshold (anomalyThreshold), or ZThreshold itself for the
// other days of a rapid swing, which already holds a day beyond the
// calibrated threshold (the swing is the finding; its days are reported
// together, G4a).
func (a *analysis) dayThreshold(i int) float64 {
	if sd := a.scored[i]; a.swing[i] && math.Abs(sd.z) <= sd.thr {
		return min(sd.thr, a.opt.ZThreshold)
	}
	return a.scored[i].thr
}

// ar1MeanFactorDays is the variance of the mean of AR(1) values on the days
// ds relative to σ²/len(ds): (1/n)·Σ_ij φ^|d_i − d_j|.
func ar1MeanFactorDays(phi float64, ds []int) float64 {
	var f float64
	for _, a := range ds {
		for _, b := range ds {
			f += math.Pow(phi, math.Abs(float64(a-b)))
		}
	}
	return f / float64(len(ds))
}
