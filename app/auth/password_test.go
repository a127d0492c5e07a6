package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/auth"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("correct horse battery", auth.DefaultArgon2)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"))
	h2, err := auth.HashPassword("correct horse battery", auth.DefaultArgon2)
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "salted")
	cases := []struct {
		name, hash, pw string
		ok             bool
	}{
		{"right password", h, "correct horse battery", true},
		{"wrong password", h, "correct horse batterY", false},
		{"empty hash", "", "x", false},
		{"bcrypt-looking hash", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
		{"hostile memory cost", strings.Replace(h, "m=19456", "m=99999999", 1), "correct horse battery", false},
		{"truncated", h[:len(h)-10], "correct horse battery", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.ok, auth.VerifyPassword(tc.hash, tc.pw))
		})
	}
	require.Error(t, auth.ValidatePassword("short"))
	require.Error(t, auth.ValidatePassword(strings.Repeat("x", auth.MaxPasswordLen+1)))
	require.NoError(t, auth.ValidatePassword("long enough password"))
}

func TestKeyRingParsing(t *testing.T) {
	t.Parallel()
	ring, err := auth.ParseKeyRing([]byte(auth.ExampleKeyFile))
	require.NoError(t, err)
	kid, _, ok := ring.Signer()
	require.True(t, ok)
	require.Equal(t, "example-2025", kid)
	require.True(t, auth.IsInsecureKeyRing(ring))
	bad := []string{
		`{}`,
		`{"keys":[{"kid":"a","privateKey":"c2hvcnQ="}]}`,
		`{"keys":[{"kid":"a","alg":"HS256","privateKey":"c2VjcmV0"}]}`,
		`{"signingKey":"b","keys":[{"kid":"a","publicKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`,
		`{"keys":[],"jku":"https://evil.example"}`,
	}
	for _, b := range bad {
		_, err := auth.ParseKeyRing([]byte(b))
		require.Error(t, err, b)
	}
}
