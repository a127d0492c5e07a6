package providers

import "time"

// Sync windows of an OAuth connection (docs/providers.md).
const (
	// SyncBackfill is how far back the first sync of a connection reads.
	SyncBackfill = 30 * 24 * time.Hour
	// SyncOverlap is how far before the end of the last synced window a
	// later sync starts again, so records a provider rescores within that
	// time (WHOOP rescores recent days) are read again and revised.
	SyncOverlap = 7 * 24 * time.Hour
	// TokenRefreshMargin: an access token expiring within this margin is
	// refreshed before a sync uses it.
	TokenRefreshMargin = 5 * time.Minute
	// OAuthStateTTL is how long an authorization link (its state) is valid.
	OAuthStateTTL = 10 * time.Minute
	// WebhookTolerance is how far a webhook's signed timestamp may be from
	// the server's clock; older deliveries are refused as replays.
	WebhookTolerance = 5 * time.Minute
)

// SyncWindow returns the window [since, until) a sync reads, until = now:
// on the first sync (lastUntil zero) since = now − SyncBackfill; later,
// since = lastUntil − SyncOverlap, so a pause of any length is read whole
// and recent records are read again for rescoring. A lastUntil after now
// (a clock step back) counts as now.
func SyncWindow(lastUntil, now time.Time) (since, until time.Time) {
	if lastUntil.IsZero() {
		return now.Add(-SyncBackfill), now
	}
	if lastUntil.After(now) {
		lastUntil = now
	}
	return lastUntil.Add(-SyncOverlap), now
}
