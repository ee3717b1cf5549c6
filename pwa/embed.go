// Package pwa embeds the built field app (pwa/dist, produced by `npm run
// build` and committed) so the Go binary serves it with no Node at run time.
package pwa

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the built app, rooted at its index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed directive guarantees the directory exists
	}
	return sub
}
