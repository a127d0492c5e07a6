// Package anonymize copies a Vitalgraph database into a dataset safe to
// share for reproducing bugs: every id becomes a keyed-HMAC pseudonym
// (consistently, so references still join), emails, names, passwords and
// free-text notes are removed, each user's dates and times move by one
// random multiple of 7 days (weekday patterns survive), safety flags are
// generalized, refresh tokens are dropped and provider or client keys are
// replaced by HMACs. Audit chains are re-hashed over the new content, so
// the result verifies (docs/runbooks.md, "Anonymized datasets").
package anonymize

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/ent/migrate"
)

// Dropped tables: secrets, not data.
var dropped = map[string]bool{"refresh_tokens": true}

// keyed columns are replaced by an HMAC (they may carry outside identifiers).
var keyed = map[string]bool{"external_user_id": true, "idempotency_key": true, "content_hash": true, "dedupe_key": true}

// cleared columns become their empty value.
var cleared = map[string]map[string]any{
	"users": {"email": nil, "display_name": "", "password_hash": nil, "deleted_at": nil},
	"*":     {"note": "", "notes": ""},
}

var (
	idRe   = regexp.MustCompile(`\b([a-z]{3})_([0-9A-HJKMNP-TV-Z]{26})\b`)
	dateRe = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	b32    = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)
)

// Options of a run.
type Options struct {
	Key []byte // HMAC key; random when empty (then pseudonyms are unlinkable across runs)
	// MinWeeks and MaxWeeks bound each user's backward shift (default 53..520:
	// one to ten years, so shifted days never fall on an original day of
	// data spanning less than a year).
	MinWeeks, MaxWeeks int
}

// Report says what was done.
type Report struct {
	Rows      map[string]int
	Users     int
	ShiftDays map[string]int // by pseudonymous user id; keep private (it reverses the shift)
}

type anon struct {
	key   []byte
	shift map[string]int // original user id → days
	opt   Options
}

func (a *anon) pseudonym(id string) string {
	m := idRe.FindStringSubmatch(id)
	if m == nil {
		return a.keyedHex(id)
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(id))
	sum := mac.Sum(nil)
	return m[1] + "_" + b32.EncodeToString(sum)[:26]
}

func (a *anon) keyedHex(s string) string {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte("k:" + s))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

func (a *anon) shiftFor(userID string) (int, error) {
	if d, ok := a.shift[userID]; ok {
		return d, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	span := uint64(a.opt.MaxWeeks - a.opt.MinWeeks + 1)
	weeks := a.opt.MinWeeks + int(binary.BigEndian.Uint64(b[:])%span)
	a.shift[userID] = -7 * weeks
	return a.shift[userID], nil
}

var flagNames = func() []string {
	out := make([]string, 0, len(safety.Flags))
	for _, f := range safety.Flags {
		out = append(out, string(f))
	}
	return out
}()

func (a *anon) text(s string, days int) string {
	s = idRe.ReplaceAllStringFunc(s, a.pseudonym)
	s = dateRe.ReplaceAllStringFunc(s, func(d string) string {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return d
		}
		return t.AddDate(0, 0, days).Format("2006-01-02")
	})
	for _, f := range flagNames {
		s = strings.ReplaceAll(s, "flag_"+strings.ToLower(f), "flag_generalized")
		s = strings.ReplaceAll(s, f, "SAFETY_FLAG")
	}
	return s
}

func (a *anon) value(table, col string, v any, days int) any {
	if c, ok := cleared[table][col]; ok {
		return c
	}
	if c, ok := cleared["*"][col]; ok {
		return c
	}
	if v == nil {
		return nil
	}
	if keyed[col] {
		return a.keyedHex(fmt.Sprint(v))
	}
	if table == "users" && col == "safety_flags" {
		if s := fmt.Sprint(v); s != "" && s != "null" && s != "[]" {
			return `["ON_MEDICATION"]` // generalized: "has a safety-relevant condition"
		}
		return v
	}
	switch x := v.(type) {
	case []byte:
		return a.text(string(x), days)
	case string:
		return a.text(x, days)
	case time.Time:
		return x.AddDate(0, 0, days)
	}
	return v
}

func placeholders(dia string, n int) string {
	p := make([]string, n)
	for i := range p {
		if dia == dialect.Postgres {
			p[i] = fmt.Sprintf("$%d", i+1)
		} else {
			p[i] = "?"
		}
	}
	return strings.Join(p, ", ")
}

// order lists the tables parents first (users, then the owned tables in
// reverse of datarights' children-first order), dropped tables excluded.
func order() []string {
	owned := datarights.OwnedTables()
	out := []string{"users"}
	for i := len(owned) - 1; i >= 0; i-- {
		if !dropped[owned[i]] {
			out = append(out, owned[i])
		}
	}
	for _, t := range migrate.Tables {
		if !slices.Contains(out, t.Name) && !dropped[t.Name] {
			out = append(out, t.Name)
		}
	}
	return out
}

