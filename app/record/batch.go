package record

import (
	"context"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
)

// Batch queues one user's audit and feed events and writes them at Flush,
// at once and inside the caller's transaction (the loop writes each
// metric in a savepoint, so its rows must be written before the savepoint
// is released, not at COMMIT as Recorder.Audit and Recorder.Feed do). The
// rows are the ones those calls would write, through the same writer: the
// same sequence numbers, hashes, order and after-commit notifications.
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

// Len is the number of queued events.
func (b *Batch) Len() int { return len(b.items) }

// Audit queues an audit event of the batch's user (EINVALID when a
// required field is missing, as Recorder.Audit).
func (b *Batch) Audit(a Audit) error {
	if a.UserID != b.userID {
		return engine.Errorf(engine.EINTERNAL, "an audit event of another user in the batch")
	}
	a, err := checkAudit(a)
	if err != nil {
		return err
	}
	b.items = append(b.items, batchItem{audit: &a})
	return nil
}

// Feed queues a feed event of the batch's user.
func (b *Batch) Feed(kind feedevent.Kind, entityID string, payload map[string]any) {
	b.items = append(b.items, batchItem{kind: kind, entityID: entityID, payload: payload})
}

// Flush writes the queued events inside tx (the actor and request are
// ctx's viewer's) and empties the batch; the Notifier and Committed hear
// of them once tx commits.
func (b *Batch) Flush(ctx context.Context, tx *ent.Tx) error {
	if tx == nil {
		return engine.Errorf(engine.EINTERNAL, "audit events must be written inside a transaction")
	}
	if len(b.items) == 0 {
		return nil
	}
	items := make([]item, len(b.items))
	var audits []Audit
	for i, it := range b.items {
		if it.audit != nil {
			items[i] = auditItem(ctx, *it.audit)
			audits = append(audits, *it.audit)
			continue
		}
		items[i] = feedItem(b.userID, it.kind, it.entityID, it.payload)
	}
	b.items = nil
	if err := writerFor(ctx, b.r.Dialect, b.userID)(ctx, tx, b.userID, items, b.r.now); err != nil {
		return err
	}
	if committed := b.r.Committed; committed != nil && len(audits) > 0 {
		b.r.afterCommit(tx, func() {
			for _, a := range audits {
				committed(a)
			}
		})
	}
	if b.r.Notifier != nil {
		n, userID := b.r.Notifier, b.userID
		b.r.afterCommit(tx, func() { n.Notify(userID) })
	}
	return nil
}
