package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// RefreshToken is one issued refresh token, stored only as a hash. Tokens of
// one sign-in form a family; each refresh rotates to a new token and marks
// the old one used; presenting a used token revokes the whole family.
type RefreshToken struct{ ent.Schema }

// Mixin of RefreshToken.
func (RefreshToken) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("rtk"), OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of RefreshToken.
func (RefreshToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("family_id").NotEmpty().MaxLen(40).Immutable(),
		field.String("token_hash").NotEmpty().MaxLen(128).Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("revoked_reason").Default(""),
		field.String("user_agent").Default("").MaxLen(300),
	}
}

// Edges of RefreshToken.
func (RefreshToken) Edges() []ent.Edge { return []ent.Edge{ownerEdge("refresh_tokens")} }

// Indexes of RefreshToken.
func (RefreshToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("token_hash").Unique(), index.Fields("family_id")}
}

// Annotations of RefreshToken: never exposed through GraphQL.
func (RefreshToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
