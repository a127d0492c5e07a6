package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// CSVMapping says which column holds what. Metric and Unit may instead be
// fixed for every row (FixedMetric, FixedUnit). Day is the local day
// (YYYY-MM-DD); Time, when mapped, is an RFC 3339 observation time (else
// the sample is observed at the day's midnight at OffsetSeconds).
type CSVMapping struct {
	Metric, Value, Unit, Day, Time string // column names
	FixedMetric, FixedUnit         string
	Source                         string // e.g. manual, api, apple_health
	OffsetSeconds                  int
}

// ParseCSVMapping parses "metric=COL,value=COL,unit=COL,day=COL[,time=COL]".
// EINVALID for an unknown key or a missing value/day column.
func ParseCSVMapping(spec string) (CSVMapping, error) {
	var m CSVMapping
	for part := range strings.SplitSeq(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return m, engine.Errorf(engine.EINVALID, "--map entries are key=column, got %q", part)
		}
		switch strings.ToLower(k) {
		case "metric":
			m.Metric = v
		case "value":
			m.Value = v
		case "unit":
			m.Unit = v
		case "day":
			m.Day = v
		case "time":
			m.Time = v
		default:
			return m, engine.Errorf(engine.EINVALID, "--map: unknown key %q (metric, value, unit, day, time)", k)
		}
	}
	if m.Value == "" || m.Day == "" {
		return m, engine.Errorf(engine.EINVALID, "--map needs value= and day= columns")
	}
	return m, nil
}

// ReadCSV reads a CSV with a header row through m, row by row, and returns
// its samples. Rows whose cells do not parse are refused with EINVALID
// naming the row (nothing is stored: the caller stores only a clean file).
func ReadCSV(ctx context.Context, r io.Reader, m CSVMapping) ([]metrics.Sample, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, engine.Wrap(err, engine.EINVALID, "the CSV has no header row")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	idx := func(name string) (int, error) {
		if name == "" {
			return -1, nil
		}
		i, ok := col[name]
		if !ok {
			return 0, engine.Errorf(engine.EINVALID, "the CSV has no column %q", name)
		}
		return i, nil
	}
	var ix [5]int
	for i, name := range []string{m.Metric, m.Value, m.Unit, m.Day, m.Time} {
		if ix[i], err = idx(name); err != nil {
			return nil, err
		}
	}
	if (ix[0] < 0 && m.FixedMetric == "") || (ix[2] < 0 && m.FixedUnit == "") {
		return nil, engine.Errorf(engine.EINVALID, "map a metric and a unit column, or fix them (--metric, --unit)")
	}
	source := m.Source
	if source == "" {
		source = metrics.SourceManual
	}
	var out []metrics.Sample
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, engine.Wrap(err, engine.EINVALID, fmt.Sprintf("CSV row %d does not parse", row))
		}
		if row%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cell := func(i int, fixed string) string {
			if i < 0 || i >= len(rec) {
				return fixed
			}
			return strings.TrimSpace(rec[i])
		}
		v, err := strconv.ParseFloat(cell(ix[1], ""), 64)
		if err != nil {
			return nil, engine.Errorf(engine.EINVALID, "CSV row %d: the value is not a number", row)
		}
		day := cell(ix[3], "")
		at, err := time.ParseInLocation(time.DateOnly, day, time.FixedZone("", m.OffsetSeconds))
		if err != nil {
			return nil, engine.Errorf(engine.EINVALID, "CSV row %d: the day is not YYYY-MM-DD", row)
		}
		off := m.OffsetSeconds
		if ix[4] >= 0 {
			if at, err = time.Parse(time.RFC3339, cell(ix[4], "")); err != nil {
				return nil, engine.Errorf(engine.EINVALID, "CSV row %d: the time is not RFC 3339", row)
			}
			_, off = at.Zone()
		}
		out = append(out, metrics.Sample{
			Metric: cell(ix[0], m.FixedMetric), Value: v, Unit: cell(ix[2], m.FixedUnit), ObservedAt: at.UTC(),
			LocalDay: day, UTCOffsetSeconds: off, Source: source,
		})
	}
}
