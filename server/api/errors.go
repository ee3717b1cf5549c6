package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/server/store"
)

// Error is the one error type handlers return. Status, Code and Message go
// to the client in the envelope of docs/protocol.md; Err, the cause, is only
// logged.
type Error struct {
	Status  int
	Code    string // stable snake_case, clients switch on it
	Message string // a sentence for a human
	Details any    // optional, e.g. the fields that failed validation
	Err     error  // internal cause, never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// envelope is the wire form of every 4xx and 5xx answer.
type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func badRequest(code, msg string, details any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg, Details: details}
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg}
}

func unauthorized(code, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: msg}
}

func conflict(code, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg}
}

func internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "the server failed to handle the request", Err: err}
}

// toAPIError maps anything a handler or echo returned onto an *Error.
func toAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return &Error{Status: he.Code, Code: "not_found", Message: "no such resource"}
		case http.StatusMethodNotAllowed:
			return &Error{Status: he.Code, Code: "method_not_allowed", Message: "method not allowed on this resource"}
		case http.StatusRequestEntityTooLarge:
			return &Error{Status: he.Code, Code: "body_too_large", Message: "request body is too large"}
		case http.StatusUnauthorized:
			return unauthorized("unauthorized", "authentication required")
		case http.StatusTooManyRequests:
			return &Error{Status: he.Code, Code: "rate_limited", Message: "too many requests, try again later"}
		case http.StatusServiceUnavailable:
			return &Error{Status: he.Code, Code: "unavailable", Message: "service unavailable"}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &Error{Status: he.Code, Code: "bad_request", Message: fmt.Sprint(he.Message), Err: he.Internal}
		}
		return internal(err)
	}
	return internal(err)
}

// errorHandler is echo's HTTPErrorHandler: every error leaves in the envelope.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := toAPIError(err)
	if ae.Status == http.StatusInternalServerError && store.IsUnavailable(err) {
		// The database went away (a PostgreSQL restart, a cut connection).
		// The request may or may not have been committed (a commit whose
		// answer was lost); sending it again once the database is back is
		// safe, as a push's change ids make the retry a duplicate.
		ae = &Error{Status: http.StatusServiceUnavailable, Code: "store_unavailable",
			Message: "the database is unavailable; retry shortly", Err: err}
		c.Response().Header().Set("Retry-After", "5")
	}
	if ae.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			"request_id", requestID(c), "code", ae.Code, "err", err)
	} else if ae.Err != nil {
		s.log.DebugContext(c.Request().Context(), "request refused",
			"request_id", requestID(c), "code", ae.Code, "err", ae.Err)
	}
	body := envelope{Error: envelopeBody{Code: ae.Code, Message: ae.Message, Details: ae.Details}}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(ae.Status)
	} else {
		werr = c.JSON(ae.Status, body)
	}
	if werr != nil {
		s.log.Error("write error response", "err", werr)
	}
}
