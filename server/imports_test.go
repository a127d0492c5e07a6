package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/importer/applegen"
	appingest "github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/healthimport"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

const importMutation = `mutation($file: Upload!, $format: HealthImportFormat!, $mapping: CsvMappingInput) {
  importHealthData(file: $file, format: $format, mapping: $mapping) { id status fileName sizeBytes }
}`

type importView struct {
	ID             string  `json:"id"`
	Status         string  `json:"status"`
	FileName       string  `json:"fileName"`
	SizeBytes      int64   `json:"sizeBytes"`
	RecordsRead    int64   `json:"recordsRead"`
	Samples        int     `json:"samples"`
	Stored         int     `json:"stored"`
	AlreadyStored  int     `json:"alreadyStored"`
	Rejected       int     `json:"rejected"`
	SkippedRecords int64   `json:"skippedRecords"`
	ErrorCode      *string `json:"errorCode"`
}

// uploadRequest is a GraphQL multipart request (operations, map, file) as
// curl -F or a browser's FormData sends it.
func uploadRequest(t *testing.T, baseURL, userID, format string, mapping map[string]any, name string, file []byte, headers map[string]string) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	vars := map[string]any{"file": nil, "format": format}
	if mapping != nil {
		vars["mapping"] = mapping
	}
	ops, err := json.Marshal(map[string]any{"query": importMutation, "variables": vars})
	require.NoError(t, err)
	require.NoError(t, mw.WriteField("operations", string(ops)))
	require.NoError(t, mw.WriteField("map", `{"0": ["variables.file"]}`))
	fw, err := mw.CreateFormFile("0", name)
	require.NoError(t, err)
	_, err = fw.Write(file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, baseURL+"/graphql", bytes.NewReader(body.Bytes()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Debug-User", userID)
	req.Header.Set("GraphQL-Preflight", "1")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

func send(t *testing.T, req *http.Request) servertest.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := servertest.Response{Status: resp.StatusCode}
	require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	return out
}

func upload(t *testing.T, srv *servertest.Server, userID, format string, mapping map[string]any, name string, file []byte) servertest.Response {
	t.Helper()
	return send(t, uploadRequest(t, srv.URL, userID, format, mapping, name, file, nil))
}

func importStatus(t *testing.T, srv *servertest.Server, userID, id string) (importView, servertest.Response) {
	t.Helper()
	r := srv.Do(t, userID, `query($id: ID!) { healthImport(id: $id) {
	  id status fileName sizeBytes recordsRead samples stored alreadyStored rejected skippedRecords errorCode } }`, map[string]any{"id": id})
	var out struct {
		HealthImport importView `json:"healthImport"`
	}
	if len(r.Errors) == 0 {
		r.Decode(t, &out)
	}
	return out.HealthImport, r
}

// waitImport waits until the import's job has finished (the in-process
// queue runs it at once).
func waitImport(t *testing.T, srv *servertest.Server, userID, id string) importView {
	t.Helper()
	var v importView
	require.Eventually(t, func() bool {
		v, _ = importStatus(t, srv, userID, id)
		return v.Status == "COMPLETED" || v.Status == "FAILED"
	}, 60*time.Second, 50*time.Millisecond)
	return v
}

func uploadServer(t *testing.T, maxBytes int64) (*servertest.Server, string) {
	t.Helper()
	spool := t.TempDir()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.Providers.Imports = server.ImportsConfig{SpoolDir: spool, MaxBytes: maxBytes, ProgressInterval: time.Hour}
	})
	return srv, spool
}

func observations(t *testing.T, srv *servertest.Server, uid string) int {
	t.Helper()
	n, err := srv.App.Store.Client.Observation.Query().Where(observation.UserID(uid)).Count(viewer.System(context.Background()))
	require.NoError(t, err)
	return n
}

