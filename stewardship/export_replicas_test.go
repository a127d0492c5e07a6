package stewardship_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// TestExportAcrossReplicas: with Redis, an export requested on one replica
// is visible and downloadable on another, and deleting the account on the
// second drops it everywhere.
func TestExportAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := servertest.NewPostgresSchema(t)
	open := func() *server.Store {
		st, err := server.OpenPostgres(ctx, dbURL)
		require.NoError(t, err)
		return st
	}
	st1 := open()
	_, err := st1.Migrate(ctx)
	require.NoError(t, err)
	redisCfg := func(c *server.Config) { c.RedisURL = servertest.RedisURL() }
	a := servertest.NewServer(t, st1, redisCfg)
	b := servertest.NewServer(t, open(), redisCfg)
	uid := a.CreateUser(t, "replica@example.com")
	writeEvents(t, st1, uid, 3)

	var req struct{ RequestDataExport struct{ ID string } }
	a.Do(t, uid, mExport, nil).Decode(t, &req)
	a.App.Rights.Wait()
	var ex struct {
		DataExport *struct {
			Status      string
			DownloadURL *string
		}
	}
	b.Do(t, uid, qExport, map[string]any{"id": req.RequestDataExport.ID}).Decode(t, &ex)
	require.NotNil(t, ex.DataExport, "the other replica sees the export")
	require.Equal(t, "READY", ex.DataExport.Status)
	code, body := download(t, b, *ex.DataExport.DownloadURL)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "PK", string(body[:2]), "a zip archive")

	// An admin deletes the account through replica b.
	admin := b.CreateUser(t, "admin-replica@example.com")
	_, err = st1.DB.ExecContext(ctx, `UPDATE users SET role = 'ADMIN' WHERE id = $1`, admin)
	require.NoError(t, err)
	var del struct {
		DeleteAccount struct{ DeletedUserID string }
	}
	b.Do(t, admin, mDelete, map[string]any{"u": uid, "r": "test"}).Decode(t, &del)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ = download(t, a, *ex.DataExport.DownloadURL); code == http.StatusNotFound {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, http.StatusNotFound, code, "the archive is gone on every replica")
}
