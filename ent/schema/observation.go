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

// Observation is one daily sample of one metric from one source, stored in
// the metric's canonical unit. A provider zero that means "no data" is stored
// with missing=true and no value. The natural key (user, metric, source,
// local day, observed-at) makes re-sent samples duplicates.
type Observation struct{ ent.Schema }

// Mixin of Observation.
func (Observation) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("obs"), OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of Observation.
func (Observation) Fields() []ent.Field {
	return []ent.Field{
		field.String("metric").NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.OrderField("METRIC")),
		// value and missing change only through a provider revision
		// (app/ingest/revise.go), which records the previous value.
		field.Float("value").Optional().Nillable().
			Annotations(entgql.OrderField("VALUE")),
		field.Bool("missing").Default(false),
		field.String("unit").NotEmpty().MaxLen(32).Immutable(),
		field.String("local_day").Match(localDayRe).Immutable().
			Annotations(entgql.OrderField("LOCAL_DAY")),
		field.Time("observed_at").Immutable().
			Annotations(entgql.OrderField("OBSERVED_AT")),
		field.Int("utc_offset_seconds").Default(0).Immutable(),
		field.String("source").NotEmpty().MaxLen(32).Immutable(),
		field.Strings("flags").Optional().Immutable(),
		field.String("batch_id").Optional().Immutable().Annotations(entgql.Skip()),
	}
}

// Edges of Observation.
func (Observation) Edges() []ent.Edge {
	return []ent.Edge{
		ownerEdge("observations"),
		edge.From("batch", IngestionBatch.Type).Ref("observations").Field("batch_id").Unique().Immutable().
			Annotations(entgql.Skip()),
	}
}

// Indexes of Observation.
func (Observation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "metric", "source", "local_day", "observed_at").Unique(),
		index.Fields("user_id", "metric", "local_day"),
		index.Fields("user_id", "local_day"),
	}
}

// Annotations of Observation.
func (Observation) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("One daily value of one metric from one source, in the metric's canonical unit; provider zeros are stored as missing (value null)."), entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder()}
}
