package api

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"

	"github.com/labstack/echo/v4"
)

// compressMinBytes is the smallest answer worth compressing: below it the
// gzip header and the CPU cost more than the bytes saved (a login, a
// small push's answer, an error envelope).
const compressMinBytes = 1024

// gzipWriters keeps gzip writers for reuse: each holds about 800 KB of
// compressor state, too much to allocate per answer. They run at
// BestSpeed: a 279-row pull page is 13.3 KB against 12.1 KB at the default
// level (a tenth more on the wire) for a third to a half less gzip CPU
// while a snapshot is served (README, "Performance").
var gzipWriters = stdsync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// compress is the HTTP encoding layer of the API (docs/protocol.md):
//   - a JSON request body sent with Content-Encoding: gzip is decompressed
//     as it is read, under the body limit for both the compressed and the
//     decompressed bytes (readBody applies the latter), so a zip bomb is
//     refused as soon as it crosses the limit; any other coding is 415;
//   - an answer whose type compresses well and which is at least
//     compressMinBytes is sent gzipped to a client that accepts gzip. An
//     answer the handler encoded itself (the precompressed static files,
//     /metrics), gave a Content-Length (files served with ranges:
//     attachments, the app shell) or that is a partial range is left alone.
//
// A device on a weak signal pays for every byte: a pull page shrinks to
// about a ninth and a push to about a third.
func (s *Server) compress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if err := s.decodeRequestBody(c); err != nil {
			return err
		}
		res := c.Response()
		w := &compressWriter{
			ResponseWriter: res.Writer,
			gzipOK:         req.Method != http.MethodHead && acceptsGzip(req.Header.Get(echo.HeaderAcceptEncoding)),
		}
		res.Writer = w
		defer func() {
			res.Writer = w.ResponseWriter
			if err := w.finish(); err != nil {
				s.log.DebugContext(req.Context(), "finish compressed answer", "request_id", requestID(c), "err", err)
			}
		}()
		if err := next(c); err != nil {
			c.Error(err) // answer the error through w, before it is finished
		}
		return nil
	}
}

// decodeRequestBody puts a decompressing reader in front of a gzip body.
func (s *Server) decodeRequestBody(c echo.Context) error {
	req := c.Request()
	coding := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding)))
	switch coding {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
			break
		}
		fallthrough
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_encoding",
			Message: "request bodies may be sent plain or, for JSON, with Content-Encoding: gzip",
			Details: map[string]string{"content_encoding": coding}}
	}
	// The compressed bytes are limited too: deflate can spend any number
	// of input bytes producing no output, which the decompressed limit
	// alone would never stop.
	raw := http.MaxBytesReader(c.Response().Writer, req.Body, s.cfg.MaxBodyBytes)
	req.Body = &gzipBody{raw: raw}
	req.Header.Del(echo.HeaderContentEncoding)
	req.Header.Del(echo.HeaderContentLength)
	req.ContentLength = -1
	c.Set(ctxRequestEncoding, "gzip")
	return nil
}

// ctxRequestEncoding names, in the echo context, the coding a request body
// arrived in ("gzip"), for the access log.
const ctxRequestEncoding = "request_encoding"

// errCorruptBody marks a compressed body that does not decompress.
var errCorruptBody = errors.New("the request body is not valid gzip")

// gzipBody decompresses a request body as it is read. The gzip header is
// read on the first Read, so a bad one is reported where the body is read
// (readBody), in the envelope.
type gzipBody struct {
	raw io.ReadCloser
	zr  *gzip.Reader
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.zr == nil {
		zr, err := gzip.NewReader(b.raw)
		if err != nil {
			return 0, corrupt(err)
		}
		b.zr = zr
	}
	n, err := b.zr.Read(p)
	if err != nil && err != io.EOF {
		err = corrupt(err)
	}
	return n, err
}

func (b *gzipBody) Close() error { return b.raw.Close() }

// corrupt keeps the body limit's error as it is (it is a 413, not a bad
// body) and marks every other decompression failure.
func corrupt(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return errors.Join(errCorruptBody, err)
}

