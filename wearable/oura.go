package wearable

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// NewOura is the Oura v2 client (cloud.ouraring.com/v2/docs): OAuth at
// cloud.ouraring.com/oauth/authorize and api.ouraring.com/oauth/token, data
// at api.ouraring.com: GET /v2/usercollection/sleep, daily_readiness,
// daily_activity (start_date, end_date, next_token; pages answer
// {"data": [...], "next_token": "..."}), the account id from
// /v2/usercollection/personal_info, revocation with GET
// /oauth/revoke?access_token=…. Heart-rate samples are not read: no metric
// of the registry comes from them.
func NewOura(cfg Config) *Client {
	return newClient(kind{ //nolint:gosec // G101: token endpoint URLs, not credentials
		name:     "OURA",
		authURL:  "https://cloud.ouraring.com/oauth/authorize",
		tokenURL: "https://api.ouraring.com/oauth/token",
		apiBase:  "https://api.ouraring.com",
		scopes:   []string{"daily", "personal"},
		collections: []collection{
			{providers.OuraSleep, "/v2/usercollection/sleep"},
			{providers.OuraDailyReadiness, "/v2/usercollection/daily_readiness"},
			{providers.OuraDailyActivity, "/v2/usercollection/daily_activity"},
		},
		recordsKey:  "data",
		profilePath: "/v2/usercollection/personal_info",
		profileID: func(b []byte) (string, error) {
			var p struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(b, &p); err != nil || p.ID == "" {
				return "", engine.Errorf(engine.EINVALID, "Oura returned personal info without id")
			}
			return p.ID, nil
		},
		pageQuery: func(q url.Values, since, until time.Time, next string) {
			q.Set("start_date", since.UTC().Format(time.DateOnly))
			q.Set("end_date", until.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
			if next != "" {
				q.Set("next_token", next)
			}
		},
		revoke: func(ctx context.Context, c *Client, tok connect.Token) error {
			u := strings.TrimSuffix(c.k.tokenURL, "/token") + "/revoke?" + url.Values{"access_token": {tok.Access}}.Encode()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			resp, err := c.http.Do(req)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return engine.Errorf(engine.EINTERNAL, "Oura revocation answered HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}, cfg)
}

// verifyOura checks x-oura-signature: hex HMAC-SHA256 of x-oura-timestamp
// (Unix seconds) ‖ body. The body is {"event_type": "update", "data_type":
// "sleep", "object_id": "...", "event_time": "...", "user_id": "..."}.
func (c *Client) verifyOura(h http.Header, body []byte, now time.Time) (Webhook, error) {
	ts := h.Get("x-oura-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Webhook{}, engine.Errorf(engine.EUNAUTHORIZED, "the webhook has no valid x-oura-timestamp")
	}
	sig, err := hex.DecodeString(h.Get("x-oura-signature"))
	if err != nil || len(sig) == 0 {
		return Webhook{}, engine.Errorf(engine.EUNAUTHORIZED, "the webhook has no valid x-oura-signature")
	}
	if err := c.checkSignature(ts, time.Unix(sec, 0), body, sig, now); err != nil {
		return Webhook{}, err
	}
	var ev struct {
		EventType string `json:"event_type"`
		DataType  string `json:"data_type"`
		ObjectID  string `json:"object_id"`
		EventTime string `json:"event_time"`
		UserID    string `json:"user_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.UserID == "" || ev.DataType == "" {
		return Webhook{}, engine.Errorf(engine.EINVALID, "the Oura webhook body is not of the documented shape")
	}
	return Webhook{UserID: ev.UserID, ID: ev.DataType + "/" + ev.ObjectID + "/" + ev.EventType + "/" + ev.EventTime, Type: ev.DataType + "." + ev.EventType}, nil
}
