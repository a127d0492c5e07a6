package server

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/connect"
)

// ProvidersConfig configures wearable connections over OAuth 2.0.
type ProvidersConfig struct {
	// PublicURL is this server's public origin (PUBLIC_URL, e.g.
	// https://api.example.com); callbacks are PublicURL/oauth/{whoop,oura}/callback.
	PublicURL string
	WHOOP     OAuthClient // WHOOP_CLIENT_ID, WHOOP_CLIENT_SECRET, WHOOP_BASE_URL
	Oura      OAuthClient // OURA_CLIENT_ID, OURA_CLIENT_SECRET, OURA_BASE_URL
	// OuraVerificationToken answers Oura's webhook subscription handshake
	// (OURA_WEBHOOK_VERIFICATION_TOKEN; empty: the handshake is refused).
	OuraVerificationToken string
	// Keys seal OAuth tokens at rest (PROVIDER_TOKEN_KEYS:
	// "kid:base64-32-bytes[,kid:…]", the first seals); nil in dev mode
	// without the variable means an ephemeral ring.
	Keys *connect.KeyRing
	// SyncInterval is how often every connected provider is synced
	// (PROVIDER_SYNC_INTERVAL, 1h).
	SyncInterval time.Duration
	// MaxRetryWait is the longest Retry-After a sync waits out in place
	// (PROVIDER_MAX_RETRY_WAIT, 2m); longer, the job retries later.
	MaxRetryWait time.Duration
}

// OAuthClient is one provider's registered application.
type OAuthClient struct {
	ClientID     string
	ClientSecret string // also the webhook signing secret
	// BaseURL replaces the provider's hosts (a fake or a sandbox); empty =
	// the provider's real endpoints.
	BaseURL string
}

// Enabled reports whether the client is configured.
func (o OAuthClient) Enabled() bool { return o.ClientID != "" && o.ClientSecret != "" }

func loadProvidersConfig(getenv func(string) string, mode string, errs *[]error) ProvidersConfig {
	c := ProvidersConfig{
		PublicURL:    strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_URL")), "/"),
		WHOOP:        oauthClient(getenv, "WHOOP", errs),
		Oura:         oauthClient(getenv, "OURA", errs),
		SyncInterval: time.Hour,
		MaxRetryWait: 2 * time.Minute,

		OuraVerificationToken: strings.TrimSpace(getenv("OURA_WEBHOOK_VERIFICATION_TOKEN")),
	}
	for name, dst := range map[string]*time.Duration{"PROVIDER_SYNC_INTERVAL": &c.SyncInterval, "PROVIDER_MAX_RETRY_WAIT": &c.MaxRetryWait} {
		if s := getenv(name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				*errs = append(*errs, fmt.Errorf("%s must be a positive duration like 1h, got %q", name, s))
				continue
			}
			*dst = d
		}
	}
	if spec := getenv("PROVIDER_TOKEN_KEYS"); spec != "" {
		ring, err := connect.ParseKeyRing(spec)
		if err != nil {
			*errs = append(*errs, err)
		}
		c.Keys = ring
	}
	if !c.WHOOP.Enabled() && !c.Oura.Enabled() {
		return c
	}
	if c.PublicURL == "" {
		*errs = append(*errs, errors.New("PUBLIC_URL is needed for the OAuth callbacks when WHOOP or OURA is configured"))
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		*errs = append(*errs, fmt.Errorf("PUBLIC_URL must be an http(s) origin, got %q", c.PublicURL))
	}
	if c.Keys == nil && mode != ModeDev {
		*errs = append(*errs, errors.New("PROVIDER_TOKEN_KEYS is needed outside dev mode when WHOOP or OURA is configured (tokens are sealed at rest)"))
	}
	return c
}

func oauthClient(getenv func(string) string, prefix string, errs *[]error) OAuthClient {
	o := OAuthClient{
		ClientID:     strings.TrimSpace(getenv(prefix + "_CLIENT_ID")),
		ClientSecret: strings.TrimSpace(getenv(prefix + "_CLIENT_SECRET")),
		BaseURL:      strings.TrimRight(strings.TrimSpace(getenv(prefix+"_BASE_URL")), "/"),
	}
	if (o.ClientID == "") != (o.ClientSecret == "") {
		*errs = append(*errs, fmt.Errorf("%s_CLIENT_ID and %s_CLIENT_SECRET must be set together", prefix, prefix))
	}
	return o
}
