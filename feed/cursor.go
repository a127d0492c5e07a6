package feed

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
)

// ECURSOREXPIRED is the error code of a cursor older than the feed's
// retention: the events right after it were pruned (or are older than the
// retention window), so the stream cannot be resumed without a gap. The
// client should reload its state through queries and subscribe without
// `after`.
const ECURSOREXPIRED = "FEED_CURSOR_EXPIRED"

// Cursor is a position in one user's feed: the seq of the last event a
// client has seen (0 = before the first event). In GraphQL it is the scalar
// FeedCursor, a decimal string such as "42"; integers are accepted on input.
type Cursor int64

// String returns the decimal form used on the wire and as the SSE id.
func (c Cursor) String() string { return strconv.FormatInt(int64(c), 10) }

// ParseCursor parses the decimal form of a cursor. It fails with EINVALID.
func ParseCursor(s string) (Cursor, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, engine.Errorf(engine.EINVALID, "a feed cursor is a non-negative integer, got %q", s)
	}
	return Cursor(n), nil
}

// MarshalGQL implements graphql.Marshaler.
func (c Cursor) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(c.String()))
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (c *Cursor) UnmarshalGQL(v any) error {
	switch x := v.(type) {
	case string:
		p, err := ParseCursor(x)
		if err != nil {
			return err
		}
		*c = p
		return nil
	case json.Number:
		return c.UnmarshalGQL(x.String())
	case int:
		return c.UnmarshalGQL(strconv.Itoa(x))
	case int64:
		return c.UnmarshalGQL(strconv.FormatInt(x, 10))
	case float64:
		if x != float64(int64(x)) {
			return engine.Errorf(engine.EINVALID, "a feed cursor is an integer, got %v", x)
		}
		return c.UnmarshalGQL(strconv.FormatInt(int64(x), 10))
	}
	return engine.Errorf(engine.EINVALID, "a feed cursor is a string of digits, got %s", fmt.Sprintf("%T", v))
}

// RawJSON is JSON encoded once and written as is: a feed event's payload is
// encoded once per event, not once per subscriber (a second Go model of
// the GraphQL scalar Map, output only).
type RawJSON []byte

// MarshalGQL implements graphql.Marshaler.
func (r RawJSON) MarshalGQL(w io.Writer) {
	if len(r) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(r)
}

// UnmarshalGQL implements graphql.Unmarshaler; RawJSON is never an input.
func (r *RawJSON) UnmarshalGQL(any) error {
	return engine.Errorf(engine.EINVALID, "a feed payload is not an input")
}
