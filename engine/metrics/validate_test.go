package metrics_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// now is the injected clock of every test; observed is two hours earlier.
var (
	now      = time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)
	observed = time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC)
)

// sample returns a valid manual sample observed at 07:00 UTC on 2024-03-10.
func sample(metric string, value float64, unit string) metrics.Sample {
	return metrics.Sample{
		Metric: metric, Value: value, Unit: unit,
		ObservedAt: observed, LocalDay: "2024-03-10", UTCOffsetSeconds: 0,
		Source: metrics.SourceManual,
	}
}

// codes returns the "index:field:code" of every problem, in order.
func codes(r metrics.Result) []string {
	out := []string{}
	for _, p := range r.Problems {
		out = append(out, strconv.Itoa(p.Index)+":"+p.Field+":"+p.Code)
	}
	return out
}

func TestValidateBatchBoundaries(t *testing.T) {
	t.Parallel()
	const (
		ok     = "ok"
		reject = "reject"
		low    = metrics.FlagLow
		high   = metrics.FlagHigh
	)
	// Boundaries of docs/domain.md §1 "Range checks"; bounds are inclusive
	// except RMSSD/SDNN ≤ 0.
	tests := []struct {
		metric string
		value  float64
		unit   string
		want   string
	}{
		{metrics.KeyRestingHR, 24.99, "bpm", reject},
		{metrics.KeyRestingHR, 25, "bpm", low},
		{metrics.KeyRestingHR, 34.99, "bpm", low},
		{metrics.KeyRestingHR, 35, "bpm", ok},
		{metrics.KeyRestingHR, 100, "bpm", ok},
		{metrics.KeyRestingHR, 100.01, "bpm", high},
		{metrics.KeyRestingHR, 130, "bpm", high},
		{metrics.KeyRestingHR, 130.01, "bpm", reject},
		{metrics.KeyRestingHR, 200, "bpm", reject},
		{metrics.KeyHRVRMSSD, 0, "ms", reject},
		{metrics.KeyHRVRMSSD, -5, "ms", reject},
		{metrics.KeyHRVRMSSD, 0.0001, "ms", low},
		{metrics.KeyHRVRMSSD, 9.99, "ms", low},
		{metrics.KeyHRVRMSSD, 10, "ms", ok},
		{metrics.KeyHRVRMSSD, 200, "ms", ok},
		{metrics.KeyHRVRMSSD, 200.01, "ms", high},
		{metrics.KeyHRVRMSSD, 300, "ms", high},
		{metrics.KeyHRVRMSSD, 300.01, "ms", reject},
		{metrics.KeyHRVSDNN, 0, "ms", reject},
		{metrics.KeyHRVSDNN, 0.0001, "ms", low},
		{metrics.KeyHRVSDNN, 10, "ms", ok},
		{metrics.KeyHRVSDNN, 300, "ms", high},
		{metrics.KeyHRVSDNN, 300.01, "ms", reject},
		{metrics.KeySleepDuration, -1, "min", reject},
		{metrics.KeySleepDuration, 0, "min", low}, // a manual 0 is a real all-nighter
		{metrics.KeySleepDuration, 179.99, "min", low},
		{metrics.KeySleepDuration, 180, "min", ok},
		{metrics.KeySleepDuration, 3, "h", ok},
		{metrics.KeySleepDuration, 720, "min", ok},
		{metrics.KeySleepDuration, 720.01, "min", high},
		{metrics.KeySleepDuration, 960, "min", high},
		{metrics.KeySleepDuration, 16, "h", high},
		{metrics.KeySleepDuration, 960.01, "min", reject},
		{metrics.KeySleepDuration, 57_601, "s", reject},
		{metrics.KeySleepEfficiency, -0.01, "%", reject},
		{metrics.KeySleepEfficiency, 49.99, "%", low},
		{metrics.KeySleepEfficiency, 50, "%", ok},
		{metrics.KeySleepEfficiency, 0.5, "fraction", ok},
		{metrics.KeySleepEfficiency, 100, "%", ok},
		{metrics.KeySleepEfficiency, 100.01, "%", reject},
		{metrics.KeySleepEfficiency, 1.0001, "fraction", reject},
		{metrics.KeyRecoveryScore, -0.01, "score", reject},
		{metrics.KeyRecoveryScore, 0, "score", ok},
		{metrics.KeyRecoveryScore, 100, "%", ok},
		{metrics.KeyRecoveryScore, 100.01, "score", reject},
		{metrics.KeyReadinessScore, -0.01, "score", reject},
		{metrics.KeyReadinessScore, 100, "score", ok},
		{metrics.KeyReadinessScore, 100.01, "score", reject},
		{metrics.KeyStrain, -0.01, "score", reject},
		{metrics.KeyStrain, 0, "score", ok},
		{metrics.KeyStrain, 21, "score", ok},
		{metrics.KeyStrain, 21.01, "score", reject},
		{metrics.KeySteps, -1, "count", reject},
		{metrics.KeySteps, 0, "count", ok},
		{metrics.KeySteps, 50000, "count", ok},
		{metrics.KeySteps, 50001, "count", high},
		{metrics.KeySteps, 100000, "count", high},
		{metrics.KeySteps, 100001, "count", reject},
		{metrics.KeySkinTempDeviation, -5.01, "celsius", reject},
		{metrics.KeySkinTempDeviation, -5, "celsius", low},
		{metrics.KeySkinTempDeviation, -1.51, "celsius", low},
		{metrics.KeySkinTempDeviation, -1.5, "celsius", ok},
		{metrics.KeySkinTempDeviation, 0.6, "celsius", ok},
		{metrics.KeySkinTempDeviation, 0.61, "celsius", high},
		{metrics.KeySkinTempDeviation, 5, "celsius", high},
		{metrics.KeySkinTempDeviation, 9, "fahrenheit", high},      // 5 °C
		{metrics.KeySkinTempDeviation, 9.01, "fahrenheit", reject}, // 5.0056 °C
		{metrics.KeySkinTempDeviation, -2.7, "fahrenheit", ok},     // −1.5 °C
		{metrics.KeySkinTempDeviation, 5.01, "celsius", reject},
		{metrics.KeySkinTemperature, 29.99, "celsius", reject},
		{metrics.KeySkinTemperature, 30, "celsius", ok},
		{metrics.KeySkinTemperature, 40, "celsius", ok},
		{metrics.KeySkinTemperature, 104, "fahrenheit", ok},       // 40 °C
		{metrics.KeySkinTemperature, 104.1, "fahrenheit", reject}, // 40.06 °C
		{metrics.KeySkinTemperature, 40.01, "celsius", reject},
		{metrics.KeyRespiratoryRate, 5.99, "breaths/min", reject},
		{metrics.KeyRespiratoryRate, 6, "breaths/min", low},
		{metrics.KeyRespiratoryRate, 9.99, "breaths/min", low},
		{metrics.KeyRespiratoryRate, 10, "breaths/min", ok},
		{metrics.KeyRespiratoryRate, 25, "breaths/min", ok},
		{metrics.KeyRespiratoryRate, 25.01, "breaths/min", high},
		{metrics.KeyRespiratoryRate, 35, "breaths/min", high},
		{metrics.KeyRespiratoryRate, 35.01, "breaths/min", reject},
		{metrics.KeySpO2, -0.01, "percent", reject},
		{metrics.KeySpO2, 89.99, "percent", low},
		{metrics.KeySpO2, 90, "percent", ok},
		{metrics.KeySpO2, 100, "percent", ok},
		{metrics.KeySpO2, 100.01, "percent", reject},
		{metrics.KeySpO2, 0.89, "fraction", low}, // 89 %
	}
	for _, tc := range tests {
		name := tc.metric + "/" + strconv.FormatFloat(tc.value, 'g', -1, 64) + tc.unit
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := metrics.ValidateBatch([]metrics.Sample{sample(tc.metric, tc.value, tc.unit)}, now, metrics.Options{})
			if tc.want == reject {
				require.Equal(t, []string{"0:value:OUT_OF_RANGE"}, codes(r))
				require.Empty(t, r.Accepted)
				return
			}
			require.Empty(t, r.Problems)
			require.Len(t, r.Accepted, 1)
			c := r.Accepted[0]
			require.False(t, c.Missing)
			switch tc.want {
			case ok:
				require.Nil(t, c.Flags)
			default:
				require.Equal(t, []string{tc.want}, c.Flags)
			}
		})
	}
}

