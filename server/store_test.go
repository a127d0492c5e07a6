package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/insight"
	"github.com/vitalgraph/vitalgraph/ent/privacy"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/migrations"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

func TestMigrationsApplyOnceOnEmptyDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := map[string]func() (*server.Store, error){
		"postgres": func() (*server.Store, error) {
			return server.OpenPostgres(ctx, servertest.NewPostgresSchema(t))
		},
		"sqlite": func() (*server.Store, error) {
			return server.OpenSQLite(ctx, server.SQLiteDSN(t.TempDir()))
		},
	}
	for name, fn := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := fn()
			require.NoError(t, err)
			defer st.Close()
			pending, err := migrations.Pending(ctx, st.DB, st.Dialect)
			require.NoError(t, err)
			require.NotEmpty(t, pending)
			applied, err := st.Migrate(ctx)
			require.NoError(t, err)
			require.Equal(t, pending, applied)
			again, err := st.Migrate(ctx)
			require.NoError(t, err)
			require.Empty(t, again, "applying twice must be a no-op")
			pending, err = migrations.Pending(ctx, st.DB, st.Dialect)
			require.NoError(t, err)
			require.Empty(t, pending)
			// The schema works: the system viewer can create and read a user.
			id, err := server.EnsureUser(ctx, st.Client, "m@example.com", "m", user.RoleUSER)
			require.NoError(t, err)
			require.NotEmpty(t, id)
		})
	}
}

func newInsight(c *ent.Client, userID, key string) *ent.InsightCreate {
	return c.Insight.Create().SetUserID(userID).SetMetric("resting_hr").SetKind(insight.KindANOMALY).
		SetTitle("t").SetStartDay("2026-03-01").SetEndDay("2026-03-01").SetDedupeKey(key).
		SetEvidenceGrade(evidence.GradeC).SetConfidence(0.5).SetSampleSize(10).SetCoverage(0.5)
}

// TestPrivacyIsEnforcedInTheDataLayer goes around GraphQL: the ent client
// itself refuses cross-user reads and writes.
func TestPrivacyIsEnforcedInTheDataLayer(t *testing.T) {
	t.Parallel()
	st := servertest.NewPostgresStore(t)
	defer st.Close()
	c := st.Client
	bg := context.Background()
	a, err := server.EnsureUser(bg, c, "a@example.com", "a", user.RoleUSER)
	require.NoError(t, err)
	b, err := server.EnsureUser(bg, c, "b@example.com", "b", user.RoleUSER)
	require.NoError(t, err)
	admin, err := server.EnsureUser(bg, c, "admin@example.com", "admin", user.RoleADMIN)
	require.NoError(t, err)
	ctxA := viewer.NewContext(bg, viewer.Viewer{UserID: a, Role: viewer.RoleUser})
	ctxB := viewer.NewContext(bg, viewer.Viewer{UserID: b, Role: viewer.RoleUser})
	ctxAdmin := viewer.NewContext(bg, viewer.Viewer{UserID: admin, Role: viewer.RoleAdmin})

	insA, err := newInsight(c, a, "k1").Save(ctxA)
	require.NoError(t, err, "a user creates their own rows")

	t.Run("no viewer, no access", func(t *testing.T) {
		_, err := c.Insight.Query().All(bg)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = newInsight(c, a, "k2").Save(bg)
		require.ErrorIs(t, err, privacy.Deny)
	})
	t.Run("another user's rows are invisible", func(t *testing.T) {
		n, err := c.Insight.Query().Count(ctxB)
		require.NoError(t, err)
		require.Zero(t, n)
		_, err = c.Insight.Get(ctxB, insA.ID)
		require.True(t, ent.IsNotFound(err))
		users, err := c.User.Query().IDs(ctxB)
		require.NoError(t, err)
		require.Equal(t, []string{b}, users)
	})
	t.Run("no writes for another user", func(t *testing.T) {
		_, err := newInsight(c, a, "k3").Save(ctxB)
		require.ErrorIs(t, err, privacy.Deny, "B cannot create rows owned by A")
		n, err := c.Insight.Update().Where(insight.ID(insA.ID)).SetTitle("hacked").Save(ctxB)
		require.NoError(t, err)
		require.Zero(t, n, "B's bulk update matches none of A's rows")
		_, err = c.Insight.UpdateOneID(insA.ID).SetTitle("hacked").Save(ctxB)
		require.True(t, ent.IsNotFound(err))
		_, err = c.Insight.Delete().Where(insight.ID(insA.ID)).Exec(ctxB)
		require.NoError(t, err)
		got, err := c.Insight.Get(ctxA, insA.ID)
		require.NoError(t, err)
		require.Equal(t, "t", got.Title)
		_, err = c.User.UpdateOneID(a).SetDisplayName("x").Save(ctxB)
		require.True(t, ent.IsNotFound(err))
		_, err = c.User.Create().SetEmail("new@example.com").Save(ctxB)
		require.ErrorIs(t, err, privacy.Deny, "users cannot create users")
	})
	t.Run("admins see everyone", func(t *testing.T) {
		n, err := c.Insight.Query().Count(ctxAdmin)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
	t.Run("audit events are append-only, even for admins", func(t *testing.T) {
		ev, err := c.AuditEvent.Create().SetUserID(a).SetSeq(1).SetEntityType("Insight").SetEntityID(insA.ID).
			SetAction("create").SetActor(a).SetHash("h").Save(ctxA)
		require.NoError(t, err)
		_, err = c.AuditEvent.UpdateOneID(ev.ID).Save(ctxAdmin)
		require.ErrorIs(t, err, privacy.Deny)
		err = c.AuditEvent.DeleteOneID(ev.ID).Exec(viewer.System(bg))
		require.ErrorIs(t, err, privacy.Deny)
	})
}
