package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"dicoso/sync/protocol"
)

// fieldError is one entry of a validation_failed envelope's details.
type fieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
	Param string `json:"param,omitempty"`
}

// bind decodes the request body into dst strictly: JSON only, no unknown
// fields, one value, within the body limit; then validates it with its
// `validate` tags. Every failure is a 4xx *Error in the envelope.
func (s *Server) bind(c echo.Context, dst any) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := decodeStrict(body, dst); err != nil {
		return err
	}
	return s.validate(dst)
}

// readBody reads a JSON request body within the configured limit. A
// gzip body (compress.go) arrives decompressed here, so the limit holds
// for the decompressed bytes and reading stops as soon as it is crossed.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "request body must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Message: fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes)}
		}
		if errors.Is(err, errCorruptBody) {
			return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_gzip",
				Message: "the request body is sent with Content-Encoding: gzip but is not valid gzip", Err: err}
		}
		return nil, badRequest("bad_request", "could not read the request body", nil)
	}
	return body, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(body []byte, dst any) error {
	// encoding/json would read broken text as U+FFFD and store it altered;
	// a NUL cannot be stored on PostgreSQL (docs/protocol.md, Push).
	if !protocol.ValidText(body) {
		return badRequest("validation_failed", "text must be valid UTF-8, without the NUL character or half of an emoji", nil)
	}
	// Every body is an object: null would decode to nothing at all.
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] != '{' {
		return badRequest("invalid_json", "request body must be a JSON object", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("invalid_json", "request body is empty", nil)
		case errors.As(err, &se):
			return badRequest("invalid_json", fmt.Sprintf("request body is not valid JSON (at byte %d)", se.Offset), nil)
		case errors.As(err, &te):
			return badRequest("invalid_json", fmt.Sprintf("field %q must be %s", te.Field, te.Type), nil)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return badRequest("unknown_field", "unknown field "+name, map[string]string{"field": strings.Trim(name, `"`)})
		default:
			return badRequest("invalid_json", "request body is not valid JSON", nil)
		}
	}
	if dec.More() {
		return badRequest("invalid_json", "request body holds more than one JSON value", nil)
	}
	return nil
}

func (s *Server) validate(v any) error {
	err := s.validator.Struct(v)
	if err == nil {
		return nil
	}
	var ve validator.ValidationErrors
	if !errors.As(err, &ve) {
		return internal(err)
	}
	fields := make([]fieldError, 0, len(ve))
	names := make([]string, 0, len(ve))
	for _, fe := range ve {
		fields = append(fields, fieldError{Field: fe.Field(), Rule: fe.Tag(), Param: fe.Param()})
		names = append(names, fe.Field())
	}
	return badRequest("validation_failed", "invalid value for: "+strings.Join(names, ", "), fields)
}
