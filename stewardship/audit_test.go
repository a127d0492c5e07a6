// Package stewardship_test holds the end-to-end tests of data stewardship
// (issue 16) on real PostgreSQL and SQLite: audit verification and signed
// checkpoints, data export and account deletion, backup/restore and
// anonymization. They live outside app/ because they drive a real server
// (server/servertest), which app/ packages must not import.
package stewardship_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func q(st *server.Store, s string) string {
	if st.Dialect != dialect.Postgres {
		return s
	}
	out, n := []byte{}, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

func writeEvents(t *testing.T, st *server.Store, userID string, n int) {
	t.Helper()
	ctx := viewer.System(context.Background())
	rec := record.New(nil)
	for i := range n {
		tx, err := st.Client.Tx(ctx)
		require.NoError(t, err)
		_, err = rec.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "Insight", EntityID: fmt.Sprintf("ins_%d", i), Action: "create",
			Decision: "created", Reason: "test", Details: map[string]any{"threshold": 3.5, "i": i},
		})
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
}

// TestAuditVerifyTamperingAndCheckpoints: an edited row is reported with
// its seq and what changed; a consistent rewrite of the whole chain passes
// the chain check but not a checkpoint kept before it; checkpoints signed
// before a key rotation still verify after it.
func TestAuditVerifyTamperingAndCheckpoints(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			defer st.Close()
			bg := context.Background()
			ctx := viewer.System(bg)
			uid, err := server.EnsureUser(bg, st.Client, "a@example.com", "a", user.RoleUSER)
			require.NoError(t, err)
			other, err := server.EnsureUser(bg, st.Client, "b@example.com", "b", user.RoleUSER)
			require.NoError(t, err)
			writeEvents(t, st, uid, 6)
			writeEvents(t, st, other, 3)

			cps := &datarights.Checkpointer{Path: filepath.Join(t.TempDir(), "audit-keys.json")}
			v, err := cps.Verify(ctx, st.Client, uid, nil)
			require.NoError(t, err)
			require.True(t, v.OK(), "%+v", v.Problems)
			require.Equal(t, int64(6), v.HeadSeq)

			cp1, err := cps.Checkpoint(ctx, st.Client, uid)
			require.NoError(t, err)
			require.Equal(t, int64(6), cp1.Seq)
			require.Equal(t, v.HeadHash, cp1.HeadHash)

			// Rotation: a new signing key; the old checkpoint still verifies.
			kid2, err := datarights.RotateKey(cps.Path, time.Now())
			require.NoError(t, err)
			require.NotEqual(t, cp1.KeyID, kid2)
			writeEvents(t, st, uid, 1)
			cp2, err := cps.Checkpoint(ctx, st.Client, uid)
			require.NoError(t, err)
			require.Equal(t, kid2, cp2.KeyID)
			keys, err := cps.PublicKeys()
			require.NoError(t, err)
			require.Len(t, keys, 2)
			require.NoError(t, cp1.VerifySignature(keys))
			require.NoError(t, cp2.VerifySignature(keys))
			v, err = cps.Verify(ctx, st.Client, uid, &cp1)
			require.NoError(t, err)
			require.True(t, v.OK() && v.CheckedAgainst, "%+v", v.Problems)
			// A forged checkpoint (other head, same signature) does not verify,
			// nor does a checkpoint of another user.
			forged := cp1
			forged.HeadHash = "00" + forged.HeadHash[2:]
			v, err = cps.Verify(ctx, st.Client, uid, &forged)
			require.NoError(t, err)
			require.False(t, v.OK())
			require.Equal(t, auditverify.KindSignature, v.Problems[0].Kind)
			v, err = cps.Verify(ctx, st.Client, other, &cp1)
			require.NoError(t, err)
			require.False(t, v.OK())

			// One row edited with SQL: reported, with seq and what changed.
			_, err = st.DB.ExecContext(bg, q(st, `UPDATE audit_events SET decision = 'suppressed' WHERE user_id = ? AND seq = 3`), uid)
			require.NoError(t, err)
			rep, err := record.Verify(ctx, st.Client, uid)
			require.NoError(t, err)
			require.Len(t, rep.Problems, 1, "%+v", rep.Problems)
			p := rep.Problems[0]
			require.Equal(t, int64(3), p.Seq)
			require.Equal(t, auditverify.KindAltered, p.Kind)
			require.Contains(t, p.Message, `decision changed from "created" to "suppressed"`)
			require.Error(t, record.VerifyChain(ctx, st.Client, uid))
			ok, err := cps.Verify(ctx, st.Client, other, nil)
			require.NoError(t, err)
			require.True(t, ok.OK(), "the other user's chain is untouched")

			// Rewrite the chain consistently from seq 3 on (and the head on
			// the user row): the chain alone verifies again...
			events, err := record.Events(ctx, st.Client, uid)
			require.NoError(t, err)
			prev := events[1].Hash
			for i := 2; i < len(events); i++ {
				ev := events[i]
				ev.PrevHash = prev
				h, err := auditverify.Hash(ev)
				require.NoError(t, err)
				_, err = st.DB.ExecContext(bg, q(st, `UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?`), prev, h, ev.ID)
				require.NoError(t, err)
				prev = h
			}
			_, err = st.DB.ExecContext(bg, q(st, `UPDATE users SET audit_head = ? WHERE id = ?`), prev, uid)
			require.NoError(t, err)
			v, err = cps.Verify(ctx, st.Client, uid, nil)
			require.NoError(t, err)
			require.True(t, v.OK(), "a consistent rewrite passes the chain check: %+v", v.Problems)
			// ...but not the checkpoints kept before the rewrite, whichever key signed them.
			for _, cp := range []auditverify.Checkpoint{cp1, cp2} {
				v, err = cps.Verify(ctx, st.Client, uid, &cp)
				require.NoError(t, err)
				require.False(t, v.OK())
				require.Equal(t, auditverify.KindRewritten, v.Problems[0].Kind)
				require.Equal(t, cp.Seq, v.Problems[0].Seq)
			}

			// A deleted row is a gap.
			_, err = st.DB.ExecContext(bg, q(st, `DELETE FROM audit_events WHERE user_id = ? AND seq = 2`), uid)
			require.NoError(t, err)
			rep, err = record.Verify(ctx, st.Client, uid)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Problems)
			require.Equal(t, auditverify.KindGap, rep.Problems[0].Kind)
			require.Equal(t, int64(3), rep.Problems[0].Seq)
		})
	}
}
