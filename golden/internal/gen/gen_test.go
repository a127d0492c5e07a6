package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

const (
	testdataDir = "../../testdata"
	fixturesDir = "../../../engine/evaluate/testdata"
	tolerance   = 0.001 // max |parsed − planted|, canonical units
)

var allCases = []string{
	"g1_clean", "g2_gaps_adherence", "g3_disconnection", "g4a_swing", "g4b_drift",
	"dst_day", "duplicate_sources", "rescored_record",
}

func readScenario(tb testing.TB, name string) Scenario {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, name, "scenario.json"))
	require.NoError(tb, err)
	var sc Scenario
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(tb, dec.Decode(&sc))
	return sc
}

type seriesKey struct{ metric, source, day string }

// parsed is the outcome of ingesting a case's files in order, with the
// ingestion layer's natural-key rule: the first value stored wins.
type parsed struct {
	values  map[seriesKey]float64
	results map[string]providers.Result // per file
}

func parseCase(t *testing.T, sc Scenario) parsed {
	t.Helper()
	out := parsed{values: map[seriesKey]float64{}, results: map[string]providers.Result{}}
	type natural struct {
		seriesKey
		at int64
	}
	stored := map[natural]bool{}
	for _, st := range sc.Steps {
		if st.Action != actIngest {
			continue
		}
		b, err := os.ReadFile(filepath.Join(testdataDir, sc.Name, st.File))
		require.NoError(t, err)
		res, err := providers.Parse(st.Provider, b)
		require.NoError(t, err, st.File)
		out.results[st.File] = res
		require.NotNil(t, st.Samples, st.File)
		require.Len(t, res.Samples, *st.Samples, st.File)
		if len(res.Samples) == 0 {
			continue
		}
		at, err := time.Parse(time.RFC3339, st.At)
		require.NoError(t, err)
		v := metrics.ValidateBatch(res.Samples, at, metrics.Options{})
		require.NoError(t, v.Err(), "%s at %s", st.File, st.At)
		for _, s := range res.Samples {
			k := seriesKey{s.Metric, s.Source, s.LocalDay}
			n := natural{k, s.ObservedAt.UnixNano()}
			if stored[n] {
				continue // duplicate: the first stored value stays
			}
			stored[n] = true
			_, dup := out.values[k]
			require.False(t, dup, "%s: two samples of %v with different observedAt", st.File, k)
			out.values[k] = s.Value
		}
	}
	return out
}

func readExpected(t *testing.T, name string) map[seriesKey]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, name, "expected_series.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"day", "metric", "source", "value"}, rows[0])
	out := map[seriesKey]float64{}
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[3], 64)
		require.NoError(t, err)
		out[seriesKey{r[1], r[2], r[0]}] = v
	}
	return out
}

// TestCasesParse parses every input file of every case in step order and
// checks sample counts, validation at the step's clock, and that the stored
// series equal expected_series.csv within 0.001.
func TestCasesParse(t *testing.T) {
	t.Parallel()
	for _, name := range allCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := readScenario(t, name)
			require.Equal(t, name, sc.Name)
			require.Equal(t, timeZone, sc.Timezone)
			require.Equal(t, "2026-03-02", sc.FirstDay)
			require.Equal(t, time.Monday, date(1).Weekday())
			require.Equal(t, "2026-04-30T23:59:59-04:00", sc.Clock)
			got := parseCase(t, sc)
			want := readExpected(t, name)
			pairs := map[[2]string]int{}
			for k, w := range want {
				pairs[[2]string{k.metric, k.source}]++
				g, ok := got.values[k]
				require.True(t, ok, "no sample for %v", k)
				require.InDelta(t, w, g, tolerance, "%v", k)
			}
			for k := range got.values {
				if _, checked := pairs[[2]string{k.metric, k.source}]; checked {
					_, ok := want[k]
					require.True(t, ok, "unexpected sample %v", k)
				}
			}
			for _, iv := range sc.Interventions {
				require.Equal(t, "2026-03-30", iv.StartDay)
				require.Equal(t, "2026-04-30", iv.EvaluateOn)
				require.Len(t, iv.Adherence, plannedDays)
			}
		})
	}
}

