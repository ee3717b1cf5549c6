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
	"dicoso/sync/schema"
)

// reportCampaignDOCX: GET /api/v1/reports/campaigns/:id/report.docx[?date=].
// The Inspection Committee's report on a campaign to the Secretariat (plan
// III.1), as a Word document the Office edits before it is signed: per unit
// what its reviewed notes say, the units not yet reviewed, and the findings
// of the reviewed notes by category. date (YYYY-MM-DD) fills the
// place-and-date line; without it day and month are left blank. Read by
// headquarters (admin, inspection committee, office).
func (s *Server) reportCampaignDOCX(c echo.Context) error {
	if !isHeadquarters(principalFrom(c)) {
		return forbidden("the campaign report is for headquarters")
	}
	id := c.Param("id")
	in := readReportParams(c)
	signedOn := in.optionalDate("date")
	if err := in.err(); err != nil {
		return err
	}
	if !schema.ValidID(id) {
		return notFound("campaign") // a malformed id names no campaign either
	}
	rep, err := report.New(s.store).Campaign(c.Request().Context(), strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("campaign")
	}
	if err != nil {
		return internal(err)
	}
	year, _ := strconv.Atoi(report.Today(time.Now())[:4])
	// The document is small (text only): built whole, so that a failure is
	// still an error envelope, then sent.
	var buf bytes.Buffer
	if err := report.CampaignDocument(rep, signedOn, year).Write(&buf); err != nil {
		return internal(err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+report.CampaignReportFilename(rep.Campaign.Name)+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Stream(http.StatusOK, docx.ContentType, &buf)
}
