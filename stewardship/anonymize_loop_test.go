package stewardship_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/anonymize"
	"github.com/vitalgraph/vitalgraph/app/backup"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/intervention"
	"github.com/vitalgraph/vitalgraph/golden"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// decide drops what the loop and the evaluator derived for userID, runs
// them again at now and returns the outcome: insights as metric/kind/grade
// and evaluations as grade/effect, sorted.
func decide(t *testing.T, srv *servertest.Server, st *server.Store, userID string, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	sys := viewer.System(ctx)
	for _, table := range []string{"narratives", "evaluations", "insights", "baselines", "feed_events"} {
		_, err := st.DB.ExecContext(ctx, q(st, `DELETE FROM `+table+` WHERE user_id = ?`), userID)
		require.NoError(t, err)
	}
	srv.App.SetClock(now)
	defer srv.App.SetClock(time.Time{})
	_, err := srv.App.Loop.Run(sys, st.Client, userID)
	require.NoError(t, err)
	itvs, err := st.Client.Intervention.Query().Where(intervention.UserID(userID)).All(sys)
	require.NoError(t, err)
	for _, itv := range itvs {
		if itv.StartDay == nil {
			continue
		}
		tx, err := st.Client.Tx(sys)
		require.NoError(t, err)
		_, err = srv.App.Intervene.Evaluate(sys, tx, userID, itv.ID)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
	var out []string
	ins, err := st.Client.Insight.Query().All(viewer.NewContext(ctx, viewer.Viewer{UserID: userID, Role: viewer.RoleUser}))
	require.NoError(t, err)
	for _, in := range ins {
		out = append(out, fmt.Sprintf("insight %s %s %s", in.Metric, in.Kind, in.EvidenceGrade))
	}
	evs, err := st.Client.Evaluation.Query().All(viewer.NewContext(ctx, viewer.Viewer{UserID: userID, Role: viewer.RoleUser}))
	require.NoError(t, err)
	for _, ev := range evs {
		eff := "none"
		if ev.Effect != nil {
			eff = strconv.FormatFloat(*ev.Effect, 'g', 10, 64)
		}
		out = append(out, fmt.Sprintf("evaluation %s %s", ev.EvidenceGrade, eff))
	}
	sort.Strings(out)
	return out
}

// TestAnonymizedLoopReproduces: on an anonymized golden scenario the loop
// and the evaluator, run again at the user's shifted clock, reach the same
// insights, grades and effects as on the original data at the original
// clock (weekday-preserving shift, ids and notes do not matter).
func TestAnonymizedLoopReproduces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := servertest.NewPostgresStore(t)
	srcSrv := servertest.NewServer(t, src, nil)
	key := []byte("loop key")
	type person struct {
		id  string
		end time.Time
	}
	var people []person
	for i, sc := range []string{"g1_clean", "g4a_swing"} {
		uid := srcSrv.CreateUser(t, fmt.Sprintf("loop%d@example.com", i))
		c := &golden.Client{Handler: srcSrv.App.Handler(), UserID: uid}
		require.NoError(t, golden.Run(ctx, c, golden.Cases(), sc, srcSrv.App.SetClock))
		scen, err := golden.LoadScenario(golden.Cases(), sc)
		require.NoError(t, err)
		var end time.Time
		for _, s := range scen.Steps {
			if s.At.After(end) {
				end = s.At
			}
		}
		people = append(people, person{uid, end})
	}
	srcSrv.App.SetClock(time.Time{})

	work := servertest.NewSQLiteStore(t)
	rep, err := anonymize.Copy(ctx, src.DB, src.Dialect, work.DB, work.Dialect, anonymize.Options{Key: key})
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "dataset")
	_, err = backup.Write(ctx, work.DB, work.Dialect, "", dir, "test")
	require.NoError(t, err)
	dst, err := server.OpenSQLite(ctx, server.SQLiteDSN(t.TempDir()))
	require.NoError(t, err)
	_, err = backup.Restore(ctx, dst.DB, dst.Dialect, "", dir)
	require.NoError(t, err)
	dstSrv := servertest.NewServer(t, dst, nil)

	for _, p := range people {
		pid := anonymize.Pseudonym(key, p.id)
		shift, ok := rep.ShiftDays[pid]
		require.True(t, ok)
		want := decide(t, srcSrv, src, p.id, p.end)
		require.NotEmpty(t, want, "the scenario decides something")
		got := decide(t, dstSrv, dst, pid, p.end.AddDate(0, 0, shift))
		require.Equal(t, want, got, "user %s shifted by %d days", p.id, shift)
	}
}
