package providers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// whoopSleep returns a WHOOP v2 sleep record; stages are light, SWS, REM
// and in-bed milliseconds.
func whoopSleep(id, start, end, offset, state string, nap bool, light, sws, rem, inBed int64) string {
	napS := "false"
	if nap {
		napS = "true"
	}
	score := "null"
	if state == providers.WhoopScored {
		score = `{
        "stage_summary": {
          "total_in_bed_time_milli": ` + itoa(inBed) + `,
          "total_awake_time_milli": ` + itoa(max(0, inBed-light-sws-rem)) + `,
          "total_no_data_time_milli": 0,
          "total_light_sleep_time_milli": ` + itoa(light) + `,
          "total_slow_wave_sleep_time_milli": ` + itoa(sws) + `,
          "total_rem_sleep_time_milli": ` + itoa(rem) + `,
          "sleep_cycle_count": 4,
          "disturbance_count": 9
        },
        "sleep_needed": {"baseline_milli": 27395716, "need_from_sleep_debt_milli": 352230, "need_from_recent_strain_milli": 208595, "need_from_recent_nap_milli": -12312},
        "respiratory_rate": 14.6,
        "sleep_performance_percentage": 98,
        "sleep_consistency_percentage": 90,
        "sleep_efficiency_percentage": 91.69533
      }`
	}
	return `{
      "id": "` + id + `",
      "cycle_id": 93845,
      "user_id": 10129,
      "created_at": "2026-03-03T12:30:00.000Z",
      "updated_at": "2026-03-03T12:30:00.000Z",
      "start": "` + start + `",
      "end": "` + end + `",
      "timezone_offset": "` + offset + `",
      "nap": ` + napS + `,
      "score_state": "` + state + `",
      "score": ` + score + `
    }`
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func page(records ...string) string {
	return `{"records": [` + strings.Join(records, ",") + `], "next_token": null}`
}

// validate checks that every sample passes the registry's validation.
func validate(tb testing.TB, samples []metrics.Sample) {
	tb.Helper()
	if len(samples) == 0 {
		return
	}
	r := metrics.ValidateBatch(samples, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), metrics.Options{})
	require.NoError(tb, r.Err())
}

func sampleMap(samples []metrics.Sample) map[string]metrics.Sample {
	out := map[string]metrics.Sample{}
	for _, s := range samples {
		out[s.Metric] = s
	}
	return out
}

const sleepID = "ecfc6a15-4661-442f-a9a4-f160dd7afae8"

