package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/backup"
	"github.com/vitalgraph/vitalgraph/app/jobs"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/llm"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/migrations"
)

// Doctor thresholds.
const (
	doctorSlow        = 250 * time.Millisecond // a database or Redis round trip slower than this fails
	doctorMaxSkew     = 2 * time.Second        // clock difference with PostgreSQL
	doctorKeyAge      = 80 * 24 * time.Hour    // JWT key ring older than this: rotate (90-day policy, docs/deploy.md)
	doctorBackupAge   = 26 * time.Hour         // newest backup older than this fails (daily backups)
	doctorGoldenCase  = "g1_clean"             // the golden scenario run on the engine
	doctorHTTPTimeout = 5 * time.Second
)

// check is one line of the doctor's checklist.
type check struct {
	name string
	ok   bool
	info string // what was found
	fix  string // what to do when !ok
}

// doctorCmd checks a deployment as configured (the environment `serve`
// would run with) and, with --url, the running server: it prints one line
// per check with PASS or FAIL and the fix, and fails when any check fails.
func doctorCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	base := fs.String("url", "", "the running server's public URL (checks /readyz, HTTPS and HSTS)")
	skipGolden := fs.Bool("skip-golden", false, "skip the golden regression in a throwaway schema")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var checks []check
	add := func(c check) { checks = append(checks, c) }
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		add(check{name: "configuration", info: err.Error(), fix: "fix the environment variables named above (README.md, configuration)"})
		return printChecks(stdout, checks)
	}
	add(check{name: "configuration", ok: true, info: "ENV_MODE=" + cfg.EnvMode})
	add(checkHTTPS(cfg))
	add(checkCORS(cfg))
	add(checkKeys(cfg))

	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		add(check{name: "database reachable", info: err.Error(), fix: "check DATABASE_URL and that PostgreSQL accepts connections"})
	} else {
		defer st.Close()
		add(checkDatabase(ctx, st))
		add(checkMigrations(ctx, st))
		add(checkClock(ctx, st))
	}
	if cfg.RedisURL != "" {
		add(checkRedis(ctx, cfg.RedisURL))
		add(checkJobs(ctx, cfg))
	} else if !cfg.Dev() {
		add(check{name: "redis", ok: true, info: "REDIS_URL not set: in-process feed, jobs and rate limits (one instance only)"})
	}
	if dir := strings.TrimSpace(getenv("BACKUP_DIR")); dir != "" {
		add(checkBackup(dir, time.Now()))
	}
	if *base != "" {
		add(checkServer(ctx, *base, cfg))
	}
	if !*skipGolden && st != nil && st.Dialect == "postgres" {
		add(checkGolden(ctx, cfg))
	}
	return printChecks(stdout, checks)
}

func printChecks(w io.Writer, checks []check) error {
	failed := 0
	for _, c := range checks {
		if c.ok {
			fmt.Fprintf(w, "PASS  %-22s %s\n", c.name, c.info)
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL  %-22s %s\n      fix: %s\n", c.name, c.info, c.fix)
	}
	if failed > 0 {
		fmt.Fprintf(w, "%d of %d checks failed\n", failed, len(checks))
		return fmt.Errorf("doctor: %d check(s) failed", failed)
	}
	fmt.Fprintf(w, "all %d checks passed\n", len(checks))
	return nil
}

func checkHTTPS(cfg server.Config) check {
	c := check{name: "https enforced", fix: "unset ALLOW_PLAIN_HTTP and serve behind TLS (TRUSTED_PROXIES for the proxy)"}
	switch {
	case cfg.Dev():
		c.info = "dev mode serves plain HTTP"
		c.fix = "set ENV_MODE=staging or production"
	case cfg.Security.AllowPlainHTTP:
		c.info = "ALLOW_PLAIN_HTTP=true"
	default:
		c.ok, c.info = true, "plain HTTP is redirected or refused; HSTS sent"
	}
	return c
}

func checkCORS(cfg server.Config) check {
	c := check{name: "cors origins", fix: "set CORS_ALLOWED_ORIGINS to the web app's origins, e.g. https://app.example.com"}
	switch {
	case cfg.Security.AllowAnyOrigin():
		c.info = `CORS_ALLOWED_ORIGINS is "*"`
	default:
		c.ok, c.info = true, fmt.Sprintf("%d origin(s) allowed", len(cfg.Security.CORSOrigins))
	}
	return c
}

// checkKeys: the JWT key ring parses, has a signing key, is not a known
// test key, and its file is younger than doctorKeyAge (the file's age is
// the signing key's: `keys generate --rotate` rewrites it).
func checkKeys(cfg server.Config) check {
	c := check{name: "key ring", fix: "vitalgraph keys generate --out $JWT_KEYS_FILE --rotate (docs/runbooks.md, key rotation)"}
	path := cfg.Security.JWTKeysFile
	if path == "" {
		if cfg.Dev() {
			c.ok, c.info = true, "dev mode: ephemeral key"
			return c
		}
		c.info = "JWT_KEYS_FILE is not set"
		return c
	}
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		c.info = "JWT_KEYS_FILE cannot be read"
		return c
	}
	ring, err := auth.ParseKeyRing(data)
	if err != nil {
		c.info = "JWT_KEYS_FILE is not a valid key ring"
		return c
	}
	if _, _, ok := ring.Signer(); !ok {
		c.info = "the key ring has no signing key"
		return c
	}
	if auth.IsInsecureKeyRing(ring) {
		c.info = "the key ring holds a published test key"
		return c
	}
	fi, err := os.Stat(filepath.Clean(path))
	if err == nil && time.Since(fi.ModTime()) > doctorKeyAge {
		c.info = fmt.Sprintf("the signing key is %d days old (rotate every 90 days)", int(time.Since(fi.ModTime()).Hours()/24))
		return c
	}
	c.ok, c.info = true, fmt.Sprintf("%d key(s), signing key younger than %d days", len(ring.KIDs()), int(doctorKeyAge.Hours()/24))
	return c
}

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func checkDatabase(ctx context.Context, st *server.Store) check {
	c := check{name: "database reachable", fix: "check DATABASE_URL, the network and PostgreSQL's load"}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := timed(func() error { return st.DB.PingContext(pctx) })
	switch {
	case err != nil:
		c.info = "ping failed: " + err.Error()
	case d > doctorSlow:
		c.info = fmt.Sprintf("%s round trip (over %s)", d.Round(time.Millisecond), doctorSlow)
	default:
		c.ok, c.info = true, fmt.Sprintf("%s, %s round trip", st.Dialect, d.Round(time.Microsecond))
	}
	return c
}

