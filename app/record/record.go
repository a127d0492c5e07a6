// Package record writes the trail of every decision inside the caller's
// transaction: an append-only, hash-chained AuditEvent and a FeedEvent
// (the transactional outbox of the live feed). Both take a per-user sequence
// number bumped on the user's row, so writers for one user are serialized by
// that row's lock and cursors never skip (see docs/design.md, outbox pitfalls).
// The rows are written right before COMMIT, so the lock is held for the
// last statements and the commit, not for the whole transaction.
package record

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// Notifier is told, after a transaction that wrote feed events commits,
// which user has new events. It must not block.
type Notifier interface {
	Notify(userID string)
}

// EventNotifier is a Notifier that can also be given the committed feed
// rows themselves. When the Recorder's Notifier is one, the feed rows that
// the commit hook wrote (right before COMMIT: nothing in the transaction
// can change or delete them afterwards, so they are exactly what
// committed) are announced with NotifyEvents instead of Notify. Rows
// written earlier (Flush, Batch.Flush: the transaction may still delete
// them or roll back to a savepoint) are announced with Notify alone, and
// the Notifier reads the outbox.
type EventNotifier interface {
	Notifier
	// NotifyEvents says that userID's feed events evs (in cursor order,
	// contiguous) have committed. It must not block, and must neither keep
	// nor modify evs or their payloads after returning.
	NotifyEvents(userID string, evs []*ent.FeedEvent)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(userID string)

// Notify implements Notifier.
func (f NotifierFunc) Notify(userID string) { f(userID) }

// Recorder writes audit and feed events.
type Recorder struct {
	Notifier Notifier // may be nil
	Now      func() time.Time
	// Committed, when set, is called with each audited decision once its
	// transaction commits (metrics count decisions there; a rolled-back
	// decision is never counted). It must not block.
	Committed func(Audit)

	// Dialect is the database's ("postgres" writes each user's events in
	// two statements instead of ent's builders); "" is any database.
	Dialect string

	pending sync.Map // *ent.Tx → *batch: events to write right before COMMIT
}

// New returns a Recorder that notifies n after commits.
func New(n Notifier) *Recorder { return &Recorder{Notifier: n, Now: time.Now} }

// Audit describes one decision.
type Audit struct {
	UserID     string         // whose trail this joins
	EntityType string         // e.g. "Insight"
	EntityID   string         // global id of the entity
	Action     string         // e.g. "create", "suppress", "skip", "start", "evaluate"
	Decision   string         // decision type, e.g. "created", "guardrail_skipped"
	Reason     string         // human-readable reason
	Details    map[string]any // source metrics, windows, detectors, thresholds, safety checks
}

func (r *Recorder) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return r.Now().UTC().Truncate(time.Microsecond)
}

// Audit appends an audit event to the user's chain and announces it on the
// feed, inside tx. It fails with EINVALID when a required field is missing.
//
// The rows are written when tx commits (or at Flush), not now: the user's
// sequence numbers and chain head are taken with one short UPDATE of the
// user's row right before COMMIT, so the row lock that orders one user's
// writers is held for the final statements and the commit only, not for the
// rest of the transaction. The returned event's ID is set now; its Seq,
// PrevHash, Hash and CreatedAt once the rows are written.
func (r *Recorder) Audit(ctx context.Context, tx *ent.Tx, a Audit) (*ent.AuditEvent, error) {
	if tx == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "audit events must be written inside a transaction")
	}
	a, err := checkAudit(a)
	if err != nil {
		return nil, err
	}
	it := auditItem(ctx, a)
	b := r.batch(ctx, tx)
	b.mu.Lock()
	b.items = append(b.items, it)
	if r.Committed != nil {
		b.committed = append(b.committed, a)
	}
	b.mu.Unlock()
	return it.audit, nil
}

// checkAudit validates a and normalizes its details.
func checkAudit(a Audit) (Audit, error) {
	if a.UserID == "" || a.EntityType == "" || a.EntityID == "" || a.Action == "" {
		return a, engine.Errorf(engine.EINVALID, "audit event needs user, entity type, entity id and action")
	}
	details, err := normalize(a.Details)
	if err != nil {
		return a, err
	}
	a.Details = details
	return a, nil
}

