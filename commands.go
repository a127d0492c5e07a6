package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
)

// worker works the Redis job queue until ctx ends (SIGTERM).
func worker(ctx context.Context, cfg server.Config, log *slog.Logger) error {
	if cfg.RedisURL == "" {
		return errors.New("worker needs REDIS_URL: without Redis, `serve` runs jobs in-process")
	}
	cfg.WorkerInProcess = true
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
	if err := app.StartMetrics(ctx); err != nil {
		return err
	}
	log.InfoContext(ctx, "worker started", slog.String("queue", cfg.JobsQueue))
	<-ctx.Done()
	log.InfoContext(ctx, "worker stopping")
	return nil
}

// loopCmd runs the loop synchronously for every user or for one.
func loopCmd(ctx context.Context, cfg server.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loop", flag.ContinueOnError)
	all := fs.Bool("all", false, "run for every user")
	one := fs.String("user", "", "run for this user id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *all == (*one != "") {
		return errors.New("loop: pass exactly one of --all or --user ID")
	}
	cfg.WorkerInProcess = false
	app, err := server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	ids := []string{*one}
	if *all {
		if ids, err = loop.UserIDs(ctx, app.Store.Client); err != nil {
			return err
		}
	}
	failed := 0
	for _, id := range ids {
		sum, err := app.Loop.Run(viewer.System(ctx), app.Store.Client, id)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%s: error: %v\n", id, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: %d insights, %d skipped, %d evaluations, %s\n", id,
			sum.InsightsCreated, sum.InsightsSkipped, sum.EvaluationsCreated, sum.Duration.Round(1e6))
	}
	if failed > 0 {
		return fmt.Errorf("loop failed for %d of %d users", failed, len(ids))
	}
	return nil
}

// jobsCmd lists, retries or deletes dead loop jobs.
func jobsCmd(ctx context.Context, cfg server.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("jobs: dead | retry ID | delete ID")
	}
	if cfg.RedisURL == "" {
		return errors.New("jobs: the in-process queue lives inside `serve`; dead jobs are only inspectable with REDIS_URL")
	}
	cfg.WorkerInProcess = false
	app, err := server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	switch {
	case args[0] == "dead":
		dead, err := app.Jobs.Dead(ctx)
		if err != nil {
			return err
		}
		for _, d := range dead {
			fmt.Fprintf(stdout, "%s user=%s retried=%d failed_at=%s error=%q\n", d.ID, d.UserID, d.Retried,
				d.FailedAt.UTC().Format("2006-01-02T15:04:05Z"), d.LastError)
		}
		fmt.Fprintf(stdout, "%d dead job(s)\n", len(dead))
		return nil
	case len(args) == 2 && args[0] == "retry":
		return app.Jobs.RetryDead(ctx, jobID(args))
	case len(args) == 2 && args[0] == "delete":
		return app.Jobs.DeleteDead(ctx, jobID(args))
	}
	return errors.New("jobs: dead | retry ID | delete ID")
}

// adminCmd grants or revokes the admin role of the user with an email,
// auditing the change in that user's trail with the system as actor.
func adminCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "grant" && args[0] != "revoke") {
		return errors.New("admin: grant EMAIL | revoke EMAIL")
	}
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	sctx := viewer.System(ctx)
	u, err := st.Client.User.Query().Where(user.EmailEQ(args[1])).Only(sctx)
	if err != nil {
		return fmt.Errorf("admin: no user with email %q", args[1])
	}
	role := user.RoleADMIN
	if args[0] == "revoke" {
		role = user.RoleUSER
	}
	tx, err := st.Client.Tx(sctx)
	if err != nil {
		return err
	}
	if err := tx.User.UpdateOneID(u.ID).SetRole(role).Exec(sctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := record.New(nil).Audit(sctx, tx, record.Audit{
		UserID: u.ID, EntityType: "User", EntityID: u.ID, Action: "admin_" + args[0], Decision: strings.ToLower(string(role)),
		Reason: fmt.Sprintf("role set to %s by an operator (vitalgraph admin %s)", role, args[0]),
	}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s) is now %s; tokens issued before carry the old role until they expire\n", args[1], u.ID, role)
	return nil
}

// pruneCmd deletes live-feed outbox rows older than the feed retention.
func pruneCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	retention := cfg.Feed.Retention
	if retention <= 0 {
		retention = 30 * 24 * time.Hour
	}
	olderThan := fs.Duration("older-than", retention, "delete feed events older than this (default FEED_RETENTION)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *olderThan < time.Hour {
		return errors.New("prune: --older-than must be at least 1h")
	}
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.PruneFeed(ctx, time.Now().Add(-*olderThan))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pruned %d feed event(s) older than %s\n", n, *olderThan)
	return nil
}

// jobID is the ID argument of `jobs retry|delete ID` ("" when missing).
func jobID(args []string) string {
	if len(args) < 2 {
		return ""
	}
	return args[1]
}
