// Package detect turns one person's daily series of one metric into findings
// (anomalies, sustained changes, trends, data gaps) and a visible state that
// says when no insight should be drawn: calibrating, insufficient data,
// data-quality pause, conflicting sources, frozen baseline. It is the MODEL
// stage of docs/design.md; thresholds and their sources are in docs/domain.md §3.
//
// Rules, with the defaults of DefaultOptions:
//
//   - Baseline: engine/baseline (60-day rolling median, band ±2·1.4826·MAD,
//     7-day EWMA; ln space for HRV). Day d is always scored against the
//     baseline as of d−1, so a value never contaminates its own baseline and
//     a day's decision never changes when later data arrives.
//   - Weekdays: every detector scores weekday-adjusted values y − w(d),
//     with w(d) the day-of-week effect estimated causally from the 84 days
//     before d (deviations from a centred 7-day mean, clipped, James–Stein
//     shrunk; see weekdayEffects). Shown baselines stay unadjusted.
//   - ANOMALY ("robust_z"): z = (y − median)/s, the median of the 60-day
//     baseline and s the winsorized SD of its window (scoreScale; earlier
//     anomalies left out), beyond the Student-t quantile with the tail of
//     |z| > 3.5 for s's effective degrees of freedom (anomalyThreshold:
//     ≈ 3.8 with 60 days, ≈ 5 with 14); the other days of a rapid swing use
//     3.5. Anomalous days stay in the median's history: it is robust (50%
//     breakdown), and removing them would make a genuine level shift flag
//     itself forever.
//   - Swing: an excursion (consecutive scored days beyond ±2 Scale on one
//     side) that contains an anomaly, spans ≤ 6 calendar days and returns:
//     the median z of the next ≤ 7 scored days, measured against the
//     baseline in force when the excursion began, is ≤ 1.5 on its side (or
//     there is no later data yet). Swing days are reported as ANOMALY only
//     and are removed from the change and trend inputs, so a rapid swing is
//     never a CHANGE.
//   - CHANGE ("pelt"): a sustained mean shift found with the MBIC-penalised
//     Normal mean-change cost of changepoint::cpt.mean (minseglen 7) on the
//     AR(1)-prewhitened series (φ = max(0.4, residual r*)), then confirmed:
//     shift ≥ 1 robust SD, and more than 6 post-change days beyond the
//     midpoint of the two levels and outside the old level's ±2 SD band, i.e.
//     it outlasts any swing; and its AR(1)-adjusted two-sample test must pass
//     ChangeAlpha. Anomalies inside a confirmed change, in its
//     direction and within 3.5 robust SDs of the new level, are explained by
//     it and not reported separately.
//   - CHANGE ("recent_shift"): the last 7 calendar days against the 60 days
//     ending a week before them (recentShift), at RecentShiftAlpha; graded D
//     until the segmentation confirms the new level.
//   - TREND ("ols_trend"): the OLS slope over the last 60 days (≥ 50% valid,
//     observed span ≥ 42 days) whose AR(1)-adjusted z passes TrendAlpha and
//     whose fitted change over the observed span is ≥ 2 residual SDs. When
//     change points fall inside the window, the line must also beat those
//     steps by a quarter MBIC penalty; it then replaces them (a linear drift
//     is a TREND, not a staircase of changes). Otherwise the changes stand
//     and no trend is reported.
//   - DATA_GAP ("gap"): each run of ≥ 3 consecutive missing days after the
//     first valid day is exactly one finding covering the whole run, keyed
//     by its first day. After a gap, while the live baseline is INSUFFICIENT
//     (for up to 28 days), days are scored against the baseline frozen
//     before the gap, instead of being skipped or flagged en masse.
//   - Conflicting sources: a day on which two sources differ by more than 10%
//     (symmetric relative difference) AND by more than 2 Scale of the usable
//     trailing baseline (analysis space) is a conflict. It yields no finding
//     and is left out of the change and trend inputs, but stays in the
//     robust baseline history so that a persistent disagreement cannot
//     starve the baseline. Without a usable baseline there is neither an
//     insight to protect nor an absolute scale, so no conflict is declared.
//
// Every finding carries the p-value of its test and Result.Tests lists the
// tests run for AsOf, for the evening's Benjamini–Hochberg step
// (engine/insight).
//
// State precedence (first match): FROZEN (source disconnected), CALIBRATING,
// INSUFFICIENT_DATA, PAUSED_DATA_QUALITY (coverage of the last 7 days < 0.5),
// FROZEN (a data gap is being bridged), CONFLICTING_SOURCES (a conflict in
// the last 7 days), OK. Under CALIBRATING, INSUFFICIENT_DATA and
// PAUSED_DATA_QUALITY only DATA_GAP findings are returned ("no new
// insights"); under OK, FROZEN and CONFLICTING_SOURCES all findings are.
//
// Known limitation: for up to ~30 days after a level shift the 60-day window
// spans both levels, its MAD is inflated and anomalies are harder to reach.
//
// The package is pure and deterministic: the same Input and Options always
// give an identical Result.
package detect

