package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/mixin"

	"github.com/vitalgraph/vitalgraph/ent/privacy"
	"github.com/vitalgraph/vitalgraph/ent/schema/rule"
)

// Privacy policies. They live apart from the field definitions so that ent
// can bootstrap its generated privacy package from the schema alone.

// Policy implements ent.Mixin.
func (OwnedMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfAdmin(),
			rule.FilterOwner(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfAdmin(),
			rule.OwnerOnCreate(),
			rule.FilterOwner(),
		},
	}
}

// AppendOnlyMixin forbids updates and deletes, for everyone.
type AppendOnlyMixin struct{ mixin.Schema }

// Policy implements ent.Mixin.
func (AppendOnlyMixin) Policy() ent.Policy {
	return privacy.Policy{Mutation: privacy.MutationPolicy{rule.DenyUpdateDelete()}}
}

// Policy of User: a user reads and updates only their own row; only the
// system or an admin creates or deletes users.
func (User) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfAdmin(),
			rule.FilterSelf(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfAdmin(),
			privacy.OnMutationOperation(privacy.AlwaysDenyRule(), ent.OpCreate|ent.OpDelete|ent.OpDeleteOne),
			rule.FilterSelf(),
		},
	}
}
