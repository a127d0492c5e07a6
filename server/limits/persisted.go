package limits

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
)

// RedisAPQCache is the automatic-persisted-query cache shared by every
// instance through Redis. Lookups that fail count as misses.
type RedisAPQCache struct {
	Client *redis.Client
	TTL    time.Duration
}

var _ graphql.Cache[string] = RedisAPQCache{}

const apqPrefix = "apq:"

// Get implements graphql.Cache.
func (c RedisAPQCache) Get(ctx context.Context, key string) (string, bool) {
	s, err := c.Client.Get(ctx, apqPrefix+key).Result()
	if err != nil {
		return "", false
	}
	return s, true
}

// Add implements graphql.Cache.
func (c RedisAPQCache) Add(ctx context.Context, key, value string) {
	_ = c.Client.Set(ctx, apqPrefix+key, value, c.TTL).Err()
}

// QueryHash is the APQ hash of a query: hex sha256.
func QueryHash(q string) string {
	h := sha256.Sum256([]byte(q))
	return hex.EncodeToString(h[:])
}

// AllowList runs only known operations (trusted documents): a request names
// one by extensions.persistedQuery.sha256Hash, or sends a query whose hash is
// listed. Anything else is EFORBIDDEN before parsing.
type AllowList struct {
	Queries map[string]string // sha256 hex → query text
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = AllowList{}

// LoadAllowList reads a JSON object {"<sha256>": "<query>", …}; every hash
// must match its query.
func LoadAllowList(path string) (AllowList, error) {
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return AllowList{}, fmt.Errorf("reading PERSISTED_QUERIES_FILE: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return AllowList{}, fmt.Errorf("PERSISTED_QUERIES_FILE must be a JSON object of sha256 → query: %w", err)
	}
	var errs []error
	for h, q := range m {
		if QueryHash(q) != h {
			errs = append(errs, fmt.Errorf("PERSISTED_QUERIES_FILE: hash %s does not match its query", h))
		}
	}
	return AllowList{Queries: m}, errors.Join(errs...)
}

// ExtensionName implements graphql.HandlerExtension.
func (AllowList) ExtensionName() string { return "VitalgraphAllowList" }

// Validate implements graphql.HandlerExtension.
func (AllowList) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (a AllowList) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	var hash string
	if pq, ok := raw.Extensions["persistedQuery"].(map[string]any); ok {
		hash, _ = pq["sha256Hash"].(string)
	}
	refuse := &gqlerror.Error{Message: "operation is not in the allow-list", Extensions: map[string]any{"code": engine.EFORBIDDEN}}
	if raw.Query == "" {
		q, ok := a.Queries[hash]
		if !ok {
			return refuse
		}
		raw.Query = q
		return nil
	}
	if _, ok := a.Queries[QueryHash(raw.Query)]; !ok {
		return refuse
	}
	return nil
}
