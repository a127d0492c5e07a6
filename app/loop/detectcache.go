package loop

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/vitalgraph/vitalgraph/engine/detect"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

// detectCacheSize bounds the results kept (one per user and metric).
const detectCacheSize = 10_000

// detectCache keeps, per user and metric, the last detector result with a
// digest of its exact input (series, sources, day, connection, options):
// the detectors are pure, so the same input gives the same result, and a
// run after new data for one metric the same evening recomputes that metric
// alone. A new evening changes every input (AsOf), so every metric is
// recomputed. Process-local; results are never modified after detect.Run
// returns them.
type detectCache struct {
	mu      sync.Mutex
	entries map[string]cachedResult // userID + "\x00" + metric
}

type cachedResult struct {
	digest [sha256.Size]byte
	res    detect.Result
}

func (c *detectCache) get(key string, digest [sha256.Size]byte) (detect.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.digest != digest {
		return detect.Result{}, false
	}
	return e.res, true
}

func (c *detectCache) put(key string, digest [sha256.Size]byte, res detect.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= detectCacheSize {
		c.entries = map[string]cachedResult{}
	}
	c.entries[key] = cachedResult{digest: digest, res: res}
}

// forget drops every result kept for userID.
func (c *detectCache) forget(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := userID + "\x00"
	for k := range c.entries {
		if strings.HasPrefix(k, prefix) {
			delete(c.entries, k)
		}
	}
}

// held counts the results kept for userID.
func (c *detectCache) held(userID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	prefix := userID + "\x00"
	for k := range c.entries {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// Forget drops the detector results the runner keeps in memory for userID
// (derived from their health data): the account erasure calls it after its
// commit, so nothing of an erased user outlives the erasure in this process.
func (r *Runner) Forget(userID string) { r.cache.forget(userID) }

// inputDigest is a digest of everything detect.Run reads.
func inputDigest(in detect.Input, opt detect.Options) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q %t %t %d %#v\n", in.Metric, in.HigherIsBetter, in.LnTransform, in.AsOf.Unix(), opt)
	if in.DisconnectedSince != nil {
		fmt.Fprintf(h, "disconnected %d\n", in.DisconnectedSince.Unix())
	}
	writeSeries(h, in.Series)
	sources := make([]string, 0, len(in.BySource))
	for src := range in.BySource {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	for _, src := range sources {
		fmt.Fprintf(h, "source %q\n", src)
		writeSeries(h, in.BySource[src])
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func writeSeries(h hash.Hash, s series.Series) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(len(s)))
	h.Write(b[:8])
	for _, p := range s {
		binary.LittleEndian.PutUint64(b[:8], uint64(p.Day.UnixNano()))
		binary.LittleEndian.PutUint64(b[8:], math.Float64bits(p.Value))
		h.Write(b[:])
	}
}
