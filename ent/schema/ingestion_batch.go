package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// IngestionBatch records one ingestion call: its idempotency key, a hash of
// its content and what happened to its samples.
type IngestionBatch struct{ ent.Schema }

// Mixin of IngestionBatch.
func (IngestionBatch) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("bat"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of IngestionBatch.
func (IngestionBatch) Fields() []ent.Field {
	return []ent.Field{
		field.String("idempotency_key").Optional().Nillable().MaxLen(200).Immutable(),
		field.String("content_hash").NotEmpty().MaxLen(64).Immutable(),
		field.Int("received").NonNegative().Immutable(),
		field.Int("inserted").NonNegative().Immutable(),
		field.Int("duplicates").NonNegative().Immutable(),
		field.Int("missing").NonNegative().Default(0).Immutable(),
	}
}

// Edges of IngestionBatch.
func (IngestionBatch) Edges() []ent.Edge {
	return []ent.Edge{
		ownerEdge("ingestion_batches"),
		edge.To("observations", Observation.Type).Annotations(entgql.Skip()),
	}
}

// Indexes of IngestionBatch.
func (IngestionBatch) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "idempotency_key").Unique()}
}

// Annotations of IngestionBatch.
func (IngestionBatch) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
