package safety

import (
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
)

// The rule tables below are the single source of the rules documented in
// doc.go; keep the two in step.

type kindRule struct {
	base     RiskLevel
	boundary string
	prior    map[string]evidence.Grade
}

var kindRules = map[ProtocolKind]kindRule{
	KindCaffeineCutoff: {
		RiskLow, "Do not replace caffeine with other stimulants.",
		map[string]evidence.Grade{metrics.KeySleepDuration: evidence.GradeB, metrics.KeySleepEfficiency: evidence.GradeB, metrics.KeyHRVRMSSD: evidence.GradeC, metrics.KeyRestingHR: evidence.GradeC},
	},
	KindSleepSchedule: {
		RiskLow, "Do not drive or operate machinery if you feel drowsy.",
		map[string]evidence.Grade{metrics.KeySleepDuration: evidence.GradeB, metrics.KeySleepEfficiency: evidence.GradeB, metrics.KeyHRVRMSSD: evidence.GradeC, metrics.KeyRestingHR: evidence.GradeC},
	},
	KindScreenCurfew: {
		RiskLow, "Keep any device you need for medical alerts switched on.",
		map[string]evidence.Grade{metrics.KeySleepDuration: evidence.GradeC, metrics.KeySleepEfficiency: evidence.GradeC},
	},
	KindAlcoholReduction: {
		RiskLow, "If you drink heavily every day, do not stop suddenly without medical advice.",
		map[string]evidence.Grade{metrics.KeyHRVRMSSD: evidence.GradeB, metrics.KeyRestingHR: evidence.GradeB, metrics.KeySleepEfficiency: evidence.GradeB, metrics.KeySleepDuration: evidence.GradeC},
	},
	KindExerciseTiming: {
		RiskLow, "Do not exercise through chest pain, faintness or unusual breathlessness.",
		map[string]evidence.Grade{metrics.KeySleepDuration: evidence.GradeC, metrics.KeySleepEfficiency: evidence.GradeC, metrics.KeyHRVRMSSD: evidence.GradeC},
	},
	KindMeditation: {
		RiskLow, "Stop the practice if it brings up distress that does not pass.",
		map[string]evidence.Grade{metrics.KeyHRVRMSSD: evidence.GradeC, metrics.KeyRestingHR: evidence.GradeC, metrics.KeyRespiratoryRate: evidence.GradeC, metrics.KeySleepEfficiency: evidence.GradeC},
	},
	KindFasting: {
		RiskModerate, "Do not fast for longer than planned, and eat if you feel shaky, confused or faint.",
		map[string]evidence.Grade{metrics.KeyRestingHR: evidence.GradeC},
	},
	KindSupplement: {
		RiskModerate, "Do not exceed the labelled dose or combine it with medicines it may interact with.",
		nil,
	},
	KindColdExposure: {
		RiskModerate, "Never do cold exposure alone or in open water, and get warm at once if you shiver uncontrollably or feel numb.",
		nil,
	},
	KindTrainingLoadIncrease: {
		RiskModerate, "Do not train through pain, chest discomfort or illness.",
		map[string]evidence.Grade{metrics.KeyStrain: evidence.GradeB, metrics.KeySteps: evidence.GradeB, metrics.KeyRestingHR: evidence.GradeC, metrics.KeyHRVRMSSD: evidence.GradeC},
	},
	KindMedicationChange: {
		RiskHigh, "Do not start, stop or change any medication as part of an experiment.",
		nil,
	},
}

var riskBoundary = map[RiskLevel]string{
	RiskLow:      "Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.",
	RiskModerate: "Stop at once and talk to a clinician if you feel faint, dizzy, short of breath or unwell. Do not change prescribed medication without your doctor.",
	RiskHigh:     "Do not start this until a clinician has reviewed it. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.",
}

// flagFloors[f][k] is the minimum risk flag f imposes on kind k.
var flagFloors = map[Flag]map[ProtocolKind]RiskLevel{
	FlagPregnant: {
		KindFasting: RiskHigh, KindSupplement: RiskHigh, KindColdExposure: RiskHigh, KindTrainingLoadIncrease: RiskHigh,
	},
	FlagCardiacCondition: {
		KindFasting: RiskHigh, KindColdExposure: RiskHigh, KindTrainingLoadIncrease: RiskHigh,
		KindExerciseTiming: RiskModerate, KindSupplement: RiskModerate,
	},
	FlagDiabetes: {
		KindFasting:    RiskHigh,
		KindSupplement: RiskModerate, KindColdExposure: RiskModerate, KindTrainingLoadIncrease: RiskModerate, KindExerciseTiming: RiskModerate,
	},
	FlagEatingDisorderHistory: {
		KindFasting:    RiskHigh,
		KindSupplement: RiskModerate, KindTrainingLoadIncrease: RiskModerate,
	},
	FlagUnder18: {
		KindFasting: RiskHigh, KindSupplement: RiskHigh, KindColdExposure: RiskHigh, KindTrainingLoadIncrease: RiskHigh,
	},
	FlagOnMedication: {
		KindFasting: RiskHigh, KindSupplement: RiskHigh,
		KindColdExposure: RiskModerate, KindTrainingLoadIncrease: RiskModerate,
	},
}

// flagReasons says, in user-safe words, why a flag raises risk.
var flagReasons = map[Flag]string{
	FlagPregnant:              "changes to food, supplements, cold or training load during pregnancy need a clinician's advice",
	FlagCardiacCondition:      "cold shock, fasting and heavier training strain the heart",
	FlagDiabetes:              "fasting and changes in activity can cause low blood sugar",
	FlagEatingDisorderHistory: "restriction and compensatory exercise can trigger relapse",
	FlagUnder18:               "fasting, supplements, cold exposure and heavier training are not advised for minors without supervision",
	FlagOnMedication:          "fasting and supplements can interact with medication",
}

// vitalSignMetrics are clinical vital signs: trying to move them raises the
// risk to at least MODERATE.
var vitalSignMetrics = []string{metrics.KeySpO2, metrics.KeyRespiratoryRate, metrics.KeySkinTemperature, metrics.KeySkinTempDeviation}

// cardiacMetrics raise the risk to at least MODERATE for a person with
// CARDIAC_CONDITION.
var cardiacMetrics = []string{metrics.KeyRestingHR, metrics.KeyHRVRMSSD, metrics.KeyHRVSDNN}
