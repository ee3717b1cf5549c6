package api

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/server/blob"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

// attachmentJSON answers an upload (openapi: Attachment).
type attachmentJSON struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	MIME   string `json:"mime"`
}

// blobs is the attachment store under the data directory. It holds only a
// path, so making it per request costs nothing and needs no shared state.
func (s *Server) blobs() *blob.Store {
	return blob.New(filepath.Join(s.cfg.DataDir, "attachments"))
}

// putAttachment: PUT /api/v1/attachments/:sha256, the body is the bytes.
// Any logged-in user may upload; the bytes must hash to the path, fit the
// size limit and be an image or a PDF by their content (the Content-Type
// header is not believed). Repeating an upload is harmless: 201 when this
// request stored it, 200 when it was already there.
func (s *Server) putAttachment(c echo.Context) error {
	sha := c.Param("sha256")
	if !blob.ValidHash(sha) {
		return badRequest("invalid_hash", "the path must end in the SHA-256 of the bytes, as 64 lowercase hex digits", nil)
	}
	limit := s.cfg.MaxAttachmentBytes
	req := c.Request()
	if req.ContentLength > limit {
		return attachmentTooLarge(limit)
	}
	info, err := s.blobs().Put(req.Context(), req.Body, sha, limit)
	switch {
	case err == nil:
	case errors.Is(err, blob.ErrTooLarge):
		return attachmentTooLarge(limit)
	case errors.Is(err, blob.ErrHashMismatch):
		return &Error{Status: http.StatusBadRequest, Code: "hash_mismatch",
			Message: "the bytes received do not hash to " + sha + "; upload them again", Err: err}
	case errors.Is(err, blob.ErrUnsupportedType):
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_type",
			Message: "attachments must be JPEG, PNG or WebP images or PDF documents"}
	default:
		return internal(fmt.Errorf("store attachment %s: %w", sha, err))
	}
	created, err := s.sync.RecordAttachment(req.Context(), syncdb.Attachment{
		SHA256: info.SHA256, Size: info.Size, MIME: info.MIME, UploadedBy: principalFrom(c).UserID,
	})
	if err != nil {
		return internal(err)
	}
	status := http.StatusOK
	if created || info.Created {
		status = http.StatusCreated
	}
	return c.JSON(status, attachmentJSON{SHA256: info.SHA256, Size: info.Size, MIME: info.MIME})
}

func attachmentTooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "attachment_too_large",
		Message: fmt.Sprintf("an attachment may hold at most %d bytes", limit)}
}

// getAttachment: GET /api/v1/attachments/:sha256. Only a caller who may
// read a row referencing the blob (a check-in's photo, a visit note's
// attachments; the pull scope decides) or who uploaded it gets the bytes.
// Everyone else gets the same 404 as for a blob that does not exist, so
// the answer does not tell whether someone uploaded these bytes.
func (s *Server) getAttachment(c echo.Context) error {
	sha := c.Param("sha256")
	if !blob.ValidHash(sha) {
		return notFound("attachment")
	}
	ctx := c.Request().Context()
	actor, err := s.actor(c, principalFrom(c).DeviceID)
	if err != nil {
		return err
	}
	ok, err := s.sync.MayReadAttachment(ctx, actor, sha)
	if err != nil {
		return internal(err)
	}
	if !ok {
		return notFound("attachment")
	}
	meta, err := s.sync.GetAttachment(ctx, sha)
	if errors.Is(err, store.ErrNotFound) {
		// A row names bytes its device has not uploaded (yet).
		return notFound("attachment")
	}
	if err != nil {
		return internal(err)
	}
	f, err := s.blobs().Open(sha)
	if errors.Is(err, blob.ErrNotFound) {
		s.log.WarnContext(ctx, "attachment recorded but its bytes are missing", "sha256", sha)
		return notFound("attachment")
	}
	if err != nil {
		return internal(err)
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, meta.MIME)
	// The name is the content's hash: the bytes never change, so a device
	// may keep them for ever; private because access depends on the user.
	h.Set(echo.HeaderCacheControl, "private, max-age=31536000, immutable")
	h.Set("ETag", `"`+sha+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(echo.HeaderContentDisposition, "inline")
	// ServeContent answers If-None-Match (304) and Range requests.
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, f)
	return nil
}
