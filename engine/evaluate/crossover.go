package evaluate

import (
	"math/rand/v2"
	"slices"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Arms of a crossover schedule.
const (
	ArmIntervention = "INTERVENTION"
	ArmControl      = "CONTROL"
)

// ScheduleDay is one day of a crossover schedule.
type ScheduleDay struct {
	Day   series.Day
	Cycle int    // 1-based
	Block int    // 1 or 2 within the cycle
	Arm   string // ArmIntervention or ArmControl
	// Washout days are not analysed: the previous block's effect may linger.
	Washout bool
}

// DrawCrossover draws the randomized order of a crossover. Cycles are
// randomized in pairs: a fair coin decides whether the first cycle of a pair
// runs the intervention block first, and the second cycle runs the other
// order (an odd last cycle gets its own coin). Every cycle's order is
// random, yet the orders stay balanced, so a linear drift is orthogonal to
// the arm and costs no precision (Senn 2002, §3.2: balanced AB/BA
// sequences). The draw is reproducible from seed (PCG, stream 0x5eed) and
// is pure.
// Errors: EINVALID when cycles or blockDays are out of range.
func DrawCrossover(cycles, blockDays int, seed uint64) (Crossover, error) {
	x := Crossover{Cycles: cycles, BlockDays: blockDays}
	if cycles < MinCycles || cycles > MaxCycles {
		return x, engine.Errorf(engine.EINVALID, "a crossover needs %d to %d cycles, got %d", MinCycles, MaxCycles, cycles)
	}
	if blockDays < 2 || 2*cycles*blockDays > MaxWindowDays {
		return x, engine.Errorf(engine.EINVALID, "crossover blocks must be at least 2 days and the whole plan at most %d days", MaxWindowDays)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed)) //nolint:gosec // reproducible from the stored seed, which comes from crypto/rand
	x.InterventionFirst = make([]bool, cycles)
	for c := 0; c < cycles; c += 2 {
		first := rng.IntN(2) == 1
		x.InterventionFirst[c] = first
		if c+1 < cycles {
			x.InterventionFirst[c+1] = !first
		}
	}
	return x, nil
}

// PlannedDays is the length of the whole plan, Cycles·2·BlockDays.
func (x Crossover) PlannedDays() int { return 2 * x.Cycles * x.BlockDays }

// Schedule lists every day of the plan from start, with lag washout days at
// the start of every block.
func (x Crossover) Schedule(start series.Day, lag int) []ScheduleDay {
	out := make([]ScheduleDay, 0, x.PlannedDays())
	for i := range x.PlannedDays() {
		c, block, inBlock, treated := x.position(i)
		arm := ArmControl
		if treated {
			arm = ArmIntervention
		}
		out = append(out, ScheduleDay{
			Day: series.AddDays(start, i), Cycle: c + 1, Block: block + 1, Arm: arm, Washout: inBlock < lag,
		})
	}
	return out
}

// position returns the cycle, block (0 or 1), day within the block and arm
// of day index i (0 = the start day).
func (x Crossover) position(i int) (cycle, block, inBlock int, treated bool) {
	cycle = i / (2 * x.BlockDays)
	block = (i % (2 * x.BlockDays)) / x.BlockDays
	inBlock = i % x.BlockDays
	treated = (block == 0) == x.InterventionFirst[cycle]
	return cycle, block, inBlock, treated
}

