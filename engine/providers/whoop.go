package providers

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// WHOOP v2 score states.
const (
	WhoopScored       = "SCORED"
	WhoopPendingScore = "PENDING_SCORE"
	WhoopUnscorable   = "UNSCORABLE"
)

// WHOOP v2 collection names, used as bundle keys and RecordID prefixes.
const (
	WhoopSleep    = "sleep"
	WhoopRecovery = "recovery"
	WhoopCycle    = "cycle"
)

// WhoopSleepRecord is a WHOOP v2 sleep (GET /v2/activity/sleep). Times are
// RFC 3339 (WHOOP sends UTC with a "Z"); TimezoneOffset is the user's offset
// for the record, e.g. "-05:00".
type WhoopSleepRecord struct {
	ID             string           `json:"id"` // UUID
	CycleID        int64            `json:"cycle_id,omitempty"`
	UserID         int64            `json:"user_id,omitempty"`
	CreatedAt      string           `json:"created_at,omitempty"`
	UpdatedAt      string           `json:"updated_at,omitempty"`
	Start          string           `json:"start"`
	End            string           `json:"end"`
	TimezoneOffset string           `json:"timezone_offset"`
	Nap            bool             `json:"nap"`
	ScoreState     string           `json:"score_state"`
	Score          *WhoopSleepScore `json:"score,omitempty"`
}

// WhoopSleepScore is the score of a SCORED WHOOP sleep.
type WhoopSleepScore struct {
	StageSummary               *WhoopStageSummary `json:"stage_summary,omitempty"`
	RespiratoryRate            *float64           `json:"respiratory_rate,omitempty"`             // breaths/min
	SleepPerformancePercentage *float64           `json:"sleep_performance_percentage,omitempty"` // percent
	SleepConsistencyPercentage *float64           `json:"sleep_consistency_percentage,omitempty"` // percent
	SleepEfficiencyPercentage  *float64           `json:"sleep_efficiency_percentage,omitempty"`  // percent
}

// WhoopStageSummary is a WHOOP sleep's stage summary; every duration is in
// milliseconds.
type WhoopStageSummary struct {
	TotalInBedTimeMilli         int64 `json:"total_in_bed_time_milli"`
	TotalAwakeTimeMilli         int64 `json:"total_awake_time_milli"`
	TotalNoDataTimeMilli        int64 `json:"total_no_data_time_milli"`
	TotalLightSleepTimeMilli    int64 `json:"total_light_sleep_time_milli"`
	TotalSlowWaveSleepTimeMilli int64 `json:"total_slow_wave_sleep_time_milli"`
	TotalRemSleepTimeMilli      int64 `json:"total_rem_sleep_time_milli"`
	SleepCycleCount             int   `json:"sleep_cycle_count"`
	DisturbanceCount            int   `json:"disturbance_count"`
}

// WhoopRecoveryRecord is a WHOOP v2 recovery (GET /v2/recovery). It has no
// id of its own: WHOOP keys it by cycle_id and links it to a sleep by
// sleep_id.
type WhoopRecoveryRecord struct {
	CycleID    int64               `json:"cycle_id"`
	SleepID    string              `json:"sleep_id"`
	UserID     int64               `json:"user_id,omitempty"`
	CreatedAt  string              `json:"created_at"`
	UpdatedAt  string              `json:"updated_at,omitempty"`
	ScoreState string              `json:"score_state"`
	Score      *WhoopRecoveryScore `json:"score,omitempty"`
}

// WhoopRecoveryScore is the score of a SCORED WHOOP recovery.
type WhoopRecoveryScore struct {
	UserCalibrating  bool     `json:"user_calibrating"`
	RecoveryScore    *float64 `json:"recovery_score,omitempty"`     // 0–100
	RestingHeartRate *float64 `json:"resting_heart_rate,omitempty"` // bpm
	HRVRMSSDMilli    *float64 `json:"hrv_rmssd_milli,omitempty"`    // ms (RMSSD)
	SpO2Percentage   *float64 `json:"spo2_percentage,omitempty"`    // percent
	SkinTempCelsius  *float64 `json:"skin_temp_celsius,omitempty"`  // °C, absolute
}

