package providers

import (
	"encoding/json"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// Oura v2 collection names, used as bundle keys and RecordID prefixes.
const (
	OuraSleep          = "sleep"
	OuraDailyReadiness = "daily_readiness"
	OuraDailyActivity  = "daily_activity"
)

// OuraMainSleepType is the Oura sleep type of the main (longest) sleep of a
// day; "sleep", "late_nap", "rest" and "deleted" are skipped.
const OuraMainSleepType = "long_sleep"

// OuraSleepRecord is an Oura v2 sleep document (GET
// /v2/usercollection/sleep). Durations are in seconds; bedtimes are RFC 3339
// with the user's local offset.
type OuraSleepRecord struct {
	ID                 string   `json:"id"`
	Day                string   `json:"day"`
	BedtimeStart       string   `json:"bedtime_start"`
	BedtimeEnd         string   `json:"bedtime_end"`
	Type               string   `json:"type"`
	TotalSleepDuration *float64 `json:"total_sleep_duration"`  // s
	TimeInBed          *float64 `json:"time_in_bed,omitempty"` // s
	AwakeTime          *float64 `json:"awake_time,omitempty"`  // s
	DeepSleepDuration  *float64 `json:"deep_sleep_duration,omitempty"`
	LightSleepDuration *float64 `json:"light_sleep_duration,omitempty"`
	RemSleepDuration   *float64 `json:"rem_sleep_duration,omitempty"`
	Efficiency         *float64 `json:"efficiency"`                   // percent
	AverageHRV         *float64 `json:"average_hrv"`                  // ms, mean of 5-min RMSSD
	LowestHeartRate    *float64 `json:"lowest_heart_rate"`            // bpm
	AverageHeartRate   *float64 `json:"average_heart_rate,omitempty"` // bpm (not ingested)
	AverageBreath      *float64 `json:"average_breath"`               // breaths/min
}

// OuraReadinessRecord is an Oura v2 daily readiness document (GET
// /v2/usercollection/daily_readiness).
type OuraReadinessRecord struct {
	ID                   string   `json:"id"`
	Day                  string   `json:"day"`
	Score                *float64 `json:"score"`                 // 0–100
	TemperatureDeviation *float64 `json:"temperature_deviation"` // °C from the personal baseline
	Timestamp            string   `json:"timestamp,omitempty"`   // RFC 3339, local
}

// OuraActivityRecord is an Oura v2 daily activity document (GET
// /v2/usercollection/daily_activity); only steps are ingested.
type OuraActivityRecord struct {
	ID        string   `json:"id"`
	Day       string   `json:"day"`
	Steps     *float64 `json:"steps"`
	Timestamp string   `json:"timestamp"` // RFC 3339, local start of the day
}

// OuraPage is one page of an Oura v2 collection as the API returns it.
type OuraPage[T any] struct {
	Data      []T     `json:"data"`
	NextToken *string `json:"next_token"`
}

// OuraBundle holds one page per Oura collection; any member may be nil.
type OuraBundle struct {
	Sleep          *OuraPage[OuraSleepRecord]     `json:"sleep,omitempty"`
	DailyReadiness *OuraPage[OuraReadinessRecord] `json:"daily_readiness,omitempty"`
	DailyActivity  *OuraPage[OuraActivityRecord]  `json:"daily_activity,omitempty"`
}

// ParseOura converts an Oura v2 payload (a page or a bundle; see the package
// doc) into samples with Source "oura":
//
//   - sleep (type long_sleep only; other types are skipped and reported):
//     sleep_duration (min) = total_sleep_duration seconds ÷ 60,
//     sleep_efficiency (percent), hrv_rmssd (ms, from average_hrv),
//     resting_hr (bpm, from lowest_heart_rate), respiratory_rate
//     (breaths/min, from average_breath); observed at bedtime_end, on its
//     local date (the wake day). Only the longest long_sleep of a wake day
//     is kept.
//   - daily_readiness: readiness_score (score) and skin_temp_deviation
//     (celsius); observed at the end of the long_sleep with the same day
//     when it is in the payload (so both share a wake day), else at the
//     document's timestamp on its local date.
//   - daily_activity: steps (count), observed at timestamp on its local date.
//
// A sleep is skipped when time_in_bed < total_sleep_duration or
// total_sleep_duration < deep + light + REM (when those fields are present),
// or when its times do not parse. Null fields yield no sample; provider
// zeros are passed through (validation stores them as missing).
//
// It returns an *engine.Error with code EINVALID when payload is not JSON of
// the documented shape.
func ParseOura(payload []byte) (Result, error) {
	top, err := decodeObject("Oura", payload)
	if err != nil {
		return Result{}, err
	}
	var sleeps []OuraSleepRecord
	var ready []OuraReadinessRecord
	var acts []OuraActivityRecord
	if raw, ok := top["data"]; ok {
		recs, err := rawArray("Oura", raw)
		if err != nil {
			return Result{}, err
		}
		for _, r := range recs {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(r, &fields); err != nil {
				return Result{}, invalidJSON("Oura", err)
			}
			switch {
			case has(fields, "bedtime_end"):
				err = decodeInto(r, &sleeps)
			case has(fields, "temperature_deviation"):
				err = decodeInto(r, &ready)
			case has(fields, "steps"):
				err = decodeInto(r, &acts)
			default:
				return Result{}, engine.Errorf(engine.EINVALID,
					"an Oura record is neither a sleep, a daily_readiness nor a daily_activity document")
			}
			if err != nil {
				return Result{}, invalidJSON("Oura", err)
			}
		}
	} else {
		if !has(top, OuraSleep) && !has(top, OuraDailyReadiness) && !has(top, OuraDailyActivity) {
			return Result{}, engine.Errorf(engine.EINVALID,
				"the Oura payload must hold \"data\" (one page) or \"sleep\", \"daily_readiness\" or \"daily_activity\" pages")
		}
		var b OuraBundle
		if err := strictUnmarshal(payload, &b); err != nil {
			return Result{}, invalidJSON("Oura", err)
		}
		if b.Sleep != nil {
			sleeps = b.Sleep.Data
		}
		if b.DailyReadiness != nil {
			ready = b.DailyReadiness.Data
		}
		if b.DailyActivity != nil {
			acts = b.DailyActivity.Data
		}
	}
	bld := newBuilder(metrics.SourceOura)
	byDay := ouraSleeps(bld, sleeps)
	ouraReadiness(bld, ready, byDay)
	ouraActivity(bld, acts)
	return bld.res, nil
}

// lastWins keeps the last record per id (Oura documents carry no
// updated_at) and reports earlier ones as superseded.
func lastWins[T any](b *builder, recs []T, id func(T) string) []T {
	return latest(b, recs, id, func(T) string { return "" })
}

// ouraSleeps emits the main-sleep samples and returns, per Oura day, the
// anchor of the kept long_sleep.
func ouraSleeps(b *builder, recs []OuraSleepRecord) map[string]anchor {
	recs = lastWins(b, recs, func(r OuraSleepRecord) string { return OuraSleep + "/" + r.ID })
	type main struct {
		rec   OuraSleepRecord
		a     anchor
		total float64
		drop  bool
	}
	var mains []main
	mainOfDay := map[string]int{}
	for _, r := range recs {
		id := OuraSleep + "/" + r.ID
		if r.Type != OuraMainSleepType {
			b.skip(id, "type %q is not the main sleep (long_sleep)", r.Type)
			continue
		}
		start, err := parseTime(r.BedtimeStart)
		if err != nil {
			b.skip(id, "bedtime_start: %v", err)
			continue
		}
		end, err := parseTime(r.BedtimeEnd)
		if err != nil {
			b.skip(id, "bedtime_end: %v", err)
			continue
		}
		if !end.After(start) {
			b.skip(id, "bedtime_end is not after bedtime_start")
			continue
		}
		if reason := ouraStageCheck(r); reason != "" {
			b.skip(id, "%s", reason)
			continue
		}
		a := newAnchor(end, offsetOf(end))
		total := 0.0
		if r.TotalSleepDuration != nil {
			total = *r.TotalSleepDuration
		}
		if j, ok := mainOfDay[a.day]; ok {
			if mains[j].total >= total {
				b.skip(id, "another main sleep on %s is longer", a.day)
				continue
			}
			b.skip(OuraSleep+"/"+mains[j].rec.ID, "another main sleep on %s is longer", a.day)
			mains[j].drop = true
		}
		mainOfDay[a.day] = len(mains)
		mains = append(mains, main{rec: r, a: a, total: total})
	}
	byDay := map[string]anchor{}
	for _, m := range mains {
		if m.drop {
			continue
		}
		r, id := m.rec, OuraSleep+"/"+m.rec.ID
		if r.Day != "" {
			byDay[r.Day] = m.a
		}
		if r.TotalSleepDuration != nil {
			b.add(id, metrics.KeySleepDuration, ptr(*r.TotalSleepDuration/60), metrics.UnitMinute, m.a) // s → min
		}
		b.add(id, metrics.KeySleepEfficiency, r.Efficiency, metrics.UnitPercent, m.a)
		b.add(id, metrics.KeyHRVRMSSD, r.AverageHRV, metrics.UnitMillisecond, m.a)
		b.add(id, metrics.KeyRestingHR, r.LowestHeartRate, metrics.UnitBPM, m.a)
		b.add(id, metrics.KeyRespiratoryRate, r.AverageBreath, metrics.UnitBreathsPerMinute, m.a)
	}
	return byDay
}

// ouraStageCheck returns why an Oura sleep's durations are inconsistent, or "".
func ouraStageCheck(r OuraSleepRecord) string {
	for _, v := range []*float64{r.TotalSleepDuration, r.TimeInBed, r.AwakeTime, r.DeepSleepDuration, r.LightSleepDuration, r.RemSleepDuration} {
		if v != nil && *v < 0 {
			return "a sleep duration is negative"
		}
	}
	if r.TotalSleepDuration == nil {
		return ""
	}
	total := *r.TotalSleepDuration
	if r.TimeInBed != nil && *r.TimeInBed < total {
		return "time_in_bed is less than total_sleep_duration"
	}
	if r.DeepSleepDuration != nil && r.LightSleepDuration != nil && r.RemSleepDuration != nil &&
		total < *r.DeepSleepDuration+*r.LightSleepDuration+*r.RemSleepDuration {
		return "total_sleep_duration is less than deep + light + REM"
	}
	return ""
}

func ouraReadiness(b *builder, recs []OuraReadinessRecord, sleeps map[string]anchor) {
	recs = lastWins(b, recs, func(r OuraReadinessRecord) string { return OuraDailyReadiness + "/" + r.ID })
	for _, r := range recs {
		id := OuraDailyReadiness + "/" + r.ID
		a, ok := sleeps[r.Day]
		if !ok {
			t, err := parseTime(r.Timestamp)
			if err != nil {
				b.skip(id, "no long_sleep for day %q in the payload and timestamp: %v", r.Day, err)
				continue
			}
			a = newAnchor(t, offsetOf(t))
		}
		b.add(id, metrics.KeyReadinessScore, r.Score, metrics.UnitScore, a)
		b.add(id, metrics.KeySkinTempDeviation, r.TemperatureDeviation, metrics.UnitCelsius, a)
	}
}

func ouraActivity(b *builder, recs []OuraActivityRecord) {
	recs = lastWins(b, recs, func(r OuraActivityRecord) string { return OuraDailyActivity + "/" + r.ID })
	for _, r := range recs {
		id := OuraDailyActivity + "/" + r.ID
		t, err := parseTime(r.Timestamp)
		if err != nil {
			b.skip(id, "timestamp: %v", err)
			continue
		}
		b.add(id, metrics.KeySteps, r.Steps, metrics.UnitCount, newAnchor(t, offsetOf(t)))
	}
}
