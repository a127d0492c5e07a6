package insight

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

func finding(kind detect.Kind, metric string, dir detect.Direction, base, value float64, n int) detect.Finding {
	d := series.DayOf(2026, 6, 2) // a Tuesday
	return detect.Finding{
		Kind: kind, Metric: metric, Day: d, EndDay: series.AddDays(d, 20), Direction: dir,
		Value: value, Baseline: base, SampleSize: n, Span: 21,
		WindowFrom: series.AddDays(d, -40), WindowTo: series.AddDays(d, 20),
	}
}

// Every kind × metric × direction × grade × direction-support is worded
// within the claim policy of its grade.
func TestWordsPassTheClaimChecker(t *testing.T) {
	t.Parallel()
	for _, m := range metrics.All() {
		for _, kind := range []detect.Kind{detect.KindAnomaly, detect.KindChange, detect.KindTrend, detect.KindDataGap} {
			for _, dir := range []detect.Direction{detect.DirectionUp, detect.DirectionDown} {
				for _, g := range evidence.Grades {
					for _, supported := range []bool{true, false} {
						base := 50.0
						value := base * 1.2
						if dir == detect.DirectionDown {
							value = base * 0.8
						}
						n := 41
						if kind == detect.KindDataGap {
							n = 0
						}
						f := finding(kind, m.Key, dir, base, value, n)
						tx := Words(m, f, g, supported)
						v := Violations(m, f, tx, g, supported)
						require.Empty(t, v, "%s %s %s grade %s supported %v: %q", m.Key, kind, dir, g, supported, tx.Title+". "+tx.Summary)
					}
				}
			}
		}
	}
}

func TestWordsByHand(t *testing.T) {
	t.Parallel()
	rhr, _ := metrics.Lookup(metrics.KeyRestingHR)
	hrv, _ := metrics.Lookup(metrics.KeyHRVRMSSD)
	steps, _ := metrics.Lookup(metrics.KeySteps)
	sleep, _ := metrics.Lookup(metrics.KeySleepDuration)
	cases := []struct {
		name         string
		m            metrics.Metric
		f            detect.Finding
		g            evidence.Grade
		supported    bool
		title, inSum string
	}{
		{
			"change A plain", rhr, finding(detect.KindChange, rhr.Key, detect.DirectionUp, 58, 63.2, 40), evidence.GradeA, true,
			"Resting heart rate has been higher since Tue 2026-06-02, by about 5 bpm", "around 63 bpm; in the weeks before, around 58 bpm. This rests on 40 valid days.",
		},
		{
			"change B probably", rhr, finding(detect.KindChange, rhr.Key, detect.DirectionUp, 58, 63.2, 40), evidence.GradeB, true,
			"Resting heart rate has probably been higher since Tue 2026-06-02, by about 5 bpm", "uncertain",
		},
		{
			"change C may", rhr, finding(detect.KindChange, rhr.Key, detect.DirectionDown, 58, 53, 40), evidence.GradeC, true,
			"Resting heart rate may have been lower since Tue 2026-06-02, by about 5 bpm", "uncertain",
		},
		{
			"change D no direction", rhr, finding(detect.KindChange, rhr.Key, detect.DirectionUp, 58, 63, 12), evidence.GradeD, true,
			"Resting heart rate since Tue 2026-06-02: possibly a new level, too early to tell", "very uncertain",
		},
		{
			"HRV in percent", hrv, finding(detect.KindTrend, hrv.Key, detect.DirectionUp, 50, 58.3, 55), evidence.GradeA, true,
			"Heart rate variability (RMSSD) has been drifting higher since Tue 2026-06-02, by about 17%", "from about 50 ms to about 58 ms",
		},
		{
			"steps plural and rounding", steps, finding(detect.KindChange, steps.Key, detect.DirectionDown, 8012, 5987, 30), evidence.GradeB, true,
			"Steps have probably been fewer since Tue 2026-06-02, by about 2,030 steps a day", "around 5,990 steps",
		},
		{
			"sleep in hours and minutes", sleep, finding(detect.KindAnomaly, sleep.Key, detect.DirectionDown, 425, 238, 55), evidence.GradeA, true,
			"Sleep duration was unusually low on Tue 2026-06-02", "You recorded 3 h 58 min on Tue 2026-06-02; a typical Tuesday for you is about 7 h 05 min, judged from 55 valid days.",
		},
		{
			"data gap", rhr, finding(detect.KindDataGap, rhr.Key, detect.DirectionNone, 0, 0, 0), evidence.GradeD, false,
			"No resting heart rate data from Tue 2026-06-02 to Mon 2026-06-22", "21 days without resting heart rate data (0 valid days)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Words(tc.m, tc.f, tc.g, tc.supported)
			require.Equal(t, tc.title, got.Title)
			require.Contains(t, got.Summary, tc.inSum)
			require.Empty(t, Violations(tc.m, tc.f, got, tc.g, tc.supported))
			for _, jargon := range []string{"robust", " z ", "sigma", "MAD", "p ="} {
				require.NotContains(t, got.Title+got.Summary, jargon)
			}
		})
	}
}

func TestPluralAndRounding(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1 day", plural(1, "day"))
	require.Equal(t, "0 days", plural(0, "day"))
	require.Equal(t, "12,300", roundCount(12345))
	require.Equal(t, "4,820", roundCount(4818))
	require.Equal(t, "1 minute", duration(1.2))
	require.Equal(t, "7 h 05 min", duration(425))
	require.Equal(t, "0", roundWords(-0.2, 0))
	require.Equal(t, "Tue 2026-06-02", dayWords(series.DayOf(2026, 6, 2)))
	require.NotContains(t, Words(metrics.Metric{Name: "X"}, detect.Finding{}, "Z", true).Summary, "probably", "an invalid grade reads as D")
}
