// Package record writes the trail of every decision inside the caller's
// transaction: an append-only, hash-chained AuditEvent and a FeedEvent
// (the transactional outbox of the live feed). Both take a per-user sequence
// number bumped on the user's row, so writers for one user are serialized by
// that row's lock and cursors never skip (see DESIGN.md, outbox pitfalls).
package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

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
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				err := next.Commit(ctx, tx)
				if err == nil {
					n.Notify(userID)
				}
				return err
			})
		})
	}
	return fe, nil
}

// Hash is sha256(prev_hash || canonical JSON of the event's content), hex.
func Hash(ev *ent.AuditEvent) (string, error) {
	canon, err := json.Marshal(struct {
		UserID     string         `json:"userId"`
		Seq        int64          `json:"seq"`
		EntityType string         `json:"entityType"`
		EntityID   string         `json:"entityId"`
		Action     string         `json:"action"`
		Decision   string         `json:"decision"`
		Reason     string         `json:"reason"`
		Details    map[string]any `json:"details"`
		Actor      string         `json:"actor"`
		RequestID  string         `json:"requestId"`
		CreatedAt  string         `json:"createdAt"`
	}{
		ev.UserID, ev.Seq, ev.EntityType, ev.EntityID, ev.Action, ev.Decision, ev.Reason, ev.Details,
		ev.Actor, ev.RequestID, ev.CreatedAt.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return "", fmt.Errorf("canonical audit event: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(ev.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// VerifyChain recomputes a user's audit chain in seq order and returns an
// error naming the first event that does not match (ECONFLICT), nil if the
// chain is intact.
func VerifyChain(ctx context.Context, c *ent.Client, userID string) error {
	events, err := c.AuditEvent.Query().Where(auditevent.UserID(userID)).Order(ent.Asc(auditevent.FieldSeq)).All(ctx)
	if err != nil {
		return err
	}
	prev := ""
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			return engine.Errorf(engine.ECONFLICT, "audit chain of %s has a gap before seq %d", userID, ev.Seq)
		}
		if ev.PrevHash != prev {
			return engine.Errorf(engine.ECONFLICT, "audit event %d does not link to its predecessor", ev.Seq)
		}
		h, err := Hash(ev)
		if err != nil {
			return err
		}
		if h != ev.Hash {
			return engine.Errorf(engine.ECONFLICT, "audit event %d was altered", ev.Seq)
		}
		prev = ev.Hash
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
