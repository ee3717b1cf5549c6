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

// Paging of one person's trips and check-ins.
const (
	defaultActivityLimit = 50
	maxActivityLimit     = 200
)

// reportActivityTrips: GET /api/v1/reports/activity/trips?user_id=&year=
// [&limit=&cursor=]. One person's trips of a year, newest first, each with
// its field days (and whether the person checked in each day), a page at
// a time, for the console's field-day detail: every row of them the caller
// may read (the read scopes of server/syncdb), so a headquarters browser
// needs none of it on the device. year defaults to this year in Vietnam.
func (s *Server) reportActivityTrips(c echo.Context) error {
	q, err := s.activityQuery(c)
	if err != nil {
		return err
	}
	page, err := report.New(s.store).ActivityTrips(c.Request().Context(), q)
	if err != nil {
		return listFailed(err)
	}
	return c.JSON(http.StatusOK, page)
}

// reportActivityCheckins: GET /api/v1/reports/activity/checkins?user_id=
// &year=[&limit=&cursor=]. One person's check-ins on days of a year (in
// Vietnam), newest first, with the server's flags, a page at a time,
// scoped as the trips.
func (s *Server) reportActivityCheckins(c echo.Context) error {
	q, err := s.activityQuery(c)
	if err != nil {
		return err
	}
	page, err := report.New(s.store).ActivityCheckins(c.Request().Context(), q)
	if err != nil {
		return listFailed(err)
	}
	return c.JSON(http.StatusOK, page)
}

// activityQuery reads the person, the year and the page of an activity listing.
func (s *Server) activityQuery(c echo.Context) (report.ActivityQuery, error) {
	in := readReportParams(c)
	q := report.ActivityQuery{UserID: in.id("user_id"), Year: in.year("year", report.Today(time.Now())),
		Viewer: s.notesViewer(principalFrom(c))}
	if q.UserID == "" && c.QueryParam("user_id") == "" {
		in.fault("user_id", "required", "")
	}
	q.Limit, q.Cursor = in.page(defaultActivityLimit, maxActivityLimit)
	return q, in.err()
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
