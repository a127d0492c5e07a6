// Package intervene runs INTERVENE, EVALUATE and SYNTHESIZE for one user:
// starting experiments behind a safety decision, logging adherence,
// completing, evaluating honestly and narrating within the claim policy.
// Every decision writes an AuditEvent (with windows, thresholds, safety
// checks and reason) in the caller's transaction.
package intervene

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evaluate"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/safety"
	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/adherencelog"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/ent/narrative"
	"github.com/vitalgraph/vitalgraph/ent/observation"
)

// Limits on experiment plans.
const (
	MinPlannedDays = 7
	MaxPlannedDays = 180
)

// Service runs the intervention stages.
type Service struct {
	Recorder    *record.Recorder
	Narrator    Narrator // nil: the template narrator
	ActiveLimit int      // experiments per metric (≤ 0: safety.DefaultActiveLimit)
	MaxLagDays  int      // attribution lag guardrail in days: 0 allows no lag (server/config.go, default 7)
	Now         func() time.Time
	// Seed draws the seed of a crossover's randomized order (nil: a
	// cryptographically random seed). The seed is stored and audited, so
	// the order can be reproduced from it (evaluate.DrawCrossover).
	Seed func() uint64
}

// StartInput is a proposed experiment.
type StartInput struct {
	Title             string
	ProtocolKind      string
	TargetMetric      string
	ExpectedDirection intervention.ExpectedDirection
	PlannedDays       int
	LagDays           *int
	StartDay          *string
	// Design is evaluate.DesignBaselineAB (default) or evaluate.DesignCrossover
	// with Cycles cycles of two blocks of BlockDays days.
	Design            string
	Cycles, BlockDays *int
}

// MaxRetrospectiveDays is how far back a retrospective start day may lie.
const MaxRetrospectiveDays = 365

// Started is the outcome of Start.
type Started struct {
	Intervention *ent.Intervention
	Decision     safety.Decision
	MDE          float64
	Started      bool
	Message      string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) today(ctx context.Context, tx *ent.Tx, userID string) (series.Day, *ent.User, error) {
	u, _, day, err := loop.UserDay(ctx, tx, userID, s.now())
	return day, u, err
}

// planned is a validated plan with everything Start needs before it stores
// anything: the one place the plan rules, the safety decision and the
// minimum detectable effect are computed (Start and Plan share it).
type planned struct {
	in            StartInput // normalized: Design and PlannedDays set
	metric        metrics.Metric
	lag           int
	start         series.Day
	retrospective bool
	crossover     *evaluate.Crossover
	seed          uint64
	decision      safety.Decision
	active        int
	mde           float64
	mdeBasis      map[string]any
	inSwing       bool
	status        intervention.Status
	outcome       string // the audit decision: started, pending_review or suppressed
	reason        string
}

