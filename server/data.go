package server

import (
	"net/http"
	"os"
	"strconv"

	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/engine"
)

// setupDataRights wires audit checkpoints, data export and account deletion
// (app/datarights). The checkpoint key ring is AUDIT_KEYS_FILE, else
// DATA_DIR/audit-keys.json (created with a first key); tests without a
// DATA_DIR get a throwaway ring.
func (a *App) setupDataRights() error {
	path := a.Config.AuditKeysFile
	if path == "" {
		dir := a.Config.DataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "vitalgraph-audit-keys-")
			if err != nil {
				return err
			}
			dir = tmp
		}
		path = datarights.DefaultKeysPath(dir)
	}
	a.Rights = &datarights.Service{
		Client: a.Store.Client, DB: a.Store.DB, Dialect: a.Store.Dialect, Recorder: a.Recorder,
		Checkpoints: &datarights.Checkpointer{Path: path}, Exports: datarights.NewRedisExportStore(a.Redis), Log: a.Log,
		CloseSubscriptions: func(userID string) {
			a.Feed.CloseUser(userID, engine.Errorf(engine.EUNAUTHORIZED, "the account was deleted"))
		},
		ForgetDerived: func(userID string) {
			if a.Loop != nil {
				a.Loop.Forget(userID)
			}
		},
	}
	return nil
}

// exportDownload serves a finished data export: GET /exports/{id}?token=…
// The token is the secret of the link returned by Query.dataExport; the
// link dies when the export expires (default 24h).
func (a *App) exportDownload(w http.ResponseWriter, r *http.Request) {
	data, e, err := a.Rights.Exports.Download(r.PathValue("id"), r.URL.Query().Get("token"), a.clock())
	if err != nil {
		http.Error(w, "not found or expired", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="vitalgraph-export-`+e.ID+`.zip"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-SHA256", e.SHA256)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data) //nolint:gosec // a zip served as an attachment with nosniff, never rendered as HTML
}
