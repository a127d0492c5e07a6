package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/healthimport"
)

// Uploads configure imports of uploaded files (Service.Accept and Run).
type Uploads struct {
	// Dir is the spool folder: an upload waits there until its job has
	// imported it. With a separate worker process it must be shared.
	Dir string
	// MaxBytes bounds an uploaded file (ELIMIT above it).
	MaxBytes int64
	// ProgressInterval is the least time between two IMPORT_PROGRESS feed
	// events of one import (≤ 0: DefaultProgressInterval); a new phase
	// (reading, storing) is announced at once.
	ProgressInterval time.Duration
}

// DefaultProgressInterval is Uploads.ProgressInterval's default.
const DefaultProgressInterval = 2 * time.Second

// Feed writes feed events (app/record.Recorder implements it).
type Feed interface {
	Feed(ctx context.Context, tx *ent.Tx, userID string, kind feedevent.Kind, entityID string, payload map[string]any) (*ent.FeedEvent, error)
}

// LoopQueue schedules a loop run (app/jobs implements it).
type LoopQueue interface {
	EnqueueLoop(ctx context.Context, userID string) error
}

// Upload is an uploaded file as the transport hands it over.
type Upload struct {
	File io.Reader
	Name string
	Size int64 // as the client declared it; the bytes read are checked too
}

// Accept checks an uploaded file and spools it for userID inside tx: it
// creates the QUEUED HealthImport whose job (Run) imports it; the caller
// enqueues that job after commit. The spool file is removed if tx rolls
// back. EINVALID for an empty file, a file that is not of the format (an
// Apple Health export is export.xml or a .zip holding it; a CSV is UTF-8
// text whose header names the mapped columns) or a CSV without a usable
// mapping; ELIMIT above Uploads.MaxBytes. Nothing is kept for a refused
// upload.
func (s *Service) Accept(ctx context.Context, tx *ent.Tx, userID string, up Upload, format healthimport.Format, mapping *CSVMapping) (*ent.HealthImport, error) {
	if s.Uploads.Dir == "" || s.Uploads.MaxBytes <= 0 {
		return nil, engine.Errorf(engine.EINVALID, "uploads are not enabled on this server")
	}
	if err := healthimport.FormatValidator(format); err != nil {
		return nil, engine.Errorf(engine.EINVALID, "unknown import format %q", format)
	}
	var mapJSON string
	if format == healthimport.FormatCSV {
		if mapping == nil {
			return nil, engine.Errorf(engine.EINVALID, "a CSV import needs a mapping (value and day columns, a metric and a unit column or fixed values)")
		}
		if err := checkMapping(*mapping); err != nil {
			return nil, err
		}
		b, err := json.Marshal(mapping)
		if err != nil {
			return nil, fmt.Errorf("encoding the mapping: %w", err)
		}
		mapJSON = string(b)
	} else if mapping != nil {
		return nil, engine.Errorf(engine.EINVALID, "a mapping is only for CSV imports")
	}
	if up.Size > s.Uploads.MaxBytes {
		return nil, tooLarge(s.Uploads.MaxBytes)
	}
	if err := os.MkdirAll(s.Uploads.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the upload spool folder: %w", err)
	}
	f, err := os.CreateTemp(s.Uploads.Dir, "upload-*.part")
	if err != nil {
		return nil, fmt.Errorf("creating a spool file: %w", err)
	}
	part := f.Name()
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(part)
		}
	}()
	n, err := io.Copy(f, io.LimitReader(up.File, s.Uploads.MaxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, engine.Wrap(err, engine.EINVALID, "the uploaded file could not be read")
	}
	if n > s.Uploads.MaxBytes {
		return nil, tooLarge(s.Uploads.MaxBytes)
	}
	if n == 0 {
		return nil, engine.Errorf(engine.EINVALID, "the uploaded file is empty")
	}
	ext, err := sniff(part, format, mapping)
	if err != nil {
		return nil, err
	}
	spool := strings.TrimSuffix(part, ".part") + ext
	if err := os.Rename(part, spool); err != nil {
		return nil, fmt.Errorf("naming the spool file: %w", err)
	}
	part = spool
	name := filepath.Base(strings.ReplaceAll(up.Name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "upload" + ext
	}
	if len(name) > 200 || !utf8.ValidString(name) {
		name = "upload" + ext
	}
	imp, err := tx.HealthImport.Create().SetUserID(userID).SetFormat(format).SetFileName(name).SetSizeBytes(n).
		SetSpoolPath(spool).SetCsvMapping(mapJSON).Save(ctx)
	if err != nil {
		return nil, err
	}
	keep = true
	tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
		return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
			_ = os.Remove(spool)
			return next.Rollback(ctx, tx)
		})
	})
	return imp, nil
}

