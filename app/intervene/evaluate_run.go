package intervene

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/record"
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
)

// Narrator writes the narrative of an evaluation (the LLM adapter in llm/
// implements it). Every Outcome has passed narrate.Finalize or is the
// template.
type Narrator interface {
	Narrate(ctx context.Context, f narrate.Facts) narrate.Outcome
}

// Evaluated is the outcome of Evaluate.
type Evaluated struct {
	Evaluation *ent.Evaluation
	Narrative  *ent.Narrative
	Result     evaluate.Evaluation
}

// Evaluate compares the experiment with its control (the 28 days before it,
// or the control blocks of a crossover), stores the Evaluation with the
// engine's assessment, narrates it within the claim policy (an LLM
// narrative that violates the policy or is late is replaced by the template
// narrative, and the replacement is audited) and announces both on the
// feed. ECONFLICT when the experiment never started.
//
// Everything is read and computed, and the narrative written, before the
// first write: the LLM is never called while this transaction holds the
// user's row lock (the first audit event takes it), so other writers for
// the same user are not held up by a slow model.
func (s *Service) Evaluate(ctx context.Context, tx *ent.Tx, userID, interventionID string) (Evaluated, error) {
	return s.evaluate(ctx, tx, userID, interventionID, true)
}

func (s *Service) evaluate(ctx context.Context, tx *ent.Tx, userID, interventionID string, useLLM bool) (Evaluated, error) {
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
		switch {
		case err == nil:
			out.Evaluation = prev
			out.Narrative, err = tx.Narrative.Query().Where(narrative.SubjectID(prev.ID)).First(ctx)
			if err != nil && !ent.IsNotFound(err) {
				return out, fmt.Errorf("loading the narrative of evaluation %s: %w", prev.ID, err)
			}
			return out, nil
		case !ent.IsNotFound(err):
			return out, err
		}
	}
	m, ok := metrics.Lookup(itv.TargetMetric)
	if !ok {
		return out, engine.Errorf(engine.EINTERNAL, "stored target metric %q is not in the registry", itv.TargetMetric)
	}
	p, err := planOf(itv)
	if err != nil {
		return out, err
	}
	today, _, err := s.today(ctx, tx, userID)
	if err != nil {
		return out, err
	}
	hist, err := s.metricSeries(ctx, tx, userID, m.Key, series.AddDays(p.start, -evaluate.DefaultBaselineDays), p.end)
	if err != nil {
		return out, err
	}
	logs, err := tx.AdherenceLog.Query().Where(adherencelog.InterventionID(itv.ID)).All(ctx)
	if err != nil {
		return out, err
	}
	adh := make(map[series.Day]bool, len(logs))
	for _, l := range logs {
		d, err := series.ParseDay(l.Day)
		if err != nil {
			return out, engine.Errorf(engine.EINTERNAL, "stored adherence day %q is malformed", l.Day)
		}
		adh[d] = l.Adherent
	}
	in := p.input(m, hist, adh)
	// The evaluation date: today while the experiment runs (the day in
	// progress is neither missing nor non-adherent), its real end when it
	// was completed early, the planned end otherwise.
	endedEarly := false
	switch {
	case itv.Status == intervention.StatusCOMPLETED && itv.EndDay != nil:
		end, err := series.ParseDay(*itv.EndDay)
		if err != nil {
			return out, engine.Errorf(engine.EINTERNAL, "stored end day is malformed")
		}
		if end.Before(p.end) {
			in.Now, endedEarly = end, true
		}
	case !today.After(p.end):
		in.Now, in.InProgress = today, true
	}
	ev, err := evaluate.Evaluate(in)
	if err != nil {
		return out, err
	}
	out.Result = ev
	facts := narrate.FromEvaluation(ev, m, narrate.Study{
		Subject: itv.Title, SafetyText: itv.SafetyBoundary, PlannedTo: p.end, Cycles: p.cycles,
		Interim: slices.Contains(ev.Caveats, evaluate.CaveatInterim), EndedEarly: endedEarly,
	})
	res := narrate.Outcome{Narrative: narrate.Template(facts)}
	if useLLM && s.Narrator != nil {
		res = s.Narrator.Narrate(ctx, facts)
	}

	// Writes start here.
	saved, err := s.saveEvaluation(ctx, tx, userID, itv, ev)
	if err != nil {
		return out, err
	}
	out.Evaluation = saved
	out.Narrative, err = s.saveNarrative(ctx, tx, userID, itv, saved, res)
	return out, err
}

// plan is an experiment's design as stored.
type plan struct {
	start, end series.Day
	planned    int
	lag        int
	crossover  *evaluate.Crossover
	cycles     int
	retro      bool
	direction  int
}

