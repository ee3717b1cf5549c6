package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/pwa"
	"dicoso/server/syncdb"
)

// routes is the one route table: every endpoint of the API, grouped by who
// may call it. Role checks beyond "logged in" live in the policy (policy.go).
func (s *Server) routes(e *echo.Echo) {
	e.Use(withRequestID, s.accessLog, s.metrics.instrument, recoverPanic, securityHeaders, textQuery, s.compress)

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler())
	e.GET("/api/openapi.json", s.openAPI)

	// Every protected route names its resource and action: s.allow
	// authenticates the caller and checks the role policy (policy.go). It
	// is put on each route rather than on an echo group: a group's
	// middleware also guards its catch-all, which would turn an unknown
	// /api/v1 path into 401/403 instead of 404.
	v1 := e.Group("/api/v1")

	// Authentication: open to anyone (login is rate-limited).
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)

	// Users: read by anyone logged in, written by admins.
	v1.GET("/me", s.me, s.allow("me", actRead))
	v1.GET("/users", s.listUsers, s.allow("users", actRead))
	v1.GET("/users/:id", s.getUser, s.allow("users", actRead))
	v1.POST("/users", s.createUser, s.allow("users", actCreate))
	v1.PATCH("/users/:id", s.updateUser, s.allow("users", actUpdate))
	v1.DELETE("/users/:id", s.deleteUser, s.allow("users", actDelete))
	// Passwords: anyone changes their own; an admin resets anyone's.
	v1.POST("/me/password", s.changeOwnPassword, s.allow("me", actUpdate))
	v1.POST("/users/:id/password", s.resetPassword, s.allow("users", actUpdate))

	// Reference data (docs/protocol.md): every table whose spec
	// (server/syncdb/specs.go) has an Admin list — departments, units,
	// clusters, plans, campaigns, special periods, teams — read by anyone
	// logged in, written by the roles its spec names.
	for _, table := range syncdb.AdminTables() {
		ref := s.reference(table)
		v1.GET("/"+table, ref.list, s.allow(table, actRead))
		v1.GET("/"+table+"/:id", ref.get, s.allow(table, actRead))
		v1.POST("/"+table, ref.create, s.allow(table, actCreate))
		v1.PATCH("/"+table+"/:id", ref.update, s.allow(table, actUpdate))
		v1.DELETE("/"+table+"/:id", ref.remove, s.allow(table, actDelete))
	}

	// Places proposed from the field: headquarters confirm, merge or
	// reject them (the units spec judges the decision). They are listed
	// with GET /units?status=proposed.
	v1.POST("/units/:id/decision", s.decidePlace, s.allow("units", actDecide))

	// Sync protocol v1: field data moves only through these.
	v1.POST("/sync/push", s.syncPush, s.allow("sync", actPush))
	v1.POST("/sync/pull", s.syncPull, s.allow("sync", actPull))

	// Attachments: anyone logged in uploads; reading needs a readable row
	// that references the blob (checked in the handler, by the pull scope).
	v1.PUT("/attachments/:sha256", s.putAttachment, s.allow("attachments", actCreate))
	v1.GET("/attachments/:sha256", s.getAttachment, s.allow("attachments", actRead))

	// Audit: row history and merge conflicts, for headquarters (admin,
	// inspection committee, office).
	v1.GET("/history/:table/:id", s.rowHistory, s.allow("history", actRead))
	v1.GET("/conflicts", s.listConflicts, s.allow("conflicts", actRead))
	v1.POST("/conflicts/:id/resolve", s.resolveConflict, s.allow("conflicts", actUpdate))

	// Reports (headquarters): field-day tallies, campaign coverage and the
	// findings register with its export. Secretaries and departments read
	// their own part (reports.go).
	v1.GET("/reports/field-days", s.reportFieldDays, s.allow("reports", actRead))
	v1.GET("/reports/coverage", s.reportCoverage, s.allow("reports", actRead))
	v1.GET("/reports/findings", s.reportFindings, s.allow("reports", actRead))
	v1.GET("/reports/findings.xlsx", s.reportFindingsXLSX, s.allow("reports", actRead))
	v1.GET("/reports/notes", s.reportNotes, s.allow("rows", actRead))
	v1.GET("/reports/notes/:id", s.reportNote, s.allow("rows", actRead))
	v1.GET("/reports/activity/trips", s.reportActivityTrips, s.allow("rows", actRead))
	v1.GET("/reports/activity/checkins", s.reportActivityCheckins, s.allow("rows", actRead))
	v1.GET("/reports/findings/:id/follow-ups", s.reportFollowUps, s.allow("rows", actRead))
	v1.GET("/reports/coverage.xlsx", s.reportCoverageXLSX, s.allow("reports", actRead))
	v1.GET("/reports/field-days.xlsx", s.reportFieldDaysXLSX, s.allow("reports", actRead))
	v1.GET("/reports/campaigns/:id/report.docx", s.reportCampaignDOCX, s.allow("reports", actRead))
	v1.GET("/reports/notices/:id/notice.docx", s.reportNoticeDOCX, s.allow("reports", actRead))
	v1.GET("/reports/briefings/:id/minutes.docx", s.reportBriefingDOCX, s.allow("reports", actRead))

	// The PWA (static.go): every other GET is the app shell or one of its
	// files; app routes fall back to index.html.
	e.Match([]string{http.MethodGet, http.MethodHead}, "/*", mustStaticSite(pwa.Dist()).serve)
}
