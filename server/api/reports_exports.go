package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/server/report"
	"dicoso/server/store"
)

// reportCoverageXLSX: GET /api/v1/reports/coverage.xlsx, the coverage of
// reportCoverage (same parameters, same roles) as a workbook.
func (s *Server) reportCoverageXLSX(c echo.Context) error {
	q, err := s.coverageQuery(c)
	if err != nil {
		return err
	}
	wb, err := report.New(s.store).CoverageWorkbook(c.Request().Context(), q)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("campaign or cluster")
	}
	if err != nil {
		return internal(err)
	}
	return sendWorkbook(c, wb, report.CoverageFilename(q.AsOf))
}

// reportFieldDaysXLSX: GET /api/v1/reports/field-days.xlsx, the tally of
// reportFieldDays (same parameters, same roles: a secretary's export holds
// their own line only) as a workbook.
func (s *Server) reportFieldDaysXLSX(c echo.Context) error {
	q, err := s.fieldDaysQuery(c)
	if err != nil {
		return err
	}
	wb, err := report.New(s.store).FieldDaysWorkbook(c.Request().Context(), q)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("secretary")
	}
	if err != nil {
		return internal(err)
	}
	return sendWorkbook(c, wb, report.FieldDaysFilename(q.Year, q.AsOf))
}

// fieldDaysQuery authorizes and reads the field-day parameters as
// reportFieldDays does: a caller who is not headquarters (a secretary) is
// held to their own line.
func (s *Server) fieldDaysQuery(c echo.Context) (report.FieldDaysQuery, error) {
	if err := s.allowReport(c, reportFieldDays); err != nil {
		return report.FieldDaysQuery{}, err
	}
	in := readReportParams(c)
	q := report.FieldDaysQuery{AsOf: in.date("date"), UserID: in.id("user_id")}
	q.Year = in.year("year", q.AsOf)
	if err := in.err(); err != nil {
		return q, err
	}
	if p := principalFrom(c); !isHeadquarters(p) {
		if q.UserID != "" && q.UserID != p.UserID {
			return q, forbidden("a secretary sees only their own field days")
		}
		q.UserID = p.UserID
	}
	return q, nil
}

// sendWorkbook writes an export straight to the answer as an attachment.
// filename must be ASCII (every browser keeps it).
func sendWorkbook(c echo.Context, wb *report.Workbook, filename string) error {
	defer wb.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, report.XLSXContentType)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := wb.WriteTo(c.Response()); err != nil {
		// The answer has begun: the client sees a cut file; the log says why.
		return fmt.Errorf("send workbook %s: %w", filename, err)
	}
	return nil
}