// TestUploadAppleHealthExport uploads a generated Apple Health export.zip
// through a real multipart request: the job stores its daily samples, the
// import shows COMPLETED with its counts, the feed carries its progress
// and completion; the same file again stores nothing twice; another user
// cannot see the import.
func TestUploadAppleHealthExport(t *testing.T) {
	t.Parallel()
	srv, spool := uploadServer(t, 8<<20)
	uid := srv.CreateUser(t, "uploader@example.com")
	other := srv.CreateUser(t, "other@example.com")

	var xmlBuf bytes.Buffer
	gen, err := applegen.Write(&xmlBuf, applegen.Options{Seed: 7, Start: time.Now().AddDate(0, 0, -30).Truncate(24 * time.Hour), Bytes: 1 << 20})
	require.NoError(t, err)
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	f, err := zw.Create("apple_health_export/export.xml")
	require.NoError(t, err)
	_, err = f.Write(xmlBuf.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	events, stop := sseStream(t, srv.URL, uid, `subscription { feed(kinds: [IMPORT_PROGRESS, IMPORT_COMPLETED]) { cursor kind entityID payload } }`, nil, "")
	defer stop()

	r := upload(t, srv, uid, "APPLE_HEALTH", nil, "export.zip", zipBuf.Bytes())
	var out struct {
		ImportHealthData importView `json:"importHealthData"`
	}
	r.Decode(t, &out)
	imp := out.ImportHealthData
	require.Equal(t, "export.zip", imp.FileName)
	require.Equal(t, int64(zipBuf.Len()), imp.SizeBytes)

	// The feed: progress (reading, then storing), then the completion.
	var kinds []string
	var phases []string
	for {
		ev, _ := nextSSE(t, events, 60*time.Second)
		var item struct {
			Data struct {
				Feed struct {
					Kind     string         `json:"kind"`
					EntityID string         `json:"entityID"`
					Payload  map[string]any `json:"payload"`
				} `json:"feed"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &item))
		it := item.Data.Feed
		require.Equal(t, imp.ID, it.EntityID)
		kinds = append(kinds, it.Kind)
		if it.Kind == "IMPORT_PROGRESS" {
			phases = append(phases, it.Payload["phase"].(string))
			continue
		}
		require.Equal(t, "COMPLETED", it.Payload["status"])
		break
	}
	require.Equal(t, []string{"reading", "storing"}, phases, "one event per phase: the interval (1h) allows no more")
	require.Equal(t, "IMPORT_COMPLETED", kinds[len(kinds)-1])

	done := waitImport(t, srv, uid, imp.ID)
	require.Equal(t, "COMPLETED", done.Status)
	require.Nil(t, done.ErrorCode)
	require.Equal(t, gen.Records, done.RecordsRead)
	require.Equal(t, 3*gen.Days, done.Samples, "steps, SDNN and resting HR per day")
	require.Equal(t, done.Samples, done.Stored)
	require.Equal(t, int64(60*gen.Days), done.SkippedRecords, "heart-rate records are not imported")
	require.Equal(t, done.Stored, observations(t, srv, uid))
	left, err := os.ReadDir(spool)
	require.NoError(t, err)
	require.Empty(t, left, "the spool file is removed once imported")

	// The same file again: nothing stored twice.
	r = upload(t, srv, uid, "APPLE_HEALTH", nil, "export.zip", zipBuf.Bytes())
	r.Decode(t, &out)
	again := waitImport(t, srv, uid, out.ImportHealthData.ID)
	require.Equal(t, "COMPLETED", again.Status)
	require.Zero(t, again.Stored)
	require.Equal(t, done.Samples, again.AlreadyStored)
	require.Equal(t, done.Stored, observations(t, srv, uid), "no duplicates")

	// Another user sees neither the import nor its node.
	_, r = importStatus(t, srv, other, imp.ID)
	require.Equal(t, []string{"ENOTFOUND"}, r.Codes())
	r = srv.Do(t, other, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": imp.ID})
	require.Equal(t, []string{"ENOTFOUND"}, r.Codes())
	var node struct {
		Node *struct{ ID string } `json:"node"`
	}
	srv.Do(t, uid, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": imp.ID}).Decode(t, &node)
	require.Equal(t, imp.ID, node.Node.ID, "the owner can")
	require.Zero(t, observations(t, srv, other))
}

// TestUploadRefusals: a bad upload gets a coded error and leaves nothing
// behind (no import, no spool file, no observation); a file that passes the
// first checks but is not a valid export fails its import with EINVALID,
// storing nothing.
func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	srv, spool := uploadServer(t, limit)
	uid := srv.CreateUser(t, "refused@example.com")
	sctx := viewer.System(context.Background())
	imports := func() int {
		n, err := srv.App.Store.Client.HealthImport.Query().Count(sctx)
		require.NoError(t, err)
		return n
	}
	emptyZip := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.Create("readme.txt")
		require.NoError(t, err)
		_, _ = w.Write([]byte("no export here"))
		require.NoError(t, zw.Close())
		return b.Bytes()
	}()
	csvMap := map[string]any{"value": "v", "day": "d", "metricForAll": "steps", "unitForAll": "count"}
	for _, tc := range []struct {
		name, format string
		mapping      map[string]any
		file         []byte
		code         string
	}{
		{"empty", "APPLE_HEALTH", nil, nil, "EINVALID"},
		{"garbage", "APPLE_HEALTH", nil, bytes.Repeat([]byte{0x00, 0xff, 0x13}, 1000), "EINVALID"},
		{"zip without export.xml", "APPLE_HEALTH", nil, emptyZip, "EINVALID"},
		{"truncated zip", "APPLE_HEALTH", nil, emptyZip[:20], "EINVALID"},
		{"over the limit", "APPLE_HEALTH", nil, append([]byte("<HealthData>"), bytes.Repeat([]byte(" "), limit)...), "ELIMIT"},
		{"csv without mapping", "CSV", nil, []byte("v,d\n1,2026-01-01\n"), "EINVALID"},
		{"csv missing column", "CSV", map[string]any{"value": "value", "day": "d", "metricForAll": "steps", "unitForAll": "count"}, []byte("v,d\n1,2026-01-01\n"), "EINVALID"},
		{"csv binary", "CSV", csvMap, []byte("v,d\x00\x01\n"), "EINVALID"},
		{"mapping for apple health", "APPLE_HEALTH", csvMap, []byte("<HealthData/>"), "EINVALID"},
	} {
		r := upload(t, srv, uid, tc.format, tc.mapping, "f", tc.file)
		require.Equal(t, []string{tc.code}, r.Codes(), tc.name)
	}

	// Transport-level refusals, before the file is read.
	req := uploadRequest(t, srv.URL, uid, "APPLE_HEALTH", nil, "x.xml", []byte("<HealthData/>"), map[string]string{"GraphQL-Preflight": ""})
	r := send(t, req)
	require.Equal(t, http.StatusBadRequest, r.Status, "no preflight header: a cross-site form could send this")
	require.Equal(t, []string{"EINVALID"}, r.Codes())
	req = uploadRequest(t, srv.URL, uid, "APPLE_HEALTH", nil, "big.xml", bytes.Repeat([]byte("<"), limit+2<<20), nil)
	r = send(t, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	require.Equal(t, []string{"ELIMIT"}, r.Codes())
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/graphql",
		strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--b--\r\n"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("GraphQL-Preflight", "1")
	r = send(t, req)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "operations must come first")
	require.Equal(t, []string{"EINVALID"}, r.Codes())

	require.Zero(t, imports(), "no import was created")
	left, err := filepath.Glob(filepath.Join(spool, "*"))
	require.NoError(t, err)
	require.Empty(t, left, "no spool file is left")

	// Accepted, then found malformed by the job: FAILED, nothing stored.
	bad := []byte(`<?xml version="1.0"?><HealthData><Record type="HKQuantityTypeIdentifierStepCount" sourceName="w" unit="count" startDate="2026-11-01 08:00:00 -0500" value="10"/><Record`)
	r = upload(t, srv, uid, "APPLE_HEALTH", nil, "export.xml", bad)
	var out struct {
		ImportHealthData importView `json:"importHealthData"`
	}
	r.Decode(t, &out)
	failed := waitImport(t, srv, uid, out.ImportHealthData.ID)
	require.Equal(t, "FAILED", failed.Status)
	require.NotNil(t, failed.ErrorCode)
	require.Equal(t, "EINVALID", *failed.ErrorCode)
	require.Zero(t, failed.Stored)

	// A CSV with one bad row is refused whole.
	r = upload(t, srv, uid, "CSV", csvMap, "steps.csv", []byte("v,d\n1000,2026-11-01\nlots,2026-11-02\n"))
	r.Decode(t, &out)
	failed = waitImport(t, srv, uid, out.ImportHealthData.ID)
	require.Equal(t, "FAILED", failed.Status)
	require.Equal(t, "EINVALID", *failed.ErrorCode)
	require.Zero(t, observations(t, srv, uid), "nothing of a failed import is stored")
	n, err := srv.App.Store.Client.HealthImport.Query().Where(healthimport.StatusEQ(healthimport.StatusFAILED)).Count(sctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

// TestUnfinishedImportsResumeAtStart: an upload accepted just before a
// crash (its job never ran: the in-process queue lost it) is queued again
// when a server starts on the same database, and imported.
func TestUnfinishedImportsResumeAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := servertest.NewPostgresSchema(t)
	spool := t.TempDir()
	st, err := server.OpenPostgres(ctx, dbURL)
	require.NoError(t, err)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	uid, err := server.EnsureUser(ctx, st.Client, "crash@example.com", "Crash", user.RoleUSER)
	require.NoError(t, err)
	svc := &importer.Service{Client: st.Client, Ingest: &appingest.Service{}, Uploads: importer.Uploads{Dir: spool, MaxBytes: 1 << 20}}
	sctx := viewer.System(ctx)
	tx, err := st.Client.Tx(sctx)
	require.NoError(t, err)
	csv := "d,v\n2026-11-01,52\n2026-11-02,53\n"
	imp, err := svc.Accept(sctx, tx, uid, importer.Upload{File: strings.NewReader(csv), Name: "rhr.csv", Size: int64(len(csv))},
		healthimport.FormatCSV, &importer.CSVMapping{Value: "v", Day: "d", FixedMetric: "resting_hr", FixedUnit: "bpm"})
	require.NoError(t, err)
	lost, err := svc.Accept(sctx, tx, uid, importer.Upload{File: strings.NewReader(csv), Name: "lost.csv", Size: int64(len(csv))},
		healthimport.FormatCSV, &importer.CSVMapping{Value: "v", Day: "d", FixedMetric: "resting_hr", FixedUnit: "bpm"})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.NoError(t, st.Close()) // the crash: no job was queued
	// A worker that does not see the api's spool folder.
	require.NoError(t, os.Remove(lost.SpoolPath))

	st2, err := server.OpenPostgres(ctx, dbURL)
	require.NoError(t, err)
	srv := servertest.NewServer(t, st2, func(c *server.Config) {
		c.Providers.Imports = server.ImportsConfig{SpoolDir: spool, MaxBytes: 1 << 20}
	})
	done := waitImport(t, srv, uid, imp.ID)
	require.Equal(t, "COMPLETED", done.Status)
	require.Equal(t, 2, done.Stored)
	require.Equal(t, 2, observations(t, srv, uid))
	gone := waitImport(t, srv, uid, lost.ID)
	require.Equal(t, "FAILED", gone.Status, "not retried forever")
	require.Equal(t, "EINTERNAL", *gone.ErrorCode)
}

// TestUploadsOffWithoutAWritableSpool: a server whose spool folder cannot
// be written (a read-only file system without a shared volume) answers
// uploads with a coded error and keeps nothing.
func TestUploadsOffWithoutAWritableSpool(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), func(c *server.Config) {
		c.Providers.Imports = server.ImportsConfig{SpoolDir: filepath.Join(notADir, "imports"), MaxBytes: 1 << 20}
	})
	uid := srv.CreateUser(t, "nospool@example.com")
	r := upload(t, srv, uid, "APPLE_HEALTH", nil, "export.xml", []byte("<HealthData/>"))
	require.Equal(t, []string{"EINVALID"}, r.Codes())
	require.Contains(t, r.Errors[0].Message, "not enabled")
	n, err := srv.App.Store.Client.HealthImport.Query().Count(viewer.System(context.Background()))
	require.NoError(t, err)
	require.Zero(t, n)
}
