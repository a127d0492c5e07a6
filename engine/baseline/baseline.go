// Package baseline computes a person's rolling baseline for one daily metric:
// a long, robust baseline (rolling median of the last 60 days with a band of
// ±2 normal-equivalent SDs from the MAD) and a short baseline (7-day EWMA),
// together with the calibration, insufficient-data and frozen states of
// docs/design.md (MODEL stage; vendor conventions in docs/domain.md §3).
//
// Day convention: a Baseline "as of" day D describes the end of day D, so it
// uses the valid days D−LongWindowDays+1 … D inclusive. To score day d against
// its own history (anomaly detection), compute the baseline as of d−1, so a
// value never contaminates the baseline it is compared with.
//
// Analysis space: with LnTransform (HRV, which is log-normal; HRV4Training
// uses ln RMSSD) every statistic is computed on ln(x). Median, band and EWMA
// are then reported back-transformed with exp (geometric median and band) and
// the ln-space values are kept in Baseline.Analysis.
//
// The package is pure: no I/O, no clock, no global mutable state.
package baseline

import (
	"cmp"
	"fmt"
	"math"
	"strconv"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// State is the lifecycle state of a baseline.
type State string

// Baseline states.
const (
	// StateCalibrating: fewer than MinCalibrationDays valid days ever.
	StateCalibrating State = "CALIBRATING"
	// StateInsufficient: calibrated, but fewer than MinValidDays valid days in
	// the last ValidLookbackDays; no baseline is shown.
	StateInsufficient State = "INSUFFICIENT"
	// StateReady: the baseline is shown and may be used for detection.
	StateReady State = "READY"
	// StateFrozen: the source is disconnected (or a data gap is being
	// bridged); the values are those computed as of the day before FrozenSince.
	StateFrozen State = "FROZEN"
)

// Values lists every State, for ent's field.EnumValues and GraphQL enums.
func (State) Values() []string {
	return []string{string(StateCalibrating), string(StateInsufficient), string(StateReady), string(StateFrozen)}
}

// ScaleSource names the estimator that produced Stats.Scale.
type ScaleSource string

// Scale sources, in order of preference.
const (
	// ScaleMAD: Scale = MADScale·MAD (MAD > 0 and above the floor).
	ScaleMAD ScaleSource = "MAD"
	// ScaleMeanAbsDev: MAD = 0, so Scale = MeanADScale·MeanAbsDev (IBM SPSS
	// modified-z fallback).
	ScaleMeanAbsDev ScaleSource = "MEAN_ABS_DEV"
	// ScaleFloor: both estimators fell below the floor (nearly constant
	// history); Scale is the floor (see Options.RelScaleFloor, MinScale).
	ScaleFloor ScaleSource = "FLOOR"
)

// minAbsScale is the last-resort absolute floor of Stats.Scale, so that a
// scale is never zero and a robust z is always finite.
const minAbsScale = 1e-9

// Options configures Compute. A zero field means its default (see
// DefaultOptions); Validate reports negative or inconsistent values, which
// Compute also replaces by the defaults.
type Options struct {
	// LongWindowDays is the long-baseline window in calendar days (default 60).
	LongWindowDays int
	// ShortAlpha is the EWMA smoothing factor α in (0, 1] (default 0.25, the
	// 7-day EWMA: α = 2/(7+1)).
	ShortAlpha float64
	// MinCalibrationDays: below this many valid days ever the state is
	// CALIBRATING (default 4, WHOOP's calibration period).
	MinCalibrationDays int
	// MinValidDays: below this many valid days in the last ValidLookbackDays
	// the state is INSUFFICIENT (default 14).
	MinValidDays int
	// ValidLookbackDays is the lookback for MinValidDays, in days (default 28).
	ValidLookbackDays int
	// BandMADs is the band half-width in normal-equivalent SDs, i.e. in units
	// of Scale = 1.4826·MAD (default 2).
	BandMADs float64
	// RelScaleFloor is the smallest Scale as a fraction of |median| (default
	// 0.01). In ln space it is an absolute ln-unit floor (0.01 ≈ 1%), since ln
	// differences are already relative.
	RelScaleFloor float64
	// MinScale is an optional absolute floor for Scale in analysis units
	// (default 0), for metrics centred near zero such as temperature deviation.
	MinScale float64
	// LnTransform computes the statistics on ln(x) (for HRV). Non-positive
	// values are then not valid days.
	LnTransform bool
}

// DefaultOptions returns the defaults of docs/design.md and docs/domain.md §3: 60-day
// rolling median, band ±2·1.4826·MAD, 7-day EWMA (α = 0.25), calibrating
// until 4 valid days, shown from 14 valid days of the last 28.
func DefaultOptions() Options {
	return Options{
		LongWindowDays:     60,
		ShortAlpha:         0.25,
		MinCalibrationDays: 4,
		MinValidDays:       14,
		ValidLookbackDays:  28,
		BandMADs:           2,
		RelScaleFloor:      0.01,
	}
}

// Validate reports an *engine.Error with code EINVALID when a field is
// negative or NaN, ShortAlpha is above 1, or MinValidDays exceeds
// ValidLookbackDays or ValidLookbackDays exceeds LongWindowDays (after
// defaults). Zero fields are valid (they mean the
// default).
func (o Options) Validate() error {
	bad := func(field string, v any) error {
		return engine.Errorf(engine.EINVALID, "baseline option %s is invalid: %v", field, v).WithDetails("field", field)
	}
	switch {
	case o.LongWindowDays < 0:
		return bad("LongWindowDays", o.LongWindowDays)
	case math.IsNaN(o.ShortAlpha) || o.ShortAlpha < 0 || o.ShortAlpha > 1:
		return bad("ShortAlpha", o.ShortAlpha)
	case o.MinCalibrationDays < 0:
		return bad("MinCalibrationDays", o.MinCalibrationDays)
	case o.MinValidDays < 0:
		return bad("MinValidDays", o.MinValidDays)
	case o.ValidLookbackDays < 0:
		return bad("ValidLookbackDays", o.ValidLookbackDays)
	case math.IsNaN(o.BandMADs) || o.BandMADs < 0:
		return bad("BandMADs", o.BandMADs)
	case math.IsNaN(o.RelScaleFloor) || o.RelScaleFloor < 0:
		return bad("RelScaleFloor", o.RelScaleFloor)
	case math.IsNaN(o.MinScale) || o.MinScale < 0:
		return bad("MinScale", o.MinScale)
	}
	d := DefaultOptions()
	minValid, lookback := cmp.Or(o.MinValidDays, d.MinValidDays), cmp.Or(o.ValidLookbackDays, d.ValidLookbackDays)
	if minValid > lookback {
		return bad("MinValidDays", fmt.Sprintf("%d > ValidLookbackDays %d", minValid, lookback))
	}
	if long := cmp.Or(o.LongWindowDays, d.LongWindowDays); long < lookback {
		return bad("LongWindowDays", fmt.Sprintf("%d < ValidLookbackDays %d", long, lookback))
	}
	return nil
}

// withDefaults replaces zero, negative or NaN fields by their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.LongWindowDays <= 0 {
		o.LongWindowDays = d.LongWindowDays
	}
	if !(o.ShortAlpha > 0 && o.ShortAlpha <= 1) {
		o.ShortAlpha = d.ShortAlpha
	}
	if o.MinCalibrationDays <= 0 {
		o.MinCalibrationDays = d.MinCalibrationDays
	}
	if o.MinValidDays <= 0 {
		o.MinValidDays = d.MinValidDays
	}
	if o.ValidLookbackDays <= 0 {
		o.ValidLookbackDays = d.ValidLookbackDays
	}
	if o.MinValidDays > o.ValidLookbackDays {
		o.MinValidDays = o.ValidLookbackDays
	}
	if !(o.BandMADs > 0) {
		o.BandMADs = d.BandMADs
	}
	if !(o.RelScaleFloor > 0) {
		o.RelScaleFloor = d.RelScaleFloor
	}
	if !(o.MinScale >= 0) {
		o.MinScale = 0
	}
	return o
}

