package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/vitalgraph/vitalgraph/graph/model"
)

// The typed ingestion path. gqlgen decodes a request's variables into
// map[string]any, coerces them by reflection (validator.VariableValues) and
// unmarshals them again into the input structs: for a 1000-sample
// ingestObservations batch that was most of the server's CPU per batch.
// rawDataPOST recognises the one request shape that matters for it — the
// operation is the single mutation field ingestObservations whose input is
// a variable of type [ObservationInput!]! — and decodes that variable's
// array straight into []*model.ObservationInput with gqlgen's own scalar
// functions (graphql.UnmarshalFloat, UnmarshalInt, UnmarshalTime). The
// request then goes through gqlgen unchanged except that the variable's
// value in the body is the empty list; markResolverErrors hands the
// decoded slice to the field as its input argument.
//
// It is all or nothing: the typed decoder accepts only values gqlgen's
// coercion would accept unchanged (strings as JSON strings, numbers as
// JSON numbers that parse, every required field present, no null, no
// unknown or repeated field) and produces the values gqlgen would; any
// other body — a wrong type, a null, an extra field, a number out of
// range, an escape in a key, another query shape — goes through gqlgen's
// generic path untouched, so every error is gqlgen's own
// (TestTypedIngestMatchesGenericPath).

// ingestField is the mutation field with a typed path.
const ingestField = "ingestObservations"

// maxTypedQuery bounds the query texts analysed for the typed path (the
// ingestion mutation is a few hundred bytes).
const maxTypedQuery = 2048

// typedIngestKey carries a request's decoded input to markResolverErrors.
type typedIngestKey struct{}

// ingestShapes remembers, per operation name and query text, which variable
// feeds ingestObservations' input ("" when the shape is not the typed one).
var ingestShapes = lru.New[string](256)

// typedIngest returns body with the input variable's array replaced by []
// and the decoded input, when body is an ingestObservations request of the
// typed shape; ok is false otherwise (body is then served as it is).
func typedIngest(ctx context.Context, body []byte) (rewritten []byte, input []*model.ObservationInput, ok bool) {
	env, ok := scanEnvelope(body)
	if !ok {
		return nil, nil, false
	}
	varName := ingestVariable(ctx, env.query, env.operationName)
	if varName == "" {
		return nil, nil, false
	}
	start, end, ok := findMember(body, env.varStart, env.varEnd, varName)
	if !ok {
		return nil, nil, false
	}
	input, ok = decodeObservations(body[start:end])
	if !ok {
		return nil, nil, false
	}
	rewritten = make([]byte, 0, len(body)-(end-start)+2)
	rewritten = append(append(append(rewritten, body[:start]...), "[]"...), body[end:]...)
	if !json.Valid(rewritten) { // the rest of the body must be what gqlgen decodes
		return nil, nil, false
	}
	return rewritten, input, true
}

// typedIngestInput returns the input decoded for this request, if any.
func typedIngestInput(ctx context.Context) ([]*model.ObservationInput, bool) {
	in, ok := ctx.Value(typedIngestKey{}).([]*model.ObservationInput)
	return in, ok
}

// useTypedIngestInput puts the typed input in place of the (empty) input
// argument gqlgen coerced, for the ingestObservations field of a request
// that typedIngest decoded.
func useTypedIngestInput(ctx context.Context, fc *graphql.FieldContext) {
	if fc.Object != "Mutation" || fc.Field.Field == nil || fc.Field.Name != ingestField {
		return
	}
	if in, ok := typedIngestInput(ctx); ok {
		fc.Args["input"] = in
	}
}

// envelope is where a body's top-level members are (raw JSON spans).
type envelope struct {
	query, operationName string
	varStart, varEnd     int // the variables object's span in the body
}

// scanEnvelope reads the top level of body: "query" must be a string
// without surprises, "operationName" a string or null, "variables" an
// object. A key that gqlgen's decoding into graphql.RawParams would match
// case-insensitively but is not spelled exactly, or a key with an escape,
// makes the body not typed.
func scanEnvelope(body []byte) (envelope, bool) {
	var env envelope
	var haveQuery bool
	p := jsonScan{b: body}
	ok := p.object(func(key []byte, vstart, vend int) bool {
		raw := body[vstart:vend]
		switch string(key) {
		case "query":
			s, ok := jsonString(raw)
			env.query, haveQuery = s, ok
			return ok
		case "operationName":
			if string(raw) == "null" {
				return true
			}
			s, ok := jsonString(raw)
			env.operationName = s
			return ok
		case "variables":
			env.varStart, env.varEnd = vstart, vend
			return len(raw) > 0 && raw[0] == '{'
		case "extensions":
			return true
		}
		for _, name := range []string{"query", "operationName", "variables", "extensions"} {
			if strings.EqualFold(string(key), name) {
				return false
			}
		}
		return true
	})
	return env, ok && p.end() && haveQuery && env.varEnd > 0 && len(env.query) <= maxTypedQuery
}

