package limits

import (
	"encoding/json"
	"fmt"
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
	if !json.Valid(body) {
		return errNotObject
	}
	return checkValidEnvelope(body)
}

// checkValidEnvelope is CheckEnvelope for a body json.Valid accepted: one
// pass over the bytes that allocates nothing for a body without problems
// (keys are compared as raw bytes unless they hold an escape).
func checkValidEnvelope(body []byte) error {
	var path [8][]byte
	s := scanner{b: body, path: path[:0]}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errNotObject
	}
	s.i++
	var seen keySet
	for first := true; ; first = false {
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			break
		}
		if !first {
			s.i++ // ','
			s.space()
		}
		key := s.key()
		if seen.add(key) {
			return invalid(fmt.Sprintf("duplicate key %q in the request body", truncateName(keyString(key))))
		}
		s.space()
		s.i++ // ':'
		s.space()
		kind := kindAt(s.b[s.i])
		s.path = append(s.path[:0], key)
		if err := s.value(1); err != nil {
			return err
		}
		want := ""
		switch string(key) {
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
			return invalid(fmt.Sprintf("%s must be %s", keyString(key), want))
		}
	}
	s.space()
	if s.i != len(s.b) {
		return errNotObject
	}
	return nil
}

// CheckJSONObjectParam checks a GET parameter (variables, extensions) the
// same way: a JSON object without duplicate keys, or empty.
func CheckJSONObjectParam(name, value string) error {
	if value == "" {
		return nil
	}
	b := []byte(value)
	if !json.Valid(b) {
		return invalid(name + " must be a JSON object")
	}
	s := scanner{b: b, path: [][]byte{[]byte(name)}}
	s.space()
	if s.b[s.i] != '{' {
		return invalid(name + " must be a JSON object")
	}
	return s.value(1)
}

var errNotObject = invalid("request body must be one JSON object")

func invalid(msg string) error { return engine.Errorf(engine.EINVALID, "%s", msg) }

func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func kindAt(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	default:
		return "number"
	}
}

// keyString is a raw key (the bytes between its quotes) decoded.
func keyString(raw []byte) string {
	if !hasEscape(raw) {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return string(raw)
	}
	return s
}

func hasEscape(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' {
			return true
		}
	}
	return false
}

// smallObject is how many keys an object may have before duplicate keys
// are looked up in a map rather than by scanning the keys seen so far.
const smallObject = 16

// keySet finds duplicate keys of one object: a scan of the first
// smallObject keys, a map past them. Keys with escapes are decoded first,
// so "a" and "\u0061" are the same key.
type keySet struct {
	keys [smallObject][]byte
	n    int
	m    map[string]struct{}
}

// add records key and reports whether it was already there.
func (k *keySet) add(raw []byte) bool {
	key := raw
	if hasEscape(raw) {
		key = []byte(keyString(raw))
	}
	if k.m != nil {
		if _, dup := k.m[string(key)]; dup {
			return true
		}
		k.m[string(key)] = struct{}{}
		return false
	}
	for _, seen := range k.keys[:k.n] {
		if string(seen) == string(key) {
			return true
		}
	}
	if k.n < smallObject {
		k.keys[k.n] = key
		k.n++
		return false
	}
	k.m = make(map[string]struct{}, 2*smallObject)
	for _, seen := range k.keys {
		k.m[string(seen)] = struct{}{}
	}
	k.m[string(key)] = struct{}{}
	return false
}

// scanner walks JSON that json.Valid accepted, so it checks no syntax:
// it only finds the ends of values, duplicate keys and the nesting depth.
type scanner struct {
	b    []byte
	i    int
	path [][]byte // the raw keys leading to the current value, decoded only for an error
}

// where names the current value by its path of keys.
func (s *scanner) where() string {
	parts := make([]string, len(s.path))
	for i, k := range s.path {
		parts[i] = keyString(k)
	}
	return truncateName(strings.Join(parts, "."))
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// key consumes a string and returns its raw bytes, without the quotes.
func (s *scanner) key() []byte {
	start := s.i + 1
	s.str()
	return s.b[start : s.i-1]
}

// str consumes a string starting at its opening quote.
func (s *scanner) str() {
	s.i++
	for {
		switch s.b[s.i] {
		case '"':
			s.i++
			return
		case '\\':
			s.i += 2
		default:
			s.i++
		}
	}
}

// value consumes the value at s.i, which sits depth levels deep.
func (s *scanner) value(depth int) error {
	switch s.b[s.i] {
	case '"':
		s.str()
		return nil
	case '{', '[':
	default: // a number or a literal: up to the next delimiter
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return nil
			}
			s.i++
		}
		return nil
	}
	if depth > maxJSONDepth {
		return invalid(fmt.Sprintf("%s is nested more than %d levels deep", s.where(), maxJSONDepth))
	}
	if s.b[s.i] == '[' {
		s.i++
		for first := true; ; first = false {
			s.space()
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if !first {
				s.i++ // ','
				s.space()
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
	}
	s.i++
	var seen keySet
	for first := true; ; first = false {
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		if !first {
			s.i++ // ','
			s.space()
		}
		key := s.key()
		if seen.add(key) {
			return invalid(fmt.Sprintf("duplicate key %q in %s", truncateName(keyString(key)), s.where()))
		}
		s.space()
		s.i++ // ':'
		s.space()
		if c := s.b[s.i]; c == '{' || c == '[' {
			s.path = append(s.path, key)
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.path = s.path[:len(s.path)-1]
			continue
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
}
