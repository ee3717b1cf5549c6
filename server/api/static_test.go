package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"dicoso/pwa"
)

// The built PWA is served by the API server itself: app routes fall back to
// index.html, hashed assets are immutable, the shell revalidates, types are
// right (WASM must be application/wasm), and compressible files go gzipped.
func TestServesThePWA(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var asset, wasm string
	entries, err := fs.ReadDir(pwa.Dist(), "assets")
	if err != nil {
		t.Fatalf("the embedded build has no assets: %v", err)
	}
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".wasm"):
			wasm = "/assets/" + e.Name()
		case strings.HasSuffix(e.Name(), ".js") && asset == "":
			asset = "/assets/" + e.Name()
		}
	}
	if asset == "" || wasm == "" {
		t.Fatalf("the embedded build lacks JS or WASM: %v", entries)
	}
	index, err := fs.ReadFile(pwa.Dist(), "index.html")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		path, ctype, cache string
		status             int
		index              bool // body is index.html
	}{
		{"/", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/index.html", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/trips/123", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/sw.js", "text/javascript; charset=utf-8", "no-cache", 200, false},
		{"/manifest.webmanifest", "application/manifest+json", "no-cache", 200, false},
		{"/icons/icon-192.png", "image/png", "public, max-age=3600", 200, false},
		{asset, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200, false},
		{wasm, "application/wasm", "public, max-age=31536000, immutable", 200, false},
		{"/assets/index-gone.js", "application/json", "", 404, false},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			r := ts.call(t, http.MethodGet, tc.path, "", nil)
			if r.status != tc.status {
				t.Fatalf("GET %s = %d", tc.path, r.status)
			}
			if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, tc.ctype) {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			if got := r.header.Get("Cache-Control"); tc.status == 200 && got != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cache)
			}
			if tc.index && !bytes.Equal(r.body, index) {
				t.Errorf("GET %s is not index.html", tc.path)
			}
			assertSecurityHeaders(t, r.header)
		})
	}

	t.Run("gzip", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodGet, ts.url+asset, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		// A bare transport: it would otherwise add and undo gzip itself.
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("asset not gzipped: %v", res.Header)
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fs.ReadFile(pwa.Dist(), strings.TrimPrefix(asset, "/"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Error("gzipped asset does not decode to the file")
		}
	})

	t.Run("unknown API path keeps the JSON envelope", func(t *testing.T) {
		t.Parallel()
		r := ts.call(t, http.MethodGet, "/api/v1/no-such-thing", "", nil)
		if r.status != http.StatusNotFound || r.envelope(t).Error.Code != "not_found" {
			t.Fatalf("GET unknown API path = %d %s", r.status, r.body)
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"gzip, deflate, br":    true,
		"br;q=1.0, gzip;q=0.5": true,
		"gzip;q=0":             false,
		"identity":             false,
		"*":                    true,
		"deflate, GZIP":        true,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}
