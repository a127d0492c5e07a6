package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// ObservationRevision records one change of a stored observation's value by
// its provider (a rescored record): the value before and after. Append-only;
// revision numbers count from 2 (the first stored value is revision 1).
type ObservationRevision struct{ ent.Schema }

// Mixin of ObservationRevision.
func (ObservationRevision) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("orv"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of ObservationRevision.
func (ObservationRevision) Fields() []ent.Field {
	return []ent.Field{
		field.String("observation_id").NotEmpty().Immutable(),
		field.Int("revision").Positive().Immutable(),
		field.String("metric").NotEmpty().MaxLen(64).Immutable(),
		field.String("source").NotEmpty().MaxLen(32).Immutable(),
		field.String("local_day").Match(localDayRe).Immutable(),
		field.Float("previous_value").Optional().Nillable().Immutable(),
		field.Bool("previous_missing").Default(false).Immutable(),
		field.Float("value").Optional().Nillable().Immutable(),
		field.Bool("missing").Default(false).Immutable(),
		field.String("batch_id").Optional().Immutable(),
	}
}

// Edges of ObservationRevision.
func (ObservationRevision) Edges() []ent.Edge {
	return []ent.Edge{ownerEdge("observation_revisions")}
}

// Indexes of ObservationRevision.
func (ObservationRevision) Indexes() []ent.Index {
	return []ent.Index{index.Fields("observation_id", "revision").Unique()}
}

// Annotations of ObservationRevision.
func (ObservationRevision) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
