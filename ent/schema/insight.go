package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// Insight is a graded finding about one metric of one user (an anomaly, a
// sustained change, a trend, a data gap, ...). It always carries its
// evidence; invariants: metric set, confidence and coverage in [0,1].
type Insight struct{ ent.Schema }

// Mixin of Insight.
func (Insight) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ins"), OwnedMixin{}, CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of Insight.
func (Insight) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("metric").NotEmpty().MaxLen(64).Immutable().Comment("the metric key the finding is about").
			Annotations(entgql.OrderField("METRIC")),
		field.Enum("kind").Values("ANOMALY", "CHANGE", "TREND", "DATA_GAP", "CONFLICTING_SOURCES", "DATA_QUALITY").
			Immutable().Annotations(entgql.OrderField("KIND")).Comment("what kind of finding"),
		field.Enum("status").Values("ACTIVE", "ACKNOWLEDGED", "SUPPRESSED", "DISMISSED", "RESOLVED", "SUPERSEDED").Default("ACTIVE").
			Annotations(entgql.OrderField("STATUS")).
			Comment("ACKNOWLEDGED and DISMISSED are the user's; SUPERSEDED: a later finding on the same metric reversed it"),
		field.Enum("dismiss_reason").Values("NOT_USEFUL", "ALREADY_KNEW", "WRONG").Optional().Nillable().
			Comment("why the user dismissed the insight, kept for tuning the detectors"),
		field.Time("dismissed_at").Optional().Nillable().Comment("when the user dismissed it"),
		field.Time("acknowledged_at").Optional().Nillable().Comment("when the user acknowledged it"),
		field.String("superseded_by").Optional().Nillable().MaxLen(40).
			Comment("id of the insight that reversed this one"),
		field.String("title").NotEmpty().MaxLen(300).Comment("one-line statement of the finding, hedged by its grade"),
		field.Text("summary").Default("").Comment("a few sentences on the finding and its evidence"),
		field.String("direction").Default("none").MaxLen(8).Comment("which way the metric moved: UP or DOWN; NONE (or none) for a finding without a direction"),
		field.String("start_day").Match(localDayRe).Immutable().Comment("first day of the finding, YYYY-MM-DD").
			Annotations(entgql.OrderField("START_DAY")),
		field.String("end_day").Match(localDayRe).
			Comment("last day of the finding; an ongoing data gap extends it"),
		field.String("dedupe_key").NotEmpty().MaxLen(200).Immutable().Annotations(entgql.Skip()).
			Comment("stable key of the finding; re-running the loop on the same data finds the same key"),
	}, evidenceFields()...)
}

// evidenceFields are the graded-evidence columns shared by Insight and
// Evaluation: grade, confidence, sample size, coverage and the explanation
// triplet, plus structured details (source metrics, windows, detectors,
// thresholds crossed).
func evidenceFields() []ent.Field {
	return []ent.Field{
		field.Enum("evidence_grade").GoType(evidence.Grade("")).Comment("evidence grade, A (strongest) to D").
			Annotations(entgql.Type("EvidenceGrade"), entgql.OrderField("EVIDENCE_GRADE")),
		field.Float("confidence").Min(0).Max(1).Comment("probability in [0, 1] behind the claim (see Evidence.confidence)").
			Annotations(entgql.OrderField("CONFIDENCE")),
		field.Int("sample_size").NonNegative().Comment("days behind the grade"),
		field.Float("coverage").Min(0).Max(1).Comment("share of those days with data, in [0, 1]"),
		field.Text("why").Default("").Comment("why this grade: the thresholds that hold and the rules that lowered it"),
		field.Text("how_confident").Default("").Comment("the certainty level and the numbers behind it"),
		field.Text("what_would_change").Default("").Comment("what would change the grade, concretely"),
		field.JSON("details", map[string]any{}).Optional().Annotations(entgql.Type("Map")).
			Comment("source metrics, windows, detectors and thresholds behind the finding"),
	}
}

// Edges of Insight.
func (Insight) Edges() []ent.Edge { return []ent.Edge{ownerEdge("insights")} }

// Indexes of Insight.
func (Insight) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "dedupe_key").Unique(),
		index.Fields("user_id", "metric", "start_day"),
		index.Fields("user_id", "created_at"),
	}
}

// Annotations of Insight. The insights query is declared by hand in
// graph/observe.graphqls (it adds minGrade).
func (Insight) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("A finding about one metric (anomaly, change point, trend, data gap…) with its evidence: grade, confidence, sample size, coverage and why / how confident / what would change it."), entgql.RelayConnection(), entgql.MultiOrder()}
}
