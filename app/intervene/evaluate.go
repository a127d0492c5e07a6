package intervene

import (
	"context"
	"math"

	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
)

func estimateMap(e evaluate.Estimate) map[string]any {
	if !e.Defined {
		return map[string]any{"defined": false, "n": e.N, "m": e.M}
	}
	return map[string]any{
		"defined": true, "n": e.N, "m": e.M, "meanA": e.MeanA, "meanB": e.MeanB, "delta": e.Delta,
		"hedgesG": e.HedgesG, "seG": e.SEG, "nap": e.NAP, "tau": e.Tau, "rStar": e.RStar, "rhoPosterior": e.RhoPosterior,
		"seDelta": e.SEDelta, "df": e.DF, "ciLow": e.CILow, "ciHigh": e.CIHigh, "p": e.P,
	}
}

func finite(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CompleteAndEvaluate completes an active experiment whose window ended and
// evaluates it (implements loop.Evaluator).
func (s *Service) CompleteAndEvaluate(ctx context.Context, tx *ent.Tx, userID, interventionID string) (string, error) {
	itv, err := tx.Intervention.Get(ctx, interventionID)
	if err != nil {
		return "", err
	}
	if itv.Status == intervention.StatusACTIVE {
		if _, err := s.Complete(ctx, tx, userID, interventionID); err != nil {
			return "", err
		}
	}
	// The loop's transaction may already hold the user's row lock: the
	// automatic final evaluation is narrated by the template, never by the
	// LLM (no network I/O under a lock).
	out, err := s.evaluate(ctx, tx, userID, interventionID, false)
	if err != nil {
		return "", err
	}
	return out.Evaluation.ID, nil
}

// insufficientCoverage is the caveat of an evaluation whose intervention
// window has less coverage than grade B needs (docs/domain.md G3).
const insufficientCoverage = "insufficient coverage"

// evaluationCaveats are the engine's caveats plus "insufficient coverage"
// below the grade-B coverage threshold.
func evaluationCaveats(ev evaluate.Evaluation) []string {
	out := append([]string{}, ev.Caveats...)
	if ev.Coverage < evidence.Table[1].Coverage {
		out = append(out, insufficientCoverage)
	}
	return out
}