import (
	"fmt"
	"math"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/baseline"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// State is the overall state of a detection run.
type State string

// Run states.
const (
	StateOK                 State = "OK"
	StateCalibrating        State = "CALIBRATING"
	StateInsufficientData   State = "INSUFFICIENT_DATA"
	StatePausedDataQuality  State = "PAUSED_DATA_QUALITY"
	StateConflictingSources State = "CONFLICTING_SOURCES"
	StateFrozen             State = "FROZEN"
)

// Values lists every State, for ent's field.EnumValues and GraphQL enums.
func (State) Values() []string {
	return []string{
		string(StateOK), string(StateCalibrating), string(StateInsufficientData),
		string(StatePausedDataQuality), string(StateConflictingSources), string(StateFrozen),
	}
}

// Kind is the kind of a Finding.
type Kind string

// Finding kinds.
const (
	KindAnomaly Kind = "ANOMALY"
	KindChange  Kind = "CHANGE"
	KindTrend   Kind = "TREND"
	KindDataGap Kind = "DATA_GAP"
)

// Values lists every Kind, for ent's field.EnumValues and GraphQL enums.
func (Kind) Values() []string {
	return []string{string(KindAnomaly), string(KindChange), string(KindTrend), string(KindDataGap)}
}

// Direction is the sign of a finding's deviation from its baseline.
type Direction string

// Directions. DATA_GAP findings have DirectionNone.
const (
	DirectionUp   Direction = "UP"
	DirectionDown Direction = "DOWN"
	DirectionNone Direction = "NONE"
)

// Values lists every Direction, for ent's field.EnumValues and GraphQL enums.
func (Direction) Values() []string {
	return []string{string(DirectionUp), string(DirectionDown), string(DirectionNone)}
}

// Valence says whether a finding's direction is good for the person, given
// Input.HigherIsBetter.
type Valence string

// Valences. DATA_GAP findings are neutral.
const (
	ValenceFavorable   Valence = "FAVORABLE"
	ValenceUnfavorable Valence = "UNFAVORABLE"
	ValenceNeutral     Valence = "NEUTRAL"
)

// Values lists every Valence, for ent's field.EnumValues and GraphQL enums.
func (Valence) Values() []string {
	return []string{string(ValenceFavorable), string(ValenceUnfavorable), string(ValenceNeutral)}
}

// Detector names, as recorded in Finding.Detector and the audit trail.
const (
	DetectorRobustZ = "robust_z"
	DetectorPELT    = "pelt"
	DetectorOLS     = "ols_trend"
	DetectorGap     = "gap"
	// DetectorRecentShift is the change test on the latest RecentShiftDays
	// valid days against the baseline before them.
	DetectorRecentShift = "recent_shift"
)

// Threshold names used as keys of Finding.Thresholds.
const (
	ThresholdRobustZ        = "robust_z"
	ThresholdMBICPenalty    = "mbic_penalty"
	ThresholdMinSegmentDays = "min_segment_days"
	ThresholdMinShiftSigmas = "min_shift_sigmas"
	ThresholdMaxSwingDays   = "max_swing_days"
	ThresholdTrendSigmas    = "trend_min_sigmas"
	ThresholdTrendCoverage  = "trend_min_coverage"
	ThresholdMinGapDays     = "min_gap_days"
	ThresholdAlpha          = "alpha"
	ThresholdTrendMinDays   = "trend_min_days"
)

// Options configures Run. A zero field means its default (DefaultOptions);
// Validate reports negative or out-of-range values, which Run replaces by the
// defaults. Baseline.LnTransform is ignored: Input.LnTransform decides.
type Options struct {
	// Baseline configures the rolling baselines (engine/baseline).
	Baseline baseline.Options
	// ZThreshold is the |robust z| above which a day is an anomaly (3.5).
	ZThreshold float64
	// ExcursionZ is the |z| beyond which a scored day belongs to an excursion
	// (2, the band half-width).
	ExcursionZ float64
	// ReturnZ: an excursion has returned when the median z of the following
	// scored days, on the excursion's side, is ≤ ReturnZ (1.5).
	ReturnZ float64
	// MaxSwingDays is the longest excursion, in calendar days, that is a
	// swing rather than the start of a change (6).
	MaxSwingDays int
	// MinSegmentDays is PELT's minseglen, in valid days (7).
	MinSegmentDays int
	// MinShiftSigmas is the smallest confirmed change, in robust SDs (1).
	MinShiftSigmas float64
	// AR1Prior is the smallest lag-1 autocorrelation assumed for the daily
	// noise by the change detector (0.4, the ln-HRV noise model of docs/domain.md
	// §6; sleep is ≈ 0.3). A larger residual estimate replaces it.
	AR1Prior float64
	// TrendWindowDays is the OLS trend window ending at AsOf, in days (60).
	TrendWindowDays int
	// TrendMinSigmas is the smallest fitted change over the trend window, in
	// robust residual SDs (2).
	TrendMinSigmas float64
	// TrendMinCoverage is the smallest fraction of valid days in the trend
	// window (0.5).
	TrendMinCoverage float64
	// MinGapDays is the shortest run of missing days reported as a gap (3).
	MinGapDays int
	// RecentDays is the data-quality window ending at AsOf, in days (7).
	RecentDays int
	// MinRecentCoverage is the coverage of the last RecentDays below which
	// learning pauses (0.5).
	MinRecentCoverage float64
	// ConflictRelTol is the symmetric relative difference between sources
	// above which they may conflict (0.10).
	ConflictRelTol float64
	// ConflictScales is the absolute difference, in trailing-baseline Scale
	// units (analysis space), above which they may conflict (2).
	ConflictScales float64
	// HistoryDays is how far back from AsOf findings and conflicts are
	// computed, in days (365); older data still feeds the baselines.
	HistoryDays int
	// WeekdayWindowDays is the trailing window from which day-of-week
	// effects are estimated (84 days = 12 of each weekday).
	WeekdayWindowDays int
	// WeekdayMinPerDay is the number of valid values every weekday needs in
	// that window before effects are removed (4).
	WeekdayMinPerDay int
	// WeekdayClipSigmas clips each deviation at this many robust SDs when
	// estimating weekday effects (3).
	WeekdayClipSigmas float64
	// TrendMinDays is the shortest observed span, first to last valid day of
	// the trend window inclusive, on which a trend is tested (42): a
	// straight line through a month of autocorrelated noise is mostly noise.
	TrendMinDays int
	// TrendAlpha is the two-sided per-test level of the trend's slope test
	// (AR(1)-adjusted OLS standard error), before the evening's
	// Benjamini–Hochberg step (0.00003: the test is repeated every evening
	// on a window that moves by one day, so its level must be far below the
	// monthly budget; docs/calibration.md).
	TrendAlpha float64
	// ChangeAlpha is the two-sided per-test level of a change's two-sample
	// test (AR(1)-adjusted), before the Benjamini–Hochberg step (0.0003: it
	// too is repeated every evening; docs/calibration.md).
	ChangeAlpha float64
	// RecentShiftDays is the number of latest calendar days the recent-shift
	// test compares with the baseline before them (7).
	RecentShiftDays int
	// RecentShiftSustained is how many of those days must lie beyond the
	// midpoint between the old level and their mean (5; one fewer for each
	// missing day).
	RecentShiftSustained int
	// RecentShiftAlpha is the two-sided level of the recent-shift test
	// (0.0008). Its findings rest on a week of data and are graded D ("too
	// early to tell", no direction stated) until the new level lasts; the
	// level trades these notices against how soon a real shift is seen
	// (docs/calibration.md, "Passive insights").
	RecentShiftAlpha float64
}

// DefaultOptions returns the defaults documented on each Options field.
func DefaultOptions() Options {
	return Options{
		Baseline:          baseline.DefaultOptions(),
		ZThreshold:        3.5,
		ExcursionZ:        2,
		ReturnZ:           1.5,
		MaxSwingDays:      6,
		MinSegmentDays:    7,
		MinShiftSigmas:    1,
		AR1Prior:          0.4,
		TrendWindowDays:   60,
		TrendMinSigmas:    2,
		TrendMinCoverage:  0.5,
		MinGapDays:        3,
		RecentDays:        7,
		MinRecentCoverage: 0.5,
		ConflictRelTol:    0.10,
		ConflictScales:    2,
		HistoryDays:       365,

		WeekdayWindowDays:    84,
		WeekdayMinPerDay:     4,
		WeekdayClipSigmas:    3,
		TrendMinDays:         42,
		TrendAlpha:           0.00003,
		ChangeAlpha:          0.0003,
		RecentShiftDays:      7,
		RecentShiftSustained: 5,
		RecentShiftAlpha:     0.0008,
	}
}

// Validate returns an *engine.Error with code EINVALID when a field is
// negative or NaN, a coverage is above 1, or the baseline options are
// invalid. Zero fields are valid (they mean the default).
func (o Options) Validate() error {
	if err := o.Baseline.Validate(); err != nil {
		return err
	}
	floats := []struct {
		name string
		v    float64
	}{
		{"ZThreshold", o.ZThreshold},
		{"ExcursionZ", o.ExcursionZ},
		{"ReturnZ", o.ReturnZ},
		{"MinShiftSigmas", o.MinShiftSigmas},
		{"AR1Prior", o.AR1Prior},
		{"TrendMinSigmas", o.TrendMinSigmas},
		{"TrendMinCoverage", o.TrendMinCoverage},
		{"MinRecentCoverage", o.MinRecentCoverage},
		{"ConflictRelTol", o.ConflictRelTol},
		{"ConflictScales", o.ConflictScales},
		{"WeekdayClipSigmas", o.WeekdayClipSigmas},
		{"TrendAlpha", o.TrendAlpha},
		{"ChangeAlpha", o.ChangeAlpha},
		{"RecentShiftAlpha", o.RecentShiftAlpha},
	}
	for _, f := range floats {
		if math.IsNaN(f.v) || f.v < 0 {
			return engine.Errorf(engine.EINVALID, "detect option %s is invalid: %v", f.name, f.v).WithDetails("field", f.name)
		}
	}
	if o.AR1Prior > 0.9 {
		return engine.Errorf(engine.EINVALID, "detect option AR1Prior must be in [0, 0.9]").WithDetails("field", "AR1Prior")
	}
	if o.TrendAlpha >= 1 || o.ChangeAlpha >= 1 || o.RecentShiftAlpha >= 1 {
		return engine.Errorf(engine.EINVALID, "detect test levels must be in (0, 1)").WithDetails("field", "alpha")
	}
	if o.TrendMinCoverage > 1 || o.MinRecentCoverage > 1 {
		return engine.Errorf(engine.EINVALID, "detect coverage thresholds must be in [0, 1]").WithDetails("field", "coverage")
	}
	ints := []struct {
		name string
		v    int
	}{
		{"MaxSwingDays", o.MaxSwingDays},
		{"MinSegmentDays", o.MinSegmentDays},
		{"TrendWindowDays", o.TrendWindowDays},
		{"MinGapDays", o.MinGapDays},
		{"RecentDays", o.RecentDays},
		{"HistoryDays", o.HistoryDays},
		{"WeekdayWindowDays", o.WeekdayWindowDays},
		{"WeekdayMinPerDay", o.WeekdayMinPerDay},
		{"TrendMinDays", o.TrendMinDays},
		{"RecentShiftDays", o.RecentShiftDays},
		{"RecentShiftSustained", o.RecentShiftSustained},
	}
	for _, f := range ints {
		if f.v < 0 {
			return engine.Errorf(engine.EINVALID, "detect option %s is invalid: %d", f.name, f.v).WithDetails("field", f.name)
		}
	}
	return nil
}

// withDefaults replaces zero, negative, NaN or out-of-range fields by their
// defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	o.Baseline = o.Baseline.WithDefaults()
	pos := func(v *float64, def float64) {
		if !(*v > 0) {
			*v = def
		}
	}
	posInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pos(&o.ZThreshold, d.ZThreshold)
	pos(&o.ExcursionZ, d.ExcursionZ)
	pos(&o.ReturnZ, d.ReturnZ)
	pos(&o.MinShiftSigmas, d.MinShiftSigmas)
	pos(&o.AR1Prior, d.AR1Prior)
	if o.AR1Prior > 0.9 {
		o.AR1Prior = d.AR1Prior
	}
	pos(&o.TrendMinSigmas, d.TrendMinSigmas)
	pos(&o.TrendMinCoverage, d.TrendMinCoverage)
	pos(&o.MinRecentCoverage, d.MinRecentCoverage)
	pos(&o.ConflictRelTol, d.ConflictRelTol)
	pos(&o.ConflictScales, d.ConflictScales)
	if o.TrendMinCoverage > 1 {
		o.TrendMinCoverage = d.TrendMinCoverage
	}
	if o.MinRecentCoverage > 1 {
		o.MinRecentCoverage = d.MinRecentCoverage
	}
	posInt(&o.MaxSwingDays, d.MaxSwingDays)
	posInt(&o.MinSegmentDays, d.MinSegmentDays)
	posInt(&o.TrendWindowDays, d.TrendWindowDays)
	posInt(&o.MinGapDays, d.MinGapDays)
	posInt(&o.RecentDays, d.RecentDays)
	posInt(&o.HistoryDays, d.HistoryDays)
	posInt(&o.WeekdayWindowDays, d.WeekdayWindowDays)
	posInt(&o.WeekdayMinPerDay, d.WeekdayMinPerDay)
	pos(&o.WeekdayClipSigmas, d.WeekdayClipSigmas)
	posInt(&o.TrendMinDays, d.TrendMinDays)
	pos(&o.TrendAlpha, d.TrendAlpha)
	if o.TrendAlpha >= 1 {
		o.TrendAlpha = d.TrendAlpha
	}
	pos(&o.ChangeAlpha, d.ChangeAlpha)
	if o.ChangeAlpha >= 1 {
		o.ChangeAlpha = d.ChangeAlpha
	}
	pos(&o.RecentShiftAlpha, d.RecentShiftAlpha)
	if o.RecentShiftAlpha >= 1 {
		o.RecentShiftAlpha = d.RecentShiftAlpha
	}
	posInt(&o.RecentShiftDays, d.RecentShiftDays)
	posInt(&o.RecentShiftSustained, d.RecentShiftSustained)
	o.RecentShiftSustained = min(o.RecentShiftSustained, o.RecentShiftDays)
	return o
}

