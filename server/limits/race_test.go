//go:build race

package limits_test

// raceEnabled: the race detector's runtime allocates on its own, so
// allocation counts are only asserted without it (CI runs both).
const raceEnabled = true
