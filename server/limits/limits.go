// Package limits holds Vitalgraph's abuse limits: a gqlgen extension that
// bounds each operation's depth, connection-aware cost, aliases, root fields
// and field count (and refuses introspection when it is off), an HTTP guard
// for request bodies (batching, encoding, JSON shape, content type, mutations
// over GET), per-user and per-IP rate limiting (Redis GCRA with an
// in-process fallback), persisted queries (APQ cache and allow-list) and
// client IP resolution behind trusted proxies.
package limits

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Operation limits and their defaults.
type Operation struct {
	MaxDepth           int      // deepest field nesting (default 12)
	MaxCost            int      // connection-aware cost (default 5000)
	MaxAliases         int      // aliased fields per operation (default 30)
	MaxRootFields      int      // top-level fields per operation (default 10)
	MaxFields          int      // field selections visited, fragments expanded (default 1000)
	DefaultPage        int      // page size assumed for a connection without first/last (default 20)
	AllowIntrospection bool     // __schema / __type allowed
	SoloMutations      []string // mutation fields that must be alone in their operation
	// Observe, when set, is told every measured operation's stats (Limit
	// names the limit that refused it, if one did); metrics use it.
	Observe func(ctx context.Context, st Stats)
}

// WithDefaults fills zero limits.
func (o Operation) WithDefaults() Operation {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxDepth, 12)
	def(&o.MaxCost, 5000)
	def(&o.MaxAliases, 30)
	def(&o.MaxRootFields, 10)
	def(&o.MaxFields, 1000)
	def(&o.DefaultPage, 20)
	return o
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Operation{}

// ExtensionName implements graphql.HandlerExtension.
func (Operation) ExtensionName() string { return "VitalgraphOperationLimits" }

// Validate implements graphql.HandlerExtension.
func (Operation) Validate(graphql.ExecutableSchema) error { return nil }

// Stats are what the walker measured.
type Stats struct {
	Depth, Cost, Aliases, RootFields, Fields int
	// Limit is the limit that refused the operation: "depth", "cost",
	// "aliases", "root_fields", "fields" or "introspection"; "" if none.
	Limit string
}

func limitErr(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// measures the operation and refuses it (ELIMIT, EFORBIDDEN for
// introspection, EINVALID for a solo mutation sent with others) before any
// resolver runs.
func (o Operation) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	st, gerr := o.Measure(oc.Doc, oc.Operation, oc.Variables)
	if o.Observe != nil {
		o.Observe(ctx, st)
	}
	if gerr != nil {
		return gerr
	}
	if oc.Operation.Operation == ast.Mutation && st.RootFields > 1 {
		for _, sel := range oc.Operation.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && slices.Contains(o.SoloMutations, f.Name) {
				return limitErr(engine.EINVALID, "%s must be the only field of its operation", f.Name)
			}
		}
	}
	return nil
}

// Measure walks op (fragments expanded, cycle-safe) and returns its stats,
// or the first limit it exceeds.
func (o Operation) Measure(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (Stats, *gqlerror.Error) {
	o = o.WithDefaults()
	w := walker{o: o, doc: doc, vars: vars, visiting: map[string]bool{}}
	cost := w.selections(op.SelectionSet, 1, true)
	w.st.Cost = cost
	if w.err != nil {
		return w.st, w.err
	}
	if w.st.Cost > o.MaxCost {
		w.st.Limit = "cost"
		return w.st, limitErr(engine.ELIMIT, "query cost %d exceeds the limit of %d (connections cost first × their fields)", w.st.Cost, o.MaxCost)
	}
	return w.st, nil
}

type walker struct {
	o        Operation
	doc      *ast.QueryDocument
	vars     map[string]any
	visiting map[string]bool
	st       Stats
	err      *gqlerror.Error
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

func satMul(a, b int) int {
	if a != 0 && b > math.MaxInt32/a {
		return math.MaxInt32
	}
	return a * b
}

func (w *walker) selections(set ast.SelectionSet, depth int, root bool) int {
	cost := 0
	for _, sel := range set {
		if w.err != nil {
			return cost
		}
		switch s := sel.(type) {
		case *ast.Field:
			if root {
				w.st.RootFields++
				if w.st.RootFields > w.o.MaxRootFields {
					w.err, w.st.Limit = limitErr(engine.ELIMIT, "operation has more than %d root fields", w.o.MaxRootFields), "root_fields"
					return cost
				}
			}
			cost = satAdd(cost, w.field(s, depth))
		case *ast.InlineFragment:
			cost = satAdd(cost, w.selections(s.SelectionSet, depth, root))
		case *ast.FragmentSpread:
			if w.visiting[s.Name] {
				w.err = limitErr(engine.EINVALID, "fragment %s spreads itself", s.Name)
				return cost
			}
			f := w.doc.Fragments.ForName(s.Name)
			if f == nil {
				continue
			}
			w.visiting[s.Name] = true
			cost = satAdd(cost, w.selections(f.SelectionSet, depth, root))
			delete(w.visiting, s.Name)
		}
	}
	return cost
}

func (w *walker) field(f *ast.Field, depth int) int {
	w.st.Fields++
	if w.st.Fields > w.o.MaxFields {
		w.err, w.st.Limit = limitErr(engine.ELIMIT, "operation selects more than %d fields", w.o.MaxFields), "fields"
		return 0
	}
	if f.Alias != "" && f.Alias != f.Name {
		w.st.Aliases++
		if w.st.Aliases > w.o.MaxAliases {
			w.err, w.st.Limit = limitErr(engine.ELIMIT, "operation has more than %d aliases", w.o.MaxAliases), "aliases"
			return 0
		}
	}
	if strings.HasPrefix(f.Name, "__") {
		if f.Name == "__typename" {
			return 0
		}
		if !w.o.AllowIntrospection {
			w.err, w.st.Limit = limitErr(engine.EFORBIDDEN, "introspection is disabled"), "introspection"
		}
		return 0 // introspection is exempt from depth and cost (by AST, not operation name)
	}
	if depth > w.st.Depth {
		w.st.Depth = depth
	}
	if depth > w.o.MaxDepth {
		w.err, w.st.Limit = limitErr(engine.ELIMIT, "query depth exceeds the limit of %d", w.o.MaxDepth), "depth"
		return 0
	}
	children := w.selections(f.SelectionSet, depth+1, false)
	return satAdd(1, satMul(w.multiplier(f), children))
}

// multiplier is first/last for connections (DefaultPage when neither is
// given) and 1 otherwise.
func (w *walker) multiplier(f *ast.Field) int {
	if f.Definition == nil || f.Definition.Type == nil || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return 1
	}
	args := f.ArgumentMap(w.vars)
	n := 0
	for _, k := range []string{"first", "last"} {
		switch v := args[k].(type) {
		case int64:
			n = max(n, int(min(max(v, 0), math.MaxInt32)))
		case int:
			n = max(n, min(max(v, 0), math.MaxInt32))
		case float64:
			n = max(n, int(min(max(v, 0), math.MaxInt32)))
		}
	}
	if n == 0 {
		return w.o.DefaultPage
	}
	return n
}