// WithDefaults returns o with defaults applied, i.e. the options Run uses.
func (o Options) WithDefaults() Options { return o.withDefaults() }

// Input is one metric of one person.
type Input struct {
	// Metric is the canonical metric key (e.g. "hrv_rmssd"); it is part of
	// every Finding.Key.
	Metric string
	// HigherIsBetter sets each finding's Valence.
	HigherIsBetter bool
	// LnTransform analyses ln(x) (HRV); non-positive values are then invalid.
	LnTransform bool
	// Series is the primary, deduplicated daily series (metric units). It
	// need not be normalized; points after AsOf are ignored.
	Series series.Series
	// BySource optionally holds the same metric per source (e.g. "whoop",
	// "oura") for conflict detection; nil or a single source disables it.
	BySource map[string]series.Series
	// AsOf is the last day analysed (end of day).
	AsOf series.Day
	// DisconnectedSince is the first day the source was disconnected, or nil
	// when connected. Data on or after it is ignored and the baseline stays
	// frozen at its value of the day before.
	DisconnectedSince *series.Day
}

// Validate returns an *engine.Error with code EINVALID when Metric is empty
// or AsOf is the zero time. Run does not call it; callers validate at the
// boundary.
func (in Input) Validate() error {
	if strings.TrimSpace(in.Metric) == "" {
		return engine.Errorf(engine.EINVALID, "metric is required").WithDetails("field", "metric")
	}
	if in.AsOf.IsZero() {
		return engine.Errorf(engine.EINVALID, "asOf day is required").WithDetails("field", "asOf")
	}
	return nil
}

