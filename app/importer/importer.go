// Package importer imports large exports (an Apple Health export.xml or its
// .zip, a CSV with a column mapping) in constant memory: the file is
// streamed token by token (encoding/xml) or row by row (encoding/csv), the
// records are reduced to daily samples by engine/providers, and the samples
// are stored in chunks, each its own transaction with an idempotency key
// derived from its content. A crash mid-import leaves whole chunks; running
// the same import again replays the stored chunks (nothing is stored twice:
// the keys replay, and natural keys make any overlap a duplicate) and
// stores the rest — that is how an import resumes.
package importer

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
)

// Result says what an import did.
type Result struct {
	Records  int64          // records read from the file
	Samples  int            // daily samples derived
	Inserted int            // samples stored now
	Existing int            // samples already stored (an earlier run, or the same data from elsewhere)
	Replayed int            // chunks an earlier run had stored
	Chunks   int            // chunks in all
	Rejected int            // samples refused by validation (left out)
	Skipped  map[string]int // records not used, by reason
}

// Service stores imports.
type Service struct {
	Client *ent.Client
	Ingest *ingest.Service
	// Progress, when set, is called after each stored chunk of Store with
	// the chunks done and in all.
	Progress func(done, total int)
	// Recorder writes the feed events of uploaded files' imports (Run);
	// nil: none.
	Recorder Feed
	// Jobs queues a loop run after an upload stored samples; nil: none.
	Jobs LoopQueue
	// Uploads configures uploaded files (Accept, Run).
	Uploads Uploads
}

// OpenExport opens an Apple Health export: export.xml itself, or the .zip
// the Health app writes (its apple_health_export/export.xml is streamed
// out of the archive). size is the uncompressed size, for progress.
func OpenExport(path string) (rc io.ReadCloser, size int64, err error) {
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, 0, engine.Wrap(err, engine.EINVALID, "the file is not a readable .zip")
		}
		for _, f := range zr.File {
			if filepath.Base(f.Name) == "export.xml" {
				r, err := f.Open()
				if err != nil {
					_ = zr.Close()
					return nil, 0, engine.Wrap(err, engine.EINVALID, "export.xml in the .zip is not readable")
				}
				return struct {
					io.Reader
					io.Closer
				}{r, closers{r, zr}}, int64(min(f.UncompressedSize64, 1<<62)), nil
			}
		}
		_ = zr.Close()
		return nil, 0, engine.Errorf(engine.EINVALID, "the .zip holds no export.xml")
	}
	f, err := os.Open(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, 0, engine.Wrap(err, engine.EINVALID, "the export cannot be opened")
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, engine.Wrap(err, engine.EINVALID, "the export cannot be read")
	}
	return f, st.Size(), nil
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// ReadAppleHealth streams an export.xml token by token and aggregates its
// <Record> elements with providers.AppleDaily; memory does not grow with
// the file. progress (may be nil) is called with the bytes read so far.
// EINVALID when the XML is malformed.
func ReadAppleHealth(ctx context.Context, r io.Reader, progress func(read int64)) (*providers.AppleDaily, int64, error) {
	cr := &countingReader{r: r, progress: progress}
	// A ByteReader: the decoder reads it directly, in 1 MiB reads.
	d := xml.NewDecoder(bufio.NewReaderSize(cr, 1<<20))
	// Exports carry a DTD and the odd HTML entity.
	d.Strict = false
	d.Entity = xml.HTMLEntity
	agg := providers.NewAppleDaily()
	var n int64
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, n, engine.Wrap(err, engine.EINVALID, fmt.Sprintf("export.xml is not valid XML (after %d records)", n))
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Record" {
			continue
		}
		n++
		if n%65536 == 0 && ctx.Err() != nil {
			return nil, n, ctx.Err()
		}
		var rec providers.AppleRecord
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "type":
				rec.Type = a.Value
			case "sourceName":
				rec.SourceName = a.Value
			case "unit":
				rec.Unit = a.Value
			case "startDate":
				rec.StartDate = a.Value
			case "value":
				rec.Value = a.Value
			}
		}
		agg.Add(rec)
	}
	if cr.progress != nil {
		cr.progress(cr.n)
	}
	return agg, n, nil
}

type countingReader struct {
	r        io.Reader
	n        int64
	last     int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	if c.progress != nil && c.n-c.last >= 1<<20 {
		c.last = c.n
		c.progress(c.n)
	}
	return k, err
}

// Store validates samples (engine/metrics; refused samples are left out
// and counted, or with strict the import is refused with EINVALID naming
// the first problem and nothing is stored) and stores them for userID in chunks of the ingestion
// batch limit, each in its own transaction with the idempotency key
// "import:<name>:<chunk content hash>", so a re-run replays what an
// earlier run stored. It runs as the system viewer.
func (s *Service) Store(ctx context.Context, userID, name string, samples []metrics.Sample, strict bool, res *Result) error {
	return s.store(ctx, userID, name, samples, strict, res, s.Progress)
}

func (s *Service) store(ctx context.Context, userID, name string, samples []metrics.Sample, strict bool, res *Result, progress func(done, total int)) error {
	ctx = viewer.System(ctx)
	now := s.Ingest.Clock()
	checked := metrics.ValidateBatch(samples, now, metrics.Options{MaxBatch: len(samples) + 1, Earliest: s.Ingest.Earliest})
	if strict && len(checked.Problems) > 0 {
		p := checked.Problems[0]
		return engine.Errorf(engine.EINVALID, "%d sample(s) are invalid; nothing was stored; first: row %d: %s",
			len(checked.Problems), p.Index+2, p.Message)
	}
	res.Samples += len(samples)
	res.Rejected += len(checked.Problems)
	size := s.Ingest.MaxBatch
	if size <= 0 {
		size = ingest.DefaultMaxBatch
	}
	total := (len(checked.Accepted) + size - 1) / size
	for i := 0; i < len(checked.Accepted); i += size {
		part := checked.Accepted[i:min(i+size, len(checked.Accepted))]
		chunk := make([]metrics.Sample, len(part))
		for j, c := range part {
			chunk[j] = c.Sample
		}
		tx, err := s.Client.Tx(ctx)
		if err != nil {
			return err
		}
		r, err := s.Ingest.Ingest(ctx, tx, userID, chunk, chunkKey(name, chunk))
		if err != nil {
			return errors.Join(err, tx.Rollback())
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		res.Chunks++
		if r.Replayed {
			res.Replayed++
			res.Existing += len(chunk)
		} else {
			res.Inserted += r.Inserted
			res.Existing += r.Duplicates
		}
		if progress != nil {
			progress(res.Chunks, total)
		}
	}
	return nil
}

// chunkKey is a chunk's idempotency key: the import's name and a hash of
// the chunk's samples.
func chunkKey(name string, chunk []metrics.Sample) string {
	h := sha256.New()
	for _, s := range chunk {
		fmt.Fprintf(h, "%s|%s|%s|%d|%v|%s\n", s.Metric, s.Source, s.LocalDay, s.ObservedAt.UnixNano(), s.Value, s.Unit)
	}
	if len(name) > 40 {
		name = name[:40]
	}
	return "import:" + name + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
