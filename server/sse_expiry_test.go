package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// TestSSESubscriptionClosesWhenTheTokenExpires opens an SSE subscription
// with a token valid for 2 s; the server ends the stream at expiry.
func TestSSESubscriptionClosesWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	s := newSecureServer(t, nil)
	alice := s.signUp(t, "sse@example.com")
	short := sign(t, jwt.SigningMethodEdDSA, s.Cur.priv, s.Cur.kid, "at+jwt", claims(alice.User.ID, func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(2 * time.Second).Unix()
	}))
	body, err := json.Marshal(map[string]any{"query": `subscription { feed { cursor kind } }`})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+short)
	req.Header.Set("X-Forwarded-Proto", "https")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.Copy(io.Discard, resp.Body) // returns when the server ends the stream
	require.NoError(t, err)
	took := time.Since(start)
	require.GreaterOrEqual(t, took, time.Second, "the stream was open while the token was valid")
	require.Less(t, took, 10*time.Second, "the stream ended at token expiry, not at the client's timeout")
}
