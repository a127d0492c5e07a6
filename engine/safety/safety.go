package safety

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

// RiskLevel is the risk of running an intervention: LOW, MODERATE or HIGH.
// It is the single definition of the enum used by ent and GraphQL.
type RiskLevel string

// The three risk levels. The zero value "" is not a valid level.
const (
	RiskLow      RiskLevel = "LOW"
	RiskModerate RiskLevel = "MODERATE"
	RiskHigh     RiskLevel = "HIGH"
)

// Values implements ent's field.EnumValues.
func (RiskLevel) Values() []string {
	return []string{string(RiskLow), string(RiskModerate), string(RiskHigh)}
}

// Valid reports whether r is LOW, MODERATE or HIGH.
func (r RiskLevel) Valid() bool { return r.Rank() > 0 }

// Rank is 1 for LOW, 2 for MODERATE, 3 for HIGH and 0 for an invalid level.
func (r RiskLevel) Rank() int {
	switch r {
	case RiskLow:
		return 1
	case RiskModerate:
		return 2
	case RiskHigh:
		return 3
	}
	return 0
}

// String implements fmt.Stringer.
func (r RiskLevel) String() string { return string(r) }

func maxRisk(a, b RiskLevel) RiskLevel {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// ProtocolKind is the kind of an intervention protocol.
type ProtocolKind string

// The known protocol kinds (see the package documentation for their rules).
const (
	KindCaffeineCutoff       ProtocolKind = "CAFFEINE_CUTOFF"
	KindSleepSchedule        ProtocolKind = "SLEEP_SCHEDULE"
	KindScreenCurfew         ProtocolKind = "SCREEN_CURFEW"
	KindAlcoholReduction     ProtocolKind = "ALCOHOL_REDUCTION"
	KindExerciseTiming       ProtocolKind = "EXERCISE_TIMING"
	KindMeditation           ProtocolKind = "MEDITATION"
	KindFasting              ProtocolKind = "FASTING"
	KindSupplement           ProtocolKind = "SUPPLEMENT"
	KindColdExposure         ProtocolKind = "COLD_EXPOSURE"
	KindTrainingLoadIncrease ProtocolKind = "TRAINING_LOAD_INCREASE"
	KindMedicationChange     ProtocolKind = "MEDICATION_CHANGE"
)

// Kinds lists every known protocol kind in a fixed order.
var Kinds = []ProtocolKind{
	KindCaffeineCutoff, KindSleepSchedule, KindScreenCurfew, KindAlcoholReduction,
	KindExerciseTiming, KindMeditation, KindFasting, KindSupplement,
	KindColdExposure, KindTrainingLoadIncrease, KindMedicationChange,
}

// Values implements ent's field.EnumValues.
func (ProtocolKind) Values() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// Valid reports whether k is one of Kinds.
func (k ProtocolKind) Valid() bool { _, ok := kindRules[k]; return ok }

// Flag is a user attribute that can raise the risk of an intervention.
type Flag string

// The known user flags.
const (
	FlagPregnant              Flag = "PREGNANT"
	FlagCardiacCondition      Flag = "CARDIAC_CONDITION"
	FlagDiabetes              Flag = "DIABETES"
	FlagEatingDisorderHistory Flag = "EATING_DISORDER_HISTORY"
	FlagUnder18               Flag = "UNDER_18"
	FlagOnMedication          Flag = "ON_MEDICATION"
)

// Flags lists every known flag in the order their checks are evaluated.
var Flags = []Flag{
	FlagPregnant, FlagCardiacCondition, FlagDiabetes,
	FlagEatingDisorderHistory, FlagUnder18, FlagOnMedication,
}

// Values implements ent's field.EnumValues.
func (Flag) Values() []string {
	out := make([]string, len(Flags))
	for i, f := range Flags {
		out[i] = string(f)
	}
	return out
}

// Valid reports whether f is one of Flags.
func (f Flag) Valid() bool { return slices.Contains(Flags, f) }

// Inputs are the safety inputs of one intervention: the target metric key
// (e.g. "sleep_duration"), the protocol kind and the user's flags (order and
// duplicates do not matter).
type Inputs struct {
	MetricKey string
	Kind      ProtocolKind
	Flags     []Flag
}

// Check is one evaluated rule, kept for the audit trail. Passed is true when
// the rule raised nothing (for evidence_prior: when the prior grade is
// better than D); Detail says what the rule saw.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// Decision is the safety decision attached to every intervention.
//
// RiskLevel is the highest floor raised by any rule; EvidenceGrade is the
// prior evidence grade for the protocol kind on the target metric; Boundary
// is the fixed template text of what the person must not do and when to
// stop (narratives carry it verbatim); RequiresReview is true exactly when
// RiskLevel is HIGH; Checks lists every rule evaluated, in rule order;
// Reasons explains, in rule order, every check that failed.
type Decision struct {
	RiskLevel      RiskLevel
	EvidenceGrade  evidence.Grade
	Boundary       string
	RequiresReview bool
	Checks         []Check
	Reasons        []string
}

// CanAutoStart reports whether the intervention may start without a human
// review: never for HIGH risk, for a decision that requires review, or for
// an incomplete decision (invalid risk or grade, empty boundary).
func (d Decision) CanAutoStart() bool {
	return d.RiskLevel.Valid() && d.RiskLevel != RiskHigh && !d.RequiresReview &&
		d.EvidenceGrade.Valid() && d.Boundary != ""
}

// FindCheck returns the check named name and whether it exists.
func (d Decision) FindCheck(name string) (Check, bool) {
	for _, c := range d.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Check names, in evaluation order (flag checks are "flag_" + lower-case
// flag, one per entry of Flags, between medication_change and target_metric).
const (
	CheckKindBaseRisk     = "kind_base_risk"
	CheckMedicationChange = "medication_change"
	CheckTargetMetric     = "target_metric"
	CheckEvidencePrior    = "evidence_prior"
)

// FlagCheckName returns the name of the check evaluated for flag f.
func FlagCheckName(f Flag) string { return "flag_" + strings.ToLower(string(f)) }

// Decide evaluates the rule set documented in the package doc and returns
// the decision. It returns *engine.Error EINVALID when the metric key is
// empty, the kind is unknown or a flag is unknown.
func Decide(in Inputs) (Decision, error) {
	if err := in.validate(); err != nil {
		return Decision{}, err
	}
	kr := kindRules[in.Kind]
	metric := strings.TrimSpace(in.MetricKey)
	has := func(f Flag) bool { return slices.Contains(in.Flags, f) }

	d := Decision{RiskLevel: RiskLow}
	add := func(c Check, floor RiskLevel) {
		d.Checks = append(d.Checks, c)
		if !c.Passed {
			d.Reasons = append(d.Reasons, c.Detail)
		}
		d.RiskLevel = maxRisk(d.RiskLevel, floor)
	}

	// 1. Base risk of the kind.
	add(Check{
		Name:   CheckKindBaseRisk,
		Passed: kr.base == RiskLow,
		Detail: fmt.Sprintf("%s carries %s risk on its own", in.Kind, kr.base),
	}, kr.base)

	// 2. Medication changes are never self-experiments.
	if in.Kind == KindMedicationChange {
		add(Check{
			Name:   CheckMedicationChange,
			Passed: false,
			Detail: "medication changes are HIGH risk and need a clinician's review; they are never started automatically",
		}, RiskHigh)
	} else {
		add(Check{Name: CheckMedicationChange, Passed: true, Detail: "not a medication change"}, RiskLow)
	}

	// 3. One check per known flag.
	for _, f := range Flags {
		name := FlagCheckName(f)
		if !has(f) {
			add(Check{Name: name, Passed: true, Detail: fmt.Sprintf("%s not set", f)}, RiskLow)
			continue
		}
		floor, ok := flagFloors[f][in.Kind]
		if !ok || floor == RiskLow {
			add(Check{Name: name, Passed: true, Detail: fmt.Sprintf("%s set; no extra risk for %s", f, in.Kind)}, RiskLow)
			continue
		}
		add(Check{
			Name:   name,
			Passed: false,
			Detail: fmt.Sprintf("%s set: %s is at least %s risk (%s)", f, in.Kind, floor, flagReasons[f]),
		}, floor)
	}

	// 4. Target metric.
	switch {
	case slices.Contains(vitalSignMetrics, metric):
		add(Check{
			Name:   CheckTargetMetric,
			Passed: false,
			Detail: fmt.Sprintf("%s is a clinical vital sign; a change can signal illness, so the risk is at least MODERATE", metric),
		}, RiskModerate)
	case slices.Contains(cardiacMetrics, metric) && has(FlagCardiacCondition):
		add(Check{
			Name:   CheckTargetMetric,
			Passed: false,
			Detail: fmt.Sprintf("%s reflects the heart and CARDIAC_CONDITION is set, so the risk is at least MODERATE", metric),
		}, RiskModerate)
	default:
		add(Check{Name: CheckTargetMetric, Passed: true, Detail: fmt.Sprintf("%s raises no extra risk", metric)}, RiskLow)
	}

	// 5. Prior evidence (informational; never changes the risk).
	d.EvidenceGrade = PriorEvidence(in.Kind, metric)
	add(Check{
		Name:   CheckEvidencePrior,
		Passed: d.EvidenceGrade != evidence.GradeD,
		Detail: priorDetail(in.Kind, metric, d.EvidenceGrade),
	}, RiskLow)

	d.RequiresReview = d.RiskLevel == RiskHigh
	d.Boundary = Boundary(in.Kind, d.RiskLevel)
	return d, nil
}

func priorDetail(k ProtocolKind, metric string, g evidence.Grade) string {
	if g == evidence.GradeD {
		return fmt.Sprintf("prior evidence that %s moves %s is very uncertain (grade D); results will be exploratory", k, metric)
	}
	return fmt.Sprintf("prior evidence that %s moves %s is grade %s", k, metric, g)
}

func (in Inputs) validate() error {
	if strings.TrimSpace(in.MetricKey) == "" {
		return engine.Errorf(engine.EINVALID, "a target metric is required")
	}
	if !in.Kind.Valid() {
		return engine.Errorf(engine.EINVALID, "unknown protocol kind %q", in.Kind)
	}
	for _, f := range in.Flags {
		if !f.Valid() {
			return engine.Errorf(engine.EINVALID, "unknown user flag %q", f)
		}
	}
	return nil
}

// PriorEvidence returns the prior evidence grade for kind k on the target
// metric key (see the evidence table in the package doc); D for any pair not
// in the table, including an unknown kind.
func PriorEvidence(k ProtocolKind, metricKey string) evidence.Grade {
	if g, ok := kindRules[k].prior[metricKey]; ok {
		return g
	}
	return evidence.GradeD
}

// Boundary returns the fixed boundary template for kind k at risk r: the
// kind's sentence followed by the risk level's sentence. An unknown kind
// yields only the risk sentence; an invalid risk is treated as HIGH.
func Boundary(k ProtocolKind, r RiskLevel) string {
	rs, ok := riskBoundary[r]
	if !ok {
		rs = riskBoundary[RiskHigh]
	}
	if kr, ok := kindRules[k]; ok {
		return kr.boundary + " " + rs
	}
	return rs
}
