package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/server/report"
	"dicoso/server/store"
	"dicoso/sync/schema"
)

// reportActivity: GET /api/v1/reports/activity?user_id=&year=. One
// person's trips, field days and check-ins (with the server's flags) of a
// year, for the console's field-day detail: every row of them the caller
// may read (the read scopes of server/syncdb), so a headquarters browser
// needs none of it on the device. year defaults to this year in Vietnam.
func (s *Server) reportActivity(c echo.Context) error {
	in := readReportParams(c)
	user := in.id("user_id")
	if user == "" && c.QueryParam("user_id") == "" {
		in.fault("user_id", "required", "")
	}
	year := in.year("year", report.Today(time.Now()))
	if err := in.err(); err != nil {
		return err
	}
	out, err := report.New(s.store).Activity(c.Request().Context(), user, year, s.notesViewer(principalFrom(c)))
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, out)
}

// reportFollowUps: GET /api/v1/reports/findings/{id}/follow-ups. The
// follow-ups of one finding, oldest first, for the console's findings
// register: every one the caller may read; 404 for a finding they may not.
func (s *Server) reportFollowUps(c echo.Context) error {
	id := c.Param("id")
	if !schema.ValidID(id) {
		return badRequest("validation_failed", "id must be a UUID", []fieldError{{Field: "id", Rule: "uuid"}})
	}
	items, err := report.New(s.store).FollowUps(c.Request().Context(), strings.ToLower(id), s.notesViewer(principalFrom(c)))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no finding " + id + " that you may read")
	}
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
