package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/importer/applegen"
	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func setup(t testing.TB, maxBatch int) (*server.Store, *importer.Service, string) {
	t.Helper()
	st := servertest.NewPostgresStore(t)
	uid, err := server.EnsureUser(context.Background(), st.Client, "import@example.com", "Importer", user.RoleUSER)
	require.NoError(t, err)
	ing := &ingest.Service{MaxBatch: maxBatch, Recorder: record.New(nil), Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	return st, &importer.Service{Client: st.Client, Ingest: ing}, uid
}

func count(t *testing.T, st *server.Store, uid string) int {
	t.Helper()
	n, err := st.Client.Observation.Query().Where(observation.UserID(uid)).Count(viewer.System(context.Background()))
	require.NoError(t, err)
	return n
}

// TestAppleHealthImportResumesWithoutDuplicates streams a generated export,
// crashes after two stored chunks, and runs the import again: the stored
// chunks replay, the rest is stored, nothing twice.
func TestAppleHealthImportResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	st, svc, uid := setup(t, 4)
	var buf bytes.Buffer
	gen, err := applegen.Write(&buf, applegen.Options{Seed: 1, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Bytes: 4 << 20})
	require.NoError(t, err)
	require.Greater(t, gen.Days, 5)

	var reported int64
	agg, n, err := importer.ReadAppleHealth(context.Background(), bytes.NewReader(buf.Bytes()), func(r int64) { reported = r })
	require.NoError(t, err)
	require.Equal(t, gen.Records, n)
	require.Equal(t, int64(buf.Len()), reported)
	samples := agg.Samples()
	require.Len(t, samples, 3*gen.Days, "steps, SDNN and resting HR per day")
	require.Equal(t, map[string]int{"unsupported type": 60 * gen.Days}, agg.Skipped, "heart-rate records are not imported")

	ctx, crash := context.WithCancel(context.Background())
	svc.Progress = func(done, _ int) {
		if done == 2 {
			crash()
		}
	}
	var first importer.Result
	err = svc.Store(ctx, uid, "export.xml", samples, false, &first)
	require.Error(t, err, "the crash stops the import")
	require.Equal(t, 2*4, count(t, st, uid), "two whole chunks were stored")

	svc.Progress = nil
	var again importer.Result
	require.NoError(t, svc.Store(context.Background(), uid, "export.xml", samples, false, &again))
	require.Equal(t, 2, again.Replayed)
	require.Equal(t, len(samples)-8, again.Inserted)
	require.Equal(t, len(samples), count(t, st, uid), "each daily sample once")

	var third importer.Result
	require.NoError(t, svc.Store(context.Background(), uid, "export.xml", samples, false, &third))
	require.Zero(t, third.Inserted)
	require.Equal(t, third.Chunks, third.Replayed)
}

func TestOpenExportReadsTheZip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var xml bytes.Buffer
	gen, err := applegen.Write(&xml, applegen.Options{Seed: 2, Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Bytes: 1 << 20})
	require.NoError(t, err)
	zpath := filepath.Join(dir, "export.zip")
	f, err := os.Create(zpath)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	w, err := zw.Create("apple_health_export/export_cda.xml")
	require.NoError(t, err)
	_, _ = w.Write([]byte("<ClinicalDocument/>"))
	w, err = zw.Create("apple_health_export/export.xml")
	require.NoError(t, err)
	_, err = w.Write(xml.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())

	rc, size, err := importer.OpenExport(zpath)
	require.NoError(t, err)
	defer rc.Close()
	require.Equal(t, int64(xml.Len()), size)
	agg, n, err := importer.ReadAppleHealth(context.Background(), rc, nil)
	require.NoError(t, err)
	require.Equal(t, gen.Records, n)
	require.Len(t, agg.Samples(), 3*gen.Days)

	_, _, err = importer.OpenExport(filepath.Join(dir, "missing.xml"))
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	_, _, err = importer.ReadAppleHealth(context.Background(), strings.NewReader("<HealthData><Record "), nil)
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
}

func TestCSVImportWithMapping(t *testing.T) {
	t.Parallel()
	st, svc, uid := setup(t, 1000)
	m, err := importer.ParseCSVMapping("value=RHR,day=Date")
	require.NoError(t, err)
	m.FixedMetric, m.FixedUnit, m.Source = metrics.KeyRestingHR, "bpm", metrics.SourceManual
	csv := "Date,RHR,Note\n2026-02-01,52,ok\n2026-02-02,53.5,\n2026-02-03,51,\n"
	samples, err := importer.ReadCSV(context.Background(), strings.NewReader(csv), m)
	require.NoError(t, err)
	require.Len(t, samples, 3)
	var res importer.Result
	require.NoError(t, svc.Store(context.Background(), uid, "rhr.csv", samples, true, &res))
	require.Equal(t, 3, res.Inserted)
	require.Equal(t, 3, count(t, st, uid))

	// A bad row refuses the whole file; nothing is stored.
	bad := "Date,RHR\n2026-02-04,50\n2026-02-05,500\n"
	samples, err = importer.ReadCSV(context.Background(), strings.NewReader(bad), m)
	require.NoError(t, err)
	err = svc.Store(context.Background(), uid, "bad.csv", samples, true, &importer.Result{})
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
	require.Contains(t, err.Error(), "row 3")
	require.Equal(t, 3, count(t, st, uid))
	for name, spec := range map[string]string{"no value": "day=Date", "unknown key": "value=RHR,day=Date,colour=x"} {
		_, err := importer.ParseCSVMapping(spec)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err), name)
	}
	_, err = importer.ReadCSV(context.Background(), strings.NewReader("Date,RHR\nnot-a-day,50\n"), m)
	require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
}