func TestParseWHOOPSleep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		record     string
		wantDay    string
		wantOffset int
		wantEnd    time.Time
		wantMin    float64 // sleep_duration; 0 = no samples expected
		wantSkip   string  // substring of the skip reason; "" = no skip
	}{
		{
			name: "scored main sleep, EST",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000),
			wantDay: "2026-03-03", wantOffset: -18000, wantEnd: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
			wantMin: 440, // (14 400 000 + 5 400 000 + 6 600 000) ms ÷ 60 000
		},
		{
			name: "milliseconds that are an exact thousandth of a minute",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopScored, false, 14_400_060, 5_400_000, 6_600_000, 27_000_000),
			wantDay: "2026-03-03", wantOffset: -18000, wantEnd: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
			wantMin: 440.001,
		},
		{
			// Spring forward in America/New_York: bed 23:00 EST on Mar 7,
			// wake 07:00 EDT on Mar 8; 7 real hours.
			name: "DST spring-forward night, end offset",
			record: whoopSleep(sleepID, "2026-03-08T04:00:00.000Z", "2026-03-08T11:00:00.000Z", "-04:00",
				providers.WhoopScored, false, 12_600_000, 4_800_000, 5_400_000, 25_200_000),
			wantDay: "2026-03-08", wantOffset: -14400, wantEnd: time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC),
			wantMin: 380,
		},
		{
			name: "DST spring-forward night, start offset",
			record: whoopSleep(sleepID, "2026-03-08T04:00:00.000Z", "2026-03-08T11:00:00.000Z", "-05:00",
				providers.WhoopScored, false, 12_600_000, 4_800_000, 5_400_000, 25_200_000),
			wantDay: "2026-03-08", wantOffset: -18000, wantEnd: time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC),
			wantMin: 380,
		},
		{
			// 22:30 UTC on Mar 2 is 07:30 on Mar 3 in Tokyo.
			name: "east of UTC: wake day is the next UTC date",
			record: whoopSleep(sleepID, "2026-03-02T14:00:00.000Z", "2026-03-02T22:30:00.000Z", "+09:00",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 28_800_000),
			wantDay: "2026-03-03", wantOffset: 32400, wantEnd: time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC),
			wantMin: 440,
		},
		{
			name: "offset without a colon",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-0500",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000),
			wantDay: "2026-03-03", wantOffset: -18000, wantEnd: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
			wantMin: 440,
		},
		{
			name: "nap dropped",
			record: whoopSleep(sleepID, "2026-03-03T19:00:00.000Z", "2026-03-03T19:40:00.000Z", "-05:00",
				providers.WhoopScored, true, 1_200_000, 600_000, 300_000, 2_400_000),
			wantSkip: "nap",
		},
		{
			name: "pending score skipped",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopPendingScore, false, 0, 0, 0, 0),
			wantSkip: "PENDING_SCORE",
		},
		{
			name: "unscorable skipped",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopUnscorable, false, 0, 0, 0, 0),
			wantSkip: "UNSCORABLE",
		},
		{
			name: "time in bed below total sleep",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 20_000_000),
			wantSkip: "less than total sleep",
		},
		{
			name: "time in bed longer than the record",
			record: whoopSleep(sleepID, "2026-03-03T10:00:00.000Z", "2026-03-03T12:00:00.000Z", "-05:00",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000),
			wantSkip: "longer than end − start",
		},
		{
			name: "unparseable offset",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z", "EST",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000),
			wantSkip: "timezone_offset",
		},
		{
			name: "unparseable end",
			record: whoopSleep(sleepID, "2026-03-03T04:30:00.000Z", "03/03/2026 12:00", "-05:00",
				providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000),
			wantSkip: "end",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.ParseWHOOP([]byte(page(tt.record)))
			require.NoError(t, err)
			validate(t, res.Samples)
			if tt.wantSkip != "" {
				require.Empty(t, res.Samples)
				require.Len(t, res.Skipped, 1)
				require.Equal(t, "sleep/"+sleepID, res.Skipped[0].RecordID)
				require.Contains(t, res.Skipped[0].Reason, tt.wantSkip)
				return
			}
			require.Empty(t, res.Skipped)
			got := sampleMap(res.Samples)
			require.Len(t, res.Samples, 3)
			d := got[metrics.KeySleepDuration]
			require.Equal(t, tt.wantMin, d.Value) //nolint:testifylint // exact by construction
			require.Equal(t, metrics.UnitMinute, d.Unit)
			require.Equal(t, tt.wantDay, d.LocalDay)
			require.Equal(t, tt.wantOffset, d.UTCOffsetSeconds)
			require.True(t, tt.wantEnd.Equal(d.ObservedAt), "observedAt %v", d.ObservedAt)
			require.Equal(t, metrics.SourceWhoop, d.Source)
			require.InDelta(t, 91.69533, got[metrics.KeySleepEfficiency].Value, 1e-12)
			require.Equal(t, metrics.UnitPercent, got[metrics.KeySleepEfficiency].Unit)
			require.InDelta(t, 14.6, got[metrics.KeyRespiratoryRate].Value, 1e-12)
			require.Equal(t, metrics.UnitBreathsPerMinute, got[metrics.KeyRespiratoryRate].Unit)
		})
	}
}

func whoopRecovery(cycleID, sleepID, state, createdAt, updatedAt, score string) string {
	if score == "" {
		score = "null"
	}
	return `{
      "cycle_id": ` + cycleID + `,
      "sleep_id": "` + sleepID + `",
      "user_id": 10129,
      "created_at": "` + createdAt + `",
      "updated_at": "` + updatedAt + `",
      "score_state": "` + state + `",
      "score": ` + score + `
    }`
}

