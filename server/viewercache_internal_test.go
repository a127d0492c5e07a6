package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An entry lives viewerCacheTTL; a lookup that began before an eviction is
// not stored (it may have read the row before the change committed).
func TestViewerCacheExpiresAndDropsRacingLookups(t *testing.T) {
	t.Parallel()
	var c viewerCache
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	_, gen, ok := c.get("u1", t0)
	require.False(t, ok)
	c.put("u1", viewerStatus{found: true, at: t0}, gen)
	s, _, ok := c.get("u1", t0.Add(viewerCacheTTL-time.Millisecond))
	require.True(t, ok)
	require.True(t, s.found)
	_, _, ok = c.get("u1", t0.Add(viewerCacheTTL))
	require.False(t, ok, "expired")

	_, gen, _ = c.get("u2", t0)
	c.evict() // a role change or deletion while u2's row was being read
	c.put("u2", viewerStatus{found: true, admin: true, at: t0}, gen)
	_, _, ok = c.get("u2", t0)
	require.False(t, ok, "the racing lookup was not kept")

	_, gen, _ = c.get("u2", t0)
	c.put("u2", viewerStatus{found: true, at: t0}, gen)
	_, _, ok = c.get("u2", t0)
	require.True(t, ok)
	c.evict()
	_, _, ok = c.get("u2", t0)
	require.False(t, ok, "evict drops every entry")
}
