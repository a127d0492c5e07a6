package providers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// ouraSleep returns an Oura v2 sleep document; durations in seconds.
func ouraSleep(id, day, start, end, typ string, total, inBed int) string {
	deep, rem := total/5, total/4
	light := total - deep - rem
	return `{
      "id": "` + id + `",
      "average_breath": 14.875,
      "average_heart_rate": 58.125,
      "average_hrv": 48,
      "awake_time": ` + itoa(int64(max(0, inBed-total))) + `,
      "bedtime_end": "` + end + `",
      "bedtime_start": "` + start + `",
      "day": "` + day + `",
      "deep_sleep_duration": ` + itoa(int64(deep)) + `,
      "efficiency": 91,
      "latency": 600,
      "light_sleep_duration": ` + itoa(int64(light)) + `,
      "lowest_heart_rate": 52,
      "period": 0,
      "readiness_score_delta": 1,
      "rem_sleep_duration": ` + itoa(int64(rem)) + `,
      "restless_periods": 220,
      "sleep_phase_5_min": "4422222233",
      "sleep_score_delta": 0,
      "time_in_bed": ` + itoa(int64(inBed)) + `,
      "total_sleep_duration": ` + itoa(int64(total)) + `,
      "type": "` + typ + `"
    }`
}

func ouraPage(records ...string) string {
	return `{"data": [` + strings.Join(records, ",") + `], "next_token": null}`
}

const ouraReadiness = `{
      "id": "8f6a2b1e-readiness",
      "contributors": {"activity_balance": 81, "body_temperature": 100, "hrv_balance": 74, "previous_day_activity": 90, "previous_night": 77, "recovery_index": 100, "resting_heart_rate": 94, "sleep_balance": 82},
      "day": "2026-03-08",
      "score": 82,
      "temperature_deviation": -0.21,
      "temperature_trend_deviation": 0.04,
      "timestamp": "2026-03-08T00:00:00.000-05:00"
    }`

func TestParseOuraSleep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		record     string
		wantDay    string
		wantOffset int
		wantEnd    time.Time
		wantMin    float64
		wantSkip   string
	}{
		{
			name:   "long sleep, EST",
			record: ouraSleep("s1", "2026-03-03", "2026-03-02T23:20:00-05:00", "2026-03-03T06:50:00-05:00", "long_sleep", 25200, 27000),
			// 25 200 s ÷ 60
			wantDay: "2026-03-03", wantOffset: -18000, wantEnd: time.Date(2026, 3, 3, 11, 50, 0, 0, time.UTC), wantMin: 420,
		},
		{
			name:    "seconds to minutes",
			record:  ouraSleep("s1", "2026-03-03", "2026-03-02T23:20:00-05:00", "2026-03-03T06:50:00-05:00", "long_sleep", 25203, 27000),
			wantDay: "2026-03-03", wantOffset: -18000, wantEnd: time.Date(2026, 3, 3, 11, 50, 0, 0, time.UTC), wantMin: 420.05,
		},
		{
			name:    "DST spring-forward night",
			record:  ouraSleep("s1", "2026-03-08", "2026-03-07T23:30:00-05:00", "2026-03-08T07:00:00-04:00", "long_sleep", 22800, 23400),
			wantDay: "2026-03-08", wantOffset: -14400, wantEnd: time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC), wantMin: 380,
		},
		{
			name:     "short sleep skipped",
			record:   ouraSleep("s1", "2026-03-03", "2026-03-03T14:00:00-05:00", "2026-03-03T14:40:00-05:00", "sleep", 2100, 2400),
			wantSkip: `type "sleep"`,
		},
		{
			name:     "late nap skipped",
			record:   ouraSleep("s1", "2026-03-03", "2026-03-03T18:00:00-05:00", "2026-03-03T18:30:00-05:00", "late_nap", 1500, 1800),
			wantSkip: `type "late_nap"`,
		},
		{
			name:     "time in bed below total sleep",
			record:   ouraSleep("s1", "2026-03-03", "2026-03-02T23:20:00-05:00", "2026-03-03T06:50:00-05:00", "long_sleep", 25200, 25000),
			wantSkip: "time_in_bed",
		},
		{
			name:     "bad bedtime",
			record:   ouraSleep("s1", "2026-03-03", "yesterday", "2026-03-03T06:50:00-05:00", "long_sleep", 25200, 27000),
			wantSkip: "bedtime_start",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.ParseOura([]byte(ouraPage(tt.record)))
			require.NoError(t, err)
			validate(t, res.Samples)
			if tt.wantSkip != "" {
				require.Empty(t, res.Samples)
				require.Len(t, res.Skipped, 1)
				require.Equal(t, "sleep/s1", res.Skipped[0].RecordID)
				require.Contains(t, res.Skipped[0].Reason, tt.wantSkip)
				return
			}
			require.Empty(t, res.Skipped)
			require.Len(t, res.Samples, 5)
			got := sampleMap(res.Samples)
			d := got[metrics.KeySleepDuration]
			require.InDelta(t, tt.wantMin, d.Value, 1e-9)
			require.Equal(t, tt.wantDay, d.LocalDay)
			require.Equal(t, tt.wantOffset, d.UTCOffsetSeconds)
			require.True(t, tt.wantEnd.Equal(d.ObservedAt))
			require.Equal(t, metrics.SourceOura, d.Source)
			require.InDelta(t, 48.0, got[metrics.KeyHRVRMSSD].Value, 0)
			require.InDelta(t, 52.0, got[metrics.KeyRestingHR].Value, 0)
			require.InDelta(t, 91.0, got[metrics.KeySleepEfficiency].Value, 0)
			require.InDelta(t, 14.875, got[metrics.KeyRespiratoryRate].Value, 0)
		})
	}
}

