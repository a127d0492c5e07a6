package server_test

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
	"github.com/vitalgraph/vitalgraph/web"
)

// TestWebPagesAreEmbeddedAndLockedDown: the playground (dev) and the
// dashboard are served from the binary with a CSP that allows no inline or
// foreign script; every file a page names is served; nothing points at
// another origin.
func TestWebPagesAreEmbeddedAndLockedDown(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), nil)
	ref := regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	for _, page := range []string{"/", "/dashboard", "/dashboard/experiments"} {
		resp, body := get(t, srv.URL+page, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, page)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self';", page)
		require.Contains(t, csp, "default-src 'none'", page)
		require.Contains(t, csp, "frame-ancestors 'none'", page)
		require.NotContains(t, csp, "unsafe-eval")
		require.NotContains(t, csp, "unsafe-inline")
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		html := string(body)
		require.NotRegexp(t, `<script(?:\s+type="module")?>`, html, "no inline script on %s", page)
		refs := ref.FindAllStringSubmatch(html, -1)
		require.NotEmpty(t, refs)
		for _, m := range refs {
			u := m[1]
			if strings.HasPrefix(u, "data:") {
				continue
			}
			require.True(t, strings.HasPrefix(u, "/"), "%s names %s: only this server's own files", page, u)
			a, b := get(t, srv.URL+u, nil)
			require.Equal(t, http.StatusOK, a.StatusCode, u)
			require.NotEmpty(t, b)
			if strings.HasPrefix(u, "/assets/") {
				require.Contains(t, a.Header.Get("Cache-Control"), "immutable", u) // content-hashed names
			}
			require.NotEmpty(t, a.Header.Get("Content-Security-Policy"))
		}
	}
	// The built bundles reference no other origin (a CDN would break offline).
	files := web.Dist()
	require.NoError(t, fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() || !strings.HasSuffix(p, ".js") {
			return nil
		}
		b, err := fs.ReadFile(files, p)
		require.NoError(t, err)
		require.NotRegexp(t, `(?:src|href)=["']https?://|import\(["']https?://|from ["']https?://`, string(b), p)
		return nil
	}))
	resp, _ := get(t, srv.URL+"/assets/", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no directory listing")
	resp, _ = get(t, srv.URL+"/assets/missing.js", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestDashboardOutsideDev: staging serves the dashboard (a client of the
// API) but not the playground.
func TestDashboardOutsideDev(t *testing.T) {
	t.Parallel()
	srv := servertest.NewServer(t, servertest.NewSQLiteStore(t), func(c *server.Config) {
		c.EnvMode = server.ModeStaging
		c.Security.AllowPlainHTTP = true
	})
	resp, _ := get(t, srv.URL+"/", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body := get(t, srv.URL+"/dashboard", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `id="app"`)
}
