package limits

import (
	"fmt"
	"strings"
)

// WorstCase is a generated document built to make validation or execution
// expensive; Document's limits are designed against this set (its test
// asserts each is refused, `make bench` times each refusal).
type WorstCase struct {
	Name  string
	Query string
}

// WorstCases returns the generated worst cases at size n (repetitions; 7000
// is the 21 KB document). Each is written against Vitalgraph's
// schema (metrics, systemStatus) and stays within a 15000-token parser limit
// at n = 7000 except where noted by its name.
func WorstCases(n int) []WorstCase {
	rep := func(s string, k int) string { return strings.Repeat(s, k) }
	numbered := func(format string, k int) string {
		var b strings.Builder
		for i := range k {
			fmt.Fprintf(&b, format, i, i)
		}
		return b.String()
	}
	return []WorstCase{
		{"duplicated field", "{ metrics { " + rep("name ", n) + "} }"},
		{"duplicated field with directive", "{ metrics { " + rep("name @include(if: true) ", n/7) + "} }"},
		{"duplicated directive", "{ metrics { name " + rep("@skip(if: false) ", n/6) + "} }"},
		{"duplicated root field", "{ " + rep("metrics { name } ", n/4) + "}"},
		{"inline fragments", "{ " + rep("... on Query { metrics { name } } ", n/9) + "}"},
		{"spreads of one fragment", "{ " + rep("...F ", n/2) + "} fragment F on Query { metrics { name } }"},
		{"many fragments", "{ " + numbered2("...F%d ", n/14) + "} " + numbered2("fragment F%d on Query { metrics { name } } ", n/14)},
		{"nested duplicates", "{ metrics { " + rep("units { "+rep("token ", 40)+"} ", n/45) + "} }"},
		{"aliases", "{ metrics { " + numbered("a%d: name b%d: key ", n/6) + "} }"},
		{"duplicated argument", "{ baselines(" + rep("metric: \"x\" ", n/3) + ") { id } }"},
		{"unused variables", "query(" + numbered("$v%d: Int $w%d: Int ", n/8) + ") { metrics { name } }"},
		{"many operations", numbered("query Q%d { metrics { name } } query R%d { metrics { key } } ", n/16)},
	}
}

// WithinLimits returns documents built to cost the most while staying just
// inside Document's default limits: `make bench` times their validation
// and the test asserts they pass Document.
func WithinLimits() []WorstCase {
	rep := strings.Repeat
	nest := func(a, b, c int) string {
		return "{ " + rep("metrics { "+rep("units { "+rep("token ", c)+"} ", b)+"} ", a) + "}"
	}
	var aliases strings.Builder
	for i := range 1400 {
		fmt.Fprintf(&aliases, "a%d: name ", i)
	}
	return []WorstCase{
		{"one name 70 times", "{ metrics { " + rep("name ", 70) + "} }"},
		{"same path 7 × 7 × 1", nest(7, 7, 1)},
		{"same path 1 × 8 × 8", nest(1, 8, 8)},
		{"48 fragments of one path", "{ " + numbered2("...F%d ", 48) + "} " + numbered2("fragment F%d on Query { metrics { name } } ", 48)},
		{"1400 aliases", "{ metrics { " + aliases.String() + "} }"},
		{"100 directives", "{ metrics { " + rep("name @include(if: true) ", 50) + "key @skip(if: false) " + rep("canonicalUnit @skip(if: false) ", 49) + "} }"},
	}
}

func numbered2(format string, k int) string {
	var b strings.Builder
	for i := range k {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}
