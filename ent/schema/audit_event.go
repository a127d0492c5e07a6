package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// AuditEvent explains one decision. It is append-only (no update or delete,
// for anyone), written in the same transaction as the decision, and chained
// per user: hash = sha256(prev_hash || canonical event), so tampering is
// detectable.
type AuditEvent struct{ ent.Schema }

// Mixin of AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("aud"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("seq").Positive().Immutable().Annotations(entgql.OrderField("SEQ")).
			Comment("per-user sequence number; the hash chain runs in seq order"),
		field.String("entity_type").NotEmpty().MaxLen(64).Immutable().
			Comment("type of the entity the decision is about, e.g. Insight, Intervention, Evaluation, Narrative, ProviderConnection"),
		field.String("entity_id").NotEmpty().MaxLen(40).Immutable().
			Comment("global id of the entity the decision is about"),
		field.String("action").NotEmpty().MaxLen(64).Immutable().
			Comment("what was done, e.g. create, suppress, skip, start, evaluate, revoke"),
		field.String("decision").Default("").MaxLen(64).Immutable().
			Comment("the outcome as a machine-readable code, e.g. created, suppressed, guardrail_skipped (empty when the action says it all)"),
		field.Text("reason").Default("").Immutable().
			Comment("why, in one human-readable sentence"),
		field.JSON("details", map[string]any{}).Optional().Immutable().Annotations(entgql.Type("Map")).
			Comment("the evidence behind the decision: source metrics, windows, detectors, thresholds, safety checks (JSON object)"),
		field.String("actor").NotEmpty().MaxLen(40).Immutable().
			Comment("who decided: the id of the signed-in user or admin, or system for background work"),
		field.String("request_id").Default("").MaxLen(64).Immutable().
			Comment("id of the request that caused the decision, to match server logs (empty for background work)"),
		field.String("prev_hash").Default("").MaxLen(64).Immutable().
			Comment("hash of the user's previous audit event (empty for the first); links the chain"),
		field.String("hash").NotEmpty().MaxLen(64).Immutable().
			Comment("hex SHA-256 of prevHash and the canonical JSON of this event; recompute it to detect tampering"),
	}
}

// Edges of AuditEvent.
func (AuditEvent) Edges() []ent.Edge { return []ent.Edge{ownerEdge("audit_events")} }

// Indexes of AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "seq").Unique(),
		index.Fields("user_id", "entity_id"),
	}
}

// Annotations of AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("One decision, explained: append-only and hash-chained per user (hash = sha256(prevHash ‖ canonical event)), so any edit is detectable (docs/audit.md)."), entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder()}
}
