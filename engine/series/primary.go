package series

import "sort"

// PrimaryWindowDays is the window, ending on the analysis day, over which
// the loop counts each source's valid days to choose a metric's series.
const PrimaryWindowDays = 60

// PrimarySource returns the name of the source whose series is a metric's
// series: the source with the most distinct days in [from, to]; ties go to
// the source with the most days overall, then to the first name in
// alphabetical order. Sources are never pooled (their scales differ: HRV
// RMSSD vs SDNN, ring vs strap). It returns "" when sources is empty.
func PrimarySource(sources map[string]Series, from, to Day) string {
	name, _ := primary(sources, from, to)
	return name
}

// primary is PrimarySource with the chosen source's normalized series.
func primary(sources map[string]Series, from, to Day) (string, Series) {
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestIn, bestAll := "", -1, -1
	var bestS Series
	for _, name := range names {
		s := Normalize(sources[name])
		in := s.countIn(from, to)
		if in > bestIn || (in == bestIn && len(s) > bestAll) {
			best, bestIn, bestAll, bestS = name, in, len(s), s
		}
	}
	return best, bestS
}

// Primary returns PrimarySource's name and its normalized series.
func Primary(sources map[string]Series, from, to Day) (string, Series) {
	name, s := primary(sources, from, to)
	if name == "" {
		return "", nil
	}
	return name, s
}
