package server

import (
	"context"
	"sync"
	"time"

	entgo "entgo.io/ent"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// viewerCacheTTL is how long a request's viewer lookup (does the user still
// exist, is it still an admin) is reused by later requests of the same
// user. A change made through this process's ent client (deleteAccount, a
// role change) drops the entry at once and again at COMMIT; a change made
// elsewhere (another replica, `vitalgraph admin` from a shell) is seen
// within this time.
const viewerCacheTTL = 2 * time.Second

// viewerCacheMax bounds the entries kept: past it the cache starts over.
const viewerCacheMax = 10_000

// viewerStatus is what a viewer lookup needs from the users row.
type viewerStatus struct {
	found bool // the user exists and is not deleted
	admin bool
	at    time.Time
}

// viewerCache remembers viewer lookups for viewerCacheTTL. A lookup that
// raced an eviction (it read the row before a change committed) is not
// stored: gen counts evictions, and put keeps an entry only when no
// eviction happened since its lookup began.
type viewerCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]viewerStatus
}

func (c *viewerCache) get(id string, now time.Time) (viewerStatus, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	if ok && now.Sub(s.at) >= viewerCacheTTL {
		delete(c.m, id)
		ok = false
	}
	return s, c.gen, ok
}

func (c *viewerCache) put(id string, s viewerStatus, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= viewerCacheMax {
		c.m = make(map[string]viewerStatus)
	}
	c.m[id] = s
}

// evict drops every entry (role and deletion changes are rare).
func (c *viewerCache) evict() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

type freshViewerKey struct{}

// freshViewer marks ctx so that its viewer lookup reads the database, not
// the cache: a websocket's connection_init (once per connection, which
// then lives long).
func freshViewer(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshViewerKey{}, true)
}

// userStatus says whether user id exists (not deleted) and is an admin,
// from the cache or the database.
func (a *App) userStatus(ctx context.Context, id string) (viewerStatus, error) {
	now := time.Now()
	if s, _, ok := a.viewers.get(id, now); ok && ctx.Value(freshViewerKey{}) == nil {
		return s, nil
	}
	_, gen, _ := a.viewers.get("", now)
	u, err := a.Store.Client.User.Get(viewer.System(ctx), id)
	switch {
	case ent.IsNotFound(err):
		u = nil
	case err != nil:
		return viewerStatus{}, err
	}
	s := viewerStatus{at: now}
	if u != nil && u.DeletedAt == nil {
		s.found, s.admin = true, u.Role == user.RoleADMIN
	}
	a.viewers.put(id, s, gen)
	return s, nil
}

// evictViewersOnChange is an ent hook on users: a mutation that deletes a
// user or changes its role or deletion time empties the viewer cache when
// it runs and again when its transaction commits.
func (a *App) evictViewersOnChange(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		um, ok := m.(*ent.UserMutation)
		if !ok {
			return next.Mutate(ctx, m)
		}
		_, roleSet := um.Role()
		_, deletedSet := um.DeletedAt()
		if !roleSet && !deletedSet && !um.DeletedAtCleared() && !m.Op().Is(entgo.OpDelete|entgo.OpDeleteOne) {
			return next.Mutate(ctx, m)
		}
		v, err := next.Mutate(ctx, m)
		a.viewers.evict()
		if tx, terr := um.Tx(); terr == nil {
			tx.OnCommit(func(next ent.Committer) ent.Committer {
				return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
					err := next.Commit(ctx, tx)
					a.viewers.evict()
					return err
				})
			})
		}
		return v, err
	})
}
