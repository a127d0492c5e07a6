package stewardship_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/backup"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func seed(t *testing.T, st *server.Store) []string {
	t.Helper()
	srv := servertest.NewServer(t, st, nil)
	var ids []string
	for i, sc := range []string{"g1_clean", "g2_gaps_adherence"} {
		uid := srv.CreateUser(t, []string{"a@example.com", "b@example.com"}[i])
		c := &golden.Client{Handler: srv.App.Handler(), UserID: uid}
		require.NoError(t, golden.Run(context.Background(), c, golden.Cases(), sc, srv.App.SetClock))
		ids = append(ids, uid)
	}
	srv.App.SetClock(time.Time{})
	return ids
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return dst
}

func checkRestored(t *testing.T, st *server.Store, m backup.Manifest, users []string) {
	t.Helper()
	ctx := context.Background()
	diffs, err := backup.Verify(ctx, st.DB, st.Client, m)
	require.NoError(t, err)
	require.Empty(t, diffs)
	for _, table := range []string{"users", "observations", "baselines", "interventions", "evaluations", "audit_events"} {
		require.Positive(t, m.Rows[table], table)
	}
	for _, u := range users {
		require.NoError(t, record.VerifyChain(viewer.System(ctx), st.Client, u))
		require.Positive(t, m.AuditHeads[u].Seq)
	}
}

func corrupted(t *testing.T, dir string) string {
	t.Helper()
	bad := copyDir(t, dir)
	m, err := backup.Read(bad)
	require.NoError(t, err)
	p := filepath.Join(bad, m.File)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return bad
}

// TestBackupWipeRestorePostgres: backup → drop everything → restore, with
// identical row counts and checksums and valid audit chains; a corrupted
// dump is refused before anything is restored; a manifest that does not
// describe the data fails verification.
func TestBackupWipeRestorePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := servertest.NewPostgresSchema(t)
	st, err := server.OpenPostgres(ctx, dbURL)
	require.NoError(t, err)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	users := seed(t, st)
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := backup.Write(ctx, st.DB, st.Dialect, dbURL, dir, "test")
	require.NoError(t, err)
	require.NotEmpty(t, m.Migration)

	// Wipe: the schema and everything in it.
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	schema := u.Query().Get("search_path")
	admin, err := sql.Open("postgres", servertest.PostgresURL())
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	require.NoError(t, err)
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	var n int
	require.NoError(t, admin.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&n))
	require.Zero(t, n, "wiped")

	_, err = backup.Restore(ctx, st.DB, st.Dialect, dbURL, corrupted(t, dir))
	require.Error(t, err)
	require.Equal(t, engine.ECONFLICT, engine.ErrorCode(err))
	require.Contains(t, err.Error(), "corrupted")
	require.NoError(t, admin.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&n))
	require.Zero(t, n, "a corrupted backup restores nothing")

	got, err := backup.Restore(ctx, st.DB, st.Dialect, dbURL, dir)
	require.NoError(t, err)
	checkRestored(t, st, got, users)

	// A manifest that lies about the data is caught by verification.
	lie := m
	lie.Rows = map[string]int64{}
	for k, v := range m.Rows {
		lie.Rows[k] = v
	}
	lie.Rows["observations"]++
	diffs, err := backup.Verify(ctx, st.DB, st.Client, lie)
	require.NoError(t, err)
	require.NotEmpty(t, diffs)
	require.NoError(t, st.Close())
}

// TestBackupWipeRestoreSQLite: the same through SQLite's online backup API,
// restored into a new, empty database file.
func TestBackupWipeRestoreSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	st, err := server.OpenSQLite(ctx, server.SQLiteDSN(src))
	require.NoError(t, err)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	users := seed(t, st)
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := backup.Write(ctx, st.DB, st.Dialect, "", dir, "test")
	require.NoError(t, err)
	require.NoError(t, st.Close())
	// Wipe: the database files are gone.
	require.NoError(t, os.RemoveAll(src))

	fresh, err := server.OpenSQLite(ctx, server.SQLiteDSN(t.TempDir()))
	require.NoError(t, err)
	defer fresh.Close()
	_, err = backup.Restore(ctx, fresh.DB, fresh.Dialect, "", corrupted(t, dir))
	require.Error(t, err)
	require.Contains(t, err.Error(), "corrupted")

	got, err := backup.Restore(ctx, fresh.DB, fresh.Dialect, "", dir)
	require.NoError(t, err)
	require.Equal(t, m.Rows, got.Rows)
	checkRestored(t, fresh, got, users)
}
