package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// The length limits are the auth package's (as createUserRequest's).
type changePasswordRequest struct {
	CurrentPassword string `json:"current_password" validate:"required,max=1024"`
	NewPassword     string `json:"new_password" validate:"required,min=10,max=1024"`
}

type resetPasswordRequest struct {
	NewPassword string `json:"new_password" validate:"required,min=10,max=1024"`
}

// changeOwnPassword: POST /api/v1/me/password. Any user changes their own
// password, giving the current one; their sessions on other devices end,
// this one stays. A wrong current password is 400 wrong_password (not 401,
// which would tell the client its token is bad) and counts against the
// failed-login limits.
func (s *Server) changeOwnPassword(c echo.Context) error {
	var req changePasswordRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	p := principalFrom(c)
	err := s.auth.ChangeOwnPassword(c.Request().Context(), p.UserID, p.DeviceID, req.CurrentPassword, req.NewPassword, s.clientIP(c))
	var rl *auth.RateLimitedError
	switch {
	case err == nil:
		return c.NoContent(http.StatusNoContent)
	case errors.Is(err, auth.ErrWrongPassword):
		return badRequest("wrong_password", "the current password is wrong",
			[]fieldError{{Field: "current_password", Rule: "current_password"}})
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many wrong passwords; try again later", Details: map[string]int{"retry_after": secs}}
	}
	return authError(c, err)
}

// resetPassword: POST /api/v1/users/:id/password (admin). Sets a user's
// password without the current one (a forgotten password, a first
// password for a seeded account); every session of the user ends.
func (s *Server) resetPassword(c echo.Context) error {
	var req resetPasswordRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	_, err := s.auth.UpdateUser(c.Request().Context(), principalFrom(c).UserID, c.Param("id"),
		auth.UserPatch{Password: &req.NewPassword})
	var fe *auth.FieldError
	if errors.As(err, &fe) && fe.Field == "password" {
		return badRequest("validation_failed", "new_password: "+fe.Message,
			[]fieldError{{Field: "new_password", Rule: fe.Rule}})
	}
	if err != nil {
		return authError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
