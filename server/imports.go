package server

import (
	"bytes"
	"context"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/healthimport"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// uploadFormOverhead is what a multipart upload may carry besides the file:
// the operations and map parts and the part headers.
const uploadFormOverhead = 1 << 20

// preflightHeaders are the headers one of which a multipart request must
// carry (besides Authorization): a browser sends none of them cross-site
// without a CORS preflight, so a form on another site cannot upload.
var preflightHeaders = []string{"GraphQL-Preflight", "Apollo-Require-Preflight"}

// setupImports builds the uploaded files' import service (importHealthData
// and its job).
func (a *App) setupImports() {
	ic := a.Config.Providers.Imports
	dir := ic.SpoolDir
	if dir == "" {
		dir = filepath.Join(a.Config.DataDir, "imports")
	}
	if err := probeSpool(dir); err != nil {
		// A read-only file system (the k8s manifests) without a shared
		// spool volume: importHealthData answers that uploads are off.
		a.Log.Warn("uploads are disabled: the spool folder is not writable (set IMPORT_SPOOL_DIR to a volume the api and the worker share)",
			slog.String("dir", dir), slog.String("error", err.Error()))
		dir = ""
	}
	a.Importer = &importer.Service{
		Client: a.Store.Client, Ingest: a.Ingest, Recorder: a.Recorder,
		Uploads: importer.Uploads{Dir: dir, MaxBytes: ic.MaxBytes, ProgressInterval: ic.ProgressInterval},
	}
}

// probeSpool checks that files can be written in dir.
func probeSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		return err
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// multipartTransport is the GraphQL multipart request spec transport:
// the file may be the upload limit, the operations and map parts the usual
// body limit; bodies above 1 MiB are buffered on disk, not in memory.
func (a *App) multipartTransport() transport.MultipartForm {
	return transport.MultipartForm{MaxUploadSize: a.uploadBodyLimit(), MaxMemory: 1 << 20}
}

func (a *App) uploadBodyLimit() int64 {
	return a.Config.Providers.Imports.MaxBytes + uploadFormOverhead
}

// isMultipart reports whether r is a multipart/form-data POST (a GraphQL
// upload).
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mt == "multipart/form-data"
}

// serveUpload checks a multipart GraphQL request before gqlgen reads it:
// it must carry Authorization or a preflight header (CSRF: a cross-site
// form can send multipart/form-data without a preflight, but no custom
// header), declare its length (411 EINVALID otherwise) and stay within the
// upload limit (413 ELIMIT). Its read deadline is the upload timeout, not
// the server's 30 s. gqlgen's own complaints about a malformed multipart
// body become 422 EINVALID.
func (a *App) serveUpload(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ok := r.Header.Get("Authorization") != ""
	for _, h := range preflightHeaders {
		ok = ok || r.Header.Get(h) != ""
	}
	if !ok {
		limits.WriteError(w, http.StatusBadRequest, engine.EINVALID,
			"a multipart upload needs an Authorization header or a GraphQL-Preflight: 1 header")
		return
	}
	if r.ContentLength < 0 {
		limits.WriteError(w, http.StatusLengthRequired, engine.EINVALID, "a multipart upload needs a Content-Length")
		return
	}
	if r.ContentLength > a.uploadBodyLimit() {
		limits.WriteError(w, http.StatusRequestEntityTooLarge, engine.ELIMIT, "the upload is larger than the upload limit")
		return
	}
	timeout := a.Config.Providers.Imports.UploadTimeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	cw := &codedWriter{ResponseWriter: w}
	next.ServeHTTP(cw, r)
	cw.flush()
}

// codedWriter holds back a 4xx response without an error code (gqlgen's
// multipart transport writes `{"errors":[{"message":…}]}` for a malformed
// form) and writes a coded EINVALID instead; any other response passes.
type codedWriter struct {
	http.ResponseWriter
	status int
	held   bytes.Buffer
}

func (c *codedWriter) WriteHeader(code int) {
	if c.status != 0 {
		return
	}
	c.status = code
	if code < 400 || code >= 500 || code == http.StatusRequestEntityTooLarge {
		c.ResponseWriter.WriteHeader(code)
	}
}

func (c *codedWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.holding() {
		return c.held.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *codedWriter) holding() bool {
	return c.status >= 400 && c.status < 500 && c.status != http.StatusRequestEntityTooLarge
}

func (c *codedWriter) flush() {
	if !c.holding() {
		return
	}
	if bytes.Contains(c.held.Bytes(), []byte(`"code"`)) {
		c.ResponseWriter.WriteHeader(c.status)
		_, _ = c.ResponseWriter.Write(c.held.Bytes())
		return
	}
	code, msg := engine.EINVALID, "the multipart request is malformed: send the operations part, then the map part, then the files (GraphQL multipart request spec)"
	if bytes.Contains(c.held.Bytes(), []byte("too large")) {
		code, msg = engine.ELIMIT, "the upload is larger than the upload limit"
	}
	limits.WriteError(c.ResponseWriter, c.status, code, msg)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *codedWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// runImportJob is the background import of one uploaded file, as the system.
func (a *App) runImportJob(ctx context.Context, importID string) error {
	err := a.Importer.Run(ctx, importID)
	if err != nil {
		a.Log.WarnContext(ctx, "import failed; it will be retried", slog.String("import_id", importID),
			slog.String("code", engine.ErrorCode(err)), slog.String("error", engine.ErrorMessage(err)))
	}
	return err
}

// resumeImports queues again every import a crash or a restart left QUEUED
// or RUNNING: its job resumes where it stopped (app/importer.Service.Run).
// Called when a process that works the job queue starts (serve with the
// in-process queue or WORKER_IN_PROCESS, `vitalgraph worker`).
func (a *App) resumeImports(ctx context.Context) {
	ids, err := a.Store.Client.HealthImport.Query().
		Where(healthimport.StatusIn(healthimport.StatusQUEUED, healthimport.StatusRUNNING)).IDs(viewer.System(ctx))
	if err != nil {
		a.Log.WarnContext(ctx, "listing unfinished imports failed", slog.String("error", err.Error()))
		return
	}
	for _, id := range ids {
		if err := a.Jobs.EnqueueImport(ctx, id); err != nil {
			a.Log.WarnContext(ctx, "re-queueing an import failed", slog.String("import_id", id), slog.String("error", err.Error()))
		}
	}
}
