package datarights

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// Service runs data export, account deletion and audit checkpoints.
type Service struct {
	Client      *ent.Client
	DB          *sql.DB
	Dialect     string
	Recorder    *record.Recorder
	Checkpoints *Checkpointer
	Exports     *ExportStore
	ExportTTL   time.Duration // how long a finished archive can be downloaded (24h)
	// CloseSubscriptions ends the live-feed subscriptions of a user (the
	// feed Hub's CloseUser); may be nil.
	CloseSubscriptions func(userID string)
	// ForgetDerived drops what the process keeps in memory that was derived
	// from a user's data (the loop's detector results); may be nil. Called
	// after an erasure commits.
	ForgetDerived func(userID string)
	Log           *slog.Logger
	Now           func() time.Time

	wg sync.WaitGroup
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Clock is the service's current time.
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) ttl() time.Duration {
	if s.ExportTTL > 0 {
		return s.ExportTTL
	}
	return 24 * time.Hour
}

// Wait blocks until running export jobs finish (App.Close, tests).
func (s *Service) Wait() { s.wg.Wait() }

// Target resolves whose data an operation is about: the viewer's own
// (userID empty or the viewer) or, for an admin, any user. It returns the
// target id and whether an admin acts on someone else.
func Target(ctx context.Context, userID string) (string, bool, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.UserID == "" {
		return "", false, engine.Errorf(engine.EUNAUTHORIZED, "sign in required")
	}
	if userID == "" || userID == v.UserID {
		return v.UserID, false, nil
	}
	if v.Role != viewer.RoleAdmin {
		return "", false, engine.Errorf(engine.EFORBIDDEN, "only an administrator acts on another user's data")
	}
	return userID, true, nil
}

// DeleteAccount erases userID: every row carrying the user's id is deleted
// (observations, baselines, insights, experiments, evaluations, narratives,
// tokens, feed and, by this deliberate exception to the append-only rule,
// the audit trail), the user row is scrubbed of everything personal, and
// one tombstone audit event remains (no health data: counts per table and
// who asked). Then the user's live subscriptions are closed.
//
// A user deletes their own account with their password (password must
// match); an admin deletes another user's account with a reason, and the
// tombstone records the admin. ctx's viewer is checked by Target.
func (s *Service) DeleteAccount(ctx context.Context, userID, password, reason string) (map[string]int64, error) {
	target, byAdmin, err := Target(ctx, userID)
	if err != nil {
		return nil, err
	}
	v, _ := viewer.FromContext(ctx)
	sctx := viewer.NewContext(ctx, viewer.Viewer{Role: viewer.RoleSystem, RequestID: v.RequestID})
	u, err := s.Client.User.Get(sctx, target)
	if err != nil {
		return nil, engine.Wrap(err, engine.ENOTFOUND, "no such user")
	}
	if u.DeletedAt != nil {
		return nil, engine.Errorf(engine.ECONFLICT, "this account was already deleted")
	}
	if !byAdmin {
		if u.PasswordHash == nil || !auth.VerifyPassword(*u.PasswordHash, password) {
			return nil, engine.Errorf(engine.EUNAUTHORIZED, "the password is not correct")
		}
	} else if reason == "" {
		return nil, engine.Errorf(engine.EINVALID, "an administrator must give a reason")
	}
	counts := map[string]int64{}
	tx, err := s.Client.Tx(sctx)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (map[string]int64, error) {
		_ = tx.Rollback()
		return nil, err
	}
	// Lock the user row first: every writer for this user serializes on it.
	prevHead := u.AuditHead
	prevSeq := u.AuditSeq
	if _, err := tx.User.UpdateOneID(target).AddFeedSeq(0).Save(sctx); err != nil {
		return fail(err)
	}
	ph := placeholder(s.Dialect)
	for _, table := range OwnedTables() {
		// Below the privacy layer on purpose: audit_events and feed_events
		// are append-only for every API path; erasure is the one exception.
		res, err := tx.ExecContext(sctx, fmt.Sprintf(`DELETE FROM %s WHERE user_id = %s`, table, ph), target)
		if err != nil {
			return fail(fmt.Errorf("erasing %s: %w", table, err))
		}
		n, _ := res.RowsAffected()
		counts[table] = n
	}
	if err := tx.User.UpdateOneID(target).ClearEmail().SetDisplayName("").ClearPasswordHash().
		SetTimezone("UTC").ClearSafetyFlags().SetRole(user.RoleUSER).SetDeletedAt(s.now()).Exec(sctx); err != nil {
		return fail(err)
	}
	by := "self"
	if byAdmin {
		by = "admin"
	}
	details := map[string]any{"erasedRows": counts, "requestedBy": by, "previousSeq": prevSeq, "previousHead": prevHead}
	if byAdmin {
		details["admin"] = v.UserID
		details["reason"] = reason
	}
	// The tombstone continues the old chain (seq and prev hash), so a
	// checkpoint the person kept shows where their trail ended.
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: target, EntityType: "User", EntityID: target, Action: "delete_account", Decision: "erased",
		Reason: "the account and all its data were deleted", Details: details,
	}); err != nil {
		return fail(err)
	}
	// The tombstone's feed announcement would carry the id too: drop it
	// (written now, not at COMMIT, so that the DELETE sees it).
	if err := s.Recorder.Flush(ctx, tx); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(sctx, fmt.Sprintf(`DELETE FROM feed_events WHERE user_id = %s`, ph), target); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if s.Exports != nil {
		s.Exports.DeleteUser(target)
	}
	if s.CloseSubscriptions != nil {
		s.CloseSubscriptions(target)
	}
	if s.ForgetDerived != nil {
		s.ForgetDerived(target)
	}
	if s.Log != nil {
		s.Log.InfoContext(ctx, "account deleted", slog.String("user", target), slog.String("by", by))
	}
	return counts, nil
}

