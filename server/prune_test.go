package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestPruneFeedDeletesOnlyRowsPastRetention writes 3 feed events dated 40
// days ago and 2 today, prunes at 30 days, and keeps exactly the recent two.
func TestPruneFeedDeletesOnlyRowsPastRetention(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			defer st.Close()
			bg := context.Background()
			uid, err := server.EnsureUser(bg, st.Client, "prune@example.com", "p", user.RoleUSER)
			require.NoError(t, err)
			ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser})
			old := time.Now().Add(-40 * 24 * time.Hour)
			write := func(at time.Time, n int) {
				rec := &record.Recorder{Now: func() time.Time { return at }}
				for range n {
					tx, err := st.Client.Tx(ctx)
					require.NoError(t, err)
					_, err = rec.Feed(ctx, tx, uid, feedevent.KindINSIGHT_CREATED, "ins_x", nil)
					require.NoError(t, err)
					require.NoError(t, tx.Commit())
				}
			}
			write(old, 3)
			write(time.Now(), 2)
			n, err := st.PruneFeed(bg, time.Now().Add(-30*24*time.Hour))
			require.NoError(t, err)
			require.Equal(t, int64(3), n)
			left, err := st.Client.FeedEvent.Query().Where(feedevent.UserID(uid)).Order(feedevent.BySeq()).All(viewer.System(bg))
			require.NoError(t, err)
			require.Len(t, left, 2)
			require.Equal(t, int64(4), left[0].Seq, "cursors stay contiguous after pruning")
		})
	}
}