const recoveryScore = `{
        "user_calibrating": false,
        "recovery_score": 44,
        "resting_heart_rate": 64,
        "hrv_rmssd_milli": 31.813562,
        "spo2_percentage": 95.6875,
        "skin_temp_celsius": 33.7
      }`

func TestParseWHOOPRecovery(t *testing.T) {
	t.Parallel()
	sleep := whoopSleep(sleepID, "2026-03-08T04:00:00.000Z", "2026-03-08T11:00:00.000Z", "-04:00",
		providers.WhoopScored, false, 12_600_000, 4_800_000, 5_400_000, 25_200_000)
	wake := time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC)
	created := "2026-03-08T11:25:44.774Z"
	tests := []struct {
		name       string
		payload    string
		wantAt     time.Time
		wantDay    string
		wantOffset int
		want       map[string]float64 // metric → value
		wantSkip   string
	}{
		{
			name: "linked to its sleep in a bundle",
			payload: `{"sleep": ` + page(sleep) + `, "recovery": ` +
				page(whoopRecovery("93845", sleepID, "SCORED", created, created, recoveryScore)) + `}`,
			wantAt: wake, wantDay: "2026-03-08", wantOffset: -14400,
			want: map[string]float64{
				metrics.KeyRestingHR: 64, metrics.KeyHRVRMSSD: 31.813562, metrics.KeyRecoveryScore: 44,
				metrics.KeySpO2: 95.6875, metrics.KeySkinTemperature: 33.7,
			},
		},
		{
			name:    "sleep not in payload: created_at in UTC",
			payload: page(whoopRecovery("93845", sleepID, "SCORED", created, created, recoveryScore)),
			wantAt:  time.Date(2026, 3, 8, 11, 25, 44, 774e6, time.UTC), wantDay: "2026-03-08", wantOffset: 0,
			want: map[string]float64{
				metrics.KeyRestingHR: 64, metrics.KeyHRVRMSSD: 31.813562, metrics.KeyRecoveryScore: 44,
				metrics.KeySpO2: 95.6875, metrics.KeySkinTemperature: 33.7,
			},
		},
		{
			name: "calibrating: recovery score withheld",
			payload: `{"sleep": ` + page(sleep) + `, "recovery": ` +
				page(whoopRecovery("93845", sleepID, "SCORED", created, created,
					`{"user_calibrating": true, "recovery_score": 50, "resting_heart_rate": 60, "hrv_rmssd_milli": 45.5, "spo2_percentage": null, "skin_temp_celsius": null}`)) + `}`,
			wantAt: wake, wantDay: "2026-03-08", wantOffset: -14400,
			want:     map[string]float64{metrics.KeyRestingHR: 60, metrics.KeyHRVRMSSD: 45.5},
			wantSkip: "user_calibrating",
		},
		{
			name: "provider zeros are passed through",
			payload: `{"sleep": ` + page(sleep) + `, "recovery": ` +
				page(whoopRecovery("93845", sleepID, "SCORED", created, created,
					`{"user_calibrating": false, "recovery_score": 0, "resting_heart_rate": 0, "hrv_rmssd_milli": 0}`)) + `}`,
			wantAt: wake, wantDay: "2026-03-08", wantOffset: -14400,
			want: map[string]float64{metrics.KeyRestingHR: 0, metrics.KeyHRVRMSSD: 0, metrics.KeyRecoveryScore: 0},
		},
		{
			name:     "pending score skipped",
			payload:  page(whoopRecovery("93845", sleepID, "PENDING_SCORE", created, created, "")),
			want:     map[string]float64{},
			wantSkip: "PENDING_SCORE",
		},
		{
			name:     "scored without a score",
			payload:  page(whoopRecovery("93845", sleepID, "SCORED", created, created, "")),
			want:     map[string]float64{},
			wantSkip: "without a score",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.ParseWHOOP([]byte(tt.payload))
			require.NoError(t, err)
			validate(t, res.Samples)
			got := map[string]float64{}
			for _, s := range res.Samples {
				if s.Metric == metrics.KeySleepDuration || s.Metric == metrics.KeySleepEfficiency || s.Metric == metrics.KeyRespiratoryRate {
					continue
				}
				got[s.Metric] = s.Value
				require.True(t, tt.wantAt.Equal(s.ObservedAt), "%s observedAt %v", s.Metric, s.ObservedAt)
				require.Equal(t, tt.wantDay, s.LocalDay, s.Metric)
				require.Equal(t, tt.wantOffset, s.UTCOffsetSeconds, s.Metric)
			}
			require.Equal(t, tt.want, got)
			if tt.wantSkip == "" {
				require.Empty(t, res.Skipped)
				return
			}
			require.Len(t, res.Skipped, 1)
			require.Equal(t, "recovery/93845", res.Skipped[0].RecordID)
			require.Contains(t, res.Skipped[0].Reason, tt.wantSkip)
		})
	}
}

