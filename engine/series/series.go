// Package series holds the daily time-series value types shared by the
// engine packages: a local calendar Day and a Series of daily values.
package series

import (
	"math"
	"slices"
	"time"
)

// Day is a local calendar date, represented as midnight UTC of that date so
// that arithmetic never crosses a DST boundary.
type Day = time.Time

// DayOf returns the Day of the calendar date y-m-d.
func DayOf(y int, m time.Month, d int) Day { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// ParseDay parses "2006-01-02" into a Day.
func ParseDay(s string) (Day, error) { return time.ParseInLocation(time.DateOnly, s, time.UTC) }

// Truncate returns the calendar date of t (in t's own location) as a Day.
func Truncate(t time.Time) Day { return DayOf(t.Year(), t.Month(), t.Day()) }

// AddDays returns d shifted by n calendar days.
func AddDays(d Day, n int) Day { return d.AddDate(0, 0, n) }

// DaysBetween returns the number of calendar days from a to b (b − a).
func DaysBetween(a, b Day) int { return int(math.Round(b.Sub(a).Hours() / 24)) }

// Point is one daily value. A missing day is simply absent from a Series.
type Point struct {
	Day   Day
	Value float64
}

// Series is a set of daily points, sorted by Day ascending with at most one
// point per day (see Normalize).
type Series []Point

// Normalize returns s sorted by day, keeping the last point for a repeated
// day and dropping NaN/Inf values.
func Normalize(s Series) Series {
	out := make(Series, 0, len(s))
	sorted := true
	for _, p := range s {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		if n := len(out); n > 0 && p.Day.Before(out[n-1].Day) {
			sorted = false
		}
		out = append(out, p)
	}
	if !sorted {
		// A stable sort's result is unique: the same as sort.SliceStable's.
		slices.SortStableFunc(out, func(a, b Point) int { return a.Day.Compare(b.Day) })
	}
	dedup := out[:0]
	for _, p := range out {
		if n := len(dedup); n > 0 && dedup[n-1].Day.Equal(p.Day) {
			dedup[n-1] = p
			continue
		}
		dedup = append(dedup, p)
	}
	return dedup
}

// Window returns the points with from ≤ Day ≤ to (inclusive), assuming s is normalized.
func (s Series) Window(from, to Day) Series {
	var out Series
	for _, p := range s {
		if !p.Day.Before(from) && !p.Day.After(to) {
			out = append(out, p)
		}
	}
	return out
}

// countIn is len(s.Window(from, to)) without building the window.
func (s Series) countIn(from, to Day) int {
	n := 0
	for _, p := range s {
		if !p.Day.Before(from) && !p.Day.After(to) {
			n++
		}
	}
	return n
}

// Values returns the values of s in order.
func (s Series) Values() []float64 {
	out := make([]float64, len(s))
	for i, p := range s {
		out[i] = p.Value
	}
	return out
}

// Dense returns one slot per calendar day from from to to inclusive, with
// NaN for days that have no point.
func (s Series) Dense(from, to Day) []float64 {
	n := DaysBetween(from, to) + 1
	if n <= 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	for _, p := range s {
		i := DaysBetween(from, p.Day)
		if i >= 0 && i < n {
			out[i] = p.Value
		}
	}
	return out
}
