package resolvers

import (
	entsql "entgo.io/ent/dialect/sql"

	"github.com/vitalgraph/vitalgraph/ent/baseline"
	"github.com/vitalgraph/vitalgraph/ent/predicate"
)

// newestBaselinePerMetric keeps the newest baseline row of each (user,
// metric): no row of the same user and metric has a later day. The
// database answers it from the (user_id, metric, as_of_day) unique index
// instead of returning every day to be skipped in Go.
func newestBaselinePerMetric() predicate.Baseline {
	return func(s *entsql.Selector) {
		newer := entsql.Table(baseline.Table).As("newer")
		s.Where(entsql.Not(entsql.Exists(
			entsql.Select(newer.C(baseline.FieldID)).From(newer).Where(entsql.And(
				entsql.ColumnsEQ(newer.C(baseline.FieldUserID), s.C(baseline.FieldUserID)),
				entsql.ColumnsEQ(newer.C(baseline.FieldMetric), s.C(baseline.FieldMetric)),
				entsql.ColumnsGT(newer.C(baseline.FieldAsOfDay), s.C(baseline.FieldAsOfDay)),
			)),
		)))
	}
}
