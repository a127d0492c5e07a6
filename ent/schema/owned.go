package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
)

// ownerEdge is the required, immutable edge from a user-owned type to its
// user, stored in the user_id column of OwnedMixin.
func ownerEdge(ref string) ent.Edge {
	return edge.From("user", User.Type).
		Ref(ref).
		Field("user_id").
		Unique().
		Required().
		Immutable().
		Annotations(entgql.Skip())
}
