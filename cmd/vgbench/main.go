// Command vgbench is `make bench`: it starts Vitalgraph (in process, on a
// fresh PostgreSQL schema and the local Redis) and bare baselines beside it
// (net/http + lib/pq + encoding/json running the same SELECT; multi-row
// INSERT and COPY for ingestion), runs each row of docs/benchmarks.md
// interleaved (Vitalgraph then baseline, then the other way round, for
// -rounds rounds), and prints the medians with their ratios as a Markdown
// table. Load comes from vegeta's lib. -smoke runs seconds-long versions of
// every row for CI, with no thresholds: speed goals live here, never in
// tests.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver for the bare baselines

	"github.com/vitalgraph/vitalgraph/internal/benchdata"
	"github.com/vitalgraph/vitalgraph/server"
)

type options struct {
	rounds    int
	dur       time.Duration
	days      int
	docReps   int
	smoke     bool
	pgURL     string
	redisURL  string
	fixedRate int
	rows      string
	cpuprof   string
	memprof   string
	feedRows  string
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds (medians are reported)")
	flag.DurationVar(&o.dur, "duration", 5*time.Second, "length of each load run")
	flag.IntVar(&o.days, "days", 365, "days of data per metric for the loop rows")
	flag.IntVar(&o.docReps, "doc-reps", 10, "requests per worst-case document")
	flag.IntVar(&o.fixedRate, "fixed-rate", 0, "request rate of the fixed-load row (0: 60% of the measured 16-connection capacity)")
	flag.StringVar(&o.rows, "rows", "loop,read,ingest,documents,feed", "which rows to run (loop makes the insights read reads)")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the whole run (servers and load) to this file")
	flag.StringVar(&o.memprof, "memprofile", "", "write a heap profile to this file while the feed rows' idle sockets are open")
	flag.StringVar(&o.feedRows, "feed-rows", "", "which feed rows to run: idle,one20,one200,many200 (empty: all)")
	flag.BoolVar(&o.smoke, "smoke", false, "a seconds-long run of every row (CI), no thresholds")
	flag.StringVar(&o.pgURL, "pg", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL (a schema is created and dropped)")
	flag.StringVar(&o.redisURL, "redis", envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	feedClientMode := flag.Bool("feed-client", false, "internal: be the subscribers of the feed rows (a child process)")
	flag.Parse()
	if *feedClientMode {
		if err := feedClient(); err != nil {
			fmt.Fprintln(os.Stderr, "vgbench feed client:", err)
			os.Exit(1)
		}
		return
	}
	if o.smoke {
		o.rounds, o.dur, o.days, o.docReps = 1, 700*time.Millisecond, 30, 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vgbench:", err)
		os.Exit(1)
	}
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// env is everything a row needs: both servers and their databases.
type env struct {
	o       options
	vgURL   string // Vitalgraph's /graphql
	bareURL string // the bare server's root
	app     *server.App
	bare    *sql.DB
	userID  string
}

func run(ctx context.Context, o options, out io.Writer) error {
	schemaURL, drop, err := freshSchema(ctx, o.pgURL)
	if err != nil {
		return err
	}
	defer drop()
	e := &env{o: o}
	getenv := map[string]string{
		"ENV_MODE": "dev", "DATABASE_URL": schemaURL, "REDIS_URL": o.redisURL, "LOG_LEVEL": "info",
		"MIGRATE_ON_START": "true", "JOBS_DEBOUNCE": "1h", "DATA_DIR": os.TempDir(),
		"RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0", "ALLOW_DEV_DATABASE": "true", "GUARDRAIL_LOOP_TIMEOUT": "120s",
	}
	cfg, err := server.LoadConfig(func(k string) string { return getenv[k] })
	if err != nil {
		return err
	}
	// Formatted as in production, then discarded: the bench counts logging's cost.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: cfg.LogLevel})) //nolint:sloglint // see above
	e.app, err = server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = e.app.Close() }()
	e.userID = e.app.DemoUserID()
	vgAddr, stopVG, err := serve(ctx, e.app.Handler())
	if err != nil {
		return err
	}
	defer stopVG()
	e.vgURL = "http://" + vgAddr + "/graphql"

	e.bare, err = sql.Open("postgres", schemaURL)
	if err != nil {
		return err
	}
	defer func() { _ = e.bare.Close() }()
	// The same pool as Vitalgraph's (server.OpenPostgres): database/sql keeps
	// only 2 idle connections by default, which under 16–64 concurrent
	// requests opens a PostgreSQL backend per request and made the bare
	// baseline several times slower than a bare server is.
	e.bare.SetMaxOpenConns(32)
	e.bare.SetMaxIdleConns(16)
	if err := setupBare(ctx, e.bare); err != nil {
		return err
	}
	bareAddr, stopBare, err := serve(ctx, bareHandler(e.bare, e.userID))
	if err != nil {
		return err
	}
	defer stopBare()
	e.bareURL = "http://" + bareAddr

	var t table
	fmt.Fprintf(out, "vgbench: %d round(s), %s per load run, %d days × %d metrics for the loop; Vitalgraph %s, bare %s\n\n",
		o.rounds, o.dur, o.days, len(benchdata.Metrics), e.vgURL, e.bareURL)
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	steps := map[string]func(context.Context, *env, *table) error{"loop": loopRows, "read": readRows, "ingest": ingestRows, "documents": documentRows, "feed": feedRows}
	for _, name := range []string{"loop", "read", "ingest", "documents", "feed"} {
		if !slices.Contains(strings.Split(o.rows, ","), name) {
			continue
		}
		if err := steps[name](ctx, e, &t); err != nil {
			return err
		}
	}
	t.print(out)
	return nil
}

// freshSchema creates an empty schema and returns a URL whose search_path
// points at it, and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	db, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s: %w (make bench starts it)", base, err)
	}
	name := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
		_ = db.Close()
	}, nil
}

// serve runs h on a loopback port.
func serve(ctx context.Context, h http.Handler) (string, func(), error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
