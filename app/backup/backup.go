// Package backup writes and restores verified backups: PostgreSQL through
// pg_dump/pg_restore (custom format, from an exported snapshot so the
// manifest describes exactly the dumped data), SQLite through its online
// backup API. Each backup is a directory with the database file and a
// manifest.json: version, dialect, migration level, row counts and a
// checksum per table, every user's audit chain head, and the sha256 of the
// database file. Restore refuses a file whose checksum does not match, and
// Verify checks a restored database against the manifest (docs/runbooks.md).
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"modernc.org/sqlite"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/migrate"
)

// Format names the manifest format.
const Format = "vitalgraph-backup/v1"

// ManifestName is the manifest's file name inside a backup directory.
const ManifestName = "manifest.json"

// Head is a user's audit chain head.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Manifest describes one backup.
type Manifest struct {
	Format     string            `json:"format"`
	Version    string            `json:"version"`
	Dialect    string            `json:"dialect"`
	CreatedAt  time.Time         `json:"createdAt"`
	Migration  string            `json:"migration"` // newest applied migration version
	Rows       map[string]int64  `json:"rows"`
	Checksums  map[string]string `json:"checksums"` // sha256 of each table's rows in id order
	AuditHeads map[string]Head   `json:"auditHeads"`
	File       string            `json:"file"`
	FileSHA256 string            `json:"fileSha256"`
	FileBytes  int64             `json:"fileBytes"`
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// State is what a manifest records about a database's content.
type State struct {
	Migration  string
	Rows       map[string]int64
	Checksums  map[string]string
	AuditHeads map[string]Head
}

// Snapshot reads the state of every ent table through q (a transaction for
// a consistent view).
func Snapshot(ctx context.Context, q queryer) (State, error) {
	s := State{Rows: map[string]int64{}, Checksums: map[string]string{}, AuditHeads: map[string]Head{}}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), '') FROM vitalgraph_schema_migrations`).Scan(&s.Migration); err != nil {
		return s, fmt.Errorf("reading the migration level: %w", err)
	}
	for _, t := range migrate.Tables {
		n, sum, err := tableChecksum(ctx, q, t.Name)
		if err != nil {
			return s, err
		}
		s.Rows[t.Name], s.Checksums[t.Name] = n, sum
	}
	rows, err := q.QueryContext(ctx, `SELECT id, audit_seq, audit_head FROM users`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var h Head
		if err := rows.Scan(&id, &h.Seq, &h.Hash); err != nil {
			return s, err
		}
		s.AuditHeads[id] = h
	}
	return s, rows.Err()
}

func tableChecksum(ctx context.Context, q queryer, table string) (int64, string, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY id`)
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, "", err
	}
	sort.Strings(cols) // column order may differ after a restore; names do not
	idx := map[string]int{}
	raw, _ := rows.Columns()
	for i, c := range raw {
		idx[c] = i
	}
	h := sha256.New()
	var n int64
	for rows.Next() {
		vals := make([]any, len(raw))
		ptrs := make([]any, len(raw))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		for _, c := range cols {
			fmt.Fprintf(h, "%s=%s\x1f", c, canonical(vals[idx[c]]))
		}
		h.Write([]byte{'\n'})
		n++
	}
	return n, hex.EncodeToString(h.Sum(nil)), rows.Err()
}

func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// pgArgs turns a lib/pq URL into a libpq connection URI and the schema of
// its search_path (libpq does not know search_path as a URI parameter).
func pgArgs(dbURL string) (conn, schema string, err error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	q := u.Query()
	schema = q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the backup directory
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// Write makes a backup of db into dir (created; it must not hold a backup
// already). dbURL is the PostgreSQL URL (ignored for SQLite).
func Write(ctx context.Context, db *sql.DB, dia, dbURL, dir, version string) (Manifest, error) {
	m := Manifest{Format: Format, Version: version, Dialect: dia, CreatedAt: time.Now().UTC()}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return m, err
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return m, engine.Errorf(engine.ECONFLICT, "%s already holds a backup", dir)
	}
	var st State
	switch dia {
	case dialect.Postgres:
		m.File = "database.dump"
		conn, schema, err := pgArgs(dbURL)
		if err != nil {
			return m, err
		}
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return m, err
		}
		defer func() { _ = tx.Rollback() }()
		var snap string
		if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
			return m, fmt.Errorf("exporting a snapshot: %w", err)
		}
		if st, err = Snapshot(ctx, tx); err != nil {
			return m, err
		}
		args := []string{"--format=custom", "--no-owner", "--no-privileges", "--snapshot=" + snap, "--file=" + filepath.Join(dir, m.File)}
		if schema != "" {
			args = append(args, "--schema="+schema)
		}
		args = append(args, "--dbname="+conn)
		if out, err := exec.CommandContext(ctx, "pg_dump", args...).CombinedOutput(); err != nil { //nolint:gosec // fixed program; arguments are flags and the configured URL
			return m, fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(string(out)))
		}
	case dialect.SQLite:
		m.File = "database.sqlite"
		dst := filepath.Join(dir, m.File)
		if err := sqliteCopy(ctx, db, dst, false); err != nil {
			return m, err
		}
		// The manifest describes the copy itself.
		cp, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
		if err != nil {
			return m, err
		}
		defer cp.Close()
		if st, err = Snapshot(ctx, cp); err != nil {
			return m, err
		}
	default:
		return m, fmt.Errorf("backup: unknown dialect %q", dia)
	}
	m.Migration, m.Rows, m.Checksums, m.AuditHeads = st.Migration, st.Rows, st.Checksums, st.AuditHeads
	var err error
	if m.FileSHA256, m.FileBytes, err = fileSum(filepath.Join(dir, m.File)); err != nil {
		return m, err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return m, os.WriteFile(filepath.Join(dir, ManifestName), b, 0o600)
}

