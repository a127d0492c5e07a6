// Package safety decides, before an intervention (an n-of-1 experiment)
// starts, how risky it is, how strong the prior evidence for it is, what the
// person must not do while it runs (the boundary text) and whether a human
// must review it first. It also holds the intervention guardrails: the limit
// on active experiments per metric, suppression during rapid swings and
// invalidation when a safety input changes.
//
// The package is pure and deterministic: the same Inputs always yield the
// same Decision, with every rule recorded as a Check for the audit trail.
//
// # Rule set
//
// The risk level is the highest floor raised by any rule (LOW < MODERATE <
// HIGH). Rules are evaluated in this order and each one yields one Check:
//
//  1. kind_base_risk: the protocol kind's own risk (see the table below).
//     Fails when the base risk is above LOW.
//  2. medication_change: MEDICATION_CHANGE is always HIGH and is never
//     started automatically. Fails for MEDICATION_CHANGE.
//  3. flag_<flag> (one check per known flag, in the order of Flags): the
//     floor a set user flag raises for the protocol kind (see the flag
//     table). Fails when the flag is set and raises the floor above LOW.
//  4. target_metric: clinical vital signs (spo2, respiratory_rate,
//     skin_temperature, skin_temp_deviation) raise the floor to MODERATE;
//     cardiac metrics (resting_hr, hrv_rmssd, hrv_sdnn) do so when
//     CARDIAC_CONDITION is set. Fails when it raises the floor.
//  5. evidence_prior: the prior evidence grade for the kind on the target
//     metric (see the evidence table). Informational: it never changes the
//     risk; it fails when the prior grade is D.
//
// HIGH implies RequiresReview and CanAutoStart() == false.
//
// Base risk and boundary text per kind:
//
//	kind                    base risk  kind-specific boundary sentence
//	CAFFEINE_CUTOFF         LOW        Do not replace caffeine with other stimulants.
//	SLEEP_SCHEDULE          LOW        Do not drive or operate machinery if you feel drowsy.
//	SCREEN_CURFEW           LOW        Keep any device you need for medical alerts switched on.
//	ALCOHOL_REDUCTION       LOW        If you drink heavily every day, do not stop suddenly without medical advice.
//	EXERCISE_TIMING         LOW        Do not exercise through chest pain, faintness or unusual breathlessness.
//	MEDITATION              LOW        Stop the practice if it brings up distress that does not pass.
//	FASTING                 MODERATE   Do not fast for longer than planned, and eat if you feel shaky, confused or faint.
//	SUPPLEMENT              MODERATE   Do not exceed the labelled dose or combine it with medicines it may interact with.
//	COLD_EXPOSURE           MODERATE   Never do cold exposure alone or in open water, and get warm at once if you shiver uncontrollably or feel numb.
//	TRAINING_LOAD_INCREASE  MODERATE   Do not train through pain, chest discomfort or illness.
//	MEDICATION_CHANGE       HIGH       Do not start, stop or change any medication as part of an experiment.
//
// Flag floors (a blank cell means the flag raises nothing for that kind):
//
//	flag                     HIGH for                                                    MODERATE for
//	PREGNANT                 FASTING, SUPPLEMENT, COLD_EXPOSURE, TRAINING_LOAD_INCREASE  -
//	CARDIAC_CONDITION        FASTING, COLD_EXPOSURE, TRAINING_LOAD_INCREASE              EXERCISE_TIMING, SUPPLEMENT
//	DIABETES                 FASTING                                                     SUPPLEMENT, COLD_EXPOSURE, TRAINING_LOAD_INCREASE, EXERCISE_TIMING
//	EATING_DISORDER_HISTORY  FASTING                                                     SUPPLEMENT, TRAINING_LOAD_INCREASE
//	UNDER_18                 FASTING, SUPPLEMENT, COLD_EXPOSURE, TRAINING_LOAD_INCREASE  -
//	ON_MEDICATION            FASTING, SUPPLEMENT                                         COLD_EXPOSURE, TRAINING_LOAD_INCREASE
//
// Prior evidence per kind and target metric (any metric not listed is D).
// It is an editorial, deliberately conservative rating of the published
// evidence that the kind moves the metric; no kind is rated A, because no
// population result transfers with high certainty to one person:
//
//	CAFFEINE_CUTOFF         sleep_duration B, sleep_efficiency B, hrv_rmssd C, resting_hr C
//	SLEEP_SCHEDULE          sleep_duration B, sleep_efficiency B, hrv_rmssd C, resting_hr C
//	SCREEN_CURFEW           sleep_duration C, sleep_efficiency C
//	ALCOHOL_REDUCTION       hrv_rmssd B, resting_hr B, sleep_efficiency B, sleep_duration C
//	EXERCISE_TIMING         sleep_duration C, sleep_efficiency C, hrv_rmssd C
//	MEDITATION              hrv_rmssd C, resting_hr C, respiratory_rate C, sleep_efficiency C
//	FASTING                 resting_hr C
//	SUPPLEMENT              (none: D)
//	COLD_EXPOSURE           (none: D)
//	TRAINING_LOAD_INCREASE  strain B, steps B, resting_hr C, hrv_rmssd C
//	MEDICATION_CHANGE       (none: D)
//
// The boundary text is the kind sentence followed by the risk sentence:
//
//	LOW       Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.
//	MODERATE  Stop at once and talk to a clinician if you feel faint, dizzy, short of breath or unwell. Do not change prescribed medication without your doctor.
//	HIGH      Do not start this until a clinician has reviewed it. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor.
//
// Boundary texts are fixed templates: narratives must carry them verbatim
// (engine/claims enforces this).
package safety