func TestValidateBatchAccepted(t *testing.T) {
	t.Parallel()
	s := sample(metrics.KeySleepDuration, 7.5, "Hours")
	r := metrics.ValidateBatch([]metrics.Sample{s}, now, metrics.Options{})
	require.NoError(t, r.Err())
	require.Equal(t, []metrics.Checked{{
		Index: 0, Sample: s, Value: 450, Unit: metrics.UnitMinute, Day: series.DayOf(2024, 3, 10),
	}}, r.Accepted)
}

func TestValidateBatchZerosAsMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		metric      string
		unit        string
		source      string
		wantMissing bool
		wantProblem string
	}{
		{"whoop rmssd", metrics.KeyHRVRMSSD, "ms", metrics.SourceWhoop, true, ""},
		{"apple sdnn", metrics.KeyHRVSDNN, "ms", metrics.SourceAppleHealth, true, ""},
		{"oura rhr", metrics.KeyRestingHR, "bpm", metrics.SourceOura, true, ""},
		{"fitbit sleep", metrics.KeySleepDuration, "min", metrics.SourceFitbit, true, ""},
		{"oura efficiency", metrics.KeySleepEfficiency, "%", metrics.SourceOura, true, ""},
		{"whoop recovery", metrics.KeyRecoveryScore, "score", metrics.SourceWhoop, true, ""},
		{"oura readiness", metrics.KeyReadinessScore, "score", metrics.SourceOura, true, ""},
		{"whoop respiratory", metrics.KeyRespiratoryRate, "breaths/min", metrics.SourceWhoop, true, ""},
		{"apple spo2 fraction", metrics.KeySpO2, "fraction", metrics.SourceAppleHealth, true, ""},
		{"oura skin temp in F", metrics.KeySkinTemperature, "°F", metrics.SourceOura, true, ""},
		{"steps zero is real", metrics.KeySteps, "count", metrics.SourceFitbit, false, ""},
		{"strain zero is real", metrics.KeyStrain, "score", metrics.SourceWhoop, false, ""},
		{"deviation zero is real", metrics.KeySkinTempDeviation, "celsius", metrics.SourceOura, false, ""},
		{"manual rmssd zero rejected", metrics.KeyHRVRMSSD, "ms", metrics.SourceManual, false, "0:value:OUT_OF_RANGE"},
		{"api rhr zero rejected", metrics.KeyRestingHR, "bpm", metrics.SourceAPI, false, "0:value:OUT_OF_RANGE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sample(tc.metric, 0, tc.unit)
			s.Source = tc.source
			r := metrics.ValidateBatch([]metrics.Sample{s}, now, metrics.Options{})
			if tc.wantProblem != "" {
				require.Equal(t, []string{tc.wantProblem}, codes(r))
				return
			}
			require.Empty(t, r.Problems)
			require.Len(t, r.Accepted, 1)
			c := r.Accepted[0]
			require.Equal(t, tc.wantMissing, c.Missing)
			require.Zero(t, c.Value)
			require.Nil(t, c.Flags)
		})
	}
}