func checkMigrations(ctx context.Context, st *server.Store) check {
	c := check{name: "migrations current", fix: "vitalgraph migrate (a release step; docs/runbooks.md)"}
	list, err := migrations.List(ctx, st.DB, st.Dialect)
	if err != nil {
		c.info = "cannot list migrations: " + err.Error()
		return c
	}
	pending := 0
	for _, m := range list {
		if m.AppliedAt == nil {
			pending++
		}
	}
	if pending > 0 {
		c.info = fmt.Sprintf("%d of %d migration(s) pending", pending, len(list))
		return c
	}
	c.ok, c.info = true, fmt.Sprintf("%d migration(s) applied", len(list))
	return c
}

func checkClock(ctx context.Context, st *server.Store) check {
	c := check{name: "clock skew", fix: "run NTP (chrony/systemd-timesyncd) on this host and the database host"}
	if st.Dialect != "postgres" {
		c.ok, c.info = true, "embedded database: same clock"
		return c
	}
	var dbNow time.Time
	start := time.Now()
	if err := st.DB.QueryRowContext(ctx, `SELECT now()`).Scan(&dbNow); err != nil {
		c.info = "cannot read the database clock: " + err.Error()
		return c
	}
	local := start.Add(time.Since(start) / 2)
	skew := dbNow.Sub(local).Abs()
	if skew > doctorMaxSkew {
		c.info = fmt.Sprintf("%s between this host and PostgreSQL (over %s)", skew.Round(time.Millisecond), doctorMaxSkew)
		return c
	}
	c.ok, c.info = true, fmt.Sprintf("%s with PostgreSQL", skew.Round(time.Millisecond))
	return c
}

func checkRedis(ctx context.Context, redisURL string) check {
	c := check{name: "redis reachable", fix: "check REDIS_URL, the network and Redis' load"}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		c.info = "REDIS_URL does not parse"
		return c
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := timed(func() error { return rdb.Ping(pctx).Err() })
	switch {
	case err != nil:
		c.info = "ping failed: " + err.Error()
	case d > doctorSlow:
		c.info = fmt.Sprintf("%s round trip (over %s)", d.Round(time.Millisecond), doctorSlow)
	default:
		c.ok, c.info = true, fmt.Sprintf("%s round trip", d.Round(time.Microsecond))
	}
	return c
}

func checkJobs(ctx context.Context, cfg server.Config) check {
	c := check{name: "job queue", fix: "vitalgraph jobs dead, then retry or delete (docs/runbooks.md, loop jobs)"}
	q, err := jobs.NewRedis(cfg.RedisURL, jobs.Options{Queue: cfg.JobsQueue})
	if err != nil {
		c.info = "cannot open the queue: " + err.Error()
		return c
	}
	defer q.Close()
	dead, err := q.Dead(ctx)
	switch {
	case err != nil:
		c.info = "cannot read the queue: " + err.Error()
	case len(dead) > 0:
		c.info = fmt.Sprintf("%d dead job(s) in %s", len(dead), cfg.JobsQueue)
	default:
		c.ok, c.info = true, "no dead jobs in "+cfg.JobsQueue
	}
	return c
}

