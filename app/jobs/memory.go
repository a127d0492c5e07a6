package jobs

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Memory is the in-process Queue: per-user debounce timers, a bounded
// worker pool, retries and an in-memory dead-letter list. Jobs are lost if
// the process exits (the embedded default; use Redis in production).
type Memory struct {
	opt     Options
	handler Handler
	mu      sync.Mutex
	pending map[job]*time.Timer // job (attempt 0) → debounce timer
	active  map[string]bool     // imports queued, running or waiting for a retry (one run at a time)
	dead    map[string]DeadJob
	work    chan job
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	seq     int
	retries int // retries scheduled and not yet handed to a worker
}

type job struct {
	kind    string // TypeLoop, TypeSync or TypeImport
	userID  string // the key: a user id, or a connection id for a sync
	attempt int
}

// NewMemory starts an in-process queue running h.
func NewMemory(h Handler, opt Options) *Memory {
	opt = opt.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	m := &Memory{
		opt: opt, handler: h, pending: map[job]*time.Timer{}, dead: map[string]DeadJob{}, active: map[string]bool{},
		work: make(chan job, 1024), ctx: ctx, cancel: cancel,
	}
	for range opt.Workers {
		m.wg.Add(1)
		go m.worker()
	}
	return m
}

// EnqueueLoop implements Queue.
func (m *Memory) EnqueueLoop(_ context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return engine.Errorf(engine.EINTERNAL, "job queue is closed")
	}
	j := job{kind: TypeLoop, userID: userID}
	if _, ok := m.pending[j]; ok {
		return nil // already scheduled: debounced
	}
	m.pending[j] = time.AfterFunc(m.opt.Debounce, func() { m.submit(j) })
	return nil
}

// EnqueueSync implements Queue.
func (m *Memory) EnqueueSync(_ context.Context, connectionID string) error {
	if m.opt.Sync == nil {
		return engine.Errorf(engine.EINVALID, "this queue runs no provider syncs")
	}
	return m.enqueueNow(TypeSync, connectionID)
}

// EnqueueImport implements Queue.
func (m *Memory) EnqueueImport(_ context.Context, importID string) error {
	if m.opt.Import == nil {
		return engine.Errorf(engine.EINVALID, "this queue runs no imports")
	}
	return m.enqueueNow(TypeImport, importID)
}

// enqueueNow schedules a job of kind for key at once, unless one is
// already waiting.
func (m *Memory) enqueueNow(kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return engine.Errorf(engine.EINTERNAL, "job queue is closed")
	}
	j := job{kind: kind, userID: key}
	if kind == TypeImport {
		if m.active[key] {
			return nil // waiting, running or retrying: that run completes it
		}
		m.active[key] = true
	}
	if _, ok := m.pending[j]; ok {
		return nil // already waiting
	}
	m.pending[j] = time.AfterFunc(0, func() { m.submit(j) })
	return nil
}

func (m *Memory) submit(j job) {
	m.mu.Lock()
	delete(m.pending, job{kind: j.kind, userID: j.userID})
	m.mu.Unlock()
	select {
	case m.work <- j:
	case <-m.ctx.Done():
	}
}

func (m *Memory) worker() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case j := <-m.work:
			h := m.handler
			switch j.kind {
			case TypeSync:
				h = m.opt.Sync
			case TypeImport:
				h = m.opt.Import
			}
			err := h(m.ctx, j.userID)
			if err == nil || m.ctx.Err() != nil {
				m.done(j)
				continue
			}
			if j.attempt < m.opt.MaxRetry {
				next := job{kind: j.kind, userID: j.userID, attempt: j.attempt + 1}
				m.mu.Lock()
				m.retries++
				m.mu.Unlock()
				time.AfterFunc(m.opt.RetryDelay(next.attempt), func() {
					defer func() {
						m.mu.Lock()
						m.retries--
						m.mu.Unlock()
					}()
					select {
					case m.work <- next:
					case <-m.ctx.Done():
					}
				})
				continue
			}
			m.done(j)
			m.mu.Lock()
			m.seq++
			id := fmt.Sprintf("mem-%d", m.seq)
			m.dead[id] = DeadJob{ID: id, UserID: j.userID, Type: j.kind, LastError: err.Error(), Retried: j.attempt, FailedAt: time.Now()}
			m.mu.Unlock()
		}
	}
}

// done forgets a finished (or dead) import, so it may be queued again.
func (m *Memory) done(j job) {
	if j.kind != TypeImport {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, j.userID)
}

// Waiting implements Queue.
func (m *Memory) Waiting(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending) + len(m.work) + m.retries, nil
}

// Dead implements Queue.
func (m *Memory) Dead(context.Context) ([]DeadJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DeadJob, 0, len(m.dead))
	for _, d := range m.dead {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RetryDead implements Queue.
func (m *Memory) RetryDead(_ context.Context, id string) error {
	m.mu.Lock()
	d, ok := m.dead[id]
	delete(m.dead, id)
	m.mu.Unlock()
	if !ok {
		return engine.Errorf(engine.ENOTFOUND, "no dead job %q", id)
	}
	if d.Type == TypeImport {
		m.mu.Lock()
		m.active[d.UserID] = true
		m.mu.Unlock()
	}
	go m.submit(job{kind: d.Type, userID: d.UserID})
	return nil
}

// DeleteDead implements Queue.
func (m *Memory) DeleteDead(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.dead[id]; !ok {
		return engine.Errorf(engine.ENOTFOUND, "no dead job %q", id)
	}
	delete(m.dead, id)
	return nil
}

// Close stops timers and workers and waits for running jobs.
func (m *Memory) Close() error {
	m.mu.Lock()
	for _, t := range m.pending {
		t.Stop()
	}
	m.pending = map[job]*time.Timer{}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return nil
}
