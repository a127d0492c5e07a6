package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// Intervention is an n-of-1 experiment on one target metric. It always
// carries a safety decision: risk level, evidence grade and boundary.
type Intervention struct{ ent.Schema }

// Mixin of Intervention.
func (Intervention) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("itv"), OwnedMixin{}, CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of Intervention.
func (Intervention) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200).Comment("a short name, 1 to 200 characters"),
		field.String("protocol_kind").NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.Skip(entgql.SkipType)). // exposed as the ProtocolKind enum (graph/intervene.graphqls)
			Comment("the protocol kind (engine/safety.ProtocolKind)"),
		field.String("target_metric").NotEmpty().MaxLen(64).Immutable().Comment("the metric key the experiment should change").
			Annotations(entgql.OrderField("TARGET_METRIC")),
		field.Enum("expected_direction").Values("INCREASE", "DECREASE").Immutable().Comment("which way the target metric is expected to move"),
		field.Int("planned_days").Positive().Immutable().Comment("length of the intervention window including the lag, in days"),
		field.Int("lag_days").NonNegative().Immutable().Comment("lag/washout days at the start, excluded from the evaluation"),
		field.Enum("status").
			Values("PENDING_REVIEW", "ACTIVE", "COMPLETED", "SUPPRESSED", "INVALIDATED", "CANCELLED").
			Comment("where the experiment is in its workflow").
			Annotations(entgql.OrderField("STATUS")),
		field.Text("status_reason").Default("").Comment("why it has its status (the safety decision, a review, a cancellation…)"),
		field.String("start_day").Optional().Nillable().Match(localDayRe).
			Comment("first day, YYYY-MM-DD; null until it starts").
			Annotations(entgql.OrderField("START_DAY")),
		field.String("end_day").Optional().Nillable().Match(localDayRe).Comment("the day it was completed, YYYY-MM-DD; null while it runs"),
		field.Enum("risk_level").Values("LOW", "MODERATE", "HIGH").Comment("the safety decision's risk level"),
		field.Enum("evidence_grade").GoType(evidence.Grade("")).
			Comment("prior evidence for this protocol on this metric").
			Annotations(entgql.Type("EvidenceGrade"), entgql.OrderField("EVIDENCE_GRADE")),
		field.Text("safety_boundary").NotEmpty().Comment("what not to do and when to stop; narratives carry it verbatim"),
		field.Bool("requires_review").Default(false).Comment("HIGH risk: an administrator must approve it before it starts"),
		field.JSON("safety_checks", []map[string]any{}).Optional().Annotations(entgql.Skip()),
		field.Float("mde").Optional().Nillable().
			Comment("minimum detectable effect at 80% power, in the metric's canonical unit, reported before start"),
		field.Enum("design").Values("BASELINE_AB", "CROSSOVER").Default("BASELINE_AB").Immutable().
			Comment("BASELINE_AB: the 28 days before vs the window after the lag; CROSSOVER: randomized blocks within cycles"),
		field.Int("cycles").Optional().Nillable().Immutable().Comment("crossover: number of cycles"),
		field.Int("block_days").Optional().Nillable().Immutable().Comment("crossover: days per block"),
		field.Int64("crossover_seed").Optional().Nillable().Immutable().Annotations(entgql.Skip()).
			Comment("crossover: the seed the block order was drawn from (reproducible, audited)"),
		field.JSON("crossover_order", []bool{}).Optional().Immutable().Annotations(entgql.Skip()).
			Comment("crossover: per cycle, whether the intervention block comes first"),
		field.Bool("retrospective").Default(false).Immutable().
			Comment("the start day was before the day it was registered: an observational look back, grade at most C"),
	}
}

// Edges of Intervention.
func (Intervention) Edges() []ent.Edge {
	return []ent.Edge{
		ownerEdge("interventions"),
		edge.To("adherence_logs", AdherenceLog.Type).Comment("adherence logged per experiment day").
			Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade)),
		edge.To("evaluations", Evaluation.Type).Comment("evaluations of this experiment, interim and final").
			Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of Intervention.
func (Intervention) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "target_metric", "status")}
}

// Annotations of Intervention.
func (Intervention) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("An n-of-1 experiment on one target metric. It always carries a safety decision (risk level, prior evidence grade, boundary); HIGH risk waits for review."), entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder()}
}
