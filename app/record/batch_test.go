package record_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// TestBatchWritesWhatOneByOneWrites: the same decisions written one by one
// and as a batch give the same trail (sequence numbers, contents, feed
// order, announcements of each audit event), the chain verifies across
// single and batched writes, and a rolled-back batch leaves nothing.
func TestBatchWritesWhatOneByOneWrites(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			defer st.Close()
			bg := context.Background()
			at := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)
			var committed []string
			rec := &record.Recorder{Now: func() time.Time { return at }, Committed: func(a record.Audit) { committed = append(committed, a.Decision) }}
			audit := func(uid string, i int) record.Audit {
				return record.Audit{
					UserID: uid, EntityType: "Insight", EntityID: fmt.Sprintf("ins_%d", i), Action: "create",
					Decision: fmt.Sprintf("d%d", i), Reason: "test", Details: map[string]any{"n": i, "windows": []string{"2026-03-01"}},
				}
			}
			// Audit, feed, audit, audit, feed: twice, then once more in a batch of 1,500 (two INSERTs).
			script := []int{1, 0, 2, 3, 0}
			write := func(uid string, batched bool, n int) {
				ctx := viewer.NewContext(bg, viewer.Viewer{UserID: uid, Role: viewer.RoleUser, RequestID: "req-1"})
				tx, err := st.Client.Tx(ctx)
				require.NoError(t, err)
				batch := rec.NewBatch(uid)
				for i := range n {
					for _, s := range script {
						switch {
						case s == 0 && batched:
							batch.Feed(feedevent.KindINSIGHT_CREATED, fmt.Sprintf("ins_%d", i), map[string]any{"i": i})
						case s == 0:
							_, err = rec.Feed(ctx, tx, uid, feedevent.KindINSIGHT_CREATED, fmt.Sprintf("ins_%d", i), map[string]any{"i": i})
						case batched:
							err = batch.Audit(audit(uid, 10*i+s))
						default:
							_, err = rec.Audit(ctx, tx, audit(uid, 10*i+s))
						}
						require.NoError(t, err)
					}
				}
				require.NoError(t, batch.Flush(ctx, tx))
				require.NoError(t, tx.Commit())
			}
			trail := func(uid string) (audits, feed []string) {
				ctx := viewer.System(bg)
				evs, err := st.Client.AuditEvent.Query().Where(auditevent.UserID(uid)).Order(ent.Asc(auditevent.FieldSeq)).All(ctx)
				require.NoError(t, err)
				ids := map[string]int64{}
				for i, ev := range evs {
					require.Equal(t, int64(i+1), ev.Seq)
					ids[ev.ID] = ev.Seq
					require.Equal(t, uid, ev.Actor)
					audits = append(audits, fmt.Sprintf("%d %s %s %s %s %v %s %s", ev.Seq, ev.EntityID, ev.Decision, ev.Reason,
						ev.Action, ev.Details, ev.RequestID, ev.CreatedAt.UTC()))
				}
				fes, err := st.Client.FeedEvent.Query().Where(feedevent.UserID(uid)).Order(ent.Asc(feedevent.FieldSeq)).All(ctx)
				require.NoError(t, err)
				for i, fe := range fes {
					require.Equal(t, int64(i+1), fe.Seq)
					entity := fe.EntityID
					if fe.Kind == feedevent.KindAUDIT_EVENT {
						seq, ok := ids[fe.EntityID]
						require.True(t, ok, "an audit announcement names a stored audit event")
						entity = fmt.Sprint("audit#", seq)
					}
					feed = append(feed, fmt.Sprintf("%s %s %v %s", fe.Kind, entity, fe.Payload, fe.CreatedAt.UTC()))
				}
				require.NoError(t, record.VerifyChain(ctx, st.Client, uid))
				return audits, feed
			}
			one, err := server.EnsureUser(bg, st.Client, "one@example.com", "one", user.RoleUSER)
			require.NoError(t, err)
			two, err := server.EnsureUser(bg, st.Client, "two@example.com", "two", user.RoleUSER)
			require.NoError(t, err)
			write(one, false, 2)
			write(two, true, 2)
			a1, f1 := trail(one)
			a2, f2 := trail(two)
			require.Equal(t, a1, a2)
			require.Equal(t, f1, f2)
			require.Len(t, committed, 12)
			require.ElementsMatch(t, committed[:6], committed[6:], "each audit event is reported once its transaction commits")

			// A batch after single writes continues the chain; a long one takes two INSERTs.
			write(two, true, 300)
			a2, f2 = trail(two)
			require.Len(t, a2, 6+900)
			require.Len(t, f2, 10+1500)

			// A rolled-back batch leaves nothing and reports nothing.
			ctx := viewer.NewContext(bg, viewer.Viewer{UserID: two, Role: viewer.RoleUser})
			tx, err := st.Client.Tx(ctx)
			require.NoError(t, err)
			batch := rec.NewBatch(two)
			require.NoError(t, batch.Audit(audit(two, 1)))
			require.NoError(t, batch.Flush(ctx, tx))
			require.NoError(t, tx.Rollback())
			n := len(committed)
			a3, f3 := trail(two)
			require.Equal(t, a2, a3)
			require.Equal(t, f2, f3)
			require.Len(t, committed, n)

			// A bad event is refused before anything is written.
			require.Error(t, rec.NewBatch(two).Audit(record.Audit{UserID: two}))
			require.Error(t, rec.NewBatch(two).Audit(audit(one, 1)), "another user's event")
		})
	}
}
