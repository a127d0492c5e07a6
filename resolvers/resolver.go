// Package resolvers holds the gqlgen resolvers. They stay thin: load through
// ent (scoped to the viewer by ent privacy), call engine or a service, map the
// result. Helpers live here, never in *.resolvers.go (gqlgen rewrites those).
package resolvers

import (
	"context"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/intervene"
	"github.com/vitalgraph/vitalgraph/app/jobs"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/performance"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/feed"
)

// MaxPageSize is the hard cap on `first`/`last` of every connection.
const MaxPageSize = 100

// DefaultPageSize applies when a connection gets neither `first` nor `last`.
const DefaultPageSize = 20

// BuildInfo describes the running binary.
type BuildInfo struct {
	Version string
	Commit  string
	EnvMode string
}

// Resolver is the root resolver; its fields are the dependencies.
type Resolver struct {
	Client    *ent.Client
	Build     BuildInfo
	Ingest    *ingest.Service
	Loop      *loop.Runner
	Intervene *intervene.Service
	Jobs      jobs.Queue
	Live      *feed.Hub           // live feed subscriptions
	Auth      *auth.Service       // accounts, tokens, admin operations
	Rights    *datarights.Service // audit checkpoints, data export, account deletion
	Connect   *connect.Service    // wearable OAuth connections and syncs
	Importer  *importer.Service   // uploaded files' imports
	Status    SystemStatus        // reported by Query.systemStatus
	// Performance builds the admin performance report (ops.go).
	Performance *performance.Service
}

// SystemStatus describes how the server runs.
type SystemStatus struct {
	EnvMode          string
	AuthMode         string
	ProvidersEnabled []string
	SafetyStatus     string
	LoggingLevel     string
	LLMEnabled       bool
}

// client returns the transaction's client inside entgql.Transactioner
// (mutations), else the root client.
func (r *Resolver) client(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.Client
}

// page validates and defaults pagination arguments: negative values are
// EINVALID, values above MaxPageSize are ELIMIT, and no first/last means the
// first DefaultPageSize.
func page(first, last *int) (*int, *int, error) {
	for _, p := range []*int{first, last} {
		if p == nil {
			continue
		}
		if *p < 0 {
			return nil, nil, engine.Errorf(engine.EINVALID, "first and last must not be negative")
		}
		if *p > MaxPageSize {
			return nil, nil, engine.Errorf(engine.ELIMIT, "first and last may be at most %d", MaxPageSize)
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		first = &n
	}
	return first, last, nil
}

// requireViewer returns the viewer or EUNAUTHORIZED.
func requireViewer(ctx context.Context) (viewer.Viewer, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.UserID == "" {
		return viewer.Viewer{}, engine.Errorf(engine.EUNAUTHORIZED, "sign in required")
	}
	return v, nil
}
