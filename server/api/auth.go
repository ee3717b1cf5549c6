package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
	"dicoso/server/store"
)

type loginRequest struct {
	Username string      `json:"username" validate:"required,max=64"`
	Password string      `json:"password" validate:"required,max=1024"`
	Device   loginDevice `json:"device" validate:"required"`
}

type loginDevice struct {
	ID   string `json:"id" validate:"required,max=64"`
	Name string `json:"name" validate:"max=200"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=200"`
}

// userSummary is the user part of a token answer (docs/protocol.md).
type userSummary struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	FullName string   `json:"full_name"`
	Roles    []string `json:"roles"`
}

type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    int         `json:"expires_in"` // seconds
	User         userSummary `json:"user"`
}

// login: POST /api/v1/auth/login.
func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	sess, err := s.auth.Login(c.Request().Context(), req.Username, req.Password,
		auth.Device{ID: req.Device.ID, Name: req.Device.Name}, s.clientIP(c))
	if err != nil {
		return authError(c, err)
	}
	return tokens(c, sess)
}

// refresh: POST /api/v1/auth/refresh.
func (s *Server) refresh(c echo.Context) error {
	var req refreshRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	sess, err := s.auth.Refresh(c.Request().Context(), req.RefreshToken)
	if err != nil {
		return authError(c, err)
	}
	return tokens(c, sess)
}

// logout: POST /api/v1/auth/logout. The refresh token is the credential (no
// access token needed: a device back from weeks offline holds only an
// expired one); it ends that device's session.
func (s *Server) logout(c echo.Context) error {
	var req refreshRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	if err := s.auth.Logout(c.Request().Context(), req.RefreshToken); err != nil {
		return authError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// me: GET /api/v1/me.
func (s *Server) me(c echo.Context) error {
	u, err := s.auth.GetUser(c.Request().Context(), principalFrom(c).UserID)
	if err != nil {
		return authError(c, err)
	}
	return c.JSON(http.StatusOK, publicUser(u))
}

func tokens(c echo.Context, sess auth.Session) error {
	// Tokens must not sit in a shared cache.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	u := sess.User
	return c.JSON(http.StatusOK, tokenResponse{
		AccessToken:  sess.AccessToken,
		RefreshToken: sess.RefreshToken,
		ExpiresIn:    int(sess.ExpiresIn.Seconds()),
		User:         userSummary{ID: u.ID, Username: u.Username, FullName: u.FullName, Roles: u.Roles},
	})
}

// clientIP is the address failed logins are counted against: the one the
// access log shows (clientAddress).
func (s *Server) clientIP(c echo.Context) string { return c.RealIP() }

// authError maps the auth package's errors onto the envelope.
func authError(c echo.Context, err error) error {
	var rl *auth.RateLimitedError
	var fe *auth.FieldError
	switch {
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many failed logins; try again later",
			Details: map[string]int{"retry_after": secs}}
	case errors.As(err, &fe):
		return badRequest("validation_failed", fe.Message, []fieldError{{Field: fe.Field, Rule: fe.Rule}})
	case errors.Is(err, auth.ErrDeviceTaken):
		return deviceTaken(err)
	case errors.Is(err, auth.ErrInvalidCredentials):
		return unauthorized("invalid_credentials", "wrong username or password")
	case errors.Is(err, auth.ErrRefreshReused):
		return unauthorized("refresh_token_reused",
			"this refresh token was already used; the device's session has been ended, log in again")
	case errors.Is(err, auth.ErrInvalidRefresh):
		return unauthorized("invalid_refresh_token", "the refresh token is unknown or expired; log in again")
	case errors.Is(err, auth.ErrUsernameTaken):
		return conflict("username_taken", "that username is taken")
	case errors.Is(err, auth.ErrIDTaken):
		return conflict("id_taken", "a user with that id exists")
	case errors.Is(err, auth.ErrLastAdmin):
		return conflict("last_admin", "the last enabled admin cannot be disabled, deleted or lose the admin role")
	case errors.Is(err, store.ErrNotFound):
		return notFound("user")
	}
	return internal(err)
}

// deviceTaken refuses a device id that belongs to another user. 403 and not
// 409: nothing the caller can retry changes it, and a device whose refresh
// is refused so asks its user to log in again, where it picks its own id.
func deviceTaken(err error) *Error {
	return &Error{Status: http.StatusForbidden, Code: "device_taken",
		Message: "this device id is registered to another user; log in from a device id of your own", Err: err}
}
