package resolvers

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/narrative"
)

// loaderWait is how long a loader collects keys before it queries: gqlgen
// resolves a list's fields in concurrent goroutines, which all ask within
// this time.
const loaderWait = time.Millisecond

// loaders batch the N+1 edges of one operation. They cache nothing across
// batches (a subscription's operation lives long; its events must see new
// rows), and each batch queries with the context of its first caller: the
// operation's viewer, and its transaction in a mutation.
type loaders struct {
	narrative *dataloadgen.Loader[string, *ent.Narrative]
}

type loadersKey struct{}

// WithLoaders returns ctx carrying fresh loaders for one operation.
func (r *Resolver) WithLoaders(ctx context.Context) context.Context {
	return context.WithValue(ctx, loadersKey{}, &loaders{
		narrative: dataloadgen.NewLoader(r.newestNarratives, dataloadgen.WithWait(loaderWait), dataloadgen.WithoutCache()),
	})
}

// narrativeOf is the newest narrative of subject id (an evaluation), or nil:
// batched with the operation's other subjects when ctx has loaders.
func (r *Resolver) narrativeOf(ctx context.Context, id string) (*ent.Narrative, error) {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l.narrative.Load(ctx, id)
	}
	out, errs := r.newestNarratives(ctx, []string{id})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out[0], nil
}

// newestNarratives loads, in one query, the newest narrative of each
// subject id (nil for a subject without one), through ent privacy.
func (r *Resolver) newestNarratives(ctx context.Context, ids []string) ([]*ent.Narrative, []error) {
	rows, err := r.client(ctx).Narrative.Query().Where(narrative.SubjectIDIn(ids...)).
		Order(ent.Desc(narrative.FieldCreatedAt), ent.Desc(narrative.FieldID)).All(ctx)
	if err != nil {
		return nil, []error{err}
	}
	newest := make(map[string]*ent.Narrative, len(ids))
	for _, n := range rows {
		if _, ok := newest[n.SubjectID]; !ok {
			newest[n.SubjectID] = n
		}
	}
	out := make([]*ent.Narrative, len(ids))
	for i, id := range ids {
		out[i] = newest[id]
	}
	return out, nil
}
