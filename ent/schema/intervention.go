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
		field.String("title").NotEmpty().MaxLen(200),
		field.String("protocol_kind").NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.Skip(entgql.SkipType)). // exposed as the ProtocolKind enum (graph/intervene.graphqls)
			Comment("the protocol kind (engine/safety.ProtocolKind)"),
		field.String("target_metric").NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.OrderField("TARGET_METRIC")),
		field.Enum("expected_direction").Values("INCREASE", "DECREASE").Immutable(),
		field.Int("planned_days").Positive().Immutable(),
		field.Int("lag_days").NonNegative().Immutable(),
		field.Enum("status").
			Values("PENDING_REVIEW", "ACTIVE", "COMPLETED", "SUPPRESSED", "INVALIDATED", "CANCELLED").
			Annotations(entgql.OrderField("STATUS")),
		field.Text("status_reason").Default(""),
		field.String("start_day").Optional().Nillable().Match(localDayRe).
			Annotations(entgql.OrderField("START_DAY")),
		field.String("end_day").Optional().Nillable().Match(localDayRe),
		field.Enum("risk_level").Values("LOW", "MODERATE", "HIGH"),
		field.Enum("evidence_grade").GoType(evidence.Grade("")).
			Annotations(entgql.Type("EvidenceGrade"), entgql.OrderField("EVIDENCE_GRADE")),
		field.Text("safety_boundary").NotEmpty(),
		field.Bool("requires_review").Default(false),
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
		edge.To("adherence_logs", AdherenceLog.Type).
			Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade)),
		edge.To("evaluations", Evaluation.Type).
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
