package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
