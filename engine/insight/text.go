package insight

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/claims"
	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// Text is an insight's title and summary.
type Text struct {
	Title   string
	Summary string
}

// Words writes the title and summary of finding f on metric m at grade g.
// directionSupported is true only when f's test passed the evening's
// false-discovery-controlled level; without it, and at grade D, no
// direction is stated ("we can't tell"). Wording by grade (docs/domain.md §4):
// A plain, B "probably", C "may", D "we can't tell … very uncertain"; every
// text states its uncertainty. Values use the metric's display name and
// unit with unit-appropriate rounding; log-scale metrics (HRV) describe
// differences in percent. The result passes claims.Check with g (tested).
func Words(m metrics.Metric, f detect.Finding, g evidence.Grade, directionSupported bool) Text {
	if !g.Valid() {
		g = evidence.GradeD
	}
	dir := directionSupported && g != evidence.GradeD
	name := m.Name
	lname := lowerFirst(name)
	has, was := "has", "was"
	if pluralName(m) {
		has, was = "have", "were"
	}
	day := dayWords(f.Day)
	// hedged writes "<name> <verb phrase>" hedged for the grade: A plain,
	// B "probably", C "may"; the hedge sits right before the claim.
	hedged := func(plain, probably, may string) string {
		switch g {
		case evidence.GradeA:
			return name + " " + plain
		case evidence.GradeB:
			return name + " " + probably
		}
		return name + " " + may
	}
	switch f.Kind {
	case detect.KindDataGap:
		n := series.DaysBetween(f.Day, f.EndDay) + 1
		return Text{
			Title: fmt.Sprintf("No %s data from %s to %s", lname, day, dayWords(f.EndDay)),
			Summary: fmt.Sprintf("%s without %s data (%s), so we can't tell how it went on those days. "+
				"Your baseline was held as it was before the gap, and no unusual days are reported for the missing ones.",
				plural(n, "day"), lname, plural(f.SampleSize, "valid day")),
		}
	case detect.KindAnomaly:
		level := "high"
		if f.Direction == detect.DirectionDown {
			level = "low"
		}
		title := fmt.Sprintf("%s on %s: possibly unusual", name, day)
		if dir {
			title = hedged(fmt.Sprintf("%s unusually %s on %s", was, level, day),
				fmt.Sprintf("%s probably unusually %s on %s", was, level, day),
				fmt.Sprintf("may have been unusually %s on %s", level, day))
		}
		sum := fmt.Sprintf("You recorded %s on %s; a typical %s for you is about %s, judged from %s.",
			amount(m, f.Value), day, f.Day.Weekday(), amount(m, f.Baseline), plural(f.SampleSize, "valid day"))
		if dir {
			sum += " One day like this is often a one-off (a late night, a missed reading, feeling unwell), and the reason is uncertain."
		} else {
			sum += " We can't tell whether this is more than day-to-day noise; the evidence is very uncertain."
		}
		return Text{Title: title, Summary: sum}
	case detect.KindChange:
		diff, word := difference(m, f.Baseline, f.Value)
		title := fmt.Sprintf("%s since %s: possibly a new level, too early to tell", name, day)
		if dir {
			title = hedged(fmt.Sprintf("%s been %s since %s, by %s", has, word, day, diff),
				fmt.Sprintf("%s probably been %s since %s, by %s", has, word, day, diff),
				fmt.Sprintf("may have been %s since %s, by %s", word, day, diff))
		}
		sum := fmt.Sprintf("Since %s the level has been around %s; in the weeks before, around %s. This rests on %s.",
			day, amount(m, f.Value), amount(m, f.Baseline), plural(f.SampleSize, "valid day"))
		if dir {
			sum += " How large and how lasting it is remains uncertain."
		} else {
			sum += " We can't tell yet whether this will last; the evidence is very uncertain."
		}
		return Text{Title: title, Summary: sum}
	case detect.KindTrend:
		diff, word := difference(m, f.Baseline, f.Value)
		span := f.Span
		if span <= 0 {
			span = series.DaysBetween(f.Day, f.EndDay) + 1
		}
		title := fmt.Sprintf("%s since %s: possibly a gradual drift, too early to tell", name, day)
		if dir {
			title = hedged(fmt.Sprintf("%s been drifting %s since %s, by %s", has, word, day, diff),
				fmt.Sprintf("%s probably been drifting %s since %s, by %s", has, word, day, diff),
				fmt.Sprintf("may have been drifting %s since %s, by %s", word, day, diff))
		}
		sum := fmt.Sprintf("Over the %s observed (%s), a straight line through your values runs from about %s to about %s.",
			plural(span, "day"), plural(f.SampleSize, "valid day"), amount(m, f.Baseline), amount(m, f.Value))
		if dir {
			sum += " Whether it continues is uncertain."
		} else {
			sum += " We can't tell whether this is a real drift; the evidence is very uncertain."
		}
		return Text{Title: title, Summary: sum}
	}
	return Text{Title: name, Summary: "We can't tell; the evidence is very uncertain."}
}

