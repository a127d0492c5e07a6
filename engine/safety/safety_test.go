package safety

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

func TestDecideRiskTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       Inputs
		risk     RiskLevel
		grade    evidence.Grade
		failing  []string
		autoStrt bool
	}{
		{"caffeine on sleep is low, grade B", Inputs{"sleep_duration", KindCaffeineCutoff, nil}, RiskLow, evidence.GradeB, nil, true},
		{"caffeine on steps has no prior", Inputs{"steps", KindCaffeineCutoff, nil}, RiskLow, evidence.GradeD, []string{CheckEvidencePrior}, true},
		{"pregnancy does not touch caffeine", Inputs{"sleep_duration", KindCaffeineCutoff, []Flag{FlagPregnant}}, RiskLow, evidence.GradeB, nil, true},
		{"fasting alone is moderate", Inputs{"resting_hr", KindFasting, nil}, RiskModerate, evidence.GradeC, []string{CheckKindBaseRisk}, true},
		{"fasting with diabetes is high", Inputs{"resting_hr", KindFasting, []Flag{FlagDiabetes}}, RiskHigh, evidence.GradeC, []string{CheckKindBaseRisk, "flag_diabetes"}, false},
		{"fasting with eating disorder history is high", Inputs{"resting_hr", KindFasting, []Flag{FlagEatingDisorderHistory}}, RiskHigh, evidence.GradeC, []string{CheckKindBaseRisk, "flag_eating_disorder_history"}, false},
		{"cold exposure alone is moderate", Inputs{"hrv_rmssd", KindColdExposure, nil}, RiskModerate, evidence.GradeD, []string{CheckKindBaseRisk, CheckEvidencePrior}, true},
		{"cold exposure with cardiac condition is high", Inputs{"sleep_duration", KindColdExposure, []Flag{FlagCardiacCondition}}, RiskHigh, evidence.GradeD, []string{CheckKindBaseRisk, "flag_cardiac_condition", CheckEvidencePrior}, false},
		{"cold exposure on medication is moderate", Inputs{"sleep_duration", KindColdExposure, []Flag{FlagOnMedication}}, RiskModerate, evidence.GradeD, []string{CheckKindBaseRisk, "flag_on_medication", CheckEvidencePrior}, true},
		{"medication change is always high", Inputs{"resting_hr", KindMedicationChange, nil}, RiskHigh, evidence.GradeD, []string{CheckKindBaseRisk, CheckMedicationChange, CheckEvidencePrior}, false},
		{"supplement under 18 is high", Inputs{"sleep_duration", KindSupplement, []Flag{FlagUnder18}}, RiskHigh, evidence.GradeD, []string{CheckKindBaseRisk, "flag_under_18", CheckEvidencePrior}, false},
		{"exercise timing with cardiac condition is moderate", Inputs{"sleep_duration", KindExerciseTiming, []Flag{FlagCardiacCondition}}, RiskModerate, evidence.GradeC, []string{"flag_cardiac_condition"}, true},
		{"meditation on spo2 is moderate (vital sign)", Inputs{"spo2", KindMeditation, nil}, RiskModerate, evidence.GradeD, []string{CheckTargetMetric, CheckEvidencePrior}, true},
		{"meditation on resting hr with cardiac condition is moderate", Inputs{"resting_hr", KindMeditation, []Flag{FlagCardiacCondition}}, RiskModerate, evidence.GradeC, []string{CheckTargetMetric}, true},
		{"training load on strain is moderate, grade B", Inputs{"strain", KindTrainingLoadIncrease, nil}, RiskModerate, evidence.GradeB, []string{CheckKindBaseRisk}, true},
		{"duplicate flags are harmless", Inputs{"strain", KindTrainingLoadIncrease, []Flag{FlagPregnant, FlagPregnant}}, RiskHigh, evidence.GradeB, []string{CheckKindBaseRisk, "flag_pregnant"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.risk, d.RiskLevel)
			require.Equal(t, tc.grade, d.EvidenceGrade)
			require.Equal(t, tc.risk == RiskHigh, d.RequiresReview)
			require.Equal(t, tc.autoStrt, d.CanAutoStart())
			require.Equal(t, Boundary(tc.in.Kind, tc.risk), d.Boundary)

			// Every rule is evaluated, in a fixed order.
			names := make([]string, 0, len(d.Checks))
			var failing []string
			for _, c := range d.Checks {
				names = append(names, c.Name)
				require.NotEmpty(t, c.Detail)
				if !c.Passed {
					failing = append(failing, c.Name)
				}
			}
			require.Equal(t, allCheckNames(), names)
			require.Equal(t, tc.failing, failing)
			require.Len(t, d.Reasons, len(tc.failing))
		})
	}
}

