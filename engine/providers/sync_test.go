package providers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/providers"
)

func TestSyncWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		lastUntil time.Time
		since     time.Time
	}{
		{"first sync reads the backfill", time.Time{}, now.AddDate(0, 0, -30)},
		{"an hour later re-reads the overlap", now.Add(-time.Hour), now.Add(-time.Hour).AddDate(0, 0, -7)},
		{"after a long pause the whole gap", now.AddDate(0, 0, -90), now.AddDate(0, 0, -97)},
		{"a cursor in the future counts as now", now.Add(48 * time.Hour), now.AddDate(0, 0, -7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			since, until := providers.SyncWindow(tc.lastUntil, now)
			require.Equal(t, tc.since, since)
			require.Equal(t, now, until)
		})
	}
}
