// Package web holds the browser front-end built from this folder (package.json,
// vite.config.js, src/): the GraphiQL playground (index.html) and the
// dashboard single-page app (dashboard/index.html). The build output in dist/
// is committed and embedded, so the binary serves every file itself: no CDN.
// `make web` rebuilds it; `make check-web` fails when it is not current.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built files: index.html, dashboard/index.html and assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // unreachable: "dist" is a valid, embedded path
	}
	return sub
}