// sqliteCopy runs SQLite's online backup between db and the file at path:
// db → path, or path → db when restore.
func sqliteCopy(ctx context.Context, db *sql.DB, path string, restore bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		type backuper interface {
			NewBackup(string) (*sqlite.Backup, error)
			NewRestore(string) (*sqlite.Backup, error)
		}
		c, ok := dc.(backuper)
		if !ok {
			return errors.New("the SQLite driver has no online backup API")
		}
		var b *sqlite.Backup
		var err error
		if restore {
			b, err = c.NewRestore(path)
		} else {
			b, err = c.NewBackup(path)
		}
		if err != nil {
			return fmt.Errorf("sqlite backup: %w", err)
		}
		for {
			more, err := b.Step(256)
			if err != nil {
				_ = b.Finish()
				return fmt.Errorf("sqlite backup: %w", err)
			}
			if !more {
				break
			}
		}
		return b.Finish()
	})
}

// Read loads and checks the manifest of the backup in dir and the checksum
// of its database file: a corrupted or truncated backup is refused here,
// before anything is restored.
func Read(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName)) //nolint:gosec // the operator names the backup directory
	if err != nil {
		return m, fmt.Errorf("reading the backup manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, engine.Wrap(err, engine.EINVALID, "the backup manifest is not valid JSON")
	}
	if m.Format != Format || m.File == "" || strings.ContainsAny(m.File, `/\`) {
		return m, engine.Errorf(engine.EINVALID, "not a %s manifest", Format)
	}
	sum, n, err := fileSum(filepath.Join(dir, m.File))
	if err != nil {
		return m, err
	}
	if sum != m.FileSHA256 || n != m.FileBytes {
		return m, engine.Errorf(engine.ECONFLICT, "backup %s is corrupted: %s has sha256 %s (%d bytes), the manifest says %s (%d bytes)",
			dir, m.File, sum, n, m.FileSHA256, m.FileBytes)
	}
	return m, nil
}

// Restore loads the backup in dir into db, which must be of the backup's
// dialect; the server must not be running against db. PostgreSQL objects of
// the dump are dropped and recreated (pg_restore --clean, one transaction);
// an SQLite database is overwritten page by page.
func Restore(ctx context.Context, db *sql.DB, dia, dbURL, dir string) (Manifest, error) {
	m, err := Read(dir)
	if err != nil {
		return m, err
	}
	if m.Dialect != dia {
		return m, engine.Errorf(engine.EINVALID, "the backup is of %s, the target database is %s", m.Dialect, dia)
	}
	file := filepath.Join(dir, m.File)
	switch dia {
	case dialect.Postgres:
		conn, _, err := pgArgs(dbURL)
		if err != nil {
			return m, err
		}
		args := []string{"--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=" + conn, file}
		if out, err := exec.CommandContext(ctx, "pg_restore", args...).CombinedOutput(); err != nil { //nolint:gosec // fixed program; arguments are flags and the configured URL
			return m, fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(string(out)))
		}
	case dialect.SQLite:
		if err := sqliteCopy(ctx, db, file, true); err != nil {
			return m, err
		}
	}
	return m, nil
}

// Verify compares db with the manifest — migration level, row counts and
// checksums per table, audit chain heads — and recomputes every user's
// audit chain. It returns the differences (none when the restore is exact).
func Verify(ctx context.Context, db *sql.DB, client *ent.Client, m Manifest) ([]string, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := Snapshot(ctx, tx)
	if err != nil {
		return nil, err
	}
	_ = tx.Rollback()
	var out []string
	if st.Migration != m.Migration {
		out = append(out, fmt.Sprintf("migration level is %s, the backup has %s", st.Migration, m.Migration))
	}
	tables := make([]string, 0, len(m.Rows))
	for t := range m.Rows {
		tables = append(tables, t)
	}
	for t := range st.Rows {
		if _, ok := m.Rows[t]; !ok {
			tables = append(tables, t)
		}
	}
	sort.Strings(tables)
	for _, t := range tables {
		if st.Rows[t] != m.Rows[t] {
			out = append(out, fmt.Sprintf("%s has %d rows, the backup has %d", t, st.Rows[t], m.Rows[t]))
		} else if st.Checksums[t] != m.Checksums[t] {
			out = append(out, fmt.Sprintf("%s has other content than the backup (checksum %s, expected %s)", t, st.Checksums[t], m.Checksums[t]))
		}
	}
	users := make([]string, 0, len(m.AuditHeads))
	for u := range m.AuditHeads {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		if got, ok := st.AuditHeads[u]; !ok || got != m.AuditHeads[u] {
			out = append(out, fmt.Sprintf("user %s: audit chain head %d/%s, the backup has %d/%s", u, got.Seq, got.Hash, m.AuditHeads[u].Seq, m.AuditHeads[u].Hash))
		}
		rep, err := record.Verify(viewer.System(ctx), client, u)
		if err != nil {
			return nil, err
		}
		for _, p := range rep.Problems {
			out = append(out, fmt.Sprintf("user %s: %s", u, p.Message))
		}
		if rep.HeadSeq != m.AuditHeads[u].Seq || rep.HeadHash != m.AuditHeads[u].Hash {
			out = append(out, fmt.Sprintf("user %s: the last audit event is %d/%s, the backup's head is %d/%s", u, rep.HeadSeq, rep.HeadHash, m.AuditHeads[u].Seq, m.AuditHeads[u].Hash))
		}
	}
	return out, nil
}
