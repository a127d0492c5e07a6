package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDashboardOperationsValidate: every operation of the dashboard
// (web/operations, exported by `make web` from
// web/src/dashboard/operations.js) is valid against the server's schema and
// builds into the persisted-query allow-list, so a schema change that breaks
// the dashboard fails here, and PERSISTED_QUERIES=allowlist can serve it
// (`vitalgraph pq build web/operations -o FILE`).
func TestDashboardOperationsValidate(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("web", "operations", "*.graphql"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "web/operations is empty: run make web")
	list, ops, err := buildAllowList(filepath.Join("web", "operations"))
	require.NoError(t, err)
	require.Len(t, ops, len(files), "one named operation per file")
	require.Len(t, list, len(files))
	// The dashboard's module names each exported operation once.
	src, err := os.ReadFile(filepath.Join("web", "src", "dashboard", "operations.js"))
	require.NoError(t, err)
	require.Equal(t, len(files), strings.Count(string(src), "export const "), "web/operations is stale: run make web")
}
