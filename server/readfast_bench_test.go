package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// benchInsightsQuery is cmd/vgbench's read row.
const benchInsightsQuery = `{ insights(first: 50) { edges { node { id metric kind status title summary direction startDay endDay } } } }`

// BenchmarkInsightsRead measures one insights(first: 50) request through
// the whole App.Handler() (middlewares, gqlgen, extensions, ent, PostgreSQL)
// for a user with 60 insights, as cmd/vgbench's read row sends it.
func BenchmarkInsightsRead(b *testing.B) {
	srv := servertest.NewServer(b, servertest.NewPostgresStore(b), nil)
	uid := srv.CreateUser(b, "bench-read@example.com")
	ctx := viewer.System(context.Background())
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range 60 {
		day := base.AddDate(0, 0, i).Format(time.DateOnly)
		_, err := srv.App.Store.Client.Insight.Create().
			SetUserID(uid).SetMetric("hrv_rmssd").SetKind(insight.KindANOMALY).
			SetTitle(fmt.Sprintf("HRV anomaly %d", i)).SetSummary("HRV was well below your baseline.").
			SetDirection("DOWN").
			SetStartDay(day).SetEndDay(day).SetDedupeKey("anomaly:hrv_rmssd:" + day).
			SetEvidenceGrade(evidence.GradeB).SetConfidence(0.5).SetSampleSize(20).SetCoverage(0.8).
			Save(ctx)
		require.NoError(b, err)
	}
	h := srv.App.Handler()
	body := `{"query":` + fmt.Sprintf("%q", benchInsightsQuery) + `}`
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Debug-User", uid)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := do()
	require.Equal(b, http.StatusOK, w.Code, w.Body.String())
	require.Equal(b, 50, strings.Count(w.Body.String(), `"metric":"hrv_rmssd"`), w.Body.String())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := do(); w.Code != http.StatusOK {
			b.Fatal(w.Body.String())
		}
	}
}
