package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lib/pq"
)

// The bare baselines: what the same work costs with nothing but net/http,
// lib/pq and encoding/json, on the same database.

const bareInsightsSQL = `SELECT id, metric, kind, status, title, summary, direction, start_day, end_day
FROM insights WHERE user_id = $1 AND status <> 'DISMISSED' ORDER BY id LIMIT 51`

// setupBare creates bare_observations: the observations table's columns,
// defaults and indexes (the unique index too), without foreign keys.
func setupBare(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE bare_observations (LIKE observations INCLUDING ALL)`)
	return err
}

type bareInsight struct {
	ID        string `json:"id"`
	Metric    string `json:"metric"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Direction string `json:"direction"`
	StartDay  string `json:"startDay"`
	EndDay    string `json:"endDay"`
}

type obsInput struct {
	Metric           string    `json:"metric"`
	Value            float64   `json:"value"`
	Unit             string    `json:"unit"`
	ObservedAt       time.Time `json:"observedAt"`
	LocalDay         string    `json:"localDay"`
	UTCOffsetSeconds int       `json:"utcOffsetSeconds"`
	Source           string    `json:"source"`
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "bo" + hex.EncodeToString(b[:])
}

// bareHandler serves /insights (the same SELECT as insights(first: 50)),
// /ingest/insert (one multi-row INSERT … ON CONFLICT DO NOTHING) and
// /ingest/copy (COPY in one transaction). The ingestion endpoints take the
// same GraphQL request body as ingestObservations.
func bareHandler(db *sql.DB, userID string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /insights", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), bareInsightsSQL, userID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer func() { _ = rows.Close() }()
		type edge struct {
			Node bareInsight `json:"node"`
		}
		var edges []edge
		for rows.Next() {
			var in bareInsight
			if err := rows.Scan(&in.ID, &in.Metric, &in.Kind, &in.Status, &in.Title, &in.Summary, &in.Direction, &in.StartDay, &in.EndDay); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			edges = append(edges, edge{in})
		}
		if len(edges) > 50 {
			edges = edges[:50]
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"insights": map[string]any{"edges": edges}}})
	})
	decode := func(w http.ResponseWriter, r *http.Request) ([]obsInput, bool) {
		var body struct {
			Variables struct {
				Input []obsInput `json:"input"`
			} `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil, false
		}
		return body.Variables.Input, true
	}
	mux.HandleFunc("POST /ingest/insert", func(w http.ResponseWriter, r *http.Request) {
		in, ok := decode(w, r)
		if !ok {
			return
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO bare_observations (id, created_at, metric, value, unit, local_day, observed_at, utc_offset_seconds, source, user_id) VALUES `)
		args := make([]any, 0, len(in)*10)
		now := time.Now()
		for i, o := range in {
			if i > 0 {
				b.WriteByte(',')
			}
			n := i * 10
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
			args = append(args, newID(), now, o.Metric, o.Value, o.Unit, o.LocalDay, o.ObservedAt, o.UTCOffsetSeconds, o.Source, userID)
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		res, err := db.ExecContext(r.Context(), b.String(), args...)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		n, _ := res.RowsAffected()
		writeInserted(w, n)
	})
	mux.HandleFunc("POST /ingest/copy", func(w http.ResponseWriter, r *http.Request) {
		in, ok := decode(w, r)
		if !ok {
			return
		}
		n, err := copyIn(r.Context(), db, userID, in)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeInserted(w, n)
	})
	return mux
}

func writeInserted(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"inserted": n}})
}

func copyIn(ctx context.Context, db *sql.DB, userID string, in []obsInput) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, pq.CopyIn("bare_observations", "id", "created_at", "metric", "value", "unit", "local_day", "observed_at", "utc_offset_seconds", "source", "user_id"))
	if err != nil {
		return 0, err
	}
	now := time.Now()
	for _, o := range in {
		if _, err := st.ExecContext(ctx, newID(), now, o.Metric, o.Value, o.Unit, o.LocalDay, o.ObservedAt, o.UTCOffsetSeconds, o.Source, userID); err != nil {
			return 0, err
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return 0, err
	}
	if err := st.Close(); err != nil {
		return 0, err
	}
	return int64(len(in)), tx.Commit()
}
