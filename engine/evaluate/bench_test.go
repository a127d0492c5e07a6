package evaluate

import "testing"

// BenchmarkEvaluate measures one Evaluate call on the G1 fixture (60 days).
func BenchmarkEvaluate(b *testing.B) {
	_, in := loadFixture(b, "g1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTQuantile measures t₀.₉₇₅ at a non-integer df.
func BenchmarkTQuantile(b *testing.B) {
	for b.Loop() {
		_ = tQuantile(0.975, 29.7)
	}
}