// findMember returns the span of the value of key in the object at
// body[objStart:objEnd]; false when it is absent, repeated or not an array.
func findMember(body []byte, objStart, objEnd int, key string) (start, end int, ok bool) {
	found := 0
	p := jsonScan{b: body[objStart:objEnd]}
	if !p.object(func(k []byte, vs, ve int) bool {
		if string(k) == key {
			found++
			start, end = objStart+vs, objStart+ve
		}
		return true
	}) || found != 1 || body[start] != '[' {
		return 0, 0, false
	}
	return start, end, true
}

// ingestVariable returns the name of the variable that feeds
// ingestObservations' input when the operation is of the typed shape: a
// mutation whose only selection is that field, without directives, its
// input argument a variable declared [ObservationInput!]! without default
// and used nowhere else, its other arguments only idempotencyKey, and its
// selection plain fields (no arguments, directives or fragments). The
// document is not validated here: gqlgen validates it as always.
func ingestVariable(ctx context.Context, query, operationName string) string {
	key := operationName + "\x00" + query
	if v, ok := ingestShapes.Get(ctx, key); ok {
		return v
	}
	v := ""
	if doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, 256); err == nil {
		v = typedShape(doc.Operations.ForName(operationName))
	}
	ingestShapes.Add(ctx, key, v)
	return v
}

func typedShape(op *ast.OperationDefinition) string {
	if op == nil || op.Operation != ast.Mutation || len(op.Directives) > 0 || len(op.SelectionSet) != 1 {
		return ""
	}
	f, ok := op.SelectionSet[0].(*ast.Field)
	if !ok || f.Name != ingestField || len(f.Directives) > 0 || !plainSelection(f.SelectionSet) {
		return ""
	}
	name := ""
	for _, a := range f.Arguments {
		switch {
		case a.Name == "input" && a.Value != nil && a.Value.Kind == ast.Variable:
			name = a.Value.Raw
		case a.Name == "idempotencyKey":
		default:
			return ""
		}
	}
	for _, a := range f.Arguments {
		if a.Name != "input" && usesVariable(a.Value, name) {
			return ""
		}
	}
	for _, d := range op.VariableDefinitions {
		if d.Variable == name {
			if d.DefaultValue != nil || len(d.Directives) > 0 || d.Type == nil || d.Type.String() != "[ObservationInput!]!" {
				return ""
			}
			return name
		}
	}
	return ""
}

// plainSelection reports whether every selection below is a field without
// arguments or directives.
func plainSelection(set ast.SelectionSet) bool {
	for _, s := range set {
		f, ok := s.(*ast.Field)
		if !ok || len(f.Arguments) > 0 || len(f.Directives) > 0 || !plainSelection(f.SelectionSet) {
			return false
		}
	}
	return true
}

func usesVariable(v *ast.Value, name string) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable && v.Raw == name {
		return true
	}
	for _, c := range v.Children {
		if usesVariable(c.Value, name) {
			return true
		}
	}
	return false
}

// The observation fields, as bits of a seen-mask.
const (
	obsMetric = 1 << iota
	obsValue
	obsUnit
	obsObservedAt
	obsLocalDay
	obsUTCOffset
	obsSource

	obsRequired = obsMetric | obsValue | obsUnit | obsObservedAt | obsLocalDay | obsSource
)

// decodeObservations decodes a JSON array of ObservationInput objects the
// way gqlgen's coercion and unmarshalling would, or reports false for
// anything those would not accept unchanged.
func decodeObservations(b []byte) ([]*model.ObservationInput, bool) {
	p := jsonScan{b: b}
	n := bytes.Count(b, []byte{'{'})
	out := make([]*model.ObservationInput, 0, n)
	items := make([]model.ObservationInput, n)
	ok := p.array(func(vs, ve int) bool {
		if b[vs] != '{' || len(out) == len(items) {
			return false
		}
		o := &items[len(out)]
		seen := 0
		q := jsonScan{b: b[vs:ve]}
		if !q.object(func(key []byte, s, e int) bool {
			return decodeField(o, key, b[vs+s:vs+e], &seen)
		}) || seen&obsRequired != obsRequired {
			return false
		}
		out = append(out, o)
		return true
	})
	return out, ok && p.end()
}