// auditItem is a's row, by ctx's viewer (actor and request), with its feed
// announcement; sequence numbers, hashes and times are set when written.
func auditItem(ctx context.Context, a Audit) item {
	v, _ := viewer.FromContext(ctx)
	actor := v.Actor()
	if actor == "" {
		actor = "system"
	}
	ev := &ent.AuditEvent{
		ID: pulid.New("aud"), UserID: a.UserID, EntityType: a.EntityType, EntityID: a.EntityID,
		Action: a.Action, Decision: a.Decision, Reason: a.Reason, Details: a.Details,
		Actor: actor, RequestID: v.RequestID,
	}
	return item{audit: ev, feed: &ent.FeedEvent{
		ID: pulid.New("fev"), UserID: a.UserID, Kind: feedevent.KindAUDIT_EVENT, EntityID: ev.ID,
		Payload: map[string]any{"entityType": a.EntityType, "entityId": a.EntityID, "action": a.Action, "decision": a.Decision},
	}}
}

// feedItem is a feed event's row; its sequence number and time are set
// when written.
func feedItem(userID string, kind feedevent.Kind, entityID string, payload map[string]any) item {
	return item{feed: &ent.FeedEvent{ID: pulid.New("fev"), UserID: userID, Kind: kind, EntityID: entityID, Payload: payload}}
}

// Feed adds one outbox row with the user's next feed cursor to tx and
// notifies the Notifier once the transaction commits. Like Audit, the row
// is written right before COMMIT (or at Flush); the returned event's ID is
// set now, its Seq and CreatedAt then.
func (r *Recorder) Feed(ctx context.Context, tx *ent.Tx, userID string, kind feedevent.Kind, entityID string, payload map[string]any) (*ent.FeedEvent, error) {
	if tx == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "feed events must be written inside a transaction")
	}
	if userID == "" || entityID == "" {
		return nil, engine.Errorf(engine.EINVALID, "feed event needs a user and an entity id")
	}
	it := feedItem(userID, kind, entityID, payload)
	b := r.batch(ctx, tx)
	b.mu.Lock()
	b.items = append(b.items, it)
	b.mu.Unlock()
	return it.feed, nil
}

// Flush writes tx's pending audit and feed events now (taking the users'
// row locks until tx ends). Commit does it anyway; call Flush only when the
// transaction must see the rows before it commits.
func (r *Recorder) Flush(ctx context.Context, tx *ent.Tx) error {
	b, ok := r.pending.Load(tx)
	if !ok {
		return nil
	}
	return b.(*batch).flushAt(ctx, tx, r.now, r.Dialect, false)
}

// batch is one transaction's pending events, in the order they were
// recorded, and what to run once it commits.
type batch struct {
	mu        sync.Mutex
	ctx       context.Context // the first caller's (viewer, request id)
	items     []item
	committed []Audit
	users     map[string]struct{} // every user with events (notified after commit)
	// atCommit holds the feed rows written by the commit hook, per user.
	atCommit map[string][]*ent.FeedEvent
}

// item is an audit event with its feed announcement, or a feed event alone.
type item struct {
	audit *ent.AuditEvent // nil for a feed event alone
	feed  *ent.FeedEvent
}

// batch returns tx's pending batch, creating it (and its commit and
// rollback hooks) on first use.
func (r *Recorder) batch(ctx context.Context, tx *ent.Tx) *batch {
	if b, ok := r.pending.Load(tx); ok {
		return b.(*batch)
	}
	nb := &batch{ctx: ctx, users: map[string]struct{}{}}
	if b, loaded := r.pending.LoadOrStore(tx, nb); loaded {
		return b.(*batch)
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := nb.flushAt(nb.ctx, tx, r.now, r.Dialect, true); err != nil {
				r.pending.Delete(tx)
				_ = tx.Rollback() // nothing partial: the caller's own Rollback then finds it done
				return err
			}
			r.pending.Delete(tx)
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			nb.afterCommit(r)
			return nil
		})
	})
	tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
		return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
			r.pending.Delete(tx)
			return next.Rollback(ctx, tx)
		})
	})
	return nb
}

// flush writes the pending items, user by user in id order (so two
// transactions that write for the same users cannot deadlock): one UPDATE of
// the user's row takes the next audit and feed sequence numbers (and the
// row lock) and returns the chain head, then the audit events, the new head
// and the feed events are written in bulk.
// atCommit says that the commit hook is writing them: nothing runs between
// these statements and COMMIT, so the rows are kept for NotifyEvents.
func (b *batch) flushAt(ctx context.Context, tx *ent.Tx, now func() time.Time, dia string, atCommit bool) error {
	b.mu.Lock()
	items := b.items
	b.items = nil
	b.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	byUser := map[string][]item{}
	for _, it := range items {
		byUser[it.feed.UserID] = append(byUser[it.feed.UserID], it)
	}
	ids := make([]string, 0, len(byUser))
	for id := range byUser {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := writerFor(ctx, dia, id)(ctx, tx, id, byUser[id], now); err != nil {
			return err
		}
		b.mu.Lock()
		b.users[id] = struct{}{}
		if atCommit {
			if b.atCommit == nil {
				b.atCommit = map[string][]*ent.FeedEvent{}
			}
			for _, it := range byUser[id] {
				b.atCommit[id] = append(b.atCommit[id], it.feed)
			}
		}
		b.mu.Unlock()
	}
	return nil
}