func tooLarge(limit int64) error {
	return engine.Errorf(engine.ELIMIT, "the uploaded file is larger than the %d MiB upload limit", limit>>20)
}

// checkMapping is what ReadCSV needs of a mapping, checked before the
// upload is kept.
func checkMapping(m CSVMapping) error {
	if strings.TrimSpace(m.Value) == "" || strings.TrimSpace(m.Day) == "" {
		return engine.Errorf(engine.EINVALID, "the CSV mapping needs value and day columns")
	}
	if m.Metric == "" && m.FixedMetric == "" {
		return engine.Errorf(engine.EINVALID, "the CSV mapping needs a metric column or metricForAll")
	}
	if m.Unit == "" && m.FixedUnit == "" {
		return engine.Errorf(engine.EINVALID, "the CSV mapping needs a unit column or unitForAll")
	}
	switch m.Source {
	case "", metrics.SourceManual, "api", "apple_health", "whoop", "oura":
	default:
		return engine.Errorf(engine.EINVALID, "unknown CSV source %q (manual, api, apple_health, whoop, oura)", m.Source)
	}
	return nil
}

// sniff checks that the spooled file looks like format and returns the
// spool file's extension: ".zip" or ".xml" for an Apple Health export,
// ".csv" for a CSV (whose header must name the mapped columns).
func sniff(path string, format healthimport.Format, m *CSVMapping) (string, error) {
	f, err := os.Open(path) //nolint:gosec // our own spool file
	if err != nil {
		return "", fmt.Errorf("opening the spool file: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	k, _ := io.ReadFull(f, head)
	head = head[:k]
	if format == healthimport.FormatAPPLE_HEALTH {
		if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
			zr, err := zip.OpenReader(path)
			if err != nil {
				return "", engine.Errorf(engine.EINVALID, "the file is not a readable .zip")
			}
			defer zr.Close()
			for _, zf := range zr.File {
				if filepath.Base(zf.Name) == "export.xml" {
					return ".zip", nil
				}
			}
			return "", engine.Errorf(engine.EINVALID, "the .zip holds no export.xml: upload the Health app's export.zip or its export.xml")
		}
		t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
		if len(t) == 0 || t[0] != '<' || !utf8.Valid(t[:max(0, len(t)-utf8.UTFMax)]) {
			return "", engine.Errorf(engine.EINVALID, "the file is not an Apple Health export: upload the Health app's export.zip or its export.xml")
		}
		return ".xml", nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return "", engine.Errorf(engine.EINVALID, "the file is not a CSV (it holds binary data)")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewinding the spool file: %w", err)
	}
	header, err := csv.NewReader(bufio.NewReader(f)).Read()
	if err != nil {
		return "", engine.Errorf(engine.EINVALID, "the CSV has no readable header row")
	}
	cols := map[string]bool{}
	for _, h := range header {
		cols[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = true
	}
	for _, c := range []string{m.Metric, m.Value, m.Unit, m.Day, m.Time} {
		if c != "" && !cols[c] {
			return "", engine.Errorf(engine.EINVALID, "the CSV has no column %q", c)
		}
	}
	return ".csv", nil
}

// Run is the job of one uploaded file (key: the HealthImport id), as the
// system: it reads the spooled file, stores its samples in chunks (Store:
// each chunk its own transaction with a content key, so a re-run after a
// crash replays what was stored and stores the rest, never twice) and
// keeps the HealthImport's status and counts current, with IMPORT_PROGRESS
// feed events at most every Uploads.ProgressInterval and one
// IMPORT_COMPLETED at the end. A file that turns out to be bad (EINVALID,
// ELIMIT) fails the import for good — nothing of it is stored, since
// samples are stored only once the whole file has been read and checked —
// and the job succeeds; any other error (the database, a shutdown) is
// returned so the job runs again. A COMPLETED or FAILED import is left
// alone.
func (s *Service) Run(ctx context.Context, importID string) error {
	ctx = viewer.System(ctx)
	imp, err := s.Client.HealthImport.Get(ctx, importID)
	if ent.IsNotFound(err) {
		return nil // the account was deleted
	}
	if err != nil {
		return err
	}
	if imp.Status == healthimport.StatusCOMPLETED || imp.Status == healthimport.StatusFAILED {
		return nil
	}
	upd := imp.Update().SetStatus(healthimport.StatusRUNNING)
	if imp.StartedAt == nil {
		upd.SetStartedAt(s.Ingest.Clock().UTC())
	}
	if imp, err = upd.Save(ctx); err != nil {
		return err
	}
	if _, err := os.Stat(imp.SpoolPath); errors.Is(err, os.ErrNotExist) {
		// Not the client's fault: a worker that does not share the api's
		// spool folder, or a spool folder that was wiped.
		return s.finish(ctx, imp, Result{}, engine.Errorf(engine.EINTERNAL,
			"the uploaded file is not available to the worker that ran the import (IMPORT_SPOOL_DIR must be shared); upload it again"))
	}
	p := &progress{s: s, imp: imp, every: s.Uploads.ProgressInterval}
	if p.every <= 0 {
		p.every = DefaultProgressInterval
	}
	res, err := s.runFile(ctx, imp, p)
	if err != nil {
		code := engine.ErrorCode(err)
		if ctx.Err() != nil || (code != engine.EINVALID && code != engine.ELIMIT) {
			return err // retried; the import stays RUNNING and resumes
		}
		return s.finish(ctx, imp, res, err)
	}
	return s.finish(ctx, imp, res, nil)
}

func (s *Service) runFile(ctx context.Context, imp *ent.HealthImport, p *progress) (Result, error) {
	res := Result{}
	name := "upload:" + imp.ID
	switch imp.Format {
	case healthimport.FormatAPPLE_HEALTH:
		rc, size, err := OpenExport(imp.SpoolPath)
		if err != nil {
			return res, err
		}
		defer rc.Close()
		agg, n, err := ReadAppleHealth(ctx, rc, func(read int64) {
			p.report(ctx, "reading", map[string]any{"bytesRead": read, "bytesTotal": size}, nil)
		})
		if err != nil {
			return res, err
		}
		res.Records, res.Skipped = n, agg.Skipped
		err = s.store(ctx, imp.UserID, name, agg.Samples(), false, &res, func(done, total int) {
			p.report(ctx, "storing", map[string]any{"chunksDone": done, "chunksTotal": total}, &res)
		})
		return res, err
	default:
		var m CSVMapping
		if err := json.Unmarshal([]byte(imp.CsvMapping), &m); err != nil {
			return res, fmt.Errorf("decoding the stored mapping: %w", err)
		}
		f, err := os.Open(imp.SpoolPath)
		if err != nil {
			return res, fmt.Errorf("opening the spool file: %w", err)
		}
		defer f.Close()
		p.report(ctx, "reading", map[string]any{"bytesTotal": imp.SizeBytes}, nil)
		samples, err := ReadCSV(ctx, f, m)
		if err != nil {
			return res, err
		}
		res.Records = int64(len(samples))
		err = s.store(ctx, imp.UserID, name, samples, true, &res, func(done, total int) {
			p.report(ctx, "storing", map[string]any{"chunksDone": done, "chunksTotal": total}, &res)
		})
		return res, err
	}
}

// finish marks imp COMPLETED (cause nil) or FAILED with cause's code and
// message, with an IMPORT_COMPLETED feed event, removes the spool file and
// queues a loop run when anything was stored.
func (s *Service) finish(ctx context.Context, imp *ent.HealthImport, res Result, cause error) error {
	status := healthimport.StatusCOMPLETED
	payload := map[string]any{"format": string(imp.Format)}
	if cause != nil {
		status = healthimport.StatusFAILED
		res = Result{Records: res.Records} // nothing stored
	}
	payload["status"] = string(status)
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		upd := setCounts(tx.HealthImport.UpdateOneID(imp.ID), &res).SetStatus(status).
			SetCompletedAt(s.Ingest.Clock().UTC()).ClearSpoolPath()
		if cause != nil {
			msg := engine.ErrorMessage(cause)
			if len(msg) > 500 {
				msg = msg[:500]
			}
			upd.SetErrorCode(engine.ErrorCode(cause)).SetErrorMessage(msg)
			payload["errorCode"] = engine.ErrorCode(cause)
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		maps := countsPayload(&res)
		for k, v := range maps {
			payload[k] = v
		}
		if s.Recorder == nil {
			return nil
		}
		_, err := s.Recorder.Feed(ctx, tx, imp.UserID, feedevent.KindIMPORT_COMPLETED, imp.ID, payload)
		return err
	})
	if err != nil {
		return err
	}
	_ = os.Remove(imp.SpoolPath)
	if res.Inserted > 0 && s.Jobs != nil {
		_ = s.Jobs.EnqueueLoop(context.WithoutCancel(ctx), imp.UserID) // best effort: runLoop catches up
	}
	return nil
}

func setCounts(u *ent.HealthImportUpdateOne, res *Result) *ent.HealthImportUpdateOne {
	return u.SetRecordsRead(res.Records).SetSamples(res.Samples).SetStored(res.Inserted).
		SetAlreadyStored(res.Existing).SetRejected(res.Rejected).SetSkippedRecords(skipped(res))
}

func skipped(res *Result) int64 {
	var n int64
	for _, k := range res.Skipped {
		n += int64(k)
	}
	return n
}

// countsPayload is the feed's summary of res: counts only, never values.
func countsPayload(res *Result) map[string]any {
	return map[string]any{
		"recordsRead": res.Records, "samples": res.Samples, "stored": res.Inserted,
		"alreadyStored": res.Existing, "rejected": res.Rejected, "skippedRecords": skipped(res),
	}
}

func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// progress writes IMPORT_PROGRESS events of one import: the first of each
// phase at once, then at most one per interval. A failed write is not the
// import's failure: the next report tries again.
type progress struct {
	s     *Service
	imp   *ent.HealthImport
	every time.Duration
	phase string
	last  time.Time
}

func (p *progress) report(ctx context.Context, phase string, fields map[string]any, res *Result) {
	now := time.Now()
	if phase == p.phase && now.Sub(p.last) < p.every {
		return
	}
	p.phase, p.last = phase, now
	payload := map[string]any{"phase": phase, "format": string(p.imp.Format)}
	for k, v := range fields {
		payload[k] = v
	}
	_ = p.s.withTx(ctx, func(tx *ent.Tx) error {
		upd := tx.HealthImport.UpdateOneID(p.imp.ID)
		if res != nil {
			setCounts(upd, res)
			for k, v := range countsPayload(res) {
				payload[k] = v
			}
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if p.s.Recorder == nil {
			return nil
		}
		_, err := p.s.Recorder.Feed(ctx, tx, p.imp.UserID, feedevent.KindIMPORT_PROGRESS, p.imp.ID, payload)
		return err
	})
}
