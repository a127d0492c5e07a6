// Package ingest stores observation batches: the whole batch is validated by
// engine/metrics first and stored in one transaction, or nothing is stored.
// Re-sent samples are recognised by their natural key (user, metric, source,
// local day, observed-at) and stored once; a batch re-sent with the same
// idempotency key returns the first result.
package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/ingestionbatch"
	"github.com/vitalgraph/vitalgraph/ent/observation"
	"github.com/vitalgraph/vitalgraph/ent/predicate"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// DefaultMaxBatch is the default guardrail on samples per call.
const DefaultMaxBatch = 1000

// Service ingests batches.
type Service struct {
	MaxBatch int // samples per call; ≤ 0 means DefaultMaxBatch
	// Earliest is the plausibility floor of observedAt (older samples are
	// refused TOO_OLD); zero means metrics.DefaultEarliest.
	Earliest time.Time
	Recorder *record.Recorder
	Now      func() time.Time
	// Dialect is the database's (entgo.io/ent/dialect): on PostgreSQL the
	// observations are stored by one COPY (storePostgres);
	// elsewhere through ent's bulk create.
	Dialect string
	// Observe, when set, is told each batch's outcome (observe.go).
	Observe func(Outcome)
}

// Result says what happened to a batch.
type Result struct {
	BatchID    string
	Received   int
	Inserted   int
	Duplicates int
	Missing    int // stored as missing (provider zeros)
	Replayed   bool
	Metrics    []string // metrics that received new samples
}

// Ingest validates samples and stores them inside tx for userID. Errors:
// ELIMIT when the batch exceeds MaxBatch; EINVALID with
// Details["problems"] listing every bad sample (index, field, code, message)
// when any sample is bad — nothing is stored then; ECONFLICT when
// idempotencyKey was used before for different samples.
func (s *Service) Ingest(ctx context.Context, tx *ent.Tx, userID string, samples []metrics.Sample, idempotencyKey string) (result Result, err error) {
	defer func() { s.observe(tx, len(samples), result, err) }()
	maxBatch := s.MaxBatch
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	if len(samples) > maxBatch {
		return Result{}, engine.Errorf(engine.ELIMIT, "a batch may hold at most %d samples, got %d", maxBatch, len(samples)).
			WithDetails("maxBatch", maxBatch)
	}
	if len(idempotencyKey) > 200 {
		return Result{}, engine.Errorf(engine.EINVALID, "idempotencyKey may be at most 200 characters")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	res := metrics.ValidateBatch(samples, now(), metrics.Options{MaxBatch: maxBatch, Earliest: s.Earliest})
	if len(res.Problems) > 0 {
		return Result{}, invalid(res.Problems)
	}
	hash := contentHash(res.Accepted)
	if idempotencyKey != "" {
		prev, err := tx.IngestionBatch.Query().
			Where(ingestionbatch.UserID(userID), ingestionbatch.IdempotencyKey(idempotencyKey)).
			Only(ctx)
		switch {
		case err == nil:
			if prev.ContentHash != hash {
				return Result{}, engine.Errorf(engine.ECONFLICT, "idempotencyKey %q was already used for different samples", idempotencyKey)
			}
			return Result{
				BatchID: prev.ID, Received: prev.Received, Inserted: prev.Inserted,
				Duplicates: prev.Duplicates, Missing: prev.Missing, Replayed: true,
			}, nil
		case !ent.IsNotFound(err):
			return Result{}, err
		}
	}
	existing, err := existingKeys(ctx, tx, userID, res.Accepted, s.Dialect == dialect.Postgres)
	if err != nil {
		return Result{}, err
	}
	out := Result{Received: len(samples)}
	fresh := make([]metrics.Checked, 0, len(res.Accepted))
	touched := map[string]bool{}
	for _, c := range res.Accepted {
		if existing[naturalKey(c.Sample.Metric, c.Sample.Source, c.Sample.LocalDay, c.Sample.ObservedAt)] {
			out.Duplicates++
			continue
		}
		fresh = append(fresh, c)
		touched[c.Sample.Metric] = true
		if c.Missing {
			out.Missing++
		}
	}
	out.Inserted = len(fresh)
	bc := tx.IngestionBatch.Create().SetUserID(userID).SetContentHash(hash).
		SetReceived(out.Received).SetInserted(out.Inserted).SetDuplicates(out.Duplicates).SetMissing(out.Missing)
	if idempotencyKey != "" {
		bc.SetIdempotencyKey(idempotencyKey)
	}
	batch, err := bc.Save(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("recording batch: %w", err)
	}
	out.BatchID = batch.ID
	if err := s.store(ctx, tx, userID, batch.ID, fresh); err != nil {
		return Result{}, err
	}
	for m := range touched {
		out.Metrics = append(out.Metrics, m)
	}
	sort.Strings(out.Metrics)
	if s.Recorder != nil {
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "IngestionBatch", EntityID: batch.ID, Action: "ingest", Decision: "stored",
			Reason:  fmt.Sprintf("%d received, %d inserted, %d duplicates, %d stored as missing", out.Received, out.Inserted, out.Duplicates, out.Missing),
			Details: map[string]any{"metrics": out.Metrics, "idempotencyKey": idempotencyKey},
		}); err != nil {
			return Result{}, err
		}
	}
	return out, nil
}

