package connect_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/connect"
	"github.com/vitalgraph/vitalgraph/engine"
)

func key(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func TestKeyRingSealsOpensAndRotates(t *testing.T) {
	t.Parallel()
	k1, k2 := key(t), key(t)
	old, err := connect.ParseKeyRing("k1:" + k1)
	require.NoError(t, err)
	sealed := old.Seal("access-token-123", "pcn_1/access")
	require.True(t, strings.HasPrefix(sealed, "v1.k1."))
	require.NotContains(t, sealed, "access-token-123")
	again := old.Seal("access-token-123", "pcn_1/access")
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	got, err := old.Open(sealed, "pcn_1/access")
	require.NoError(t, err)
	require.Equal(t, "access-token-123", got)

	// Rotation: k2 seals, k1 still opens what it sealed.
	rotated, err := connect.ParseKeyRing("k2:" + k2 + ",k1:" + k1)
	require.NoError(t, err)
	require.Equal(t, "k2", rotated.Current())
	got, err = rotated.Open(sealed, "pcn_1/access")
	require.NoError(t, err)
	require.Equal(t, "access-token-123", got)
	resealed := rotated.Seal(got, "pcn_1/access")
	require.Equal(t, "k2", connect.SealedWith(resealed))
	// After k1 is dropped its tokens no longer open; k2's do.
	only2, err := connect.ParseKeyRing("k2:" + k2)
	require.NoError(t, err)
	_, err = only2.Open(sealed, "pcn_1/access")
	require.Equal(t, engine.EINTERNAL, engine.ErrorCode(err))
	_, err = only2.Open(resealed, "pcn_1/access")
	require.NoError(t, err)

	// Bound to its context and tamper-evident.
	_, err = old.Open(sealed, "pcn_2/access")
	require.Error(t, err, "a token moved to another connection does not open")
	_, err = old.Open(sealed, "pcn_1/refresh")
	require.Error(t, err, "an access token moved to the refresh column does not open")
	b := []byte(sealed)
	b[len(b)-3] ^= 1
	_, err = old.Open(string(b), "pcn_1/access")
	require.Error(t, err)

	require.Empty(t, old.Seal("", "x"))
	empty, err := old.Open("", "x")
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestParseKeyRingRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	good := key(t)
	for name, spec := range map[string]string{
		"empty":      " , ",
		"no kid":     ":" + good,
		"short key":  "k1:" + base64.StdEncoding.EncodeToString([]byte("short")),
		"not base64": "k1:!!!",
		"dup kid":    "k1:" + good + ",k1:" + good,
		"dot in kid": "k.1:" + good,
	} {
		_, err := connect.ParseKeyRing(spec)
		require.Equal(t, engine.EINVALID, engine.ErrorCode(err), name)
		require.NotContains(t, err.Error(), good, "%s: the key never appears in an error", name)
	}
}
