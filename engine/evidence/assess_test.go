package evidence_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
)

func ptr[T any](v T) *T { return &v }

func TestAssessGradeBoundaries(t *testing.T) {
	t.Parallel()
	// Every threshold of the table is inclusive (docs/design.md "Evidence grades").
	tests := []struct {
		name string
		conf float64
		n    int
		cov  float64
		want evidence.Grade
	}{
		{"coverage 0.30 is C", 0.5, 10, 0.30, evidence.GradeC},
		{"coverage 0.2999 is D", 0.5, 10, 0.2999, evidence.GradeD},
		{"coverage 9/30 is C", 0.5, 10, 9.0 / 30, evidence.GradeC},
		{"coverage 8/30 is D", 0.5, 10, 8.0 / 30, evidence.GradeD},
		{"coverage 0.5 is B", 0.7, 20, 0.5, evidence.GradeB},
		{"coverage 0.4999 is C", 0.7, 20, 0.4999, evidence.GradeC},
		{"coverage 0.7 is A", 0.9, 40, 0.7, evidence.GradeA},
		{"coverage 0.6999 is B", 0.9, 40, 0.6999, evidence.GradeB},
		{"confidence 0.8 is A", 0.8, 40, 0.9, evidence.GradeA},
		{"confidence 0.7999 is B", 0.7999, 40, 0.9, evidence.GradeB},
		{"confidence 0.6 is B", 0.6, 40, 0.9, evidence.GradeB},
		{"confidence 0.5999 is C", 0.5999, 40, 0.9, evidence.GradeC},
		{"confidence 0.4 is C", 0.4, 40, 0.9, evidence.GradeC},
		{"confidence 0.3999 is D", 0.3999, 40, 0.9, evidence.GradeD},
		{"n 30 is A", 0.9, 30, 0.9, evidence.GradeA},
		{"n 29 is B", 0.9, 29, 0.9, evidence.GradeB},
		{"n 14 is B", 0.9, 14, 0.9, evidence.GradeB},
		{"n 13 is C", 0.9, 13, 0.9, evidence.GradeC},
		{"n 7 is C", 0.9, 7, 0.9, evidence.GradeC},
		{"n 6 is D", 0.9, 6, 0.9, evidence.GradeD},
		{"all zero is D", 0, 0, 0, evidence.GradeD},
		{"all one is A", 1, 100, 1, evidence.GradeA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := evidence.Assess(evidence.Input{Confidence: tc.conf, SampleSize: tc.n, Coverage: tc.cov})
			require.Equal(t, tc.want, a.Grade)
			require.Equal(t, tc.want, a.BaseGrade)
			require.Nil(t, a.Caveats)
			require.InDelta(t, tc.conf, a.Confidence, 0)
			require.Equal(t, tc.n, a.SampleSize)
			require.InDelta(t, tc.cov, a.Coverage, 0)
		})
	}
}

