package resolvers

import (
	"context"
	"log/slog"

	"github.com/vitalgraph/vitalgraph/ent"
)

// enqueueSyncAfterCommit queues a sync of connID once the mutation's
// transaction has committed (never for a rolled-back one).
func (r *Resolver) enqueueSyncAfterCommit(t *ent.Tx, connID string) {
	if r.Jobs == nil {
		return
	}
	q := r.Jobs
	t.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			// Best effort: the periodic sync catches up; the connection
			// stays QUEUED until then.
			if err := q.EnqueueSync(context.WithoutCancel(ctx), connID); err != nil {
				slog.WarnContext(ctx, "sync enqueue failed", slog.String("connection_id", connID), slog.String("error", err.Error()))
			}
			return nil
		})
	})
}
