package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// principal is the authenticated caller of a request, as the store knows
// them at this request (roles and enabled state are re-read each time).
type principal struct {
	UserID       string
	Username     string
	Roles        []string
	DepartmentID string // "" when none
	UnitID       string // "" when none (a unit liaison's unit)
	DeviceID     string // the device the access token was issued to
}

// hasRole reports whether the caller holds role.
func (p principal) hasRole(role string) bool { return slices.Contains(p.Roles, role) }

const principalKey = "dicoso.principal"

// principalFrom returns the caller that requireAuth stored. On a route
// without requireAuth it is the zero principal: no user, no roles, so any
// role check refuses.
func principalFrom(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}

// requireAuth admits requests bearing a valid access token
// (`Authorization: Bearer <jwt>`) of a user who is still enabled, and
// stores the caller for principalFrom. Otherwise: 401 token_expired for a
// token past its expiry (the client refreshes), 401 unauthorized for
// anything else.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dicoso"`)
			return unauthorized("unauthorized", "an access token is required (Authorization: Bearer …)")
		}
		p, err := s.auth.Authenticate(c.Request().Context(), token)
		switch {
		case err == nil:
		case errors.Is(err, auth.ErrTokenExpired):
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dicoso", error="invalid_token", error_description="expired"`)
			return &Error{Status: http.StatusUnauthorized, Code: "token_expired",
				Message: "the access token has expired; refresh it", Err: err}
		case errors.Is(err, auth.ErrTokenInvalid):
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dicoso", error="invalid_token"`)
			return &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "the access token is not valid", Err: err}
		default:
			return internal(err)
		}
		c.Set(principalKey, principal{UserID: p.UserID, Username: p.Username, Roles: p.Roles,
			DepartmentID: p.DepartmentID, UnitID: p.UnitID, DeviceID: p.DeviceID})
		return next(c)
	}
}
