package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/server/report"
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
	out, err := report.New(s.store).Activity(c.Request().Context(), user, year, notesViewer(principalFrom(c)))
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, out)
}
