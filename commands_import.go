package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/schollz/progressbar/v3"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
)

// importCmd imports a file for one user: an Apple Health export (export.xml
// or the .zip, streamed in constant memory) or a CSV with a column
// mapping. Re-running the same import after a crash stores only what is
// missing.
func importCmd(ctx context.Context, cfg server.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	email := fs.String("user", "", "the user's email")
	format := fs.String("format", "", "apple-health or csv")
	mapping := fs.String("map", "", "csv: metric=COL,value=COL,unit=COL,day=COL[,time=COL]")
	metric := fs.String("metric", "", "csv: the metric of every row (instead of a metric column)")
	unit := fs.String("unit", "", "csv: the unit of every row (instead of a unit column)")
	source := fs.String("source", "manual", "csv: the source of every row (manual, api, apple_health, whoop, oura)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || fs.NArg() != 1 || (*format != "apple-health" && *format != "csv") {
		return errors.New("import: --user EMAIL --format apple-health|csv [--map …] FILE")
	}
	path := fs.Arg(0)
	cfg.WorkerInProcess = false
	app, err := server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Store.Client.User.Query().Where(user.EmailEQ(*email)).Only(viewer.System(ctx))
	if err != nil {
		return fmt.Errorf("import: no user %s", *email)
	}
	svc := &importer.Service{Client: app.Store.Client, Ingest: app.Ingest}
	res := importer.Result{}
	name := filepath.Base(path)
	switch *format {
	case "apple-health":
		rc, size, err := importer.OpenExport(path)
		if err != nil {
			return err
		}
		defer rc.Close()
		bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("reading "+name), progressbar.OptionThrottle(200e6),
			progressbar.OptionSetVisibility(!*quiet), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		agg, n, err := importer.ReadAppleHealth(ctx, rc, func(read int64) { _ = bar.Set64(read) })
		_ = bar.Finish()
		if err != nil {
			return err
		}
		res.Records, res.Skipped = n, agg.Skipped
		if err := svc.Store(ctx, u.ID, name, agg.Samples(), false, &res); err != nil {
			return err
		}
	case "csv":
		m, err := importer.ParseCSVMapping(*mapping)
		if err != nil {
			return err
		}
		m.FixedMetric, m.FixedUnit, m.Source = *metric, *unit, *source
		f, err := os.Open(path) //nolint:gosec // the operator names the file
		if err != nil {
			return err
		}
		defer f.Close()
		samples, err := importer.ReadCSV(ctx, f, m)
		if err != nil {
			return err
		}
		res.Records = int64(len(samples))
		if err := svc.Store(ctx, u.ID, name, samples, true, &res); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d records → %d daily samples: %d stored, %d already stored, %d refused; %d chunks (%d from an earlier run)\n",
		res.Records, res.Samples, res.Inserted, res.Existing, res.Rejected, res.Chunks, res.Replayed)
	reasons := make([]string, 0, len(res.Skipped))
	for r := range res.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(stdout, "  skipped %d: %s\n", res.Skipped[r], r)
	}
	if res.Inserted > 0 {
		if err := app.Jobs.EnqueueLoop(ctx, u.ID); err != nil {
			log.WarnContext(ctx, "loop enqueue failed after import", slog.String("user_id", u.ID), slog.Any("err", err))
		}
	}
	return nil
}
