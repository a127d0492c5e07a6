package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/server/limits"
)

// Persisted-query modes (PERSISTED_QUERIES).
const (
	PersistedOff       = "off"       // no APQ, any document runs
	PersistedAPQ       = "apq"       // automatic persisted queries (Redis cache, else in-process LRU)
	PersistedAllowList = "allowlist" // only documents listed in PERSISTED_QUERIES_FILE run
)

// SecurityConfig is authentication and abuse-limit configuration. Zero
// values are safe: they mean the built-in default, HTTPS enforced outside
// dev, no cross-origin access, and (only for rate limits) no limit.
type SecurityConfig struct {
	JWTKeysFile        string         // JWT_KEYS_FILE: Ed25519 key ring (JSON); empty = ephemeral key, dev only
	JWTKeysReload      time.Duration  // JWT_KEYS_RELOAD: how often the key file is checked for changes (30s)
	JWTIssuer          string         // JWT_ISSUER: iss of access tokens (vitalgraph)
	JWTAudience        string         // JWT_AUDIENCE: aud of access tokens (vitalgraph-api)
	AccessTokenTTL     time.Duration  // ACCESS_TOKEN_TTL: access JWT lifetime (15m)
	RefreshTokenTTL    time.Duration  // REFRESH_TOKEN_TTL: refresh token lifetime (720h)
	CORSOrigins        []string       // CORS_ALLOWED_ORIGINS: comma-separated origins ("*" dev only)
	TrustedProxies     limits.Proxies // TRUSTED_PROXIES: CIDRs whose X-Forwarded-For/-Proto are believed
	AllowPlainHTTP     bool           // ALLOW_PLAIN_HTTP: serve plain HTTP outside dev (refused in production)
	RateLimitUser      int            // RATE_LIMIT_USER: requests per minute per user (600; 0 = off)
	RateLimitIP        int            // RATE_LIMIT_IP: requests per minute per client IP (1200; 0 = off)
	RateLimitAuth      int            // RATE_LIMIT_AUTH: sign-up/in/refresh/out per minute per IP (10; 0 = off)
	PersistedQueries   string         // PERSISTED_QUERIES: off | apq | allowlist (apq; allowlist in production when a file is set)
	PersistedQueryFile string         // PERSISTED_QUERIES_FILE: JSON {sha256: query} for allowlist mode
	MaxDepth           int            // MAX_QUERY_DEPTH (12)
	MaxCost            int            // MAX_QUERY_COST: connection-aware cost (5000)
	MaxAliases         int            // MAX_QUERY_ALIASES (30)
	MaxRootFields      int            // MAX_ROOT_FIELDS (10)
}

