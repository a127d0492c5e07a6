package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/jobs"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// recorder counts handler calls per user and fails for users in fail.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]bool
}

func (r *recorder) handle(_ context.Context, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[userID]++
	if r.fail[userID] {
		return errors.New("loop failed for " + userID)
	}
	return nil
}

func (r *recorder) count(userID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[userID]
}

func fastOptions() jobs.Options {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return jobs.Options{
		Debounce:   150 * time.Millisecond,
		MaxRetry:   2,
		RetryDelay: func(int) time.Duration { return 50 * time.Millisecond },
		Queue:      "test-" + hex.EncodeToString(b[:]),
	}
}

func TestQueues(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T, h jobs.Handler) jobs.Queue{
		"memory": func(t *testing.T, h jobs.Handler) jobs.Queue { return jobs.NewMemory(h, fastOptions()) },
		"redis": func(t *testing.T, h jobs.Handler) jobs.Queue {
			q, err := jobs.NewRedis(servertest.RedisURL(), fastOptions())
			require.NoError(t, err)
			require.NoError(t, q.Work(servertest.RedisURL(), h, slog.New(slog.DiscardHandler)))
			return q
		},
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{calls: map[string]int{}, fail: map[string]bool{"usr_bad": true}}
			q := open(t, rec.handle)
			defer q.Close()
			ctx := context.Background()

			// A burst for one user collapses into one run.
			for range 5 {
				require.NoError(t, q.EnqueueLoop(ctx, "usr_ok"))
			}
			require.Eventually(t, func() bool { return rec.count("usr_ok") == 1 }, 10*time.Second, 20*time.Millisecond)

			// A failing job is retried MaxRetry times, then parked as dead.
			require.NoError(t, q.EnqueueLoop(ctx, "usr_bad"))
			var dead []jobs.DeadJob
			require.Eventually(t, func() bool {
				var err error
				dead, err = q.Dead(ctx)
				require.NoError(t, err)
				return len(dead) == 1
			}, 20*time.Second, 50*time.Millisecond)
			require.Equal(t, 3, rec.count("usr_bad"), "first try + 2 retries")
			require.Equal(t, "usr_bad", dead[0].UserID)
			require.Contains(t, dead[0].LastError, "loop failed")

			// A dead job can be retried by hand, and deleted.
			require.NoError(t, q.RetryDead(ctx, dead[0].ID))
			require.Eventually(t, func() bool { return rec.count("usr_bad") >= 4 }, 20*time.Second, 50*time.Millisecond)
			require.Eventually(t, func() bool {
				d, err := q.Dead(ctx)
				require.NoError(t, err)
				return len(d) == 1
			}, 30*time.Second, 50*time.Millisecond)
			d, err := q.Dead(ctx)
			require.NoError(t, err)
			require.NoError(t, q.DeleteDead(ctx, d[0].ID))
			d, err = q.Dead(ctx)
			require.NoError(t, err)
			require.Empty(t, d)
		})
	}
}

// TestWaiting: the queue depth counts debounced jobs (one per user however
// many requests), and a queue that never held a job reports 0.
func TestWaiting(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T, opt jobs.Options) jobs.Queue{
		"memory": func(t *testing.T, opt jobs.Options) jobs.Queue {
			return jobs.NewMemory(func(context.Context, string) error { return nil }, opt)
		},
		"redis": func(t *testing.T, opt jobs.Options) jobs.Queue {
			q, err := jobs.NewRedis(servertest.RedisURL(), opt)
			require.NoError(t, err)
			return q
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opt := fastOptions()
			opt.Debounce = time.Hour
			q := open(t, opt)
			defer q.Close()
			ctx := context.Background()
			n, err := q.Waiting(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			for _, u := range []string{"usr_a", "usr_a", "usr_b", "usr_a"} {
				require.NoError(t, q.EnqueueLoop(ctx, u))
			}
			n, err = q.Waiting(ctx)
			require.NoError(t, err)
			require.Equal(t, 2, n, "two users' debounced loop runs")
		})
	}
}

