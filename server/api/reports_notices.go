package api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/server/report"
	"dicoso/server/report/docx"
	"dicoso/server/store"
	"dicoso/sync/plan"
	"dicoso/sync/schema"
)

// reportNoticeDOCX: GET /api/v1/reports/notices/:id/notice.docx. The
// notice establishing a campaign's inspection teams (plan III.1), draft or
// issued, as an editable Word document: team by team the leader, members,
// units and days from the schedule as it stands, the content, what the
// units prepare, "Nơi nhận". Read by headquarters, which draft it.
func (s *Server) reportNoticeDOCX(c echo.Context) error {
	if !isHeadquarters(principalFrom(c)) {
		return forbidden("the notice document is for headquarters")
	}
	id := c.Param("id")
	if !schema.ValidID(id) {
		return notFound("notice")
	}
	n, err := report.New(s.store).Notice(c.Request().Context(), strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("notice")
	}
	if err != nil {
		return internal(err)
	}
	year, _ := strconv.Atoi(report.Today(time.Now())[:4])
	if n.Campaign.StartsOn != nil {
		year, _ = strconv.Atoi((*n.Campaign.StartsOn)[:4])
	}
	return sendDOCX(c, report.NoticeDocument(n, year), report.NoticeFilename(n.Campaign.Name))
}

// reportBriefingDOCX: GET /api/v1/reports/briefings/:id/minutes.docx. A
// cluster briefing's minutes and the recommendations raised at it with
// their answers (plan II.1, III.1), for the cluster. Read by headquarters
// and by the secretary and department leading the briefing's cluster.
func (s *Server) reportBriefingDOCX(c echo.Context) error {
	p := principalFrom(c)
	id := c.Param("id")
	if !schema.ValidID(id) {
		return notFound("briefing")
	}
	b, err := report.New(s.store).Briefing(c.Request().Context(), strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("briefing")
	}
	if err != nil {
		return internal(err)
	}
	dept := ""
	if p.hasRole(plan.RoleDepartment) {
		dept = p.DepartmentID
	}
	sec := ""
	if p.hasRole(plan.RoleSecretary) {
		sec = p.UserID
	}
	if !isHeadquarters(p) && !b.Leads(sec, dept) {
		return forbidden("the minutes are for headquarters and the cluster's leading secretary and department")
	}
	year, _ := strconv.Atoi(report.Today(time.Now())[:4])
	return sendDOCX(c, report.BriefingDocument(b, year), report.BriefingFilename(b))
}

// sendDOCX builds the document whole (so that a failure is still an error
// envelope), then sends it as an attachment.
func sendDOCX(c echo.Context, d *docx.Document, filename string) error {
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		return internal(err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Stream(http.StatusOK, docx.ContentType, &buf)
}
