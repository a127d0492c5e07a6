// Command fixturegen writes the golden evaluation fixtures G1, G2 and G4b of
// docs/domain.md §6 to a directory (default engine/evaluate/testdata):
//
//	go run ./engine/evaluate/internal/fixturegen -out engine/evaluate/testdata
//
// For each scenario it writes <name>.csv (canonical day,value,adherent: one
// row per calendar day, an empty value for a missing day, an empty adherent
// cell before the intervention) and <name>.json (the planted parameters).
//
// Construction: 60 days starting Monday 2026-03-02, intervention on day 29,
// lag days 29–30, evaluation days 31–60. The noise is seeded AR(1). Every
// noise component the evaluation models could fit is projected off the
// observed days, so that the estimates equal the planted values: the mean
// and the day trend of the baseline and of the evaluation window (in G2
// separately for adherent and non-adherent days). That covers the window
// comparisons (per-window means) and the piecewise trend model of the trend
// guard. The noise is then scaled so that the observed baseline noise has a
// sample SD of exactly σ (one factor for the whole series, so the AR(1)
// structure is preserved).
//
// The data are generated once and committed; tests read them and never
// regenerate them.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fixturegen:", err)
		os.Exit(1)
	}
}

// Scenario is one golden fixture: its planted parameters, written as JSON
// next to the CSV. Day numbers are 1-based (day 1 = FirstDay).
type Scenario struct {
	Name              string   `json:"name"`
	Title             string   `json:"title"`
	Metric            string   `json:"metric"`
	Unit              string   `json:"unit"`
	TimeZone          string   `json:"timeZone"`
	FirstDay          string   `json:"firstDay"`
	Days              int      `json:"days"`
	StartDay          int      `json:"startDay"`
	Start             string   `json:"start"`
	LagDays           int      `json:"lagDays"`
	PlannedDays       int      `json:"plannedDays"`
	BaselineDays      int      `json:"baselineDays"`
	ExpectedDirection int      `json:"expectedDirection"`
	Level             float64  `json:"level"`
	DriftPerDay       float64  `json:"driftPerDay"`
	Effect            float64  `json:"effect"`
	EffectOn          string   `json:"effectOn"`
	Sigma             float64  `json:"sigma"`
	Phi               float64  `json:"phi"`
	Seed              uint64   `json:"seed"`
	MissingDays       []int    `json:"missingDays"`
	NonAdherentDays   []int    `json:"nonAdherentDays"`
	NoiseRemoved      []string `json:"noiseRemoved"`
}

const (
	effectAll      = "all intervention days"
	effectAdherent = "adherent intervention days"
)

