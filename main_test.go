package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCommands runs the CLI end to end on a fresh embedded database: migrate,
// seed the demo, run the loop for everyone, grant admin, and the errors.
var runMain = run

func TestCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, getenv, &out, &errOut)
		return out.String(), err
	}

	out, err := run("version")
	require.NoError(t, err)
	require.Contains(t, out, "vitalgraph")

	_, err = run("frobnicate")
	require.ErrorContains(t, err, "unknown command")

	out, err = run("migrate")
	require.NoError(t, err)
	require.Contains(t, out, "applied")
	out, err = run("migrate", "status")
	require.NoError(t, err)
	require.NotContains(t, out, "pending")

	// The seed is quiet even at LOG_LEVEL=info and names the address in use.
	env["LOG_LEVEL"], env["ADDR"] = "info", "127.0.0.1:9123"
	var seedOut, seedErr bytes.Buffer
	require.NoError(t, runMain(context.Background(), []string{"seed", "--demo"}, getenv, &seedOut, &seedErr))
	env["LOG_LEVEL"] = "error"
	require.Contains(t, seedOut.String(), "seeded g1_clean")
	require.Contains(t, seedOut.String(), "open http://127.0.0.1:9123/ ")
	require.NotContains(t, seedErr.String(), "http request", "no access-log lines")
	require.NotContains(t, seedErr.String(), "level=INFO")
	out, err = run("seed", "--demo")
	require.NoError(t, err)
	require.Contains(t, out, "nothing to do", "seeding twice changes nothing")

	// The demo data ends yesterday: the first loop at today's date finds
	// no gap and nothing new; running again creates nothing either.
	out, err = run("loop", "--all")
	require.NoError(t, err)
	require.Contains(t, out, ": 0 insights, 0 skipped, 0 evaluations", "no data-gap insight after the seed")
	out, err = run("loop", "--all")
	require.NoError(t, err)
	require.Contains(t, out, ": 0 insights, 0 skipped, 0 evaluations", "a second loop run creates nothing")

	_, err = run("loop")
	require.ErrorContains(t, err, "exactly one of --all or --user")

	out, err = run("admin", "grant", "demo@vitalgraph.local")
	require.NoError(t, err)
	require.Contains(t, out, "is now ADMIN")
	_, err = run("admin", "grant", "nobody@example.com")
	require.ErrorContains(t, err, "no user")

	out, err = run("prune", "--older-than", "720h")
	require.NoError(t, err)
	require.Contains(t, out, "pruned 0 feed event(s)", "everything the seed wrote is recent")
	_, err = run("prune", "--older-than", "1m")
	require.ErrorContains(t, err, "at least 1h")

	_, err = run("jobs", "dead")
	require.ErrorContains(t, err, "REDIS_URL")
	_, err = run("worker")
	require.ErrorContains(t, err, "REDIS_URL")

	env["ENV_MODE"] = "production"
	_, err = run("serve")
	require.Error(t, err, "production without DATABASE_URL refuses to start")
	require.ErrorContains(t, err, "DATABASE_URL")
}
