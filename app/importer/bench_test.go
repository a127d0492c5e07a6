package importer_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/importer/applegen"
)

// BenchmarkAppleHealthImport imports a generated export.xml of
// IMPORT_BENCH_BYTES (default 1 GiB) end to end: streamed parse, daily
// aggregation, validation and storage on PostgreSQL. It reports records/s,
// MB/s and the process's peak RSS. Targets (docs/providers.md): 1 GB in
// < 60 s with < 200 MB peak RSS. `make bench-go` runs it; CI does not.
func BenchmarkAppleHealthImport(b *testing.B) {
	size := int64(1 << 30)
	if s := os.Getenv("IMPORT_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(b, err)
		size = n
	}
	path := filepath.Join(b.TempDir(), "export.xml")
	f, err := os.Create(path)
	require.NoError(b, err)
	gen, err := applegen.Write(f, applegen.Options{Seed: 7, Start: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), Bytes: size})
	require.NoError(b, err)
	require.NoError(b, f.Close())
	_, svc, uid := setup(b, 1000)
	var before syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &before))
	b.ResetTimer()
	var elapsed time.Duration
	for range b.N {
		start := time.Now()
		rc, _, err := importer.OpenExport(path)
		require.NoError(b, err)
		agg, n, err := importer.ReadAppleHealth(context.Background(), rc, nil)
		require.NoError(b, err)
		require.NoError(b, rc.Close())
		require.Equal(b, gen.Records, n)
		var res importer.Result
		require.NoError(b, svc.Store(context.Background(), uid, "export.xml", agg.Samples(), false, &res))
		elapsed += time.Since(start)
	}
	b.StopTimer()
	per := elapsed.Seconds() / float64(b.N)
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	b.ReportMetric(float64(gen.Records)/per, "records/s")
	b.ReportMetric(float64(gen.Bytes)/per/1e6, "MB/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peakRSS_MB") // Linux: KiB
	b.ReportMetric(per, "s/import")
	// CPU seconds of this process per import: on a shared machine the wall
	// time above includes waiting for a core, this does not.
	cpu := func(r syscall.Rusage) float64 {
		return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
	}
	b.ReportMetric((cpu(ru)-cpu(before))/float64(b.N), "cpu_s/import")
}