// Span is an inclusive range of days.
type Span struct {
	// From is the first day of the span.
	From series.Day
	// To is the last day of the span (inclusive).
	To series.Day
}

// Finding is one detected insight candidate. Values are in metric units
// unless noted; "analysis units" are ln units for ln-transformed metrics.
type Finding struct {
	// Key identifies the finding stably: "<kind>:<metric>:<Day>", e.g.
	// "anomaly:hrv_rmssd:2026-03-14" (kind lower-case), with ":up"/":down"
	// appended for CHANGE and TREND. Re-running on the
	// same data yields the same keys; persistence upserts by it. An ongoing
	// gap keeps its key while EndDay grows.
	Key string
	// Kind is ANOMALY, CHANGE, TREND or DATA_GAP.
	Kind Kind
	// Metric is Input.Metric.
	Metric string
	// Day is the first day of the finding (anomaly day, first day of the new
	// level, first day of the trend window, first missing day) and EndDay
	// its last day (inclusive).
	Day, EndDay series.Day
	// Direction is UP or DOWN (NONE for gaps).
	Direction Direction
	// Valence is FAVORABLE when Direction agrees with Input.HigherIsBetter,
	// UNFAVORABLE when it does not, NEUTRAL for gaps.
	Valence Valence
	// Value is the observed value (ANOMALY), the new level's median (CHANGE)
	// or the fitted value at EndDay (TREND); 0 for gaps.
	Value float64
	// Baseline is the comparison level: the trailing median (ANOMALY), the
	// previous level's median (CHANGE), the fitted value at Day (TREND), or
	// the median frozen before the gap (DATA_GAP, 0 when none).
	Baseline float64
	// Delta is Value − Baseline.
	Delta float64
	// Z is the standardized magnitude in robust SDs: robust z (ANOMALY),
	// shift/σ (CHANGE), fitted change over the window/σ (TREND); 0 for gaps.
	Z float64
	// SlopePerDay is the OLS slope in analysis units per day (TREND only).
	SlopePerDay float64
	// Detector is one of the Detector* names.
	Detector string
	// Thresholds maps each threshold applied (Threshold* names) to its value.
	Thresholds map[string]float64
	// Confidence is in [0, 1]. ANOMALY and TREND: 0.5 + 0.5·(1 − e^{−(s−t)})
	// for statistic s crossing threshold t (0.5 at the threshold). CHANGE:
	// (1 − e^{−n/14})·(1 − e^{−|Z|}) for n post-change valid days. DATA_GAP: 1
	// (an observed fact).
	Confidence float64
	// SampleSize is the number of valid days the finding rests on: the
	// baseline's valid days (ANOMALY), both segments (CHANGE), the window's
	// days used (TREND); 0 for gaps.
	SampleSize int
	// Coverage is SampleSize ÷ calendar days of the window, in [0, 1].
	Coverage float64
	// WindowFrom and WindowTo bound the data the finding used (inclusive).
	WindowFrom, WindowTo series.Day
	// FrozenBaseline reports that an ANOMALY was scored against a baseline
	// frozen before a data gap.
	FrozenBaseline bool
	// PValue is the two-sided p-value of the detector's test (normal
	// reference): robust z (ANOMALY), AR(1)-adjusted two-sample z (CHANGE),
	// AR(1)-adjusted slope z (TREND); 0 for DATA_GAP (an observed fact,
	// not a test). The evening's Benjamini–Hochberg step uses it.
	PValue float64
	// Span is the number of calendar days the estimate rests on: the
	// observed trend window (first to last valid day, inclusive) for TREND,
	// the post-change days for CHANGE; 0 otherwise.
	Span int
}