// checkBackup finds the newest backup manifest under dir (dir itself or
// its subfolders, as `vitalgraph backup --out` writes them).
func checkBackup(dir string, now time.Time) check {
	c := check{name: "last backup", fix: "vitalgraph backup --out $BACKUP_DIR/<date> (daily; docs/runbooks.md, backup and restore)"}
	var newest time.Time
	_ = filepath.WalkDir(filepath.Clean(dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != backup.ManifestName {
			return nil
		}
		if m, err := backup.Read(filepath.Dir(p)); err == nil && m.CreatedAt.After(newest) {
			newest = m.CreatedAt
		}
		return nil
	})
	switch {
	case newest.IsZero():
		c.info = "no verified backup in BACKUP_DIR"
	case now.Sub(newest) > doctorBackupAge:
		c.info = fmt.Sprintf("the newest backup is %s old", now.Sub(newest).Round(time.Hour))
	default:
		c.ok, c.info = true, fmt.Sprintf("the newest backup is %s old", now.Sub(newest).Round(time.Minute))
	}
	return c
}

// checkServer probes the running server: /readyz answers ready, and
// outside dev mode plain HTTP is refused or redirected and HTTPS responses
// carry HSTS.
func checkServer(ctx context.Context, base string, cfg server.Config) check {
	c := check{name: "server ready", fix: "curl <url>/readyz names the failing dependency; see docs/observability.md (VitalgraphNotReady)"}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		c.info = "--url must be an http(s) URL"
		return c
	}
	client := &http.Client{Timeout: doctorHTTPTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header map[string]string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+path, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	resp, err := get("/readyz", nil)
	if err != nil {
		c.info = "unreachable: " + err.Error()
		return c
	}
	if resp.StatusCode != http.StatusOK {
		c.info = fmt.Sprintf("/readyz answered %d", resp.StatusCode)
		return c
	}
	if cfg.Dev() {
		c.ok, c.info = true, "/readyz 200"
		return c
	}
	// A request that arrived over plain HTTP (as the proxy reports it) must
	// not be served.
	plain, err := get("/graphql?query=%7B__typename%7D", map[string]string{"X-Forwarded-Proto": "http"})
	if err != nil {
		c.info = "unreachable: " + err.Error()
		return c
	}
	if u.Scheme == "http" && plain.StatusCode == http.StatusOK {
		c.name, c.info = "server https", "the server answers plain HTTP"
		c.fix = "unset ALLOW_PLAIN_HTTP; terminate TLS in front and set TRUSTED_PROXIES"
		return c
	}
	if u.Scheme == "https" {
		sec, err := get("/graphql?query=%7B__typename%7D", nil)
		if err != nil || sec.Header.Get("Strict-Transport-Security") == "" {
			c.name, c.info, c.fix = "server https", "no Strict-Transport-Security header", "serve in staging or production mode behind TLS"
			return c
		}
	}
	c.ok, c.info = true, "/readyz 200, plain HTTP not served"
	return c
}

// checkGolden runs a golden scenario through the engine and the API of
// this build in a throwaway PostgreSQL schema (dropped afterwards) and
// compares the canonical output with the expected one.
func checkGolden(ctx context.Context, cfg server.Config) check {
	c := check{name: "golden regression", fix: "this build's engine disagrees with golden/testdata: do not deploy it; run go test ./golden/"}
	db, err := sql.Open("postgres", cfg.DatabaseURL)
	if err != nil {
		c.info = err.Error()
		return c
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "doctor_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		c.info = "cannot create a throwaway schema: " + err.Error()
		c.fix = "grant CREATE on the database to the doctor's role, or pass --skip-golden"
		return c
	}
	defer func() { _, _ = db.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`) }()
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		c.info = err.Error()
		return c
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := server.OpenPostgres(ctx, u.String())
	if err != nil {
		c.info = err.Error()
		return c
	}
	if _, err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		c.info = "migrating the throwaway schema: " + err.Error()
		return c
	}
	gcfg := cfg
	gcfg.EnvMode, gcfg.RedisURL, gcfg.MetricsAddr, gcfg.LLM = server.ModeDev, "", "", llm.Config{} // the template narrator: the expected output
	gcfg.JobsDebounce = time.Hour
	app, err := server.NewAppWithStore(ctx, gcfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		c.info = err.Error()
		return c
	}
	defer app.Close()
	uid, err := server.EnsureUser(ctx, st.Client, "golden@example.com", "golden", user.RoleUSER)
	if err != nil {
		c.info = err.Error()
		return c
	}
	gc := &golden.Client{Handler: app.Handler(), UserID: uid}
	if err := golden.Run(ctx, gc, golden.Cases(), doctorGoldenCase, app.SetClock); err != nil {
		c.info = "the scenario failed: " + err.Error()
		return c
	}
	got, err := golden.Canonical(ctx, gc)
	if err != nil {
		c.info = err.Error()
		return c
	}
	want, err := fs.ReadFile(golden.Cases(), doctorGoldenCase+"/expected.json")
	if err != nil {
		c.info = err.Error()
		return c
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		c.info = doctorGoldenCase + " differs from its expected output"
		return c
	}
	c.ok, c.info = true, doctorGoldenCase+" matches its expected output"
	return c
}