func TestParseWHOOPCycle(t *testing.T) {
	t.Parallel()
	cycle := func(end, state, score string) string {
		return `{"id": 93845, "user_id": 10129, "created_at": "2026-03-03T12:00:00.000Z",
		  "updated_at": "2026-03-04T12:00:00.000Z", "start": "2026-03-03T12:00:00.000Z", "end": ` + end + `,
		  "timezone_offset": "-05:00", "score_state": "` + state + `", "score": ` + score + `}`
	}
	const score = `{"strain": 12.7, "kilojoule": 8288.297, "average_heart_rate": 68, "max_heart_rate": 141}`
	tests := []struct {
		name     string
		record   string
		want     float64
		wantSkip string
	}{
		{name: "finished cycle", record: cycle(`"2026-03-04T11:30:00.000Z"`, "SCORED", score), want: 12.7},
		{name: "in progress", record: cycle("null", "SCORED", score), wantSkip: "in progress"},
		{name: "pending", record: cycle(`"2026-03-04T11:30:00.000Z"`, "PENDING_SCORE", "null"), wantSkip: "PENDING_SCORE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.ParseWHOOP([]byte(page(tt.record)))
			require.NoError(t, err)
			validate(t, res.Samples)
			if tt.wantSkip != "" {
				require.Empty(t, res.Samples)
				require.Len(t, res.Skipped, 1)
				require.Equal(t, "cycle/93845", res.Skipped[0].RecordID)
				require.Contains(t, res.Skipped[0].Reason, tt.wantSkip)
				return
			}
			require.Len(t, res.Samples, 1)
			s := res.Samples[0]
			require.Equal(t, metrics.KeyStrain, s.Metric)
			require.InDelta(t, tt.want, s.Value, 1e-12)
			require.Equal(t, "2026-03-03", s.LocalDay) // the cycle's start day
			require.Equal(t, -18000, s.UTCOffsetSeconds)
		})
	}
}