// Test is one hypothesis test run for the latest day: its p-value enters
// the evening's false-discovery control whether or not it yielded a finding.
type Test struct {
	// Kind is the finding kind the test can produce.
	Kind Kind
	// P is the test's two-sided p-value.
	P float64
}

// SourceValue is one source's value on a conflicting day.
type SourceValue struct {
	// Source is the key of Input.BySource (e.g. "oura").
	Source string
	// Value is the source's value that day, in metric units.
	Value float64
}

// Conflict is a day on which sources disagree beyond both tolerances.
type Conflict struct {
	// Day is the conflicting day.
	Day series.Day
	// Values lists every source's value that day, sorted by source name.
	Values []SourceValue
	// RelDiff is (max − min)/((|max|+|min|)/2) of the source values.
	RelDiff float64
	// AbsDiff is max − min in analysis units, and Scale the trailing
	// baseline's Scale it was compared with (analysis units).
	AbsDiff, Scale float64
}

// Result is the outcome of Run.
type Result struct {
	// Metric echoes Input.Metric.
	Metric string
	// AsOf is Input.AsOf truncated to its calendar day.
	AsOf series.Day
	// State is the overall state (see the package documentation).
	State State
	// StateReason explains State in one user-safe sentence.
	StateReason string
	// Baseline is the baseline as of AsOf (including AsOf), frozen when the
	// source is disconnected or a gap is being bridged.
	Baseline baseline.Baseline
	// RecentCoverage is the fraction of valid days in the last RecentDays.
	RecentCoverage float64
	// Findings are sorted by Day, then Kind, then Key.
	Findings []Finding
	// Conflicts lists every conflicting day in the history, by day.
	Conflicts []Conflict
	// Swings lists the excursions classified as rapid swings, by day; the
	// intervention planner uses them to suppress new experiments.
	Swings []Span
	// Tests are the tests run for AsOf (today's anomaly score, the trend
	// slope, the recent-shift test), including those that found nothing;
	// empty when the state allows no new insight.
	Tests []Test
}

// findingKey returns the stable key of a finding.
// CHANGE and TREND keys end in their direction (":up"/":down"): a reversal
// starting on the same day is a different finding.
func findingKey(kind Kind, metric string, day series.Day, dir Direction) string {
	k := fmt.Sprintf("%s:%s:%s", strings.ToLower(string(kind)), metric, day.Format(dateLayout))
	if kind == KindChange || kind == KindTrend {
		k += ":" + strings.ToLower(string(dir))
	}
	return k
}

const dateLayout = "2006-01-02"
