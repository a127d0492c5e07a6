package stewardship_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/migrate"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const (
	qCheckpoint = `{ auditCheckpoint { seq headHash signedAt keyID signature } }`
	qVerify     = `query($cp: AuditCheckpointInput) { verifyAuditTrail(against: $cp) { ok events headSeq checkedAgainst problems { seq kind message } checkpoint { seq keyID } } }`
	qKeys       = `{ auditPublicKeys { keyID publicKey } }`
	mExport     = `mutation($u: ID) { requestDataExport(userID: $u) { id status } }`
	qExport     = `query($id: ID!) { dataExport(id: $id) { id userID status progress downloadUrl sha256 bytes expiresAt } }`
	mDelete     = `mutation($pw: String, $u: ID, $r: String) { deleteAccount(password: $pw, userID: $u, reason: $r) { deletedUserID erasedRows } }`
)

type checkpointJSON struct {
	Seq       int       `json:"seq"`
	HeadHash  string    `json:"headHash"`
	SignedAt  time.Time `json:"signedAt"`
	KeyID     string    `json:"keyID"`
	Signature string    `json:"signature"`
}

func seedGolden(t *testing.T, srv *servertest.Server, uid, scenario string) {
	t.Helper()
	c := &golden.Client{Handler: srv.App.Handler(), UserID: uid}
	require.NoError(t, golden.Run(context.Background(), c, golden.Cases(), scenario, srv.App.SetClock))
	srv.App.SetClock(time.Time{})
}

// dbRows returns, per owned table, the ids of userID's rows straight from SQL.
func dbRows(t *testing.T, st *server.Store, userID string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range datarights.OwnedTables() {
		rows, err := datarights.Rows(context.Background(), st.DB, st.Dialect, table, "user_id", userID)
		require.NoError(t, err)
		for _, r := range rows {
			out[table] = append(out[table], fmt.Sprint(r["id"]))
		}
		sort.Strings(out[table])
	}
	return out
}