// WhoopCycleRecord is a WHOOP v2 physiological cycle (GET /v2/cycle). End is
// null while the cycle is in progress.
type WhoopCycleRecord struct {
	ID             int64            `json:"id"`
	UserID         int64            `json:"user_id,omitempty"`
	CreatedAt      string           `json:"created_at,omitempty"`
	UpdatedAt      string           `json:"updated_at,omitempty"`
	Start          string           `json:"start"`
	End            *string          `json:"end"`
	TimezoneOffset string           `json:"timezone_offset"`
	ScoreState     string           `json:"score_state"`
	Score          *WhoopCycleScore `json:"score,omitempty"`
}

// WhoopCycleScore is the score of a SCORED WHOOP cycle.
type WhoopCycleScore struct {
	Strain           *float64 `json:"strain,omitempty"` // 0–21
	Kilojoule        *float64 `json:"kilojoule,omitempty"`
	AverageHeartRate *float64 `json:"average_heart_rate,omitempty"`
	MaxHeartRate     *float64 `json:"max_heart_rate,omitempty"`
}

// WhoopPage is one page of a WHOOP v2 collection as the API returns it.
type WhoopPage[T any] struct {
	Records   []T     `json:"records"`
	NextToken *string `json:"next_token"`
}

// WhoopBundle holds one page per WHOOP collection; the golden files use it.
// Any member may be nil.
type WhoopBundle struct {
	Sleep    *WhoopPage[WhoopSleepRecord]    `json:"sleep,omitempty"`
	Recovery *WhoopPage[WhoopRecoveryRecord] `json:"recovery,omitempty"`
	Cycle    *WhoopPage[WhoopCycleRecord]    `json:"cycle,omitempty"`
}

// ParseWHOOP converts a WHOOP v2 payload (a page or a bundle; see the
// package doc) into samples with Source "whoop":
//
//   - sleep: sleep_duration (min) = light + slow-wave + REM milliseconds ÷
//     60 000, sleep_efficiency (percent), respiratory_rate (breaths/min);
//     observed at the sleep's end, on the local date of the end at
//     timezone_offset (the wake day).
//   - recovery: resting_hr (bpm), hrv_rmssd (ms), recovery_score (score;
//     withheld and reported while user_calibrating), spo2 (percent),
//     skin_temperature (celsius); observed at its sleep's end and wake day
//     when the sleep is in the same payload, else at created_at in
//     created_at's own offset (WHOOP sends UTC, so send sleep and recovery
//     together).
//   - cycle: strain (score), observed at the cycle's start on its local
//     date; cycles still in progress (end null) are skipped.
//
// Only score_state SCORED is ingested; PENDING_SCORE, UNSCORABLE and naps
// are skipped and reported, as are sleeps whose stage summary is
// inconsistent (time in bed < light + SWS + REM, a negative stage, or time
// in bed longer than end − start), records with unparseable times and all
// but the longest main sleep of a local day. Provider zeros are passed
// through (validation stores them as missing).
//
// It returns an *engine.Error with code EINVALID when payload is not JSON of
// the documented shape (including a field of the wrong JSON type).
func ParseWHOOP(payload []byte) (Result, error) {
	top, err := decodeObject("WHOOP", payload)
	if err != nil {
		return Result{}, err
	}
	var sleeps []WhoopSleepRecord
	var recoveries []WhoopRecoveryRecord
	var cycles []WhoopCycleRecord
	if raw, ok := top["records"]; ok {
		recs, err := rawArray("WHOOP", raw)
		if err != nil {
			return Result{}, err
		}
		for _, r := range recs {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(r, &fields); err != nil {
				return Result{}, invalidJSON("WHOOP", err)
			}
			switch {
			case has(fields, "sleep_id"):
				err = decodeInto(r, &recoveries)
			case has(fields, "nap"):
				err = decodeInto(r, &sleeps)
			case has(fields, "start"):
				err = decodeInto(r, &cycles)
			default:
				return Result{}, engine.Errorf(engine.EINVALID,
					"a WHOOP record is neither a sleep, a recovery nor a cycle (no nap, sleep_id or start field)")
			}
			if err != nil {
				return Result{}, invalidJSON("WHOOP", err)
			}
		}
	} else {
		if !has(top, WhoopSleep) && !has(top, WhoopRecovery) && !has(top, WhoopCycle) {
			return Result{}, engine.Errorf(engine.EINVALID,
				"the WHOOP payload must hold \"records\" (one page) or \"sleep\", \"recovery\" or \"cycle\" pages")
		}
		var b WhoopBundle
		if err := strictUnmarshal(payload, &b); err != nil {
			return Result{}, invalidJSON("WHOOP", err)
		}
		if b.Sleep != nil {
			sleeps = b.Sleep.Records
		}
		if b.Recovery != nil {
			recoveries = b.Recovery.Records
		}
		if b.Cycle != nil {
			cycles = b.Cycle.Records
		}
	}

	bld := newBuilder(metrics.SourceWhoop)
	sleepAnchors := whoopSleeps(bld, sleeps)
	whoopRecoveries(bld, recoveries, sleepAnchors)
	whoopCycles(bld, cycles)
	return bld.res, nil
}

