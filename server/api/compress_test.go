package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"dicoso/pwa"
	"dicoso/sync/protocol"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("answer is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("answer is not whole gzip: %v", err)
	}
	return out
}

func varies(h http.Header) bool {
	return strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Encoding")
}

// A pull page is most of what a device downloads: to a client that takes
// gzip it goes compressed, and is the same JSON once decompressed; a small
// answer goes plain (gzip would cost more than it saves); a client that
// does not take gzip gets plain JSON. Every such answer says it varies.
func TestAnswersAreGzippedWhenBigAndAccepted(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSeeds(), withAdmin())
	sec := ts.addUser(t, "bt-pull", "secretary")
	var trips []protocol.Change
	for i := range 200 {
		trips = append(trips, sec.change("trips", uuid.NewString(), map[string]any{"user_id": sec.userID,
			"title": fmt.Sprintf("Đi cơ sở đợt %d", i), "purpose": "working_session",
			"starts_on": "2021-06-01", "ends_on": "2021-06-02", "status": "planned"}))
	}
	sec.push(t, "", trips...)
	pull := protocol.PullRequest{Protocol: protocol.Version, DeviceID: sec.id, Limit: 500}
	post := func(accept string) reply {
		return ts.call(t, http.MethodPost, "/api/v1/sync/pull", sec.token, pull, "Accept-Encoding", accept)
	}

	plain := post("identity")
	plain.wantStatus(t, http.StatusOK)
	if enc := plain.header.Get("Content-Encoding"); enc != "" || !varies(plain.header) {
		t.Fatalf("pull without gzip accepted: Content-Encoding %q, Vary %q", enc, plain.header.Values("Vary"))
	}
	var page protocol.PullResponse
	if err := json.Unmarshal(plain.body, &page); err != nil || len(page.Rows) < 100 {
		t.Fatalf("the plain page has %d rows (%v); the test needs a big page", len(page.Rows), err)
	}

	zipped := post("gzip, deflate, br")
	zipped.wantStatus(t, http.StatusOK)
	if enc := zipped.header.Get("Content-Encoding"); enc != "gzip" || !varies(zipped.header) {
		t.Fatalf("pull with gzip accepted: Content-Encoding %q, Vary %q", enc, zipped.header.Values("Vary"))
	}
	body := gunzip(t, zipped.body)
	var again protocol.PullResponse
	if err := json.Unmarshal(body, &again); err != nil || len(again.Rows) != len(page.Rows) {
		t.Fatalf("the gzipped page decodes to %d rows (%v), the plain one has %d", len(again.Rows), err, len(page.Rows))
	}
	if len(zipped.body)*4 > len(plain.body) {
		t.Errorf("a %d-row page is %d bytes gzipped, %d plain: expected at least 4 times smaller", len(page.Rows), len(zipped.body), len(plain.body))
	}
	t.Logf("%d-row pull page: %d bytes plain, %d gzipped", len(page.Rows), len(plain.body), len(zipped.body))

	me := ts.call(t, http.MethodGet, "/api/v1/me", sec.token, nil, "Accept-Encoding", "gzip")
	me.wantStatus(t, http.StatusOK)
	if enc := me.header.Get("Content-Encoding"); enc != "" || len(me.body) >= compressMinBytes || !json.Valid(me.body) {
		t.Errorf("a %d-byte answer went with Content-Encoding %q; small answers go plain", len(me.body), enc)
	}
	// An error envelope is small and plain too.
	bad := ts.call(t, http.MethodPost, "/api/v1/sync/pull", sec.token, `{"protocol":1,"device_id":"`+sec.id+`","cursor":"forged"}`, "Accept-Encoding", "gzip")
	bad.wantError(t, http.StatusBadRequest, "invalid_cursor")
	if bad.header.Get("Content-Encoding") != "" {
		t.Errorf("an error envelope was compressed")
	}
}

