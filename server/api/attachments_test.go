package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testImage is a small picture whose pixels depend on seed, so different
// seeds give different bytes (and hashes).
func testImage(seed uint8) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.RGBA{R: seed, G: uint8(x * 30), B: uint8(y * 30), A: 255})
		}
	}
	return img
}

func pngBytes(t *testing.T, seed uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(seed)); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T, seed uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(seed), nil); err != nil {
		t.Fatalf("encode jpeg: %v", err)
	}
	return b.Bytes()
}

// storedBlobs lists the files under the attachment directory (blobs and
// leftover uploads alike).
func (ts *testServer) storedBlobs(t *testing.T) []string {
	t.Helper()
	var files []string
	root := filepath.Join(ts.cfg.DataDir, "attachments")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, root))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk attachments: %v", err)
	}
	return files
}

func (ts *testServer) attachmentRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := ts.st.Reader().QueryRow("SELECT COUNT(*) FROM attachments").Scan(&n); err != nil {
		t.Fatalf("count attachments: %v", err)
	}
	return n
}

// unsized hides a body's length, so the client streams it chunked and the
// server cannot refuse it by its Content-Length.
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

func TestAttachmentUploadsThatAreRefused(t *testing.T) {
	t.Parallel()
	const limit = 2048
	w := newTestServer(t, withAdmin(), withMaxAttachmentBytes(limit))
	user := w.addUser(t, "lan-field", "inspector")

	img := pngBytes(t, 1)
	other := pngBytes(t, 2)
	// A PNG signature followed by padding: sniffs as PNG, too large.
	big := append(append([]byte{}, img...), make([]byte, limit)...)
	text := []byte("Biên bản làm việc với Tỉnh đoàn: không phải ảnh.")
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)

	cases := []struct {
		name    string
		path    string
		body    any
		headers []string
		token   string
		status  int
		code    string
	}{
		{"bytes that do not hash to the path", sha(other), img, nil, user.token, http.StatusBadRequest, "hash_mismatch"},
		{"larger than the limit, declared", sha(big), big, nil, user.token, http.StatusRequestEntityTooLarge, "attachment_too_large"},
		{"larger than the limit, streamed", sha(big), unsized{bytes.NewReader(big)}, nil, user.token, http.StatusRequestEntityTooLarge, "attachment_too_large"},
		{"text claiming to be an image", sha(text), text, []string{"Content-Type", "image/png"}, user.token, http.StatusUnsupportedMediaType, "unsupported_type"},
		{"html", sha(html), html, []string{"Content-Type", "image/jpeg"}, user.token, http.StatusUnsupportedMediaType, "unsupported_type"},
		{"svg", sha(svg), svg, []string{"Content-Type", "image/svg+xml"}, user.token, http.StatusUnsupportedMediaType, "unsupported_type"},
		{"empty", sha(nil), []byte{}, nil, user.token, http.StatusUnsupportedMediaType, "unsupported_type"},
		{"upper-case hash", strings.ToUpper(sha(img)), img, nil, user.token, http.StatusBadRequest, "invalid_hash"},
		{"short hash", sha(img)[:40], img, nil, user.token, http.StatusBadRequest, "invalid_hash"},
		{"not logged in", sha(img), img, nil, "", http.StatusUnauthorized, "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.call(t, http.MethodPut, "/api/v1/attachments/"+tc.path, tc.token, tc.body, tc.headers...).
				wantError(t, tc.status, tc.code)
			if files := w.storedBlobs(t); len(files) != 0 {
				t.Errorf("a refused upload left files: %v", files)
			}
			if n := w.attachmentRows(t); n != 0 {
				t.Errorf("a refused upload left %d attachments rows", n)
			}
		})
	}
}

