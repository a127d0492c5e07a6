package schema

import (
	"regexp"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
)

// localDayRe matches a calendar date "YYYY-MM-DD".
var localDayRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// CreatedAtMixin adds an immutable, orderable created_at.
type CreatedAtMixin struct{ mixin.Schema }

// Fields implements ent.Mixin.
func (CreatedAtMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Comment("when the row was created").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// UpdatedAtMixin adds updated_at, maintained on every update.
type UpdatedAtMixin struct{ mixin.Schema }

// Fields implements ent.Mixin.
func (UpdatedAtMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("updated_at").
			Comment("when the row last changed").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// OwnedMixin marks a user-owned type: a required, immutable user_id and a
// privacy policy that scopes every read and write to the viewer (admins and
// the system viewer see everything).
type OwnedMixin struct{ mixin.Schema }

// Fields implements ent.Mixin.
func (OwnedMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").
			Immutable().
			NotEmpty().
			Annotations(entgql.Skip()),
	}
}

// Indexes implements ent.Mixin.
func (OwnedMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}