func TestValidateBatchProblems(t *testing.T) {
	t.Parallel()
	rhr := func(mut func(*metrics.Sample)) metrics.Sample {
		s := sample(metrics.KeyRestingHR, 55, "bpm")
		mut(&s)
		return s
	}
	steps := func(mut func(*metrics.Sample)) metrics.Sample {
		s := sample(metrics.KeySteps, 8000, "count")
		mut(&s)
		return s
	}
	tests := []struct {
		name   string
		sample metrics.Sample
		want   []string
	}{
		{"NaN", rhr(func(s *metrics.Sample) { s.Value = math.NaN() }), []string{"0:value:NOT_FINITE"}},
		{"+Inf", rhr(func(s *metrics.Sample) { s.Value = math.Inf(1) }), []string{"0:value:NOT_FINITE"}},
		{"-Inf", rhr(func(s *metrics.Sample) { s.Value = math.Inf(-1) }), []string{"0:value:NOT_FINITE"}},
		{"negative HRV", metrics.Sample{
			Metric: metrics.KeyHRVRMSSD, Value: -12, Unit: "ms", ObservedAt: observed,
			LocalDay: "2024-03-10", Source: metrics.SourceWhoop,
		}, []string{"0:value:OUT_OF_RANGE"}},
		{"200 bpm", rhr(func(s *metrics.Sample) { s.Value = 200 }), []string{"0:value:OUT_OF_RANGE"}},
		{"unknown unit", rhr(func(s *metrics.Sample) { s.Unit = "furlongs" }), []string{"0:unit:BAD_UNIT"}},
		{"unit of another metric", rhr(func(s *metrics.Sample) { s.Unit = "ms" }), []string{"0:unit:BAD_UNIT"}},
		{
			"unknown unit and NaN", rhr(func(s *metrics.Sample) { s.Unit = "x"; s.Value = math.NaN() }),
			[]string{"0:unit:BAD_UNIT", "0:value:NOT_FINITE"},
		},
		{"unknown metric", rhr(func(s *metrics.Sample) { s.Metric = "vo2max" }), []string{"0:metric:UNKNOWN_METRIC"}},
		{"unknown metric still checks the rest", rhr(func(s *metrics.Sample) {
			s.Metric = "vo2max"
			s.ObservedAt = now.Add(time.Hour)
		}), []string{"0:metric:UNKNOWN_METRIC", "0:observedAt:FUTURE_TIMESTAMP"}},
		{"missing metric", rhr(func(s *metrics.Sample) { s.Metric = "" }), []string{"0:metric:MISSING_FIELD"}},
		{"missing unit", rhr(func(s *metrics.Sample) { s.Unit = "" }), []string{"0:unit:MISSING_FIELD"}},
		{"missing source", rhr(func(s *metrics.Sample) { s.Source = "" }), []string{"0:source:MISSING_FIELD"}},
		{"bad source", rhr(func(s *metrics.Sample) { s.Source = "garmin" }), []string{"0:source:BAD_SOURCE"}},
		{
			"missing observedAt", rhr(func(s *metrics.Sample) { s.ObservedAt = time.Time{} }),
			[]string{"0:observedAt:MISSING_FIELD"},
		},
		{"missing local day", rhr(func(s *metrics.Sample) { s.LocalDay = "" }), []string{"0:localDay:MISSING_FIELD"}},
		{"everything missing", metrics.Sample{}, []string{
			"0:metric:MISSING_FIELD", "0:source:MISSING_FIELD", "0:unit:MISSING_FIELD",
			"0:observedAt:MISSING_FIELD", "0:localDay:MISSING_FIELD",
		}},
		{
			"future beyond skew", rhr(func(s *metrics.Sample) { s.ObservedAt = now.Add(5*time.Minute + time.Nanosecond) }),
			[]string{"0:observedAt:FUTURE_TIMESTAMP"},
		},
		{"future within skew", rhr(func(s *metrics.Sample) { s.ObservedAt = now.Add(5 * time.Minute) }), []string{}},
		{
			"malformed local day", rhr(func(s *metrics.Sample) { s.LocalDay = "2024-3-10" }),
			[]string{"0:localDay:WRONG_LOCAL_DAY"},
		},
		{
			"impossible local day", rhr(func(s *metrics.Sample) { s.LocalDay = "2024-02-30" }),
			[]string{"0:localDay:WRONG_LOCAL_DAY"},
		},
		{
			"local day after", rhr(func(s *metrics.Sample) { s.LocalDay = "2024-03-11" }),
			[]string{"0:localDay:WRONG_LOCAL_DAY"},
		},
		{"night-derived day before", rhr(func(s *metrics.Sample) { s.LocalDay = "2024-03-09" }), []string{}},
		{
			"night-derived two days before", rhr(func(s *metrics.Sample) { s.LocalDay = "2024-03-08" }),
			[]string{"0:localDay:WRONG_LOCAL_DAY"},
		},
		{
			"daytime metric day before", steps(func(s *metrics.Sample) { s.LocalDay = "2024-03-09" }),
			[]string{"0:localDay:WRONG_LOCAL_DAY"},
		},
		{"negative offset crosses midnight", steps(func(s *metrics.Sample) {
			s.ObservedAt = time.Date(2024, 3, 10, 3, 30, 0, 0, time.UTC) // 22:30 on the 9th in New York (EST)
			s.UTCOffsetSeconds = -5 * 3600
			s.LocalDay = "2024-03-09"
		}), []string{}},
		{"negative offset UTC date is wrong", steps(func(s *metrics.Sample) {
			s.ObservedAt = time.Date(2024, 3, 10, 3, 30, 0, 0, time.UTC)
			s.UTCOffsetSeconds = -5 * 3600
		}), []string{"0:localDay:WRONG_LOCAL_DAY"}},
		{"offset +14h", steps(func(s *metrics.Sample) {
			s.ObservedAt = time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC) // 02:00 on the 10th in Kiribati
			s.UTCOffsetSeconds = 14 * 3600
		}), []string{}},
		{
			"offset beyond +14h", steps(func(s *metrics.Sample) { s.UTCOffsetSeconds = 14*3600 + 1 }),
			[]string{"0:utcOffsetSeconds:BAD_OFFSET"},
		},
		{
			"offset beyond -14h", steps(func(s *metrics.Sample) { s.UTCOffsetSeconds = -14*3600 - 1 }),
			[]string{"0:utcOffsetSeconds:BAD_OFFSET"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := metrics.ValidateBatch([]metrics.Sample{tc.sample}, now, metrics.Options{})
			require.Equal(t, tc.want, codes(r))
			if len(tc.want) == 0 {
				require.Len(t, r.Accepted, 1)
				require.NoError(t, r.Err())
			} else {
				require.Empty(t, r.Accepted)
			}
		})
	}
}

