package wearable_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/wearable"
	"github.com/vitalgraph/vitalgraph/wearable/wearabletest"
)

// authorize runs the code flow against the fake and returns an access token.
func authorize(t *testing.T, f *wearabletest.Fake, c *wearable.Client) string {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := "verifier-0123456789-0123456789-0123456789-abc"
	resp, err := noFollow.Get(c.AuthCodeURL("state-1234", verifier))
	require.NoError(t, err)
	_ = resp.Body.Close()
	loc, err := resp.Location()
	require.NoError(t, err)
	_, err = c.Exchange(context.Background(), loc.Query().Get("code"), "wrong-verifier-0123456789-0123456789-012345")
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err), "PKCE: another verifier is refused")
	resp, err = noFollow.Get(c.AuthCodeURL("state-1234", verifier))
	require.NoError(t, err)
	_ = resp.Body.Close()
	loc, err = resp.Location()
	require.NoError(t, err)
	tok, err := c.Exchange(context.Background(), loc.Query().Get("code"), verifier)
	require.NoError(t, err)
	require.NotEmpty(t, tok.Refresh)
	require.WithinDuration(t, time.Now().Add(f.TokenTTL), tok.Expiry, time.Minute)
	return tok.Access
}

func TestWHOOPFetchPagesAndWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	f := wearabletest.NewWHOOP(t)
	f.PageSize = 4
	now := time.Now().UTC()
	var days []wearabletest.Day
	for i := 1; i <= 10; i++ {
		end := now.AddDate(0, 0, -i)
		days = append(days, wearabletest.Day{End: end, Offset: "+01:00", HRV: 50, RestingHR: 52, Updated: end})
	}
	f.SetDays(days)
	var slept []time.Duration
	c := wearable.NewWHOOP(wearable.Config{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret, RedirectURL: "http://app.test/cb", BaseURL: f.URL,
		MaxRetryWait: 3 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		},
	})
	access := authorize(t, f, c)
	id, err := c.UserID(context.Background(), access)
	require.NoError(t, err)
	require.Equal(t, f.AccountID, id)

	f.Throttle(2, 2*time.Second)
	payload, err := c.Fetch(context.Background(), access, now.AddDate(0, 0, -30), now)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, slept, "Retry-After is honoured")
	var bundle providers.WhoopBundle
	require.NoError(t, json.Unmarshal(payload, &bundle))
	require.Len(t, bundle.Sleep.Records, len(days), "every page of sleep")
	require.Len(t, bundle.Recovery.Records, len(days))
	require.Len(t, bundle.Cycle.Records, len(days))
	parsed, err := providers.ParseWHOOP(payload)
	require.NoError(t, err)
	require.NotEmpty(t, parsed.Samples)

	// A Retry-After beyond the limit fails the fetch with ELIMIT (the job
	// retries later) instead of blocking.
	f.Throttle(1, time.Minute)
	_, err = c.Fetch(context.Background(), access, now.AddDate(0, 0, -30), now)
	require.Equal(t, engine.ELIMIT, engine.ErrorCode(err))

	// A refused token is EUNAUTHORIZED; a refresh gets a working one and
	// the old refresh token stops working (rotation).
	f.ExpireAccessTokens()
	_, err = c.Fetch(context.Background(), access, now.AddDate(0, 0, -1), now)
	require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err))
	_, err = c.Refresh(context.Background(), "rt-never-issued")
	require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err))
}

func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, c := range map[string]*wearable.Client{
		"whoop": wearable.NewWHOOP(wearable.Config{ClientSecret: "s3cret"}),
		"oura":  wearable.NewOura(wearable.Config{ClientSecret: "s3cret"}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := []byte(`{"user_id": 42, "id": "abc", "type": "recovery.updated", "trace_id": "t1"}`)
			if name == "oura" {
				body = []byte(`{"event_type": "update", "data_type": "sleep", "object_id": "o1", "event_time": "2026-03-01T12:00:00Z", "user_id": "u42"}`)
			}
			ev, err := c.VerifyWebhook(c.SignWebhook(body, now), body, now.Add(time.Minute))
			require.NoError(t, err)
			require.NotEmpty(t, ev.UserID)
			require.NotEmpty(t, ev.ID)

			tampered := append([]byte{}, body...)
			tampered[len(tampered)-2] = 'X'
			_, err = c.VerifyWebhook(c.SignWebhook(body, now), tampered, now)
			require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err))
			_, err = c.VerifyWebhook(c.SignWebhook(body, now), body, now.Add(providers.WebhookTolerance+time.Second))
			require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err), "stale: a replay")
			other := wearable.NewWHOOP(wearable.Config{ClientSecret: "other"})
			if name == "oura" {
				other = wearable.NewOura(wearable.Config{ClientSecret: "other"})
			}
			_, err = c.VerifyWebhook(other.SignWebhook(body, now), body, now)
			require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err))
			_, err = c.VerifyWebhook(http.Header{}, body, now)
			require.Equal(t, engine.EUNAUTHORIZED, engine.ErrorCode(err))
			_, err = c.VerifyWebhook(c.SignWebhook([]byte(`[]`), now), []byte(`[]`), now)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		})
	}
}