func has(m map[string]json.RawMessage, key string) bool {
	_, ok := m[key]
	return ok
}

func decodeInto[T any](raw json.RawMessage, into *[]T) error {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*into = append(*into, v)
	return nil
}

// latest keeps, for each id, the record with the latest updated_at (ties:
// the later one in the payload) and reports the others as superseded. The
// kept records stay in payload order of their first occurrence.
func latest[T any](b *builder, recs []T, id func(T) string, updated func(T) string) []T {
	best := map[string]int{}
	var order []string
	for i, r := range recs {
		k := id(r)
		j, ok := best[k]
		if !ok {
			best[k] = i
			order = append(order, k)
			continue
		}
		if !laterThan(updated(recs[j]), updated(r)) {
			best[k] = i
		}
		b.skip(k, "superseded by a later version of the same record in this payload")
	}
	out := make([]T, 0, len(order))
	for _, k := range order {
		out = append(out, recs[best[k]])
	}
	return out
}

// laterThan reports whether timestamp a is strictly after b; unparseable or
// empty timestamps count as earliest.
func laterThan(a, b string) bool {
	ta, errA := parseTime(a)
	tb, errB := parseTime(b)
	switch {
	case errA != nil:
		return false
	case errB != nil:
		return true
	}
	return ta.After(tb)
}

// scoreSkip reports a record that is not SCORED and returns true.
func scoreSkip(b *builder, id, state string) bool {
	switch state {
	case WhoopScored:
		return false
	case WhoopPendingScore:
		b.skip(id, "score_state is PENDING_SCORE: not scored yet")
	case WhoopUnscorable:
		b.skip(id, "score_state is UNSCORABLE: WHOOP could not score it")
	default:
		b.skip(id, "score_state is %q, not SCORED", state)
	}
	return true
}

type whoopMainSleep struct {
	id      string
	a       anchor
	asleep  int64 // ms
	samples func()
}

// whoopSleeps emits the sleep samples and returns the anchor (end, offset,
// wake day) of every sleep whose times parse, keyed by sleep id, for
// linking recoveries.
func whoopSleeps(b *builder, recs []WhoopSleepRecord) map[string]anchor {
	recs = latest(b, recs, func(r WhoopSleepRecord) string { return WhoopSleep + "/" + r.ID },
		func(r WhoopSleepRecord) string { return r.UpdatedAt })
	anchors := map[string]anchor{}
	var mains []whoopMainSleep
	mainOfDay := map[string]int{}
	for _, r := range recs {
		id := WhoopSleep + "/" + r.ID
		start, errS := parseTime(r.Start)
		end, errE := parseTime(r.End)
		off, errO := parseOffset(r.TimezoneOffset)
		timesOK := errS == nil && errE == nil && errO == nil
		if timesOK {
			anchors[r.ID] = newAnchor(end, off)
		}
		if scoreSkip(b, id, r.ScoreState) {
			continue
		}
		if r.Nap {
			b.skip(id, "nap: only the main sleep is ingested")
			continue
		}
		switch {
		case errS != nil:
			b.skip(id, "start: %v", errS)
			continue
		case errE != nil:
			b.skip(id, "end: %v", errE)
			continue
		case errO != nil:
			b.skip(id, "timezone_offset: %v", errO)
			continue
		case !end.After(start):
			b.skip(id, "end is not after start")
			continue
		}
		if r.Score == nil || r.Score.StageSummary == nil {
			b.skip(id, "SCORED sleep without a stage summary")
			continue
		}
		st := *r.Score.StageSummary
		if st.TotalInBedTimeMilli < 0 || st.TotalAwakeTimeMilli < 0 || st.TotalNoDataTimeMilli < 0 ||
			st.TotalLightSleepTimeMilli < 0 || st.TotalSlowWaveSleepTimeMilli < 0 || st.TotalRemSleepTimeMilli < 0 {
			b.skip(id, "stage summary has a negative duration")
			continue
		}
		asleep := st.TotalLightSleepTimeMilli + st.TotalSlowWaveSleepTimeMilli + st.TotalRemSleepTimeMilli
		if st.TotalInBedTimeMilli < asleep {
			b.skip(id, "time in bed (%d ms) is less than total sleep (%d ms)", st.TotalInBedTimeMilli, asleep)
			continue
		}
		if span := end.Sub(start).Milliseconds(); st.TotalInBedTimeMilli > span+time.Minute.Milliseconds() {
			b.skip(id, "time in bed (%d ms) is longer than end − start (%d ms)", st.TotalInBedTimeMilli, span)
			continue
		}
		a := newAnchor(end, off)
		score := *r.Score
		m := whoopMainSleep{id: id, a: a, asleep: asleep, samples: func() {
			minutes := float64(asleep) / 60000 // ms → min, one rounding
			b.add(id, metrics.KeySleepDuration, &minutes, metrics.UnitMinute, a)
			b.add(id, metrics.KeySleepEfficiency, score.SleepEfficiencyPercentage, metrics.UnitPercent, a)
			b.add(id, metrics.KeyRespiratoryRate, score.RespiratoryRate, metrics.UnitBreathsPerMinute, a)
		}}
		if j, ok := mainOfDay[a.day]; ok {
			if mains[j].asleep >= asleep {
				b.skip(id, "another main sleep on %s is longer", a.day)
				continue
			}
			b.skip(mains[j].id, "another main sleep on %s is longer", a.day)
			mains[j].samples = nil
		}
		mainOfDay[a.day] = len(mains)
		mains = append(mains, m)
	}
	for _, m := range mains {
		if m.samples != nil {
			m.samples()
		}
	}
	return anchors
}

