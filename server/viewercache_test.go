package server_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
)

// The viewer lookup is cached per user, but revocation stays immediate for
// changes made through the server: a deleted account's token is refused on
// the very next request (the cache held it as live a moment before), and a
// demoted admin's token loses its admin powers on the next request, also
// when the change is made in a transaction (dropped again at COMMIT).
func TestViewerCacheKeepsRevocationImmediate(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	carol := s.signUp(t, "carol@example.com")
	me := func(tok string) []string { return s.gql(t, tok, `{ me { id } }`, nil).Codes() }
	require.Empty(t, me(carol.AccessToken))
	require.Empty(t, me(carol.AccessToken), "served from the cache")

	var del struct {
		DeleteAccount struct{ DeletedUserID string } `json:"deleteAccount"`
	}
	s.gql(t, carol.AccessToken, `mutation { deleteAccount(password: "correct horse battery") { deletedUserID } }`, nil).Decode(t, &del)
	require.Equal(t, carol.User.ID, del.DeleteAccount.DeletedUserID)
	require.Equal(t, []string{"EUNAUTHORIZED"}, me(carol.AccessToken), "the deleted account's token is refused at once")

	bg := context.Background()
	adminID, err := server.EnsureUser(bg, s.App.Store.Client, "root@example.com", "Root", user.RoleADMIN)
	require.NoError(t, err)
	adminTok := sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "at+jwt", claims(adminID, func(c jwt.MapClaims) { c["role"] = "ADMIN" }))
	dave := s.signUp(t, "dave@example.com")
	asAdmin := func() []string {
		return s.gql(t, adminTok, `query($id: ID!) { adminAuditTrail(userID: $id, first: 1) { id } }`, map[string]any{"id": dave.User.ID}).Codes()
	}
	require.Empty(t, asAdmin())
	require.Empty(t, asAdmin(), "served from the cache")

	tx, err := s.App.Store.Client.Tx(viewer.System(bg))
	require.NoError(t, err)
	require.NoError(t, tx.User.UpdateOneID(adminID).SetRole(user.RoleUSER).Exec(viewer.System(bg)))
	require.NoError(t, tx.Commit())
	require.Equal(t, []string{"EFORBIDDEN"}, asAdmin(), "the demoted admin's token acts as a user at once")
}
