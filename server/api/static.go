package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// staticSite serves the built PWA (pwa.Dist()) at "/". The files are read
// once at start (the embedded build is about 1.3 MB) so every answer has a
// strong ETag. Caching follows the build: hashed files under /assets/ never
// change and are immutable for a year; index.html, sw.js and the manifest
// keep their URLs across versions and must be revalidated every time, or a
// phone could keep an old shell (and an old service worker) for good.
type staticSite struct {
	files map[string]staticFile
}

type staticFile struct {
	body  []byte
	gz    []byte // gzip of body when that is smaller; nil otherwise
	etag  string
	ctype string
	cache string
}

// Content types set explicitly: the system MIME table may not know .wasm
// or .webmanifest, and WebAssembly.instantiateStreaming requires
// application/wasm.
var staticTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".wasm":        "application/wasm",
	".webmanifest": "application/manifest+json",
	".json":        "application/json",
	".png":         "image/png",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	cacheShort      = "public, max-age=3600"
)

func newStaticSite(fsys fs.FS) (*staticSite, error) {
	s := &staticSite{files: map[string]staticFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := staticTypes[path.Ext(name)]
		if !ok {
			ctype = http.DetectContentType(body)
		}
		cache := cacheShort
		switch {
		case strings.HasPrefix(name, "assets/"):
			cache = cacheImmutable
		case name == "index.html" || name == "sw.js" || name == "manifest.webmanifest":
			cache = cacheRevalidate
		}
		f := staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ctype: ctype, cache: cache}
		if compressible(ctype) {
			if f.gz, err = gzipBytes(body); err != nil {
				return err
			}
		}
		s.files[name] = f
		return nil
	})
	return s, err
}

// serve answers GET and HEAD for any path the API does not own. A path
// without a file extension is an app route and gets index.html (SPA
// fallback); a missing file with an extension (an old hashed asset, a
// typo) is a 404, never HTML posing as JavaScript. Unknown /api paths get
// the JSON error envelope.
func (s *staticSite) serve(c echo.Context) error {
	p := c.Request().URL.Path
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		return notFound("resource")
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := s.files[name]
	if !ok {
		if path.Ext(name) != "" {
			return notFound("file")
		}
		f, ok = s.files["index.html"]
		if !ok {
			return notFound("file")
		}
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.ctype)
	h.Set(echo.HeaderCacheControl, f.cache)
	body, etag := f.body, f.etag
	if f.gz != nil {
		// Over a weak signal this is most of the first load: the app's
		// JavaScript shrinks to a third, the SQLite WASM to under half.
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
			h.Set(echo.HeaderContentEncoding, "gzip")
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		}
	}
	h.Set("ETag", etag)
	// ServeContent handles HEAD, Range and If-None-Match against the ETag.
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(body))
	return nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/") || ctype == "image/svg+xml"
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(b) {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

// mustStaticSite reads an embedded build; reading embedded files cannot
// fail short of a corrupt binary.
func mustStaticSite(fsys fs.FS) *staticSite {
	s, err := newStaticSite(fsys)
	if err != nil {
		panic("read embedded PWA: " + err.Error())
	}
	return s
}