func whoopRecoveries(b *builder, recs []WhoopRecoveryRecord, sleeps map[string]anchor) {
	recs = latest(b, recs, func(r WhoopRecoveryRecord) string {
		return WhoopRecovery + "/" + strconv.FormatInt(r.CycleID, 10)
	}, func(r WhoopRecoveryRecord) string { return r.UpdatedAt })
	for _, r := range recs {
		id := WhoopRecovery + "/" + strconv.FormatInt(r.CycleID, 10)
		if scoreSkip(b, id, r.ScoreState) {
			continue
		}
		if r.Score == nil {
			b.skip(id, "SCORED recovery without a score")
			continue
		}
		a, ok := sleeps[r.SleepID]
		if !ok {
			created, err := parseTime(r.CreatedAt)
			if err != nil {
				b.skip(id, "its sleep is not in the payload and created_at: %v", err)
				continue
			}
			a = newAnchor(created, offsetOf(created))
		}
		s := r.Score
		b.add(id, metrics.KeyRestingHR, s.RestingHeartRate, metrics.UnitBPM, a)
		b.add(id, metrics.KeyHRVRMSSD, s.HRVRMSSDMilli, metrics.UnitMillisecond, a)
		if s.UserCalibrating && s.RecoveryScore != nil {
			b.skip(id, "recovery_score withheld while user_calibrating")
		} else {
			b.add(id, metrics.KeyRecoveryScore, s.RecoveryScore, metrics.UnitScore, a)
		}
		b.add(id, metrics.KeySpO2, s.SpO2Percentage, metrics.UnitPercent, a)
		b.add(id, metrics.KeySkinTemperature, s.SkinTempCelsius, metrics.UnitCelsius, a)
	}
}

func whoopCycles(b *builder, recs []WhoopCycleRecord) {
	recs = latest(b, recs, func(r WhoopCycleRecord) string {
		return WhoopCycle + "/" + strconv.FormatInt(r.ID, 10)
	}, func(r WhoopCycleRecord) string { return r.UpdatedAt })
	for _, r := range recs {
		id := WhoopCycle + "/" + strconv.FormatInt(r.ID, 10)
		if scoreSkip(b, id, r.ScoreState) {
			continue
		}
		if r.End == nil {
			b.skip(id, "cycle in progress: strain is not final")
			continue
		}
		start, err := parseTime(r.Start)
		if err != nil {
			b.skip(id, "start: %v", err)
			continue
		}
		off, err := parseOffset(r.TimezoneOffset)
		if err != nil {
			b.skip(id, "timezone_offset: %v", err)
			continue
		}
		if r.Score == nil {
			b.skip(id, "SCORED cycle without a score")
			continue
		}
		b.add(id, metrics.KeyStrain, r.Score.Strain, metrics.UnitScore, newAnchor(start, off))
	}
}
