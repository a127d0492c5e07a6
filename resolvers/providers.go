package resolvers

import (
	"context"
	"log/slog"

	"github.com/vitalgraph/vitalgraph/ent"
)

// enqueueSyncAfterCommit queues a sync of connID once the mutation's
// transaction has committed (never for a rolled-back one). Best effort: the
// periodic sync catches up; the connection stays QUEUED until then.
func (r *Resolver) enqueueSyncAfterCommit(t *ent.Tx, connID string) {
	if r.Jobs == nil {
		return
	}
	q := r.Jobs
	afterCommit(t, func(ctx context.Context) {
		if err := q.EnqueueSync(ctx, connID); err != nil {
			slog.WarnContext(ctx, "sync enqueue failed", slog.String("connection_id", connID), slog.String("error", err.Error()))
		}
	})
}

// enqueueImportAfterCommit queues the import job of an upload once the
// mutation's transaction has committed. If the enqueue fails the import
// stays QUEUED and is queued again when a server starts
// (server.App.resumeImports).
func (r *Resolver) enqueueImportAfterCommit(t *ent.Tx, importID string) {
	q := r.Jobs
	afterCommit(t, func(ctx context.Context) {
		if err := q.EnqueueImport(ctx, importID); err != nil {
			slog.WarnContext(ctx, "import enqueue failed", slog.String("import_id", importID), slog.String("error", err.Error()))
		}
	})
}
