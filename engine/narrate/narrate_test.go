package narrate

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const boundary = "Do not replace caffeine with other stimulants. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor."

func ptr(v float64) *float64 { return &v }

// g1 are the facts of golden case G1 (clean "no caffeine after 2pm").
func g1() Facts {
	return Facts{
		Subject: "No caffeine after 2pm", MetricKey: "sleep_duration", MetricName: "sleep duration", Unit: "min",
		Direction: DirectionIncrease, Grade: evidence.GradeA,
		Delta: 40, CILow: 19, CIHigh: 61, N: 30, M: 28, Coverage: 1, Adherence: ptr(1), MDE: 30,
		SafetyText: boundary, Reliable: true, DirectionSupported: true, Decimals: 1,
		PeriodFrom: series.DayOf(2025, time.March, 3), PeriodTo: series.DayOf(2025, time.April, 1),
	}
}

// g2 are the facts of golden case G2 (gaps plus partial adherence).
func g2() Facts {
	f := g1()
	f.Grade, f.Delta, f.CILow, f.CIHigh, f.N, f.M = evidence.GradeB, 25, 6.4, 43.6, 18, 25
	f.Coverage, f.Adherence, f.Confounders, f.Caveats = 0.6, ptr(0.8), []string{"travel"}, []string{CaveatLowCoverage}
	return f
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		facts  func() Facts
		prefix string
		has    []string
	}{
		{
			name:   "G1 grade A increase",
			facts:  g1,
			prefix: "No caffeine after 2pm increased your sleep duration by 40.0 min for you during this experiment (95% CI 19.0 to 61.0 min; n = 30 days; coverage 100%; adherence 100%).",
			has:    []string{"The experiment ran from 2025-03-03 to 2025-04-01 and was compared with 28 baseline days.", "The smallest effect this design could reliably detect was 30.0 min."},
		},
		{
			name: "grade A decrease",
			facts: func() Facts {
				f := g1()
				f.MetricName, f.Unit, f.Direction, f.Delta, f.CILow, f.CIHigh = "resting heart rate", "bpm", DirectionDecrease, -3.2, -5.1, -1.3
				return f
			},
			prefix: "No caffeine after 2pm reduced your resting heart rate by 3.2 bpm for you during this experiment (95% CI -5.1 to -1.3 bpm;",
		},
		{
			name: "grade B, interval includes zero: no clear change and the range ruled out",
			facts: func() Facts {
				f := g2()
				f.Delta, f.CILow, f.CIHigh, f.DirectionSupported = 3, -4.2, 10.1, false
				return f
			},
			prefix: "No caffeine after 2pm probably made little to no difference to your sleep duration for you during this experiment: there was no clear change, and a change above +10.1 min or below -4.2 min is unlikely (95% CI -4.2 to 10.1 min;",
		},
		{
			name: "the interval excluding zero is never hidden behind a direction without support",
			facts: func() Facts {
				f := g1()
				f.DirectionSupported = false
				return f
			},
			prefix: "No caffeine after 2pm made little to no difference to your sleep duration for you during this experiment: there was no clear change",
		},
		{
			name: "log scale in percent, interim, with the real end",
			facts: func() Facts {
				f := g2()
				f.MetricName, f.Unit, f.LogScale, f.AtBaseline = "heart rate variability", "%", true, "about 6 ms at your usual level"
				f.Delta, f.CILow, f.CIHigh, f.Decimals, f.Interim = 12.3, 2.1, 23.4, 0, true
				f.PlannedTo = series.DayOf(2025, time.April, 10)
				return f
			},
			prefix: "No caffeine after 2pm probably increased your heart rate variability by about 12% (about 6 ms at your usual level) for you during this experiment (95% CI 2.1 to 23.4%;",
			has:    []string{"This is an interim result", "So far it covers 2025-03-03 to 2025-04-01 of a period planned to end on 2025-04-10"},
		},
		{
			name: "ended early, observational",
			facts: func() Facts {
				f := g2()
				f.EndedEarly, f.Observational, f.PlannedTo = true, true, series.DayOf(2025, time.April, 4)
				return f
			},
			has: []string{"ending 3 days before its planned end on 2025-04-04", "observational look back"},
		},
		{
			name:   "G2 grade B probably, 60% coverage, 80% adherence",
			facts:  g2,
			prefix: "No caffeine after 2pm probably increased your sleep duration by about 25.0 min for you during this experiment (95% CI 6.4 to 43.6 min; n = 18 days; coverage 60%; adherence 80%).",
			has:    []string{"could explain part of this: travel.", "Data were missing on many days", "There is some uncertainty"},
		},
		{
			name: "grade C may have",
			facts: func() Facts {
				f := g2()
				f.Grade = evidence.GradeC
				return f
			},
			prefix: "No caffeine after 2pm may have increased your sleep duration by about 25.0 min for you during this experiment",
			has:    []string{"The evidence is uncertain"},
		},
		{
			name: "G4b grade D with trend caveat",
			facts: func() Facts {
				f := g1()
				f.Grade, f.Delta, f.Caveats, f.Reliable = evidence.GradeD, 46.5, []string{CaveatTrend}, false
				return f
			},
			prefix: "We can't tell whether \"No caffeine after 2pm\" changed your sleep duration for you during this experiment; the evidence is very uncertain (estimate +46.5 min; 95% CI 19.0 to 61.0 min; n = 30 days; coverage 100%; adherence 100%).",
			has:    []string{"Your values were already drifting before the experiment", "This evaluation is marked unreliable"},
		},
		{
			name: "invalid grade is written as D",
			facts: func() Facts {
				f := g1()
				f.Grade = ""
				return f
			},
			prefix: "We can't tell whether",
		},
		{
			name: "no adherence, no CI, no period",
			facts: func() Facts {
				f := g1()
				f.Adherence, f.CILow, f.CIHigh, f.PeriodFrom, f.PeriodTo, f.M = nil, math.NaN(), math.NaN(), time.Time{}, time.Time{}, 0
				return f
			},
			prefix: "No caffeine after 2pm increased your sleep duration by 40.0 min for you during this experiment (95% CI not available; n = 30 days; coverage 100%; adherence not tracked).",
			has:    []string{"The uncertainty of this estimate could not be quantified."},
		},
		{
			name: "direction derived from delta, empty names",
			facts: func() Facts {
				f := g1()
				f.Subject, f.MetricName, f.Direction, f.Delta = "", "", "", -12
				return f
			},
			prefix: "The intervention reduced your sleep duration by 12.0 min",
		},
		{
			name: "unknown caveat is named",
			facts: func() Facts {
				f := g1()
				f.Caveats = []string{"sensor_swap", "sensor_swap"}
				return f
			},
			has: []string{"Another caveat applies (sensor_swap)."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tc.facts()
			n := Template(f)
			require.Equal(t, SourceTemplate, n.Source)
			require.True(t, strings.HasPrefix(n.Text, tc.prefix), n.Text)
			for _, h := range tc.has {
				require.Equal(t, 1, strings.Count(n.Text, h), "%q once in %s", h, n.Text)
			}
			require.True(t, strings.HasSuffix(n.Text, boundary), "safety text verbatim at the end")
			require.Empty(t, claims.Check(n.Text, f.ClaimContext()))
			require.Equal(t, n, Template(f), "deterministic")
		})
	}
}