func planOf(itv *ent.Intervention) (plan, error) {
	start, err := series.ParseDay(*itv.StartDay)
	if err != nil {
		return plan{}, engine.Errorf(engine.EINTERNAL, "stored start day is malformed")
	}
	p := plan{
		start: start, planned: itv.PlannedDays, end: series.AddDays(start, itv.PlannedDays-1), lag: itv.LagDays,
		retro: itv.Retrospective, direction: 1,
	}
	if itv.ExpectedDirection == intervention.ExpectedDirectionDECREASE {
		p.direction = -1
	}
	if itv.Design == intervention.DesignCROSSOVER {
		if itv.Cycles == nil || itv.BlockDays == nil || len(itv.CrossoverOrder) != *itv.Cycles {
			return plan{}, engine.Errorf(engine.EINTERNAL, "stored crossover plan is incomplete")
		}
		p.crossover = &evaluate.Crossover{Cycles: *itv.Cycles, BlockDays: *itv.BlockDays, InterventionFirst: itv.CrossoverOrder}
		p.cycles = *itv.Cycles
	}
	return p, nil
}

// input is the engine input of the plan.
func (p plan) input(m metrics.Metric, hist series.Series, adh map[series.Day]bool) evaluate.Input {
	lag := p.lag
	if lag == 0 {
		lag = evaluate.NoLag
	}
	return evaluate.Input{
		Metric: m.Key, Series: hist, Start: p.start, PlannedDays: p.planned, LagDays: lag, Adherence: adh,
		ExpectedDirection: p.direction, LogRatio: m.Key == metrics.KeySteps, LogScale: m.LnTransform,
		MinImportantDiff: m.MinImportantDiff, Retrospective: p.retro, Crossover: p.crossover,
	}
}

// saveEvaluation stores ev with its audit event and feed event. The grade,
// confidence and explanation are the engine's single assessment.
func (s *Service) saveEvaluation(ctx context.Context, tx *ent.Tx, userID string, itv *ent.Intervention, ev evaluate.Evaluation) (*ent.Evaluation, error) {
	pp, a, e := ev.PerProtocol, ev.Assessment, ev.Effect
	details := map[string]any{
		"sourceMetrics": []string{itv.TargetMetric},
		"design":        ev.Design,
		"detectors":     []string{"ols_ar1_integrated_interval", "hedges_g", "nap", "piecewise_drift_test"},
		"window":        map[string]string{"from": ev.Intervention.From.Format(time.DateOnly), "to": ev.End.Format(time.DateOnly)},
		"lagWindow":     map[string]string{"from": ev.Lag.From.Format(time.DateOnly), "to": ev.Lag.To.Format(time.DateOnly)},
		"thresholds": map[string]any{
			"adherence": evaluate.AdherenceThreshold, "minCoverage": evaluate.MinCoverage,
			"trendAlpha": evaluate.TrendAlpha, "trendFraction": evaluate.TrendFraction,
			"minImportantDiff": ev.MinImportantDiff, "grades": evidence.Table,
		},
		"perProtocol": estimateMap(pp), "intentionToTreat": estimateMap(ev.ITT),
		"trend": map[string]any{
			"fired": ev.Trend.Fired, "slopePerDay": finite(ev.Trend.Slope), "slopeP": finite(ev.Trend.SlopeP),
			"beta2": finite(ev.Trend.B2), "drift": finite(ev.Trend.Drift), "threshold": finite(ev.Trend.Threshold),
			"driftAdjustedEffect": finite(ev.Trend.Adjusted), "driftAdjustedSE": finite(ev.Trend.AdjustedSE),
		},
		"claim": ev.Claim, "confidence": finite(ev.Confidence), "interventionCoverage": ev.Intervention.Coverage,
		"adherentDays": ev.AdherentDays, "unadjustedGrade": string(a.BaseGrade), "gradeCaveats": nonNil(a.Caveats),
	}
	create := tx.Evaluation.Create().SetUserID(userID).SetInterventionID(itv.ID).SetMetric(itv.TargetMetric).
		SetBaselineFrom(ev.Baseline.From.Format(time.DateOnly)).SetBaselineTo(ev.Baseline.To.Format(time.DateOnly)).
		SetInterventionFrom(ev.Intervention.From.Format(time.DateOnly)).SetInterventionTo(ev.End.Format(time.DateOnly)).
		SetBaselineCoverage(evidence.Clamp01(ev.Baseline.Coverage)).SetAdherence(evidence.Clamp01(ev.Adherence)).
		SetReliable(ev.Reliable).SetReasons(nonNil(ev.Reasons)).SetCaveats(evaluationCaveats(ev)).
		SetEvidenceGrade(ev.Grade).SetConfidence(evidence.Clamp01(ev.Confidence)).SetSampleSize(ev.SampleSize).
		SetCoverage(evidence.Clamp01(ev.Coverage)).SetWhy(a.Why).SetHowConfident(a.HowConfident).
		SetWhatWouldChange(a.WhatWouldChange).SetDetails(details).
		SetClaim(evaluation.Claim(ev.Claim)).SetDirectionSupported(ev.DirectionSupported).SetInterim(slices.Contains(ev.Caveats, evaluate.CaveatInterim))
	if pp.Defined {
		create.SetEffect(e.InUnit).SetCiLow(e.InUnitLow).SetCiHigh(e.InUnitHigh).SetHedgesG(pp.HedgesG)
		if e.LogScale {
			create.SetEffectPercent(e.Percent).SetCiLowPercent(e.PercentLow).SetCiHighPercent(e.PercentHigh)
		}
	}
	if ev.ITT.Defined {
		itt := ev.ITT.Delta
		if e.LogScale {
			itt = e.BaselineLevel * math.Expm1(itt)
		}
		create.SetEffectItt(itt)
	}
	if mde := ev.MDE; mde > 0 && !math.IsInf(mde, 0) {
		if e.LogScale {
			mde = e.BaselineLevel * math.Expm1(mde)
		}
		create.SetMde(mde)
	}
	saved, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("saving evaluation: %w", err)
	}
	reason := fmt.Sprintf("grade %s; claim %s; reliable=%t", ev.Grade, ev.Claim, ev.Reliable)
	if len(ev.Reasons) > 0 {
		reason += "; " + strings.Join(ev.Reasons, "; ")
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Evaluation", EntityID: saved.ID, Action: "evaluate", Decision: "grade_" + string(ev.Grade),
		Reason: reason, Details: details,
	}); err != nil {
		return nil, err
	}
	if _, err := s.Recorder.Feed(ctx, tx, userID, feedevent.KindEVALUATION_CREATED, saved.ID, map[string]any{
		"interventionId": itv.ID, "evidenceGrade": string(ev.Grade),
	}); err != nil {
		return nil, err
	}
	return saved, nil
}

