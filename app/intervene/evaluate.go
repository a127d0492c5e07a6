package intervene

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/adherencelog"
	"github.com/vitalgraph/vitalgraph/ent/evaluation"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/ent/narrative"
	"github.com/vitalgraph/vitalgraph/app/record"
)

// Evaluated is the outcome of Evaluate.
type Evaluated struct {
	Evaluation *ent.Evaluation
	Narrative  *ent.Narrative
	Result     evaluate.Evaluation
}

// Evaluate compares the experiment's window with the 28 days before it,
// stores the Evaluation with its evidence, narrates it within the claim
// policy (an LLM narrative that violates the policy or is late is replaced by
// the template narrative, and the replacement is audited) and announces both
// on the feed. ECONFLICT when the experiment never started.
func (s *Service) Evaluate(ctx context.Context, tx *ent.Tx, userID, interventionID string) (Evaluated, error) {
	var out Evaluated
	itv, err := tx.Intervention.Get(ctx, interventionID)
	if err != nil {
		return out, err
	}
	if itv.StartDay == nil || (itv.Status != intervention.StatusACTIVE && itv.Status != intervention.StatusCOMPLETED) {
		return out, engine.Errorf(engine.ECONFLICT, "only a started experiment can be evaluated (this one is %s)", itv.Status)
	}
	if itv.Status == intervention.StatusCOMPLETED {
		// A completed experiment has one final evaluation: return it.
		prev, err := tx.Evaluation.Query().Where(evaluation.InterventionID(itv.ID)).
			Order(ent.Desc(evaluation.FieldCreatedAt)).First(ctx)
		if err == nil {
			out.Evaluation = prev
			out.Narrative, _ = tx.Narrative.Query().Where(narrative.SubjectID(prev.ID)).First(ctx)
			return out, nil
		}
		if !ent.IsNotFound(err) {
			return out, err
		}
	}
	m, _ := metrics.Lookup(itv.TargetMetric)
	start, err := series.ParseDay(*itv.StartDay)
	if err != nil {
		return out, engine.Errorf(engine.EINTERNAL, "stored start day is malformed")
	}
	today, _, err := s.today(ctx, tx, userID)
	if err != nil {
		return out, err
	}
	end := series.AddDays(start, itv.PlannedDays-1)
	hist, err := s.metricSeries(ctx, tx, userID, itv.TargetMetric, series.AddDays(start, -evaluate.DefaultBaselineDays), end)
	if err != nil {
		return out, err
	}
	logs, err := tx.AdherenceLog.Query().Where(adherencelog.InterventionID(itv.ID)).All(ctx)
	if err != nil {
		return out, err
	}
	adh := make(map[series.Day]bool, len(logs))
	for _, l := range logs {
		if d, err := series.ParseDay(l.Day); err == nil {
			adh[d] = l.Adherent
		}
	}
	dir := 1
	if itv.ExpectedDirection == intervention.ExpectedDirectionDECREASE {
		dir = -1
	}
	lag := itv.LagDays
	if lag == 0 {
		lag = evaluate.NoLag
	}
	now := today
	if now.After(end) {
		now = series.Day{}
	}
	ev, err := evaluate.Evaluate(evaluate.Input{
		Metric: itv.TargetMetric, Series: hist, Start: start, PlannedDays: itv.PlannedDays, LagDays: lag,
		Adherence: adh, ExpectedDirection: dir, LogRatio: itv.TargetMetric == metrics.KeySteps, Now: now,
	})
	if err != nil {
		return out, err
	}
	out.Result = ev
	ciExcl := ev.CIExcludesZero
	adherence := ev.Adherence
	a := evidence.Assess(evidence.Input{
		Confidence: ev.Confidence, SampleSize: ev.SampleSize, Coverage: ev.Coverage,
		PlannedDays: ev.Intervention.Planned, CIExcludesZero: &ciExcl, TrendFlag: ev.Trend.Fired, Adherence: &adherence,
	})
	pp := ev.PerProtocol
	details := map[string]any{
		"sourceMetrics": []string{itv.TargetMetric},
		"detectors":     []string{"hedges_g", "ar1_adjusted_ci", "nap", "piecewise_trend_guard"},
		"window":        map[string]string{"from": ev.Intervention.From.Format(time.DateOnly), "to": ev.Intervention.To.Format(time.DateOnly)},
		"lagWindow":     map[string]string{"from": ev.Lag.From.Format(time.DateOnly), "to": ev.Lag.To.Format(time.DateOnly)},
		"thresholds": map[string]any{
			"adherence": evaluate.AdherenceThreshold, "minCoverage": evaluate.MinCoverage,
			"trendFraction": evaluate.TrendFraction, "gradeA": "confidence ≥ 0.8, n ≥ 30, coverage ≥ 0.7, CI excludes 0",
		},
		"perProtocol": estimateMap(pp), "intentionToTreat": estimateMap(ev.ITT),
		"trend": map[string]any{
			"fired": ev.Trend.Fired, "slopePerDay": finite(ev.Trend.Slope), "beta2": finite(ev.Trend.B2),
			"drift": finite(ev.Trend.Drift), "threshold": finite(ev.Trend.Threshold),
		},
		"interventionCoverage": ev.Intervention.Coverage, "adherentDays": ev.AdherentDays,
		"unadjustedGrade": string(ev.Assessment.BaseGrade), "assessedGrade": string(a.Grade),
	}
	create := tx.Evaluation.Create().SetUserID(userID).SetInterventionID(itv.ID).SetMetric(itv.TargetMetric).
		SetBaselineFrom(ev.Baseline.From.Format(time.DateOnly)).SetBaselineTo(ev.Baseline.To.Format(time.DateOnly)).
		SetInterventionFrom(ev.Intervention.From.Format(time.DateOnly)).SetInterventionTo(ev.Intervention.To.Format(time.DateOnly)).
		SetBaselineCoverage(evidence.Clamp01(ev.Baseline.Coverage)).SetAdherence(evidence.Clamp01(ev.Adherence)).
		SetReliable(ev.Reliable).SetReasons(nonNil(ev.Reasons)).SetCaveats(evaluationCaveats(ev)).
		SetEvidenceGrade(ev.Grade).SetConfidence(evidence.Clamp01(ev.Confidence)).SetSampleSize(ev.SampleSize).
		SetCoverage(evidence.Clamp01(ev.Coverage)).SetWhy(a.Why).SetHowConfident(a.HowConfident).
		SetWhatWouldChange(a.WhatWouldChange).SetDetails(details)
	if pp.Defined {
		create.SetEffect(pp.Delta).SetCiLow(pp.CILow).SetCiHigh(pp.CIHigh).SetHedgesG(pp.HedgesG)
	}
	if ev.ITT.Defined {
		create.SetEffectItt(ev.ITT.Delta)
	}
	if ev.MDE > 0 && !math.IsInf(ev.MDE, 0) {
		create.SetMde(ev.MDE)
	}
	saved, err := create.Save(ctx)
	if err != nil {
		return out, fmt.Errorf("saving evaluation: %w", err)
	}
	out.Evaluation = saved
	reason := fmt.Sprintf("grade %s; reliable=%t", ev.Grade, ev.Reliable)
	if len(ev.Reasons) > 0 {
		reason += "; " + strings.Join(ev.Reasons, "; ")
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Evaluation", EntityID: saved.ID, Action: "evaluate", Decision: "grade_" + string(ev.Grade),
		Reason: reason, Details: details,
	}); err != nil {
		return out, err
	}
	if _, err := s.Recorder.Feed(ctx, tx, userID, feedevent.KindEVALUATION_CREATED, saved.ID, map[string]any{
		"interventionId": itv.ID, "evidenceGrade": string(ev.Grade),
	}); err != nil {
		return out, err
	}
	facts := narrate.Facts{
		Subject: itv.Title, MetricKey: m.Key, MetricName: lower(m.Name), Unit: m.CanonicalUnit,
		Grade: ev.Grade, Delta: pp.Delta, CILow: pp.CILow, CIHigh: pp.CIHigh, N: pp.N, M: pp.M,
		Coverage: ev.Coverage, Adherence: &adherence, MDE: ev.MDE, SafetyText: itv.SafetyBoundary,
		Caveats: narrateCaveats(ev), Reliable: ev.Reliable, PeriodFrom: ev.Intervention.From, PeriodTo: ev.Intervention.To,
	}
	if !pp.Defined {
		facts.Delta, facts.CILow, facts.CIHigh = 0, math.NaN(), math.NaN()
	}
	facts.NoEffectSignal = pp.Defined && !ev.CIExcludesZero && math.Abs(pp.NAP-0.5) <= noEffectNAPBand
	res := s.Narrator.Narrate(ctx, facts)
	nar, err := tx.Narrative.Create().SetUserID(userID).SetSubjectType(narrative.SubjectTypeEVALUATION).
		SetSubjectID(saved.ID).SetText(res.Narrative.Text).SetSource(narrativeSource(res.Narrative.Source)).
		SetEvidenceGrade(res.Narrative.Grade).SetSafetyText(itv.SafetyBoundary).
		SetReplaced(res.Replaced).SetReplaceReason(res.ReplaceReason).Save(ctx)
	if err != nil {
		return out, fmt.Errorf("saving narrative: %w", err)
	}
	out.Narrative = nar
	if res.Replaced {
		violations := make([]map[string]any, len(res.Violations))
		for i, v := range res.Violations {
			violations[i] = map[string]any{"code": string(v.Code), "phrase": v.Phrase, "message": v.Message}
		}
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "Narrative", EntityID: nar.ID, Action: "replace", Decision: res.ReplaceReason,
			Reason:  "the LLM narrative was replaced by the template narrative: " + res.ReplaceReason,
			Details: map[string]any{"violations": violations, "latencyMs": res.LatencyMS},
		}); err != nil {
			return out, err
		}
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Narrative", EntityID: nar.ID, Action: "narrate", Decision: string(nar.Source),
		Reason:  fmt.Sprintf("narrative for evaluation %s at grade %s passed the claim policy", saved.ID, nar.EvidenceGrade),
		Details: map[string]any{"evaluationId": saved.ID, "replaced": res.Replaced, "latencyMs": res.LatencyMS},
	}); err != nil {
		return out, err
	}
	_, err = s.Recorder.Feed(ctx, tx, userID, feedevent.KindNARRATIVE_CREATED, nar.ID, map[string]any{"evaluationId": saved.ID})
	return out, err
}

