package metrics_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

func mustLookup(tb testing.TB, key string) metrics.Metric {
	tb.Helper()
	m, ok := metrics.Lookup(key)
	require.True(tb, ok, "metric %q is not registered", key)
	return m
}

func TestConvert(t *testing.T) {
	t.Parallel()
	// Every value is hand-computed.
	tests := []struct {
		name   string
		metric string
		value  float64
		unit   string
		want   float64
	}{
		{"sleep hours", metrics.KeySleepDuration, 7.5, "h", 450},            // 7.5 × 60
		{"sleep hours alias", metrics.KeySleepDuration, 8, "Hours", 480},    // 8 × 60
		{"sleep seconds", metrics.KeySleepDuration, 27000, "s", 450},        // 27000 ÷ 60
		{"sleep sec alias", metrics.KeySleepDuration, 90, " sec ", 1.5},     // 90 ÷ 60
		{"sleep minutes", metrics.KeySleepDuration, 450, "min", 450},        // identity
		{"sleep ms", metrics.KeySleepDuration, 27_000_000, "ms", 450},       // 27e6 ÷ 60000 (WHOOP *_milli)
		{"sleep hr alias", metrics.KeySleepDuration, 0.25, "hr", 15},        // 0.25 × 60
		{"skin temp 98.6F", metrics.KeySkinTemperature, 98.6, "°F", 37},     // (98.6 − 32) × 5/9
		{"skin temp 95F", metrics.KeySkinTemperature, 95, "fahrenheit", 35}, // (95 − 32) × 5/9
		{"skin temp 104F", metrics.KeySkinTemperature, 104, "degF", 40},     // (104 − 32) × 5/9
		{"skin temp celsius", metrics.KeySkinTemperature, 33.5, "°C", 33.5},
		{"deviation +0.9F", metrics.KeySkinTempDeviation, 0.9, "°F", 0.5},                  // 0.9 × 5/9, no offset
		{"deviation -2.7F", metrics.KeySkinTempDeviation, -2.7, "f", -1.5},                 // Oura's −2.7 °F
		{"deviation +1.1F", metrics.KeySkinTempDeviation, 1.1, "degf", 0.6111111111111112}, // 1.1 × 5/9 = 0.6111…
		{"deviation celsius", metrics.KeySkinTempDeviation, -0.3, "celsius", -0.3},
		{"efficiency fraction", metrics.KeySleepEfficiency, 0.87, "fraction", 87}, // 0.87 × 100
		{"efficiency percent", metrics.KeySleepEfficiency, 92, "%", 92},
		{"spo2 fraction", metrics.KeySpO2, 0.97, "ratio", 97}, // HealthKit reports a fraction
		{"spo2 percent", metrics.KeySpO2, 96, "percent", 96},
		{"rhr count/min", metrics.KeyRestingHR, 55, "count/min", 55}, // HealthKit unit
		{"rhr beats/min", metrics.KeyRestingHR, 55, "Beats/Min", 55},
		{"rhr bpm", metrics.KeyRestingHR, 61, "bpm", 61},
		{"respiratory count/min", metrics.KeyRespiratoryRate, 14.5, "count/min", 14.5},
		{"respiratory brpm", metrics.KeyRespiratoryRate, 15, "brpm", 15},
		{"rmssd ms", metrics.KeyHRVRMSSD, 45, "ms", 45},
		{"sdnn msec", metrics.KeyHRVSDNN, 52, "msec", 52},
		{"recovery percent", metrics.KeyRecoveryScore, 67, "%", 67},
		{"recovery score", metrics.KeyRecoveryScore, 34, "score", 34},
		{"readiness score", metrics.KeyReadinessScore, 80, "score", 80},
		{"strain score", metrics.KeyStrain, 14.2, "score", 14.2},
		{"steps", metrics.KeySteps, 8000, "steps", 8000},
		{"steps count", metrics.KeySteps, 12345, "count", 12345},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.metric] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := metrics.Convert(mustLookup(t, tc.metric), tc.value, tc.unit)
			require.NoError(t, err)
			require.InDelta(t, tc.want, got, 1e-9)
		})
	}
	for _, m := range metrics.All() {
		require.True(t, covered[m.Key], "no conversion case for %s", m.Key)
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		metric string
		value  float64
		unit   string
	}{
		{"rhr in breaths", metrics.KeyRestingHR, 60, "breaths/min"},
		{"respiratory in bpm", metrics.KeyRespiratoryRate, 14, "bpm"},
		{"rmssd in seconds", metrics.KeyHRVRMSSD, 0.05, "s"},
		{"steps in percent", metrics.KeySteps, 10, "%"},
		{"empty unit", metrics.KeySleepDuration, 400, ""},
		{"unknown unit", metrics.KeySleepDuration, 400, "fortnights"},
		{"NaN", metrics.KeySleepDuration, math.NaN(), "min"},
		{"+Inf", metrics.KeySleepDuration, math.Inf(1), "min"},
		{"-Inf", metrics.KeySleepDuration, math.Inf(-1), "h"},
		{"overflow", metrics.KeySleepDuration, math.MaxFloat64, "h"},
		{"zero metric", "", 1, "min"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := metrics.Lookup(tc.metric) // zero Metric for "" accepts no unit
			_, err := metrics.Convert(m, tc.value, tc.unit)
			require.Error(t, err)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		})
	}
}