// TestFixtureSleepRoundTrips checks that G1, G2 and G4b reproduce the
// committed evaluation fixtures: the same valid days and values within
// 0.001 min (in fact within 1/120 000 min).
func TestFixtureSleepRoundTrips(t *testing.T) {
	t.Parallel()
	g := &gen{fixtures: fixturesDir}
	tests := []struct{ name, fixture string }{
		{"g1_clean", "g1"}, {"g2_gaps_adherence", "g2"}, {"g4b_drift", "g4b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx, err := g.readFixture(tt.fixture)
			require.NoError(t, err)
			sc := readScenario(t, tt.name)
			got := parseCase(t, sc)
			valid := 0
			for i, d := range fx {
				v, ok := got.values[seriesKey{metrics.KeySleepDuration, metrics.SourceWhoop, dayString(i + 1)}]
				if math.IsNaN(d.value) {
					require.False(t, ok, "day %d is missing in the fixture", i+1)
					continue
				}
				valid++
				require.True(t, ok, "day %d", i+1)
				require.InDelta(t, d.value, v, 1.0/120000+1e-12, "day %d", i+1)
			}
			n := 0
			for k := range got.values {
				if k.metric == metrics.KeySleepDuration {
					n++
				}
			}
			require.Equal(t, valid, n, "sleep_duration days")
			require.Equal(t, adherenceOf(fx), sc.Interventions[0].Adherence)
		})
	}
}

func skipsOf(res providers.Result, reason string) []string {
	var ids []string
	for _, s := range res.Skipped {
		if strings.Contains(s.Reason, reason) {
			ids = append(ids, s.RecordID)
		}
	}
	return ids
}

