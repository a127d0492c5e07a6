package loop

import (
	"context"

	"github.com/vitalgraph/vitalgraph/engine/series"
	"github.com/vitalgraph/vitalgraph/ent"
)

// ReadObservations exposes readObservations to the package's external tests.
func (r *Runner) ReadObservations(ctx context.Context, tx *ent.Tx, userID string, from, asOf series.Day) (map[string]map[string]series.Series, map[string]error, error) {
	return r.readObservations(ctx, tx, userID, from, asOf)
}

// CachedResults counts the detector results the runner keeps for userID.
func (r *Runner) CachedResults(userID string) int { return r.cache.held(userID) }
