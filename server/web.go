package server

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/vitalgraph/vitalgraph/web"
)

// webCSP is the Content-Security-Policy of the playground and the dashboard:
// scripts and styles only from this server's own embedded files (no inline
// script or style, no eval), network only to this origin (HTTP and the
// websocket). GraphiQL (CodeMirror), Preact and uPlot set styles through the
// CSSOM (element.style), which a CSP does not restrict, so styles need no
// 'unsafe-inline'; the browser test (e2e/) fails on any CSP violation
// (docs/security.md, "Browser pages").
const webCSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webRoutes serves the embedded front-end: the playground at / (dev mode
// only, like introspection), the dashboard at /dashboard and their hashed
// assets under /assets/.
func (a *App) webRoutes(mux *http.ServeMux) {
	files := web.Dist()
	if a.Config.Dev() {
		mux.Handle("GET /{$}", webPage(files, "index.html"))
	}
	dashboard := webPage(files, "dashboard/index.html")
	mux.Handle("GET /dashboard", dashboard)
	mux.Handle("GET /dashboard/{path...}", dashboard) // client-side routes
	assets := http.FileServerFS(files)
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setWebHeaders(w)
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable") // content-hashed names
		assets.ServeHTTP(w, r)
	}))
}

// webPage serves one embedded HTML page.
func webPage(files fs.FS, name string) http.Handler {
	body, err := fs.ReadFile(files, name)
	if err != nil {
		panic("web: " + name + " is not in the embedded build: run make web") // a broken build, caught by every server test
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		setWebHeaders(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

func setWebHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", webCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}