// occurrences scans every column of every table for s and returns the
// number of rows per table containing it.
func occurrences(t *testing.T, st *server.Store, s string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range migrate.Tables {
		rows, err := st.DB.QueryContext(context.Background(), `SELECT * FROM `+tbl.Name)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for _, v := range vals {
				var str string
				switch x := v.(type) {
				case []byte:
					str = string(x)
				default:
					str = fmt.Sprint(x)
				}
				if strings.Contains(str, s) {
					out[tbl.Name]++
					break
				}
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

func download(t *testing.T, srv *servertest.Server, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// TestExportAndDeleteAccount: the export holds every row of the user
// (table by table against the database) and none of another user's; the
// audit trail in it verifies with auditverify against the signed
// checkpoint; deleting the account leaves only the tombstone, closes the
// user's live subscription, refuses the user afterwards and leaves the
// other user intact.
func TestExportAndDeleteAccount(t *testing.T) {
	t.Parallel()
	for _, b := range servertest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := b.Open(t)
			srv := servertest.NewServer(t, st, nil)
			bg := context.Background()
			a := srv.CreateUser(t, "alice@example.com")
			o := srv.CreateUser(t, "olga@example.com")
			seedGolden(t, srv, a, "g1_clean")
			seedGolden(t, srv, o, "g4a_swing")
			hash, err := auth.HashPassword("correct horse battery", auth.DefaultArgon2)
			require.NoError(t, err)
			require.NoError(t, st.Client.User.UpdateOneID(a).SetPasswordHash(hash).SetSafetyFlags([]string{"PREGNANT"}).Exec(viewer.System(bg)))

			// A checkpoint kept by the client, and the public keys.
			var cpResp struct{ AuditCheckpoint checkpointJSON }
			srv.Do(t, a, qCheckpoint, nil).Decode(t, &cpResp)
			cp := cpResp.AuditCheckpoint
			require.Positive(t, cp.Seq)
			var keysResp struct {
				AuditPublicKeys []struct{ KeyID, PublicKey string }
			}
			srv.Do(t, a, qKeys, nil).Decode(t, &keysResp)
			keys := auditverify.PublicKeys{}
			for _, k := range keysResp.AuditPublicKeys {
				pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
				require.NoError(t, err)
				keys[k.KeyID] = pub
			}
			var ver struct {
				VerifyAuditTrail struct {
					Ok, CheckedAgainst bool
					Events, HeadSeq    int
					Problems           []struct {
						Seq           int
						Kind, Message string
					}
				}
			}
			srv.Do(t, a, qVerify, map[string]any{"cp": cp}).Decode(t, &ver)
			require.True(t, ver.VerifyAuditTrail.Ok && ver.VerifyAuditTrail.CheckedAgainst, "%+v", ver.VerifyAuditTrail.Problems)
			require.Equal(t, cp.Seq, ver.VerifyAuditTrail.HeadSeq)

			// Another user cannot export alice's data; alice cannot read olga's checkpoint.
			r := srv.Do(t, o, mExport, map[string]any{"u": a})
			require.Equal(t, []string{"EFORBIDDEN"}, r.Codes())

			// Export.
			var req struct{ RequestDataExport struct{ ID, Status string } }
			srv.Do(t, a, mExport, nil).Decode(t, &req)
			id := req.RequestDataExport.ID
			var ex struct {
				DataExport *struct {
					ID, UserID, Status string
					Progress           float64
					DownloadURL        *string
					Sha256             *string
				}
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				srv.Do(t, a, qExport, map[string]any{"id": id}).Decode(t, &ex)
				require.NotNil(t, ex.DataExport)
				if ex.DataExport.Status == "READY" || ex.DataExport.Status == "FAILED" || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.Equal(t, "READY", ex.DataExport.Status)
			require.InDelta(t, 1.0, ex.DataExport.Progress, 1e-9)
			// Olga does not see alice's export, nor can she download it without the token.
			var other struct{ DataExport *struct{ ID string } }
			srv.Do(t, o, qExport, map[string]any{"id": id}).Decode(t, &other)
			require.Nil(t, other.DataExport)
			code, _ := download(t, srv, "/exports/"+id+"?token=wrong")
			require.Equal(t, http.StatusNotFound, code)
			code, archive := download(t, srv, *ex.DataExport.DownloadURL)
			require.Equal(t, http.StatusOK, code)

			zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
			require.NoError(t, err)
			files := map[string][]byte{}
			for _, f := range zr.File {
				rc, err := f.Open()
				require.NoError(t, err)
				files[f.Name], err = io.ReadAll(rc)
				require.NoError(t, err)
				rc.Close()
			}
			require.NotContains(t, string(archive), o, "no row of another user")
			require.NotContains(t, string(archive), "olga@example.com")
			require.NotContains(t, string(archive), "$argon2", "no password hash")
			var manifest struct {
				UserID          string
				Rows            map[string]int
				SHA256          map[string]string `json:"sha256"`
				AuditCheckpoint auditverify.Checkpoint
			}
			require.NoError(t, json.Unmarshal(files["manifest.json"], &manifest))
			require.Equal(t, a, manifest.UserID)

			// Table by table against the database. Rows written after the
			// snapshot are only the export_ready audit event and its feed row.
			inDB := dbRows(t, st, a)
			exportedAny := 0
			for table, ids := range inDB {
				var got []string
				sc := bufio.NewScanner(bytes.NewReader(files[table+".ndjson"]))
				sc.Buffer(make([]byte, 1<<20), 1<<24)
				for sc.Scan() {
					var row map[string]any
					require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
					require.Equal(t, a, row["user_id"], table)
					got = append(got, fmt.Sprint(row["id"]))
				}
				sort.Strings(got)
				require.Equal(t, len(got), manifest.Rows[table], table)
				exportedAny += len(got)
				missing := diff(ids, got)
				switch table {
				case "audit_events", "feed_events":
					require.LessOrEqual(t, len(missing), 1, "%s: only the export_ready event is newer than the archive: %v", table, missing)
				default:
					require.Empty(t, missing, "%s rows missing from the export", table)
				}
				require.Empty(t, diff(got, ids), "%s: exported rows that are not the user's", table)
			}
			for _, table := range []string{"observations", "baselines", "interventions", "evaluations", "narratives", "audit_events"} {
				require.Positive(t, manifest.Rows[table], "golden scenario leaves %s rows", table)
			}
			var u map[string]any
			require.NoError(t, json.Unmarshal(files["user.json"], &u))
			require.Equal(t, "alice@example.com", u["email"])
			require.NotContains(t, u, "password_hash")

			// The trail in the export verifies on its own, and against the signed checkpoint.
			var trail []auditverify.Event
			sc := bufio.NewScanner(bytes.NewReader(files["audit_trail.ndjson"]))
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			for sc.Scan() {
				var ev auditverify.Event
				require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
				trail = append(trail, ev)
			}
			rep := auditverify.VerifyChain(a, trail)
			require.True(t, rep.OK(), "%+v", rep.Problems)
			require.Empty(t, auditverify.VerifyAgainst(trail, manifest.AuditCheckpoint, keys))
			kept := auditverify.Checkpoint{UserID: a, Seq: int64(cp.Seq), HeadHash: cp.HeadHash, SignedAt: cp.SignedAt, KeyID: cp.KeyID, Signature: cp.Signature}
			require.Empty(t, auditverify.VerifyAgainst(trail, kept, keys))

			// Deletion: an open subscription of alice, a wrong password refused.
			sub, err := srv.App.Feed.Subscribe(bg, a, feed.Cursor(-1), feed.Filter{})
			require.NoError(t, err)
			osub, err := srv.App.Feed.Subscribe(bg, o, feed.Cursor(-1), feed.Filter{})
			require.NoError(t, err)
			r = srv.Do(t, a, mDelete, map[string]any{"pw": "wrong password!"})
			require.Equal(t, []string{"EUNAUTHORIZED"}, r.Codes())
			r = srv.Do(t, o, mDelete, map[string]any{"u": a, "r": "x"})
			require.Equal(t, []string{"EFORBIDDEN"}, r.Codes(), "only an admin deletes someone else")
			oBefore := dbRows(t, st, o)

			var del struct {
				DeleteAccount struct {
					DeletedUserID string
					ErasedRows    map[string]float64
				}
			}
			srv.Do(t, a, mDelete, map[string]any{"pw": "correct horse battery"}).Decode(t, &del)
			require.Equal(t, a, del.DeleteAccount.DeletedUserID)
			require.InDelta(t, float64(len(inDB["observations"])), del.DeleteAccount.ErasedRows["observations"], 0)

			select {
			case _, open := <-sub.C:
				for open {
					_, open = <-sub.C
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the deleted user's subscription is still open")
			}
			require.Error(t, sub.Err())
			select {
			case <-osub.C:
				t.Fatal("another user's subscription was closed")
			case <-time.After(100 * time.Millisecond):
			}

			// A loop run already queued for alice finds nothing to do.
			_, _ = srv.App.Loop.Run(viewer.System(bg), st.Client, a)
			// Only the tombstone carries alice's id: the scrubbed user row and one audit event.
			occ := occurrences(t, st, a)
			require.Equal(t, map[string]int{"users": 1, "audit_events": 1}, occ)
			require.Empty(t, occurrences(t, st, "alice@example.com"))
			tomb, err := st.Client.User.Get(viewer.System(bg), a)
			require.NoError(t, err)
			require.Nil(t, tomb.Email)
			require.Nil(t, tomb.PasswordHash)
			require.Empty(t, tomb.SafetyFlags)
			require.NotNil(t, tomb.DeletedAt)
			ev, err := st.Client.AuditEvent.Query().Only(viewer.NewContext(bg, viewer.Viewer{UserID: a, Role: viewer.RoleUser}))
			require.NoError(t, err)
			require.Equal(t, "delete_account", ev.Action)
			require.Equal(t, int64(cp.Seq), ev.Seq-1-2, "the tombstone continues the chain (after export_requested and export_ready)")
			// Its details: counts and who, no health data.
			for k := range ev.Details {
				require.Contains(t, []string{"erasedRows", "requestedBy", "previousSeq", "previousHead"}, k)
			}

			// The deleted user is refused; the other user is untouched and verifies.
			r = srv.Do(t, a, qCheckpoint, nil)
			require.Equal(t, []string{"EUNAUTHORIZED"}, r.Codes())
			require.Equal(t, oBefore, dbRows(t, st, o))
			srv.Do(t, o, qVerify, nil).Decode(t, &ver)
			require.True(t, ver.VerifyAuditTrail.Ok, "%+v", ver.VerifyAuditTrail.Problems)
			// The export is gone with the account.
			code, _ = download(t, srv, *ex.DataExport.DownloadURL)
			require.Equal(t, http.StatusNotFound, code)
		})
	}
}

// TestAdminExportAndDelete: an admin exports and deletes another user's
// account (reason required), and the tombstone names the admin.
func TestAdminExportAndDelete(t *testing.T) {
	t.Parallel()
	st := servertest.NewSQLiteStore(t)
	srv := servertest.NewServer(t, st, nil)
	bg := context.Background()
	u := srv.CreateUser(t, "user@example.com")
	admin, err := server.EnsureUser(bg, st.Client, "admin@example.com", "admin", user.RoleADMIN)
	require.NoError(t, err)
	writeEvents(t, st, u, 2)

	var req struct{ RequestDataExport struct{ ID string } }
	srv.Do(t, admin, mExport, map[string]any{"u": u}).Decode(t, &req)
	srv.App.Rights.Wait()
	var ex struct {
		DataExport struct{ UserID, Status string }
	}
	srv.Do(t, admin, qExport, map[string]any{"id": req.RequestDataExport.ID}).Decode(t, &ex)
	require.Equal(t, u, ex.DataExport.UserID)
	require.Equal(t, "READY", ex.DataExport.Status)

	r := srv.Do(t, admin, mDelete, map[string]any{"u": u})
	require.Equal(t, []string{"EINVALID"}, r.Codes(), "an admin must give a reason")
	var del struct {
		DeleteAccount struct{ DeletedUserID string }
	}
	srv.Do(t, admin, mDelete, map[string]any{"u": u, "r": "support ticket 42"}).Decode(t, &del)
	require.Equal(t, u, del.DeleteAccount.DeletedUserID)
	ev, err := st.Client.AuditEvent.Query().Only(viewer.NewContext(bg, viewer.Viewer{UserID: u, Role: viewer.RoleUser}))
	require.NoError(t, err)
	require.Equal(t, "admin", ev.Details["requestedBy"])
	require.Equal(t, admin, ev.Details["admin"])
	r = srv.Do(t, admin, mDelete, map[string]any{"u": u, "r": "again"})
	require.Equal(t, []string{"ECONFLICT"}, r.Codes())
}

func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
