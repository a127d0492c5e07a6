package main

import (
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCommittedFixturesMatchGenerator generates the fixtures into a
// temporary directory and checks that the committed files in
// engine/evaluate/testdata are what this generator produces (values to
// 1e-9, allowing for floating-point contraction on other architectures).
// It never writes to testdata.
func TestCommittedFixturesMatchGenerator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, run([]string{"-out", dir}, io.Discard))
	committed := filepath.Join("..", "..", "testdata")
	for _, sc := range scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			gotJSON, err := os.ReadFile(filepath.Join(dir, sc.Name+".json"))
			require.NoError(t, err)
			wantJSON, err := os.ReadFile(filepath.Join(committed, sc.Name+".json"))
			require.NoError(t, err)
			require.JSONEq(t, string(wantJSON), string(gotJSON))

			got, want := readCSV(t, filepath.Join(dir, sc.Name+".csv")), readCSV(t, filepath.Join(committed, sc.Name+".csv"))
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i][0], got[i][0], "row %d day", i)
				require.Equal(t, want[i][2], got[i][2], "row %d adherent", i)
				if i == 0 || want[i][1] == "" {
					require.Equal(t, want[i][1], got[i][1], "row %d value", i)
					continue
				}
				w, err := strconv.ParseFloat(want[i][1], 64)
				require.NoError(t, err)
				g, err := strconv.ParseFloat(got[i][1], 64)
				require.NoError(t, err)
				require.InDelta(t, w, g, 1e-9, "row %d value", i)
			}
		})
	}
}

func TestRunRejectsArguments(t *testing.T) {
	t.Parallel()
	require.Error(t, run([]string{"-out", t.TempDir(), "extra"}, io.Discard))
	require.Error(t, run([]string{"-nope"}, io.Discard))
}

func readCSV(tb testing.TB, path string) [][]string {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer func() { require.NoError(tb, f.Close()) }()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(tb, err)
	return rows
}