func narrateCaveats(ev evaluate.Evaluation) []string {
	var out []string
	for _, c := range ev.Caveats {
		if c == evaluate.CaveatTrend {
			out = append(out, narrate.CaveatTrend)
		}
	}
	if ev.Adherence < evaluate.AdherenceThreshold {
		out = append(out, narrate.CaveatLowAdherence)
	}
	if ev.Coverage < 0.7 {
		out = append(out, narrate.CaveatLowCoverage)
	}
	if ev.PerProtocol.Defined && math.Abs(ev.PerProtocol.Delta) < ev.MDE {
		out = append(out, narrate.CaveatBelowMDE)
	}
	return out
}

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

func lower(s string) string {
	if s == "" {
		return s
	}
	b := []rune(s)
	if b[0] >= 'A' && b[0] <= 'Z' && (len(b) < 2 || !(b[1] >= 'A' && b[1] <= 'Z')) {
		b[0] += 'a' - 'A'
	}
	return string(b)
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
	out, err := s.Evaluate(ctx, tx, userID, interventionID)
	if err != nil {
		return "", err
	}
	return out.Evaluation.ID, nil
}

// noEffectNAPBand: NAP within 0.5 ± this band means the phases overlap
// almost completely, which is what no effect looks like (DOMAIN.md G4a).
const noEffectNAPBand = 0.1

// insufficientCoverage is the caveat of an evaluation whose intervention
// window has less coverage than grade B needs (DOMAIN.md G3).
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
