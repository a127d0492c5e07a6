// Package record writes the trail of every decision inside the caller's
// transaction: an append-only, hash-chained AuditEvent and a FeedEvent
// (the transactional outbox of the live feed). Both take a per-user sequence
// number bumped on the user's row, so writers for one user are serialized by
// that row's lock and cursors never skip (see docs/design.md, outbox pitfalls).
package record

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
)

// Notifier is told, after a transaction that wrote feed events commits,
// which user has new events. It must not block.
type Notifier interface {
	Notify(userID string)
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
func (r *Recorder) Audit(ctx context.Context, tx *ent.Tx, a Audit) (*ent.AuditEvent, error) {
	if tx == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "audit events must be written inside a transaction")
	}
	if a.UserID == "" || a.EntityType == "" || a.EntityID == "" || a.Action == "" {
		return nil, engine.Errorf(engine.EINVALID, "audit event needs user, entity type, entity id and action")
	}
	details, err := normalize(a.Details)
	if err != nil {
		return nil, err
	}
	a.Details = details
	v, _ := viewer.FromContext(ctx)
	actor := v.Actor()
	if actor == "" {
		actor = "system"
	}
	u, err := tx.User.UpdateOneID(a.UserID).AddAuditSeq(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("bumping audit sequence: %w", err)
	}
	ev := &ent.AuditEvent{
		UserID: a.UserID, Seq: u.AuditSeq, EntityType: a.EntityType, EntityID: a.EntityID,
		Action: a.Action, Decision: a.Decision, Reason: a.Reason, Details: a.Details,
		Actor: actor, RequestID: v.RequestID, PrevHash: u.AuditHead, CreatedAt: r.now(),
	}
	ev.Hash, err = Hash(ev)
	if err != nil {
		return nil, err
	}
	saved, err := tx.AuditEvent.Create().
		SetUserID(ev.UserID).SetSeq(ev.Seq).SetEntityType(ev.EntityType).SetEntityID(ev.EntityID).
		SetAction(ev.Action).SetDecision(ev.Decision).SetReason(ev.Reason).SetDetails(ev.Details).
		SetActor(ev.Actor).SetRequestID(ev.RequestID).SetPrevHash(ev.PrevHash).SetHash(ev.Hash).
		SetCreatedAt(ev.CreatedAt).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("writing audit event: %w", err)
	}
	if err := tx.User.UpdateOneID(a.UserID).SetAuditHead(ev.Hash).Exec(ctx); err != nil {
		return nil, fmt.Errorf("advancing audit chain head: %w", err)
	}
	if r.Committed != nil {
		r.afterCommit(tx, func() { r.Committed(a) })
	}
	if _, err := r.Feed(ctx, tx, a.UserID, feedevent.KindAUDIT_EVENT, saved.ID, map[string]any{
		"entityType": a.EntityType, "entityId": a.EntityID, "action": a.Action, "decision": a.Decision,
	}); err != nil {
		return nil, err
	}
	return saved, nil
}

// Feed writes one outbox row with the user's next feed cursor inside tx and
// notifies the Notifier once the transaction commits.
func (r *Recorder) Feed(ctx context.Context, tx *ent.Tx, userID string, kind feedevent.Kind, entityID string, payload map[string]any) (*ent.FeedEvent, error) {
	if tx == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "feed events must be written inside a transaction")
	}
	u, err := tx.User.UpdateOneID(userID).AddFeedSeq(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("bumping feed sequence: %w", err)
	}
	fe, err := tx.FeedEvent.Create().
		SetUserID(userID).SetSeq(u.FeedSeq).SetKind(kind).SetEntityID(entityID).SetPayload(payload).
		SetCreatedAt(r.now()).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("writing feed event: %w", err)
	}
	if r.Notifier != nil {
		n := r.Notifier
		r.afterCommit(tx, func() { n.Notify(userID) })
	}
	return fe, nil
}

// afterCommit runs f once tx has committed.
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
