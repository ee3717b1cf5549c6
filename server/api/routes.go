package api

import (
	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// routes is the one route table: every endpoint of the API, grouped by who
// may call it. Role checks beyond "logged in" live in the policy (policy.go).
func (s *Server) routes(e *echo.Echo) {
	e.Use(withRequestID, s.accessLog, s.metrics.instrument, recoverPanic, securityHeaders)

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler())
	e.GET("/api/openapi.json", s.openAPI)

	// Middleware lists per route rather than echo groups: a group's
	// middleware also guards its catch-all, which would turn an unknown
	// /api/v1 path into 401/403 instead of 404.
	authed := []echo.MiddlewareFunc{s.requireAuth}
	admin := []echo.MiddlewareFunc{s.requireAuth, s.requireRole(auth.RoleAdmin)}

	// Authentication: open to anyone (login is rate-limited).
	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)

	// Users: read by anyone logged in, written by admins.
	v1.GET("/me", s.me, authed...)
	v1.GET("/users", s.listUsers, authed...)
	v1.GET("/users/:id", s.getUser, authed...)
	v1.POST("/users", s.createUser, admin...)
	v1.PATCH("/users/:id", s.updateUser, admin...)
	v1.DELETE("/users/:id", s.deleteUser, admin...)

	// Sync protocol v1: field data moves only through these.
	v1.POST("/sync/push", s.syncPush, authed...)
	v1.POST("/sync/pull", s.syncPull, authed...)

	// Attachments: anyone logged in uploads; reading needs a readable row
	// that references the blob (checked in the handler, by the pull scope).
	v1.PUT("/attachments/:sha256", s.putAttachment, authed...)
	v1.GET("/attachments/:sha256", s.getAttachment, authed...)

	// Audit: row history and merge conflicts, for headquarters (admin,
	// inspection committee, office).
	hq := []echo.MiddlewareFunc{s.requireAuth, s.requireHeadquarters}
	v1.GET("/history/:table/:id", s.rowHistory, hq...)
	v1.GET("/conflicts", s.listConflicts, hq...)
	v1.POST("/conflicts/:id/resolve", s.resolveConflict, hq...)
}