func TestValidateBatchMessages(t *testing.T) {
	t.Parallel()
	s0 := sample(metrics.KeyRestingHR, 24.99, "bpm")
	s1 := sample(metrics.KeySleepDuration, 17, "h")
	s2 := sample(metrics.KeyRestingHR, 55, "mmHg")
	s2.ObservedAt = observed.Add(-time.Hour)
	s3 := sample(metrics.KeySteps, 10, "count")
	s3.LocalDay = "2024-03-09"
	s4 := sample(metrics.KeyHRVRMSSD, 40, "ms")
	s4.LocalDay = "2024-03-11"
	r := metrics.ValidateBatch([]metrics.Sample{s0, s1, s2, s3, s4, s4}, now, metrics.Options{})
	msgs := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		msgs[i] = p.Message
	}
	require.Equal(t, []string{
		"value 24.99 bpm is outside the accepted range [25, 130] bpm",
		"value 17 h (1020 min) is outside the accepted range [0, 960] min",
		`unit "mmHg" is not accepted for resting_hr; use one of: bpm`,
		"localDay 2024-03-09 does not match observedAt 2024-03-10T07:00:00Z; expected 2024-03-10",
		"localDay 2024-03-11 does not match observedAt 2024-03-10T07:00:00Z; expected 2024-03-10 or 2024-03-09",
		"localDay 2024-03-11 does not match observedAt 2024-03-10T07:00:00Z; expected 2024-03-10 or 2024-03-09",
		"duplicate of sample 4 (same metric, source, local day and observedAt)",
	}, msgs)
}

