// Package migrations holds Vitalgraph's versioned SQL migrations (Atlas
// format, one folder per dialect, generated from the ent schema by gen.go)
// and applies them. Applying is idempotent: each file runs once, in its own
// transaction, and is recorded in vitalgraph_schema_migrations with its hash.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

//go:embed postgres sqlite
var files embed.FS

// advisoryLockKey serializes concurrent migrators on PostgreSQL.
const advisoryLockKey = 727001

// Dir returns the migration directory of a dialect (dialect.Postgres or
// dialect.SQLite), with its atlas.sum checked.
func Dir(dia string) (atlas.Dir, error) {
	folder, err := folderOf(dia)
	if err != nil {
		return nil, err
	}
	mem := &atlas.MemDir{}
	entries, err := fs.ReadDir(files, folder)
	if err != nil {
		return nil, fmt.Errorf("reading %s migrations: %w", folder, err)
	}
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(folder, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := atlas.Validate(mem); err != nil {
		return nil, fmt.Errorf("%s migrations do not match atlas.sum: %w", folder, err)
	}
	return mem, nil
}

func folderOf(dia string) (string, error) {
	switch dia {
	case dialect.Postgres:
		return "postgres", nil
	case dialect.SQLite:
		return "sqlite", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", dia)
}

// Status is one migration file and whether it has been applied.
type Status struct {
	Version     string
	Description string
	AppliedAt   *time.Time
}

// Apply runs every pending migration of dialect dia on db, in version order,
// each in its own transaction, and returns the versions it applied. Running
// it again applies nothing.
func Apply(ctx context.Context, db *sql.DB, dia string) ([]string, error) {
	dir, err := Dir(dia)
	if err != nil {
		return nil, err
	}
	if err := ensureTable(ctx, db, dia); err != nil {
		return nil, err
	}
	mfiles, err := dir.Files()
	if err != nil {
		return nil, err
	}
	sort.Slice(mfiles, func(i, j int) bool { return mfiles[i].Version() < mfiles[j].Version() })
	var applied []string
	for _, f := range mfiles {
		did, err := applyOne(ctx, db, dia, f)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		if did {
			applied = append(applied, f.Version())
		}
	}
	return applied, nil
}

// Pending returns the versions not applied yet.
func Pending(ctx context.Context, db *sql.DB, dia string) ([]string, error) {
	st, err := List(ctx, db, dia)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range st {
		if s.AppliedAt == nil {
			out = append(out, s.Version)
		}
	}
	return out, nil
}

// List returns every migration of the dialect and when it was applied.
func List(ctx context.Context, db *sql.DB, dia string) ([]Status, error) {
	dir, err := Dir(dia)
	if err != nil {
		return nil, err
	}
	if err := ensureTable(ctx, db, dia); err != nil {
		return nil, err
	}
	applied := map[string]time.Time{}
	rows, err := db.QueryContext(ctx, `SELECT version, applied_at FROM vitalgraph_schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return nil, err
		}
		applied[v] = at
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	mfiles, err := dir.Files()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(mfiles))
	for _, f := range mfiles {
		s := Status{Version: f.Version(), Description: f.Desc()}
		if at, ok := applied[f.Version()]; ok {
			s.AppliedAt = &at
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func ensureTable(ctx context.Context, db *sql.DB, dia string) error {
	ts := "TIMESTAMPTZ"
	if dia == dialect.SQLite {
		ts = "DATETIME"
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS vitalgraph_schema_migrations (
		version VARCHAR(64) PRIMARY KEY,
		description VARCHAR(255) NOT NULL,
		checksum VARCHAR(128) NOT NULL,
		applied_at `+ts+` NOT NULL)`)
	if err != nil {
		return fmt.Errorf("creating migrations table: %w", err)
	}
	return nil
}

func applyOne(ctx context.Context, db *sql.DB, dia string, f atlas.File) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if !applied || err != nil {
			_ = tx.Rollback()
		}
	}()
	q := rebind(dia)
	if dia == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryLockKey); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, q(`SELECT COUNT(*) FROM vitalgraph_schema_migrations WHERE version = ?`), f.Version()).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	stmts, err := f.Stmts()
	if err != nil {
		return false, err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("executing %q: %w", firstLine(s), err)
		}
	}
	sum, err := atlas.NewHashFile([]atlas.File{f})
	if err != nil {
		return false, err
	}
	checksum := ""
	if len(sum) > 0 {
		checksum = sum[0].H
	}
	if _, err := tx.ExecContext(ctx, q(`INSERT INTO vitalgraph_schema_migrations (version, description, checksum, applied_at) VALUES (?, ?, ?, ?)`),
		f.Version(), f.Desc(), checksum, time.Now().UTC()); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

// rebind turns ? placeholders into $n for PostgreSQL.
func rebind(dia string) func(string) string {
	return func(s string) string {
		if dia != dialect.Postgres {
			return s
		}
		var b strings.Builder
		n := 0
		for _, r := range s {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		return b.String()
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
