package record_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func writeOne(ctx context.Context, c *ent.Client, r *record.Recorder, userID string, fail bool) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	_, err = r.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Insight", EntityID: "ins_x", Action: "create",
		Reason: "test", Details: map[string]any{"threshold": 3.5, "n": 7, "windows": []string{"2026-03-01"}},
	})
	if err == nil {
		_, err = r.Feed(ctx, tx, userID, feedevent.KindINSIGHT_CREATED, "ins_x", map[string]any{"metric": "hrv"})
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if fail {
		_ = tx.Rollback()
		return errors.New("rolled back")
	}
	return tx.Commit()
}

// writeFeed commits a transaction with feed events only.
func writeFeed(ctx context.Context, c *ent.Client, r *record.Recorder, userID string, n int) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	for range n {
		if _, err := r.Feed(ctx, tx, userID, feedevent.KindINSIGHT_UPDATED, "ins_y", nil); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func TestAuditChainAndFeedSequences(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		for _, fast := range []bool{false, true} {
			name := b.Name
			if fast {
				name += "/set-based"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				st := b.Open(t)
				defer st.Close()
				if fast && st.Dialect != "postgres" {
					t.Skip("the set-based path is PostgreSQL's")
				}
				testSequences(t, st, fast)
			})
		}
	}
}

func testSequences(t *testing.T, st *server.Store, fast bool) {
	bg := context.Background()
	uid, err := server.EnsureUser(bg, st.Client, "r@example.com", "r", user.RoleUSER)
	require.NoError(t, err)
	ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser, RequestID: "req-1"})
	var mu sync.Mutex
	notified := 0
	rec := record.New(record.NotifierFunc(func(string) { mu.Lock(); notified++; mu.Unlock() }))
	if fast {
		rec.Dialect = st.Dialect
	}

	const writers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- writeOne(ctx, st.Client, rec, uid, false)
				if w%2 == 0 {
					errs <- writeFeed(ctx, st.Client, rec, uid, 2)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// A rolled-back decision leaves neither audit nor feed rows.
	require.Error(t, writeOne(ctx, st.Client, rec, uid, true))

	events, err := st.Client.AuditEvent.Query().Where(auditevent.UserID(uid)).Order(ent.Asc(auditevent.FieldSeq)).All(ctx)
	require.NoError(t, err)
	require.Len(t, events, writers*each)
	for i, ev := range events {
		require.Equal(t, int64(i+1), ev.Seq)
		require.Equal(t, uid, ev.Actor)
		require.Equal(t, "req-1", ev.RequestID)
	}
	require.NoError(t, record.VerifyChain(ctx, st.Client, uid))

	feed, err := st.Client.FeedEvent.Query().Where(feedevent.UserID(uid)).Order(ent.Asc(feedevent.FieldSeq)).All(ctx)
	require.NoError(t, err)
	feedOnly := writers / 2 * each * 2
	require.Len(t, feed, 2*writers*each+feedOnly, "one announcement per committed audit event, and every feed event")
	audited := map[string]bool{}
	for _, ev := range events {
		audited[ev.ID] = true
	}
	for i, fe := range feed {
		require.Equal(t, int64(i+1), fe.Seq, "feed cursors are contiguous per user")
		switch fe.Kind {
		case feedevent.KindAUDIT_EVENT:
			require.True(t, audited[fe.EntityID], "an announcement names its audit event")
			require.Equal(t, "create", fe.Payload["action"])
			// Announced right before the decision's own feed event.
			require.Less(t, i+1, len(feed))
			require.Equal(t, feedevent.KindINSIGHT_CREATED, feed[i+1].Kind)
		case feedevent.KindINSIGHT_CREATED:
			require.Equal(t, "hrv", fe.Payload["metric"])
		case feedevent.KindINSIGHT_UPDATED:
			require.Nil(t, fe.Payload)
		}
	}
	require.Equal(t, writers*each+writers/2*each, notified, "notified once per commit, never for the rollback")

	// Tampering with a stored event is detected.
	_, err = st.DB.ExecContext(bg, rebind(st.Dialect, `UPDATE audit_events SET reason = 'edited' WHERE seq = 3 AND user_id = ?`), uid)
	require.NoError(t, err)
	require.ErrorContains(t, record.VerifyChain(ctx, st.Client, uid), "audit event 3 was altered")
}

func rebind(dialect, q string) string {
	if dialect == "postgres" {
		return strings.Replace(q, "?", "$1", 1)
	}
	return q
}
