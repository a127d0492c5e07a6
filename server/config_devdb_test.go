package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

// Dev mode (demo user, X-Debug-User, playground) never meets a real
// database by accident: an image or deployment that forgets ENV_MODE stops.
func TestDevModeWithDatabaseURL(t *testing.T) {
	t.Parallel()
	const pg = "postgres://u@db/vg"
	_, err := server.LoadConfig(env(map[string]string{"DATABASE_URL": pg}))
	require.ErrorContains(t, err, "ALLOW_DEV_DATABASE")
	_, err = server.LoadConfig(env(map[string]string{"ENV_MODE": "dev", "DATABASE_URL": pg, "ALLOW_DEV_DATABASE": "no"}))
	require.ErrorContains(t, err, "ALLOW_DEV_DATABASE")
	c, err := server.LoadConfig(env(map[string]string{"ENV_MODE": "dev", "DATABASE_URL": pg, "ALLOW_DEV_DATABASE": "true"}))
	require.NoError(t, err)
	require.True(t, c.Dev())
	require.False(t, c.Embedded())
	_, err = server.LoadConfig(env(nil))
	require.NoError(t, err, "dev on the embedded database needs nothing")
}
