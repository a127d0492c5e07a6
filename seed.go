package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
)

// seedCmd loads the golden demo scenarios for the dev demo user through the
// real GraphQL handler (in-process), with the clock pinned to each scenario
// step, every date moved so that the data ends yesterday (demoShift).
func seedCmd(ctx context.Context, cfg server.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "load the demo user's golden scenarios")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("seed: pass --demo")
	}
	if !cfg.Dev() {
		return errors.New("seed --demo is for dev mode only")
	}
	cfg.MigrateOnStart = true
	cfg.JobsDebounce = time.Hour // the seed runs the loop itself
	// Quiet: the seed's own requests are not worth an access-log line each;
	// warnings and errors still show.
	log = slog.New(minLevel{log.Handler(), slog.LevelWarn})
	app, err := server.NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	uid := app.DemoUserID()
	n, err := app.Store.Client.Intervention.Query().Where(intervention.UserID(uid)).Count(viewer.System(ctx))
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "demo user %s already has data; nothing to do\n", uid)
		return nil
	}
	days, err := demoShift(time.Now())
	if err != nil {
		return err
	}
	c := &golden.Client{Handler: app.Handler(), UserID: uid}
	for _, name := range golden.DemoCases {
		if err := golden.RunShifted(ctx, c, golden.Cases(), name, app.SetClock, days); err != nil {
			return fmt.Errorf("seeding %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "seeded %s for the demo user\n", name)
	}
	app.SetClock(time.Time{})
	fmt.Fprintf(stdout, "open %s and query: { insights(minGrade: C) { edges { node { title evidenceGrade } } } }\n", browseURL(cfg.Addr))
	return nil
}

// demoShift is how many days the demo cases move so that the latest of
// their scenario clocks falls on yesterday in the case's timezone: the data
// then ends yesterday and the first loop at today's date finds no gap.
func demoShift(now time.Time) (int, error) {
	var days int
	var found bool
	for _, name := range golden.DemoCases {
		sc, err := golden.LoadScenario(golden.Cases(), name)
		if err != nil {
			return 0, err
		}
		loc, err := time.LoadLocation(sc.Timezone)
		if err != nil {
			return 0, fmt.Errorf("%s: timezone: %w", name, err)
		}
		y, m, d := now.In(loc).AddDate(0, 0, -1).Date()
		cy, cm, cd := sc.Clock.In(loc).Date()
		n := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(cy, cm, cd, 0, 0, 0, 0, time.UTC)).Hours() / 24)
		if !found || n < days {
			days, found = n, true
		}
	}
	return days, nil
}

// browseURL is the address a browser on this machine opens for a server
// listening on addr (ADDR, e.g. ":8080" or "0.0.0.0:9000").
func browseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// minLevel drops records below min (the seed's access-log lines).
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
