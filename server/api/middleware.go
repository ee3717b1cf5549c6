package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/sync/schema"
)

const headerRequestID = "X-Request-Id"

func requestID(c echo.Context) string {
	return c.Response().Header().Get(headerRequestID)
}

// withRequestID keeps a sane client-sent request id or makes one, and
// returns it on the response so a user's report can be matched to a log line.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if len(id) == 0 || len(id) > 64 {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

// accessLog writes one JSON line per request after it is answered.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // answer now so the status below is the real one
		}
		req := c.Request()
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(req.Context(), level, "http",
			slog.String("request_id", requestID(c)),
			slog.String("method", req.Method),
			slog.String("path", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size), // before compression
			slog.String("body_encoding", requestEncoding(c)),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", c.RealIP()),
		)
		return nil
	}
}

// recoverPanic turns a handler panic into a 500 in the envelope.
func recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = internal(fmt.Errorf("panic: %v", r))
			}
		}()
		return next(c)
	}
}

// contentSecurityPolicy allows only the app's own origin. 'wasm-unsafe-eval'
// is what the SQLite WASM build needs to compile; blob: and data: images are
// photos taken on the device before they are uploaded.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
	"connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// textQuery refuses a query string whose values are not valid text (a
// byte that is not UTF-8, a NUL): a search for them would find nothing on
// SQLite and fail on PostgreSQL, whose text cannot hold a NUL.
func textQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for name, values := range c.QueryParams() {
			for _, v := range append([]string{name}, values...) {
				if !schema.ValidText(v) {
					return badRequest("validation_failed", "query parameters must be valid UTF-8 text, without the NUL character",
						[]fieldError{{Field: name, Rule: "text"}})
				}
			}
		}
		return next(c)
	}
}

// requestEncoding is the coding the request body arrived in ("gzip"), or
// empty for a plain one (compress.go).
func requestEncoding(c echo.Context) string {
	enc, _ := c.Get(ctxRequestEncoding).(string)
	return enc
}