// store writes the batch's new observations. The batch row was created
// through ent just before, under the same privacy rules as an observation
// (owned: the viewer's own rows, or an admin), so the set-based PostgreSQL
// path, which bypasses ent's per-row hooks, writes only where ent would.
func (s *Service) store(ctx context.Context, tx *ent.Tx, userID, batchID string, fresh []metrics.Checked) error {
	if s.Dialect == dialect.Postgres {
		return storePostgres(ctx, tx, userID, batchID, fresh)
	}
	const chunk = 500
	for i := 0; i < len(fresh); i += chunk {
		part := fresh[i:min(i+chunk, len(fresh))]
		builders := make([]*ent.ObservationCreate, len(part))
		for j, c := range part {
			b := tx.Observation.Create().SetUserID(userID).SetMetric(c.Sample.Metric).SetUnit(c.Unit).
				SetLocalDay(c.Sample.LocalDay).SetObservedAt(storedTime(c.Sample.ObservedAt)).
				SetUtcOffsetSeconds(c.Sample.UTCOffsetSeconds).SetSource(c.Sample.Source).
				SetBatchID(batchID).SetMissing(c.Missing)
			if !c.Missing {
				b.SetValue(c.Value)
			}
			if len(c.Flags) > 0 {
				b.SetFlags(c.Flags)
			}
			builders[j] = b
		}
		if err := tx.Observation.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("storing observations: %w", err)
		}
	}
	return nil
}

// storePostgres is PostgreSQL's fast path, in the caller's transaction:
// the batch's new observations are streamed with COPY straight into
// observations (storeCopy). COPY has no ON CONFLICT, so it runs under a
// savepoint: when a concurrent ingestion stored one of the batch's natural
// keys after existingKeys looked (unique violation, SQLSTATE 23505), the
// COPY is rolled back to the savepoint and the batch goes through the
// INSERT … ON CONFLICT DO NOTHING path (storeUnnest), which skips those
// keys and refuses the batch with ECONFLICT, as it always did: all or
// nothing holds (the counts already written in the batch row would be
// wrong), the client re-sends and gets those samples counted as
// duplicates. Without a database/sql transaction under tx (a debug
// driver) storeUnnest is the only path.
func storePostgres(ctx context.Context, tx *ent.Tx, userID, batchID string, fresh []metrics.Checked) error {
	if len(fresh) == 0 {
		return nil
	}
	stx := tx.SQLTx()
	if stx == nil {
		return storeUnnest(ctx, tx, userID, batchID, fresh)
	}
	if _, err := stx.ExecContext(ctx, "SAVEPOINT vg_ingest_copy"); err != nil {
		return fmt.Errorf("storing observations: %w", err)
	}
	err := storeCopy(ctx, stx, userID, batchID, fresh)
	var pqErr *pq.Error
	switch {
	case err == nil:
		if _, err := stx.ExecContext(ctx, "RELEASE SAVEPOINT vg_ingest_copy"); err != nil {
			return fmt.Errorf("storing observations: %w", err)
		}
		return nil
	case errors.As(err, &pqErr) && pqErr.Code == uniqueViolation:
		if _, err := stx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT vg_ingest_copy"); err != nil {
			return fmt.Errorf("storing observations: %w", err)
		}
		if _, err := stx.ExecContext(ctx, "RELEASE SAVEPOINT vg_ingest_copy"); err != nil {
			return fmt.Errorf("storing observations: %w", err)
		}
		return storeUnnest(ctx, tx, userID, batchID, fresh)
	default:
		return fmt.Errorf("storing observations: %w", err)
	}
}

// uniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const uniqueViolation = "23505"

// beforeCopy, when set (tests), runs after the duplicate lookup and the
// savepoint, right before the COPY of userID's batch.
var beforeCopy func(ctx context.Context, userID string)

