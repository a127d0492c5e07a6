// Package server wires Vitalgraph together: configuration, storage, HTTP,
// the GraphQL handler, middleware (request ids, logging, viewer, limits),
// observability and graceful shutdown. Domain logic lives in engine/.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/llm"
)

// Env modes.
const (
	ModeDev        = "dev"
	ModeStaging    = "staging"
	ModeProduction = "production"
)

// Config is the whole runtime configuration, read once from the environment
// by LoadConfig. See the configuration table in README.md.
type Config struct {
	EnvMode         string         // ENV_MODE: dev | staging | production
	Addr            string         // ADDR: listen address
	MetricsAddr     string         // METRICS_ADDR: private listener of /metrics and /debug/pprof/ (off when empty; never ADDR)
	DataDir         string         // DATA_DIR: folder of the embedded SQLite database
	DatabaseURL     string         // DATABASE_URL: PostgreSQL URL; empty = embedded SQLite
	AuditKeysFile   string         // AUDIT_KEYS_FILE: Ed25519 key ring signing audit checkpoints (default DATA_DIR/audit-keys.json)
	RedisURL        string         // REDIS_URL: Redis URL; empty = in-process feed and jobs
	LogLevel        slog.Level     // LOG_LEVEL: debug | info | warn | error (default by mode)
	MigrateOnStart  bool           // MIGRATE_ON_START: apply migrations when serve starts
	SentryDSN       string         // SENTRY_DSN: error monitoring; empty = off
	ShutdownTimeout time.Duration  // SHUTDOWN_TIMEOUT: drain time on SIGTERM
	MaxBodyBytes    int64          // MAX_BODY_BYTES: request body limit
	DemoUserEmail   string         // DEMO_USER_EMAIL: dev-mode demo viewer
	Guardrails      Guardrails     // see Guardrails
	LLM             llm.Config     // LLM_BASE_URL, LLM_MODEL, LLM_API_KEY: optional LLM narrator (off unless set)
	JobsDebounce    time.Duration  // JOBS_DEBOUNCE: delay of the loop run after an ingestion (2s)
	WorkerInProcess bool           // WORKER_IN_PROCESS: with Redis, also work the job queue in this process (true)
	JobsQueue       string         // JOBS_QUEUE: asynq queue name (vitalgraph-loop)
	Feed            FeedConfig     // live feed settings (FEED_*)
	Security        SecurityConfig // see SecurityConfig (config_security.go)
	Version         string         // set at build time, not from the environment
	Commit          string         // set at build time, not from the environment

	// METRICS_OPERATION_NAMES: comma-separated GraphQL operation names that
	// get their own metrics label (with the persisted-query allow-list's);
	// any other name is "other".
	MetricsOperations []string
	// Providers: WHOOP/Oura OAuth and sync (config_providers.go).
	Providers ProvidersConfig
}

// Guardrails are the configurable limits of docs/design.md.
type Guardrails struct {
	IngestMaxBatch       int           // GUARDRAIL_INGEST_MAX_BATCH: samples per ingestion call (1000)
	InsightsPerDay       int           // GUARDRAIL_INSIGHTS_PER_DAY: insights per user per day (50)
	ExperimentsPerMetric int           // GUARDRAIL_EXPERIMENTS_PER_METRIC: active experiments per metric (3)
	AttributionLagDays   int           // GUARDRAIL_ATTRIBUTION_LAG_DAYS: maximum lag window (7)
	LoopTimeout          time.Duration // GUARDRAIL_LOOP_TIMEOUT: loop runtime per user (5000ms)
	NarrativeTimeout     time.Duration // GUARDRAIL_NARRATIVE_TIMEOUT: narrative generation (3000ms)
	ObservationFloor     time.Time     // OBSERVATION_DATE_FLOOR: earlier observedAt is refused TOO_OLD (2000-01-01)
}

// FeedConfig tunes the live feed; zero values take the feed's defaults.
type FeedConfig struct {
	PollInterval        time.Duration // FEED_POLL_INTERVAL: safety poll for lost wake-ups (2s)
	Retention           time.Duration // FEED_RETENTION: replayable history; older cursors get FEED_CURSOR_EXPIRED (720h)
	Buffer              int           // FEED_SUBSCRIBER_BUFFER: events buffered per subscriber (64)
	SlowConsumerTimeout time.Duration // FEED_SLOW_CONSUMER_TIMEOUT: a full buffer this long cuts the subscriber off (10s)
}