// Export states.
const (
	ExportQueued  = "QUEUED"
	ExportRunning = "RUNNING"
	ExportReady   = "READY"
	ExportFailed  = "FAILED"
)

// Export is one data export job.
type Export struct {
	ID          string
	UserID      string
	RequestedBy string
	Status      string
	Progress    float64 // 0..1
	Tables      map[string]int
	SHA256      string
	Size        int
	Token       string // download token (secret)
	CreatedAt   time.Time
	ExpiresAt   time.Time // of the download; zero until ready
	Error       string
	data        []byte
}

// ExportStore keeps export jobs and their archives until they expire: in
// Redis when configured (shared by replicas), else in memory. An archive is
// a download, not a copy of record; when it is gone the person asks again.
type ExportStore struct {
	mu   sync.Mutex
	jobs map[string]*Export
	rdb  *redis.Client // shared by replicas when set (exports_redis.go)
}

// NewExportStore returns an empty store.
func NewExportStore() *ExportStore { return &ExportStore{jobs: map[string]*Export{}} }

func (st *ExportStore) put(e *Export) {
	if st.rdb != nil {
		c := *e
		st.redisSave(&c)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.jobs[e.ID] = e
}

func (st *ExportStore) update(id string, fn func(*Export)) {
	if st.rdb != nil {
		st.mu.Lock() // one writer per job, but progress callbacks may race the runner
		defer st.mu.Unlock()
		if e, ok := st.redisGet(id); ok {
			fn(e)
			st.redisSave(e)
		}
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.jobs[id]; ok {
		fn(e)
	}
}

// Get returns a copy of the job (without the archive).
func (st *ExportStore) Get(id string, now time.Time) (Export, bool) {
	if st.rdb != nil {
		e, ok := st.redisGet(id)
		if !ok || (!e.ExpiresAt.IsZero() && now.After(e.ExpiresAt)) {
			return Export{}, false
		}
		return *e, true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire(now)
	e, ok := st.jobs[id]
	if !ok {
		return Export{}, false
	}
	c := *e
	c.data = nil
	return c, true
}

func (st *ExportStore) expire(now time.Time) {
	for id, e := range st.jobs {
		if !e.ExpiresAt.IsZero() && now.After(e.ExpiresAt) {
			delete(st.jobs, id)
		}
	}
}

// DeleteUser drops every export of userID.
func (st *ExportStore) DeleteUser(userID string) {
	if st.rdb != nil {
		st.redisDeleteUser(userID)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for id, e := range st.jobs {
		if e.UserID == userID {
			delete(st.jobs, id)
		}
	}
}

// Download returns the archive of a READY, unexpired export whose token
// matches; ENOTFOUND otherwise (never saying which check failed).
func (st *ExportStore) Download(id, token string, now time.Time) ([]byte, *Export, error) {
	if st.rdb != nil {
		return st.redisDownload(id, token, now)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire(now)
	e, ok := st.jobs[id]
	if !ok || e.Status != ExportReady || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(e.Token)) != 1 {
		return nil, nil, engine.Errorf(engine.ENOTFOUND, "no such export, or its download link expired")
	}
	c := *e
	return e.data, &c, nil
}

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// RequestExport queues an export of everything the service holds about
// userID ("" = the viewer; admins may name anyone) and returns the job. The
// archive is built in the background; the request and the result are
// audited (and so announced on the live feed).
func (s *Service) RequestExport(ctx context.Context, userID string) (Export, error) {
	target, byAdmin, err := Target(ctx, userID)
	if err != nil {
		return Export{}, err
	}
	v, _ := viewer.FromContext(ctx)
	e := &Export{
		ID: randomID("dex_", 12), UserID: target, RequestedBy: v.UserID, Status: ExportQueued,
		Token: randomID("", 24), CreatedAt: s.now(),
	}
	sctx := viewer.NewContext(context.WithoutCancel(ctx), viewer.Viewer{Role: viewer.RoleSystem, RequestID: v.RequestID})
	if err := s.audit(sctx, target, e.ID, "export_requested", "queued", "a copy of all data was requested",
		map[string]any{"byAdmin": byAdmin, "requestedBy": v.UserID}); err != nil {
		return Export{}, err
	}
	c := *e // before the job starts mutating e
	s.Exports.put(e)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runExport(sctx, c.ID, target)
	}()
	return c, nil
}

func (s *Service) audit(ctx context.Context, userID, entityID, action, decision, reason string, details map[string]any) error {
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "DataExport", EntityID: entityID, Action: action, Decision: decision,
		Reason: reason, Details: details,
	}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Service) runExport(ctx context.Context, id, userID string) {
	s.Exports.update(id, func(e *Export) { e.Status = ExportRunning })
	data, tables, err := s.BuildArchive(ctx, userID, func(p float64) {
		s.Exports.update(id, func(e *Export) { e.Progress = p })
	})
	if err != nil {
		if s.Log != nil {
			s.Log.ErrorContext(ctx, "data export failed", slog.String("export", id), slog.Any("err", err))
		}
		s.Exports.update(id, func(e *Export) { e.Status, e.Error = ExportFailed, "the export failed; please ask again" })
		_ = s.audit(ctx, userID, id, "export_failed", "failed", "the data export failed", nil)
		return
	}
	if _, ok := s.Exports.Get(id, s.now()); !ok {
		return // the account was deleted meanwhile: publish nothing, audit nothing
	}
	sum := sha256.Sum256(data)
	exp := s.now().Add(s.ttl())
	// Announce first, then publish: the audit event that says "ready" is
	// also the last thing the archive does not contain.
	_ = s.audit(ctx, userID, id, "export_ready", "ready", "the data export is ready to download",
		map[string]any{"sha256": hex.EncodeToString(sum[:]), "bytes": len(data), "expiresAt": exp.Format(time.RFC3339)})
	s.Exports.update(id, func(e *Export) {
		e.Status, e.Progress, e.Tables, e.data = ExportReady, 1, tables, data
		e.SHA256, e.Size, e.ExpiresAt = hex.EncodeToString(sum[:]), len(data), exp
	})
}

// BuildArchive writes a zip of everything the service holds about userID:
// manifest.json (tables, row counts, sha256 of each file, a signed audit
// checkpoint), user.json, and one NDJSON file per table holding the user's
// rows (every column but password and token hashes). progress is called
// with 0..1 as tables are written.
func (s *Service) BuildArchive(ctx context.Context, userID string, progress func(float64)) ([]byte, map[string]int, error) {
	tx, err := s.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.Dialect == dialect.Postgres, Isolation: isolation(s.Dialect)})
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string]string{}
	counts := map[string]int{}
	write := func(name string, content []byte) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := w.Write(content); err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		files[name] = hex.EncodeToString(sum[:])
		return nil
	}
	users, err := Rows(ctx, tx, s.Dialect, "users", "id", userID)
	if err != nil {
		return nil, nil, err
	}
	if len(users) != 1 {
		return nil, nil, engine.Errorf(engine.ENOTFOUND, "no such user")
	}
	ub, _ := json.MarshalIndent(users[0], "", "  ")
	if err := write("user.json", ub); err != nil {
		return nil, nil, err
	}
	var head struct {
		seq  int64
		hash string
	}
	tables := OwnedTables()
	for i, t := range tables {
		rows, err := Rows(ctx, tx, s.Dialect, t, "user_id", userID)
		if err != nil {
			return nil, nil, err
		}
		var nd bytes.Buffer
		enc := json.NewEncoder(&nd)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return nil, nil, err
			}
		}
		if err := write(t+".ndjson", nd.Bytes()); err != nil {
			return nil, nil, err
		}
		counts[t] = len(rows)
		if t == "audit_events" && len(rows) > 0 {
			last := rows[len(rows)-1]
			head.hash, _ = last["hash"].(string)
			head.seq = toInt64(last["seq"])
		}
		if progress != nil {
			progress(float64(i+1) / float64(len(tables)+1))
		}
	}
	// The trail once more in the documented, verifiable form (docs/audit.md):
	// a third party checks it with auditverify or the recipe alone.
	trail, err := record.Events(viewer.System(ctx), s.Client, userID)
	if err != nil {
		return nil, nil, err
	}
	var nd bytes.Buffer
	enc := json.NewEncoder(&nd)
	for _, ev := range trail {
		if ev.Seq > head.seq {
			break // written after the snapshot
		}
		if err := enc.Encode(ev); err != nil {
			return nil, nil, err
		}
	}
	if err := write("audit_trail.ndjson", nd.Bytes()); err != nil {
		return nil, nil, err
	}
	manifest := map[string]any{
		"format": "vitalgraph-export/v1", "userId": userID, "createdAt": s.now().Format(time.RFC3339Nano),
		"rows": counts, "sha256": files,
		"audit": "audit_trail.ndjson is the hash-chained trail in the verifiable form; check it and auditCheckpoint with the recipe of docs/audit.md",
	}
	if s.Checkpoints != nil {
		if cp, err := s.Checkpoints.Sign(userID, head.seq, head.hash); err == nil {
			manifest["auditCheckpoint"] = cp
		}
	}
	mb, _ := json.MarshalIndent(manifest, "", "  ")
	w, err := zw.Create("manifest.json")
	if err != nil {
		return nil, nil, err
	}
	if _, err := w.Write(mb); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), counts, nil
}

func isolation(dia string) sql.IsolationLevel {
	if dia == dialect.Postgres {
		return sql.LevelRepeatableRead // one consistent snapshot across tables
	}
	return sql.LevelDefault
}

// DownloadPath is the path of an export's archive, valid until it expires.
func DownloadPath(e Export) string {
	return "/exports/" + e.ID + "?token=" + e.Token
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}
