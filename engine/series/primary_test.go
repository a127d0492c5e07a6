package series

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func days(from Day, n int, v float64) Series {
	out := make(Series, n)
	for i := range out {
		out[i] = Point{Day: AddDays(from, i), Value: v}
	}
	return out
}

func TestPrimarySource(t *testing.T) {
	t.Parallel()
	d0 := DayOf(2026, 3, 1)
	cases := []struct {
		name    string
		sources map[string]Series
		from    Day
		to      Day
		want    string
	}{
		{"empty", nil, d0, AddDays(d0, 59), ""},
		{"most days in the window", map[string]Series{
			"oura":  days(d0, 30, 1),
			"whoop": days(AddDays(d0, 20), 40, 2),
		}, AddDays(d0, 20), AddDays(d0, 59), "whoop"},
		{"old history does not win", map[string]Series{
			"oura":  days(AddDays(d0, -300), 300, 1), // all before the window
			"whoop": days(d0, 10, 2),
		}, d0, AddDays(d0, 59), "whoop"},
		{"tie broken by total days", map[string]Series{
			"oura":  days(AddDays(d0, -10), 20, 1),
			"whoop": days(d0, 10, 2),
		}, d0, AddDays(d0, 59), "oura"},
		{"full tie broken by name", map[string]Series{
			"whoop": days(d0, 10, 2),
			"oura":  days(d0, 10, 1),
		}, d0, AddDays(d0, 59), "oura"},
		{"duplicate points count once", map[string]Series{
			"oura":  append(days(d0, 5, 1), days(d0, 5, 1)...),
			"whoop": days(d0, 6, 2),
		}, d0, AddDays(d0, 59), "whoop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, PrimarySource(tc.sources, tc.from, tc.to))
			name, s := Primary(tc.sources, tc.from, tc.to)
			require.Equal(t, tc.want, name)
			if name != "" {
				require.Equal(t, Normalize(tc.sources[name]), s)
			}
		})
	}
}