// copyColumns are the columns storeCopy streams, in order.
var copyColumns = []string{
	"id", "metric", "value", "missing", "unit", "local_day", "observed_at",
	"utc_offset_seconds", "source", "flags", "created_at", "batch_id", "user_id",
}

// storeCopy streams fresh into observations with COPY (lib/pq CopyIn: the
// rows are buffered and sent in 64 KB messages; the last Exec ends the COPY
// and reports its error).
func storeCopy(ctx context.Context, stx *sql.Tx, userID, batchID string, fresh []metrics.Checked) (err error) {
	if beforeCopy != nil {
		beforeCopy(ctx, userID)
	}
	st, err := stx.PrepareContext(ctx, pq.CopyIn("observations", copyColumns...))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}()
	// Times travel as RFC 3339 text (lib/pq's own time encoding was most of
	// the COPY's Go CPU); created_at is the same for every row.
	now := time.Now().Format(time.RFC3339Nano)
	var buf []byte
	for _, c := range fresh {
		var value, flags any
		if !c.Missing {
			value = c.Value
		}
		f, ok, err := flagsJSON(c)
		if err != nil {
			return err
		}
		if ok {
			flags = f // a string: lib/pq would send []byte as bytea
		}
		buf = storedTime(c.Sample.ObservedAt).AppendFormat(buf[:0], time.RFC3339Nano)
		if _, err := st.ExecContext(ctx, pulid.New(observationPrefix), c.Sample.Metric, value, c.Missing, c.Unit,
			c.Sample.LocalDay, string(buf), int64(c.Sample.UTCOffsetSeconds), c.Sample.Source,
			flags, now, batchID, userID); err != nil {
			return err
		}
	}
	_, err = st.ExecContext(ctx)
	return err
}

// flagsJSON is c's quality flags as stored (JSON); ok is false when it has
// none (stored as NULL).
func flagsJSON(c metrics.Checked) (string, bool, error) {
	if len(c.Flags) == 0 {
		return "", false, nil
	}
	b, err := json.Marshal(c.Flags)
	if err != nil {
		return "", false, fmt.Errorf("encoding flags: %w", err)
	}
	return string(b), true, nil
}

func concurrentErr(skipped int) error {
	return engine.Errorf(engine.ECONFLICT, "%d samples of this batch were stored by a concurrent ingestion; nothing was stored: re-send the batch", skipped)
}

// insertObservationsSQL stores a whole batch in one statement: the columns
// travel as arrays and are unnested into the table. A natural key stored by
// a concurrent batch since existingKeys looked is skipped by ON CONFLICT,
// and counted (allStored).
const insertObservationsSQL = `INSERT INTO observations
  (id, metric, value, missing, unit, local_day, observed_at, utc_offset_seconds, source, flags, created_at, batch_id, user_id)
SELECT u.id, u.metric, u.value, u.missing, u.unit, u.local_day, u.observed_at, u.utc_offset_seconds, u.source, u.flags, $11, $12, $13
FROM unnest($1::text[], $2::text[], $3::float8[], $4::bool[], $5::text[], $6::text[], $7::timestamptz[], $8::int8[], $9::text[], $10::jsonb[])
  AS u(id, metric, value, missing, unit, local_day, observed_at, utc_offset_seconds, source, flags)
ON CONFLICT (user_id, metric, source, local_day, observed_at) DO NOTHING`

// storeUnnest stores the batch with one INSERT of unnested arrays. The
// arrays travel as PostgreSQL array literals written here (arrayLiteral),
// one text parameter per column.
func storeUnnest(ctx context.Context, tx *ent.Tx, userID, batchID string, fresh []metrics.Checked) error {
	n := len(fresh)
	var cols [10]arrayLiteral
	for i := range cols {
		cols[i].start(n)
	}
	var buf []byte
	for _, c := range fresh {
		cols[0].text(pulid.New(observationPrefix))
		cols[1].text(c.Sample.Metric)
		if c.Missing {
			cols[2].null()
		} else {
			cols[2].raw(strconv.AppendFloat(buf[:0], c.Value, 'g', -1, 64))
		}
		cols[3].raw(strconv.AppendBool(buf[:0], c.Missing))
		cols[4].text(c.Unit)
		cols[5].text(c.Sample.LocalDay)
		buf = storedTime(c.Sample.ObservedAt).AppendFormat(buf[:0], time.RFC3339Nano)
		cols[6].raw(buf)
		cols[7].raw(strconv.AppendInt(buf[:0], int64(c.Sample.UTCOffsetSeconds), 10))
		cols[8].text(c.Sample.Source)
		f, ok, err := flagsJSON(c)
		if err != nil {
			return err
		}
		if ok {
			cols[9].text(f)
		} else {
			cols[9].null()
		}
	}
	res, err := tx.ExecContext(ctx, insertObservationsSQL,
		cols[0].end(), cols[1].end(), cols[2].end(), cols[3].end(), cols[4].end(), cols[5].end(),
		cols[6].end(), cols[7].end(), cols[8].end(), cols[9].end(), time.Now(), batchID, userID)
	return allStored(res, err, n)
}

