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

// Narrative is the plain-language account of an insight or an evaluation.
// Whatever wrote it, it passed the claim policy for its grade and carries the
// safety text verbatim.
type Narrative struct{ ent.Schema }

// Mixin of Narrative.
func (Narrative) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("nar"), AppendOnlyMixin{}, OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of Narrative.
func (Narrative) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("subject_type").Values("INSIGHT", "EVALUATION").Immutable().
			Comment("what kind of entity the narrative explains"),
		field.String("subject_id").NotEmpty().MaxLen(40).Immutable().
			Comment("global id of the insight or evaluation it explains"),
		field.Text("text").NotEmpty().Immutable().
			Comment("the plain-language explanation shown to the user; it passed the claim policy of its evidence grade"),
		field.Enum("source").Values("TEMPLATE", "LLM").Immutable().
			Comment("which narrator wrote the text"),
		field.Enum("evidence_grade").GoType(evidence.Grade("")).Immutable().
			Annotations(entgql.Type("EvidenceGrade"), entgql.OrderField("EVIDENCE_GRADE")).
			Comment("evidence grade of the subject; it bounds how strong a claim the text may make"),
		field.Text("safety_text").Default("").Immutable().
			Comment("the experiment's safety boundary (what not to do, when to stop), carried verbatim; empty when there is none"),
		field.Bool("replaced").Default(false).Immutable().
			Comment("true when a candidate text (an LLM answer) was discarded and the template narrative stored instead"),
		field.String("replace_reason").Default("").Immutable().
			Comment("why the candidate was discarded, e.g. claim_violation; empty when not replaced"),
	}
}

// Edges of Narrative.
func (Narrative) Edges() []ent.Edge { return []ent.Edge{ownerEdge("narratives")} }

// Indexes of Narrative.
func (Narrative) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "subject_id"), index.Fields("user_id", "created_at")}
}

// Annotations of Narrative.
func (Narrative) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("Plain-language text explaining an evaluation or insight, from the template narrator or a claim-checked LLM answer, with the safety boundary carried verbatim."), entgql.QueryField(), entgql.RelayConnection()}
}
