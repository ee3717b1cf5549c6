package api

import (
	"github.com/labstack/echo/v4"
)

// routes is the one route table: every endpoint of the API, grouped by who
// may call it. Role checks beyond "logged in" live in the policy (policy.go).
func (s *Server) routes(e *echo.Echo) {
	e.Use(withRequestID, s.accessLog, recoverPanic, securityHeaders)

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
}