// WithDefaults returns o with every zero, negative or NaN field replaced by
// its default, i.e. the options Compute actually uses.
func (o Options) WithDefaults() Options { return o.withDefaults() }

// Valid reports whether x is a valid observation under o: finite, and
// positive when LnTransform is set.
func (o Options) Valid(x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	return !o.LnTransform || x > 0
}

// ToAnalysis maps a valid metric value to analysis space (ln x with
// LnTransform, x otherwise).
func (o Options) ToAnalysis(x float64) float64 {
	if o.LnTransform {
		return math.Log(x)
	}
	return x
}

// FromAnalysis maps an analysis-space value back to metric units (exp with
// LnTransform, identity otherwise).
func (o Options) FromAnalysis(y float64) float64 {
	if o.LnTransform {
		return math.Exp(y)
	}
	return y
}

// Stats are the long and short baseline statistics in analysis space: ln
// units with LnTransform, metric units otherwise.
type Stats struct {
	// Median is the rolling median of the valid days in the window.
	Median float64
	// MAD is the unscaled median absolute deviation about Median.
	MAD float64
	// ScaledMAD is MADScale·MAD, a normal-consistent SD.
	ScaledMAD float64
	// Scale is the SD used for the band and for robust z: ScaledMAD, or the
	// mean-absolute-deviation fallback when MAD = 0, never below the floor.
	Scale float64
	// ScaleSource names the estimator behind Scale.
	ScaleSource ScaleSource
	// BandLow and BandHigh are Median ∓ BandMADs·Scale.
	BandLow, BandHigh float64
	// EWMA is the short baseline over the window's valid days in day order.
	EWMA float64
}

