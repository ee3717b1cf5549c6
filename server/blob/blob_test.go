package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Minimal files of each allowed type: what the sniffer needs, then filler.
var (
	pdfDoc  = append([]byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"), bytes.Repeat([]byte("x"), 600)...)
	webpImg = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), bytes.Repeat([]byte{0}, 40)...)
	pngImg  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 100)...)
	jpegImg = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{2}, 100)...)
)

// files lists every file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutStoresAllowedTypesContentAddressed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := New(dir)
	for name, tc := range map[string]struct {
		body []byte
		mime string
	}{
		"pdf": {pdfDoc, "application/pdf"}, "webp": {webpImg, "image/webp"},
		"png": {pngImg, "image/png"}, "jpeg": {jpegImg, "image/jpeg"},
	} {
		h := hashOf(tc.body)
		info, err := s.Put(context.Background(), bytes.NewReader(tc.body), h, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info != (Info{SHA256: h, Size: int64(len(tc.body)), MIME: tc.mime, Created: true}) {
			t.Errorf("%s: info = %+v", name, info)
		}
		got, err := os.ReadFile(filepath.Join(dir, h[:2], h[2:]))
		if err != nil || !bytes.Equal(got, tc.body) {
			t.Errorf("%s: stored file %v, equal %v", name, err, bytes.Equal(got, tc.body))
		}
		f, err := s.Open(h)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		read, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(read, tc.body) {
			t.Errorf("%s: Open read back other bytes (%v)", name, err)
		}
	}
	if left := files(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("uploads left in tmp: %v", left)
	}
}

func TestPutRefusesAndLeavesNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		body  []byte
		hash  string
		limit int64
		want  error
	}{
		{"hash mismatch", pngImg, hashOf(jpegImg), 1 << 20, ErrHashMismatch},
		{"one byte over the limit", pngImg, hashOf(pngImg), int64(len(pngImg)) - 1, ErrTooLarge},
		{"limit below the sniffed head", pdfDoc, hashOf(pdfDoc), 100, ErrTooLarge},
		{"plain text", []byte("hello"), hashOf([]byte("hello")), 1 << 20, ErrUnsupportedType},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), hashOf([]byte("GIF89a\x01\x00\x01\x00")), 1 << 20, ErrUnsupportedType},
		{"empty", nil, hashOf(nil), 1 << 20, ErrUnsupportedType},
		{"upper-case name", pngImg, "A" + hashOf(pngImg)[1:], 1 << 20, ErrBadHash},
		{"path in the name", pngImg, "../" + hashOf(pngImg)[3:], 1 << 20, ErrBadHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := New(dir).Put(context.Background(), bytes.NewReader(tc.body), tc.hash, tc.limit)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if left := files(t, dir); len(left) != 0 {
				t.Errorf("a refused upload left %v", left)
			}
		})
	}
}

func TestPutExactlyAtTheLimit(t *testing.T) {
	t.Parallel()
	s := New(t.TempDir())
	if _, err := s.Put(context.Background(), bytes.NewReader(pngImg), hashOf(pngImg), int64(len(pngImg))); err != nil {
		t.Fatalf("a blob of exactly the limit: %v", err)
	}
}

func TestPutAgainIsHarmless(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := New(dir)
	h := hashOf(jpegImg)
	var wg sync.WaitGroup
	created := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			info, err := s.Put(context.Background(), bytes.NewReader(jpegImg), h, 1<<20)
			if err != nil {
				t.Errorf("concurrent put: %v", err)
				return
			}
			created <- info.Created
		})
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if n < 1 {
		t.Error("no put reported creating the blob")
	}
	info, err := s.Put(context.Background(), bytes.NewReader(jpegImg), h, 1<<20)
	if err != nil || info.Created {
		t.Errorf("put of a stored blob: created %v, err %v", info.Created, err)
	}
	if got := files(t, dir); len(got) != 1 || got[0] != filepath.Join(h[:2], h[2:]) {
		t.Errorf("files after repeated puts = %v", got)
	}
}

func TestOpenMissing(t *testing.T) {
	t.Parallel()
	s := New(t.TempDir())
	if _, err := s.Open(hashOf([]byte("absent"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("open missing = %v", err)
	}
	if _, err := s.Open("../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Errorf("open of a path = %v", err)
	}
}

// Uploads cut off by a crash leave temp files; the sweep at start removes
// them and leaves stored blobs alone.
func TestSweepTempRemovesLeftoverUploads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := New(dir)
	if n, err := s.SweepTemp(); err != nil || n != 0 {
		t.Fatalf("sweep of a fresh store: %d, %v", n, err)
	}
	hash := hashOf(pngImg)
	if _, err := s.Put(context.Background(), bytes.NewReader(pngImg), hash, 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"upload-1", "upload-2"} {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.SweepTemp(); err != nil || n != 2 {
		t.Fatalf("sweep removed %d (%v), want 2", n, err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("%d files left in tmp", len(left))
	}
	f, err := s.Open(hash)
	if err != nil {
		t.Fatalf("the stored blob is gone after the sweep: %v", err)
	}
	f.Close()
}