func TestConvertToInverts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		metric    string
		canonical float64
		unit      string
		want      float64
	}{
		{"min to h", metrics.KeySleepDuration, 450, "h", 7.5},
		{"min to s", metrics.KeySleepDuration, 450, "s", 27000},
		{"min to ms", metrics.KeySleepDuration, 450, "ms", 27_000_000},
		{"celsius to F", metrics.KeySkinTemperature, 37, "fahrenheit", 98.6},
		{"deviation to F", metrics.KeySkinTempDeviation, 0.5, "fahrenheit", 0.9},
		{"percent to fraction", metrics.KeySpO2, 97, "fraction", 0.97},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := metrics.ConvertTo(mustLookup(t, tc.metric), tc.canonical, tc.unit)
			require.NoError(t, err)
			require.InDelta(t, tc.want, got, 1e-9)
		})
	}
	t.Run("bad unit", func(t *testing.T) {
		t.Parallel()
		_, err := metrics.ConvertTo(mustLookup(t, metrics.KeySteps), 10, "h")
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	})
	t.Run("NaN", func(t *testing.T) {
		t.Parallel()
		_, err := metrics.ConvertTo(mustLookup(t, metrics.KeySteps), math.NaN(), "count")
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	})
	t.Run("overflow", func(t *testing.T) {
		t.Parallel()
		_, err := metrics.ConvertTo(mustLookup(t, metrics.KeySleepDuration), math.MaxFloat64, "ms")
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	})
}

func TestRange(t *testing.T) {
	t.Parallel()
	rmssd := mustLookup(t, metrics.KeyHRVRMSSD).RejectOutside
	tests := []struct {
		name string
		r    metrics.Range
		v    float64
		want bool
	}{
		{"exclusive min excluded", rmssd, 0, false},
		{"just above exclusive min", rmssd, 0.0001, true},
		{"inclusive max", rmssd, 300, true},
		{"above max", rmssd, 300.0001, false},
		{"NaN", rmssd, math.NaN(), false},
		{"+Inf", rmssd, math.Inf(1), false},
		{"exclusive max", metrics.Range{Min: 0, Max: 1, MaxExclusive: true}, 1, false},
		{"unbounded", metrics.Range{Min: math.Inf(-1), Max: math.Inf(1)}, -1e300, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.r.Contains(tc.v))
		})
	}
	require.Equal(t, "(0, 300]", rmssd.String())
	require.Equal(t, "[50, +Inf)", mustLookup(t, metrics.KeySleepEfficiency).FlagOutside.String())
	require.Equal(t, "(-Inf, 50000]", mustLookup(t, metrics.KeySteps).FlagOutside.String())
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	all := metrics.All()
	keys := make([]string, len(all))
	for i, m := range all {
		keys[i] = m.Key
	}
	require.Equal(t, []string{
		"hrv_rmssd", "hrv_sdnn", "readiness_score", "recovery_score", "respiratory_rate",
		"resting_hr", "skin_temp_deviation", "skin_temperature", "sleep_duration",
		"sleep_efficiency", "spo2", "steps", "strain",
	}, keys)

	var zeroMissing, night, ln []string
	for _, m := range all {
		t.Run(m.Key, func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, m.Name)
			require.Equal(t, metrics.DefaultLagDays, m.LagDays)
			require.NotEmpty(t, m.Units)
			c := m.Units[0]
			require.Equal(t, m.CanonicalUnit, c.Token, "canonical unit first")
			require.Equal(t, metrics.Unit{Token: c.Token, Aliases: c.Aliases, Num: 1, Den: 1}, c)
			// Every spelling resolves to exactly one accepted unit.
			seen := map[string]string{}
			for _, u := range m.Units {
				require.Positive(t, u.Num)
				require.Positive(t, u.Den)
				for _, s := range append([]string{u.Token}, u.Aliases...) {
					require.Equal(t, strings.ToLower(strings.TrimSpace(s)), s, "spellings are stored normalized")
					prev, dup := seen[s]
					require.False(t, dup, "%q names both %s and %s", s, prev, u.Token)
					seen[s] = u.Token
				}
			}
			require.LessOrEqual(t, m.RejectOutside.Min, m.RejectOutside.Max)
		})
		if m.ZeroMeansMissing {
			zeroMissing = append(zeroMissing, m.Key)
		}
		if m.NightDerived {
			night = append(night, m.Key)
		}
		if m.LnTransform {
			ln = append(ln, m.Key)
		}
	}
	require.Equal(t, []string{
		"hrv_rmssd", "hrv_sdnn", "readiness_score", "recovery_score", "respiratory_rate",
		"resting_hr", "skin_temperature", "sleep_duration", "sleep_efficiency", "spo2",
	}, zeroMissing)
	require.Equal(t, []string{
		"hrv_rmssd", "hrv_sdnn", "readiness_score", "recovery_score", "respiratory_rate",
		"resting_hr", "skin_temp_deviation", "skin_temperature", "sleep_duration", "sleep_efficiency",
	}, night)
	require.Equal(t, []string{"hrv_rmssd", "hrv_sdnn"}, ln)
	require.Equal(t, metrics.LowerIsBetter, mustLookup(t, metrics.KeyRestingHR).Direction)
	require.Equal(t, metrics.HigherIsBetter, mustLookup(t, metrics.KeyHRVRMSSD).Direction)
	require.Equal(t, metrics.Neutral, mustLookup(t, metrics.KeyStrain).Direction)
}

func TestLookupReturnsCopies(t *testing.T) {
	t.Parallel()
	m := mustLookup(t, metrics.KeySleepDuration)
	m.Units[0].Token = "mutated"
	m.Units[1].Aliases[0] = "mutated"
	again := mustLookup(t, metrics.KeySleepDuration)
	require.Equal(t, metrics.UnitMinute, again.Units[0].Token)
	require.False(t, slices.Contains(again.Units[1].Aliases, "mutated"))

	_, ok := metrics.Lookup("Resting_HR")
	require.False(t, ok, "keys are case-sensitive")
}