// scenarios returns G1, G2 and G4b as docs/domain.md §6 describes them.
func scenarios() []Scenario {
	common := func(s Scenario) Scenario {
		s.Metric, s.Unit, s.TimeZone = "sleep_duration", "min", "America/New_York"
		s.FirstDay, s.Days = "2026-03-02", 60
		s.StartDay, s.Start = 29, "2026-03-30"
		s.LagDays, s.PlannedDays, s.BaselineDays = 2, 32, 28
		s.Level, s.Phi = 400, 0.3
		if s.MissingDays == nil {
			s.MissingDays = []int{}
		}
		if s.NonAdherentDays == nil {
			s.NonAdherentDays = []int{}
		}
		return s
	}
	return []Scenario{
		common(Scenario{
			Name: "g1", Title: "G1 clean no caffeine after 2pm (grade A)",
			ExpectedDirection: 1, Effect: 40, EffectOn: effectAll, Sigma: 30, Seed: 1,
			NoiseRemoved: []string{"baseline mean", "baseline day trend", "evaluation mean", "evaluation day trend"},
		}),
		common(Scenario{
			Name: "g2", Title: "G2 gaps plus partial adherence (grade B or C)",
			ExpectedDirection: 1, Effect: 25, EffectOn: effectAdherent, Sigma: 30, Seed: 2,
			MissingDays:     []int{5, 12, 19, 32, 35, 36, 40, 43, 44, 49, 50, 53, 55, 56, 59},
			NonAdherentDays: []int{33, 38, 41, 47, 52, 58},
			NoiseRemoved: []string{
				"baseline mean", "baseline day trend",
				"evaluation adherent-day mean", "evaluation adherent-day trend",
				"evaluation non-adherent-day mean", "evaluation non-adherent-day trend",
			},
		}),
		common(Scenario{
			Name: "g4b", Title: "G4b drift without effect (grade D, trend)",
			ExpectedDirection: 1, DriftPerDay: 1.5, Effect: 0, EffectOn: effectAll, Sigma: 20, Seed: 4,
			NoiseRemoved: []string{"baseline mean", "baseline day trend", "evaluation mean", "evaluation day trend"},
		}),
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fixturegen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", filepath.Join("engine", "evaluate", "testdata"), "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("unexpected arguments")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, sc := range scenarios() {
		vals, err := build(sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		csvPath := filepath.Join(*out, sc.Name+".csv")
		if err := writeCSV(csvPath, sc, vals); err != nil {
			return err
		}
		jsonPath := filepath.Join(*out, sc.Name+".json")
		if err := writeJSON(jsonPath, sc); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", csvPath, jsonPath)
	}
	return nil
}

// build returns the value of every day 1..Days (index 0 = day 1), NaN for a
// missing day.
func build(sc Scenario) ([]float64, error) {
	n := sc.Days
	rng := rand.New(rand.NewPCG(sc.Seed, 0x5eed))
	noise := make([]float64, n)
	innov := math.Sqrt(1 - sc.Phi*sc.Phi)
	noise[0] = rng.NormFloat64()
	for i := 1; i < n; i++ {
		noise[i] = sc.Phi*noise[i-1] + innov*rng.NormFloat64()
	}

	missing := func(d int) bool { return slices.Contains(sc.MissingDays, d) }
	adherent := func(d int) bool { return d >= sc.StartDay && !slices.Contains(sc.NonAdherentDays, d) }
	evalStart := sc.StartDay + sc.LagDays
	evalEnd := sc.StartDay + sc.PlannedDays - 1
	// group: 0 baseline, 1 evaluation (adherent when split), 2 evaluation
	// non-adherent (only when the effect depends on adherence), -1 not modelled.
	group := func(d int) int {
		switch {
		case missing(d):
			return -1
		case d < sc.StartDay && d >= sc.StartDay-sc.BaselineDays:
			return 0
		case d >= evalStart && d <= evalEnd:
			if sc.EffectOn == effectAdherent && !adherent(d) {
				return 2
			}
			return 1
		}
		return -1
	}

	// Design: per group an intercept and a day-trend column, over the modelled days.
	var rows []int
	for d := 1; d <= n; d++ {
		if group(d) >= 0 {
			rows = append(rows, d)
		}
	}
	var cols [][]float64
	for g := range 3 {
		one := make([]float64, len(rows))
		day := make([]float64, len(rows))
		used := false
		for i, d := range rows {
			if group(d) == g {
				one[i], day[i], used = 1, float64(d), true
			}
		}
		if used {
			cols = append(cols, one, day)
		}
	}
	e := make([]float64, len(rows))
	for i, d := range rows {
		e[i] = noise[d-1]
	}
	if err := projectOff(cols, e); err != nil {
		return nil, err
	}
	for i, d := range rows {
		noise[d-1] = e[i]
	}

	// Scale so that the observed baseline noise has sample SD exactly σ.
	var base []float64
	for _, d := range rows {
		if group(d) == 0 {
			base = append(base, noise[d-1])
		}
	}
	scale := sc.Sigma / sampleSD(base)

	vals := make([]float64, n)
	for d := 1; d <= n; d++ {
		if missing(d) {
			vals[d-1] = math.NaN()
			continue
		}
		v := sc.Level + sc.DriftPerDay*float64(d-1) + scale*noise[d-1]
		if d >= sc.StartDay && (sc.EffectOn == effectAll || adherent(d)) {
			v += sc.Effect
		}
		vals[d-1] = v
	}
	return vals, nil
}

// projectOff replaces e by its residual after least-squares projection on
// the span of cols (modified Gram–Schmidt, applied twice for stability).
func projectOff(cols [][]float64, e []float64) error {
	q := make([][]float64, 0, len(cols))
	for _, c := range cols {
		v := slices.Clone(c)
		norm0 := math.Sqrt(dot(v, v))
		for range 2 {
			for _, u := range q {
				axpy(-dot(u, v), u, v)
			}
		}
		nv := math.Sqrt(dot(v, v))
		if nv <= 1e-10*norm0 {
			return errors.New("rank-deficient noise design")
		}
		for i := range v {
			v[i] /= nv
		}
		q = append(q, v)
	}
	for range 2 {
		for _, u := range q {
			axpy(-dot(u, e), u, e)
		}
	}
	return nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

func sampleSD(x []float64) float64 {
	var mu float64
	for _, v := range x {
		mu += v
	}
	mu /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mu) * (v - mu)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

func writeCSV(path string, sc Scenario, vals []float64) error {
	first, err := time.Parse(time.DateOnly, sc.FirstDay)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	rows := [][]string{{"day", "value", "adherent"}}
	for i, v := range vals {
		d := i + 1
		value := ""
		if !math.IsNaN(v) {
			value = strconv.FormatFloat(v, 'f', -1, 64)
		}
		adh := ""
		if d >= sc.StartDay {
			adh = strconv.FormatBool(!slices.Contains(sc.NonAdherentDays, d))
		}
		rows = append(rows, []string{first.AddDate(0, 0, i).Format(time.DateOnly), value, adh})
	}
	if err := w.WriteAll(rows); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(path string, sc Scenario) error {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
