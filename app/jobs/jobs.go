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

// TypeLoop is the task type of a per-user loop run.
const TypeLoop = "loop:user"

// Defaults.
const (
	DefaultDebounce = 2 * time.Second
	DefaultMaxRetry = 3
)

// Handler runs the loop for one user; an error makes the job retry.
type Handler func(ctx context.Context, userID string) error

// Queue schedules loop runs.
type Queue interface {
	// EnqueueLoop schedules a loop run for userID after the debounce delay;
	// requests for the same user within that delay collapse into one.
	EnqueueLoop(ctx context.Context, userID string) error
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
	UserID    string
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
