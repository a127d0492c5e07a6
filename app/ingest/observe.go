package ingest

import (
	"context"
	"errors"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
)

// Outcome is what Service.Observe hears about one Ingest call: a stored
// batch once its transaction commits (Result), or a refused one with the
// codes of its problems (one per bad sample). Replays of an idempotent
// batch are not reported.
type Outcome struct {
	Samples  int      // samples sent
	Stored   bool     // false: refused, nothing stored
	Result   Result   // when Stored
	Code     string   // error code when refused
	Problems []string // problem codes when refused as EINVALID
}

// observe reports the outcome of one Ingest call to s.Observe.
func (s *Service) observe(tx *ent.Tx, samples int, res Result, err error) {
	if s.Observe == nil || res.Replayed {
		return
	}
	if err != nil {
		o := Outcome{Samples: samples, Code: engine.ErrorCode(err)}
		var ee *engine.Error
		if errors.As(err, &ee) {
			if list, ok := ee.Details["problems"].([]map[string]any); ok {
				for _, p := range list {
					code, _ := p["code"].(string)
					o.Problems = append(o.Problems, code)
				}
			}
		}
		s.Observe(o)
		return
	}
	o := Outcome{Samples: samples, Stored: true, Result: res}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.Observe(o)
			}
			return err
		})
	})
}