// arrayLiteral writes a one-dimensional PostgreSQL array literal:
// {"a","b\"c",NULL,1.5}.
type arrayLiteral struct{ b []byte }

func (a *arrayLiteral) start(n int) { a.b = append(make([]byte, 0, 16*n+2), '{') }

func (a *arrayLiteral) sep() {
	if len(a.b) > 1 {
		a.b = append(a.b, ',')
	}
}

// text appends s quoted, with " and \ escaped.
func (a *arrayLiteral) text(s string) {
	a.sep()
	a.b = append(a.b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b = append(a.b, '\\')
		}
		a.b = append(a.b, s[i])
	}
	a.b = append(a.b, '"')
}

// raw appends an element that needs no quoting (a number, t/f, a time).
func (a *arrayLiteral) raw(v []byte) {
	a.sep()
	a.b = append(a.b, v...)
}

func (a *arrayLiteral) null() {
	a.sep()
	a.b = append(a.b, "NULL"...)
}

func (a *arrayLiteral) end() string { return string(append(a.b, '}')) }

// observationPrefix is Observation's global-ID prefix (ent/schema/observation.go).
const observationPrefix = "obs"

// invalid builds the EINVALID error listing every problem.
func invalid(problems []metrics.Problem) error {
	list := make([]map[string]any, len(problems))
	for i, p := range problems {
		list[i] = map[string]any{"index": p.Index, "field": p.Field, "code": p.Code, "message": p.Message}
	}
	first := problems[0]
	msg := fmt.Sprintf("%d problem(s) in the batch; nothing was stored; first: sample %d: %s", len(problems), first.Index, first.Message)
	if first.Index < 0 {
		msg = fmt.Sprintf("%s; nothing was stored", first.Message)
	}
	return engine.Errorf(engine.EINVALID, "%s", msg).WithDetails("problems", list)
}

func naturalKey(metric, source, day string, at time.Time) string {
	return metric + "|" + source + "|" + day + "|" + storedTime(at).Format(time.RFC3339Nano)
}

// storedTime is t as the databases keep it: UTC, microsecond precision.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// existingKeys returns the natural keys among cs already stored for userID.
// With bounded (PostgreSQL, where observed_at compares as a time, not as
// text) it reads only rows between the batch's first and last time.
func existingKeys(ctx context.Context, tx *ent.Tx, userID string, cs []metrics.Checked, bounded bool) (map[string]bool, error) {
	days := map[string]bool{}
	mets := map[string]bool{}
	srcs := map[string]bool{}
	var first, last time.Time
	for i, c := range cs {
		days[c.Sample.LocalDay] = true
		mets[c.Sample.Metric] = true
		srcs[c.Sample.Source] = true
		at := storedTime(c.Sample.ObservedAt)
		if i == 0 || at.Before(first) {
			first = at
		}
		if i == 0 || at.After(last) {
			last = at
		}
	}
	out := map[string]bool{}
	if len(cs) == 0 {
		return out, nil
	}
	dayList := keys(days) // sorted: local days are YYYY-MM-DD
	// The sources too, so that on PostgreSQL the natural key's unique index
	// (user, metric, source, local day, observed-at) serves the whole
	// lookup, the time bounds included, instead of reading every row of the
	// batch's days and filtering.
	where := []predicate.Observation{
		observation.UserID(userID), observation.LocalDayIn(dayList...),
		observation.MetricIn(keys(mets)...), observation.SourceIn(keys(srcs)...),
	}
	if bounded {
		// A stored duplicate has one of the batch's (stored) times, so it
		// lies between the first and the last: the bounds keep the rows of
		// neighbouring batches on the same days out.
		// The days' range as well: a duplicate's day is one of the batch's,
		// and the range bounds the index scan on (user, metric, source,
		// local day) even when the planner keeps the day list as a filter
		// (it did on a table growing faster than its statistics: the
		// lookup read every index entry of the user's metric).
		where = append(where, observation.ObservedAtGTE(first), observation.ObservedAtLTE(last),
			observation.LocalDayGTE(dayList[0]), observation.LocalDayLTE(dayList[len(dayList)-1]))
	}
	rows, err := tx.Observation.Query().Where(where...).
		Select(observation.FieldMetric, observation.FieldSource, observation.FieldLocalDay, observation.FieldObservedAt).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up existing samples: %w", err)
	}
	for _, r := range rows {
		out[naturalKey(r.Metric, r.Source, r.LocalDay, r.ObservedAt)] = true
	}
	return out, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// contentHash identifies a batch's content independent of sample order:
