package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// ProviderConnection is a user's link to a wearable provider. While it is
// disconnected the user's baselines from that source are frozen.
type ProviderConnection struct{ ent.Schema }

// Mixin of ProviderConnection.
func (ProviderConnection) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("pcn"), OwnedMixin{}, CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of ProviderConnection.
func (ProviderConnection) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("provider").Values("WHOOP", "OURA", "FITBIT", "APPLE_HEALTH", "MANUAL", "API").
			Comment("the data source; one connection per user and provider"),
		field.Enum("status").Values("CONNECTED", "DISCONNECTED", "REVOKED").Default("CONNECTED").
			Comment("whether data flows from the provider; while not CONNECTED its baselines are frozen"),
		field.String("external_user_id").Optional().MaxLen(200).Annotations(entgql.Skip()),
		field.Time("connected_at").Optional().Nillable().Comment("when the connection was last made CONNECTED"),
		field.Time("disconnected_at").Optional().Nillable().
			Comment("when the connection stopped being CONNECTED; null while connected"),
		field.Time("last_sync_at").Optional().Nillable().
			Comment("when the last successful provider sync completed (OAuth providers); null before the first"),
		// OAuth tokens, AES-GCM sealed under the provider token key ring
		// (app/connect); never exposed, never logged.
		field.String("access_token_sealed").Optional().Sensitive().MaxLen(4000).Annotations(entgql.Skip()),
		field.String("refresh_token_sealed").Optional().Sensitive().MaxLen(4000).Annotations(entgql.Skip()),
		field.Time("token_expires_at").Optional().Nillable().Annotations(entgql.Skip()),
		// sync_cursor is the sync position (JSON, app/connect.Cursor).
		field.String("sync_cursor").Optional().MaxLen(4000).Annotations(entgql.Skip()),
		field.Enum("sync_status").Values("IDLE", "QUEUED", "SYNCING", "OK", "ERROR").Default("IDLE").
			Comment("where the provider sync stands"),
		field.String("last_error").Optional().Nillable().MaxLen(500).
			Comment("user-safe message of the last sync's problem: why it failed (ERROR), or how many samples it left out (OK); null when the last sync was clean or none has run since connecting"),
	}
}

// Edges of ProviderConnection.
func (ProviderConnection) Edges() []ent.Edge {
	return []ent.Edge{ownerEdge("connections")}
}

// Indexes of ProviderConnection.
func (ProviderConnection) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "provider").Unique()}
}

// Annotations of ProviderConnection.
func (ProviderConnection) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("A user's link to a wearable provider; while it is not CONNECTED the metrics it feeds keep their baselines frozen."), entgql.RelayConnection()}
}
