package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func writeOps(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	}
	return dir
}

// TestPQBuild turns a folder of client operations into the allow-list and
// serves it: the listed operations run, anything else is refused.
func TestPQBuild(t *testing.T) {
	t.Parallel()
	me := "query Me {\n  me { id email }\n}\n"
	version := "fragment V on VersionInfo { version commit }\nquery Version { version { ...V } }\n"
	dir := writeOps(t, map[string]string{"me.graphql": me, "nested/version.graphql": version, "README.md": "not an operation"})
	out := filepath.Join(t.TempDir(), "allow.json")
	var stdout bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"pq", "build", dir, "-o", out}, func(string) string { return "" }, &stdout, &stdout))
	require.Contains(t, stdout.String(), "2 documents, 2 operations (Me, Version)")

	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), func(c *server.Config) {
		c.Security.PersistedQueries, c.Security.PersistedQueryFile = server.PersistedAllowList, out
	})
	var got struct{ Me struct{ ID string } }
	srv.Do(t, "", me, nil).Decode(t, &got)
	require.NotEmpty(t, got.Me.ID)
	var v struct{ Version struct{ Version string } }
	srv.Do(t, "", version, nil).Decode(t, &v)
	require.Equal(t, "test", v.Version.Version)
	require.Equal(t, []string{"EFORBIDDEN"}, srv.Do(t, "", "query Other { me { id } }", nil).Codes())

	t.Run("bad folders write nothing", func(t *testing.T) {
		t.Parallel()
		for name, files := range map[string]map[string]string{
			"anonymous operation": {"a.graphql": "{ me { id } }"},
			"unknown field":       {"a.graphql": "query A { me { shoeSize } }"},
			"syntax error":        {"a.graphql": "query A { me { id }"},
			"duplicate name":      {"a.graphql": "query A { me { id } }", "b.graphql": "query A { version { version } }"},
			"no operation":        {"a.graphql": "fragment F on User { id }"},
			"empty folder":        {},
		} {
			dst := filepath.Join(t.TempDir(), "allow.json")
			err := run(context.Background(), []string{"pq", "build", writeOps(t, files), "-o", dst}, func(string) string { return "" }, &stdout, &stdout)
			require.Error(t, err, name)
			require.NoFileExists(t, dst, name)
		}
	})
}
