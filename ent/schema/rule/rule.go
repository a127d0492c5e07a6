// Package rule holds the ent privacy rules that scope every row to its owner.
// They are the data-layer wall behind the GraphQL API: a resolver that forgets
// to filter still cannot read or write another user's rows.
package rule

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/privacy"
)

// AllowIfAdmin allows admins and the system viewer; it skips otherwise.
func AllowIfAdmin() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v, ok := viewer.FromContext(ctx); ok && v.IsAdmin() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// DenyIfNoViewer denies any operation without a viewer in the context.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v, ok := viewer.FromContext(ctx); !ok || (v.UserID == "" && v.Role != viewer.RoleSystem) {
			return privacy.Denyf("no viewer in context")
		}
		return privacy.Skip
	})
}

type userIDFilter interface {
	WhereUserID(entql.StringP)
}

type idFilter interface {
	WhereID(entql.StringP)
}

// FilterOwner restricts queries, updates and deletes of a user-owned type to
// rows whose user_id is the viewer's.
func FilterOwner() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, _ := viewer.FromContext(ctx)
		uf, ok := f.(userIDFilter)
		if !ok {
			return privacy.Denyf("type %T has no user_id", f)
		}
		uf.WhereUserID(entql.StringEQ(v.UserID))
		return privacy.Skip
	})
}

// FilterSelf restricts queries, updates and deletes of users to the viewer.
func FilterSelf() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, _ := viewer.FromContext(ctx)
		idf, ok := f.(idFilter)
		if !ok {
			return privacy.Denyf("type %T has no id", f)
		}
		idf.WhereID(entql.StringEQ(v.UserID))
		return privacy.Skip
	})
}

type userIDMutation interface {
	UserID() (string, bool)
}

// OwnerOnCreate denies creating a row owned by anyone but the viewer.
func OwnerOnCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		v, _ := viewer.FromContext(ctx)
		um, ok := m.(userIDMutation)
		if !ok {
			return privacy.Denyf("mutation %T has no user_id", m)
		}
		if id, set := um.UserID(); !set || id != v.UserID {
			return privacy.Denyf("rows may only be created for the viewer")
		}
		return privacy.Skip
	})
}

// DenyUpdateDelete makes a type append-only.
func DenyUpdateDelete() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne) {
			return privacy.Denyf("%s is append-only", m.Type())
		}
		return privacy.Skip
	})
}