// plan validates in for userID and computes the decision Start would take,
// reading only. seed draws a crossover's order. Errors: EINVALID for a bad
// plan, ELIMIT when the metric already has the maximum of active experiments.
func (s *Service) plan(ctx context.Context, tx *ent.Tx, userID string, in StartInput, seed func() uint64) (planned, error) {
	var p planned
	m, ok := metrics.Lookup(in.TargetMetric)
	if !ok {
		return p, engine.Errorf(engine.EINVALID, "unknown target metric %q", in.TargetMetric)
	}
	if strings.TrimSpace(in.Title) == "" || len(in.Title) > 200 {
		return p, engine.Errorf(engine.EINVALID, "title must be 1 to 200 characters")
	}
	lag := m.LagDays
	if in.LagDays != nil {
		lag = *in.LagDays
	}
	maxLag := s.MaxLagDays
	switch in.Design {
	case "", evaluate.DesignBaselineAB:
		in.Design = evaluate.DesignBaselineAB
		if in.Cycles != nil || in.BlockDays != nil {
			return p, engine.Errorf(engine.EINVALID, "cycles and blockDays apply to the CROSSOVER design only")
		}
	case evaluate.DesignCrossover:
		if in.Cycles == nil || in.BlockDays == nil {
			return p, engine.Errorf(engine.EINVALID, "a CROSSOVER design needs cycles and blockDays")
		}
		if *in.BlockDays < lag+2 {
			return p, engine.Errorf(engine.EINVALID, "blockDays must be at least %d (the %d washout days plus 2)", lag+2, lag)
		}
		p.seed = seed()
		x, err := evaluate.DrawCrossover(*in.Cycles, *in.BlockDays, p.seed)
		if err != nil {
			return p, err
		}
		if in.PlannedDays != 0 && in.PlannedDays != x.PlannedDays() {
			return p, engine.Errorf(engine.EINVALID, "plannedDays must be cycles × 2 × blockDays = %d for this crossover (or omitted)", x.PlannedDays())
		}
		in.PlannedDays, p.crossover = x.PlannedDays(), &x
	default:
		return p, engine.Errorf(engine.EINVALID, "design must be BASELINE_AB or CROSSOVER")
	}
	if in.PlannedDays < MinPlannedDays || in.PlannedDays > MaxPlannedDays {
		return p, engine.Errorf(engine.EINVALID, "plannedDays must be between %d and %d", MinPlannedDays, MaxPlannedDays)
	}
	if lag < 0 || lag > maxLag || lag >= in.PlannedDays-1 {
		return p, engine.Errorf(engine.EINVALID, "lagDays must be between 0 and %d and leave at least 2 evaluation days", maxLag)
	}
	today, u, err := s.today(ctx, tx, userID)
	if err != nil {
		return p, err
	}
	start := today
	if in.StartDay != nil {
		start, err = series.ParseDay(*in.StartDay)
		if err != nil {
			return p, engine.Errorf(engine.EINVALID, "startDay must be YYYY-MM-DD")
		}
		if d := series.DaysBetween(today, start); d < -MaxRetrospectiveDays || d > 30 {
			return p, engine.Errorf(engine.EINVALID, "startDay must be within %d days before and 30 days after today", MaxRetrospectiveDays)
		}
	}
	// A start before today was chosen after the fact: an observational
	// look back, not a planned experiment (grade at most C).
	p.retrospective = start.Before(today)
	if p.retrospective && p.crossover != nil {
		return p, engine.Errorf(engine.EINVALID, "a CROSSOVER must start today or later: its order is randomized in advance")
	}
	flags := make([]safety.Flag, 0, len(u.SafetyFlags))
	for _, f := range u.SafetyFlags {
		flags = append(flags, safety.Flag(f))
	}
	dec, err := safety.Decide(safety.Inputs{MetricKey: m.Key, Kind: safety.ProtocolKind(in.ProtocolKind), Flags: flags})
	if err != nil {
		return p, err
	}
	p.decision = dec
	p.active, err = tx.Intervention.Query().
		Where(intervention.UserID(userID), intervention.TargetMetric(m.Key), intervention.StatusEQ(intervention.StatusACTIVE)).
		Count(ctx)
	if err != nil {
		return p, err
	}
	if err := safety.CheckActiveLimit(p.active, s.ActiveLimit); err != nil {
		return p, err
	}
	hist, err := s.metricSeries(ctx, tx, userID, m.Key, series.AddDays(start, -60), start)
	if err != nil {
		return p, err
	}
	p.mde, p.mdeBasis = evaluate.PlannedMDE(m, hist, start, in.PlannedDays, lag, p.crossover)
	p.inSwing = swingBefore(m, hist, start)
	p.status, p.outcome, p.reason = intervention.StatusACTIVE, "started", "safety checks passed; started"
	switch suppressed, why := safety.SuppressDuringSwing(p.inSwing); {
	case !dec.CanAutoStart():
		p.status, p.outcome = intervention.StatusPENDING_REVIEW, "pending_review"
		p.reason = "HIGH risk: needs human review before it can start; " + strings.Join(dec.Reasons, "; ")
	case suppressed:
		p.status, p.outcome, p.reason = intervention.StatusSUPPRESSED, "suppressed", why
	}
	p.in, p.metric, p.lag, p.start = in, m, lag, start
	return p, nil
}

// ArmUndrawn is the arm of every CROSSOVER day in a Plan: the order of the
// blocks is drawn at random when the experiment starts, not before.
const ArmUndrawn = "UNDRAWN"

// Plan is what Start would do with a proposed experiment, computed without
// storing anything (PlanStart).
type Plan struct {
	MDE           float64 // in Unit, the same value Start reports
	Unit          string
	PlannedDays   int
	LagDays       int
	StartDay      series.Day
	Design        string
	Retrospective bool
	Cycles        int // CROSSOVER only
	BlockDays     int // CROSSOVER only
	// Schedule is every planned day from StartDay. For a CROSSOVER the
	// cycles, blocks and washout days are as they will be, but every arm is
	// ArmUndrawn: the order is drawn at random at the start.
	Schedule []evaluate.ScheduleDay
	Decision safety.Decision
	// Status is the state Start would give the experiment now: ACTIVE,
	// PENDING_REVIEW (HIGH risk) or SUPPRESSED (rapid swing).
	Status  intervention.Status
	Message string
}