// the SHA-256 of the sorted lines, one per sample, each the JSON array
// [metric, source, localDay, observedAt (UTC, RFC 3339), value, unit,
// missing] as json.Marshal writes it. Stored hashes are compared on replay,
// so the bytes never change (hashLine writes them without reflection;
// TestContentHashLinesAreJSONMarshal).
func contentHash(cs []metrics.Checked) string {
	lines := make([]string, len(cs))
	var buf []byte
	for i, c := range cs {
		buf = hashLine(buf[:0], c)
		lines[i] = string(buf)
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		buf = append(append(buf[:0], l...), '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashLine appends c's line of contentHash to b: what json.Marshal makes of
// the array, which it still makes for a string that needs escaping or a
// value that is not finite.
func hashLine(b []byte, c metrics.Checked) []byte {
	if math.IsInf(c.Value, 0) || math.IsNaN(c.Value) {
		line, _ := json.Marshal([]any{
			c.Sample.Metric, c.Sample.Source, c.Sample.LocalDay,
			c.Sample.ObservedAt.UTC().Format(time.RFC3339Nano), c.Value, c.Unit, c.Missing,
		})
		return append(b, line...)
	}
	b = append(b, '[')
	b = appendJSONString(b, c.Sample.Metric)
	b = append(b, ',')
	b = appendJSONString(b, c.Sample.Source)
	b = append(b, ',')
	b = appendJSONString(b, c.Sample.LocalDay)
	b = append(b, ',', '"')
	b = c.Sample.ObservedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"', ',')
	b = appendJSONFloat(b, c.Value)
	b = append(b, ',')
	b = appendJSONString(b, c.Unit)
	b = append(b, ',')
	b = strconv.AppendBool(b, c.Missing)
	return append(b, ']')
}

// appendJSONString appends s as json.Marshal writes it: quoted as it is
// when it is printable ASCII without ", \, <, > or &; else json.Marshal's
// own encoding.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat appends a finite f as json.Marshal writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// SetConnection records a provider connection's status as of at, creating
// the connection on first use, and audits the change.
func (s *Service) SetConnection(ctx context.Context, tx *ent.Tx, userID string, provider providerconnection.Provider, status providerconnection.Status, at time.Time) (*ent.ProviderConnection, error) {
	at = storedTime(at)
	c, err := tx.ProviderConnection.Query().
		Where(providerconnection.UserID(userID), providerconnection.ProviderEQ(provider)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		create := tx.ProviderConnection.Create().SetUserID(userID).SetProvider(provider).SetStatus(status)
		if status == providerconnection.StatusCONNECTED {
			create.SetConnectedAt(at)
		} else {
			create.SetDisconnectedAt(at)
		}
		c, err = create.Save(ctx)
	case err == nil:
		upd := c.Update().SetStatus(status)
		if status == providerconnection.StatusCONNECTED {
			upd.SetConnectedAt(at).ClearDisconnectedAt()
		} else if c.Status == providerconnection.StatusCONNECTED || c.DisconnectedAt == nil {
			upd.SetDisconnectedAt(at)
		}
		c, err = upd.Save(ctx)
	}
	if err != nil {
		return nil, err
	}
	if s.Recorder != nil {
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "ProviderConnection", EntityID: c.ID, Action: "set_status",
			Decision: strings.ToLower(string(status)), Reason: fmt.Sprintf("%s is %s", provider, status),
			Details: map[string]any{"provider": string(provider), "status": string(status), "at": at.Format(time.RFC3339)},
		}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Clock returns the service's current time.
func (s *Service) Clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// allStored checks that a set-based INSERT … ON CONFLICT DO NOTHING stored
// all n rows: fewer means a concurrent batch stored some of the same keys
// after the duplicate lookup, and the batch is refused (ECONFLICT).
func allStored(res sql.Result, err error, n int) error {
	if err != nil {
		return fmt.Errorf("storing observations: %w", err)
	}
	stored, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("storing observations: %w", err)
	}
	if int(stored) != n {
		return concurrentErr(n - int(stored))
	}
	return nil
}