// saveNarrative stores the narrative of evaluation saved, audits a
// replacement and the narration, and announces it.
func (s *Service) saveNarrative(ctx context.Context, tx *ent.Tx, userID string, itv *ent.Intervention, saved *ent.Evaluation, res narrate.Outcome) (*ent.Narrative, error) {
	nar, err := tx.Narrative.Create().SetUserID(userID).SetSubjectType(narrative.SubjectTypeEVALUATION).
		SetSubjectID(saved.ID).SetText(res.Narrative.Text).SetSource(narrativeSource(res.Narrative.Source)).
		SetEvidenceGrade(res.Narrative.Grade).SetSafetyText(itv.SafetyBoundary).
		SetReplaced(res.Replaced).SetReplaceReason(res.ReplaceReason).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("saving narrative: %w", err)
	}
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
			return nil, err
		}
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Narrative", EntityID: nar.ID, Action: "narrate", Decision: string(nar.Source),
		Reason:  fmt.Sprintf("narrative for evaluation %s at grade %s passed the claim policy", saved.ID, nar.EvidenceGrade),
		Details: map[string]any{"evaluationId": saved.ID, "replaced": res.Replaced, "latencyMs": res.LatencyMS},
	}); err != nil {
		return nil, err
	}
	_, err = s.Recorder.Feed(ctx, tx, userID, feedevent.KindNARRATIVE_CREATED, nar.ID, map[string]any{"evaluationId": saved.ID})
	return nar, err
}

// Schedule is the day-by-day plan of a started experiment: the randomized
// blocks of a crossover (reproduced from the stored order), or the lag and
// intervention days of a BASELINE_AB design. Empty before the start.
func Schedule(itv *ent.Intervention) ([]evaluate.ScheduleDay, error) {
	if itv.StartDay == nil {
		return nil, nil
	}
	p, err := planOf(itv)
	if err != nil {
		return nil, err
	}
	if p.crossover != nil {
		return p.crossover.Schedule(p.start, p.lag), nil
	}
	return baselineSchedule(p.start, p.planned, p.lag), nil
}

// baselineSchedule is a BASELINE_AB plan's days: one intervention window
// from start whose first lag days are not analysed.
func baselineSchedule(start series.Day, planned, lag int) []evaluate.ScheduleDay {
	out := make([]evaluate.ScheduleDay, planned)
	for i := range out {
		out[i] = evaluate.ScheduleDay{Day: series.AddDays(start, i), Cycle: 1, Block: 1, Arm: evaluate.ArmIntervention, Washout: i < lag}
	}
	return out
}
