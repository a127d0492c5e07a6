package golden_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

var update = flag.Bool("update", false, "rewrite golden/testdata/*/expected.json")

// cases lists the scenario folders of testdata.
func cases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("testdata", e.Name(), "scenario.json")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	require.NotEmpty(t, out)
	return out
}

// runCase pushes one scenario through a fresh server's HTTP API and returns
// the canonical output.
func runCase(t *testing.T, open func(testing.TB) *server.Store, name string) []byte {
	t.Helper()
	srv := servertest.NewServer(t, open(t), nil)
	uid := srv.CreateUser(t, "golden@example.com")
	ctx := context.Background()
	c := &golden.Client{BaseURL: srv.URL, UserID: uid}
	require.NoError(t, golden.Run(ctx, c, os.DirFS("testdata"), name, srv.App.SetClock))
	out, err := golden.Canonical(ctx, c)
	require.NoError(t, err)
	require.NoError(t, record.VerifyChain(viewer.System(ctx), srv.App.Store.Client, uid), "the audit chain is intact")
	return out
}

// TestGolden runs every scenario on PostgreSQL twice and on SQLite and
// compares the canonical output with testdata/<case>/expected.json. Any
// change of engine behaviour shows up here as a readable diff; review it like
// code and rewrite expectations with `go test ./golden/... -update`.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pg := runCase(t, servertest.NewPostgresStore, name)
			checkDomain(t, name, pg)
			pgAgain := runCase(t, servertest.NewPostgresStore, name)
			require.Equal(t, string(pg), string(pgAgain), "the same scenario twice gives byte-identical output")
			lite := runCase(t, servertest.NewSQLiteStore, name)
			if diff := cmp.Diff(strings.Split(string(pg), "\n"), strings.Split(string(lite), "\n")); diff != "" {
				t.Fatalf("PostgreSQL and SQLite disagree (-postgres +sqlite):\n%s", diff)
			}
			path := filepath.Join("testdata", name, "expected.json")
			if *update {
				require.NoError(t, os.WriteFile(path, pg, 0o600))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no expected output yet: run go test ./golden/... -update and review it")
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(pg), "\n")); diff != "" {
				t.Fatalf("%s changed (-want +got); if intended, run go test ./golden/... -update and review:\n%s", name, diff)
			}
		})
	}
}