// evaluateCrossover compares intervention and control blocks within cycles:
// y = α_cycle + β·t + δ·treated + AR(1) errors, fitted on the analysed
// (non-washout, elapsed) days; δ is the effect. The cycle levels absorb slow
// changes and the common slope a linear drift, so drift cancels instead of
// reading as an effect, whatever order the coin drew.
// Source: Senn, Cross-over Trials in Clinical Research (2002), ch. 3 (period
// adjustment); Zucker et al. 2010, J Clin Epidemiol 63:1312 (n-of-1 trials).
func evaluateCrossover(in Input, cfg config) (Evaluation, error) {
	x := *in.Crossover
	ev := Evaluation{
		Metric: in.Metric, Design: DesignCrossover, Start: cfg.start, ExpectedDirection: in.ExpectedDirection,
		Complete: cfg.now >= cfg.bEnd,
	}
	adherent, logged := adherence(in.Adherence, cfg)
	vals := map[int]float64{}
	todayValue := false
	for _, p := range in.Series {
		v, err := analysisValue(p, in.LogScale)
		if err != nil {
			return ev, err
		}
		i := cfg.index(p.Day)
		if _, dup := vals[i]; dup {
			return ev, engine.Errorf(engine.EINVALID, "day %s appears more than once", p.Day.Format("2006-01-02"))
		}
		if i == cfg.today {
			todayValue = true
		}
		if i >= 0 && i <= cfg.bEnd && i <= cfg.now {
			vals[i] = v
		}
	}
	ev.End = cfg.end(todayValue)
	var control, treated, pp []obs
	ctlPlanned, trtPlanned, washPlanned := 0, 0, 0
	ctlElapsed, trtElapsed, washElapsed, washValid, adherentDays, adhDays := 0, 0, 0, 0, 0, 0
	for i := range x.PlannedDays() {
		_, _, inBlock, isTreated := x.position(i)
		elapsed := i <= cfg.now && !(i == cfg.today && !todayValue)
		v, ok := vals[i]
		switch {
		case inBlock < cfg.lag:
			washPlanned++
			if elapsed {
				washElapsed++
				if ok {
					washValid++
				}
			}
			continue
		case isTreated:
			trtPlanned++
			if elapsed {
				trtElapsed++
				adhDays++
				if adherent[i] {
					adherentDays++
				}
			} else if i == cfg.today && logged[i] {
				adhDays++
				if adherent[i] {
					adherentDays++
				}
			}
		default:
			ctlPlanned++
			if elapsed {
				ctlElapsed++
			}
		}
		if !ok {
			continue
		}
		o := obs{t: i, v: v}
		if isTreated {
			treated = append(treated, o)
			if adherent[i] {
				pp = append(pp, o)
			}
		} else {
			control = append(control, o)
		}
	}
	mkWindow := func(planned, elapsed, valid int) Window {
		w := Window{From: cfg.start, To: cfg.day(cfg.bEnd), Planned: planned, Elapsed: elapsed, Valid: valid}
		if elapsed > 0 {
			w.Coverage = float64(valid) / float64(elapsed)
		}
		return w
	}
	ev.Baseline = mkWindow(ctlPlanned, ctlElapsed, len(control))
	ev.Lag = mkWindow(washPlanned, washElapsed, washValid)
	ev.Intervention = mkWindow(trtPlanned, trtElapsed, len(treated))
	ev.AdherentDays = adherentDays
	if adhDays > 0 {
		ev.Adherence = float64(adherentDays) / float64(adhDays)
	}
	ev.PerProtocol = crossoverEstimate(x, control, pp, in)
	ev.ITT = crossoverEstimate(x, control, treated, in)
	est := ev.PerProtocol
	usable := est.Defined && est.SEDelta > 0
	if usable {
		ev.MDE = MDEMultiplier * est.SEDelta
	}
	ev.Effect = effectOf(est)
	if !est.Defined {
		ev.Reasons = append(ev.Reasons, ReasonInsufficientData)
	} else if est.SEDelta == 0 {
		ev.Reasons = append(ev.Reasons, ReasonNoVariability)
	}
	finish(&ev, in, control, usable)
	return ev, nil
}

// crossoverEstimate fits the within-cycle model on control and treated days.
func crossoverEstimate(x Crossover, control, treated []obs, in Input) Estimate {
	e := describe(control, treated, in.ExpectedDirection, in.LogRatio && !in.LogScale)
	if !e.Defined {
		return e
	}
	all := append(append([]obs{}, control...), treated...)
	cycle := func(t int) int { c, _, _, _ := x.position(t); return c }
	slices.SortFunc(all, func(a, b obs) int { return a.t - b.t })
	isTreated := make(map[int]bool, len(treated))
	for _, o := range treated {
		isTreated[o.t] = true
	}
	// Columns: one level per cycle with data, the common slope, the arm.
	col := map[int]int{}
	for _, o := range all {
		if _, ok := col[cycle(o.t)]; !ok {
			col[cycle(o.t)] = len(col)
		}
	}
	var tMean float64
	for _, o := range all {
		tMean += float64(o.t)
	}
	tMean /= float64(len(all))
	p := len(col) + 2
	t := make([]int, len(all))
	y := make([]float64, len(all))
	xs := make([][]float64, len(all))
	for i, o := range all {
		t[i], y[i] = o.t, o.v
		row := make([]float64, p)
		row[col[cycle(o.t)]] = 1
		row[p-2] = float64(o.t) - tMean
		if isTreated[o.t] {
			row[p-1] = 1
		}
		xs[i] = row
	}
	c := make([]float64, p)
	c[p-1] = 1
	setModel(&e, t, y, xs, c)
	return e
}
