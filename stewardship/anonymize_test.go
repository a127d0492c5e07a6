package stewardship_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/anonymize"
	"github.com/vitalgraph/vitalgraph/app/backup"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/migrate"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

var dateRe = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)

// cells returns every non-null cell of every ent table as text.
func cells(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tbl := range migrate.Tables {
		rows, err := db.QueryContext(context.Background(), `SELECT * FROM `+tbl.Name)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for _, v := range vals {
				switch x := v.(type) {
				case nil:
				case []byte:
					out[tbl.Name] = append(out[tbl.Name], string(x))
				case time.Time:
					out[tbl.Name] = append(out[tbl.Name], x.UTC().Format(time.RFC3339Nano))
				default:
					out[tbl.Name] = append(out[tbl.Name], fmt.Sprint(x))
				}
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

func column(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v any
		require.NoError(t, rows.Scan(&v))
		switch x := v.(type) {
		case nil:
			out = append(out, "")
		case []byte:
			out = append(out, string(x))
		case float64:
			out = append(out, strconv.FormatFloat(x, 'g', 12, 64))
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	sort.Strings(out)
	return out
}

func weekdays(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, d := range column(t, db, `SELECT local_day FROM observations`) {
		day, err := time.Parse("2006-01-02", d)
		require.NoError(t, err)
		out[day.Weekday().String()]++
	}
	return out
}

// TestAnonymizeGoldenScenarios: two golden users on PostgreSQL are
// anonymized into an SQLite dataset; no original id, email, note, safety
// flag or date remains anywhere; weekday patterns, row counts, grades and
// effects are kept; the dataset is a backup that restore --verify accepts
// and whose re-hashed audit chains verify.
func TestAnonymizeGoldenScenarios(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := servertest.NewPostgresStore(t)
	srv := servertest.NewServer(t, src, nil)
	var users []string
	for i, sc := range []string{"g1_clean", "g2_gaps_adherence"} {
		uid := srv.CreateUser(t, fmt.Sprintf("person%d@example.com", i))
		c := &golden.Client{Handler: srv.App.Handler(), UserID: uid}
		require.NoError(t, golden.Run(ctx, c, golden.Cases(), sc, srv.App.SetClock))
		users = append(users, uid)
	}
	srv.App.SetClock(time.Time{})
	sys := viewer.System(ctx)
	require.NoError(t, src.Client.User.UpdateOneID(users[0]).SetSafetyFlags([]string{"PREGNANT"}).SetDisplayName("Alice Example").Exec(sys))
	_, err := src.DB.ExecContext(ctx, `UPDATE adherence_logs SET note = 'felt dizzy after the walk with Bob' WHERE id = (SELECT min(id) FROM adherence_logs)`)
	require.NoError(t, err)

	before := cells(t, src.DB)
	dst := servertest.NewSQLiteStore(t)
	rep, err := anonymize.Copy(ctx, src.DB, src.Dialect, dst.DB, dst.Dialect, anonymize.Options{Key: []byte("test key")})
	require.NoError(t, err)
	require.Equal(t, 2+1, rep.Users, "two golden users and the dev demo user")
	after := cells(t, dst.DB)

	// Secrets and originals: nothing survives.
	var secrets []string
	idRe := regexp.MustCompile(`\b[a-z]{3}_[0-9A-Z]{26}\b`)
	dates := map[string]bool{}
	for _, vals := range before {
		for _, v := range vals {
			secrets = append(secrets, idRe.FindAllString(v, -1)...)
			for _, d := range dateRe.FindAllString(v, -1) {
				dates[d] = true
			}
		}
	}
	require.NotEmpty(t, dates)
	secrets = append(secrets, "person0@example.com", "person1@example.com", "Alice Example", "felt dizzy", "PREGNANT", "flag_pregnant", "$argon2")
	for table, vals := range after {
		blob := strings.Join(vals, "\n")
		for _, s := range secrets {
			require.NotContains(t, blob, s, "table %s", table)
		}
		for _, d := range dateRe.FindAllString(blob, -1) {
			require.False(t, dates[d], "table %s holds original date %s", table, d)
		}
	}
	require.Empty(t, after["refresh_tokens"])

	// What must survive: rows, weekday patterns, grades, effects.
	for _, tbl := range []string{"observations", "baselines", "interventions", "evaluations", "adherence_logs", "audit_events"} {
		require.Equal(t, len(column(t, src.DB, `SELECT id FROM `+tbl)), rep.Rows[tbl], tbl)
		require.Positive(t, rep.Rows[tbl], tbl)
	}
	require.Equal(t, weekdays(t, src.DB), weekdays(t, dst.DB))
	for _, q := range []string{
		`SELECT evidence_grade FROM evaluations`, `SELECT effect FROM evaluations`,
		`SELECT evidence_grade FROM insights`, `SELECT value FROM observations`, `SELECT metric FROM observations`,
	} {
		require.Equal(t, column(t, src.DB, q), column(t, dst.DB, q), q)
	}
	for _, d := range rep.ShiftDays {
		require.Zero(t, d%7)
		require.LessOrEqual(t, d, -7*53)
	}
	flags := strings.Join(column(t, dst.DB, `SELECT safety_flags FROM users`), "|")
	require.Equal(t, 1, strings.Count(flags, `["ON_MEDICATION"]`), flags)

	// The dataset is a backup: restore --verify accepts it, chains verify.
	dir := filepath.Join(t.TempDir(), "dataset")
	m, err := backup.Write(ctx, dst.DB, dst.Dialect, "", dir, "test")
	require.NoError(t, err)
	fresh, err := server.OpenSQLite(ctx, server.SQLiteDSN(t.TempDir()))
	require.NoError(t, err)
	defer fresh.Close()
	_, err = backup.Restore(ctx, fresh.DB, fresh.Dialect, "", dir)
	require.NoError(t, err)
	diffs, err := backup.Verify(ctx, fresh.DB, fresh.Client, m)
	require.NoError(t, err)
	require.Empty(t, diffs)
}
