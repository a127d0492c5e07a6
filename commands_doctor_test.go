package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// stagingEnv is a staging configuration on a fresh PostgreSQL schema and
// Redis, with a new JWT key ring.
func stagingEnv(t *testing.T) map[string]string {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "jwt.json")
	_, err := runOps(t, nil, "keys", "generate", "--out", keys)
	require.NoError(t, err)
	return map[string]string{
		"ENV_MODE": "staging", "DATABASE_URL": servertest.NewPostgresSchema(t), "REDIS_URL": servertest.RedisURL(),
		"JOBS_QUEUE": fmt.Sprintf("doctor-%d", time.Now().UnixNano()), "JWT_KEYS_FILE": keys,
		"AUDIT_KEYS_FILE":      filepath.Join(t.TempDir(), "audit-keys.json"),
		"CORS_ALLOWED_ORIGINS": "https://staging.app.example.com", "WORKER_IN_PROCESS": "false",
	}
}

// startStaging runs a staging-mode server of env behind httptest.
func startStaging(t *testing.T, env map[string]string) string {
	t.Helper()
	cfg, err := server.LoadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	app, err := server.NewApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	hs := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = app.Close()
	})
	return hs.URL
}

// TestDoctorPassesAGoodStagingServer: migrated, keys fresh, HTTPS
// enforced, CORS restricted, database and Redis answering, no dead jobs, a
// fresh backup, and the golden regression in a throwaway schema.
func TestDoctorPassesAGoodStagingServer(t *testing.T) {
	t.Parallel()
	env := stagingEnv(t)
	_, err := runOps(t, env, "migrate")
	require.NoError(t, err)
	env["BACKUP_DIR"] = t.TempDir()
	_, err = runOps(t, env, "backup", "--out", filepath.Join(env["BACKUP_DIR"], "today"))
	require.NoError(t, err)
	url := startStaging(t, env)

	out, err := runOps(t, env, "doctor", "--url", url)
	require.NoError(t, err, out)
	for _, name := range []string{
		"configuration", "https enforced", "cors origins", "key ring", "database reachable",
		"migrations current", "clock skew", "redis reachable", "job queue", "last backup", "server ready", "golden regression",
	} {
		require.Regexp(t, `(?m)^PASS  `+name+` `, out, "%s passes", name)
	}
	require.NotContains(t, out, "FAIL")
	require.Contains(t, out, "all 12 checks passed")
}

// TestDoctorNamesEachProblemOfAMisconfiguredStagingServer: plain HTTP
// allowed, migrations not applied, an old key ring, no backup, and a
// configuration that does not load at all.
func TestDoctorNamesEachProblemOfAMisconfiguredStagingServer(t *testing.T) {
	t.Parallel()
	env := stagingEnv(t)
	env["ALLOW_PLAIN_HTTP"] = "true"
	env["BACKUP_DIR"] = t.TempDir()
	old := time.Now().Add(-100 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(env["JWT_KEYS_FILE"], old, old))
	url := startStaging(t, env)

	out, err := runOps(t, env, "doctor", "--url", url, "--skip-golden")
	require.Error(t, err)
	for name, says := range map[string]string{
		"https enforced":     "ALLOW_PLAIN_HTTP=true",
		"key ring":           "days old",
		"migrations current": "pending",
		"last backup":        "no verified backup",
		"server https":       "answers plain HTTP",
	} {
		require.Regexp(t, `(?m)^FAIL  `+name+` +.*`+says, out, "%s is named", name)
	}
	require.Equal(t, 5, strings.Count(out, "\n      fix: "), "each failure has its fix:\n%s", out)
	require.Regexp(t, `(?m)^PASS  cors origins `, out)

	env["CORS_ALLOWED_ORIGINS"] = "*"
	out, err = runOps(t, env, "doctor")
	require.Error(t, err)
	require.Regexp(t, `(?m)^FAIL  configuration .*CORS_ALLOWED_ORIGINS`, out)
}
