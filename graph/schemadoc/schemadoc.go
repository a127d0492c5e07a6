// Package schemadoc prints the executable GraphQL schema (the one file client
// code generators read, schema.graphql) and lists the places of the schema a
// client developer would find undocumented.
package schemadoc

import (
	"bytes"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/vitalgraph/vitalgraph/graph"
)

// Schema returns the executable schema's definition.
func Schema() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}

// Print renders the executable schema as SDL with descriptions, sorted as
// gqlparser's formatter sorts it, ending in one newline.
func Print() []byte {
	s := Schema()
	// gqlgen's binding directives (@goModel, @goField…) describe the server's
	// Go code, not the API: a client never sees them.
	for name := range s.Directives {
		if strings.HasPrefix(name, "go") {
			delete(s.Directives, name)
		}
	}
	for _, def := range s.Types {
		def.Directives = withoutGo(def.Directives)
		for _, f := range def.Fields {
			f.Directives = withoutGo(f.Directives)
		}
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(s)
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n')
}

// Undocumented lists every type, field, argument, input field and enum value
// of s without a description, as "Type", "Type.field", "Type.field(arg)" or
// "Enum.VALUE". Introspection types (__*) are gqlparser's own and skipped.
func Undocumented(s *ast.Schema) []string {
	var out []string
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		if strings.TrimSpace(def.Description) == "" {
			out = append(out, name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if strings.TrimSpace(f.Description) == "" {
				out = append(out, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if strings.TrimSpace(a.Description) == "" {
					out = append(out, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, v := range def.EnumValues {
			if strings.TrimSpace(v.Description) == "" {
				out = append(out, name+"."+v.Name)
			}
		}
	}
	for name, d := range s.Directives {
		// Built-in directives are gqlparser's; @go… are gqlgen's binding
		// directives, left out of the printed schema (Print).
		if d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn || strings.HasPrefix(name, "go") {
			continue
		}
		if strings.TrimSpace(d.Description) == "" {
			out = append(out, "@"+name)
		}
		for _, a := range d.Arguments {
			if strings.TrimSpace(a.Description) == "" {
				out = append(out, "@"+name+"("+a.Name+")")
			}
		}
	}
	return out
}

func withoutGo(ds ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range ds {
		if !strings.HasPrefix(d.Name, "go") {
			out = append(out, d)
		}
	}
	return out
}
