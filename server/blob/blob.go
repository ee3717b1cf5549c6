// Package blob keeps attachment bytes on disk, content-addressed: a blob is
// named by the SHA-256 of its bytes, so one photo uploaded twice is stored
// once and a name can never point at other bytes than the ones it hashes.
//
// Layout under the store's directory:
//
//	tmp/            uploads being received (removed on any failure)
//	ab/cdef…        the blob whose hash is abcdef… (fan-out by the first
//	                two hex digits keeps directories small)
//
// A blob appears under its name only after its bytes and the rename are on
// disk (file fsync, rename, directory fsync), so a crash leaves either no
// blob or a whole one; a retried upload then finds it or writes it again.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
)

// Errors Put and Open return; callers map them onto their answers.
var (
	ErrBadHash         = errors.New("blob name must be 64 lowercase hex digits (a SHA-256)")
	ErrTooLarge        = errors.New("blob is larger than the limit")
	ErrHashMismatch    = errors.New("bytes do not hash to the blob name")
	ErrUnsupportedType = errors.New("bytes are not a JPEG, PNG or WebP image or a PDF")
	ErrNotFound        = errors.New("blob not found")
)

// sniffLen is how many leading bytes decide the type (what
// http.DetectContentType reads).
const sniffLen = 512

// Store is a directory of blobs. It holds no open files: the zero-cost
// value can be made per use.
type Store struct {
	dir string
}

// New is the store rooted at dir. Directories are made on first Put.
func New(dir string) *Store { return &Store{dir: dir} }

// Info describes a stored blob.
type Info struct {
	SHA256 string
	Size   int64
	MIME   string // sniffed from the bytes, one of the allowed types
	// Created is true when this Put wrote the blob, false when it was
	// already stored (the upload was verified all the same).
	Created bool
}

// ValidHash reports whether h names a blob: 64 lowercase hex digits.
func ValidHash(h string) bool {
	if len(h) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// allowedType maps a sniffed type to the type stored, or "" when refused.
// Only what a phone camera or a scanned report produces: images the PWA
// shows and PDFs. Anything a browser could run (HTML, SVG, scripts) is out.
func allowedType(sniffed string) string {
	switch sniffed {
	case "image/jpeg", "image/png", "image/webp", "application/pdf":
		return sniffed
	}
	return ""
}

// Put reads r to its end and stores the bytes as blob wantHash. It refuses,
// storing nothing: a malformed wantHash (ErrBadHash); more than limit bytes
// (ErrTooLarge, detected after limit+1 bytes, without reading the rest); a
// type other than the allowed ones, sniffed from the first bytes, never
// taken from a header (ErrUnsupportedType); bytes whose SHA-256 is not
// wantHash (ErrHashMismatch). Putting a blob already stored is harmless:
// the bytes are verified and Info.Created is false.
func (s *Store) Put(ctx context.Context, r io.Reader, wantHash string, limit int64) (Info, error) {
	if !ValidHash(wantHash) {
		return Info{}, ErrBadHash
	}
	body := &io.LimitedReader{R: r, N: limit + 1}
	head := make([]byte, min(int64(sniffLen), limit+1))
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Info{}, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	if int64(n) > limit {
		return Info{}, ErrTooLarge
	}
	mime := allowedType(http.DetectContentType(head))
	if mime == "" {
		return Info{}, ErrUnsupportedType
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}

	tmpDir := filepath.Join(s.dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return Info{}, fmt.Errorf("make upload directory: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("create upload file: %w", err)
	}
	tmp := f.Name()
	kept := false
	defer func() {
		if !kept {
			_ = f.Close() // already closed on the success path; the error is moot
			_ = os.Remove(tmp)
		}
	}()

	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		return Info{}, fmt.Errorf("write upload: %w", err)
	}
	rest, err := io.Copy(w, body)
	if err != nil {
		return Info{}, fmt.Errorf("receive upload: %w", err)
	}
	size := int64(n) + rest
	if size > limit {
		return Info{}, ErrTooLarge
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantHash {
		return Info{}, fmt.Errorf("%w: the bytes hash to %s", ErrHashMismatch, got)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("sync upload: %w", err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("close upload: %w", err)
	}

	info := Info{SHA256: wantHash, Size: size, MIME: mime}
	final := s.path(wantHash)
	if st, err := os.Stat(final); err == nil && st.Mode().IsRegular() && st.Size() == size {
		// Already stored; the copy just received is the same bytes.
		return info, nil
	}
	fan := filepath.Dir(final)
	if err := os.MkdirAll(fan, 0o750); err != nil {
		return Info{}, fmt.Errorf("make blob directory: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	kept = true
	// The rename is durable once the directory holding the new name is
	// synced; the store directory too, in case the fan-out one is new.
	if err := syncDir(fan); err != nil {
		return Info{}, err
	}
	if err := syncDir(s.dir); err != nil {
		return Info{}, err
	}
	info.Created = true
	return info, nil
}

// SweepTemp removes uploads a crash left half-written. Call it before the
// server takes uploads; it returns how many it removed.
func (s *Store) SweepTemp() (int, error) {
	tmpDir := filepath.Join(s.dir, "tmp")
	entries, err := os.ReadDir(tmpDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read upload directory: %w", err)
	}
	n := 0
	for _, e := range entries {
		if err := os.Remove(filepath.Join(tmpDir, e.Name())); err != nil {
			return n, fmt.Errorf("remove leftover upload: %w", err)
		}
		n++
	}
	return n, nil
}

// Open opens blob hash for reading; ErrNotFound when it is not stored.
// The caller closes it.
func (s *Store) Open(hash string) (*os.File, error) {
	if !ValidHash(hash) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", hash, err)
	}
	return f, nil
}

func (s *Store) path(hash string) string {
	return filepath.Join(s.dir, hash[:2], hash[2:])
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
