package claims

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// number is a decimal number written in the text.
type number struct {
	value      float64
	start, end int
	percent    bool // followed by "%" or "percent"
	// statistic is true for a percentage that labels a statistic ("95% CI",
	// "80% power") rather than stating a value.
	statistic bool
}

var confidenceLevels = []float64{80, 90, 95, 99}

var statisticWords = []string{"ci", "confidence", "credible", "compatibility", "interval", "power", "prediction"}

// scanNumbers returns every number in text in order. A leading '-', '+' or
// '−' is a sign unless it directly follows a digit (then it is a range
// dash, as in "19-61").
func scanNumbers(text string) []number {
	var out []number
	i := 0
	for i < len(text) {
		r, w := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsDigit(r) || r > unicode.MaxASCII {
			i += w
			continue
		}
		start := i
		j := i
		for j < len(text) && isASCIIDigit(text[j]) {
			j++
		}
		if j+1 < len(text) && text[j] == '.' && isASCIIDigit(text[j+1]) {
			j++
			for j < len(text) && isASCIIDigit(text[j]) {
				j++
			}
		}
		// Part of a word such as "2pm" or "h2"? Still a number; harmless.
		v, err := strconv.ParseFloat(text[start:j], 64)
		if err != nil {
			i = j
			continue
		}
		if s, neg := signBefore(text, start); s >= 0 {
			start = s
			if neg {
				v = -v
			}
		}
		n := number{value: v, start: start, end: j}
		rest := strings.TrimLeft(text[j:min(len(text), j+48)], " \u00a0")
		switch {
		case strings.HasPrefix(rest, "%"):
			n.percent = true
			rest = rest[1:]
		case len(rest) >= 7 && strings.EqualFold(rest[:7], "percent"):
			n.percent = true
			rest = rest[7:]
		}
		if n.percent {
			next := strings.Fields(strings.TrimLeft(foldWord(rest), " ()[]:,"))
			if len(next) > 0 {
				w := strings.TrimFunc(next[0], func(r rune) bool { return !unicode.IsLetter(r) })
				for _, s := range statisticWords {
					if w == s {
						n.statistic = true
					}
				}
			}
		}
		out = append(out, n)
		i = j
	}
	return out
}

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }

// signBefore returns the offset of a sign directly before the number at i,
// and whether it is negative; -1 when there is none.
func signBefore(text string, i int) (int, bool) {
	if i == 0 {
		return -1, false
	}
	r, w := utf8.DecodeLastRuneInString(text[:i])
	if r != '-' && r != '+' && r != '\u2212' {
		return -1, false
	}
	s := i - w
	if s > 0 {
		p, _ := utf8.DecodeLastRuneInString(text[:s])
		if unicode.IsDigit(p) || unicode.IsLetter(p) {
			return -1, false // a range dash or a hyphenated word
		}
	}
	return s, r != '+'
}

var (
	nEquals = regexp.MustCompile(`(?i)\bn\s*=\s*(\d+)\b`)
	nDays   = regexp.MustCompile(`(?i)\b(\d+)\s+(?:(?:valid|observed|measured|tracked|evaluated|intervention|experiment)\s+)?(?:days?|nights?|observations?|measurements?)\b`)
	ciWord  = regexp.MustCompile(`(?i)\b(?:ci|confidence interval|credible interval|compatibility interval)\b`)
)

// statesN reports whether text states the sample size n.
func statesN(text string, n int) bool {
	for _, re := range []*regexp.Regexp{nEquals, nDays} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if v, err := strconv.Atoi(m[1]); err == nil && v == n {
				return true
			}
		}
	}
	return false
}

// ciStatements returns the (low, high) pairs stated after each CI keyword:
// the first two numbers after it within its clause (up to 80 bytes, ending
// at ';', a line break or a sentence end), skipping a leading confidence
// level such as "(95%)" when more numbers follow. Bounds may be percentages
// (a metric measured in %).
func ciStatements(text string, nums []number) [][2]float64 {
	var out [][2]float64
	for _, loc := range ciWord.FindAllStringIndex(text, -1) {
		end := min(len(text), loc[1]+80)
		for k := loc[1]; k < end; k++ {
			if r := rune(text[k]); r < utf8.RuneSelf && isSentenceEnd(text, k, r) {
				end = k
				break
			}
		}
		var got []number
		first, _ := slices.BinarySearchFunc(nums, loc[1], func(n number, at int) int { return n.start - at })
		for _, n := range nums[first:] {
			if n.end > end || len(got) == 3 {
				break
			}
			got = append(got, n)
		}
		// "CI (95%) 19 to 61": a leading confidence level is not a bound.
		if len(got) >= 3 && got[0].percent && slices.Contains(confidenceLevels, got[0].value) {
			got = got[1:]
		}
		if len(got) >= 2 {
			out = append(out, [2]float64{got[0].value, got[1].value})
		}
	}
	return out
}

// statesPercent reports whether a percentage within percentTolerance points
// of frac·100 appears (statistic labels such as "95% CI" excluded).
func statesPercent(nums []number, frac float64) bool {
	want := frac * 100
	for _, n := range nums {
		if n.percent && !n.statistic && math.Abs(n.value-want) <= percentTolerance {
			return true
		}
	}
	return false
}
