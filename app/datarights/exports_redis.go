package datarights

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/engine"
)

// With Redis, export jobs and archives are shared by every replica (the
// job runs where it was requested; any replica answers dataExport and
// serves the download) and expire in Redis itself.
const (
	redisPrefix  = "vitalgraph:export:"
	runningTTL   = 2 * time.Hour // a job that never finishes disappears
	redisTimeout = 5 * time.Second
)

// NewRedisExportStore keeps export jobs in Redis (nil rdb: in memory).
func NewRedisExportStore(rdb *redis.Client) *ExportStore {
	st := NewExportStore()
	st.rdb = rdb
	return st
}

func metaKey(id string) string     { return redisPrefix + "meta:" + id }
func dataKey(id string) string     { return redisPrefix + "data:" + id }
func userKey(userID string) string { return redisPrefix + "user:" + userID }

func rctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), redisTimeout)
}

func ttlOf(e *Export, now time.Time) time.Duration {
	if !e.ExpiresAt.IsZero() {
		if d := e.ExpiresAt.Sub(now); d > 0 {
			return d
		}
		return time.Second
	}
	return runningTTL
}

func (st *ExportStore) redisSave(e *Export) {
	ctx, cancel := rctx()
	defer cancel()
	now := time.Now()
	ttl := ttlOf(e, now)
	data := e.data
	e.data = nil
	b, _ := json.Marshal(e)
	pipe := st.rdb.TxPipeline()
	if data != nil {
		pipe.Set(ctx, dataKey(e.ID), data, ttl)
	}
	pipe.Set(ctx, metaKey(e.ID), b, ttl)
	pipe.SAdd(ctx, userKey(e.UserID), e.ID)
	pipe.Expire(ctx, userKey(e.UserID), 48*time.Hour)
	_, _ = pipe.Exec(ctx) // a lost update shows as a stale status; the job's audit events still tell
}

func (st *ExportStore) redisGet(id string) (*Export, bool) {
	ctx, cancel := rctx()
	defer cancel()
	b, err := st.rdb.Get(ctx, metaKey(id)).Bytes()
	if err != nil {
		return nil, false
	}
	var e Export
	if json.Unmarshal(b, &e) != nil {
		return nil, false
	}
	return &e, true
}

func (st *ExportStore) redisDeleteUser(userID string) {
	ctx, cancel := rctx()
	defer cancel()
	ids, _ := st.rdb.SMembers(ctx, userKey(userID)).Result()
	keys := []string{userKey(userID)}
	for _, id := range ids {
		keys = append(keys, metaKey(id), dataKey(id))
	}
	_ = st.rdb.Del(ctx, keys...).Err()
}

func (st *ExportStore) redisDownload(id, token string, now time.Time) ([]byte, *Export, error) {
	notFound := engine.Errorf(engine.ENOTFOUND, "no such export, or its download link expired")
	e, ok := st.redisGet(id)
	if !ok || e.Status != ExportReady || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(e.Token)) != 1 ||
		now.After(e.ExpiresAt) {
		return nil, nil, notFound
	}
	ctx, cancel := rctx()
	defer cancel()
	data, err := st.rdb.Get(ctx, dataKey(id)).Bytes()
	if err != nil {
		return nil, nil, notFound
	}
	return data, e, nil
}
