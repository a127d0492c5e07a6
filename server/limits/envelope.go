package limits

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
)

// maxJSONDepth bounds the nesting of a request body's JSON values.
const maxJSONDepth = 64

// CheckEnvelope checks a GraphQL-over-HTTP POST body before gqlgen decodes
// it: one JSON object without duplicate keys (at any depth) and nested no
// deeper than 64 levels, whose "query" is a string, "operationName" a string
// or null, and "variables" and "extensions" objects or null. The error is
// an EINVALID *engine.Error that names the field; it never quotes the body
// or the JSON library.
func CheckEnvelope(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return invalid("request body must be one JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return invalid("request body must be one JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return invalid("request body must be one JSON object")
		}
		key, _ := kt.(string)
		if seen[key] {
			return invalid(fmt.Sprintf("duplicate key %q in the request body", truncateName(key)))
		}
		seen[key] = true
		first, err := dec.Token()
		if err != nil {
			return invalid("request body must be one JSON object")
		}
		kind := kindOf(first)
		if err := skipValue(dec, first, key, 1); err != nil {
			return err
		}
		want := ""
		switch key {
		case "query":
			if kind != "string" {
				want = "a string"
			}
		case "operationName":
			if kind != "string" && kind != "null" {
				want = "a string or null"
			}
		case "variables", "extensions":
			if kind != "object" && kind != "null" {
				want = "an object or null"
			}
		}
		if want != "" {
			return invalid(fmt.Sprintf("%s must be %s", key, want))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return invalid("request body must be one JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("request body must be one JSON object")
	}
	return nil
}

// CheckJSONObjectParam checks a GET parameter (variables, extensions) the
// same way: a JSON object without duplicate keys, or empty.
func CheckJSONObjectParam(name, value string) error {
	if value == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	first, err := dec.Token()
	if err != nil || kindOf(first) != "object" {
		return invalid(name + " must be a JSON object")
	}
	if err := skipValue(dec, first, name, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid(name + " must be a JSON object")
	}
	return nil
}

func invalid(msg string) error { return engine.Errorf(engine.EINVALID, "%s", msg) }

func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func kindOf(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case nil:
		return "null"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}

// skipValue consumes the rest of the value that starts with first, refusing
// duplicate object keys and nesting deeper than maxJSONDepth. path names the
// value in errors; it is joined only when there is an error (a 1000-sample
// batch has thousands of keys).
func skipValue(dec *json.Decoder, first json.Token, path string, depth int) error {
	return skip(dec, first, []string{path}, depth)
}

// smallObject is how many keys an object may have before duplicate keys
// are looked up in a map rather than by scanning the keys seen so far.
const smallObject = 16

func skip(dec *json.Decoder, first json.Token, path []string, depth int) error {
	d, ok := first.(json.Delim)
	if !ok {
		return nil
	}
	if depth > maxJSONDepth {
		return invalid(fmt.Sprintf("%s is nested more than %d levels deep", truncateName(strings.Join(path, ".")), maxJSONDepth))
	}
	switch d {
	case '{':
		var keys [smallObject]string
		n := 0
		var seen map[string]bool
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return invalid("request body must be one JSON object")
			}
			key, _ := kt.(string)
			dup := false
			if seen != nil {
				dup = seen[key]
				seen[key] = true
			} else {
				for _, k := range keys[:n] {
					if k == key {
						dup = true
						break
					}
				}
				if n < smallObject {
					keys[n] = key
					n++
				} else {
					seen = make(map[string]bool, 2*smallObject)
					for _, k := range keys {
						seen[k] = true
					}
					seen[key] = true
				}
			}
			if dup {
				return invalid(fmt.Sprintf("duplicate key %q in %s", truncateName(key), truncateName(strings.Join(path, "."))))
			}
			v, err := dec.Token()
			if err != nil {
				return invalid("request body must be one JSON object")
			}
			if err := skip(dec, v, append(path, key), depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			v, err := dec.Token()
			if err != nil {
				return invalid("request body must be one JSON object")
			}
			if err := skip(dec, v, path, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return invalid("request body must be one JSON object")
	}
	return nil
}