func TestAttachmentRoundTripAndReadScope(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	photo := pngBytes(t, 7)
	photoHash := sha(photo)
	path := "/api/v1/attachments/" + photoHash

	// The first upload stores it; repeating it (a retry after a lost
	// answer, or a team mate with the same file) is harmless.
	r := w.call(t, http.MethodPut, path, w.inspA.token, photo, "Content-Type", "application/octet-stream")
	var info struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		MIME   string `json:"mime"`
	}
	r.decode(t, http.StatusCreated, &info)
	if info.SHA256 != photoHash || info.Size != int64(len(photo)) || info.MIME != "image/png" {
		t.Fatalf("upload answer = %+v", info)
	}
	w.call(t, http.MethodPut, path, w.inspA.token, photo).wantStatus(t, http.StatusOK)
	w.call(t, http.MethodPut, path, w.inspA2.token, unsized{bytes.NewReader(photo)}).wantStatus(t, http.StatusOK)
	if n := w.attachmentRows(t); n != 1 {
		t.Fatalf("after three uploads of one photo: %d attachments rows, want 1", n)
	}
	if files := w.storedBlobs(t); len(files) != 1 || files[0] != "/"+photoHash[:2]+"/"+photoHash[2:] {
		t.Fatalf("stored files = %v, want the one content-addressed blob", files)
	}

	// Its uploader reads it back before any row names it; someone in
	// another team does not, and cannot tell it exists.
	get := func(dev *device, hash string, headers ...string) reply {
		return w.call(t, http.MethodGet, "/api/v1/attachments/"+hash, dev.token, nil, headers...)
	}
	if r := get(w.inspA, photoHash); r.status != http.StatusOK || !bytes.Equal(r.body, photo) {
		t.Fatalf("uploader GET before any reference = %d", r.status)
	}
	hidden := get(w.inspB, photoHash)
	hidden.wantError(t, http.StatusNotFound, "not_found")
	missing := get(w.inspB, sha([]byte("never uploaded")))
	missing.wantError(t, http.StatusNotFound, "not_found")
	if !bytes.Equal(hidden.body, missing.body) {
		t.Errorf("an unreadable blob answers %s, a missing one %s: the difference leaks existence", hidden.body, missing.body)
	}

	// A check-in names it as its photo.
	checkin := "0b0c6c2e-8f5e-4a57-9a43-8d3f3f3b1a01"
	w.inspA.push(t, "", w.inspA.change("checkins", checkin, map[string]any{
		"unit_id": w.unitA, "at": "2021-06-03T08:00:00Z", "lat": 22.39, "lng": 103.45, "photo": photoHash}))

	r = get(w.inspA, photoHash)
	r.wantStatus(t, http.StatusOK)
	if !bytes.Equal(r.body, photo) {
		t.Fatalf("GET returned %d bytes, not the photo", len(r.body))
	}
	for h, want := range map[string]string{
		"Content-Type":           "image/png",
		"Cache-Control":          "private, max-age=31536000, immutable",
		"ETag":                   `"` + photoHash + `"`,
		"X-Content-Type-Options": "nosniff",
		"Content-Disposition":    "inline",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r := get(w.inspA, photoHash, "If-None-Match", `"`+photoHash+`"`); r.status != http.StatusNotModified {
		t.Errorf("GET with a matching If-None-Match = %d, want 304", r.status)
	}

	// Who may read the check-in may read its photo; nobody else.
	cases := []struct {
		who  string
		dev  *device
		want int
	}{
		{"team mate", w.inspA2, http.StatusOK},
		{"team leader", w.leaderA, http.StatusOK},
		{"secretary leading the unit's cluster", w.secA, http.StatusOK},
		{"admin", w.admin, http.StatusOK},
		{"inspection committee", w.ic, http.StatusOK},
		{"inspector of the other team", w.inspB, http.StatusNotFound},
		{"secretary of another cluster", w.secB, http.StatusNotFound},
		{"department", w.deptUser, http.StatusNotFound},
	}
	for _, tc := range cases {
		r := get(tc.dev, photoHash)
		if r.status != tc.want {
			t.Errorf("%s: GET = %d %s, want %d", tc.who, r.status, r.errorCode(), tc.want)
		}
		if tc.want == http.StatusOK && !bytes.Equal(r.body, photo) {
			t.Errorf("%s: GET returned other bytes", tc.who)
		}
	}

	// A JPEG among a visit note's attachments follows the note's scope.
	scan := jpegBytes(t, 9)
	scanHash := sha(scan)
	w.call(t, http.MethodPut, "/api/v1/attachments/"+scanHash, w.inspB.token, scan).wantStatus(t, http.StatusCreated)
	w.inspB.push(t, "", w.inspB.change("visit_notes", w.noteB, map[string]any{"attachments": []string{scanHash}}))
	if r := get(w.inspB, scanHash); r.status != http.StatusOK || r.header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(r.body, scan) {
		t.Errorf("author GET of the note's JPEG = %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r := get(w.secB, scanHash); r.status != http.StatusOK {
		t.Errorf("secretary of the note's cluster GET = %d, want 200", r.status)
	}
	for _, dev := range []*device{w.inspA, w.inspA2, w.secA, w.deptUser} {
		if r := get(dev, scanHash); r.status != http.StatusNotFound {
			t.Errorf("%s GET of team B's JPEG = %d, want 404", dev.id, r.status)
		}
	}
}

// Naming a blob in a row must not be a way to read it: a push may name
// only blobs its author uploaded or may already read. Otherwise anyone who
// learnt a hash (from a row they could once read, or a file name) could
// put it in their own check-in or note and download the bytes.
func TestPushNamesOnlyBlobsItsAuthorHasOrReads(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	photo := pngBytes(t, 11)
	hash := sha(photo)
	w.call(t, http.MethodPut, "/api/v1/attachments/"+hash, w.inspA.token, photo).wantStatus(t, http.StatusCreated)
	w.inspA.push(t, "", w.inspA.change("checkins", uuid.NewString(), map[string]any{
		"unit_id": w.unitA, "at": "2021-06-03T08:00:00Z", "lat": 22.39, "lng": 103.45, "photo": hash}))
	get := func(dev *device) int {
		return w.call(t, http.MethodGet, "/api/v1/attachments/"+hash, dev.token, nil).status
	}
	if got := get(w.inspB); got != http.StatusNotFound {
		t.Fatalf("team B's inspector reads team A's photo before trying anything: %d", got)
	}

	// Team B's inspector names it in a check-in of their own and among
	// their note's attachments: both refused, on the field, and the bytes
	// stay out of reach.
	stolen := []protocol.Change{
		w.inspB.change("checkins", uuid.NewString(), map[string]any{
			"unit_id": w.unitB, "at": "2021-06-03T09:00:00Z", "lat": 9.17, "lng": 105.15, "photo": hash}),
		w.inspB.change("visit_notes", w.noteB, map[string]any{"attachments": []string{hash}}),
		// A hash nobody uploaded is no better.
		w.inspB.change("visit_notes", w.noteB, map[string]any{"attachments": []string{sha([]byte("not uploaded"))}}),
	}
	wantField := []string{"photo", "attachments", "attachments"}
	for i, r := range w.inspB.pushResults(t, "", stolen...) {
		if r.Status != protocol.StatusRejected || r.Code != "forbidden" || r.Field != wantField[i] {
			t.Errorf("change %d naming a blob its author may not read: %+v, want forbidden on %s", i, r, wantField[i])
		}
	}
	if got := get(w.inspB); got != http.StatusNotFound {
		t.Fatalf("after the refused pushes team B's inspector reads the photo: %d", got)
	}

	// A team mate, who reads the check-in, may name it in their own note.
	w.inspA2.push(t, "", w.inspA2.change("visit_notes", w.noteA2, map[string]any{"attachments": []string{hash}}))
	// Whoever uploads the bytes themselves has them, and may name them.
	w.call(t, http.MethodPut, "/api/v1/attachments/"+hash, w.inspB.token, photo).wantStatus(t, http.StatusOK)
	w.inspB.push(t, "", w.inspB.change("visit_notes", w.noteB, map[string]any{"attachments": []string{hash}}))
	if got := get(w.inspB); got != http.StatusOK {
		t.Fatalf("team B's inspector, having uploaded the same bytes, reads them: %d", got)
	}
}