func TestAssessRules(t *testing.T) {
	t.Parallel()
	strongA := evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.8}
	withB := evidence.Input{Confidence: 0.7, SampleSize: 20, Coverage: 0.6}
	with := func(in evidence.Input, mut func(*evidence.Input)) evidence.Input {
		mut(&in)
		return in
	}
	tests := []struct {
		name    string
		in      evidence.Input
		base    evidence.Grade
		want    evidence.Grade
		caveats []string
	}{
		{"A without CI", strongA, "A", "A", nil},
		{"A with CI excluding zero", with(strongA, func(in *evidence.Input) { in.CIExcludesZero = ptr(true) }), "A", "A", nil},
		{
			"A with CI including zero drops to B",
			with(strongA, func(in *evidence.Input) { in.CIExcludesZero = ptr(false) }), "A", "B",
			[]string{"ci_includes_zero"},
		},
		{
			"B with CI including zero stays B",
			with(withB, func(in *evidence.Input) { in.CIExcludesZero = ptr(false) }), "B", "B",
			[]string{"ci_includes_zero"},
		},
		{"trend gives D", with(strongA, func(in *evidence.Input) { in.TrendFlag = true }), "A", "D", []string{"trend"}},
		{
			"adherence 0.79 lowers A", with(strongA, func(in *evidence.Input) { in.Adherence = ptr(0.79) }),
			"A", "B",
			[]string{"low_adherence"},
		},
		{
			"adherence 0.79 lowers B", with(withB, func(in *evidence.Input) { in.Adherence = ptr(0.79) }),
			"B", "C",
			[]string{"low_adherence"},
		},
		{"adherence 0.8 keeps A", with(strongA, func(in *evidence.Input) { in.Adherence = ptr(0.8) }), "A", "A", nil},
		{"adherence 0 on D stays D", evidence.Input{Adherence: ptr(0.0)}, "D", "D", []string{"low_adherence"}},
		{"CI and adherence stack", with(strongA, func(in *evidence.Input) {
			in.CIExcludesZero = ptr(false)
			in.Adherence = ptr(0.5)
		}), "A", "C", []string{"ci_includes_zero", "low_adherence"}},
		{"every caveat", with(strongA, func(in *evidence.Input) {
			in.CIExcludesZero = ptr(false)
			in.TrendFlag = true
			in.Adherence = ptr(0.5)
		}), "A", "D", []string{"ci_includes_zero", "trend", "low_adherence"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := evidence.Assess(tc.in)
			require.Equal(t, tc.base, a.BaseGrade)
			require.Equal(t, tc.want, a.Grade)
			require.Equal(t, tc.caveats, a.Caveats)
			require.NoError(t, evidence.ValidateInput(tc.in))
		})
	}
}

func TestAssessInvalidInput(t *testing.T) {
	t.Parallel()
	ok := evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.8, PlannedDays: 30, Adherence: ptr(1.0)}
	with := func(mut func(*evidence.Input)) evidence.Input {
		in := ok
		mut(&in)
		return in
	}
	tests := []struct {
		name   string
		in     evidence.Input
		reason string
	}{
		{"NaN confidence", with(func(in *evidence.Input) { in.Confidence = math.NaN() }), "confidence must be in [0, 1], got NaN"},
		{"NaN coverage", with(func(in *evidence.Input) { in.Coverage = math.NaN() }), "coverage must be in [0, 1], got NaN"},
		{"NaN adherence", with(func(in *evidence.Input) { in.Adherence = ptr(math.NaN()) }), "adherence must be in [0, 1], got NaN"},
		{"confidence above 1", with(func(in *evidence.Input) { in.Confidence = 1.01 }), "confidence must be in [0, 1], got 1.01"},
		{"negative confidence", with(func(in *evidence.Input) { in.Confidence = -0.01 }), "confidence must be in [0, 1], got -0.01"},
		{"infinite coverage", with(func(in *evidence.Input) { in.Coverage = math.Inf(1) }), "coverage must be in [0, 1], got +Inf"},
		{"negative n", with(func(in *evidence.Input) { in.SampleSize = -1 }), "sample size must be ≥ 0, got -1"},
		{"negative planned days", with(func(in *evidence.Input) { in.PlannedDays = -1 }), "planned days must be ≥ 0, got -1"},
		{"adherence above 1", with(func(in *evidence.Input) { in.Adherence = ptr(1.2) }), "adherence must be in [0, 1], got 1.2"},
		{"two problems", with(func(in *evidence.Input) {
			in.Confidence = math.NaN()
			in.SampleSize = -3
		}), "confidence must be in [0, 1], got NaN; sample size must be ≥ 0, got -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := evidence.Assess(tc.in)
			require.Equal(t, evidence.GradeD, a.Grade)
			require.Equal(t, evidence.GradeD, a.BaseGrade)
			require.Equal(t, []string{"invalid_input"}, a.Caveats)
			require.Equal(t, "Grade D: the input is invalid ("+tc.reason+"), so no higher grade can be given.", a.Why)
			require.Equal(t, "Very low certainty (grade D): the input is invalid.", a.HowConfident)
			require.Equal(t, "Correcting the input ("+tc.reason+") would allow a real grade.", a.WhatWouldChange)

			err := evidence.ValidateInput(tc.in)
			require.Error(t, err)
			require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
			require.Equal(t, "invalid evidence input: "+tc.reason, engine.ErrorMessage(err))
		})
	}
	require.NoError(t, evidence.ValidateInput(ok))
}

