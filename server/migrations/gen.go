//go:build ignore

// gen.go writes a new versioned migration (Atlas format) for one dialect when
// the ent schema differs from what the committed migrations build. It replays
// the migration directory on a clean dev database and diffs it against the
// ent schema; with no difference it writes nothing.
//
//	go run -mod=mod ./server/migrations/gen.go -dialect sqlite -name add_x
//	go run -mod=mod ./server/migrations/gen.go -dialect postgres -dev "postgres://…/atlas_dev?sslmode=disable&search_path=public" -name add_x
package main

import (
	"context"
	"database/sql"
	"flag"
	"log"
	"path/filepath"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/vitalgraph/vitalgraph/ent/migrate"
)

func main() {
	var (
		dia  = flag.String("dialect", "sqlite", "sqlite or postgres")
		dev  = flag.String("dev", "", "dev database URL (a clean database; required for postgres)")
		name = flag.String("name", "changes", "migration name")
		root = flag.String("dir", "server/migrations", "migrations root folder")
	)
	flag.Parse()
	// Atlas opens SQLite through the "sqlite3" driver name; serve it with the
	// pure-Go driver so no cgo is needed.
	sql.Register("sqlite3", &sqlite.Driver{})
	var d string
	switch *dia {
	case "sqlite":
		d = dialect.SQLite
		if *dev == "" {
			*dev = "sqlite://dev?mode=memory&_pragma=foreign_keys(1)"
		}
	case "postgres":
		d = dialect.Postgres
		if *dev == "" {
			log.Fatal("-dev is required for postgres")
		}
	default:
		log.Fatalf("unknown dialect %q", *dia)
	}
	dir, err := atlas.NewLocalDir(filepath.Join(*root, *dia))
	if err != nil {
		log.Fatalf("opening migration dir: %v", err)
	}
	err = migrate.NamedDiff(context.Background(), *dev, *name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithFormatter(atlas.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		log.Fatalf("generating %s migration: %v", *dia, err)
	}
}
