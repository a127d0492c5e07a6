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
		field.String("entity_type").NotEmpty().MaxLen(64).Immutable(),
		field.String("entity_id").NotEmpty().MaxLen(40).Immutable(),
		field.String("action").NotEmpty().MaxLen(64).Immutable(),
		field.String("decision").Default("").MaxLen(64).Immutable(),
		field.Text("reason").Default("").Immutable(),
		field.JSON("details", map[string]any{}).Optional().Immutable().Annotations(entgql.Type("Map")),
		field.String("actor").NotEmpty().MaxLen(40).Immutable(),
		field.String("request_id").Default("").MaxLen(64).Immutable(),
		field.String("prev_hash").Default("").MaxLen(64).Immutable(),
		field.String("hash").NotEmpty().MaxLen(64).Immutable(),
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
