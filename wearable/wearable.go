// Package wearable is the adapter to the WHOOP and Oura cloud APIs: OAuth
// 2.0 (authorization code + PKCE, refresh, revocation) with
// golang.org/x/oauth2, paged reads of their v2 collections with 429 +
// Retry-After backoff, and webhook signature checks. It implements
// app/connect.Provider; what the records mean is engine/providers' job (the
// same adapters as ingestProviderPayload), so Fetch returns the pages as the
// bundle those parsers read. It is a top-level adapter (like feed/ and
// llm/) because app/ may not do HTTP.
package wearable

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// Defaults.
const (
	// DefaultMaxRetryWait is the longest Retry-After a fetch waits out in
	// place; a longer one fails the sync with ELIMIT and the job retries.
	DefaultMaxRetryWait = 2 * time.Minute
	// maxRateLimitRetries bounds the 429 retries of one request.
	maxRateLimitRetries = 5
	// maxPages bounds the pages of one collection in one sync.
	maxPages = 400
	// maxBody bounds one response body.
	maxBody = 8 << 20
)

// Config configures one provider's client.
type Config struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string // this server's callback, e.g. https://api.example.com/oauth/whoop/callback
	// BaseURL replaces the provider's hosts (auth, token, API) with one
	// origin, for tests against a fake; empty = the real endpoints.
	BaseURL      string
	HTTPClient   *http.Client  // nil: a client with a 30 s timeout
	MaxRetryWait time.Duration // ≤ 0: DefaultMaxRetryWait
	// Sleep waits d or until ctx ends (nil: a timer); tests may record it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// kind is what differs between WHOOP and Oura.
type kind struct {
	name        string
	authURL     string
	tokenURL    string
	apiBase     string
	scopes      []string
	collections []collection
	profilePath string
	profileID   func([]byte) (string, error)
	revoke      func(ctx context.Context, c *Client, tok connect.Token) error
	pageQuery   func(q url.Values, since, until time.Time, next string)
	// recordsKey is the JSON key of a page's records ("records", "data").
	recordsKey string
}

// collection is one paged collection: its bundle key and path.
type collection struct{ key, path string }

// Client talks to one provider.
type Client struct {
	k     kind
	cfg   Config
	oauth *oauth2.Config
	http  *http.Client
}