func TestAssessExplanations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       evidence.Input
		grade    evidence.Grade
		why      string
		how      string
		whatNext string
	}{
		{
			name:  "one more day reaches C", // ⌈0.3 × 30⌉ = 9 days, 8 valid now
			in:    evidence.Input{Confidence: 0.5, SampleSize: 8, Coverage: 8.0 / 30, PlannedDays: 30},
			grade: evidence.GradeD,
			why: "Grade D. The table gives D: confidence 0.50, n = 8, coverage 0.2667 do not meet every " +
				"grade-C threshold (confidence ≥ 0.40, n ≥ 7, coverage ≥ 0.30).",
			how:      "Very low certainty (grade D): confidence 0.50, n = 8, coverage 0.2667 (8 of 30 planned days).",
			whatNext: "1 more valid day would reach grade C.",
		},
		{
			name:  "seven more days reach B", // ⌈0.5 × 40⌉ = 20 days, 13 valid now
			in:    evidence.Input{Confidence: 0.7, SampleSize: 20, Coverage: 13.0 / 40, PlannedDays: 40},
			grade: evidence.GradeC,
			why: "Grade C. The table gives C: confidence 0.70, n = 20, coverage 0.325 meet every " +
				"grade-C threshold (confidence ≥ 0.40, n ≥ 7, coverage ≥ 0.30).",
			how:      "Low certainty (grade C): confidence 0.70, n = 20, coverage 0.325 (13 of 40 planned days).",
			whatNext: "7 more valid days would reach grade B.",
		},
		{
			name:  "days rounded against GradeOf", // 0.7 × 10 needs 7 days, 6 valid now
			in:    evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.6, PlannedDays: 10},
			grade: evidence.GradeB,
			why: "Grade B. The table gives B: confidence 0.90, n = 40, coverage 0.60 meet every " +
				"grade-B threshold (confidence ≥ 0.60, n ≥ 14, coverage ≥ 0.50).",
			how:      "Moderate certainty (grade B): confidence 0.90, n = 40, coverage 0.60 (6 of 10 planned days).",
			whatNext: "1 more valid day would reach grade A.",
		},
		{
			name:  "sample size and confidence",
			in:    evidence.Input{Confidence: 0.45, SampleSize: 10, Coverage: 0.6, PlannedDays: 30},
			grade: evidence.GradeC,
			why: "Grade C. The table gives C: confidence 0.45, n = 10, coverage 0.60 meet every " +
				"grade-C threshold (confidence ≥ 0.40, n ≥ 7, coverage ≥ 0.30).",
			how:      "Low certainty (grade C): confidence 0.45, n = 10, coverage 0.60 (18 of 30 planned days).",
			whatNext: "A sample size of at least 14 (now 10) and confidence of at least 0.60 (now 0.45) would reach grade B.",
		},
		{
			name:  "coverage without planned days",
			in:    evidence.Input{Confidence: 0.5, SampleSize: 10, Coverage: 0.25},
			grade: evidence.GradeD,
			why: "Grade D. The table gives D: confidence 0.50, n = 10, coverage 0.25 do not meet every " +
				"grade-C threshold (confidence ≥ 0.40, n ≥ 7, coverage ≥ 0.30).",
			how:      "Very low certainty (grade D): confidence 0.50, n = 10, coverage 0.25.",
			whatNext: "Coverage of at least 0.30 (now 0.25) would reach grade C.",
		},
		{
			name:  "confidence just below A",
			in:    evidence.Input{Confidence: 0.7999, SampleSize: 40, Coverage: 0.8, CIExcludesZero: ptr(true)},
			grade: evidence.GradeB,
			why: "Grade B. The table gives B: confidence 0.7999, n = 40, coverage 0.80 meet every " +
				"grade-B threshold (confidence ≥ 0.60, n ≥ 14, coverage ≥ 0.50).",
			how:      "Moderate certainty (grade B): confidence 0.7999, n = 40, coverage 0.80, 95% CI excludes zero.",
			whatNext: "Confidence of at least 0.80 (now 0.7999) would reach grade A.",
		},
		{
			name:  "CI includes zero",
			in:    evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.8, PlannedDays: 30, CIExcludesZero: ptr(false)},
			grade: evidence.GradeB,
			why: "Grade B. The table gives A: confidence 0.90, n = 40, coverage 0.80 meet every " +
				"grade-A threshold (confidence ≥ 0.80, n ≥ 30, coverage ≥ 0.70). " +
				"Lowered from A to B because the 95% CI includes zero.",
			how:      "Moderate certainty (grade B): confidence 0.90, n = 40, coverage 0.80 (24 of 30 planned days), 95% CI includes zero.",
			whatNext: "A 95% CI that excludes zero would reach grade A.",
		},
		{
			name:  "trend on an A",
			in:    evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.8, TrendFlag: true},
			grade: evidence.GradeD,
			why: "Grade D. The table gives A: confidence 0.90, n = 40, coverage 0.80 meet every " +
				"grade-A threshold (confidence ≥ 0.80, n ≥ 30, coverage ≥ 0.70). " +
				"Lowered from A to D because the trend guard fired: a drift could explain the difference.",
			how:      "Very low certainty (grade D): confidence 0.90, n = 40, coverage 0.80.",
			whatNext: "Ruling out the drift (e.g. with a randomized crossover design) would reach grade A.",
		},
		{
			name: "trend on a D",
			in: evidence.Input{
				Confidence: 0.3, SampleSize: 5, Coverage: 0.2, PlannedDays: 30, TrendFlag: true, CIExcludesZero: ptr(false),
			},
			grade: evidence.GradeD,
			why: "Grade D. The table gives D: confidence 0.30, n = 5, coverage 0.20 do not meet every " +
				"grade-C threshold (confidence ≥ 0.40, n ≥ 7, coverage ≥ 0.30). " +
				"The 95% CI includes zero (this only limits grade A). " +
				"Also, the trend guard fired: a drift could explain the difference.",
			how: "Very low certainty (grade D): confidence 0.30, n = 5, coverage 0.20 (6 of 30 planned days), " +
				"95% CI includes zero.",
			// ⌈0.3 × 30⌉ = 9 days, 6 valid now.
			whatNext: "Ruling out the drift (e.g. with a randomized crossover design), 3 more valid days, " +
				"a sample size of at least 7 (now 5) and confidence of at least 0.40 (now 0.30) would reach grade C.",
		},
		{
			name:  "low adherence",
			in:    evidence.Input{Confidence: 0.7, SampleSize: 20, Coverage: 0.6, PlannedDays: 30, Adherence: ptr(0.72)},
			grade: evidence.GradeC,
			why: "Grade C. The table gives B: confidence 0.70, n = 20, coverage 0.60 meet every " +
				"grade-B threshold (confidence ≥ 0.60, n ≥ 14, coverage ≥ 0.50). " +
				"Lowered from B to C because adherence 72% is below 80%.",
			how:      "Low certainty (grade C): confidence 0.70, n = 20, coverage 0.60 (18 of 30 planned days), adherence 72%.",
			whatNext: "Adherence of at least 80% (now 72%) would reach grade B.",
		},
		{
			name:  "adherence just below the threshold",
			in:    evidence.Input{Confidence: 0.9, SampleSize: 40, Coverage: 0.8, Adherence: ptr(0.7999)},
			grade: evidence.GradeB,
			why: "Grade B. The table gives A: confidence 0.90, n = 40, coverage 0.80 meet every " +
				"grade-A threshold (confidence ≥ 0.80, n ≥ 30, coverage ≥ 0.70). " +
				"Lowered from A to B because adherence 79.99% is below 80%.",
			how:      "Moderate certainty (grade B): confidence 0.90, n = 40, coverage 0.80, adherence 79.99%.",
			whatNext: "Adherence of at least 80% (now 79.99%) would reach grade A.",
		},
		{
			name:  "grade A",
			in:    evidence.Input{Confidence: 0.95, SampleSize: 30, Coverage: 1, PlannedDays: 30, CIExcludesZero: ptr(true), Adherence: ptr(1.0)},
			grade: evidence.GradeA,
			why: "Grade A. The table gives A: confidence 0.95, n = 30, coverage 1.00 meet every " +
				"grade-A threshold (confidence ≥ 0.80, n ≥ 30, coverage ≥ 0.70).",
			how: "High certainty (grade A): confidence 0.95, n = 30, coverage 1.00 (30 of 30 planned days), " +
				"adherence 100%, 95% CI excludes zero.",
			whatNext: "This is the highest grade; a contradicting result would lower it.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := evidence.Assess(tc.in)
			require.Equal(t, tc.grade, a.Grade)
			require.Equal(t, tc.why, a.Why)
			require.Equal(t, tc.how, a.HowConfident)
			require.Equal(t, tc.whatNext, a.WhatWouldChange)
		})
	}
}

