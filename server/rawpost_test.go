package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// A successful POST response carries the executor's data verbatim (no
// second marshalling: <, > and & stay as they are), with gqlgen's headers;
// a response with errors is gqlgen's own, status included.
func TestPOSTWritesDataVerbatim(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewPostgresStore(t), nil)
	uid, err := server.EnsureUser(context.Background(), srv.App.Store.Client, "raw@example.com", `Ann <b> & "co"`, user.RoleUSER)
	require.NoError(t, err)
	post := func(query string) (int, http.Header, []byte) {
		body, err := json.Marshal(map[string]any{"query": query})
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Debug-User", uid)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer func() { require.NoError(t, resp.Body.Close()) }()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, raw
	}
	status, h, raw := post(`{ me { displayName } }`)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.JSONEq(t, `{"data":{"me":{"displayName":"Ann <b> & \"co\""}}}`, string(raw))
	require.Contains(t, string(raw), `"Ann <b> & \"co\""`, "verbatim, not HTML-escaped")

	status, h, raw = post(`{ me { nope } }`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "application/json", h.Get("Content-Type"))
	var out struct {
		Errors []struct{ Message string } `json:"errors"`
		Data   json.RawMessage            `json:"data"`
	}
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	require.NotEmpty(t, out.Errors)
	require.Contains(t, out.Errors[0].Message, "nope")
}
