package providers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

func TestAppleDailyAggregates(t *testing.T) {
	t.Parallel()
	a := providers.NewAppleDaily()
	rec := func(typ, src, unit, start, v string) {
		a.Add(providers.AppleRecord{Type: typ, SourceName: src, Unit: unit, StartDate: start, Value: v})
	}
	// Steps on 2026-03-01 at -05:00: the Watch counted 1200+800 = 2000,
	// the iPhone 300+1500 = 1800 of the same walk: the day is 2000, not 3800.
	rec(providers.HKStepCount, "Watch", "count", "2026-03-01 08:00:00 -0500", "1200")
	rec(providers.HKStepCount, "iPhone", "count", "2026-03-01 08:01:00 -0500", "300")
	rec(providers.HKStepCount, "Watch", "count", "2026-03-01 18:00:00 -0500", "800")
	rec(providers.HKStepCount, "iPhone", "count", "2026-03-01 18:02:00 -0500", "1500")
	// 23:30 local is still 2026-03-01 although it is 04:30 UTC on the 2nd.
	rec(providers.HKStepCount, "iPhone", "count", "2026-03-01 23:30:00 -0500", "100")
	// SDNN is averaged: (40 + 50 + 66) / 3 = 52.
	rec(providers.HKHRVSDNN, "Watch", "ms", "2026-03-01 02:00:00 -0500", "40")
	rec(providers.HKHRVSDNN, "Watch", "ms", "2026-03-01 03:00:00 -0500", "50")
	rec(providers.HKHRVSDNN, "Watch", "ms", "2026-03-01 04:00:00 -0500", "66")
	rec(providers.HKRestingHeartRate, "Watch", "count/min", "2026-03-02 07:00:00 -0500", "54")
	// Not used.
	rec("HKQuantityTypeIdentifierHeartRate", "Watch", "count/min", "2026-03-01 07:00:00 -0500", "70")
	rec(providers.HKStepCount, "Watch", "count", "yesterday", "10")
	rec(providers.HKStepCount, "Watch", "count", "2026-03-01 09:00:00 -0500", "many")

	got := a.Samples()
	off := -5 * 3600
	midnight1 := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC)
	midnight2 := midnight1.Add(24 * time.Hour)
	want := []metrics.Sample{
		{Metric: metrics.KeyHRVSDNN, Value: 52, Unit: "ms", ObservedAt: midnight1, LocalDay: "2026-03-01", UTCOffsetSeconds: off, Source: metrics.SourceAppleHealth},
		{Metric: metrics.KeySteps, Value: 2000, Unit: "count", ObservedAt: midnight1, LocalDay: "2026-03-01", UTCOffsetSeconds: off, Source: metrics.SourceAppleHealth},
		{Metric: metrics.KeyRestingHR, Value: 54, Unit: "count/min", ObservedAt: midnight2, LocalDay: "2026-03-02", UTCOffsetSeconds: off, Source: metrics.SourceAppleHealth},
	}
	require.Equal(t, want, got)
	require.Equal(t, map[string]int{"unsupported type": 1, "bad startDate": 1, "bad value": 1}, a.Skipped)
	res := metrics.ValidateBatch(got, midnight2.Add(48*time.Hour), metrics.Options{})
	require.Empty(t, res.Problems, "the samples pass validation (count/min is a bpm alias)")
}
