package limits

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Document bounds the work of a GraphQL document before gqlparser validates
// it. Validation's overlapping-fields rule compares every pair of fields
// that share a response path (fields with the same response name under
// parents of the same path, inline fragments and fragment spreads merged),
// so a document of a few thousand duplicated selections, well within the
// body and token limits, used to cost seconds of CPU to refuse. Document
// parses the query (linear in its size, under the parser token limit),
// counts what validation iterates over and refuses, with ELIMIT and before
// validation, a document over any count:
//   - operations, fragment definitions, fragment spreads, selections,
//     arguments, variable definitions and directives (in all and per place);
//   - selections with fragments expanded (each operation and each fragment
//     definition, as validation visits them);
//   - pairs of selections sharing a response path (Σ n·(n−1)/2 over the
//     paths): the quadratic term itself.
//
// Documents that pass are remembered (an LRU keyed by the query text), so a
// repeated query is parsed once more, not on every request. Document runs as
// an operation-parameter mutator: it covers every transport (POST, GET, SSE,
// websocket) and runs after persisted-query resolution when added after it.
type Document struct {
	TokenLimit      int // parser token limit (the handler's; default 15000)
	MaxSelections   int // fields, fragment spreads and inline fragments written in the document (default 1500)
	MaxExpanded     int // selections visited with fragments expanded, all operations and fragments (default 3000)
	MaxOverlap      int // pairs of selections sharing a response path (default 2500)
	MaxDirectives   int // directives in the document (default 100)
	MaxDirectivesAt int // directives on one field, fragment, variable or operation (default 4)
	MaxFragments    int // fragment definitions (default 64)
	MaxSpreads      int // fragment spreads written in the document (default 256)
	MaxOperations   int // operations in the document (default 16)
	MaxArguments    int // arguments in the document (default 500)
	MaxVariableDefs int // variable definitions in the document (default 100)
	CacheSize       int // how many accepted query texts are remembered (default 1000)
	accepted        *lru.LRU[struct{}]
}

// NewDocument returns a Document with defaults filled and its cache ready.
func NewDocument(d Document) *Document {
	def := func(v *int, x int) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&d.TokenLimit, 15000)
	def(&d.MaxSelections, 1500)
	def(&d.MaxExpanded, 3000)
	def(&d.MaxOverlap, 2500)
	def(&d.MaxDirectives, 100)
	def(&d.MaxDirectivesAt, 4)
	def(&d.MaxFragments, 64)
	def(&d.MaxSpreads, 256)
	def(&d.MaxOperations, 16)
	def(&d.MaxArguments, 500)
	def(&d.MaxVariableDefs, 100)
	def(&d.CacheSize, 1000)
	d.accepted = lru.New[struct{}](d.CacheSize)
	return &d
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*Document)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*Document) ExtensionName() string { return "VitalgraphDocumentLimits" }

// Validate implements graphql.HandlerExtension.
func (*Document) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
// A document that does not parse passes through: gqlgen reports the parse
// error with its own code.
func (d *Document) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil
	}
	if _, ok := d.accepted.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, d.TokenLimit)
	if err != nil {
		return nil
	}
	if gerr := d.Check(doc); gerr != nil {
		return gerr
	}
	d.accepted.Add(ctx, p.Query, struct{}{})
	return nil
}

// Check counts a parsed (not yet validated) document against the limits.
func (d *Document) Check(doc *ast.QueryDocument) *gqlerror.Error {
	if len(doc.Operations) > d.MaxOperations {
		return limitErr(engine.ELIMIT, "document has more than %d operations", d.MaxOperations)
	}
	if len(doc.Fragments) > d.MaxFragments {
		return limitErr(engine.ELIMIT, "document has more than %d fragments", d.MaxFragments)
	}
	c := docCounter{d: d, doc: doc}
	for _, op := range doc.Operations {
		c.vars += len(op.VariableDefinitions)
		for _, v := range op.VariableDefinitions {
			c.directives(v.Directives)
		}
		c.directives(op.Directives)
		c.written(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		c.vars += len(f.VariableDefinition)
		c.directives(f.Directives)
		c.written(f.SelectionSet)
	}
	if c.err != nil {
		return c.err
	}
	if c.vars > d.MaxVariableDefs {
		return limitErr(engine.ELIMIT, "document has more than %d variable definitions", d.MaxVariableDefs)
	}
	// Expanded: each operation and each fragment definition on its own, as
	// the overlapping-fields rule visits them.
	for _, op := range doc.Operations {
		c.expand(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		c.expand(f.SelectionSet)
	}
	return c.err
}

type docCounter struct {
	d                                            *Document
	doc                                          *ast.QueryDocument
	selections, directivesN, spreads, args, vars int
	expanded, overlap                            int
	err                                          *gqlerror.Error
}

func (c *docCounter) fail(format string, limit int) {
	if c.err == nil {
		c.err = limitErr(engine.ELIMIT, format, limit)
	}
}

func (c *docCounter) directives(list ast.DirectiveList) {
	if c.err != nil {
		return
	}
	if len(list) > c.d.MaxDirectivesAt {
		c.fail("more than %d directives in one place", c.d.MaxDirectivesAt)
		return
	}
	c.directivesN += len(list)
	if c.directivesN > c.d.MaxDirectives {
		c.fail("document has more than %d directives", c.d.MaxDirectives)
		return
	}
	for _, dir := range list {
		c.arguments(dir.Arguments)
	}
}

func (c *docCounter) arguments(list ast.ArgumentList) {
	c.args += len(list)
	if c.args > c.d.MaxArguments {
		c.fail("document has more than %d arguments", c.d.MaxArguments)
	}
}

// written counts the selections as written (fragments not expanded).
func (c *docCounter) written(set ast.SelectionSet) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		c.selections++
		if c.selections > c.d.MaxSelections {
			c.fail("document has more than %d selections", c.d.MaxSelections)
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			c.arguments(s.Arguments)
			c.directives(s.Directives)
			c.written(s.SelectionSet)
		case *ast.InlineFragment:
			c.directives(s.Directives)
			c.written(s.SelectionSet)
		case *ast.FragmentSpread:
			c.spreads++
			if c.spreads > c.d.MaxSpreads {
				c.fail("document has more than %d fragment spreads", c.d.MaxSpreads)
				return
			}
			c.directives(s.Directives)
		}
	}
}

// expand walks one root selection set with fragments expanded (cycle-safe:
// a fragment that spreads itself is left to validation), counting the
// selections visited and, per response path, the fields that share it.
func (c *docCounter) expand(set ast.SelectionSet) {
	if c.err != nil {
		return
	}
	paths := map[string]int{}
	c.walk(set, "", paths, map[string]bool{})
}

func (c *docCounter) walk(set ast.SelectionSet, path string, paths map[string]int, visiting map[string]bool) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		c.expanded++
		if c.expanded > c.d.MaxExpanded {
			c.fail("document has more than %d selections with its fragments expanded", c.d.MaxExpanded)
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			p := path + "/" + name
			c.overlap += paths[p] // the new field pairs with each earlier one
			paths[p]++
			if c.overlap > c.d.MaxOverlap {
				c.fail("document has more than %d pairs of selections sharing a response path", c.d.MaxOverlap)
				return
			}
			c.walk(s.SelectionSet, p, paths, visiting)
		case *ast.InlineFragment:
			c.walk(s.SelectionSet, path, paths, visiting)
		case *ast.FragmentSpread:
			f := c.doc.Fragments.ForName(s.Name)
			if f == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			c.walk(f.SelectionSet, path, paths, visiting)
			delete(visiting, s.Name)
		}
	}
}
