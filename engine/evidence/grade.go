// Package evidence turns confidence, sample size and coverage into an
// evidence grade (A–D) and explains it. It is the single definition of the
// EvidenceGrade enum used by ent and GraphQL.
package evidence

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// Grade is an evidence grade, A (high certainty) to D (very low certainty).
type Grade string

// The four grades. The zero value "" is not a valid grade.
const (
	GradeA Grade = "A"
	GradeB Grade = "B"
	GradeC Grade = "C"
	GradeD Grade = "D"
)

// Grades lists all grades from the strongest to the weakest.
var Grades = []Grade{GradeA, GradeB, GradeC, GradeD}

// Values implements ent's field.EnumValues.
func (Grade) Values() []string {
	return []string{string(GradeA), string(GradeB), string(GradeC), string(GradeD)}
}

// Valid reports whether g is one of A, B, C, D.
func (g Grade) Valid() bool {
	switch g {
	case GradeA, GradeB, GradeC, GradeD:
		return true
	}
	return false
}

// Rank is 4 for A down to 1 for D and 0 for an invalid grade.
func (g Grade) Rank() int {
	switch g {
	case GradeA:
		return 4
	case GradeB:
		return 3
	case GradeC:
		return 2
	case GradeD:
		return 1
	}
	return 0
}

// AtLeast reports whether g is as strong as or stronger than min.
func (g Grade) AtLeast(minGrade Grade) bool { return g.Rank() >= minGrade.Rank() && g.Valid() }

// Lower returns the grade one step weaker than g (D stays D).
func (g Grade) Lower() Grade {
	switch g {
	case GradeA:
		return GradeB
	case GradeB:
		return GradeC
	default:
		return GradeD
	}
}

// AtLeastGrades returns every grade at least as strong as minGrade, strongest first.
func AtLeastGrades(minGrade Grade) []Grade {
	var out []Grade
	for _, g := range Grades {
		if g.AtLeast(minGrade) {
			out = append(out, g)
		}
	}
	return out
}

// String implements fmt.Stringer.
func (g Grade) String() string { return string(g) }

// MarshalGQL implements graphql.Marshaler.
func (g Grade) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(g)))
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (g *Grade) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("evidence grade must be a string, got %T", v)
	}
	if !Grade(s).Valid() {
		return fmt.Errorf("%q is not a valid evidence grade (A, B, C or D)", s)
	}
	*g = Grade(s)
	return nil
}

// Thresholds is one row of the grading table: all three must hold (inclusive).
type Thresholds struct {
	Grade      Grade
	Confidence float64
	SampleSize int
	Coverage   float64
}

// Table is the grading table of docs/design.md, strongest first. D has no row:
// it is what remains when no row holds.
var Table = []Thresholds{
	{Grade: GradeA, Confidence: 0.8, SampleSize: 30, Coverage: 0.7},
	{Grade: GradeB, Confidence: 0.6, SampleSize: 14, Coverage: 0.5},
	{Grade: GradeC, Confidence: 0.4, SampleSize: 7, Coverage: 0.3},
}

// GradeOf returns the highest grade whose every threshold holds (inclusive
// ≥ comparisons), or D when none does. NaN inputs never satisfy a threshold.
func GradeOf(confidence float64, sampleSize int, coverage float64) Grade {
	for _, t := range Table {
		if confidence >= t.Confidence && sampleSize >= t.SampleSize && coverage >= t.Coverage {
			return t.Grade
		}
	}
	return GradeD
}

// Clamp01 bounds a confidence or coverage to [0, 1]; NaN becomes 0 (no
// evidence), so a broken computation can never raise a grade.
func Clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return math.Min(x, 1)
}