func TestValidateBatchSeveralProblems(t *testing.T) {
	t.Parallel()
	good := sample(metrics.KeyRestingHR, 55, "bpm")
	dup := good
	dup.Value = 56 // same identity, different value: still a duplicate
	otherSource := good
	otherSource.Source = metrics.SourceOura
	sameInstantOtherZone := good
	sameInstantOtherZone.ObservedAt = observed.In(time.FixedZone("CET", 3600))
	batch := []metrics.Sample{
		good, // 0 ok
		sample(metrics.KeyHRVRMSSD, math.NaN(), "ms"), // 1 NaN
		otherSource, // 2 ok: another source
		sample(metrics.KeySteps, 8000, "parsecs"), // 3 bad unit
		dup,                                      // 4 duplicate of 0
		sample(metrics.KeySleepDuration, 7, "h"), // 5 future (set below)
		sameInstantOtherZone,                     // 6 duplicate of 0
		sample("mood", 3, "score"),               // 7 unknown metric
		sample(metrics.KeyRestingHR, 131, "beats/min"), // 8 out of range
	}
	batch[5].ObservedAt = now.Add(time.Hour)       // 10:00 UTC, still 2024-03-10
	batch[8].ObservedAt = observed.Add(-time.Hour) // not a duplicate of 0
	r := metrics.ValidateBatch(batch, now, metrics.Options{})
	require.Equal(t, []string{
		"1:value:NOT_FINITE",
		"3:unit:BAD_UNIT",
		"4::DUPLICATE_IN_BATCH",
		"5:observedAt:FUTURE_TIMESTAMP",
		"6::DUPLICATE_IN_BATCH",
		"7:metric:UNKNOWN_METRIC",
		"8:value:OUT_OF_RANGE",
	}, codes(r))
	idx := []int{}
	for _, c := range r.Accepted {
		idx = append(idx, c.Index)
	}
	require.Equal(t, []int{0, 2}, idx)

	err := r.Err()
	require.Error(t, err)
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	require.Equal(t, "the sample batch was refused: 7 problems", engine.ErrorMessage(err))
	var e *engine.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, r.Problems, e.Details["problems"])
}