func TestCaseDetails(t *testing.T) {
	t.Parallel()
	t.Run("g1 nap dropped", func(t *testing.T) {
		t.Parallel()
		got := parseCase(t, readScenario(t, "g1_clean"))
		require.Len(t, skipsOf(got.results["whoop.json"], "nap"), 1)
	})
	t.Run("g2 unscorable nights skipped", func(t *testing.T) {
		t.Parallel()
		got := parseCase(t, readScenario(t, "g2_gaps_adherence"))
		require.Len(t, skipsOf(got.results["whoop.json"], "UNSCORABLE"), 2)
		for _, d := range []int{32, 49} {
			_, ok := got.values[seriesKey{metrics.KeySleepDuration, metrics.SourceWhoop, dayString(d)}]
			require.False(t, ok)
		}
	})
	t.Run("g3 zeros then nothing then backfill", func(t *testing.T) {
		t.Parallel()
		got := parseCase(t, readScenario(t, "g3_disconnection"))
		for d := 1; d <= numDays; d++ {
			v, ok := got.values[seriesKey{metrics.KeyHRVRMSSD, metrics.SourceWhoop, dayString(d)}]
			switch {
			case d >= 36 && d <= 45:
				require.True(t, ok, "day %d", d)
				require.Zero(t, v, "day %d", d)
			case d >= 46 && d <= 55:
				require.False(t, ok, "day %d", d)
			default:
				require.True(t, ok, "day %d", d)
				require.Greater(t, v, 0.0)
			}
		}
		valid := 0
		for d := startDayN + lagDays; d <= numDays; d++ {
			if v := got.values[seriesKey{metrics.KeyHRVRMSSD, metrics.SourceWhoop, dayString(d)}]; v > 0 {
				valid++
			}
		}
		require.Equal(t, 10, valid) // coverage 10/30
	})
	t.Run("dst night", func(t *testing.T) {
		t.Parallel()
		sc := readScenario(t, "dst_day")
		b, err := os.ReadFile(filepath.Join(testdataDir, "dst_day", "whoop.json"))
		require.NoError(t, err)
		res, err := providers.ParseWHOOP(b)
		require.NoError(t, err)
		var found bool
		for _, s := range res.Samples {
			if s.Metric == metrics.KeySleepDuration && s.LocalDay == "2026-03-08" {
				found = true
				require.Equal(t, -5*3600, s.UTCOffsetSeconds) // the record's (start) offset
				require.Equal(t, sc.Planted["dst_night_sleep_end"], s.ObservedAt.Format("2006-01-02T15:04:05.000Z"))
				// Wall clock in New York says 8 h 28 min; the night lasted 7 h 28 min.
				start, err := time.Parse(time.RFC3339, sc.Planted["dst_night_sleep_start"].(string))
				require.NoError(t, err)
				ny, err := time.LoadLocation(timeZone)
				require.NoError(t, err)
				require.Equal(t, "22:41", start.In(ny).Format("15:04"))
				require.Equal(t, "07:10", s.ObservedAt.In(ny).Format("15:04"))
			}
		}
		require.True(t, found)
		got := parseCase(t, sc)
		_, ok := got.values[seriesKey{metrics.KeySteps, metrics.SourceAppleHealth, "2026-03-08"}]
		require.True(t, ok)
		require.Len(t, skipsOf(got.results["whoop.json"], "in progress"), 1)
	})
	t.Run("duplicate sources kept apart", func(t *testing.T) {
		t.Parallel()
		got := parseCase(t, readScenario(t, "duplicate_sources"))
		sources := map[string][]string{}
		for k := range got.values {
			if !slices.Contains(sources[k.metric], k.source) {
				sources[k.metric] = append(sources[k.metric], k.source)
			}
		}
		slices.Sort(sources[metrics.KeySleepDuration])
		require.Equal(t, []string{metrics.SourceOura, metrics.SourceWhoop}, sources[metrics.KeySleepDuration])
		require.Equal(t, []string{metrics.SourceAppleHealth}, sources[metrics.KeyHRVSDNN])
		require.NotContains(t, sources[metrics.KeyHRVRMSSD], metrics.SourceAppleHealth)
		require.Len(t, skipsOf(got.results["oura.json"], `type "sleep"`), 1)
		day50 := seriesKey{metrics.KeySleepDuration, metrics.SourceOura, "2026-04-20"}
		require.InDelta(t, 290.0, got.values[day50], 0)
	})
	t.Run("rescored record", func(t *testing.T) {
		t.Parallel()
		sc := readScenario(t, "rescored_record")
		got := parseCase(t, sc)
		id := sc.Planted["sleep_id"].(string)
		require.Equal(t, []string{"sleep/" + id}, skipsOf(got.results["whoop_initial.json"], "PENDING_SCORE")[:1])
		first, again := got.results["whoop_rescored.json"], got.results["whoop_rescored_again.json"]
		require.Len(t, again.Samples, len(first.Samples))
		differ := 0
		for i := range first.Samples {
			a, b := first.Samples[i], again.Samples[i]
			require.Equal(t, a.Metric, b.Metric)
			require.Equal(t, a.LocalDay, b.LocalDay)
			require.True(t, a.ObservedAt.Equal(b.ObservedAt), "same natural key")
			if a.Value != b.Value {
				differ++
			}
		}
		require.Positive(t, differ)
		v := got.values[seriesKey{metrics.KeySleepDuration, metrics.SourceWhoop, "2026-04-30"}]
		require.InDelta(t, sc.Planted["first_scored_sleep_min"].(float64), v, tolerance)
	})
}

// TestGeneratorUpToDate regenerates into a temporary directory (never into
// testdata) and checks that the committed files are byte-identical, i.e.
// that the generator is deterministic and its output was committed.
func TestGeneratorUpToDate(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run([]string{"-out", tmp, "-fixtures", fixturesDir}, &out))
	for _, name := range allCases {
		entries, err := os.ReadDir(filepath.Join(tmp, name))
		require.NoError(t, err)
		committed, err := os.ReadDir(filepath.Join(testdataDir, name))
		require.NoError(t, err)
		generated := 0
		for _, c := range committed {
			if c.Name() != "expected.json" { // written by the golden test, not the generator
				generated++
			}
		}
		require.Equal(t, len(entries), generated, name)
		for _, e := range entries {
			want, err := os.ReadFile(filepath.Join(tmp, name, e.Name()))
			require.NoError(t, err)
			have, err := os.ReadFile(filepath.Join(testdataDir, name, e.Name()))
			require.NoError(t, err, "%s/%s is not committed; run go run ./golden/internal/gen", name, e.Name())
			require.True(t, bytes.Equal(want, have), "%s/%s is stale; run go run ./golden/internal/gen -out golden/testdata", name, e.Name())
		}
	}
}
