// Package jobs runs loop jobs in the background: one per user, debounced
// after ingestion, retried with backoff, and parked in a visible dead-letter
// state after the last retry. Two implementations share one contract:
// Redis-backed (asynq; any number of workers and servers) and in-process
// (the embedded default).
package jobs

import (
	"context"
	"time"
)

// Task types.
const (
	// TypeLoop is the task type of a per-user loop run (key: user id).
	TypeLoop = "loop:user"
	// TypeSync is the task type of a provider connection's sync (key:
	// connection id).
	TypeSync = "provider:sync"
	// TypeImport is the task type of an uploaded file's import (key: the
	// health import's id).
	TypeImport = "health:import"
)

// Defaults.
const (
	DefaultDebounce = 2 * time.Second
	DefaultMaxRetry = 3
)

// Handler runs one job for its key (a user id for loop runs, a connection
// id for syncs); an error makes the job retry.
type Handler func(ctx context.Context, key string) error

// Queue schedules loop runs.
type Queue interface {
	// EnqueueLoop schedules a loop run for userID after the debounce delay;
	// requests for the same user within that delay collapse into one.
	EnqueueLoop(ctx context.Context, userID string) error
	// EnqueueSync schedules a sync of a provider connection now; requests
	// for a connection whose sync is already waiting collapse into it.
	// EINVALID when the queue has no sync handler (Options.Sync).
	EnqueueSync(ctx context.Context, connectionID string) error
	// EnqueueImport schedules the import of an uploaded file now (key: the
	// health import's id); EINVALID when the queue has no import handler
	// (Options.Import).
	EnqueueImport(ctx context.Context, importID string) error
	// Waiting counts jobs not yet run: debounced or scheduled, queued, or
	// waiting for a retry (the queue depth).
	Waiting(ctx context.Context) (int, error)
	// Dead lists jobs that failed every retry.
	Dead(ctx context.Context) ([]DeadJob, error)
	// RetryDead re-queues a dead job now; DeleteDead forgets it.
	RetryDead(ctx context.Context, id string) error
	DeleteDead(ctx context.Context, id string) error
	// Close stops the queue (and its workers, if it runs any).
	Close() error
}

// DeadJob is a job parked after its last retry.
type DeadJob struct {
	ID        string
	UserID    string // the job's key: a user id, a connection id for a sync, an import id for an import
	Type      string // TypeLoop, TypeSync or TypeImport
	LastError string
	Retried   int
	FailedAt  time.Time
}

// Options configure both implementations.
type Options struct {
	Debounce   time.Duration                   // ≤ 0: DefaultDebounce
	MaxRetry   int                             // ≤ 0: DefaultMaxRetry
	RetryDelay func(attempt int) time.Duration // nil: exponential from 1s, capped at 1m
	Workers    int                             // concurrent jobs (≤ 0: 2)
	Queue      string                          // asynq queue name ("": QueueName)
	Sync       Handler                         // runs provider syncs (nil: EnqueueSync refuses)
	Import     Handler                         // runs uploaded files' imports (nil: EnqueueImport refuses)
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = DefaultMaxRetry
	}
	if o.RetryDelay == nil {
		o.RetryDelay = func(attempt int) time.Duration {
			d := time.Second << min(attempt, 6)
			return min(d, time.Minute)
		}
	}
	if o.Queue == "" {
		o.Queue = QueueName
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	return o
}