// TestSyncJobs: a sync job runs the Sync handler (not the loop handler) at
// once, keyed by connection; a failing one is retried and parked as dead
// with its type; a queue without a Sync handler refuses syncs.
func TestSyncJobs(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T, loop jobs.Handler, opt jobs.Options) jobs.Queue{
		"memory": func(t *testing.T, loop jobs.Handler, opt jobs.Options) jobs.Queue { return jobs.NewMemory(loop, opt) },
		"redis": func(t *testing.T, loop jobs.Handler, opt jobs.Options) jobs.Queue {
			q, err := jobs.NewRedis(servertest.RedisURL(), opt)
			require.NoError(t, err)
			require.NoError(t, q.Work(servertest.RedisURL(), loop, slog.New(slog.DiscardHandler)))
			return q
		},
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loops := &recorder{calls: map[string]int{}, fail: map[string]bool{}}
			syncs := &recorder{calls: map[string]int{}, fail: map[string]bool{"pcn_bad": true}}
			opt := fastOptions()
			opt.Sync = syncs.handle
			q := open(t, loops.handle, opt)
			defer q.Close()
			ctx := context.Background()
			require.NoError(t, q.EnqueueSync(ctx, "pcn_ok"))
			require.Eventually(t, func() bool { return syncs.count("pcn_ok") == 1 }, 10*time.Second, 20*time.Millisecond)
			require.Zero(t, loops.count("pcn_ok"), "the loop handler never sees a sync")

			require.NoError(t, q.EnqueueSync(ctx, "pcn_bad"))
			var dead []jobs.DeadJob
			require.Eventually(t, func() bool {
				var err error
				dead, err = q.Dead(ctx)
				require.NoError(t, err)
				return len(dead) == 1
			}, 20*time.Second, 50*time.Millisecond)
			require.Equal(t, 3, syncs.count("pcn_bad"), "first try + 2 retries")
			require.Equal(t, jobs.TypeSync, dead[0].Type)
			require.Equal(t, "pcn_bad", dead[0].UserID)
			require.NoError(t, q.RetryDead(ctx, dead[0].ID))
			require.Eventually(t, func() bool { return syncs.count("pcn_bad") >= 4 }, 20*time.Second, 50*time.Millisecond)
		})
	}
	m := jobs.NewMemory(func(context.Context, string) error { return nil }, fastOptions())
	defer m.Close()
	require.Error(t, m.EnqueueSync(context.Background(), "pcn_x"), "no Sync handler")
}

// TestImportJobs: an import job runs on the Import handler; enqueueing the
// same import while it runs starts no second run (one import never runs
// twice at once); once it is done it may be queued again.
func TestImportJobs(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T, opt jobs.Options) jobs.Queue{
		"memory": func(t *testing.T, opt jobs.Options) jobs.Queue {
			return jobs.NewMemory(func(context.Context, string) error { return nil }, opt)
		},
		"redis": func(t *testing.T, opt jobs.Options) jobs.Queue {
			q, err := jobs.NewRedis(servertest.RedisURL(), opt)
			require.NoError(t, err)
			require.NoError(t, q.Work(servertest.RedisURL(), func(context.Context, string) error { return nil }, slog.New(slog.DiscardHandler)))
			return q
		},
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			started := 0
			release := make(chan struct{})
			opt := fastOptions()
			opt.Workers = 2
			opt.Import = func(context.Context, string) error {
				mu.Lock()
				started++
				mu.Unlock()
				<-release
				return nil
			}
			runs := func() int {
				mu.Lock()
				defer mu.Unlock()
				return started
			}
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			q := open(t, opt)
			defer q.Close()
			defer free() // before Close, even when the test fails
			ctx := context.Background()
			id := "imp_" + opt.Queue
			require.NoError(t, q.EnqueueImport(ctx, id))
			require.Eventually(t, func() bool { return runs() == 1 }, 10*time.Second, 20*time.Millisecond)
			require.NoError(t, q.EnqueueImport(ctx, id))
			require.NoError(t, q.EnqueueImport(ctx, id))
			require.Eventually(t, func() bool {
				n, err := q.Waiting(ctx)
				require.NoError(t, err)
				return n == 0
			}, 10*time.Second, 20*time.Millisecond)
			require.Equal(t, 1, runs(), "no second run while the first one runs")
			free()
			require.Eventually(t, func() bool {
				require.NoError(t, q.EnqueueImport(ctx, id))
				return runs() >= 2
			}, 20*time.Second, 50*time.Millisecond, "queued again once done")
		})
	}
	m := jobs.NewMemory(func(context.Context, string) error { return nil }, fastOptions())
	defer m.Close()
	require.Equal(t, "EINVALID", engine.ErrorCode(m.EnqueueImport(context.Background(), "imp_x")), "no Import handler")
}