// PlanStart validates a proposed experiment and reports what Start would
// do with it now — the minimum detectable effect, the schedule and the
// safety decision — reading only: nothing is stored, audited or published.
// Errors are the ones Start gives for the same input (EINVALID, ELIMIT).
func (s *Service) PlanStart(ctx context.Context, tx *ent.Tx, userID string, in StartInput) (Plan, error) {
	// The order is not drawn here (the seed is irrelevant to the MDE and
	// the block structure), so a plan cannot be re-run until the draw suits.
	p, err := s.plan(ctx, tx, userID, in, func() uint64 { return 0 })
	if err != nil {
		return Plan{}, err
	}
	out := Plan{
		MDE: p.mde, Unit: p.metric.CanonicalUnit, PlannedDays: p.in.PlannedDays, LagDays: p.lag, StartDay: p.start,
		Design: p.in.Design, Retrospective: p.retrospective, Decision: p.decision, Status: p.status, Message: p.reason,
	}
	if p.crossover != nil {
		out.Cycles, out.BlockDays = p.crossover.Cycles, p.crossover.BlockDays
		out.Schedule = p.crossover.Schedule(p.start, p.lag)
		for i := range out.Schedule {
			out.Schedule[i].Arm = ArmUndrawn
		}
		return out, nil
	}
	out.Schedule = baselineSchedule(p.start, p.in.PlannedDays, p.lag)
	return out, nil
}

// Start validates a plan, takes the safety decision, reports the minimum
// detectable effect and starts the experiment when it is safe to: HIGH risk
// waits for human review (PENDING_REVIEW), a target metric in a rapid swing
// suppresses the start (SUPPRESSED). Errors: EINVALID for a bad plan, ELIMIT
// when the metric already has the maximum of active experiments.
func (s *Service) Start(ctx context.Context, tx *ent.Tx, userID string, in StartInput) (Started, error) {
	var out Started
	p, err := s.plan(ctx, tx, userID, in, s.seed)
	if err != nil {
		return out, err
	}
	in, m, lag, crossover, seed, dec := p.in, p.metric, p.lag, p.crossover, p.seed, p.decision
	start, retrospective, active, mdeBasis, inSwing := p.start, p.retrospective, p.active, p.mdeBasis, p.inSwing
	status, decision, reason := p.status, p.outcome, p.reason
	out.Decision, out.MDE = dec, p.mde
	checks := make([]map[string]any, len(dec.Checks))
	for i, c := range dec.Checks {
		checks[i] = map[string]any{"name": c.Name, "passed": c.Passed, "detail": c.Detail}
	}
	startStr := start.Format(time.DateOnly)
	create := tx.Intervention.Create().SetUserID(userID).SetTitle(in.Title).SetProtocolKind(in.ProtocolKind).
		SetTargetMetric(m.Key).SetExpectedDirection(in.ExpectedDirection).SetPlannedDays(in.PlannedDays).
		SetLagDays(lag).SetStatus(status).SetStatusReason(reason).
		SetRiskLevel(intervention.RiskLevel(dec.RiskLevel)).SetEvidenceGrade(dec.EvidenceGrade).
		SetSafetyBoundary(dec.Boundary).SetRequiresReview(dec.RequiresReview).SetSafetyChecks(checks).SetMde(out.MDE).
		SetDesign(intervention.Design(in.Design)).SetRetrospective(retrospective)
	if crossover != nil {
		create.SetCycles(crossover.Cycles).SetBlockDays(crossover.BlockDays).
			SetCrossoverSeed(int64(seed)).SetCrossoverOrder(crossover.InterventionFirst)
	}
	if status == intervention.StatusACTIVE {
		create.SetStartDay(startStr)
	}
	itv, err := create.Save(ctx)
	if err != nil {
		return out, fmt.Errorf("saving intervention: %w", err)
	}
	out.Intervention, out.Started, out.Message = itv, status == intervention.StatusACTIVE, reason
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Intervention", EntityID: itv.ID, Action: "start", Decision: decision, Reason: reason,
		Details: map[string]any{
			"riskLevel": string(dec.RiskLevel), "evidenceGrade": string(dec.EvidenceGrade), "boundary": dec.Boundary,
			"safetyChecks": checks, "activeOnMetric": active, "activeLimit": s.activeLimit(),
			"mde": out.MDE, "mdeBasis": mdeBasis,
			"window": map[string]any{"start": startStr, "plannedDays": in.PlannedDays, "lagDays": lag},
			"design": in.Design, "retrospective": retrospective, "crossover": crossoverDetails(crossover, seed),
			"rapidSwing": inSwing, "sourceMetrics": []string{m.Key},
		},
	}); err != nil {
		return out, err
	}
	_, err = s.Recorder.Feed(ctx, tx, userID, feedevent.KindINTERVENTION_UPDATED, itv.ID, map[string]any{"status": string(status)})
	return out, err
}