// What is already encoded or served by ranges is left alone: static files
// go precompressed once (not twice), /metrics compresses itself, and an
// attachment keeps its Content-Length and answers ranges byte for byte.
func TestCompressionLeavesEncodedAndRangedAnswersAlone(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSeeds(), withAdmin())

	var asset string
	entries, err := fs.ReadDir(pwa.Dist(), "assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") {
			asset = "assets/" + e.Name()
			break
		}
	}
	want, err := fs.ReadFile(pwa.Dist(), asset)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.call(t, http.MethodGet, "/"+asset, "", nil, "Accept-Encoding", "gzip")
	r.wantStatus(t, http.StatusOK)
	if r.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, r.body), want) {
		t.Errorf("a static asset is not the file gzipped once")
	}
	if n := len(r.header.Values("Vary")); n != 1 {
		t.Errorf("static asset has %d Vary headers, want 1: %q", n, r.header.Values("Vary"))
	}

	m := ts.call(t, http.MethodGet, "/metrics", "", nil, "Accept-Encoding", "gzip")
	m.wantStatus(t, http.StatusOK)
	if m.header.Get("Content-Encoding") == "gzip" {
		m.body = gunzip(t, m.body)
	}
	if !bytes.Contains(m.body, []byte("dicoso_http_requests_total")) {
		t.Errorf("/metrics with gzip accepted is not the metrics text once decoded: %.80q", m.body)
	}

	photo := pngBytes(t, 3)
	path := "/api/v1/attachments/" + sha(photo)
	ts.call(t, http.MethodPut, path, ts.admin.token, photo).wantStatus(t, http.StatusCreated)
	whole := ts.call(t, http.MethodGet, path, ts.admin.token, nil, "Accept-Encoding", "gzip")
	whole.wantStatus(t, http.StatusOK)
	if whole.header.Get("Content-Encoding") != "" || whole.header.Get("Content-Length") != strconv.Itoa(len(photo)) || !bytes.Equal(whole.body, photo) {
		t.Errorf("attachment: Content-Encoding %q, Content-Length %q for %d bytes", whole.header.Get("Content-Encoding"), whole.header.Get("Content-Length"), len(photo))
	}
	part := ts.call(t, http.MethodGet, path, ts.admin.token, nil, "Accept-Encoding", "gzip", "Range", "bytes=8-23")
	part.wantStatus(t, http.StatusPartialContent)
	if part.header.Get("Content-Encoding") != "" || !bytes.Equal(part.body, photo[8:24]) {
		t.Errorf("attachment range: Content-Encoding %q, %d bytes", part.header.Get("Content-Encoding"), len(part.body))
	}
}

// A device on a weak signal sends its push gzipped; the server applies it
// exactly as a plain one.
func TestGzipPushIsApplied(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSeeds(), withAdmin())
	sec := ts.addUser(t, "bt-gzip", "secretary")
	trip := uuid.NewString()
	req := protocol.PushRequest{Protocol: protocol.Version, DeviceID: sec.id, Changes: []protocol.Change{
		sec.change("trips", trip, map[string]any{"user_id": sec.userID, "title": "Đi cơ sở (nén)", "purpose": "working_session",
			"starts_on": "2021-06-01", "ends_on": "2021-06-02", "status": "planned"}),
	}}
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var resp protocol.PushResponse
	ts.call(t, http.MethodPost, "/api/v1/sync/push", sec.token, gzipped(t, raw),
		"Content-Type", "application/json", "Content-Encoding", "gzip").decode(t, http.StatusOK, &resp)
	if len(resp.Results) != 1 || resp.Results[0].Status != protocol.StatusApplied {
		t.Fatalf("gzip push answered %+v", resp.Results)
	}
	rows, _ := sec.pullAll(t, "")
	if got := rows[key("trips", trip)]; got.Fields["title"] != "Đi cơ sở (nén)" {
		t.Fatalf("the gzip push's trip pulls back as %+v", got)
	}
}

// bomb is a gzip stream of size zero bytes made of 1 MB members, built
// without ever holding more than one member.
func bomb(t *testing.T, size int) []byte {
	t.Helper()
	member := gzipped(t, make([]byte, 1<<20))
	return bytes.Repeat(member, size>>20)
}

