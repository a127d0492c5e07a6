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

// Evaluation is the honest verdict on one intervention: baseline and
// intervention windows, coverage, adherence, effect with its CI, MDE and the
// evidence grade. Invariants: both windows set, coverage in [0,1].
type Evaluation struct{ ent.Schema }

// Mixin of Evaluation.
func (Evaluation) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("evl"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of Evaluation.
func (Evaluation) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("intervention_id").Immutable().Annotations(entgql.Skip()),
		field.String("metric").NotEmpty().MaxLen(64).Immutable().Comment("the target metric key"),
		field.String("baseline_from").Match(localDayRe).Immutable().Comment("first day of the baseline window, YYYY-MM-DD"),
		field.String("baseline_to").Match(localDayRe).Immutable().Comment("last day of the baseline window, YYYY-MM-DD"),
		field.String("intervention_from").Match(localDayRe).Immutable().Comment("first evaluated day of the intervention window (after the lag), YYYY-MM-DD"),
		field.String("intervention_to").Match(localDayRe).Immutable().Comment("last evaluated day of the intervention window, YYYY-MM-DD"),
		field.Float("baseline_coverage").Min(0).Max(1).Immutable().Comment("share of baseline days with data, in [0, 1]"),
		field.Float("adherence").Min(0).Max(1).Immutable().Comment("adherent days over the elapsed intervention days, in [0, 1]; below 0.8 the result is unreliable"),
		field.Float("effect").Optional().Nillable().Immutable().
			Comment("per-protocol Δ = mean(B) − mean(A), canonical unit"),
		field.Float("effect_itt").Optional().Nillable().Immutable().
			Comment("intention-to-treat Δ, canonical unit"),
		field.Float("ci_low").Optional().Nillable().Immutable().Comment("lower end of the effect's 95% interval, canonical unit"),
		field.Float("ci_high").Optional().Nillable().Immutable().Comment("upper end of the effect's 95% interval, canonical unit"),
		field.Float("hedges_g").Optional().Nillable().Immutable().Comment("standardized effect size (Hedges' g)"),
		field.Float("mde").Optional().Nillable().Immutable().Comment("minimum detectable effect at 80% power for these data, canonical unit"),
		field.Bool("reliable").Immutable().Comment("false when a reason (e.g. low adherence or coverage) makes the result unreliable"),
		field.Strings("reasons").Optional().Immutable().Comment("why the result is unreliable, if it is"),
		field.Strings("caveats").Optional().Immutable().Comment("what qualifies the result without making it unreliable (e.g. a trend in the data)"),
		field.Enum("claim").Values("DIRECTION", "NO_CLEAR_CHANGE", "CANT_TELL").Default("CANT_TELL").Immutable().
			Comment("what the evidence lets a narrative say (docs/statistics.md, Words)"),
		field.Bool("direction_supported").Default(false).Immutable().
			Comment("the effect's 95% interval excludes zero and the grade is at least C"),
		field.Bool("interim").Default(false).Immutable().Comment("evaluated before the planned end"),
		field.Float("effect_percent").Optional().Nillable().Immutable().
			Comment("log-scale metrics: the effect as a percent change"),
		field.Float("ci_low_percent").Optional().Nillable().Immutable().Comment("log-scale metrics: ciLow as a percent change"),
		field.Float("ci_high_percent").Optional().Nillable().Immutable().Comment("log-scale metrics: ciHigh as a percent change"),
	}, evidenceFields()...)
}

// Edges of Evaluation.
func (Evaluation) Edges() []ent.Edge {
	return []ent.Edge{
		ownerEdge("evaluations"),
		edge.From("intervention", Intervention.Type).Ref("evaluations").
			Field("intervention_id").Unique().Required().Immutable().
			Comment("the experiment evaluated"),
	}
}

// Indexes of Evaluation.
func (Evaluation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at"), index.Fields("intervention_id")}
}

// Annotations of Evaluation.
func (Evaluation) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("The honest result of an experiment: windows, coverage, adherence, per-protocol and intention-to-treat effects with their interval, effect size, minimum detectable effect, reliability and evidence grade (docs/statistics.md)."), entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder()}
}
