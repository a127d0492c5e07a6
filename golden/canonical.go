package golden

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
)

// Connections read by Canonical, with the fields that matter. Lists are
// sorted in Go afterwards, so the database's order never matters.
var connections = []struct{ name, args, fields string }{
	{"insights", `orderBy: [{field: START_DAY}]`, `id metric kind status title summary direction startDay endDay evidenceGrade confidence sampleSize coverage
    evidence { why howConfident whatWouldChange sourceMetrics detectors thresholds windowFrom windowTo }`},
	{"interventions", ``, `id title protocolKind targetMetric expectedDirection plannedDays lagDays status statusReason startDay endDay mde design retrospective
    safetyDecision { riskLevel evidenceGrade boundary requiresReview checks { name passed detail } }`},
	{"evaluations", ``, `id metric baselineFrom baselineTo interventionFrom interventionTo baselineCoverage adherence effect effectItt
    ciLow ciHigh hedgesG mde reliable reasons caveats evidenceGrade confidence sampleSize coverage
    claim directionSupported interim effectPercent ciLowPercent ciHighPercent
    evidence { why howConfident whatWouldChange } details`},
	{"narratives", ``, `subjectType subjectID text source evidenceGrade safetyText replaced replaceReason`},
	{"auditEvents", `orderBy: [{field: SEQ}]`, `seq entityType entityID action decision reason details actor prevHash hash`},
}

const baselinesQuery = `{ baselines { metric asOfDay state detectorState stateReason median bandLow bandHigh ewma validDays validDaysLast28 windowFrom windowTo frozenSince } }`

// fetchAll pages through one connection.
func fetchAll(ctx context.Context, c *Client, name, args, fields string) ([]any, error) {
	var out []any
	var after any
	for {
		q := fmt.Sprintf(`query($after: Cursor) { %s(first: 100, after: $after %s) { pageInfo { hasNextPage endCursor } edges { node { %s } } } }`,
			name, sep(args), fields)
		var resp map[string]struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Edges []struct {
				Node map[string]any `json:"node"`
			} `json:"edges"`
		}
		if err := c.Do(ctx, q, map[string]any{"after": after}, &resp); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, e := range resp[name].Edges {
			out = append(out, e.Node)
		}
		if !resp[name].PageInfo.HasNextPage {
			return out, nil
		}
		after = resp[name].PageInfo.EndCursor
	}
}

func sep(args string) string {
	if args == "" {
		return ""
	}
	return ", " + args
}

// idPattern matches Vitalgraph global IDs (type prefix + ULID).
var idPattern = regexp.MustCompile(`\b([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}\b`)

// hashPattern matches audit hashes, which change with every masked value.
var hashPattern = regexp.MustCompile(`"(prevHash|hash)":\s*"[0-9a-f]*"`)

// Canonical renders what the viewer's scenario produced as indented JSON
// with stable ordering, floats rounded to 9 significant digits, and IDs
// replaced by "<prefix>#n" in order of first appearance. Audit hashes are
// replaced by "<hash>" (they cover timestamps); their chain is verified by
// the tests separately.
func Canonical(ctx context.Context, c *Client) ([]byte, error) {
	raw := map[string]any{}
	if err := c.Do(ctx, baselinesQuery, nil, &raw); err != nil {
		return nil, err
	}
	for _, conn := range connections {
		nodes, err := fetchAll(ctx, c, conn.name, conn.args, conn.fields)
		if err != nil {
			return nil, err
		}
		if nodes == nil {
			nodes = []any{}
		}
		raw[conn.name] = nodes
	}
	sortBy(raw["insights"], "metric", "kind", "startDay", "endDay")
	sortBy(raw["baselines"], "metric")
	sortBy(raw["interventions"], "startDay", "title", "targetMetric")
	sortBy(raw["evaluations"], "interventionFrom", "metric")
	sortBy(raw["narratives"], "subjectType", "text")
	round(raw)
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return nil, err
	}
	b = hashPattern.ReplaceAll(b, []byte(`"$1": "<hash>"`))
	seen := map[string]string{}
	counts := map[string]int{}
	b = idPattern.ReplaceAllFunc(b, func(id []byte) []byte {
		if m, ok := seen[string(id)]; ok {
			return []byte(m)
		}
		prefix := string(id[:3])
		counts[prefix]++
		m := prefix + "#" + strconv.Itoa(counts[prefix])
		seen[string(id)] = m
		return []byte(m)
	})
	return append(b, '\n'), nil
}

func sortBy(v any, keys ...string) {
	list, ok := v.([]any)
	if !ok {
		return
	}
	key := func(x any) string {
		m, _ := x.(map[string]any)
		s := ""
		for _, k := range keys {
			s += fmt.Sprint(m[k]) + "\x00"
		}
		return s
	}
	sort.SliceStable(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
}

// round rounds every float in v to 9 significant digits, in place.
func round(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = round(e)
		}
	case []any:
		for i, e := range x {
			x[i] = round(e)
		}
	case float64:
		if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return x
		}
		f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 9, 64), 64)
		return f
	}
	return v
}