// writerFor picks how userID's items are written: two statements on
// PostgreSQL when ctx's viewer may write that trail, else ent's builders
// (whose privacy policy then decides).
func writerFor(ctx context.Context, dia, userID string) func(context.Context, *ent.Tx, string, []item, func() time.Time) error {
	if dia == dialect.Postgres && mayWrite(ctx, userID) {
		return writeUserPostgres
	}
	return writeUser
}

// writeUser writes userID's items with ent: one UPDATE of the user's row
// for both sequences, the audit events and feed events in multi-row
// INSERTs of at most bulkRows rows, and the new chain head.
func writeUser(ctx context.Context, tx *ent.Tx, userID string, items []item, now func() time.Time) error {
	var na int64
	for _, it := range items {
		if it.audit != nil {
			na++
		}
	}
	upd := tx.User.UpdateOneID(userID).AddFeedSeq(int64(len(items)))
	if na > 0 {
		upd.AddAuditSeq(na)
	}
	u, err := upd.Save(ctx)
	if err != nil {
		return fmt.Errorf("bumping feed sequence: %w", err)
	}
	at := now()
	aseq, fseq, head := u.AuditSeq-na, u.FeedSeq-int64(len(items)), u.AuditHead
	audits := make([]*ent.AuditEventCreate, 0, na)
	feeds := make([]*ent.FeedEventCreate, 0, len(items))
	for _, it := range items {
		if ev := it.audit; ev != nil {
			aseq++
			ev.Seq, ev.PrevHash, ev.CreatedAt = aseq, head, at
			if ev.Hash, err = Hash(ev); err != nil {
				return err
			}
			head = ev.Hash
			audits = append(audits, tx.AuditEvent.Create().SetID(ev.ID).
				SetUserID(ev.UserID).SetSeq(ev.Seq).SetEntityType(ev.EntityType).SetEntityID(ev.EntityID).
				SetAction(ev.Action).SetDecision(ev.Decision).SetReason(ev.Reason).SetDetails(ev.Details).
				SetActor(ev.Actor).SetRequestID(ev.RequestID).SetPrevHash(ev.PrevHash).SetHash(ev.Hash).
				SetCreatedAt(ev.CreatedAt))
		}
		fe := it.feed
		fseq++
		fe.Seq, fe.CreatedAt = fseq, at
		feeds = append(feeds, tx.FeedEvent.Create().SetID(fe.ID).
			SetUserID(fe.UserID).SetSeq(fe.Seq).SetKind(fe.Kind).SetEntityID(fe.EntityID).SetPayload(fe.Payload).
			SetCreatedAt(fe.CreatedAt))
	}
	for chunk := range chunks(audits) {
		if err := tx.AuditEvent.CreateBulk(chunk...).Exec(ctx); err != nil {
			return fmt.Errorf("writing audit event: %w", err)
		}
	}
	if len(audits) > 0 {
		if err := tx.User.UpdateOneID(userID).SetAuditHead(head).Exec(ctx); err != nil {
			return fmt.Errorf("advancing audit chain head: %w", err)
		}
	}
	for chunk := range chunks(feeds) {
		if err := tx.FeedEvent.CreateBulk(chunk...).Exec(ctx); err != nil {
			return fmt.Errorf("writing feed event: %w", err)
		}
	}
	return nil
}

// bulkRows bounds the rows of one multi-row INSERT (PostgreSQL allows
// 65,535 parameters a statement; an audit event takes 14).
const bulkRows = 1000

// chunks yields s in slices of at most bulkRows.
func chunks[T any](s []T) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for i := 0; i < len(s); i += bulkRows {
			if !yield(s[i:min(i+bulkRows, len(s))]) {
				return
			}
		}
	}
}

// afterCommit tells the Notifier which users have new events and passes
// the audited decisions to Committed.
func (b *batch) afterCommit(r *Recorder) {
	b.mu.Lock()
	users, committed, atCommit := b.users, b.committed, b.atCommit
	b.mu.Unlock()
	if r.Notifier != nil {
		en, withEvents := r.Notifier.(EventNotifier)
		for id := range users {
			if evs := atCommit[id]; withEvents && len(evs) > 0 {
				en.NotifyEvents(id, evs)
				continue
			}
			r.Notifier.Notify(id)
		}
	}
	if r.Committed != nil {
		for _, a := range committed {
			r.Committed(a)
		}
	}
}

