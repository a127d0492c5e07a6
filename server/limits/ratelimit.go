package limits

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/vitalgraph/vitalgraph/engine"
)

// Rate is a token bucket: PerMinute requests per minute with bursts of Burst.
type Rate struct {
	PerMinute int
	Burst     int
}

// Limiter is a per-key token bucket: Redis GCRA (go-redis/redis_rate) shared
// by every instance when Redis is configured, else in-process
// (golang.org/x/time/rate). When Redis fails, fail-open keys fall back to the
// in-process bucket and fail-closed keys (auth endpoints) are refused.
type Limiter struct {
	redis *redis_rate.Limiter // nil without Redis
	mu    sync.Mutex
	local map[string]*rate.Limiter
}

// maxLocalKeys bounds the in-process buckets; when exceeded they are reset.
const maxLocalKeys = 100_000

// NewLimiter returns a Limiter on rdb (nil = in-process only).
func NewLimiter(rdb *redis.Client) *Limiter {
	l := &Limiter{local: map[string]*rate.Limiter{}}
	if rdb != nil {
		l.redis = redis_rate.NewLimiter(rdb)
	}
	return l
}

// Allow takes one token from key's bucket. It returns whether the request
// may proceed and, when not, how long to wait.
func (l *Limiter) Allow(ctx context.Context, key string, r Rate, failClosed bool) (bool, time.Duration) {
	if r.PerMinute <= 0 {
		return true, 0
	}
	burst := max(r.Burst, 1)
	if l.redis != nil {
		res, err := l.redis.Allow(ctx, "rl:"+key, redis_rate.Limit{Rate: r.PerMinute, Burst: burst, Period: time.Minute})
		if err == nil {
			return res.Allowed > 0, res.RetryAfter
		}
		if failClosed {
			return false, 5 * time.Second
		}
	}
	return l.allowLocal(key, r.PerMinute, burst)
}

func (l *Limiter) allowLocal(key string, perMinute, burst int) (bool, time.Duration) {
	l.mu.Lock()
	lim, ok := l.local[key]
	if !ok {
		if len(l.local) >= maxLocalKeys {
			l.local = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)
		l.local[key] = lim
	}
	l.mu.Unlock()
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, d
	}
	return true, 0
}

// RetryAfterSeconds is d rounded up to whole seconds (at least 1).
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// LimitError is the ELIMIT error for a refused request.
func LimitError(retry time.Duration) *engine.Error {
	return engine.Errorf(engine.ELIMIT, "rate limit exceeded; retry later").
		WithDetails("retryAfterSeconds", RetryAfterSeconds(retry))
}

// WriteLimited writes 429 with Retry-After and code ELIMIT.
func WriteLimited(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(retry)))
	WriteError(w, http.StatusTooManyRequests, engine.ELIMIT, "rate limit exceeded; retry later")
}
