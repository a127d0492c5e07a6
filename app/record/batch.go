package record

import (
	"context"
	"fmt"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// bulkRows bounds the rows of one multi-row INSERT (PostgreSQL allows
// 65,535 parameters a statement; an audit event takes 14).
const bulkRows = 1000

// Batch queues one user's audit and feed events and writes them with a few
// set-based statements (Flush): one bump of both sequences, one multi-row
// INSERT per table, one update of the chain head. The rows are the ones the
// same calls to Recorder.Audit and Recorder.Feed would write one by one:
// the same sequence numbers, hashes, order and after-commit notifications.
type Batch struct {
	r      *Recorder
	userID string
	items  []batchItem
}

type batchItem struct {
	audit    *Audit // an audit event (announced on the feed), or
	kind     feedevent.Kind
	entityID string
	payload  map[string]any // a feed event
}

// NewBatch starts a batch of userID's events.
func (r *Recorder) NewBatch(userID string) *Batch { return &Batch{r: r, userID: userID} }

// Len is the number of queued calls.
func (b *Batch) Len() int { return len(b.items) }

// Audit queues an audit event (see Recorder.Audit); it checks the event now.
func (b *Batch) Audit(a Audit) error {
	if a.UserID != b.userID {
		return engine.Errorf(engine.EINTERNAL, "an audit event of another user in the batch")
	}
	if a.UserID == "" || a.EntityType == "" || a.EntityID == "" || a.Action == "" {
		return engine.Errorf(engine.EINVALID, "audit event needs user, entity type, entity id and action")
	}
	details, err := normalize(a.Details)
	if err != nil {
		return err
	}
	a.Details = details
	b.items = append(b.items, batchItem{audit: &a})
	return nil
}

// Feed queues a feed event (see Recorder.Feed).
func (b *Batch) Feed(kind feedevent.Kind, entityID string, payload map[string]any) {
	b.items = append(b.items, batchItem{kind: kind, entityID: entityID, payload: payload})
}

// Flush writes the queued events inside tx and empties the batch.
func (b *Batch) Flush(ctx context.Context, tx *ent.Tx) error {
	if tx == nil {
		return engine.Errorf(engine.EINTERNAL, "audit events must be written inside a transaction")
	}
	if len(b.items) == 0 {
		return nil
	}
	items := b.items
	b.items = nil
	audits := 0
	for _, it := range items {
		if it.audit != nil {
			audits++
		}
	}
	feeds := len(items) // every audit event is announced on the feed
	// One bump of both sequences under the user's row lock; the returned
	// row still holds the chain head before this batch.
	upd := tx.User.UpdateOneID(b.userID).AddFeedSeq(int64(feeds))
	if audits > 0 {
		upd.AddAuditSeq(int64(audits))
	}
	u, err := upd.Save(ctx)
	if err != nil {
		return fmt.Errorf("bumping audit and feed sequences: %w", err)
	}
	v, _ := viewer.FromContext(ctx)
	actor := v.Actor()
	if actor == "" {
		actor = "system"
	}
	auditSeq, prev := u.AuditSeq-int64(audits), u.AuditHead
	events := make([]*ent.AuditEvent, 0, audits)
	for _, it := range items {
		if it.audit == nil {
			continue
		}
		a := it.audit
		auditSeq++
		ev := &ent.AuditEvent{
			UserID: a.UserID, Seq: auditSeq, EntityType: a.EntityType, EntityID: a.EntityID,
			Action: a.Action, Decision: a.Decision, Reason: a.Reason, Details: a.Details,
			Actor: actor, RequestID: v.RequestID, PrevHash: prev, CreatedAt: b.r.now(),
		}
		if ev.Hash, err = Hash(ev); err != nil {
			return err
		}
		prev = ev.Hash
		events = append(events, ev)
	}
	ids := make([]string, 0, len(events))
	for chunk := range chunks(events) {
		builders := make([]*ent.AuditEventCreate, len(chunk))
		for i, ev := range chunk {
			builders[i] = tx.AuditEvent.Create().
				SetUserID(ev.UserID).SetSeq(ev.Seq).SetEntityType(ev.EntityType).SetEntityID(ev.EntityID).
				SetAction(ev.Action).SetDecision(ev.Decision).SetReason(ev.Reason).SetDetails(ev.Details).
				SetActor(ev.Actor).SetRequestID(ev.RequestID).SetPrevHash(ev.PrevHash).SetHash(ev.Hash).
				SetCreatedAt(ev.CreatedAt)
		}
		saved, err := tx.AuditEvent.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return fmt.Errorf("writing audit events: %w", err)
		}
		for _, s := range saved {
			ids = append(ids, s.ID)
		}
	}
	if audits > 0 {
		if err := tx.User.Update().Where(user.ID(b.userID)).SetAuditHead(prev).Exec(ctx); err != nil {
			return fmt.Errorf("advancing audit chain head: %w", err)
		}
	}
	feedSeq := u.FeedSeq - int64(feeds)
	builders := make([]*ent.FeedEventCreate, 0, feeds)
	n := 0
	for _, it := range items {
		kind, entityID, payload := it.kind, it.entityID, it.payload
		if a := it.audit; a != nil {
			kind, entityID = feedevent.KindAUDIT_EVENT, ids[n]
			payload = map[string]any{"entityType": a.EntityType, "entityId": a.EntityID, "action": a.Action, "decision": a.Decision}
			n++
		}
		feedSeq++
		builders = append(builders, tx.FeedEvent.Create().
			SetUserID(b.userID).SetSeq(feedSeq).SetKind(kind).SetEntityID(entityID).SetPayload(payload).
			SetCreatedAt(b.r.now()))
	}
	for chunk := range chunks(builders) {
		if _, err := tx.FeedEvent.CreateBulk(chunk...).Save(ctx); err != nil {
			return fmt.Errorf("writing feed events: %w", err)
		}
	}
	if b.r.Committed != nil {
		committed := b.r.Committed
		b.r.afterCommit(tx, func() {
			for _, it := range items {
				if it.audit != nil {
					committed(*it.audit)
				}
			}
		})
	}
	if b.r.Notifier != nil {
		n, userID := b.r.Notifier, b.userID
		b.r.afterCommit(tx, func() { n.Notify(userID) })
	}
	return nil
}

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
