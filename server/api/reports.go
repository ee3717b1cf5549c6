package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/schema"
)

// The reports, as the policy's row check names them.
const (
	reportFieldDays = "field_days"
	reportCoverage  = "coverage"
	reportFindings  = "findings"
)

// reportRow is the policy's row check for the reports (policy.go,
// "reports"): headquarters read every report in full; a secretary reads
// the field-day tally (their own line only) and the campaigns' coverage; a
// department reads the coverage and the findings register (its own
// department's findings only). after["report"] names the report.
func reportRow(p principal, _ action, _, after map[string]any) error {
	secretary, department := p.hasRole(auth.RoleSecretary), p.hasRole(auth.RoleDepartment)
	switch after["report"] {
	case reportFieldDays:
		if secretary {
			return nil
		}
		return forbidden("the field-day tally is for headquarters and the secretaries")
	case reportCoverage:
		if secretary || department {
			return nil
		}
	case reportFindings:
		if department {
			return nil
		}
		return forbidden("the findings register is for headquarters and the departments that follow findings up")
	}
	return forbidden("your roles may not read this report")
}

// allowReport runs the policy's row check for one report; it is nil for
// headquarters.
func (s *Server) allowReport(c echo.Context, name string) error {
	return s.allowRow(c, "reports", actRead, nil, map[string]any{"report": name})
}

// isHeadquarters reports whether the caller reads every report in full.
func isHeadquarters(p principal) bool { return holdsAny(p, headquarters.roles) }

// reportFieldDays: GET /api/v1/reports/field-days[?year=&date=&user_id=].
// Each secretary's distinct field days of the year against the plan's
// minimum, on pace or behind as of date (default today in Vietnam), split
// by purpose and special period. A secretary who is not also headquarters
// gets only their own line.
func (s *Server) reportFieldDays(c echo.Context) error {
	q, err := s.fieldDaysQuery(c)
	if err != nil {
		return err
	}
	out, err := report.New(s.store).FieldDays(c.Request().Context(), q)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("secretary")
	}
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, out)
}

// reportCoverage: GET /api/v1/reports/coverage[?campaign_id=&cluster_id=
// &date=]. For each campaign (or one) its planned units (or those of one
// activity cluster), which have a submitted or reviewed visit note of the
// campaign, when, and inside the window or not.
func (s *Server) reportCoverage(c echo.Context) error {
	q, err := s.coverageQuery(c)
	if err != nil {
		return err
	}
	out, err := report.New(s.store).Coverage(c.Request().Context(), q)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("campaign or cluster")
	}
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, out)
}

// coverageQuery authorizes and reads the coverage parameters, for the
// report and its workbook alike.
func (s *Server) coverageQuery(c echo.Context) (report.CoverageQuery, error) {
	if err := s.allowReport(c, reportCoverage); err != nil {
		return report.CoverageQuery{}, err
	}
	in := readReportParams(c)
	q := report.CoverageQuery{CampaignID: in.id("campaign_id"), ClusterID: in.id("cluster_id"), AsOf: in.date("date")}
	return q, in.err()
}

// reportFindings: GET /api/v1/reports/findings[?campaign_id=&cluster_id=
// &unit_id=&category=&status=&department_id=&unassigned=&overdue=&date=&q=
// &sort=&limit=&cursor=]. The findings register, a page at a time (as the
// notes list pages), with the counts of the whole selection;
// category=recommendation is the Office's recommendations register. A
// department sees its own department's findings.
func (s *Server) reportFindings(c echo.Context) error {
	q, err := s.findingsQuery(c, true)
	if err != nil {
		return err
	}
	page, err := report.New(s.store).FindingsPage(c.Request().Context(), q, syncdb.RowBase)
	if err != nil {
		return listFailed(err)
	}
	return c.JSON(http.StatusOK, page)
}