// pluralName reports whether the metric's display name is a plural noun
// ("Steps have").
func pluralName(m metrics.Metric) bool { return m.Key == metrics.KeySteps }

// difference returns how far "to" is from "from" and the comparative
// word: ("5 bpm", "higher"), ("12%", "higher") for log-scale metrics (HRV),
// ("40 minutes", "longer") for durations, ("2,000 steps a day", "fewer")
// for counts.
func difference(m metrics.Metric, from, to float64) (string, string) {
	up := to >= from
	word := "higher"
	if !up {
		word = "lower"
	}
	if m.LnTransform && from > 0 && to > 0 {
		return "about " + roundWords(math.Abs(to/from-1)*100, 0) + "%", word
	}
	d := math.Abs(to - from)
	switch m.CanonicalUnit {
	case metrics.UnitMinute:
		if up {
			return "about " + duration(d), "longer"
		}
		return "about " + duration(d), "shorter"
	case metrics.UnitCount:
		if up {
			word = "more"
		} else {
			word = "fewer"
		}
		return "about " + roundCount(d) + " " + unitWord(m, d) + " a day", word
	}
	return "about " + amount(m, d), word
}

// amount formats v with the metric's unit and rounding.
func amount(m metrics.Metric, v float64) string {
	switch m.CanonicalUnit {
	case metrics.UnitMinute:
		return duration(v)
	case metrics.UnitCount:
		return roundCount(v) + " " + unitWord(m, v)
	case metrics.UnitPercent:
		return roundWords(v, 0) + "%"
	case metrics.UnitCelsius:
		return roundWords(v, 1) + " °C"
	case metrics.UnitBreathsPerMinute:
		return roundWords(v, 1) + " breaths per minute"
	case metrics.UnitScore:
		return roundWords(v, 0) + " points"
	case metrics.UnitHour:
		return roundWords(v, 1) + " hours"
	}
	return roundWords(v, 0) + " " + m.CanonicalUnit
}

// unitWord is the noun of a count metric ("steps"), singular for 1.
func unitWord(m metrics.Metric, v float64) string {
	w := "steps"
	if m.Key != metrics.KeySteps {
		w = "counts"
	}
	if math.Round(v) == 1 {
		return strings.TrimSuffix(w, "s")
	}
	return w
}

// duration formats minutes as "7 h 05 min" (≥ 60) or "40 minutes".
func duration(minutes float64) string {
	r := int(math.Round(math.Abs(minutes)))
	if r < 60 {
		return plural(r, "minute")
	}
	return fmt.Sprintf("%d h %02d min", r/60, r%60)
}

// roundCount rounds to the nearest 10 (nearest 100 from 10,000) with
// thousands separators: daily counts are not meaningful to the step.
func roundCount(v float64) string {
	step := 10.0
	if math.Abs(v) >= 10000 {
		step = 100
	}
	r := int64(math.Round(v/step) * step)
	s := strconv.FormatInt(max(r, -r), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if r < 0 {
		return "-" + b.String()
	}
	return b.String()
}

func roundWords(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if s == "-0" || s == "-0.0" {
		s = s[1:]
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// dayWords formats a day as "Tue 2026-06-02".
func dayWords(d series.Day) string { return d.Weekday().String()[:3] + " " + d.Format(time.DateOnly) }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	// Keep acronyms and names such as "SpO2" intact: only the first letter.
	return strings.ToLower(s[:1]) + s[1:]
}

// ClaimContext is the claim-checker context of an insight's words: its
// grade, whether a direction may be stated, the sample size the words must
// state, and the metric's display name (exempt from the word rules).
func ClaimContext(m metrics.Metric, f detect.Finding, g evidence.Grade, directionSupported bool) claims.Context {
	return claims.Context{Grade: g, DirectionSupported: directionSupported, N: f.SampleSize, Coverage: math.NaN(), Names: []string{m.Name}}
}

// CheckedWords is Words passed through claims.Check with ClaimContext: the
// title and summary are checked together (the summary carries the
// uncertainty and n) and the title alone for its words. Should the words
// ever violate the policy, the grade-D, no-direction wording is used
// instead (it states no direction and is checked by the package tests).
func CheckedWords(m metrics.Metric, f detect.Finding, g evidence.Grade, directionSupported bool) Text {
	t := Words(m, f, g, directionSupported)
	if len(Violations(m, f, t, g, directionSupported)) == 0 {
		return t
	}
	return Words(m, f, evidence.GradeD, false)
}

// Violations returns the claim-policy violations of t (see CheckedWords).
func Violations(m metrics.Metric, f detect.Finding, t Text, g evidence.Grade, directionSupported bool) []claims.Violation {
	ctx := ClaimContext(m, f, g, directionSupported)
	out := claims.Check(t.Title+". "+t.Summary, ctx)
	for _, v := range claims.Check(t.Title, ctx) {
		if v.Offset >= 0 { // word rules only; n and uncertainty live in the summary
			out = append(out, v)
		}
	}
	return out
}