// randomInput draws a valid input whose values often sit exactly on, or
// just below, a threshold.
func randomInput(rng *rand.Rand) evidence.Input {
	pick := func(grid []float64) float64 {
		if rng.IntN(4) == 0 {
			return rng.Float64()
		}
		return grid[rng.IntN(len(grid))]
	}
	in := evidence.Input{
		Confidence:  pick([]float64{0, 0.3999, 0.4, 0.5999, 0.6, 0.7999, 0.8, 1}),
		SampleSize:  []int{0, 6, 7, 13, 14, 29, 30, 100}[rng.IntN(8)],
		Coverage:    pick([]float64{0, 0.2999, 0.3, 0.4999, 0.5, 0.6999, 0.7, 1}),
		PlannedDays: rng.IntN(61),
		TrendFlag:   rng.IntN(4) == 0,
	}
	if rng.IntN(2) == 0 {
		in.CIExcludesZero = ptr(rng.IntN(2) == 0)
	}
	if rng.IntN(2) == 0 {
		in.Adherence = ptr(pick([]float64{0, 0.7999, 0.8, 1}))
	}
	return in
}

// raise returns in with one or more inputs improved within their domains.
func raise(rng *rand.Rand, in evidence.Input) evidence.Input {
	up := func(v float64) float64 { return v + (1-v)*rng.Float64()*float64(rng.IntN(2)) }
	out := in
	switch rng.IntN(7) {
	case 0:
		out.Confidence = up(in.Confidence)
	case 1:
		out.SampleSize += rng.IntN(20)
	case 2:
		out.Coverage = up(in.Coverage)
	case 3:
		if in.Adherence != nil {
			out.Adherence = ptr(up(*in.Adherence))
		}
	case 4:
		if in.CIExcludesZero != nil {
			out.CIExcludesZero = ptr(true)
		}
	case 5:
		out.TrendFlag = false
	default: // raise everything at once
		out.Confidence, out.SampleSize, out.Coverage = up(in.Confidence), in.SampleSize+rng.IntN(20), up(in.Coverage)
		if in.Adherence != nil {
			out.Adherence = ptr(up(*in.Adherence))
		}
		if rng.IntN(2) == 0 {
			out.TrendFlag = false
		}
	}
	return out
}

func TestPropertyGradeIsMonotone(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2024, 3))
	for i := range 20000 {
		in := randomInput(rng)
		better := raise(rng, in)
		a, b := evidence.Assess(in), evidence.Assess(better)
		require.NotContains(t, b.Caveats, evidence.CaveatInvalidInput)
		require.GreaterOrEqual(t, b.Grade.Rank(), a.Grade.Rank(), "iteration %d: %+v → %+v", i, in, better)
	}
}

func TestPropertyWhatWouldChangeNamesAHigherGrade(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(99, 1))
	for i := range 5000 {
		in := randomInput(rng)
		a := evidence.Assess(in)
		require.Equal(t, a, evidence.Assess(in), "deterministic")
		if a.Grade == evidence.GradeA {
			continue
		}
		const marker = " would reach grade "
		idx := strings.LastIndex(a.WhatWouldChange, marker)
		require.Positive(t, idx, "iteration %d: %q", i, a.WhatWouldChange)
		reached := evidence.Grade(strings.TrimSuffix(a.WhatWouldChange[idx+len(marker):], "."))
		require.Greater(t, reached.Rank(), a.Grade.Rank(), "iteration %d: %+v: %q", i, in, a.WhatWouldChange)
	}
}
