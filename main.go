// Command vitalgraph is the Vitalgraph server.
//
//	vitalgraph serve [--migrate]   run the GraphQL API
//	vitalgraph migrate [status]    apply (or list) versioned migrations
//	vitalgraph healthcheck         probe the local server (container healthchecks)
//	vitalgraph keys generate       write a JWT key ring file
//	vitalgraph version             print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // IANA zones for users' local days, also on images without zoneinfo

	"github.com/getsentry/sentry-go"

	"github.com/vitalgraph/vitalgraph/graph/schemadoc"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/migrations"
	"github.com/vitalgraph/vitalgraph/server/telemetry"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if code := exitCode(err); code != 0 {
		fmt.Fprintln(os.Stderr, "vitalgraph:", err)
		os.Exit(code)
	}
}

const usage = `usage: vitalgraph <command> [flags]

commands:
  serve [--migrate]   run the GraphQL API (ADDR, default :8080)
  migrate [status]    apply pending migrations, or list them
  worker              work the loop job queue (needs REDIS_URL)
  loop --all | --user ID
                      run the loop now for every user, or one
  jobs dead | retry ID | delete ID
                      inspect and clear dead (failed) loop jobs
  seed --demo         load the golden demo user into the database
  admin grant|revoke EMAIL
                      give or take the admin role (audited)
  prune [--older-than 720h]
                      delete live-feed outbox rows past retention
  healthcheck [--url URL] [--timeout 3s]
                      probe the local server's /readyz (for images without curl)
  keys generate [--out FILE] [--kid ID] [--if-missing | --rotate]
                      write a JWT key ring file (JWT_KEYS_FILE)
  audit verify [--user ID] [--checkpoint FILE] | checkpoint --user ID | keys | rotate-key
                      verify audit hash chains (against a kept signed checkpoint);
                      sign a chain head; list or rotate the checkpoint keys (AUDIT_KEYS_FILE)
  backup [--out DIR]  write a verified backup (pg_dump custom format / SQLite online backup + manifest)
  restore --from DIR [--verify]
                      restore a backup (server stopped); --verify checks it against the manifest
  import --user EMAIL --format apple-health|csv [--map metric=COL,value=COL,unit=COL,day=COL] FILE
                      import an Apple Health export.xml or .zip (streamed) or a CSV; re-run to resume
  anonymize --out DIR [--key-file F]
                      write a shareable anonymized SQLite dataset (load with restore)
  doctor [--url URL] [--skip-golden]
                      check the deployment as configured (and the running server):
                      PASS/FAIL with the fix per line; non-zero exit on a failure
  schema              print the GraphQL schema (SDL with descriptions; committed as schema.graphql)
  pq build DIR -o FILE
                      turn a folder of .graphql client operations into the persisted-query allow-list (PERSISTED_QUERIES_FILE)
  version             print the version
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	cmd, args := args[0], args[1:]
	if wantsHelp(args) {
		return commandHelp(cmd, stdout, stderr)
	}
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "vitalgraph %s (%s)\n", version, commit)
		return nil
	case "healthcheck": // before LoadConfig: a probe needs no secrets
		return healthcheckCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCmd(args, stdout, stderr)
	case "doctor": // reports a bad configuration as a failed check
		return doctorCmd(ctx, args, getenv, stdout)
	case "schema": // the SDL a client's code generator reads; needs no configuration
		_, err := stdout.Write(schemadoc.Print())
		return err
	case "pq":
		return pqCmd(args, stdout)
	}
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		return err
	}
	cfg.Version, cfg.Commit = version, commit
	log := server.NewLogger(stderr, cfg)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, args)
	case "migrate":
		return migrate(ctx, cfg, args, stdout)
	case "worker":
		return worker(ctx, cfg, log)
	case "loop":
		return loopCmd(ctx, cfg, log, args, stdout)
	case "jobs":
		return jobsCmd(ctx, cfg, log, args, stdout)
	case "seed":
		return seedCmd(ctx, cfg, log, args, stdout)
	case "admin":
		return adminCmd(ctx, cfg, args, stdout)
	case "prune":
		return pruneCmd(ctx, cfg, args, stdout)
	case "audit":
		return auditCmd(ctx, cfg, args, stdout)
	case "backup":
		return backupCmd(ctx, cfg, args, stdout)
	case "restore":
		return restoreCmd(ctx, cfg, args, stdout)
	case "import":
		return importCmd(ctx, cfg, log, args, stdout, stderr)
	case "anonymize":
		return anonymizeCmd(ctx, cfg, args, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func serve(ctx context.Context, cfg server.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	migrateFlag := fs.Bool("migrate", cfg.MigrateOnStart, "apply pending migrations before serving (refused in production)")
	addr := fs.String("addr", cfg.Addr, "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *migrateFlag && cfg.EnvMode == server.ModeProduction {
		return errors.New("--migrate is refused in production: run `vitalgraph migrate` as a release step")
	}
	cfg.MigrateOnStart, cfg.Addr = *migrateFlag, *addr
	if cfg.SentryDSN != "" {
		if err := server.InitSentry(cfg); err != nil {
			return err
		}
	}
	stopTracing, err := startTracing(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	app, err := server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer sentry.Flush(0)
	return app.Serve(ctx, ln)
}

func migrate(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(args) > 0 && args[0] == "status" {
		list, err := migrations.List(ctx, st.DB, st.Dialect)
		if err != nil {
			return err
		}
		for _, m := range list {
			state := "pending"
			if m.AppliedAt != nil {
				state = "applied " + m.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(stdout, "%s %-20s %s\n", m.Version, m.Description, state)
		}
		return nil
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: applied %d migration(s)\n", st.Dialect, len(applied))
	for _, v := range applied {
		fmt.Fprintln(stdout, "  ", v)
	}
	return nil
}

// startTracing installs the OTLP trace exporter when OTEL_* asks for it
// (telemetry.SetupTracing); the returned function flushes it.
func startTracing(ctx context.Context, cfg server.Config, log *slog.Logger) (func(), error) {
	shutdown, err := telemetry.SetupTracing(ctx, os.Getenv, cfg.Version)
	if err != nil {
		return nil, fmt.Errorf("OTEL tracing: %w", err)
	}
	if telemetry.TracingEnabled() {
		log.InfoContext(ctx, "tracing on (OTLP)")
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = shutdown(sctx)
	}, nil
}

// exitCode is the process status for run's error: 0 for none and for a
// help request (a flag set's -h after a subcommand, e.g. `keys generate -h`).
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

// wantsHelp reports whether a command's first argument asks for help (-h,
// -help, --help): its usage is printed before any configuration is loaded.
// Later help flags reach the command's flag set (flag.ErrHelp, exit 0).
func wantsHelp(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help")
}

// commandHelp prints the usage entry of cmd (its line and the indented lines
// under it); an unknown command is an error, with the full usage.
func commandHelp(cmd string, stdout, stderr io.Writer) error {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  "+cmd+" ") || line == "  "+cmd:
			in = true
		case in && !strings.HasPrefix(line, "    "):
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	if b.Len() == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	fmt.Fprint(stdout, "usage: vitalgraph <command> [flags]\n\n"+b.String())
	return nil
}
