package safety

import (
	"fmt"
	"io"
	"strconv"
)

// MarshalGQL implements graphql.Marshaler (the GraphQL enum ProtocolKind).
func (k ProtocolKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL implements graphql.Unmarshaler: one of Kinds, else an error.
func (k *ProtocolKind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !ProtocolKind(s).Valid() {
		return fmt.Errorf("%v is not a protocol kind", v)
	}
	*k = ProtocolKind(s)
	return nil
}

// MarshalGQL implements graphql.Marshaler (the GraphQL enum SafetyFlag).
func (f Flag) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(f))) }

// UnmarshalGQL implements graphql.Unmarshaler: one of Flags, else an error.
func (f *Flag) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Flag(s).Valid() {
		return fmt.Errorf("%v is not a safety flag", v)
	}
	*f = Flag(s)
	return nil
}