// Baseline is a long and short baseline of one metric as of one day.
// Numeric statistics are zero unless Usable reports true ("no baseline
// shown" before calibration and with insufficient data).
type Baseline struct {
	// State is the lifecycle state.
	State State
	// FrozenState is the state the baseline had when it was frozen (READY,
	// INSUFFICIENT or CALIBRATING) when State is FROZEN, and "" otherwise.
	FrozenState State
	// FrozenSince is the first disconnected (or missing) day when State is
	// FROZEN, nil otherwise. The statistics are as of the day before it.
	FrozenSince *series.Day
	// AsOf is the day the baseline was requested for (end of day).
	AsOf series.Day
	// WindowFrom and WindowTo bound the long window (inclusive) the
	// statistics come from; for a frozen baseline they end before FrozenSince.
	WindowFrom, WindowTo series.Day
	// LnTransform reports whether the statistics were computed on ln(x).
	LnTransform bool
	// Median, BandLow, BandHigh and EWMA are in metric units (exp of the
	// ln-space values when LnTransform).
	Median, BandLow, BandHigh, EWMA float64
	// Analysis holds the statistics in analysis space.
	Analysis Stats
	// ValidDays is the number of valid days in the long window.
	ValidDays int
	// ValidDaysLookback is the number of valid days in the last
	// ValidLookbackDays (28) days up to WindowTo.
	ValidDaysLookback int
	// ValidDaysEver is the number of valid days up to WindowTo.
	ValidDaysEver int
	// Reason explains the state in one user-safe sentence.
	Reason string
}

// Usable reports whether the statistics may be shown and used for detection:
// the state is READY, or FROZEN over a READY baseline.
func (b Baseline) Usable() bool {
	return b.State == StateReady || (b.State == StateFrozen && b.FrozenState == StateReady)
}

