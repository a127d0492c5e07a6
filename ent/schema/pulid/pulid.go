// Package pulid makes Vitalgraph's global IDs: a short type prefix, an
// underscore and a ULID whose 80 random bits come from crypto/rand, e.g.
// "ins_01J9ZK3Q4M6V8T2W5X7Y9A1B3C". IDs are opaque to clients and not
// guessable: two IDs minted in the same millisecond share no sequence.
package pulid

import (
	"crypto/rand"
	"strings"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/oklog/ulid/v2"
)

// New returns a new ID with the given type prefix.
func New(prefix string) string {
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String()
}

// Prefix returns the type prefix of id and whether id is well formed.
func Prefix(id string) (string, bool) {
	prefix, rest, ok := strings.Cut(id, "_")
	if !ok || prefix == "" {
		return "", false
	}
	if _, err := ulid.ParseStrict(rest); err != nil {
		return "", false
	}
	return prefix, true
}

// Mixin adds the string id field with the type's prefix.
type Mixin struct {
	mixin.Schema
	prefix string
}

// MixinWithPrefix returns the id mixin for a type whose IDs start with prefix.
func MixinWithPrefix(prefix string) Mixin { return Mixin{prefix: prefix} }

// Fields implements ent.Mixin.
func (m Mixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			Immutable().
			NotEmpty().
			MaxLen(40).
			DefaultFunc(func() string { return New(m.prefix) }).
			Comment("global id: a type prefix and a ULID; node(id:) loads it"),
	}
}

// Annotation records a type's ID prefix for code generation.
type Annotation struct {
	Prefix string
}

// Name implements schema.Annotation.
func (Annotation) Name() string { return "PULID" }

// Annotations implements ent.Mixin.
func (m Mixin) Annotations() []schema.Annotation {
	return []schema.Annotation{Annotation{Prefix: m.prefix}}
}