func TestParseOuraReadiness(t *testing.T) {
	t.Parallel()
	sleep := ouraSleep("s1", "2026-03-08", "2026-03-07T23:30:00-05:00", "2026-03-08T07:00:00-04:00", "long_sleep", 22800, 23400)
	tests := []struct {
		name       string
		payload    string
		wantAt     time.Time
		wantOffset int
	}{
		{
			name:    "linked to the long sleep of its day",
			payload: `{"sleep": ` + ouraPage(sleep) + `, "daily_readiness": ` + ouraPage(ouraReadiness) + `}`,
			wantAt:  time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC), wantOffset: -14400,
		},
		{
			name:    "alone: at its timestamp",
			payload: ouraPage(ouraReadiness),
			wantAt:  time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC), wantOffset: -18000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.ParseOura([]byte(tt.payload))
			require.NoError(t, err)
			validate(t, res.Samples)
			got := sampleMap(res.Samples)
			for metric, want := range map[string]float64{metrics.KeyReadinessScore: 82, metrics.KeySkinTempDeviation: -0.21} {
				s, ok := got[metric]
				require.True(t, ok, metric)
				require.InDelta(t, want, s.Value, 1e-12)
				require.Equal(t, "2026-03-08", s.LocalDay)
				require.Equal(t, tt.wantOffset, s.UTCOffsetSeconds)
				require.True(t, tt.wantAt.Equal(s.ObservedAt), "%v", s.ObservedAt)
			}
		})
	}
}

func TestParseOuraActivityAndNulls(t *testing.T) {
	t.Parallel()
	payload := ouraPage(
		`{"id": "a1", "day": "2026-03-03", "steps": 8123, "timestamp": "2026-03-03T04:00:00.000-05:00"}`,
		`{"id": "r1", "day": "2026-03-04", "score": null, "temperature_deviation": null, "timestamp": "2026-03-04T00:00:00-05:00"}`,
	)
	res, err := providers.ParseOura([]byte(payload))
	require.NoError(t, err)
	validate(t, res.Samples)
	require.Len(t, res.Samples, 1)
	require.Equal(t, metrics.KeySteps, res.Samples[0].Metric)
	require.InDelta(t, 8123.0, res.Samples[0].Value, 0)
	require.Equal(t, "2026-03-03", res.Samples[0].LocalDay)
}

func TestParseOuraMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload string }{
		{"not JSON", `day,score`},
		{"data not an array", `{"data": {}}`},
		{"duration of the wrong type", `{"data": [{"id": "s", "bedtime_end": "x", "total_sleep_duration": "7h"}]}`},
		{"unrecognised record", `{"data": [{"id": "x", "day": "2026-03-03"}]}`},
		{"no known member", `{"heartrate": {"data": []}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.ParseOura([]byte(tt.payload))
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		})
	}
}

func TestParseHealthKit(t *testing.T) {
	t.Parallel()
	payload := `{"statistics": [
	  {"type": "HKQuantityTypeIdentifierStepCount", "start": "2026-03-08T00:00:00-05:00", "end": "2026-03-09T00:00:00-04:00", "sum": 10432, "unit": "count"},
	  {"type": "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "start": "2026-03-08T00:00:00-05:00", "end": "2026-03-09T00:00:00-04:00", "average": 52.25, "unit": "ms"},
	  {"type": "HKQuantityTypeIdentifierRestingHeartRate", "start": "2026-03-08T00:00:00-05:00", "end": "2026-03-09T00:00:00-04:00", "average": 57, "unit": "count/min"},
	  {"type": "HKQuantityTypeIdentifierHeartRateVariabilityRMSSD", "start": "2026-03-08T00:00:00-05:00", "average": 40, "unit": "ms"},
	  {"type": "HKQuantityTypeIdentifierStepCount", "start": "2026-03-09T00:00:00-04:00", "unit": "count"},
	  {"type": "HKQuantityTypeIdentifierBodyMass", "start": "2026-03-09T00:00:00-04:00", "average": 70, "unit": "kg"}
	]}`
	res, err := providers.ParseHealthKit([]byte(payload))
	require.NoError(t, err)
	validate(t, res.Samples)
	got := sampleMap(res.Samples)
	require.Len(t, res.Samples, 3)
	require.InDelta(t, 10432.0, got[metrics.KeySteps].Value, 0)
	require.InDelta(t, 52.25, got[metrics.KeyHRVSDNN].Value, 0)
	require.InDelta(t, 57.0, got[metrics.KeyRestingHR].Value, 0)
	_, rmssd := got[metrics.KeyHRVRMSSD]
	require.False(t, rmssd, "HealthKit SDNN must never become RMSSD")
	for _, s := range res.Samples {
		require.Equal(t, "2026-03-08", s.LocalDay)
		require.Equal(t, metrics.SourceAppleHealth, s.Source)
	}
	require.Len(t, res.Skipped, 3)
	require.Contains(t, res.Skipped[0].Reason, "RMSSD")

	_, err = providers.ParseHealthKit([]byte(`{"samples": []}`))
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
}