// Coverage is ValidDays divided by the calendar days of the long window, in
// [0, 1].
func (b Baseline) Coverage() float64 {
	n := series.DaysBetween(b.WindowFrom, b.WindowTo) + 1
	if n <= 0 {
		return 0
	}
	return math.Min(1, float64(b.ValidDays)/float64(n))
}

// Compute returns the baseline of s as of the end of day asOf (days up to and
// including asOf; points after asOf are ignored). s need not be normalized:
// it is normalized first (sorted, last point per day wins, NaN/Inf dropped).
//
// When disconnectedSince is non-nil and not after asOf, the result is FROZEN:
// the statistics are those computed as of the day before *disconnectedSince,
// with FrozenSince set. Zero fields of opt take their defaults.
func Compute(s series.Series, asOf series.Day, disconnectedSince *series.Day, opt Options) Baseline {
	asOf = series.Truncate(asOf)
	s = series.Normalize(s)
	if len(s) == 0 {
		return ComputeDense(nil, asOf, asOf, disconnectedSince, opt)
	}
	from := series.Truncate(s[0].Day)
	if from.After(asOf) {
		from = asOf
	}
	return ComputeDense(s.Dense(from, asOf), from, asOf, disconnectedSince, opt)
}

// ComputeDense is Compute over a dense slice: vals[i] is the metric value of
// day from+i, NaN (or any invalid value, see Options.Valid) for a missing
// day. Days outside vals are missing. vals is not modified. It is the
// allocation-light entry point for callers that evaluate many days of the
// same series (the detector's per-day loop).
func ComputeDense(vals []float64, from, asOf series.Day, disconnectedSince *series.Day, opt Options) Baseline {
	opt = opt.withDefaults()
	from, asOf = series.Truncate(from), series.Truncate(asOf)
	if disconnectedSince != nil && !series.Truncate(*disconnectedSince).After(asOf) {
		since := series.Truncate(*disconnectedSince)
		b := computeAt(vals, from, series.AddDays(since, -1), opt)
		b.FrozenState = b.State
		b.State = StateFrozen
		b.FrozenSince = &since
		b.AsOf = asOf
		b.Reason = fmt.Sprintf("source disconnected since %s: baseline frozen at its value of %s (%s)",
			since.Format(dateLayout), b.WindowTo.Format(dateLayout), b.FrozenState)
		return b
	}
	return computeAt(vals, from, asOf, opt)
}

const dateLayout = "2006-01-02"

// computeAt computes the live (non-frozen) baseline as of asOf.
func computeAt(vals []float64, from, asOf series.Day, opt Options) Baseline {
	return computeWith(vals, from, asOf, opt, nil)
}

