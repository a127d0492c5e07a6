package wearable

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// NewWHOOP is the WHOOP v2 client (developer.whoop.com): OAuth at
// api.prod.whoop.com/oauth/oauth2, data under api.prod.whoop.com/developer:
// GET /v2/activity/sleep, /v2/recovery, /v2/cycle (limit ≤ 25, start, end,
// nextToken; pages answer {"records": [...], "next_token": "..."}), the
// account id from /v2/user/profile/basic, revocation with DELETE
// /v2/user/access. Workouts are not read: no metric of the registry comes
// from them.
func NewWHOOP(cfg Config) *Client {
	return newClient(kind{ //nolint:gosec // G101: token endpoint URLs, not credentials
		name:     "WHOOP",
		authURL:  "https://api.prod.whoop.com/oauth/oauth2/auth",
		tokenURL: "https://api.prod.whoop.com/oauth/oauth2/token",
		apiBase:  "https://api.prod.whoop.com/developer",
		scopes:   []string{"read:recovery", "read:cycles", "read:sleep", "read:profile", "offline"},
		collections: []collection{
			{providers.WhoopSleep, "/v2/activity/sleep"},
			{providers.WhoopRecovery, "/v2/recovery"},
			{providers.WhoopCycle, "/v2/cycle"},
		},
		recordsKey:  "records",
		profilePath: "/v2/user/profile/basic",
		profileID: func(b []byte) (string, error) {
			var p struct {
				UserID int64 `json:"user_id"`
			}
			if err := json.Unmarshal(b, &p); err != nil || p.UserID == 0 {
				return "", engine.Errorf(engine.EINVALID, "WHOOP returned a profile without user_id")
			}
			return strconv.FormatInt(p.UserID, 10), nil
		},
		pageQuery: func(q url.Values, since, until time.Time, next string) {
			q.Set("limit", "25")
			q.Set("start", since.UTC().Format(time.RFC3339))
			q.Set("end", until.UTC().Format(time.RFC3339))
			if next != "" {
				q.Set("nextToken", next)
			}
		},
		revoke: func(ctx context.Context, c *Client, tok connect.Token) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.k.apiBase+"/v2/user/access", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok.Access)
			resp, err := c.http.Do(req)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return engine.Errorf(engine.EINTERNAL, "WHOOP revocation answered HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}, cfg)
}

// verifyWHOOP checks X-WHOOP-Signature: base64 HMAC-SHA256 of
// X-WHOOP-Signature-Timestamp (Unix milliseconds) ‖ body. The body is
// {"user_id": 10129, "id": "...", "type": "recovery.updated", "trace_id": "..."}.
func (c *Client) verifyWHOOP(h http.Header, body []byte, now time.Time) (Webhook, error) {
	ts := h.Get("X-WHOOP-Signature-Timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Webhook{}, engine.Errorf(engine.EUNAUTHORIZED, "the webhook has no valid X-WHOOP-Signature-Timestamp")
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("X-WHOOP-Signature"))
	if err != nil || len(sig) == 0 {
		return Webhook{}, engine.Errorf(engine.EUNAUTHORIZED, "the webhook has no valid X-WHOOP-Signature")
	}
	if err := c.checkSignature(ts, time.UnixMilli(ms), body, sig, now); err != nil {
		return Webhook{}, err
	}
	var ev struct {
		UserID  int64           `json:"user_id"`
		ID      json.RawMessage `json:"id"`
		Type    string          `json:"type"`
		TraceID string          `json:"trace_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.UserID == 0 || ev.Type == "" {
		return Webhook{}, engine.Errorf(engine.EINVALID, "the WHOOP webhook body is not of the documented shape")
	}
	id := ev.TraceID
	if id == "" {
		id = ev.Type + "/" + string(ev.ID)
	}
	return Webhook{UserID: strconv.FormatInt(ev.UserID, 10), ID: id, Type: ev.Type}, nil
}