// afterCommit runs f once tx has committed (never after a rollback). The
// loop's Batch writes its rows at once, inside its savepoint, so its
// announcements use this instead of the pending batch's hook.
func (r *Recorder) afterCommit(tx *ent.Tx, f func()) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				f()
			}
			return err
		})
	})
}

// Hash is sha256(prev_hash || canonical JSON of the event's content), hex
// (auditverify.Hash, the recipe a third party implements).
func Hash(ev *ent.AuditEvent) (string, error) {
	return auditverify.Hash(Event(ev))
}

// Event converts a stored audit event to the verifiable (exported) form.
func Event(ev *ent.AuditEvent) auditverify.Event {
	return auditverify.Event{
		ID: ev.ID, UserID: ev.UserID, Seq: ev.Seq, EntityType: ev.EntityType, EntityID: ev.EntityID,
		Action: ev.Action, Decision: ev.Decision, Reason: ev.Reason, Details: ev.Details, Actor: ev.Actor,
		RequestID: ev.RequestID, PrevHash: ev.PrevHash, Hash: ev.Hash, CreatedAt: ev.CreatedAt,
	}
}

// Events loads a user's audit trail in seq order, in the verifiable form.
// ctx's viewer must be allowed to read it (the user, an admin, the system).
func Events(ctx context.Context, c *ent.Client, userID string) ([]auditverify.Event, error) {
	rows, err := c.AuditEvent.Query().Where(auditevent.UserID(userID)).Order(ent.Asc(auditevent.FieldSeq)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]auditverify.Event, len(rows))
	for i, ev := range rows {
		out[i] = Event(ev)
	}
	return out, nil
}

// Verify recomputes a user's audit chain and reports every problem. For an
// altered event it also says what changed when the event's live-feed
// announcement (entity type and id, action, decision) is still retained: the
// outbox row is a second, independent witness of those fields.
func Verify(ctx context.Context, c *ent.Client, userID string) (auditverify.Report, error) {
	events, err := Events(ctx, c, userID)
	if err != nil {
		return auditverify.Report{}, err
	}
	rep := auditverify.VerifyChain(userID, events)
	byID := map[string]auditverify.Event{}
	for _, ev := range events {
		byID[ev.ID] = ev
	}
	for i, p := range rep.Problems {
		if p.Kind != auditverify.KindAltered && p.Kind != auditverify.KindRehashed {
			continue
		}
		ev, ok := byID[p.EventID]
		if !ok {
			continue
		}
		fe, err := c.FeedEvent.Query().Where(feedevent.UserID(userID), feedevent.KindEQ(feedevent.KindAUDIT_EVENT),
			feedevent.EntityID(ev.ID)).First(ctx)
		if err != nil {
			continue // pruned (or never announced): the hash says only that something changed
		}
		now := map[string]string{"entityType": ev.EntityType, "entityId": ev.EntityID, "action": ev.Action, "decision": ev.Decision}
		var diffs []string
		for _, k := range []string{"entityType", "entityId", "action", "decision"} {
			if was, _ := fe.Payload[k].(string); was != now[k] {
				diffs = append(diffs, fmt.Sprintf("%s changed from %q to %q", k, was, now[k]))
			}
		}
		if len(diffs) == 0 {
			diffs = append(diffs, "entity, action and decision match the feed's record, so the reason, details, actor or time changed")
		}
		rep.Problems[i].Message += "; " + strings.Join(diffs, "; ")
	}
	return rep, nil
}

// VerifyChain recomputes a user's audit chain in seq order and returns an
// error naming the first event that does not match (ECONFLICT), nil if the
// chain is intact.
func VerifyChain(ctx context.Context, c *ent.Client, userID string) error {
	rep, err := Verify(ctx, c, userID)
	if err != nil {
		return err
	}
	if !rep.OK() {
		p := rep.Problems[0]
		return engine.Errorf(engine.ECONFLICT, "audit chain of %s: %s", userID, p.Message)
	}
	return nil
}

// normalize round-trips details through JSON so the hash computed now equals
// the hash recomputed from the stored row (numbers become float64, etc.).
func normalize(d map[string]any) (map[string]any, error) {
	if d == nil {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, engine.Wrap(err, engine.EINVALID, "audit details are not JSON")
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, engine.Wrap(err, engine.EINTERNAL, "audit details")
	}
	return out, nil
}