func newClient(k kind, cfg Config) *Client {
	if cfg.BaseURL != "" {
		base := strings.TrimRight(cfg.BaseURL, "/")
		k.authURL = base + pathOf(k.authURL)
		k.tokenURL = base + pathOf(k.tokenURL)
		k.apiBase = base + pathOf(k.apiBase)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Client{k: k, cfg: cfg, http: hc, oauth: &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: k.scopes,
		Endpoint: oauth2.Endpoint{AuthURL: k.authURL, TokenURL: k.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}}
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Path
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Name is the provider's name, e.g. "WHOOP".
func (c *Client) Name() string { return c.k.name }

// AuthCodeURL implements connect.Provider.
func (c *Client) AuthCodeURL(state, verifier string) string {
	return c.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

func (c *Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// Exchange implements connect.Provider.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (connect.Token, error) {
	t, err := c.oauth.Exchange(c.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return connect.Token{}, c.tokenError(err, engine.EINVALID, "refused the authorization code; start connecting again")
	}
	return token(t), nil
}

// Refresh implements connect.Provider.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (connect.Token, error) {
	if refreshToken == "" {
		return connect.Token{}, engine.Errorf(engine.EUNAUTHORIZED, "%s access expired and there is no refresh token; connect again", c.k.name)
	}
	src := c.oauth.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	t, err := src.Token()
	if err != nil {
		return connect.Token{}, c.tokenError(err, engine.EUNAUTHORIZED, "refused to refresh the access; connect again")
	}
	return token(t), nil
}

// tokenError maps an OAuth token endpoint failure: a refusal (4xx) is code,
// anything else EINTERNAL (the sync retries). The provider's own message
// is not passed on.
func (c *Client) tokenError(err error, code, msg string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		return engine.Wrap(err, code, c.k.name+" "+msg)
	}
	return engine.Wrap(err, engine.EINTERNAL, c.k.name+" token endpoint failed")
}

func token(t *oauth2.Token) connect.Token {
	return connect.Token{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry}
}

// Revoke implements connect.Provider.
func (c *Client) Revoke(ctx context.Context, tok connect.Token) error {
	return c.k.revoke(ctx, c, tok)
}

// UserID implements connect.Provider.
func (c *Client) UserID(ctx context.Context, accessToken string) (string, error) {
	body, err := c.get(ctx, accessToken, c.k.apiBase+c.k.profilePath, nil)
	if err != nil {
		return "", err
	}
	return c.k.profileID(body)
}

// Fetch implements connect.Provider: every page of every collection in
// [since, until), as the bundle engine/providers parses.
func (c *Client) Fetch(ctx context.Context, accessToken string, since, until time.Time) ([]byte, error) {
	bundle := map[string]map[string]any{}
	for _, col := range c.k.collections {
		var all []json.RawMessage
		next := ""
		for page := 0; ; page++ {
			if page >= maxPages {
				return nil, engine.Errorf(engine.ELIMIT, "%s %s has more than %d pages in one sync window", c.k.name, col.key, maxPages)
			}
			q := url.Values{}
			c.k.pageQuery(q, since, until, next)
			body, err := c.get(ctx, accessToken, c.k.apiBase+col.path, q)
			if err != nil {
				return nil, err
			}
			var p struct {
				Records   []json.RawMessage `json:"records"`
				Data      []json.RawMessage `json:"data"`
				NextToken *string           `json:"next_token"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				return nil, engine.Wrap(err, engine.EINVALID, fmt.Sprintf("%s returned a %s page that is not JSON of the documented shape", c.k.name, col.key))
			}
			all = append(all, p.Records...)
			all = append(all, p.Data...)
			if p.NextToken == nil || *p.NextToken == "" || *p.NextToken == next {
				break
			}
			next = *p.NextToken
		}
		if all == nil {
			all = []json.RawMessage{}
		}
		bundle[col.key] = map[string]any{c.k.recordsKey: all}
	}
	return json.Marshal(bundle)
}

// get performs an authorized GET, waiting out 429 responses (Retry-After,
// else exponential from 1 s) up to MaxRetryWait each.
func (c *Client) get(ctx context.Context, accessToken, u string, q url.Values) ([]byte, error) {
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, engine.Wrap(err, engine.EINTERNAL, "building a provider request")
		}
		req.Header.Set("Authorization", "Bearer "+accessToken)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, engine.Wrap(err, engine.EINTERNAL, c.k.name+" did not answer")
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close()
		if err != nil {
			return nil, engine.Wrap(err, engine.EINTERNAL, c.k.name+" answer was cut off")
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return body, nil
		case http.StatusTooManyRequests:
			wait := retryAfter(resp.Header.Get("Retry-After"), attempt, time.Now())
			if attempt >= maxRateLimitRetries || wait > c.cfg.MaxRetryWait {
				return nil, engine.Errorf(engine.ELIMIT, "%s rate limit reached; the sync will be retried", c.k.name).
					WithDetails("retryAfterSeconds", int(wait.Seconds()))
			}
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return nil, engine.Wrap(err, engine.EINTERNAL, "sync cancelled")
			}
		case http.StatusUnauthorized:
			return nil, engine.Errorf(engine.EUNAUTHORIZED, "%s refused the access token; connect again", c.k.name)
		default:
			return nil, engine.Errorf(engine.EINTERNAL, "%s answered HTTP %d", c.k.name, resp.StatusCode)
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); without
// one it backs off exponentially from 1 s.
func retryAfter(h string, attempt int, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return time.Second << min(attempt, 6)
}

// Webhook is a verified webhook delivery.
type Webhook struct {
	UserID string // the provider's account id (connect.Provider.UserID)
	ID     string // the delivery's dedupe key (trace id or object id + event)
	Type   string
}

// VerifyWebhook checks a delivery's signature (HMAC-SHA256 with the client
// secret over timestamp ‖ body) and that its timestamp is within
// providers.WebhookTolerance of now, and decodes it. EUNAUTHORIZED for a
// bad or stale signature, EINVALID for a body of another shape.
func (c *Client) VerifyWebhook(h http.Header, body []byte, now time.Time) (Webhook, error) {
	switch c.k.name {
	case "WHOOP":
		return c.verifyWHOOP(h, body, now)
	default:
		return c.verifyOura(h, body, now)
	}
}

func (c *Client) checkSignature(ts string, at time.Time, body []byte, got []byte, now time.Time) error {
	if d := now.Sub(at); d > providers.WebhookTolerance || d < -providers.WebhookTolerance {
		return engine.Errorf(engine.EUNAUTHORIZED, "the webhook timestamp is too far from now (replayed or delayed)")
	}
	mac := hmac.New(sha256.New, []byte(c.cfg.ClientSecret))
	mac.Write([]byte(ts))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), got) {
		return engine.Errorf(engine.EUNAUTHORIZED, "the webhook signature does not match")
	}
	return nil
}

// SignWebhook returns the signature headers of body at time at, as the
// provider sends them (for fakes and tests).
func (c *Client) SignWebhook(body []byte, at time.Time) http.Header {
	h := http.Header{}
	mac := hmac.New(sha256.New, []byte(c.cfg.ClientSecret))
	switch c.k.name {
	case "WHOOP":
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		mac.Write([]byte(ts))
		mac.Write(body)
		h.Set("X-WHOOP-Signature-Timestamp", ts)
		h.Set("X-WHOOP-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	default:
		ts := strconv.FormatInt(at.Unix(), 10)
		mac.Write([]byte(ts))
		mac.Write(body)
		h.Set("x-oura-timestamp", ts)
		h.Set("x-oura-signature", strings.ToUpper(hex.EncodeToString(mac.Sum(nil))))
	}
	return h
}
