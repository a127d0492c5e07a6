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
			Annotations(entgql.OrderField("METRIC")).
			Comment("the metric key, e.g. resting_hr (see the metrics query)"),
		// value and missing change only through a provider revision
		// (app/ingest/revise.go), which records the previous value.
		field.Float("value").Optional().Nillable().
			Annotations(entgql.OrderField("VALUE")).
			Comment("the value in the metric's canonical unit; null when missing"),
		field.Bool("missing").Default(false).
			Comment("true when the source reported no data for the day (e.g. a provider zero); value is then null"),
		field.String("unit").NotEmpty().MaxLen(32).Immutable().
			Comment("the metric's canonical unit the value is stored in (sent values are converted)"),
		field.String("local_day").Match(localDayRe).Immutable().
			Annotations(entgql.OrderField("LOCAL_DAY")).
			Comment("the user's local calendar day the sample belongs to, YYYY-MM-DD: the local date of observedAt"),
		field.Time("observed_at").Immutable().
			Annotations(entgql.OrderField("OBSERVED_AT")).
			Comment("when the value was measured, as sent by the source"),
		field.Int("utc_offset_seconds").Default(0).Immutable().
			Comment("the local time's offset from UTC at observedAt, in seconds (at most 14 hours either way)"),
		field.String("source").NotEmpty().MaxLen(32).Immutable().
			Comment("where the value came from: whoop, oura, fitbit, apple_health, manual (entered by the user) or api (posted by an API client)"),
		field.Strings("flags").Optional().Immutable().
			Comment("soft quality flags: FLAG_LOW or FLAG_HIGH when the value was accepted but lies outside the metric's usual range; empty when none"),
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