func decodeField(o *model.ObservationInput, key, raw []byte, seen *int) bool {
	var bit int
	var err error
	switch string(key) {
	case "metric":
		bit = obsMetric
		o.Metric, err = stringValue(raw)
	case "unit":
		bit = obsUnit
		o.Unit, err = stringValue(raw)
	case "localDay":
		bit = obsLocalDay
		o.LocalDay, err = stringValue(raw)
	case "source":
		bit = obsSource
		o.Source, err = stringValue(raw)
	case "observedAt":
		bit = obsObservedAt
		var s string
		if s, err = stringValue(raw); err == nil {
			o.ObservedAt, err = graphql.UnmarshalTime(s)
		}
	case "value":
		bit = obsValue
		if !jsonNumber(raw) {
			return false
		}
		o.Value, err = graphql.UnmarshalFloat(json.Number(raw))
	case "utcOffsetSeconds":
		bit = obsUTCOffset
		if !jsonNumber(raw) {
			return false
		}
		o.UtcOffsetSeconds, err = graphql.UnmarshalInt(json.Number(raw))
	default:
		return false
	}
	if err != nil || *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

var errNotString = errors.New("not a JSON string")

func stringValue(raw []byte) (string, error) {
	s, ok := jsonString(raw)
	if !ok {
		return "", errNotString
	}
	return s, nil
}

// jsonString decodes a JSON string token as encoding/json does (escapes,
// invalid UTF-8 replaced), or false when raw is not a valid string.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonNumber reports whether raw is a JSON number.
func jsonNumber(raw []byte) bool {
	i := 0
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case i < len(raw) && raw[i] >= '1' && raw[i] <= '9':
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(raw) && raw[i] == '.' {
		i++
		d := i
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		d := i
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(raw)
}

// jsonScan walks one JSON value's structure, finding member and element
// spans. It checks the structure it walks (brackets, commas, colons,
// string ends) and reports false on anything it does not expect; the
// scalars it hands out are checked by their decoders.
type jsonScan struct {
	b     []byte
	i     int
	depth int
}

// maxScanDepth bounds the nesting jsonScan follows (the envelope check
// refuses deeper bodies anyway).
const maxScanDepth = 64

func (p *jsonScan) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// end reports whether only whitespace is left.
func (p *jsonScan) end() bool {
	p.space()
	return p.i == len(p.b)
}

// object walks an object, calling member with each raw key (without
// quotes; a key with an escape stops the walk) and its value's span.
func (p *jsonScan) object(member func(key []byte, start, end int) bool) bool {
	return p.sequence('{', '}', func() bool {
		ks := p.i
		if !p.str() {
			return false
		}
		key := p.b[ks+1 : p.i-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		vs := p.i
		return p.value() && member(key, vs, p.i)
	})
}

// array walks an array, calling elem with each element's span.
func (p *jsonScan) array(elem func(start, end int) bool) bool {
	return p.sequence('[', ']', func() bool {
		vs := p.i
		return p.value() && elem(vs, p.i)
	})
}

// sequence walks open item (, item)* close, with whitespace around each
// token; item starts at a non-space byte and consumes one entry.
func (p *jsonScan) sequence(open, closing byte, item func() bool) bool {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != open {
		return false
	}
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == closing {
		p.i++
		return true
	}
	for {
		p.space()
		if !item() {
			return false
		}
		p.space()
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case closing:
			p.i++
			return true
		default:
			return false
		}
	}
}

// str consumes a string at its opening quote.
func (p *jsonScan) str() bool {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false
	}
	for p.i++; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '"':
			p.i++
			return true
		case '\\':
			p.i++
		}
	}
	return false
}

// value consumes any value, nested at most maxScanDepth deep.
func (p *jsonScan) value() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch p.b[p.i] {
	case '"':
		return p.str()
	case '{', '[':
		if p.depth >= maxScanDepth {
			return false
		}
		p.depth++
		defer func() { p.depth-- }()
		if p.b[p.i] == '{' {
			return p.object(func([]byte, int, int) bool { return true })
		}
		return p.array(func(int, int) bool { return true })
	}
	s := p.i
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return p.i > s
		}
		p.i++
	}
	return p.i > s
}
