package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/auth"
)

func runOps(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), err
}

func TestKeysGenerate(t *testing.T) {
	t.Parallel()
	t.Run("stdout", func(t *testing.T) {
		t.Parallel()
		out, err := runOps(t, nil, "keys", "generate", "--kid", "k1")
		require.NoError(t, err)
		ring, err := auth.ParseKeyRing([]byte(out))
		require.NoError(t, err)
		kid, _, ok := ring.Signer()
		require.True(t, ok)
		require.Equal(t, "k1", kid)
	})
	t.Run("first start, again, rotate", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "keys", "jwt.json")
		_, err := runOps(t, nil, "keys", "generate", "--out", path, "--if-missing")
		require.NoError(t, err)
		first, err := os.ReadFile(path)
		require.NoError(t, err)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		ring1, err := auth.ParseKeyRing(first)
		require.NoError(t, err)
		oldKID, _, _ := ring1.Signer()

		_, err = runOps(t, nil, "keys", "generate", "--out", path, "--if-missing")
		require.NoError(t, err)
		again, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, first, again, "--if-missing keeps an existing ring")

		_, err = runOps(t, nil, "keys", "generate", "--out", path)
		require.ErrorContains(t, err, "exists", "never overwrites keys silently")

		_, err = runOps(t, nil, "keys", "generate", "--out", path, "--rotate", "--kid", "next")
		require.NoError(t, err)
		rotated, err := os.ReadFile(path)
		require.NoError(t, err)
		ring2, err := auth.ParseKeyRing(rotated)
		require.NoError(t, err)
		kid, _, _ := ring2.Signer()
		require.Equal(t, "next", kid)
		_, ok := ring2.Public(oldKID)
		require.True(t, ok, "the old key still verifies tokens it signed")
	})
	t.Run("refuses", func(t *testing.T) {
		t.Parallel()
		bad := filepath.Join(t.TempDir(), "jwt.json")
		require.NoError(t, os.WriteFile(bad, []byte(`{"keys":[]}`), 0o600))
		for name, args := range map[string][]string{
			"garbage kept":        {"keys", "generate", "--out", bad, "--if-missing"},
			"rotate nothing":      {"keys", "generate", "--out", filepath.Join(t.TempDir(), "none.json"), "--rotate"},
			"if-missing stdout":   {"keys", "generate", "--if-missing"},
			"unknown subcommand":  {"keys", "list"},
			"unknown flag":        {"keys", "generate", "--bits", "4096"},
			"both modes":          {"keys", "generate", "--out", bad, "--rotate", "--if-missing"},
			"stray argument":      {"keys", "generate", "extra"},
			"healthcheck extra":   {"healthcheck", "extra"},
			"healthcheck bad url": {"healthcheck", "--url", "http://127.0.0.1:1/readyz", "--timeout", "200ms"},
		} {
			_, err := runOps(t, nil, args...)
			require.Error(t, err, name)
		}
	})
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	// Without a valid configuration (production, no database, no keys) the
	// probe still runs: it needs no secrets.
	env := map[string]string{"ENV_MODE": "production", "ADDR": srv.Listener.Addr().String()}
	out, err := runOps(t, env, "healthcheck")
	require.NoError(t, err)
	require.Contains(t, out, "/readyz")
	_, err = runOps(t, env, "healthcheck", "--url", srv.URL+"/healthz")
	require.ErrorContains(t, err, "404")
	status.Store(http.StatusServiceUnavailable)
	_, err = runOps(t, env, "healthcheck")
	require.ErrorContains(t, err, "503")
}

func TestDefaultHealthURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"":             "http://127.0.0.1:8080/readyz",
		":9000":        "http://127.0.0.1:9000/readyz",
		"0.0.0.0:8081": "http://127.0.0.1:8081/readyz",
		"[::]:8082":    "http://127.0.0.1:8082/readyz",
	} {
		require.Equal(t, want, defaultHealthURL(addr), addr)
	}
}
