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
		field.Int64("seq").Positive().Immutable().Annotations(entgql.OrderField("SEQ")),
		field.Enum("kind").
			Values("INSIGHT_CREATED", "INSIGHT_UPDATED", "EVALUATION_CREATED", "NARRATIVE_CREATED", "INTERVENTION_UPDATED", "AUDIT_EVENT", "PROVIDER_SYNCED").
			Immutable(),
		field.String("entity_id").NotEmpty().MaxLen(40).Immutable(),
		field.JSON("payload", map[string]any{}).Optional().Immutable().Annotations(entgql.Type("Map")),
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
