//go:build race

package evaluate

// raceEnabled: the race detector slows the simulations about tenfold, so
// they run fewer series under it (the full counts run without it in CI).
const raceEnabled = true