func TestParseWHOOPRescore(t *testing.T) {
	t.Parallel()
	const start, end = "2026-03-03T04:30:00.000Z", "2026-03-03T12:00:00.000Z"
	pending := whoopSleep(sleepID, start, end, "-05:00", providers.WhoopPendingScore, false, 0, 0, 0, 0)
	scored := whoopSleep(sleepID, start, end, "-05:00", providers.WhoopScored, false, 14_400_000, 5_400_000, 6_600_000, 27_000_000)
	rescored := strings.Replace(
		whoopSleep(sleepID, start, end, "-05:00", providers.WhoopScored, false, 15_000_000, 5_400_000, 6_600_000, 27_000_000),
		`"updated_at": "2026-03-03T12:30:00.000Z"`, `"updated_at": "2026-03-04T09:00:00.000Z"`, 1)

	first, err := providers.ParseWHOOP([]byte(page(pending)))
	require.NoError(t, err)
	require.Empty(t, first.Samples)
	require.Equal(t, []providers.Skip{{RecordID: "sleep/" + sleepID, Reason: "score_state is PENDING_SCORE: not scored yet"}}, first.Skipped)

	second, err := providers.ParseWHOOP([]byte(page(scored)))
	require.NoError(t, err)
	third, err := providers.ParseWHOOP([]byte(page(rescored)))
	require.NoError(t, err)
	a, b := sampleMap(second.Samples)[metrics.KeySleepDuration], sampleMap(third.Samples)[metrics.KeySleepDuration]
	require.InDelta(t, 440.0, a.Value, 1e-12)
	require.InDelta(t, 450.0, b.Value, 1e-12)
	// Same natural key: ingestion stores the rescored value as a duplicate.
	require.Equal(t, a.LocalDay, b.LocalDay)
	require.True(t, a.ObservedAt.Equal(b.ObservedAt))

	t.Run("both versions in one payload: the later updated_at wins", func(t *testing.T) {
		t.Parallel()
		for _, order := range [][]string{{rescored, scored}, {scored, rescored}, {pending, rescored}} {
			res, err := providers.ParseWHOOP([]byte(page(order...)))
			require.NoError(t, err)
			validate(t, res.Samples)
			require.InDelta(t, 450.0, sampleMap(res.Samples)[metrics.KeySleepDuration].Value, 1e-12)
			require.Len(t, res.Skipped, 1)
			require.Contains(t, res.Skipped[0].Reason, "superseded")
		}
	})
}

func TestParseWHOOPTwoMainSleepsOneDay(t *testing.T) {
	t.Parallel()
	short := whoopSleep("a6d1b3f8-0000-4000-8000-000000000001", "2026-03-03T04:00:00.000Z", "2026-03-03T06:00:00.000Z", "-05:00",
		providers.WhoopScored, false, 3_600_000, 1_800_000, 1_200_000, 7_000_000)
	long := whoopSleep(sleepID, "2026-03-03T07:00:00.000Z", "2026-03-03T13:00:00.000Z", "-05:00",
		providers.WhoopScored, false, 10_800_000, 3_600_000, 4_800_000, 21_000_000)
	res, err := providers.ParseWHOOP([]byte(page(short, long)))
	require.NoError(t, err)
	validate(t, res.Samples)
	require.InDelta(t, 320.0, sampleMap(res.Samples)[metrics.KeySleepDuration].Value, 1e-12)
	require.Len(t, res.Skipped, 1)
	require.Equal(t, "sleep/a6d1b3f8-0000-4000-8000-000000000001", res.Skipped[0].RecordID)
}

func TestParseWHOOPMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload string }{
		{"empty", ""},
		{"truncated", `{"records": [`},
		{"array", `[]`},
		{"null", `null`},
		{"records not an array", `{"records": 5}`},
		{"nap of the wrong type", `{"records": [{"id": "x", "nap": "yes"}]}`},
		{"milli of the wrong type", `{"sleep": {"records": [{"id": "x", "nap": false, "score": {"stage_summary": {"total_in_bed_time_milli": "8h"}}}]}}`},
		{"unrecognised record", `{"records": [{"id": "x"}]}`},
		{"no known member", `{"workouts": {"records": []}}`},
		{"trailing data", `{"records": []} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.ParseWHOOP([]byte(tt.payload))
			require.Error(t, err)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, provider, payload string
		wantCode                string
	}{
		{"whoop", metrics.SourceWhoop, `{"records": [], "next_token": null}`, ""},
		{"oura", metrics.SourceOura, `{"data": [], "next_token": null}`, ""},
		{"apple health", metrics.SourceAppleHealth, `{"statistics": []}`, ""},
		{"fitbit is not supported", metrics.SourceFitbit, `{}`, engine.EINVALID},
		{"unknown", "garmin", `{}`, engine.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := providers.Parse(tt.provider, []byte(tt.payload))
			require.Equal(t, tt.wantCode, engine.ErrorCode(err))
			if err == nil {
				require.Empty(t, res.Samples)
			}
		})
	}
}
