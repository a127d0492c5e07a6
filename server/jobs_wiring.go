package server

import (
	"context"
	"log/slog"

	"github.com/vitalgraph/vitalgraph/app/jobs"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
)

// runLoopJob is the background job: one loop run for a user, as the system.
func (a *App) runLoopJob(ctx context.Context, userID string) error {
	return a.traceJob(ctx, func(ctx context.Context) error { return a.loopJob(ctx, userID) })
}

func (a *App) loopJob(ctx context.Context, userID string) error {
	sum, err := a.Loop.Run(viewer.System(ctx), a.Store.Client, userID)
	if err != nil {
		a.Log.WarnContext(ctx, "loop run failed", slog.String("user_id", userID), slog.Any("err", err))
		return err
	}
	a.Log.DebugContext(ctx, "loop run", slog.String("user_id", userID), slog.Int("insights", sum.InsightsCreated),
		slog.Int("evaluations", sum.EvaluationsCreated), slog.Duration("took", sum.Duration))
	return nil
}

// setupJobs picks the job queue: asynq on Redis when REDIS_URL is set (this
// process also works the queue unless WORKER_IN_PROCESS=false), else the
// in-process queue.
func (a *App) setupJobs() error {
	opt := jobs.Options{Debounce: a.Config.JobsDebounce, Queue: a.Config.JobsQueue, Sync: a.runSyncJob, Import: a.runImportJob}
	if a.Config.RedisURL == "" {
		a.Jobs = jobs.NewMemory(a.runLoopJob, opt)
		return nil
	}
	q, err := jobs.NewRedis(a.Config.RedisURL, opt)
	if err != nil {
		return err
	}
	if a.Config.WorkerInProcess {
		if err := q.Work(a.Config.RedisURL, a.runLoopJob, a.Log); err != nil {
			_ = q.Close()
			return err
		}
	}
	a.Jobs = q
	return nil
}