func allCheckNames() []string {
	out := []string{CheckKindBaseRisk, CheckMedicationChange}
	for _, f := range Flags {
		out = append(out, FlagCheckName(f))
	}
	return append(out, CheckTargetMetric, CheckEvidencePrior)
}

func TestDecideMedicationChangeNeverAutoStarts(t *testing.T) {
	t.Parallel()
	flagSets := [][]Flag{nil, {FlagPregnant}, Flags}
	for _, fs := range flagSets {
		d, err := Decide(Inputs{MetricKey: "sleep_duration", Kind: KindMedicationChange, Flags: fs})
		require.NoError(t, err)
		require.Equal(t, RiskHigh, d.RiskLevel)
		require.True(t, d.RequiresReview)
		require.False(t, d.CanAutoStart())
		require.Contains(t, d.Boundary, "Do not start, stop or change any medication as part of an experiment.")
	}
}

func TestDecideIsDeterministicAndHighImpliesReview(t *testing.T) {
	t.Parallel()
	metrics := []string{"sleep_duration", "resting_hr", "hrv_rmssd", "spo2", "steps", "strain", "respiratory_rate"}
	for _, k := range Kinds {
		for _, m := range metrics {
			for _, f := range append([]Flag{""}, Flags...) {
				var fs []Flag
				if f != "" {
					fs = []Flag{f}
				}
				in := Inputs{MetricKey: m, Kind: k, Flags: fs}
				d1, err := Decide(in)
				require.NoError(t, err)
				d2, err := Decide(in)
				require.NoError(t, err)
				require.Equal(t, d1, d2)
				require.GreaterOrEqual(t, d1.RiskLevel.Rank(), kindRules[k].base.Rank())
				if d1.RiskLevel == RiskHigh {
					require.True(t, d1.RequiresReview, "%v", in)
					require.False(t, d1.CanAutoStart(), "%v", in)
				}
				require.NotEmpty(t, d1.Boundary)
			}
		}
	}
}

func TestDecideInvalidInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Inputs
	}{
		{"empty metric", Inputs{MetricKey: " ", Kind: KindMeditation}},
		{"unknown kind", Inputs{MetricKey: "steps", Kind: "HOMEOPATHY"}},
		{"empty kind", Inputs{MetricKey: "steps"}},
		{"unknown flag", Inputs{MetricKey: "steps", Kind: KindMeditation, Flags: []Flag{"VEGAN"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decide(tc.in)
			require.Error(t, err)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
		})
	}
}

func TestBoundaryTemplates(t *testing.T) {
	t.Parallel()
	require.Equal(t,
		"Do not replace caffeine with other stimulants. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.",
		Boundary(KindCaffeineCutoff, RiskLow))
	require.Equal(t,
		"Do not fast for longer than planned, and eat if you feel shaky, confused or faint. Do not start this until a clinician has reviewed it. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.",
		Boundary(KindFasting, RiskHigh))
	require.Equal(t, riskBoundary[RiskHigh], Boundary("UNKNOWN", "BOGUS"))
	for _, k := range Kinds {
		for _, r := range []RiskLevel{RiskLow, RiskModerate, RiskHigh} {
			require.Contains(t, Boundary(k, r), "Do not change prescribed medication without your doctor.")
		}
	}
}

func TestCheckActiveLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		active, limit int
		code          string
	}{
		{"none active", 0, 0, ""},
		{"third may start under default", 2, 0, ""},
		{"fourth is refused under default", 3, 0, engine.ELIMIT},
		{"custom limit 1", 1, 1, engine.ELIMIT},
		{"custom limit 5", 4, 5, ""},
		{"negative limit means default", 3, -1, engine.ELIMIT},
		{"negative active", -1, 3, engine.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckActiveLimit(tc.active, tc.limit)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tc.code, engine.ErrorCode(err))
		})
	}
}

func TestSuppressDuringSwing(t *testing.T) {
	t.Parallel()
	s, reason := SuppressDuringSwing(true)
	require.True(t, s)
	require.Equal(t, SwingReason, reason)
	s, reason = SuppressDuringSwing(false)
	require.False(t, s)
	require.Empty(t, reason)
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	caffeine := Inputs{MetricKey: "sleep_duration", Kind: KindCaffeineCutoff}
	fasting := Inputs{MetricKey: "resting_hr", Kind: KindFasting}
	tests := []struct {
		name      string
		prev, nxt Inputs
		invalid   bool
		contains  string
	}{
		{"no change", caffeine, caffeine, false, ""},
		{"irrelevant new flag", caffeine, Inputs{"sleep_duration", KindCaffeineCutoff, []Flag{FlagPregnant}}, false, ""},
		{"new flag raises risk", fasting, Inputs{"resting_hr", KindFasting, []Flag{FlagDiabetes}}, true, "risk rose from MODERATE to HIGH"},
		{"protocol change raises risk", caffeine, Inputs{"sleep_duration", KindColdExposure, nil}, true, "risk rose from LOW to MODERATE"},
		{"flag removed lowers risk", Inputs{"resting_hr", KindFasting, []Flag{FlagDiabetes}}, fasting, false, ""},
		{"same risk but a new failing check", Inputs{"resting_hr", KindExerciseTiming, []Flag{FlagDiabetes}}, Inputs{"resting_hr", KindExerciseTiming, []Flag{FlagDiabetes, FlagCardiacCondition}}, true, "flag_cardiac_condition now fails"},
		{"target metric change loses prior evidence", caffeine, Inputs{"steps", KindCaffeineCutoff, nil}, true, "evidence_prior now fails"},
		{"invalid next inputs", caffeine, Inputs{"sleep_duration", "BOGUS", nil}, true, "new safety inputs are invalid"},
		{"invalid previous inputs", Inputs{}, caffeine, true, "previous safety inputs are invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			invalid, reason := Invalidate(tc.prev, tc.nxt)
			require.Equal(t, tc.invalid, invalid)
			if tc.contains == "" {
				require.Empty(t, reason)
				return
			}
			require.Contains(t, reason, tc.contains)
		})
	}
}

func TestEnumValues(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"LOW", "MODERATE", "HIGH"}, RiskLevel("").Values())
	require.Len(t, ProtocolKind("").Values(), len(kindRules))
	require.Len(t, Flag("").Values(), len(flagFloors))
	require.False(t, RiskLevel("").Valid())
	for _, k := range Kinds {
		require.True(t, k.Valid())
	}
}

// TestRuleTablesNameOnlyRegisteredMetrics: every metric a safety rule names
// is a key of the metric registry (a typo or a metric that does not exist,
// like "body_temperature", would silently never match).
func TestRuleTablesNameOnlyRegisteredMetrics(t *testing.T) {
	t.Parallel()
	var named []string
	for _, r := range kindRules {
		for m := range r.prior {
			named = append(named, m)
		}
	}
	named = append(named, vitalSignMetrics...)
	named = append(named, cardiacMetrics...)
	for _, m := range named {
		_, ok := metrics.Lookup(m)
		require.True(t, ok, "%q is not a registered metric", m)
	}
	require.Contains(t, vitalSignMetrics, metrics.KeySkinTempDeviation)
}
