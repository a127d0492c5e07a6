package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server/servertest"
)

var fence = regexp.MustCompile("(?ms)^```(graphql|sh)\n(.*?)^```")

// readmeExamples returns the README's GraphQL blocks and its curl commands
// against /graphql, in order.
func readmeExamples(t *testing.T) (graphql, curls []string) {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, m := range fence.FindAllStringSubmatch(string(raw), -1) {
		switch {
		case m[1] == "graphql":
			graphql = append(graphql, m[2])
		case strings.Contains(m[2], "curl ") && strings.Contains(m[2], "/graphql"):
			curls = append(curls, strings.ReplaceAll(m[2], "\\\n", " "))
		}
	}
	return graphql, curls
}

// curlRequest turns `curl -s URL -H 'K: V' -d 'BODY'` into a request; any
// other shape fails the test (the parser must understand every example).
func curlRequest(t *testing.T, cmd, base string) *http.Request {
	t.Helper()
	toks := regexp.MustCompile(`'[^']*'|\S+`).FindAllString(strings.TrimSpace(cmd), -1)
	require.Equal(t, "curl", toks[0], cmd)
	var url, body string
	hdr := http.Header{}
	for i := 1; i < len(toks); i++ {
		unq := func(s string) string { return strings.Trim(s, "'") }
		switch tok := toks[i]; {
		case tok == "-s":
		case tok == "-H":
			i++
			k, v, ok := strings.Cut(unq(toks[i]), ":")
			require.True(t, ok, cmd)
			hdr.Set(k, strings.TrimSpace(v))
		case tok == "-d":
			i++
			body = unq(toks[i])
		case strings.HasPrefix(tok, "http://localhost:8080"):
			url = base + strings.TrimPrefix(tok, "http://localhost:8080")
		default:
			t.Fatalf("README curl example has an argument this test does not understand: %q in %s", tok, cmd)
		}
	}
	require.NotEmpty(t, url, cmd)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header = hdr
	return req
}

// TestReadmeExamplesRunAsWritten sends every GraphQL block of the README,
// whole and as written, to a fresh dev server (the demo user), then every
// curl example; none may fail.
func TestReadmeExamplesRunAsWritten(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	blocks, curls := readmeExamples(t)
	require.GreaterOrEqual(t, len(blocks), 5)
	require.NotEmpty(t, curls)
	for _, q := range blocks {
		resp := srv.Do(t, "", q, nil)
		require.Equal(t, http.StatusOK, resp.Status, q)
		require.Empty(t, resp.Errors, q)
		require.NotEqual(t, "null", string(resp.Data), q)
	}
	for _, c := range curls {
		res, err := srv.Client().Do(curlRequest(t, c, srv.URL))
		require.NoError(t, err)
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, res.Body.Close())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s\n%s", c, raw)
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		require.NoError(t, json.NewDecoder(bytes.NewReader(raw)).Decode(&out), c)
		require.Empty(t, out.Errors, c)
		require.NotEmpty(t, out.Data, c)
	}
}
