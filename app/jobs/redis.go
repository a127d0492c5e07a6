package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/engine"
)

// QueueName is the asynq queue of loop jobs.
const QueueName = "vitalgraph-loop"

// Redis is the asynq-backed Queue. Enqueued jobs survive restarts and are
// processed by any process running a worker (Work), each retried MaxRetry
// times; a job that fails every retry is archived: asynq's dead-letter state,
// listed by Dead until retried or deleted (docs/runbooks.md).
type Redis struct {
	opt       Options
	client    *asynq.Client
	inspector *asynq.Inspector
	server    *asynq.Server // nil unless Work was called
}

// NewRedis connects to the Redis at redisURL.
func NewRedis(redisURL string, opt Options) (*Redis, error) {
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, engine.Wrap(err, engine.EINVALID, "bad REDIS_URL")
	}
	conn := asynq.RedisClientOpt{Addr: ro.Addr, Username: ro.Username, Password: ro.Password, DB: ro.DB, TLSConfig: ro.TLSConfig}
	return &Redis{opt: opt.withDefaults(), client: asynq.NewClient(conn), inspector: asynq.NewInspector(conn)}, nil
}

// EnqueueLoop implements Queue. The uniqueness window equals the debounce
// delay, so bursts of ingestion for one user collapse into one run.
func (r *Redis) EnqueueLoop(ctx context.Context, userID string) error {
	t := asynq.NewTask(TypeLoop, []byte(userID))
	_, err := r.client.EnqueueContext(ctx, t,
		asynq.Queue(r.opt.Queue),
		asynq.MaxRetry(r.opt.MaxRetry),
		asynq.ProcessIn(r.opt.Debounce),
		asynq.Unique(max(r.opt.Debounce, time.Second)), // asynq needs ≥ 1s
		asynq.Timeout(time.Minute),
	)
	if errors.Is(err, asynq.ErrDuplicateTask) {
		return nil // debounced
	}
	if err != nil {
		return fmt.Errorf("enqueueing loop job: %w", err)
	}
	return nil
}

// EnqueueSync implements Queue: a sync runs at once; while one for the same
// connection waits (a minute at most), others collapse into it.
func (r *Redis) EnqueueSync(ctx context.Context, connectionID string) error {
	t := asynq.NewTask(TypeSync, []byte(connectionID))
	_, err := r.client.EnqueueContext(ctx, t,
		asynq.Queue(r.opt.Queue),
		asynq.MaxRetry(r.opt.MaxRetry),
		asynq.Unique(time.Minute),
		asynq.Timeout(10*time.Minute),
	)
	if errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueueing sync job: %w", err)
	}
	return nil
}

// EnqueueImport implements Queue: an import runs at once, for up to an
// hour; a retried or re-queued import resumes where it stopped. The task's
// id is the import's, so while one exists (waiting, running, retrying or
// dead) another enqueue of that import is a no-op: one import never runs
// twice at once, and asynq itself recovers a task whose worker died.
func (r *Redis) EnqueueImport(ctx context.Context, importID string) error {
	if r.opt.Import == nil {
		return engine.Errorf(engine.EINVALID, "this queue runs no imports")
	}
	t := asynq.NewTask(TypeImport, []byte(importID))
	_, err := r.client.EnqueueContext(ctx, t,
		asynq.Queue(r.opt.Queue),
		asynq.MaxRetry(r.opt.MaxRetry),
		asynq.TaskID(TypeImport+":"+importID),
		asynq.Timeout(time.Hour),
	)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueueing import job: %w", err)
	}
	return nil
}

// Work starts processing loop jobs with h in this process (non-blocking).
func (r *Redis) Work(redisURL string, h Handler, log *slog.Logger) error {
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		return engine.Wrap(err, engine.EINVALID, "bad REDIS_URL")
	}
	conn := asynq.RedisClientOpt{Addr: ro.Addr, Username: ro.Username, Password: ro.Password, DB: ro.DB, TLSConfig: ro.TLSConfig}
	retry := r.opt.RetryDelay
	r.server = asynq.NewServer(conn, asynq.Config{
		Concurrency:     r.opt.Workers,
		Queues:          map[string]int{r.opt.Queue: 1},
		RetryDelayFunc:  func(n int, _ error, _ *asynq.Task) time.Duration { return retry(n) },
		ShutdownTimeout: 10 * time.Second,
		// Debounced and retried jobs are "scheduled"; check them often so a
		// loop runs about Debounce after the last ingestion, not 5 s later.
		DelayedTaskCheckInterval: max(r.opt.Debounce/2, 100*time.Millisecond),
		TaskCheckInterval:        200 * time.Millisecond,
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			log.WarnContext(ctx, "job failed", slog.String("type", t.Type()), slog.String("key", string(t.Payload())), slog.Any("err", err))
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeLoop, func(ctx context.Context, t *asynq.Task) error {
		return h(ctx, string(t.Payload()))
	})
	if r.opt.Sync != nil {
		sync := r.opt.Sync
		mux.HandleFunc(TypeSync, func(ctx context.Context, t *asynq.Task) error {
			return sync(ctx, string(t.Payload()))
		})
	}
	if r.opt.Import != nil {
		imp := r.opt.Import
		mux.HandleFunc(TypeImport, func(ctx context.Context, t *asynq.Task) error {
			return imp(ctx, string(t.Payload()))
		})
	}
	return r.server.Start(mux)
}

// Waiting implements Queue: the queue's pending, scheduled (debounced)
// and retry tasks; 0 before the queue's first task.
func (r *Redis) Waiting(context.Context) (int, error) {
	queues, err := r.inspector.Queues()
	if err != nil {
		return 0, err
	}
	if !slices.Contains(queues, r.opt.Queue) {
		return 0, nil
	}
	info, err := r.inspector.GetQueueInfo(r.opt.Queue)
	if err != nil {
		return 0, err
	}
	return info.Pending + info.Scheduled + info.Retry, nil
}

// Dead implements Queue: the archived tasks.
func (r *Redis) Dead(context.Context) ([]DeadJob, error) {
	tasks, err := r.inspector.ListArchivedTasks(r.opt.Queue, asynq.PageSize(1000))
	if err != nil {
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]DeadJob, len(tasks))
	for i, t := range tasks {
		out[i] = DeadJob{ID: t.ID, UserID: string(t.Payload), Type: t.Type, LastError: t.LastErr, Retried: t.Retried, FailedAt: t.LastFailedAt}
	}
	return out, nil
}

// RetryDead implements Queue.
func (r *Redis) RetryDead(_ context.Context, id string) error {
	return r.inspector.RunTask(r.opt.Queue, id)
}

// DeleteDead implements Queue.
func (r *Redis) DeleteDead(_ context.Context, id string) error {
	return r.inspector.DeleteTask(r.opt.Queue, id)
}

// Close stops the worker (if any) and the connections.
func (r *Redis) Close() error {
	if r.server != nil {
		r.server.Shutdown()
	}
	return errors.Join(r.client.Close(), r.inspector.Close())
}