// DefaultGuardrails are docs/design.md's defaults.
func DefaultGuardrails() Guardrails {
	return Guardrails{
		IngestMaxBatch: 1000, InsightsPerDay: 50, ExperimentsPerMetric: 3, AttributionLagDays: 7,
		LoopTimeout: 5000 * time.Millisecond, NarrativeTimeout: 3000 * time.Millisecond,
		ObservationFloor: metrics.DefaultEarliest,
	}
}

// Dev reports whether the server runs in dev mode.
func (c Config) Dev() bool { return c.EnvMode == ModeDev }

// Embedded reports whether storage is the embedded SQLite database.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// LoadConfig reads the configuration from getenv, applies defaults and
// validates it. Every problem is reported, not just the first.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		EnvMode:         strings.ToLower(strings.TrimSpace(getenv("ENV_MODE"))),
		Addr:            getenv("ADDR"),
		MetricsAddr:     strings.TrimSpace(getenv("METRICS_ADDR")),
		DataDir:         getenv("DATA_DIR"),
		DatabaseURL:     strings.TrimSpace(getenv("DATABASE_URL")),
		AuditKeysFile:   strings.TrimSpace(getenv("AUDIT_KEYS_FILE")),
		RedisURL:        strings.TrimSpace(getenv("REDIS_URL")),
		SentryDSN:       strings.TrimSpace(getenv("SENTRY_DSN")),
		DemoUserEmail:   getenv("DEMO_USER_EMAIL"),
		ShutdownTimeout: 15 * time.Second,
		MaxBodyBytes:    1 << 20,
		Guardrails:      DefaultGuardrails(),
		JobsDebounce:    2 * time.Second,
		WorkerInProcess: true,
		JobsQueue:       "vitalgraph-loop",
	}
	var errs []error
	intVar := func(name string, dst *int, lo, hi int) {
		if s := getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < lo || n > hi {
				errs = append(errs, fmt.Errorf("%s must be an integer between %d and %d, got %q", name, lo, hi, s))
				return
			}
			*dst = n
		}
	}
	durVar := func(name string, dst *time.Duration) {
		if s := getenv(name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive duration like 5000ms, got %q", name, s))
				return
			}
			*dst = d
		}
	}
	c.LLM = llm.Config{
		BaseURL: strings.TrimSpace(getenv("LLM_BASE_URL")), Model: strings.TrimSpace(getenv("LLM_MODEL")),
		APIKey: getenv("LLM_API_KEY"),
	}
	if (c.LLM.BaseURL == "") != (c.LLM.Model == "") {
		errs = append(errs, errors.New("LLM_BASE_URL and LLM_MODEL must be set together"))
	}
	intVar("GUARDRAIL_INGEST_MAX_BATCH", &c.Guardrails.IngestMaxBatch, 1, 10000)
	intVar("GUARDRAIL_INSIGHTS_PER_DAY", &c.Guardrails.InsightsPerDay, 1, 10000)
	intVar("GUARDRAIL_EXPERIMENTS_PER_METRIC", &c.Guardrails.ExperimentsPerMetric, 1, 100)
	intVar("GUARDRAIL_ATTRIBUTION_LAG_DAYS", &c.Guardrails.AttributionLagDays, 0, 60)
	durVar("GUARDRAIL_LOOP_TIMEOUT", &c.Guardrails.LoopTimeout)
	durVar("GUARDRAIL_NARRATIVE_TIMEOUT", &c.Guardrails.NarrativeTimeout)
	durVar("JOBS_DEBOUNCE", &c.JobsDebounce)
	durVar("FEED_POLL_INTERVAL", &c.Feed.PollInterval)
	durVar("FEED_RETENTION", &c.Feed.Retention)
	durVar("FEED_SLOW_CONSUMER_TIMEOUT", &c.Feed.SlowConsumerTimeout)
	intVar("FEED_SUBSCRIBER_BUFFER", &c.Feed.Buffer, 1, 100000)
	if s := strings.TrimSpace(getenv("JOBS_QUEUE")); s != "" {
		c.JobsQueue = s
	}
	if s := getenv("WORKER_IN_PROCESS"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("WORKER_IN_PROCESS must be true or false, got %q", s))
		}
		c.WorkerInProcess = b
	}
	if c.EnvMode == "" {
		c.EnvMode = ModeDev
	}
	switch c.EnvMode {
	case ModeDev, ModeStaging, ModeProduction:
	default:
		errs = append(errs, fmt.Errorf("ENV_MODE must be dev, staging or production, got %q", c.EnvMode))
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("METRICS_ADDR must be host:port like 127.0.0.1:9090, got %q", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr || (port != "0" && samePort(c.MetricsAddr, c.Addr)) {
			errs = append(errs, errors.New("METRICS_ADDR must differ from ADDR: /metrics and pprof are never served on the public address"))
		}
	}
	for _, n := range strings.Split(getenv("METRICS_OPERATION_NAMES"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			c.MetricsOperations = append(c.MetricsOperations, n)
		}
	}
	if len(c.MetricsOperations) > 500 {
		errs = append(errs, errors.New("METRICS_OPERATION_NAMES may list at most 500 names (each is a label value)"))
	}
	if c.DemoUserEmail == "" {
		c.DemoUserEmail = "demo@vitalgraph.local"
	}
	switch c.EnvMode {
	case ModeDev:
		c.LogLevel = slog.LevelDebug
	case ModeStaging:
		c.LogLevel = slog.LevelInfo
	default:
		c.LogLevel = slog.LevelWarn
	}
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
		}
	}
	if s := getenv("MIGRATE_ON_START"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("MIGRATE_ON_START must be true or false, got %q", s))
		}
		c.MigrateOnStart = b
	}
	if s := strings.TrimSpace(getenv("OBSERVATION_DATE_FLOOR")); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil || d.Year() < 1970 {
			errs = append(errs, fmt.Errorf("OBSERVATION_DATE_FLOOR must be a date like 2000-01-01 (1970 or later), got %q", s))
		}
		c.Guardrails.ObservationFloor = d
	}
	if s := getenv("SHUTDOWN_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration like 15s, got %q", s))
		}
		c.ShutdownTimeout = d
	}
	if s := getenv("MAX_BODY_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1024 || n > 64<<20 {
			errs = append(errs, fmt.Errorf("MAX_BODY_BYTES must be an integer between 1024 and 67108864, got %q", s))
		}
		c.MaxBodyBytes = n
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("DATABASE_URL must be a postgres:// URL"))
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("REDIS_URL must be a redis:// or rediss:// URL"))
		}
	}
	if c.EnvMode == ModeDev && !c.Embedded() && !devDatabaseAllowed(getenv) {
		errs = append(errs, errors.New("ENV_MODE=dev (demo user, X-Debug-User, playground) is refused with DATABASE_URL set: "+
			"set ENV_MODE=staging or production, or ALLOW_DEV_DATABASE=true for a local development database"))
	}
	if c.EnvMode != ModeDev && c.Embedded() {
		errs = append(errs, fmt.Errorf("ENV_MODE=%s needs DATABASE_URL: the embedded SQLite database is for dev only", c.EnvMode))
	}
	if c.EnvMode == ModeProduction && c.MigrateOnStart {
		errs = append(errs, errors.New("MIGRATE_ON_START is refused in production: run `vitalgraph migrate` as a release step"))
	}
	c.Security = loadSecurityConfig(getenv, c.EnvMode, &errs)
	c.Providers = loadProvidersConfig(getenv, c.EnvMode, &errs)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// devDatabaseAllowed reports ALLOW_DEV_DATABASE: dev mode on a real
// PostgreSQL database must be asked for, so an image or a deployment that
// forgets ENV_MODE never serves the dev conveniences against real data.
func devDatabaseAllowed(getenv func(string) string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(getenv("ALLOW_DEV_DATABASE")))
	return err == nil && b
}

// samePort reports whether two listen addresses use the same port on
// overlapping hosts (an empty host or 0.0.0.0 / :: overlaps every host).
func samePort(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wild(ha) || wild(hb)
}