func table(name string) *schema.Table {
	for _, t := range migrate.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Copy reads every table of src (dialect srcDia) and writes the anonymized
// rows into dst, a migrated, empty database of dialect dstDia.
func Copy(ctx context.Context, src *sql.DB, srcDia string, dst *sql.DB, dstDia string, opt Options) (Report, error) {
	if opt.MinWeeks <= 0 {
		opt.MinWeeks = 53
	}
	if opt.MaxWeeks < opt.MinWeeks {
		opt.MaxWeeks = max(520, opt.MinWeeks)
	}
	a := &anon{key: opt.Key, shift: map[string]int{}, opt: opt}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return Report{}, err
		}
	}
	rep := Report{Rows: map[string]int{}, ShiftDays: map[string]int{}}
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: srcDia == dialect.Postgres, Isolation: isolation(srcDia)})
	if err != nil {
		return rep, err
	}
	defer func() { _ = stx.Rollback() }()
	dtx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return rep, err
	}
	defer func() { _ = dtx.Rollback() }()
	for _, name := range order() {
		t := table(name)
		if t == nil {
			continue
		}
		owner := "user_id"
		if name == "users" {
			owner = "id"
		}
		n, err := a.copyTable(ctx, stx, dtx, dstDia, t, owner)
		if err != nil {
			return rep, err
		}
		rep.Rows[name] = n
	}
	users, err := rehash(ctx, dtx, dstDia)
	if err != nil {
		return rep, err
	}
	rep.Users = users
	for id, d := range a.shift {
		rep.ShiftDays[a.pseudonym(id)] = d
	}
	return rep, dtx.Commit()
}

func isolation(dia string) sql.IsolationLevel {
	if dia == dialect.Postgres {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault
}

func (a *anon) copyTable(ctx context.Context, src, dst *sql.Tx, dstDia string, t *schema.Table, owner string) (int, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+t.Name) //nolint:gosec // table names come from the ent schema, not from input
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", t.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	ownerIdx := slices.Index(cols, owner)
	ins := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, //nolint:gosec // names from the ent schema and the source's own columns
		t.Name, strings.Join(cols, ", "), placeholders(dstDia, len(cols)))
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		days := 0
		if ownerIdx >= 0 && vals[ownerIdx] != nil {
			if days, err = a.shiftFor(asString(vals[ownerIdx])); err != nil {
				return 0, err
			}
		}
		for i, c := range cols {
			vals[i] = a.value(t.Name, c, vals[i], days)
		}
		if _, err := dst.ExecContext(ctx, ins, vals...); err != nil {
			return 0, fmt.Errorf("writing %s: %w", t.Name, err)
		}
		n++
	}
	return n, rows.Err()
}

func asString(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// rehash recomputes every user's audit chain over the anonymized content.
func rehash(ctx context.Context, tx *sql.Tx, dia string) (int, error) {
	ph := func(i int) string {
		if dia == dialect.Postgres {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	ids, err := strings_(ctx, tx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return 0, err
	}
	for _, uid := range ids {
		rows, err := datarights.Rows(ctx, tx, dia, "audit_events", "user_id", uid)
		if err != nil {
			return 0, err
		}
		prev := ""
		var seq int64
		for _, r := range rows {
			ev, err := eventOf(r)
			if err != nil {
				return 0, err
			}
			ev.PrevHash = prev
			h, err := auditverify.Hash(ev)
			if err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE audit_events SET prev_hash = %s, hash = %s WHERE id = %s`, ph(1), ph(2), ph(3)), prev, h, ev.ID); err != nil {
				return 0, err
			}
			prev, seq = h, ev.Seq
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE users SET audit_head = %s, audit_seq = %s WHERE id = %s`, ph(1), ph(2), ph(3)), prev, seq, uid); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func strings_(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func eventOf(r map[string]any) (auditverify.Event, error) {
	str := func(k string) string {
		switch x := r[k].(type) {
		case nil:
			return ""
		case string:
			return x
		case json.RawMessage:
			return string(x)
		}
		return fmt.Sprint(r[k])
	}
	ev := auditverify.Event{
		ID: str("id"), UserID: str("user_id"), EntityType: str("entity_type"), EntityID: str("entity_id"),
		Action: str("action"), Decision: str("decision"), Reason: str("reason"), Actor: str("actor"),
		RequestID: str("request_id"),
	}
	switch x := r["seq"].(type) {
	case int64:
		ev.Seq = x
	default:
		n, err := strconv.ParseInt(str("seq"), 10, 64)
		if err != nil {
			return ev, fmt.Errorf("audit event %s: seq %v", ev.ID, r["seq"])
		}
		ev.Seq = n
	}
	if d, ok := r["details"].(json.RawMessage); ok && len(d) > 0 && string(d) != "null" {
		if err := json.Unmarshal(d, &ev.Details); err != nil {
			return ev, err
		}
	}
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05"} {
		if ev.CreatedAt, err = time.Parse(layout, str("created_at")); err == nil {
			break
		}
	}
	if err != nil {
		return ev, fmt.Errorf("audit event %s: created_at %q", ev.ID, str("created_at"))
	}
	ev.CreatedAt = ev.CreatedAt.UTC()
	return ev, nil
}

// Pseudonym is the pseudonymous form of id under key, as Copy writes it.
func Pseudonym(key []byte, id string) string { return (&anon{key: key}).pseudonym(id) }
