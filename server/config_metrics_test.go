package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

// TestMetricsAddrIsNeverThePublicAddress: METRICS_ADDR must be host:port and
// must not share ADDR's port; METRICS_OPERATION_NAMES is a bounded list.
func TestMetricsAddrIsNeverThePublicAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, addr, metrics, ops string
		ok                       bool
	}{
		{"off by default", "", "", "", true},
		{"a private port", ":8080", "127.0.0.1:9090", "", true},
		{"the same address", ":8080", ":8080", "", false},
		{"the same port on another host form", ":8080", "0.0.0.0:8080", "", false},
		{"a wildcard on the public port", "127.0.0.1:8080", ":8080", "", false},
		{"not host:port", ":8080", "9090", "", false},
		{"operation names", ":8080", ":9090", " Me, SignUp ,,", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"ADDR": c.addr, "METRICS_ADDR": c.metrics, "METRICS_OPERATION_NAMES": c.ops}
			cfg, err := server.LoadConfig(func(k string) string { return env[k] })
			if !c.ok {
				require.ErrorContains(t, err, "METRICS_ADDR")
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.metrics, cfg.MetricsAddr)
			if c.ops != "" {
				require.Equal(t, []string{"Me", "SignUp"}, cfg.MetricsOperations)
			}
		})
	}
}
