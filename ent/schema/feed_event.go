package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// FeedEvent is the transactional outbox of the live feed: written in the
// same transaction as the insight, evaluation, narrative or audit event it
// announces, with a per-user monotonic seq that is the client's cursor.
type FeedEvent struct{ ent.Schema }

// Mixin of FeedEvent.
func (FeedEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("fev"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of FeedEvent.
func (FeedEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("seq").Positive().Immutable().Annotations(entgql.OrderField("SEQ")).
			Comment("per-user, gap-free increasing number of the event: the feed cursor to resume after"),
		field.Enum("kind").
			Values("INSIGHT_CREATED", "INSIGHT_UPDATED", "EVALUATION_CREATED", "NARRATIVE_CREATED", "INTERVENTION_UPDATED", "AUDIT_EVENT", "PROVIDER_SYNCED", "IMPORT_PROGRESS", "IMPORT_COMPLETED").
			Immutable().Comment("what happened"),
		field.String("entity_id").NotEmpty().MaxLen(40).Immutable().
			Comment("global id of the entity the event announces (insight, evaluation, narrative, intervention, audit event, provider connection or health import); read it for the full record"),
		field.JSON("payload", map[string]any{}).Optional().Immutable().Annotations(entgql.Type("Map")).
			Comment("a small JSON summary of the change for the client, by kind (e.g. provider, status and sample counts for PROVIDER_SYNCED; phase and counts for IMPORT_PROGRESS; status and counts for IMPORT_COMPLETED)"),
	}
}

// Edges of FeedEvent.
func (FeedEvent) Edges() []ent.Edge { return []ent.Edge{ownerEdge("feed_events")} }

// Indexes of FeedEvent.
func (FeedEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "seq").Unique(), index.Fields("created_at")}
}

// Annotations of FeedEvent.
func (FeedEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("One event of a user's live feed (the transactional outbox); its per-user seq is the feed cursor."), entgql.RelayConnection()}
}