func TestClaimContext(t *testing.T) {
	t.Parallel()
	f := g2()
	ctx := f.ClaimContext()
	require.Equal(t, evidence.GradeB, ctx.Grade)
	require.Equal(t, boundary, ctx.SafetyText)
	require.Equal(t, 18, ctx.N)
	require.InDelta(t, 6.4, *ctx.CILow, 1e-12)
	require.InDelta(t, 43.6, *ctx.CIHigh, 1e-12)
	require.InDelta(t, 0.8, *ctx.Adherence, 1e-12)
	require.Equal(t, []string{"travel"}, ctx.Confounders)
	require.True(t, ctx.RequireScope)
	require.Equal(t, []string{"No caffeine after 2pm", "sleep duration"}, ctx.Names)

	f.CILow = math.Inf(-1)
	require.Nil(t, f.ClaimContext().CILow)
}

func TestFinalize(t *testing.T) {
	t.Parallel()
	f := g2()
	compliant := "For you during this experiment, No caffeine after 2pm probably increased your sleep duration by about 25 min " +
		"(95% CI 6.4 to 43.6 min; n = 18 days; coverage 60%; adherence 80%). The estimate is uncertain, and travel may explain part of it. " + boundary
	tests := []struct {
		name      string
		candidate string
		replaced  bool
		codes     []claims.Code
	}{
		{"compliant candidate is kept", "  " + compliant + "\n", false, nil},
		{"unhedged verb", strings.Replace(compliant, "probably increased", "increased", 1), true, []claims.Code{claims.CodeUnhedgedVerb}},
		{"omits the safety text", strings.Replace(compliant, boundary, "", 1), true, []claims.Code{claims.CodeMissingSafetyText}},
		{"contradicts the safety text", compliant + " Keep going even if you feel dizzy.", true, []claims.Code{claims.CodeContradictsSafety, claims.CodeContradictsSafety}},
		{"empty candidate", "", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, rep := Finalize(tc.candidate, SourceLLM, f)
			require.Equal(t, evidence.GradeB, n.Grade)
			if !tc.replaced {
				require.Nil(t, rep)
				require.Equal(t, SourceLLM, n.Source)
				require.Equal(t, strings.TrimSpace(tc.candidate), n.Text)
				return
			}
			require.NotNil(t, rep)
			require.Equal(t, ReasonClaimViolation, rep.Reason)
			require.NotEmpty(t, rep.Violations)
			require.Equal(t, Template(f), n)
			if tc.codes != nil {
				var got []claims.Code
				for _, v := range rep.Violations {
					got = append(got, v.Code)
				}
				require.Equal(t, tc.codes, got)
			}
		})
	}
}