// reportFindingsXLSX: GET /api/v1/reports/findings.xlsx, the register of
// reportFindings (same parameters, same restriction) as a workbook to hand
// up: "Báo cáo tổng hợp vấn đề phát hiện".
func (s *Server) reportFindingsXLSX(c echo.Context) error {
	q, err := s.findingsQuery(c, false)
	if err != nil {
		return err
	}
	today := report.Today(time.Now())
	b, err := report.New(s.store).FindingsXLSX(c.Request().Context(), q, today)
	if err != nil {
		return internal(err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+report.FindingsFilename(q, today)+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, report.XLSXContentType, b)
}

// Paging of the findings register.
const (
	defaultFindingsLimit = 50
	maxFindingsLimit     = 200
)

// findingsQuery authorizes and reads the register's parameters, with the
// page's when paged (the list; the workbook holds every finding). A
// caller who is not headquarters is held to their own department: asking
// for another is refused; a department user whose account names no
// department has no findings to follow up, so gets none.
func (s *Server) findingsQuery(c echo.Context, paged bool) (report.FindingsQuery, error) {
	if err := s.allowReport(c, reportFindings); err != nil {
		return report.FindingsQuery{}, err
	}
	in := readReportParams(c)
	q := report.FindingsQuery{
		CampaignID:   in.id("campaign_id"),
		ClusterID:    in.id("cluster_id"),
		UnitID:       in.id("unit_id"),
		Category:     in.enum("category", "findings"),
		Status:       in.enum("status", "findings"),
		DepartmentID: in.id("department_id"),
		Unassigned:   in.boolean("unassigned"),
		Overdue:      in.boolean("overdue"),
		AsOf:         in.date("date"),
		Search:       in.text("q", maxSearchRunes),
	}
	if paged {
		q.Sort = in.oneOf("sort", report.FindingSorts)
		q.Limit, q.Cursor = in.page(defaultFindingsLimit, maxFindingsLimit)
	}
	if err := in.err(); err != nil {
		return q, err
	}
	p := principalFrom(c)
	if isHeadquarters(p) {
		return q, nil
	}
	dept := p.DepartmentID
	if q.DepartmentID != "" && q.DepartmentID != dept {
		return q, forbidden("a department sees only the findings assigned to it")
	}
	q.DepartmentID, q.DepartmentOnly = dept, true
	return q, nil
}

// listFailed is the answer to a paged listing that failed: a cursor it did
// not make is the client's fault (start again without it), anything else
// is ours.
func listFailed(err error) error {
	if errors.Is(err, report.ErrBadCursor) {
		return badRequest("validation_failed", "the cursor does not continue this listing: start again without it",
			[]fieldError{{Field: "cursor", Rule: "cursor"}})
	}
	return internal(err)
}

// reportParams reads report query parameters, collecting every fault so
// one answer names them all (validation_failed with details).
type reportParams struct {
	c      echo.Context
	faults []fieldError
}

func readReportParams(c echo.Context) *reportParams { return &reportParams{c: c} }

func (r *reportParams) fault(name, rule, param string) {
	r.faults = append(r.faults, fieldError{Field: name, Rule: rule, Param: param})
}

// id reads an optional row id, lowercased as ids are stored.
func (r *reportParams) id(name string) string {
	v := r.c.QueryParam(name)
	if v != "" && !schema.ValidID(v) {
		r.fault(name, "uuid", "")
		return ""
	}
	return strings.ToLower(v)
}

// date reads an optional YYYY-MM-DD date; absent, it is today in Vietnam.
func (r *reportParams) date(name string) string {
	v := r.c.QueryParam(name)
	if v == "" {
		return report.Today(time.Now())
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		r.fault(name, "datetime", time.DateOnly)
	}
	return v
}

// year reads an optional four-digit year; absent, it is the year of asOf.
func (r *reportParams) year(name, asOf string) int {
	v := r.c.QueryParam(name)
	if v == "" {
		if d, err := time.Parse(time.DateOnly, asOf); err == nil {
			return d.Year()
		}
		return 0 // the date's own fault is reported
	}
	y, err := strconv.Atoi(v)
	if err != nil || len(v) != 4 {
		r.fault(name, "year", "YYYY")
		return 0
	}
	return y
}

// page reads a paged listing's limit (1 to max, def when absent) and
// cursor (opaque: the listing judges it, listFailed answers a bad one).
func (r *reportParams) page(def, max int) (int, string) {
	return r.intIn("limit", 1, max, def), r.c.QueryParam("cursor")
}

// boolean reads an optional true or false (1 or 0); absent, it is false.
func (r *reportParams) boolean(name string) bool {
	switch r.c.QueryParam(name) {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	r.fault(name, "boolean", "")
	return false
}

// enum reads an optional value of the field of the same name in table,
// checked against the schema registry.
func (r *reportParams) enum(name, table string) string {
	v := r.c.QueryParam(name)
	if v == "" {
		return ""
	}
	t, _ := schema.Lookup(table)
	f, ok := t.Field(name)
	if !ok {
		panic("reports: schema has no field " + table + "." + name) // a programming error
	}
	if !slices.Contains(f.Values, v) {
		r.fault(name, "oneof", strings.Join(f.Values, " "))
		return ""
	}
	return v
}

func (r *reportParams) err() error {
	if len(r.faults) == 0 {
		return nil
	}
	names := make([]string, len(r.faults))
	for i, f := range r.faults {
		names[i] = f.Field
	}
	return badRequest("validation_failed", "invalid value for: "+strings.Join(names, ", "), r.faults)
}
