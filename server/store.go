package server

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // pure-Go SQLite driver (no cgo)

	"github.com/vitalgraph/vitalgraph/ent"
	_ "github.com/vitalgraph/vitalgraph/ent/runtime" // ent hooks and privacy policies
	"github.com/vitalgraph/vitalgraph/server/migrations"
)

// Store is the opened database: the ent client and the raw pool under it.
type Store struct {
	Client  *ent.Client
	DB      *sql.DB
	Dialect string
}

// Close closes the client and the pool.
func (s *Store) Close() error { return s.Client.Close() }

// Migrate applies pending migrations and returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	return migrations.Apply(ctx, s.DB, s.Dialect)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// SQLiteDSN is the data source name of the embedded database in dir.
func SQLiteDSN(dir string) string {
	return "file:" + filepath.Join(dir, "vitalgraph.db") +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// OpenStore opens PostgreSQL when databaseURL is set, else the embedded
// SQLite database in dataDir (created if missing).
func OpenStore(ctx context.Context, databaseURL, dataDir string) (*Store, error) {
	if databaseURL != "" {
		return OpenPostgres(ctx, databaseURL)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating DATA_DIR %s: %w", dataDir, err)
	}
	return OpenSQLite(ctx, SQLiteDSN(dataDir))
}

// OpenPostgres opens a PostgreSQL pool through lib/pq.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := openDB("postgres", url, "postgresql")
	if err != nil {
		return nil, fmt.Errorf("opening postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return finishOpen(ctx, db, dialect.Postgres)
}

// OpenSQLite opens an SQLite database through the pure-Go driver.
func OpenSQLite(ctx context.Context, dsn string) (*Store, error) {
	db, err := openDB("sqlite", dsn, "sqlite")
	if err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	db.SetMaxOpenConns(4)
	return finishOpen(ctx, db, dialect.SQLite)
}

func finishOpen(ctx context.Context, db *sql.DB, dia string) (*Store, error) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", dia, err)
	}
	drv := entsql.OpenDB(dia, db)
	return &Store{Client: ent.NewClient(ent.Driver(drv)), DB: db, Dialect: dia}, nil
}

// PruneFeed deletes live-feed outbox rows created before cutoff and returns
// how many it deleted. Subscribers whose cursor points into the pruned range
// get FEED_CURSOR_EXPIRED and fall back to the Relay connections. FeedEvent
// is append-only for every API caller; pruning is an operator's maintenance
// step (`vitalgraph prune`), done here in SQL below the privacy layer.
func (s *Store) PruneFeed(ctx context.Context, cutoff time.Time) (int64, error) {
	q := `DELETE FROM feed_events WHERE created_at < ?`
	if s.Dialect == dialect.Postgres {
		q = `DELETE FROM feed_events WHERE created_at < $1`
	}
	res, err := s.DB.ExecContext(ctx, q, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("pruning the feed outbox: %w", err)
	}
	return res.RowsAffected()
}