func TestPromptGolden(t *testing.T) {
	t.Parallel()
	cases := map[string]func() Facts{
		"grade_a": g1,
		"grade_b": g2,
		"grade_c": func() Facts {
			f := g2()
			f.Grade, f.Direction, f.Delta = evidence.GradeC, DirectionDecrease, -8.5
			f.MetricName, f.MetricKey, f.Unit = "resting heart rate", "resting_hr", "bpm"
			f.CILow, f.CIHigh, f.MDE = -17.2, 0.2, 9
			return f
		},
		"grade_d": func() Facts {
			f := g1()
			f.Grade, f.Delta, f.Caveats, f.Reliable, f.Adherence = evidence.GradeD, 46.5, []string{CaveatTrend}, false, nil
			f.SafetyText = ""
			return f
		},
	}
	for name, facts := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := render(Prompt(facts()))
			path := filepath.Join("testdata", "prompt_"+name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./engine/narrate -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}

func render(r ChatRequest) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString("=== " + m.Role + " ===\n" + m.Content + "\n")
	}
	return b.String()
}

func TestPromptContents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		facts func() Facts
		sys   []string
		user  []string
	}{
		{
			"A", g1,
			[]string{"Evidence grade: A (high certainty).", "Disallowed words, in any form: cure, prove, cause, guarantee, diagnose, always"},
			[]string{"- n = 30 days", "- 95% CI 19.0 to 61.0 min", "- coverage 100%", "- adherence 100%", "Safety text (end with it, verbatim):\n" + boundary},
		},
		{
			"B", g2,
			[]string{"must directly follow one of these hedges: probably, likely", "show, demonstrate"},
			[]string{"Confounders to name: travel", "- low_coverage: Data were missing"},
		},
		{"D", func() Facts { f := g1(); f.Grade = evidence.GradeD; return f }, []string{"Do not use any directional verb (reduce, increase", "\"very uncertain\""}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Prompt(tc.facts())
			require.Len(t, r.Messages, 2)
			require.Equal(t, RoleSystem, r.Messages[0].Role)
			require.Equal(t, RoleUser, r.Messages[1].Role)
			for _, s := range tc.sys {
				require.Contains(t, r.Messages[0].Content, s)
			}
			for _, s := range tc.user {
				require.Contains(t, r.Messages[1].Content, s)
			}
		})
	}
}
