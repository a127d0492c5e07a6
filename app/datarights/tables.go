package datarights

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/vitalgraph/vitalgraph/ent/migrate"
)

// Withheld columns: secrets that are never exported (a hash of a password
// or a token is not "data about the person" and would help an attacker).
var withheld = map[string]map[string]bool{
	"users":          {"password_hash": true},
	"refresh_tokens": {"token_hash": true},
	// sealed OAuth tokens of wearable connections (app/connect)
	"provider_connections": {"access_token_sealed": true, "refresh_token_sealed": true},
	// the server's path of an upload waiting for its import
	"health_imports": {"spool_path": true},
}

// OwnedTables lists the tables holding a user_id column, children before
// the tables they reference (the order deletion needs).
func OwnedTables() []string {
	var owned []*schema.Table
	for _, t := range migrate.Tables {
		for _, c := range t.Columns {
			if c.Name == "user_id" {
				owned = append(owned, t)
				break
			}
		}
	}
	// Topological order: a table comes before every table it references.
	var out []string
	done := map[string]bool{}
	var visit func(t *schema.Table, stack map[string]bool)
	visit = func(t *schema.Table, stack map[string]bool) {
		if done[t.Name] || stack[t.Name] {
			return
		}
		stack[t.Name] = true
		// Tables referencing t go first.
		for _, o := range owned {
			for _, fk := range o.ForeignKeys {
				if fk.RefTable != nil && fk.RefTable.Name == t.Name && o.Name != t.Name {
					visit(o, stack)
				}
			}
		}
		done[t.Name] = true
		out = append(out, t.Name)
	}
	slices.SortFunc(owned, func(a, b *schema.Table) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	for _, t := range owned {
		visit(t, map[string]bool{})
	}
	return out
}

// queryer is *sql.DB or *sql.Tx (or ent's Tx through ExecContext/QueryContext).
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func placeholder(dia string) string {
	if dia == dialect.Postgres {
		return "$1"
	}
	return "?"
}

// Rows reads every row of table whose column equals value, ordered by id,
// as column → JSON-ready value (withheld columns dropped).
func Rows(ctx context.Context, q queryer, dia, table, column, value string) ([]map[string]any, error) {
	order := "id"
	if table == "audit_events" || table == "feed_events" {
		order = "seq" // the chain's order
	}
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM %s WHERE %s = %s ORDER BY %s`, table, column, placeholder(dia), order), value)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading %s: %w", table, err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			if withheld[table][c] {
				continue
			}
			m[c] = jsonValue(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// jsonValue turns a driver value into something encoding/json renders
// faithfully: JSON columns stay JSON, bytes become text, times RFC 3339.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		if json.Valid(x) && len(x) > 0 && (x[0] == '{' || x[0] == '[') {
			return json.RawMessage(slices.Clone(x))
		}
		if utf8.Valid(x) {
			return string(x)
		}
		return x
	case string:
		if len(x) > 0 && (x[0] == '{' || x[0] == '[') && json.Valid([]byte(x)) {
			return json.RawMessage(x)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}
