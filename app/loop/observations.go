package loop

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/observation"
)

// readObservations returns the user's observations with a value from local
// day from on, as each metric's series per source, each in (local day,
// observed-at) order and without days after asOf, and the metrics whose
// stored days cannot be read (EINTERNAL, naming an observation).
func (r *Runner) readObservations(ctx context.Context, tx *ent.Tx, userID string, from, asOf series.Day) (map[string]map[string]series.Series, map[string]error, error) {
	if r.Dialect == dialect.Postgres && mayRead(ctx, userID) {
		bySource, ok, err := readObservationsPostgres(ctx, tx, userID, from, asOf)
		if err != nil || ok {
			return bySource, map[string]error{}, err
		}
		// A day that does not parse: the ent path below names the observation.
	}
	obs, err := tx.Observation.Query().
		Where(observation.UserID(userID), observation.Missing(false), observation.ValueNotNil(),
			observation.LocalDayGTE(from.Format(time.DateOnly))).
		Order(ent.Asc(observation.FieldLocalDay), ent.Asc(observation.FieldObservedAt)).
		Select(observation.FieldMetric, observation.FieldSource, observation.FieldLocalDay, observation.FieldValue).
		All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("loading observations: %w", err)
	}
	bySource := map[string]map[string]series.Series{}
	failed := map[string]error{}
	for _, o := range obs {
		day, err := series.ParseDay(o.LocalDay)
		if err != nil {
			failed[o.Metric] = engine.Errorf(engine.EINTERNAL, "observation %s has an unreadable local day %q", o.ID, o.LocalDay)
			continue
		}
		if day.After(asOf) {
			continue
		}
		if bySource[o.Metric] == nil {
			bySource[o.Metric] = map[string]series.Series{}
		}
		bySource[o.Metric][o.Source] = append(bySource[o.Metric][o.Source], series.Point{Day: day, Value: *o.Value})
	}
	return bySource, failed, nil
}

// mayRead reports whether ctx's viewer may read userID's observations: the
// rule ent's privacy policy applies (the user themself, an admin or the
// system). Anyone else takes the ent path, whose policy then decides.
func mayRead(ctx context.Context, userID string) bool {
	v, ok := viewer.FromContext(ctx)
	return ok && (v.IsAdmin() || (v.UserID != "" && v.UserID == userID))
}

// observationsSQL reads what the loop needs of each observation, with
// observed_at as microseconds since the epoch, unordered: the rows are
// ordered per series in Go, which is much cheaper than PostgreSQL's sort
// of the local day's text under the database's collation.
const observationsSQL = `SELECT metric, source, local_day, (EXTRACT(EPOCH FROM observed_at) * 1000000)::int8, value
FROM observations
WHERE user_id = $1 AND missing = false AND value IS NOT NULL AND local_day >= $2`

// timedPoint is a point with its observation's time, to order a series.
type timedPoint struct {
	p  series.Point
	at int64 // observed_at, µs since the epoch
}

// readObservationsPostgres is readObservations on PostgreSQL. ok is false
// when a stored local day does not parse (the caller then reads through
// ent, which names the observation). Each series is sorted by (day,
// observed-at): for days that parse ("YYYY-MM-DD", equal length) that is the
// order of ORDER BY local_day, observed_at, and no two observations of one
// metric and source share both (a unique index).
func readObservationsPostgres(ctx context.Context, tx *ent.Tx, userID string, from, asOf series.Day) (_ map[string]map[string]series.Series, ok bool, _ error) {
	rows, err := tx.QueryContext(ctx, observationsSQL, userID, from.Format(time.DateOnly))
	if err != nil {
		return nil, false, fmt.Errorf("loading observations: %w", err)
	}
	defer func() { _ = rows.Close() }()
	type key struct{ metric, source string }
	days := max(series.DaysBetween(from, asOf)+1, 0)
	var (
		metric, source, localDay string
		at                       int64
		value                    float64
		order                    []key
	)
	points := map[key][]timedPoint{}
	for rows.Next() {
		if err := rows.Scan(&metric, &source, &localDay, &at, &value); err != nil {
			return nil, false, fmt.Errorf("loading observations: %w", err)
		}
		day, err := series.ParseDay(localDay)
		if err != nil {
			return nil, false, nil
		}
		if day.After(asOf) {
			continue
		}
		k := key{metric, source}
		ps, seen := points[k]
		if !seen {
			order = append(order, k)
			ps = make([]timedPoint, 0, days) // one reading a day: no regrowth
		}
		points[k] = append(ps, timedPoint{p: series.Point{Day: day, Value: value}, at: at})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("loading observations: %w", err)
	}
	bySource := map[string]map[string]series.Series{}
	for _, k := range order {
		ps := points[k]
		slices.SortFunc(ps, func(a, b timedPoint) int {
			if c := a.p.Day.Compare(b.p.Day); c != 0 {
				return c
			}
			return cmp.Compare(a.at, b.at)
		})
		s := make(series.Series, len(ps))
		for i, tp := range ps {
			s[i] = tp.p
		}
		if bySource[k.metric] == nil {
			bySource[k.metric] = map[string]series.Series{}
		}
		bySource[k.metric][k.source] = s
	}
	return bySource, true, nil
}
