package server_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/observationrevision"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const providerMutation = `mutation($p: ProviderConnectionProvider!, $payload: String!) {
  ingestProviderPayload(provider: $p, payload: $payload) {
    result { inserted duplicates missing }
    skipped { recordID reason }
  }
}`

// TestIngestProviderPayload posts a WHOOP export (the G1 golden file, with
// one nap) as the provider returns it.
func TestIngestProviderPayload(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "whoop@example.com")
	pinClock(srv, 61)
	payload, err := os.ReadFile("../golden/testdata/g1_clean/whoop.json")
	require.NoError(t, err)
	type out struct {
		IngestProviderPayload struct {
			Result struct {
				Inserted, Duplicates, Missing int
			} `json:"result"`
			Skipped []struct{ RecordID, Reason string } `json:"skipped"`
		} `json:"ingestProviderPayload"`
	}
	var first out
	srv.Do(t, uid, providerMutation, map[string]any{"p": "WHOOP", "payload": string(payload)}).Decode(t, &first)
	r := first.IngestProviderPayload
	require.Equal(t, 180, r.Result.Inserted, "sleep, efficiency and respiratory rate for 60 nights")
	require.Len(t, r.Skipped, 1)
	require.Contains(t, r.Skipped[0].Reason, "nap")

	var again out
	srv.Do(t, uid, providerMutation, map[string]any{"p": "WHOOP", "payload": string(payload)}).Decode(t, &again)
	require.Zero(t, again.IngestProviderPayload.Result.Inserted)
	require.Equal(t, 180, again.IngestProviderPayload.Result.Duplicates)

	before := countObs(t, srv, uid)
	for name, c := range map[string]struct {
		vars map[string]any
		code string
	}{
		// Not a value of the enum: the variable does not validate.
		"unknown provider":         {map[string]any{"p": "garmin", "payload": string(payload)}, "GRAPHQL_VALIDATION_FAILED"},
		"lower-case provider":      {map[string]any{"p": "whoop", "payload": string(payload)}, "EINVALID"},
		"provider with no adapter": {map[string]any{"p": "FITBIT", "payload": string(payload)}, "EINVALID"},
		"malformed JSON":           {map[string]any{"p": "WHOOP", "payload": `{"records": [`}, "EINVALID"},
		"not an object":            {map[string]any{"p": "OURA", "payload": `[1,2,3]`}, "EINVALID"},
	} {
		resp := srv.Do(t, uid, providerMutation, c.vars)
		require.Equal(t, []string{c.code}, resp.Codes(), name)
		if name != "malformed JSON" && name != "not an object" {
			require.Contains(t, strings.ToLower(resp.Errors[0].Message), "provider", name)
		}
	}
	require.Equal(t, before, countObs(t, srv, uid))
}

// TestIngestProviderPayloadRevisesRescores: a payload that rescores a
// stored night (the golden rescored_record files) revises the stored
// values as a provider sync does — new value, an ObservationRevision with
// the previous one, an audit event — instead of keeping the first value;
// the same payload again, or a replayed idempotency key, revises nothing.
func TestIngestProviderPayloadRevisesRescores(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid := srv.CreateUser(t, "rescore@example.com")
	srv.App.SetClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	const m = `mutation($payload: String!, $key: String) {
	  ingestProviderPayload(provider: WHOOP, payload: $payload, idempotencyKey: $key) { result { inserted duplicates replayed } revised } }`
	type out struct {
		IngestProviderPayload struct {
			Result struct {
				Inserted, Duplicates int
				Replayed             bool
			} `json:"result"`
			Revised int `json:"revised"`
		} `json:"ingestProviderPayload"`
	}
	send := func(file, key string) out {
		t.Helper()
		b, err := os.ReadFile("../golden/testdata/rescored_record/" + file)
		require.NoError(t, err)
		var o out
		vars := map[string]any{"payload": string(b)}
		if key != "" {
			vars["key"] = key
		}
		srv.Do(t, uid, m, vars).Decode(t, &o)
		return o
	}
	sleepValue := func() float64 {
		t.Helper()
		o, err := srv.App.Store.Client.Observation.Query().Where(observation.UserID(uid), observation.Metric(metrics.KeySleepDuration),
			observation.LocalDay("2026-04-30")).Only(viewer.System(context.Background()))
		require.NoError(t, err)
		return *o.Value
	}
	sc, err := os.ReadFile("../golden/testdata/rescored_record/scenario.json")
	require.NoError(t, err)
	var planted struct {
		Planted struct {
			First    float64 `json:"first_scored_sleep_min"`
			Rescored float64 `json:"rescored_sleep_min"`
		} `json:"planted"`
	}
	require.NoError(t, json.Unmarshal(sc, &planted))

	first := send("whoop_rescored.json", "first")
	require.Equal(t, 8, first.IngestProviderPayload.Result.Inserted)
	require.Zero(t, first.IngestProviderPayload.Revised)
	require.InDelta(t, planted.Planted.First, sleepValue(), 1e-9)

	again := send("whoop_rescored_again.json", "")
	require.Zero(t, again.IngestProviderPayload.Result.Inserted)
	require.Equal(t, 8, again.IngestProviderPayload.Result.Duplicates)
	require.Equal(t, changedSamples(t), again.IngestProviderPayload.Revised, "every rescored value")
	require.InDelta(t, planted.Planted.Rescored, sleepValue(), 1e-9, "the rescored value wins")
	revs, err := srv.App.Store.Client.ObservationRevision.Query().Where(observationrevision.UserID(uid)).All(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Len(t, revs, changedSamples(t))
	audits, err := srv.App.Store.Client.AuditEvent.Query().Where(auditevent.UserID(uid), auditevent.Action("revise")).Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Equal(t, 1, audits)

	require.Zero(t, send("whoop_rescored_again.json", "").IngestProviderPayload.Revised, "equal values change nothing")
	replay := send("whoop_rescored.json", "first")
	require.True(t, replay.IngestProviderPayload.Result.Replayed)
	require.Zero(t, replay.IngestProviderPayload.Revised, "a replayed key revises nothing")
	require.InDelta(t, planted.Planted.Rescored, sleepValue(), 1e-9)

	for _, p := range []string{"FITBIT", "MANUAL", "API"} {
		resp := srv.Do(t, uid, providerMutation, map[string]any{"p": p, "payload": `{}`})
		require.Equal(t, []string{"EINVALID"}, resp.Codes(), p)
	}
}

// changedSamples counts the samples of the rescored night whose value the
// second payload changes.
func changedSamples(t *testing.T) int {
	t.Helper()
	parse := func(file string) map[string]float64 {
		b, err := os.ReadFile("../golden/testdata/rescored_record/" + file)
		require.NoError(t, err)
		res, err := providers.Parse(metrics.SourceWhoop, b)
		require.NoError(t, err)
		out := map[string]float64{}
		for _, s := range res.Samples {
			out[s.Metric+"|"+s.LocalDay] = s.Value
		}
		return out
	}
	a, b := parse("whoop_rescored.json"), parse("whoop_rescored_again.json")
	n := 0
	for k, v := range b {
		if a[k] != v {
			n++
		}
	}
	require.Positive(t, n)
	return n
}
