package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryCommandHasHelp runs `<command> --help` (and -h) for every command
// the usage text lists, with no configuration at all: each prints its own
// usage entry and succeeds (exit status 0).
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	cmds := regexp.MustCompile(`(?m)^  ([a-z]+)\b`).FindAllStringSubmatch(usage, -1)
	require.GreaterOrEqual(t, len(cmds), 15, "the usage text lists the commands")
	noEnv := func(string) string { return "" }
	for _, m := range cmds {
		for _, flag := range []string{"--help", "-h"} {
			t.Run(m[1]+flag, func(t *testing.T) {
				t.Parallel()
				var out, errOut bytes.Buffer
				require.NoError(t, run(context.Background(), []string{m[1], flag}, noEnv, &out, &errOut))
				require.Contains(t, out.String(), "  "+m[1])
				require.Empty(t, errOut.String())
			})
		}
	}
	for _, top := range []string{"--help", "-h", "help"} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), []string{top}, noEnv, &out, &out))
		require.Equal(t, usage, out.String())
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"frobnicate", "--help"}, noEnv, &out, &out)
	require.Equal(t, 1, exitCode(err), "an unknown command is still an error")
	// Help after a subcommand reaches its flag set, and still exits 0.
	for _, args := range [][]string{{"keys", "generate", "-h"}, {"audit", "verify", "--help"}, {"pq", "build", "-h"}} {
		out.Reset()
		err := run(context.Background(), args, noEnv, &out, &out)
		require.Equal(t, 0, exitCode(err), "%v: %v", args, err)
	}
}

func TestBrowseURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080": "http://localhost:8080/", "0.0.0.0:9000": "http://localhost:9000/",
		"127.0.0.1:9123": "http://127.0.0.1:9123/", "[::]:8081": "http://localhost:8081/", "[::1]:8082": "http://[::1]:8082/",
	} {
		require.Equal(t, want, browseURL(addr), addr)
	}
}