func TestValidateBatchSize(t *testing.T) {
	t.Parallel()
	batch := func(n int) []metrics.Sample {
		out := make([]metrics.Sample, n)
		for i := range out {
			out[i] = sample(metrics.KeySteps, float64(i), "count")
			out[i].ObservedAt = observed.Add(-time.Duration(i) * time.Second)
		}
		return out
	}
	tests := []struct {
		name     string
		n        int
		opts     metrics.Options
		want     []string
		accepted int
	}{
		{"1000 with defaults", 1000, metrics.Options{}, []string{}, 1000},
		{"1001 with defaults", 1001, metrics.Options{}, []string{"-1::BATCH_TOO_LARGE"}, 0},
		{"negative max is the default", 1001, metrics.Options{MaxBatch: -1}, []string{"-1::BATCH_TOO_LARGE"}, 0},
		{"custom max", 3, metrics.Options{MaxBatch: 2}, []string{"-1::BATCH_TOO_LARGE"}, 0},
		{"empty", 0, metrics.Options{}, []string{"-1::EMPTY_BATCH"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := metrics.ValidateBatch(batch(tc.n), now, tc.opts)
			require.Equal(t, tc.want, codes(r))
			require.Len(t, r.Accepted, tc.accepted)
		})
	}
	r := metrics.ValidateBatch(nil, now, metrics.Options{})
	require.Equal(t, []string{"-1::EMPTY_BATCH"}, codes(r))
	require.Equal(t, "the sample batch was refused: 1 problem", engine.ErrorMessage(r.Err()))
}

func TestValidateBatchFutureSkewOption(t *testing.T) {
	t.Parallel()
	s := sample(metrics.KeySteps, 10, "count")
	s.ObservedAt = now.Add(time.Minute)
	r := metrics.ValidateBatch([]metrics.Sample{s}, now, metrics.Options{MaxFutureSkew: time.Second})
	require.Equal(t, []string{"0:observedAt:FUTURE_TIMESTAMP"}, codes(r))
	r = metrics.ValidateBatch([]metrics.Sample{s}, now, metrics.Options{MaxFutureSkew: time.Minute})
	require.Empty(t, r.Problems)
}
