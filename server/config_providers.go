package server

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
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
	// Imports configures uploaded health-data files (importHealthData).
	Imports ImportsConfig
}

// ImportsConfig configures uploads of health-data files.
type ImportsConfig struct {
	// SpoolDir holds uploads until their job has imported them
	// (IMPORT_SPOOL_DIR, default DATA_DIR/imports). A worker running in
	// another process must see the same folder (a shared volume).
	SpoolDir string
	// MaxBytes bounds one uploaded file (IMPORT_MAX_BYTES, 2 GiB).
	MaxBytes int64
	// UploadTimeout bounds reading one upload request (IMPORT_UPLOAD_TIMEOUT,
	// 30m; other requests keep the server's 30 s read timeout).
	UploadTimeout time.Duration
	// ProgressInterval is the least time between two IMPORT_PROGRESS feed
	// events of one import (IMPORT_PROGRESS_INTERVAL, 2s).
	ProgressInterval time.Duration
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
		Imports: ImportsConfig{
			SpoolDir: strings.TrimSpace(getenv("IMPORT_SPOOL_DIR")), MaxBytes: 2 << 30,
			UploadTimeout: 30 * time.Minute, ProgressInterval: 2 * time.Second,
		},

		OuraVerificationToken: strings.TrimSpace(getenv("OURA_WEBHOOK_VERIFICATION_TOKEN")),
	}
	if s := strings.TrimSpace(getenv("IMPORT_MAX_BYTES")); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1024 || n > 64<<30 {
			*errs = append(*errs, fmt.Errorf("IMPORT_MAX_BYTES must be an integer between 1024 and 68719476736, got %q", s))
		}
		c.Imports.MaxBytes = n
	}
	for name, dst := range map[string]*time.Duration{
		"PROVIDER_SYNC_INTERVAL": &c.SyncInterval, "PROVIDER_MAX_RETRY_WAIT": &c.MaxRetryWait,
		"IMPORT_UPLOAD_TIMEOUT": &c.Imports.UploadTimeout, "IMPORT_PROGRESS_INTERVAL": &c.Imports.ProgressInterval,
	} {
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