// compressWriter holds back an eligible answer until it knows whether the
// answer is big enough to compress. Once decided it either streams through
// gzip or passes everything through.
type compressWriter struct {
	http.ResponseWriter
	gzipOK bool

	status  int    // held back while deciding; 0 before WriteHeader
	holding bool   // eligible, deciding: the header and buf are held back
	decided bool   // the header went out (plain or gzip)
	buf     []byte // body held back while deciding
	zw      *gzip.Writer
}

func (w *compressWriter) WriteHeader(code int) {
	if w.decided || w.holding {
		return
	}
	w.status = code
	if !w.eligible(code) {
		w.decided = true
		w.ResponseWriter.WriteHeader(code)
		return
	}
	// Whether or not this client takes gzip, the answer depends on it.
	addVary(w.Header())
	if !w.gzipOK {
		w.decided = true
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.holding = true
}

// eligible says whether the answer may be compressed at all: a body of a
// type that compresses, which nothing has encoded or measured yet.
func (w *compressWriter) eligible(code int) bool {
	h := w.Header()
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || code == http.StatusPartialContent {
		return false
	}
	if h.Get(echo.HeaderContentEncoding) != "" || h.Get(echo.HeaderContentLength) != "" || h.Get("Content-Range") != "" {
		return false
	}
	return compressibleAnswer(h.Get(echo.HeaderContentType))
}

// compressibleAnswer: text formats. Images, PDFs, and the office exports
// (zip files already) are left alone.
func compressibleAnswer(ctype string) bool {
	ctype, _, _ = strings.Cut(ctype, ";")
	ctype = strings.ToLower(strings.TrimSpace(ctype))
	switch {
	case strings.HasPrefix(ctype, "text/"):
		return true
	case ctype == "application/json", strings.HasSuffix(ctype, "+json"),
		ctype == "application/javascript", ctype == "image/svg+xml":
		return true
	}
	return false
}

func addVary(h http.Header) {
	for _, v := range h.Values(echo.HeaderVary) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), echo.HeaderAcceptEncoding) {
				return
			}
		}
	}
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if !w.decided && !w.holding {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.zw != nil:
		return w.zw.Write(p)
	case w.decided:
		return w.ResponseWriter.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= compressMinBytes {
		if err := w.startGzip(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// startGzip sends the held header as a gzip answer and compresses what
// was held back.
func (w *compressWriter) startGzip() error {
	h := w.Header()
	h.Set(echo.HeaderContentEncoding, "gzip")
	h.Del(echo.HeaderContentLength)
	// A strong ETag names the plain bytes; these are different bytes.
	if etag := h.Get("ETag"); strings.HasPrefix(etag, `"`) {
		h.Set("ETag", "W/"+etag)
	}
	w.holding, w.decided = false, true
	w.ResponseWriter.WriteHeader(w.status)
	w.zw = gzipWriters.Get().(*gzip.Writer)
	w.zw.Reset(w.ResponseWriter)
	buf := w.buf
	w.buf = nil
	_, err := w.zw.Write(buf)
	return err
}

// finish sends what is still held back (plain: it stayed small) or ends
// the gzip stream.
func (w *compressWriter) finish() error {
	if w.zw != nil {
		err := w.zw.Close()
		w.zw.Reset(io.Discard)
		gzipWriters.Put(w.zw)
		w.zw = nil
		return err
	}
	if !w.holding {
		return nil
	}
	w.holding, w.decided = false, true
	w.Header().Set(echo.HeaderContentLength, strconv.Itoa(len(w.buf)))
	w.ResponseWriter.WriteHeader(w.status)
	_, err := w.ResponseWriter.Write(w.buf)
	w.buf = nil
	return err
}

// Flush sends what is held back: a handler that flushes wants the client
// to have it now, so the answer is compressed from here if it may be.
func (w *compressWriter) Flush() {
	if w.holding {
		if err := w.startGzip(); err != nil {
			return
		}
	}
	if w.zw != nil {
		_ = w.zw.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
