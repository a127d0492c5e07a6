package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/importer/applegen"
)

// TestImportCommand imports a generated Apple Health .zip and a CSV into
// the embedded database through the CLI; running the same import again
// stores nothing new.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, getenv, &out, &errOut)
		return out.String(), err
	}
	_, err := run("migrate")
	require.NoError(t, err)

	var xml bytes.Buffer
	gen, err := applegen.Write(&xml, applegen.Options{Seed: 3, Start: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), Bytes: 2 << 20})
	require.NoError(t, err)
	zpath := filepath.Join(dir, "export.zip")
	f, err := os.Create(zpath)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	w, err := zw.Create("apple_health_export/export.xml")
	require.NoError(t, err)
	_, err = w.Write(xml.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())

	stored := regexp.MustCompile(`(\d+) records → (\d+) daily samples: (\d+) stored, (\d+) already stored`)
	out, err := run("import", "--user", "demo@vitalgraph.local", "--format", "apple-health", "--quiet", zpath)
	require.NoError(t, err, out)
	m := stored.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.Equal(t, strconv.FormatInt(gen.Records, 10), m[1])
	require.Equal(t, strconv.Itoa(3*gen.Days), m[2])
	require.Equal(t, m[2], m[3], "every daily sample stored")
	require.Contains(t, out, "skipped "+strconv.Itoa(60*gen.Days)+": unsupported type")

	out, err = run("import", "--user", "demo@vitalgraph.local", "--format", "apple-health", "--quiet", zpath)
	require.NoError(t, err, out)
	m = stored.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.Equal(t, "0", m[3], "a second run stores nothing")
	require.Equal(t, m[2], m[4])

	csvPath := filepath.Join(dir, "rhr.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("Date,RHR\n2026-01-10,51\n2026-01-11,52\n"), 0o600))
	out, err = run("import", "--user", "demo@vitalgraph.local", "--format", "csv", "--map", "value=RHR,day=Date",
		"--metric", "resting_hr", "--unit", "bpm", csvPath)
	require.NoError(t, err, out)
	require.Contains(t, out, "2 stored")

	_, err = run("import", "--user", "nobody@example.com", "--format", "csv", csvPath)
	require.Error(t, err)
	_, err = run("import", "--format", "apple-health", zpath)
	require.Error(t, err)
}
