package ingest

import (
	"context"
	"testing"
)

// SetBeforeCopy runs f right before each COPY of the PostgreSQL path until
// the test ends. Tests that use it must not run in parallel.
func SetBeforeCopy(t *testing.T, f func(ctx context.Context, userID string)) {
	t.Helper()
	beforeCopy = f
	t.Cleanup(func() { beforeCopy = nil })
}
