package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// User is a person whose health data Vitalgraph holds. Users see only
// themselves; admins see everyone.
type User struct{ ent.Schema }

// Mixin of User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("usr"), CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Optional().Nillable().Unique().MaxLen(320).
			Comment("the sign-in email address, unique; null once the account was erased (deleteAccount)"),
		field.String("display_name").Default("").MaxLen(200).Comment("the name to show for the user; may be empty"),
		field.Enum("role").Values("USER", "ADMIN").Default("USER").Comment("what the user may see and do"),
		field.String("password_hash").Optional().Nillable().Sensitive().Annotations(entgql.Skip()).
			Comment("argon2id/bcrypt hash; never exposed"),
		field.String("timezone").Default("UTC").MaxLen(64).
			Comment("IANA time zone used to assign samples to local days"),
		field.Strings("safety_flags").Optional().
			Comment("user flags that feed safety decisions, e.g. PREGNANT, CARDIAC_CONDITION"),
		field.Int64("feed_seq").Default(0).Annotations(entgql.Skip()).
			Comment("last feed cursor issued for this user; bumped under a row lock"),
		field.Int64("audit_seq").Default(0).Annotations(entgql.Skip()).
			Comment("last audit sequence number for this user; bumped under a row lock"),
		field.String("audit_head").Default("").Annotations(entgql.Skip()).
			Comment("hash of the newest audit event (hash chain head)"),
		field.Time("deleted_at").Optional().Nillable().Annotations(entgql.Skip()).
			Comment("set when the account was erased (deleteAccount): the row is a scrubbed tombstone and its tokens are refused"),
		field.String("loop_watermark").Default("").Annotations(entgql.Skip()).
			Comment("what the last loop run saw (a fingerprint of its inputs) and what a rerun on the same inputs returns; lets a rerun with no new data skip the work (app/loop)"),
	}
}

// Edges of User.
func (User) Edges() []ent.Edge {
	to := func(name string, t any) ent.Edge {
		return edge.To(name, t).Annotations(entgql.Skip(), entsql.OnDelete(entsql.Cascade))
	}
	return []ent.Edge{
		edge.To("connections", ProviderConnection.Type).
			Comment("the user's provider connections, one per provider").
			Annotations(entsql.OnDelete(entsql.Cascade)),
		to("observations", Observation.Type),
		to("ingestion_batches", IngestionBatch.Type),
		to("observation_revisions", ObservationRevision.Type),
		to("baselines", Baseline.Type),
		to("insights", Insight.Type),
		to("interventions", Intervention.Type),
		to("adherence_logs", AdherenceLog.Type),
		to("evaluations", Evaluation.Type),
		to("narratives", Narrative.Type),
		to("audit_events", AuditEvent.Type),
		to("feed_events", FeedEvent.Type),
		to("refresh_tokens", RefreshToken.Type),
		to("health_imports", HealthImport.Type),
	}
}

// Annotations of User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("A person using Vitalgraph: role, time zone and the cursors of their audit trail and live feed. Users see only themselves; admins see everyone."), entgql.RelayConnection()}
}
