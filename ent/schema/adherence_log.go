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

// AdherenceLog says whether the user followed the protocol on one day.
type AdherenceLog struct{ ent.Schema }

// Mixin of AdherenceLog.
func (AdherenceLog) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("adh"), OwnedMixin{}, CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of AdherenceLog.
func (AdherenceLog) Fields() []ent.Field {
	return []ent.Field{
		field.String("intervention_id").Immutable().Annotations(entgql.Skip()),
		field.String("day").Match(localDayRe).Immutable().Annotations(entgql.OrderField("DAY")).
			Comment("the experiment day logged, YYYY-MM-DD in the user's time zone; one log per day"),
		field.Bool("adherent").Comment("true when the protocol was followed that day, false when it was not"),
		field.String("note").Default("").MaxLen(1000).Comment("the user's free-text note on the day (at most 1000 characters; empty when none)"),
	}
}

// Edges of AdherenceLog.
func (AdherenceLog) Edges() []ent.Edge {
	return []ent.Edge{
		ownerEdge("adherence_logs"),
		edge.From("intervention", Intervention.Type).Ref("adherence_logs").
			Field("intervention_id").Unique().Required().Immutable().
			Comment("the experiment this day belongs to"),
	}
}

// Indexes of AdherenceLog.
func (AdherenceLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("intervention_id", "day").Unique()}
}

// Annotations of AdherenceLog.
func (AdherenceLog) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("Whether the protocol was followed on one day of an experiment (one per day; logging it again overwrites)."), entgql.RelayConnection()}
}
