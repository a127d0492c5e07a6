package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	checklistCmd = regexp.MustCompile("^\\|.*\\| `([^`]+)` \\|$")
	testFunc     = regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	docLink      = regexp.MustCompile(`\]\(([a-z-]+\.md)\)`)
)

// TestProductionReadinessCommands runs docs/production-readiness.md: each
// `vitalgraph …` command against a staging-mode server (migrated, with a
// fresh backup, keys and Redis) must succeed; each `go test -run X ./pkg/`
// must name tests that exist, and each `make T` a Makefile target (CI runs
// those in .ci/run).
func TestProductionReadinessCommands(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("docs/production-readiness.md")
	require.NoError(t, err)
	makefile, err := os.ReadFile("Makefile")
	require.NoError(t, err)
	for _, m := range docLink.FindAllStringSubmatch(string(raw), -1) {
		_, err := os.Stat(filepath.Join("docs", m[1]))
		require.NoError(t, err, "link to docs/%s", m[1])
	}

	env := stagingEnv(t)
	_, err = runOps(t, env, "migrate")
	require.NoError(t, err)
	env["BACKUP_DIR"] = t.TempDir()
	_, err = runOps(t, env, "backup", "--out", filepath.Join(env["BACKUP_DIR"], "today"))
	require.NoError(t, err)
	url := startStaging(t, env)

	ran, checked := 0, 0
	for _, line := range strings.Split(string(raw), "\n") {
		m := checklistCmd.FindStringSubmatch(line)
		if m == nil || m[1] == "verified by" {
			continue
		}
		fields := strings.Fields(strings.ReplaceAll(m[1], "$URL", url))
		switch {
		case fields[0] == "vitalgraph":
			out, err := runOps(t, env, fields[1:]...)
			require.NoError(t, err, "%s:\n%s", m[1], out)
			ran++
		case fields[0] == "make":
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(fields[1])+`:`, string(makefile), "%s: no such Makefile target", m[1])
			checked++
		case len(fields) == 5 && fields[0] == "go" && fields[1] == "test" && fields[2] == "-run":
			pattern, dir := regexp.MustCompile(fields[3]), strings.TrimSuffix(fields[4], "/")
			files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
			require.NoError(t, err)
			found := false
			for _, f := range files {
				src, err := os.ReadFile(f)
				require.NoError(t, err)
				for _, fm := range testFunc.FindAllStringSubmatch(string(src), -1) {
					found = found || pattern.MatchString(fm[1])
				}
			}
			require.True(t, found, "%s: no test in %s matches", m[1], dir)
			checked++
		default:
			require.Failf(t, "unknown command kind", "%s", m[1])
		}
	}
	require.GreaterOrEqual(t, ran, 6, "vitalgraph commands run")
	require.GreaterOrEqual(t, checked, 25, "tests and targets named")
}
