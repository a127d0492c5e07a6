package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/vitalgraph/vitalgraph/graph/schemadoc"
	"github.com/vitalgraph/vitalgraph/server/limits"
)

// pqCmd implements `vitalgraph pq build DIR -o FILE`: every *.graphql file
// under DIR is one document a client sends verbatim (its named operations
// and their fragments). Each is validated against the server's schema; the
// allow-list file maps sha256(text) to the text (limits.LoadAllowList reads
// it; PERSISTED_QUERIES=allowlist). Nothing is written when any file fails.
func pqCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "build" {
		return errors.New("usage: vitalgraph pq build DIR -o FILE")
	}
	fset := flag.NewFlagSet("pq build", flag.ContinueOnError)
	out := fset.String("o", "", "the allow-list file to write (JSON {sha256: document})")
	// The folder may come before or after the flags.
	rest := args[1:]
	var dir string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		dir, rest = rest[0], rest[1:]
	}
	if err := fset.Parse(rest); err != nil {
		return err
	}
	if dir == "" && fset.NArg() == 1 {
		dir = fset.Arg(0)
	} else if fset.NArg() > 0 {
		return errors.New("usage: vitalgraph pq build DIR -o FILE")
	}
	if dir == "" || *out == "" {
		return errors.New("usage: vitalgraph pq build DIR -o FILE")
	}
	list, ops, err := buildAllowList(dir)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o600); err != nil { //nolint:gosec // the operator names the output file
		return err
	}
	fmt.Fprintf(stdout, "%s: %d documents, %d operations (%s)\n", *out, len(list), len(ops), strings.Join(ops, ", "))
	return nil
}

// buildAllowList reads and validates every *.graphql file under dir. Every
// operation must be named, and names must be unique across the folder (a
// server log or a trace names an operation, so a name means one thing).
func buildAllowList(dir string) (map[string]string, []string, error) {
	schema := schemadoc.Schema()
	list := map[string]string{}
	seen := map[string]string{}
	var ops []string
	var errs []error
	fsys := os.DirFS(dir) // reads stay inside dir
	err := fs.WalkDir(fsys, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(rel) != ".graphql" {
			return err
		}
		raw, err := fs.ReadFile(fsys, rel)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		text := string(raw)
		doc, perr := parser.ParseQuery(&ast.Source{Name: path, Input: text})
		if perr != nil {
			errs = append(errs, perr)
			return nil
		}
		if verrs := validator.ValidateWithRules(schema, doc, nil); len(verrs) > 0 {
			errs = append(errs, verrs)
			return nil
		}
		if len(doc.Operations) == 0 {
			errs = append(errs, fmt.Errorf("%s: no operation (fragments alone are not sent)", path))
		}
		for _, op := range doc.Operations {
			switch prev, dup := seen[op.Name]; {
			case op.Name == "":
				errs = append(errs, fmt.Errorf("%s: every operation needs a name", path))
			case dup:
				errs = append(errs, fmt.Errorf("%s: operation %s is also defined in %s", path, op.Name, prev))
			default:
				seen[op.Name] = path
				ops = append(ops, op.Name)
			}
		}
		list[limits.QueryHash(text)] = text
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("%s holds no .graphql files", dir)
	}
	sort.Strings(ops)
	return list, ops, nil
}
