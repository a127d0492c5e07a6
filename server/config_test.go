package server_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		c, err := server.LoadConfig(env(nil))
		require.NoError(t, err)
		require.Equal(t, server.ModeDev, c.EnvMode)
		require.Equal(t, ":8080", c.Addr)
		require.Equal(t, "./data", c.DataDir)
		require.True(t, c.Embedded())
		require.False(t, c.MigrateOnStart)
		require.Equal(t, slog.LevelDebug, c.LogLevel)
		require.Equal(t, 15*time.Second, c.ShutdownTimeout)
	})
	t.Run("postgres in production", func(t *testing.T) {
		t.Parallel()
		c, err := server.LoadConfig(env(map[string]string{
			"ENV_MODE": "production", "DATABASE_URL": "postgres://u@db/vg", "REDIS_URL": "redis://r:6379/0",
			"JWT_KEYS_FILE": "/etc/vitalgraph/jwt-keys.json",
		}))
		require.NoError(t, err)
		require.Equal(t, slog.LevelWarn, c.LogLevel)
		require.False(t, c.Embedded())
	})
	bad := map[string]map[string]string{
		"unknown mode":               {"ENV_MODE": "prod"},
		"sqlite outside dev":         {"ENV_MODE": "staging"},
		"migrate on start in prod":   {"ENV_MODE": "production", "DATABASE_URL": "postgres://u@db/vg", "MIGRATE_ON_START": "true"},
		"not a postgres url":         {"DATABASE_URL": "mysql://u@db/vg"},
		"not a redis url":            {"REDIS_URL": "http://r"},
		"bad bool":                   {"MIGRATE_ON_START": "yes please"},
		"bad duration":               {"SHUTDOWN_TIMEOUT": "soon"},
		"bad feed poll interval":     {"FEED_POLL_INTERVAL": "often"},
		"bad feed buffer":            {"FEED_SUBSCRIBER_BUFFER": "0"},
		"bad jobs debounce":          {"JOBS_DEBOUNCE": "-1s"},
		"bad guardrail":              {"GUARDRAIL_INSIGHTS_PER_DAY": "0"},
		"LLM URL without model":      {"LLM_BASE_URL": "http://127.0.0.1:9"},
		"bad log level":              {"LOG_LEVEL": "loud"},
		"body limit out of range":    {"MAX_BODY_BYTES": "10"},
		"several problems at once 1": {"ENV_MODE": "x", "REDIS_URL": "http://r"},
	}
	for name, m := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := server.LoadConfig(env(m))
			require.Error(t, err)
		})
	}
	// Production with an unsafe security configuration refuses to start.
	prod := func(extra map[string]string) map[string]string {
		m := map[string]string{"ENV_MODE": "production", "DATABASE_URL": "postgres://u@db/vg", "JWT_KEYS_FILE": "/etc/vg/keys.json"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	unsafe := map[string]struct {
		env  map[string]string
		want string
	}{
		"production without a signing key": {prod(map[string]string{"JWT_KEYS_FILE": ""}), "JWT_KEYS_FILE"},
		"staging without a signing key":    {map[string]string{"ENV_MODE": "staging", "DATABASE_URL": "postgres://u@db/vg"}, "JWT_KEYS_FILE"},
		"a shared JWT secret":              {prod(map[string]string{"JWT_SECRET": "changeme"}), "JWT_SECRET"},
		"CORS *":                           {prod(map[string]string{"CORS_ALLOWED_ORIGINS": "*"}), "CORS_ALLOWED_ORIGINS"},
		"CORS over plain http":             {prod(map[string]string{"CORS_ALLOWED_ORIGINS": "http://app.example.com"}), "https://"},
		"plain HTTP":                       {prod(map[string]string{"ALLOW_PLAIN_HTTP": "true"}), "ALLOW_PLAIN_HTTP"},
		"rate limits off":                  {prod(map[string]string{"RATE_LIMIT_IP": "0"}), "RATE_LIMIT_IP"},
		"allow-list without a file":        {prod(map[string]string{"PERSISTED_QUERIES": "allowlist"}), "PERSISTED_QUERIES_FILE"},
		"bad trusted proxy":                {prod(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}), "TRUSTED_PROXIES"},
		"access token TTL too long":        {prod(map[string]string{"ACCESS_TOKEN_TTL": "24h"}), "ACCESS_TOKEN_TTL"},
		"bad persisted-query mode":         {prod(map[string]string{"PERSISTED_QUERIES": "maybe"}), "PERSISTED_QUERIES"},
	}
	for name, tc := range unsafe {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := server.LoadConfig(env(tc.env))
			require.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("security defaults", func(t *testing.T) {
		t.Parallel()
		c, err := server.LoadConfig(env(prod(map[string]string{
			"CORS_ALLOWED_ORIGINS": "https://app.example.com, https://admin.example.com/", "TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1",
			"PERSISTED_QUERIES_FILE": "/etc/vg/queries.json",
		})))
		require.NoError(t, err)
		require.Equal(t, 15*time.Minute, c.Security.AccessTokenTTL)
		require.Equal(t, 30*24*time.Hour, c.Security.RefreshTokenTTL)
		require.Equal(t, []string{"https://app.example.com", "https://admin.example.com"}, c.Security.CORSOrigins)
		require.Len(t, c.Security.TrustedProxies, 2)
		require.Equal(t, server.PersistedAllowList, c.Security.PersistedQueries, "production with a file defaults to the allow-list")
		require.False(t, c.Security.AllowPlainHTTP)
		d, err := server.LoadConfig(env(nil))
		require.NoError(t, err)
		require.Equal(t, []string{"*"}, d.Security.CORSOrigins, "dev allows any origin")
		require.Equal(t, server.PersistedAPQ, d.Security.PersistedQueries)
	})
	t.Run("every problem is reported", func(t *testing.T) {
		t.Parallel()
		_, err := server.LoadConfig(env(map[string]string{"ENV_MODE": "x", "REDIS_URL": "http://r"}))
		require.ErrorContains(t, err, "ENV_MODE")
		require.ErrorContains(t, err, "REDIS_URL")
	})
}
