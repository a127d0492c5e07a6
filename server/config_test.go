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
	t.Run("every problem is reported", func(t *testing.T) {
		t.Parallel()
		_, err := server.LoadConfig(env(map[string]string{"ENV_MODE": "x", "REDIS_URL": "http://r"}))
		require.ErrorContains(t, err, "ENV_MODE")
		require.ErrorContains(t, err, "REDIS_URL")
	})
}
