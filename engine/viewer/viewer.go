// Package viewer carries the identity of whoever makes a request (a user, an
// admin, or the system itself) through a context.Context. Every data access is
// scoped by the viewer found here; the ent privacy policies read it.
package viewer

import "context"

// Role is what a viewer may do.
type Role string

// Roles. System is used by background jobs, migrations and seeding; it is
// never granted to a network request.
const (
	RoleUser   Role = "USER"
	RoleAdmin  Role = "ADMIN"
	RoleSystem Role = "SYSTEM"
)

// Viewer is the identity behind a request.
type Viewer struct {
	UserID    string // empty only for RoleSystem
	Role      Role
	RequestID string
}

// IsAdmin reports whether v may act on every user's rows.
func (v Viewer) IsAdmin() bool { return v.Role == RoleAdmin || v.Role == RoleSystem }

// Actor is the audit "actor" string for v: the user id, or "system".
func (v Viewer) Actor() string {
	if v.Role == RoleSystem {
		return "system"
	}
	return v.UserID
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx and whether there was one.
func FromContext(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(ctxKey{}).(Viewer)
	return v, ok
}

// System returns ctx with the system viewer (full access). Only background
// jobs, migrations and seeding may use it.
func System(ctx context.Context) context.Context {
	return NewContext(ctx, Viewer{Role: RoleSystem})
}