// computeWith is computeAt, with the counts, median and MAD taken from r
// when it is not nil (the same values, kept up to date as r slides).
func computeWith(vals []float64, from, asOf series.Day, opt Options, r *Rolling) Baseline {
	end := series.DaysBetween(from, asOf)
	b := Baseline{
		AsOf:        asOf,
		WindowFrom:  series.AddDays(asOf, -(opt.LongWindowDays - 1)),
		WindowTo:    asOf,
		LnTransform: opt.LnTransform,
	}
	count := func(lo, hi int) int {
		if r != nil {
			return r.count(lo, hi)
		}
		lo, hi = max(lo, 0), min(hi, len(vals)-1)
		n := 0
		for i := lo; i <= hi; i++ {
			if opt.Valid(vals[i]) {
				n++
			}
		}
		return n
	}
	b.ValidDaysEver = count(0, end)
	b.ValidDaysLookback = count(end-opt.ValidLookbackDays+1, end)
	b.ValidDays = count(end-opt.LongWindowDays+1, end)

	switch {
	case b.ValidDaysEver < opt.MinCalibrationDays:
		b.State = StateCalibrating
		b.Reason = fmt.Sprintf("calibrating: %d of %d valid days so far", b.ValidDaysEver, opt.MinCalibrationDays)
		return b
	case b.ValidDaysLookback < opt.MinValidDays:
		b.State = StateInsufficient
		b.Reason = fmt.Sprintf("insufficient data: %d of the last %d days are valid, %d needed",
			b.ValidDaysLookback, opt.ValidLookbackDays, opt.MinValidDays)
		return b
	case b.ValidDays == 0:
		// Only reachable with a long window shorter than the lookback
		// (Validate refuses it; Compute does not require Validate).
		b.State = StateInsufficient
		b.Reason = fmt.Sprintf("insufficient data: no valid day in the last %d", opt.LongWindowDays)
		return b
	}
	b.State = StateReady
	// fmt.Sprintf("ready: %d valid days in the last %d", …), cheaper (once a day per metric).
	b.Reason = "ready: " + strconv.Itoa(b.ValidDays) + " valid days in the last " + strconv.Itoa(opt.LongWindowDays)

	var xs []float64
	lo, hi := max(end-opt.LongWindowDays+1, 0), min(end, len(vals)-1)
	if r != nil {
		xs = r.xs[:0]
		for i := lo; i <= hi; i++ {
			if r.valid[i] {
				xs = append(xs, r.ax[i])
			}
		}
	} else {
		xs = make([]float64, 0, b.ValidDays)
		for i := lo; i <= hi; i++ {
			if opt.Valid(vals[i]) {
				xs = append(xs, opt.ToAnalysis(vals[i]))
			}
		}
	}
	if r != nil {
		r.xs = xs
		r.slide(end-opt.LongWindowDays+1, end)
		if med, mad, ok := r.win.MedianMAD(); ok {
			b.Analysis = statsOf(xs, med, mad, opt)
		} else {
			b.Analysis = robustStats(xs, opt)
		}
	} else {
		b.Analysis = robustStats(xs, opt)
	}
	b.Median = opt.FromAnalysis(b.Analysis.Median)
	b.BandLow = opt.FromAnalysis(b.Analysis.BandLow)
	b.BandHigh = opt.FromAnalysis(b.Analysis.BandHigh)
	b.EWMA = opt.FromAnalysis(b.Analysis.EWMA)
	return b
}

// robustStats computes Stats of the non-empty analysis-space values xs (in
// day order).
func robustStats(xs []float64, opt Options) Stats {
	buf := make([]float64, len(xs))
	copy(buf, xs)
	med, mad := medianMAD(buf)
	return statsOf(xs, med, mad, opt)
}

// statsOf completes Stats of xs (in day order) from their median and MAD.
func statsOf(xs []float64, med, mad float64, opt Options) Stats {
	st := Stats{EWMA: EWMA(xs, opt.ShortAlpha), Median: med, MAD: mad}
	st.ScaledMAD = MADScale * st.MAD
	floor := scaleFloor(st.Median, opt)
	if st.MAD > 0 {
		st.Scale, st.ScaleSource = st.ScaledMAD, ScaleMAD
	} else {
		st.Scale, st.ScaleSource = MeanADScale*MeanAbsDev(xs, st.Median), ScaleMeanAbsDev
	}
	if !(st.Scale > floor) {
		st.Scale, st.ScaleSource = floor, ScaleFloor
	}
	st.BandLow = st.Median - opt.BandMADs*st.Scale
	st.BandHigh = st.Median + opt.BandMADs*st.Scale
	return st
}

// scaleFloor is the smallest admissible Scale around median (analysis space).
func scaleFloor(median float64, opt Options) float64 {
	rel := opt.RelScaleFloor * math.Abs(median)
	if opt.LnTransform {
		rel = opt.RelScaleFloor
	}
	return max(rel, opt.MinScale, minAbsScale)
}

// ScaleFloorAt returns the smallest Scale Compute admits around median (in
// analysis space) under opt: max(RelScaleFloor·|median| — or RelScaleFloor
// itself in ln space —, MinScale, 1e-9). Detectors use it to floor their own
// robust scales consistently.
func ScaleFloorAt(median float64, opt Options) float64 {
	return scaleFloor(median, opt.withDefaults())
}