// countingReader counts what the server read of a request body.
type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// A zip bomb (100 MB of zeros in about 100 KB of gzip) is refused with 413
// in the envelope as soon as the decompressed bytes cross the body limit:
// the server reads a few KB of it, not all, and its memory does not grow
// with the bomb. A body that is not gzip, or is cut, is a 400 with its own
// code; a coding the server does not know is 415. None changes anything.
func TestCompressedBodiesThatAreRefused(t *testing.T) {
	ts := newTestServer(t, withSeeds(), withAdmin())
	var read atomic.Int64
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingReader{ReadCloser: r.Body, n: &read}
		ts.srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(counted.Close)
	via := *ts
	via.url = counted.URL
	sec := ts.addUser(t, "bt-bomb", "secretary")
	path := "/api/v1/sync/push"
	gz := []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}

	b := bomb(t, 100<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := via.call(t, http.MethodPost, path, sec.token, b, gz...)
	runtime.ReadMemStats(&after)
	r.wantError(t, http.StatusRequestEntityTooLarge, "body_too_large")
	if n := read.Load(); n > int64(len(b))/4 {
		t.Errorf("the server read %d of the bomb's %d compressed bytes before refusing it", n, len(b))
	}
	// The limit is 4 MB: reading up to it allocates a few times that; the
	// bomb decompressed would be 100 MB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 40<<20 {
		t.Errorf("refusing the bomb allocated %d MB", grew>>20)
	}
	t.Logf("bomb: %d compressed bytes, server read %d, allocated %d KB", len(b), read.Load(), (after.TotalAlloc-before.TotalAlloc)>>10)

	good := gzipped(t, []byte(`{"protocol":1,"device_id":"`+sec.id+`","changes":[]}`))
	cases := []struct {
		name    string
		body    []byte
		headers []string
		status  int
		code    string
	}{
		{"plain JSON labelled gzip", []byte(`{"protocol":1}`), gz, http.StatusBadRequest, "invalid_gzip"},
		{"cut gzip", good[:len(good)-12], gz, http.StatusBadRequest, "invalid_gzip"},
		{"gzip with a bad checksum", append(good[:len(good)-8:len(good)-8], 1, 2, 3, 4, 5, 6, 7, 8), gz, http.StatusBadRequest, "invalid_gzip"},
		{"brotli", good, []string{"Content-Type", "application/json", "Content-Encoding", "br"}, http.StatusUnsupportedMediaType, "unsupported_encoding"},
		{"gzip of a non-JSON body", good, []string{"Content-Type", "text/plain", "Content-Encoding", "gzip"}, http.StatusUnsupportedMediaType, "unsupported_encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts.call(t, http.MethodPost, path, sec.token, tc.body, tc.headers...).wantError(t, tc.status, tc.code)
		})
	}
	// A gzip attachment upload is refused too: photos do not compress.
	photo := pngBytes(t, 4)
	ts.call(t, http.MethodPut, "/api/v1/attachments/"+sha(photo), sec.token, gzipped(t, photo),
		"Content-Type", "image/png", "Content-Encoding", "gzip").wantError(t, http.StatusUnsupportedMediaType, "unsupported_encoding")

	if rows, _ := sec.pullAll(t, ""); len(rowsOf(rows, "trips")) != 0 {
		t.Errorf("refused bodies changed something: %d trips", len(rowsOf(rows, "trips")))
	}
}

func rowsOf(rows map[string]protocol.Row, table string) []protocol.Row {
	var out []protocol.Row
	for _, r := range rows {
		if r.Table == table {
			out = append(out, r)
		}
	}
	return out
}

// A pull answer with more pages carries its cursor in the Pull-Cursor
// header too, ahead of the body (docs/protocol.md, "Pull"), gzipped or
// not: the same cursor as the body's, so that a device asking for the next
// page with it gets the very page it would have asked for. The last page
// has no header.
func TestPullSendsItsCursorAheadOfTheBody(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSeeds(), withAdmin())
	sec := ts.addUser(t, "pc-pull", "secretary")
	var trips []protocol.Change
	for i := range 30 {
		trips = append(trips, sec.change("trips", uuid.NewString(), map[string]any{"user_id": sec.userID,
			"title": fmt.Sprintf("Đi cơ sở đợt %d", i), "purpose": "working_session", "starts_on": "2021-06-01"}))
	}
	sec.push(t, "", trips...)
	for _, accept := range []string{"gzip", "identity"} {
		cursor, pages, rows := "", 0, 0
		for {
			r := ts.call(t, http.MethodPost, "/api/v1/sync/pull", sec.token,
				protocol.PullRequest{Protocol: protocol.Version, DeviceID: sec.id, Cursor: cursor, Limit: 7}, "Accept-Encoding", accept)
			r.wantStatus(t, http.StatusOK)
			body := r.body
			if r.header.Get("Content-Encoding") == "gzip" {
				body = gunzip(t, body)
			}
			var page protocol.PullResponse
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("%s: page %d: %v", accept, pages+1, err)
			}
			pages++
			rows += len(page.Rows)
			got := r.header.Get(protocol.HeaderPullCursor)
			if !page.HasMore {
				if got != "" {
					t.Errorf("%s: the last page has a Pull-Cursor header %q", accept, got)
				}
				break
			}
			if got != page.Cursor {
				t.Fatalf("%s: page %d: Pull-Cursor %q, the body's cursor %q", accept, pages, got, page.Cursor)
			}
			cursor = got
		}
		if pages < 4 || rows < len(trips) {
			t.Errorf("%s: %d pages, %d rows: want the trips over several pages", accept, pages, rows)
		}
	}
}