// swingBefore reports whether the metric's series hist is in a rapid swing
// that ended at most 2 days before start (the detector's swing finding).
func swingBefore(m metrics.Metric, hist series.Series, start series.Day) bool {
	res := detect.Run(detect.Input{Metric: m.Key, LnTransform: m.LnTransform, Series: hist, AsOf: series.AddDays(start, -1)}, detect.DefaultOptions())
	for _, sw := range res.Swings {
		if series.DaysBetween(sw.To, series.AddDays(start, -1)) <= 2 {
			return true
		}
	}
	return false
}

func (s *Service) activeLimit() int {
	if s.ActiveLimit > 0 {
		return s.ActiveLimit
	}
	return safety.DefaultActiveLimit
}

func (s *Service) seed() uint64 {
	if s.Seed != nil {
		return s.Seed()
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // crypto/rand.Read never fails on supported platforms
	}
	return binary.LittleEndian.Uint64(b[:]) >> 1 // stored as a non-negative int64
}

func crossoverDetails(x *evaluate.Crossover, seed uint64) map[string]any {
	if x == nil {
		return nil
	}
	return map[string]any{"seed": seed, "cycles": x.Cycles, "blockDays": x.BlockDays, "interventionFirst": x.InterventionFirst}
}

// LogAdherence records whether the protocol was followed on day (an
// intervention day up to today); logging a day again overwrites it.
func (s *Service) LogAdherence(ctx context.Context, tx *ent.Tx, userID, interventionID, day string, adherent bool, note string) (*ent.AdherenceLog, error) {
	itv, err := tx.Intervention.Get(ctx, interventionID)
	if err != nil {
		return nil, err
	}
	if itv.Status != intervention.StatusACTIVE && itv.Status != intervention.StatusCOMPLETED {
		return nil, engine.Errorf(engine.ECONFLICT, "adherence can only be logged for an active or completed experiment (this one is %s)", itv.Status)
	}
	d, err := series.ParseDay(day)
	if err != nil {
		return nil, engine.Errorf(engine.EINVALID, "day must be YYYY-MM-DD")
	}
	start, _ := series.ParseDay(*itv.StartDay)
	today, _, err := s.today(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if k := series.DaysBetween(start, d); k < 0 || k >= itv.PlannedDays || d.After(today) {
		return nil, engine.Errorf(engine.EINVALID, "day must be an experiment day (%s to %s) and not in the future",
			*itv.StartDay, series.AddDays(start, itv.PlannedDays-1).Format(time.DateOnly))
	}
	if len(note) > 1000 {
		return nil, engine.Errorf(engine.EINVALID, "note may be at most 1000 characters")
	}
	existing, err := tx.AdherenceLog.Query().Where(adherencelog.InterventionID(itv.ID), adherencelog.Day(day)).Only(ctx)
	switch {
	case err == nil:
		return existing.Update().SetAdherent(adherent).SetNote(note).Save(ctx)
	case !ent.IsNotFound(err):
		return nil, err
	}
	return tx.AdherenceLog.Create().SetUserID(userID).SetInterventionID(itv.ID).SetDay(day).
		SetAdherent(adherent).SetNote(note).Save(ctx)
}

// Complete ends an active experiment today.
func (s *Service) Complete(ctx context.Context, tx *ent.Tx, userID, interventionID string) (*ent.Intervention, error) {
	itv, err := tx.Intervention.Get(ctx, interventionID)
	if err != nil {
		return nil, err
	}
	if err := safety.CheckStep(safety.StepComplete, safety.Status(itv.Status)); err != nil {
		return nil, err
	}
	today, _, err := s.today(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	itv, err = itv.Update().SetStatus(intervention.StatusCOMPLETED).SetEndDay(today.Format(time.DateOnly)).
		SetStatusReason("completed by the user").Save(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "Intervention", EntityID: itv.ID, Action: "complete", Decision: "completed",
		Reason: "completed by the user", Details: map[string]any{"endDay": *itv.EndDay, "startDay": *itv.StartDay},
	}); err != nil {
		return nil, err
	}
	_, err = s.Recorder.Feed(ctx, tx, userID, feedevent.KindINTERVENTION_UPDATED, itv.ID, map[string]any{"status": string(itv.Status)})
	return itv, err
}

// InvalidateOnSafetyChange re-decides every active or pending experiment of
// the user after their safety flags changed from prev to next, and
// invalidates (with the reason, audited) those the change makes unsafe.
func (s *Service) InvalidateOnSafetyChange(ctx context.Context, tx *ent.Tx, userID string, prev, next []string) ([]*ent.Intervention, error) {
	itvs, err := tx.Intervention.Query().
		Where(intervention.UserID(userID), intervention.StatusIn(intervention.StatusACTIVE, intervention.StatusPENDING_REVIEW)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	var out []*ent.Intervention
	for _, itv := range itvs {
		p := safety.Inputs{MetricKey: itv.TargetMetric, Kind: safety.ProtocolKind(itv.ProtocolKind), Flags: toFlags(prev)}
		n := safety.Inputs{MetricKey: itv.TargetMetric, Kind: safety.ProtocolKind(itv.ProtocolKind), Flags: toFlags(next)}
		invalid, reason := safety.Invalidate(p, n)
		if !invalid {
			continue
		}
		upd, err := itv.Update().SetStatus(intervention.StatusINVALIDATED).SetStatusReason(reason).Save(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "Intervention", EntityID: itv.ID, Action: "invalidate", Decision: "invalidated",
			Reason: reason, Details: map[string]any{"previousFlags": prev, "flags": next, "previousStatus": string(itv.Status)},
		}); err != nil {
			return nil, err
		}
		if _, err := s.Recorder.Feed(ctx, tx, userID, feedevent.KindINTERVENTION_UPDATED, itv.ID, map[string]any{"status": string(upd.Status)}); err != nil {
			return nil, err
		}
		out = append(out, upd)
	}
	return out, nil
}

func toFlags(ss []string) []safety.Flag {
	out := make([]safety.Flag, len(ss))
	for i, s := range ss {
		out[i] = safety.Flag(s)
	}
	return out
}

// metricSeries loads the user's daily values of metric in [from, to] from
// the metric's primary source (series.PrimarySource: sources are never
// pooled). A stored day that does not parse is an error, not a skipped row.
func (s *Service) metricSeries(ctx context.Context, tx *ent.Tx, userID, metric string, from, to series.Day) (series.Series, error) {
	obs, err := tx.Observation.Query().
		Where(observation.UserID(userID), observation.Metric(metric), observation.Missing(false), observation.ValueNotNil(),
			observation.LocalDayGTE(from.Format(time.DateOnly)), observation.LocalDayLTE(to.Format(time.DateOnly))).
		All(ctx)
	if err != nil {
		return nil, err
	}
	bySource := map[string]series.Series{}
	for _, o := range obs {
		d, err := series.ParseDay(o.LocalDay)
		if err != nil {
			return nil, fmt.Errorf("observation %s has local day %q: %w", o.ID, o.LocalDay, err)
		}
		bySource[o.Source] = append(bySource[o.Source], series.Point{Day: d, Value: *o.Value})
	}
	_, best := series.Primary(bySource, from, to)
	return best, nil
}

// narrativeSource maps the narrator's source to the stored enum.
func narrativeSource(src string) narrative.Source {
	if src == narrate.SourceLLM {
		return narrative.SourceLLM
	}
	return narrative.SourceTEMPLATE
}

// UpdateSafetyFlags replaces the user's safety flags (each must be a known
// flag: EINVALID otherwise), audits the change and invalidates experiments
// the change makes unsafe; it returns the invalidated experiments.
func (s *Service) UpdateSafetyFlags(ctx context.Context, tx *ent.Tx, userID string, flags []string) ([]*ent.Intervention, error) {
	seen := map[string]bool{}
	next := make([]string, 0, len(flags))
	for _, f := range flags {
		if !safety.Flag(f).Valid() {
			return nil, engine.Errorf(engine.EINVALID, "unknown safety flag %q", f)
		}
		if !seen[f] {
			seen[f] = true
			next = append(next, f)
		}
	}
	sort.Strings(next)
	u, err := tx.User.Get(ctx, userID)
	if err != nil {
		return nil, err
	}
	prev := append([]string{}, u.SafetyFlags...)
	if err := tx.User.UpdateOneID(userID).SetSafetyFlags(next).Exec(ctx); err != nil {
		return nil, err
	}
	if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
		UserID: userID, EntityType: "User", EntityID: userID, Action: "update_safety_flags", Decision: "updated",
		Reason: "safety flags changed", Details: map[string]any{"previousFlags": prev, "flags": next},
	}); err != nil {
		return nil, err
	}
	out, err := s.InvalidateOnSafetyChange(ctx, tx, userID, prev, next)
	if out == nil {
		out = []*ent.Intervention{}
	}
	return out, err
}