// withDefaults fills zero durations and names.
func (s SecurityConfig) withDefaults() SecurityConfig {
	if s.JWTKeysReload <= 0 {
		s.JWTKeysReload = 30 * time.Second
	}
	if s.JWTIssuer == "" {
		s.JWTIssuer = "vitalgraph"
	}
	if s.JWTAudience == "" {
		s.JWTAudience = "vitalgraph-api"
	}
	if s.AccessTokenTTL <= 0 {
		s.AccessTokenTTL = 15 * time.Minute
	}
	if s.RefreshTokenTTL <= 0 {
		s.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if s.PersistedQueries == "" {
		s.PersistedQueries = PersistedAPQ
	}
	return s
}

// AllowAnyOrigin reports whether CORS_ALLOWED_ORIGINS is "*".
func (s SecurityConfig) AllowAnyOrigin() bool {
	for _, o := range s.CORSOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}

// loadSecurityConfig reads the security settings and appends every problem
// to errs, including the unsafe combinations refused outside dev mode.
func loadSecurityConfig(getenv func(string) string, mode string, errs *[]error) SecurityConfig {
	s := SecurityConfig{
		JWTKeysFile:        strings.TrimSpace(getenv("JWT_KEYS_FILE")),
		JWTIssuer:          strings.TrimSpace(getenv("JWT_ISSUER")),
		JWTAudience:        strings.TrimSpace(getenv("JWT_AUDIENCE")),
		PersistedQueries:   strings.ToLower(strings.TrimSpace(getenv("PERSISTED_QUERIES"))),
		PersistedQueryFile: strings.TrimSpace(getenv("PERSISTED_QUERIES_FILE")),
		RateLimitUser:      600,
		RateLimitIP:        1200,
		RateLimitAuth:      10,
	}
	fail := func(format string, args ...any) { *errs = append(*errs, fmt.Errorf(format, args...)) }
	dur := func(name string, dst *time.Duration, lo, hi time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo || d > hi {
				fail("%s must be a duration between %s and %s, got %q", name, lo, hi, v)
				return
			}
			*dst = d
		}
	}
	num := func(name string, dst *int, lo, hi int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				fail("%s must be an integer between %d and %d, got %q", name, lo, hi, v)
				return
			}
			*dst = n
		}
	}
	dur("JWT_KEYS_RELOAD", &s.JWTKeysReload, time.Second, time.Hour)
	dur("ACCESS_TOKEN_TTL", &s.AccessTokenTTL, time.Minute, time.Hour)
	dur("REFRESH_TOKEN_TTL", &s.RefreshTokenTTL, time.Hour, 90*24*time.Hour)
	num("RATE_LIMIT_USER", &s.RateLimitUser, 0, 1_000_000)
	num("RATE_LIMIT_IP", &s.RateLimitIP, 0, 1_000_000)
	num("RATE_LIMIT_AUTH", &s.RateLimitAuth, 0, 10_000)
	num("MAX_QUERY_DEPTH", &s.MaxDepth, 2, 50)
	num("MAX_QUERY_COST", &s.MaxCost, 10, 1_000_000)
	num("MAX_QUERY_ALIASES", &s.MaxAliases, 0, 1000)
	num("MAX_ROOT_FIELDS", &s.MaxRootFields, 1, 100)
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			fail("CORS_ALLOWED_ORIGINS entries must be origins like https://app.example.com, got %q", o)
			continue
		}
		s.CORSOrigins = append(s.CORSOrigins, strings.TrimRight(o, "/"))
	}
	if len(s.CORSOrigins) == 0 && mode == ModeDev {
		s.CORSOrigins = []string{"*"}
	}
	p, err := limits.ParseProxies(getenv("TRUSTED_PROXIES"))
	if err != nil {
		fail("TRUSTED_PROXIES: %w", err)
	}
	s.TrustedProxies = p
	if v := getenv("ALLOW_PLAIN_HTTP"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("ALLOW_PLAIN_HTTP must be true or false, got %q", v)
		}
		s.AllowPlainHTTP = b
	}
	if s.PersistedQueries == "" && mode == ModeProduction && s.PersistedQueryFile != "" {
		s.PersistedQueries = PersistedAllowList
	}
	s = s.withDefaults()
	switch s.PersistedQueries {
	case PersistedOff, PersistedAPQ:
	case PersistedAllowList:
		if s.PersistedQueryFile == "" {
			fail("PERSISTED_QUERIES=allowlist needs PERSISTED_QUERIES_FILE")
		}
	default:
		fail("PERSISTED_QUERIES must be off, apq or allowlist, got %q", s.PersistedQueries)
	}
	if mode == ModeDev {
		return s
	}
	// Unsafe combinations outside dev mode refuse to start.
	if s.JWTKeysFile == "" {
		fail("ENV_MODE=%s needs JWT_KEYS_FILE with an Ed25519 signing key: an ephemeral dev key is refused", mode)
	}
	if getenv("JWT_SECRET") != "" {
		fail("JWT_SECRET is refused: shared-secret (HS256) tokens are not supported; use JWT_KEYS_FILE")
	}
	if s.AllowAnyOrigin() {
		fail("CORS_ALLOWED_ORIGINS=* is refused in ENV_MODE=%s: list the allowed origins", mode)
	}
	if mode == ModeProduction {
		if s.AllowPlainHTTP {
			fail("ALLOW_PLAIN_HTTP is refused in production: terminate TLS here or behind a TRUSTED_PROXIES proxy")
		}
		for _, o := range s.CORSOrigins {
			if strings.HasPrefix(o, "http://") {
				fail("CORS_ALLOWED_ORIGINS must be https:// origins in production, got %q", o)
			}
		}
		if s.RateLimitIP == 0 || s.RateLimitAuth == 0 {
			fail("RATE_LIMIT_IP and RATE_LIMIT_AUTH may not be 0 (off) in production")
		}
	}
	return s
}

// errUnsafeKeys is returned by NewApp when the key ring is unsafe for the mode.
var errUnsafeKeys = errors.New("unsafe JWT keys")
