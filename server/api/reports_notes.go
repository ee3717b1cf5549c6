package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"dicoso/server/report"
	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/schema"
)

// Paging of the notes list.
const (
	defaultNotesLimit = 50
	maxNotesLimit     = 200
	maxSearchRunes    = 200
)

// reportNotes: GET /api/v1/reports/notes. The console's notes list (the
// review queue is its default: oldest submitted first), filtered, searched
// and paged with an opaque cursor, with per-campaign and per-unit counts of
// the whole selection.
//
// Scope: every role reads exactly the notes the specs let it read
// (syncdb.ReadClause, the pull's scope plus what headquarters read over
// the API): headquarters every note, a team its campaign's units, a
// secretary their clusters', a liaison their unit's handed-in notes, a
// department the handed-in notes its findings cite, everyone their own;
// and nobody another's draft.
func (s *Server) reportNotes(c echo.Context) error {
	p := principalFrom(c)
	viewer := s.notesViewer(p)
	in := readReportParams(c)
	q := report.NotesQuery{
		CampaignID: in.id("campaign_id"),
		Round:      in.enumOf("round", "campaigns", "kind"),
		ClusterID:  in.id("cluster_id"),
		UnitID:     in.id("unit_id"),
		TeamID:     in.id("team_id"),
		AuthorID:   in.id("author_id"),
		Statuses:   in.enumList("status", "visit_notes", "status"),
		From:       in.optionalDate("from"),
		To:         in.optionalDate("to"),
		Search:     in.text("q", maxSearchRunes),
		Sort:       in.oneOf("sort", report.NoteSorts),
		Viewer:     viewer,
	}
	q.Limit, q.Cursor = in.page(defaultNotesLimit, maxNotesLimit)
	if q.From != "" && q.To != "" && q.To < q.From {
		in.fault("to", "gtefield", "from")
	}
	if err := in.err(); err != nil {
		return err
	}
	page, err := report.New(s.store).Notes(c.Request().Context(), q)
	if err != nil {
		return listFailed(err)
	}
	return c.JSON(http.StatusOK, page)
}

// notesViewer is the caller as the read scopes of server/syncdb name them.
func (s *Server) notesViewer(p principal) report.NotesViewer {
	a := syncdb.Actor{UserID: p.UserID, Roles: p.Roles, DepartmentID: p.DepartmentID, UnitID: p.UnitID, DeviceID: p.DeviceID}
	return report.NotesViewer{UserID: p.UserID, Read: func(table string) (string, []any) { return s.sync.ReadClause(a, table) }}
}

// reportNote: GET /api/v1/reports/notes/{id}. One note for the console's
// two-pane view: what the list shows, its content, its findings, photos
// and every review round, and its base (docs/protocol.md, "Merge"), which
// a decision made from this read carries. Scoped as the list: a note the
// caller may not read is 404, as is another author's draft.
func (s *Server) reportNote(c echo.Context) error {
	id := c.Param("id")
	if !schema.ValidID(id) {
		return badRequest("validation_failed", "id must be a UUID", []fieldError{{Field: "id", Rule: "uuid"}})
	}
	d, err := report.New(s.store).Note(c.Request().Context(), strings.ToLower(id), s.notesViewer(principalFrom(c)), syncdb.RowBase)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no visit note " + id + " that you may read")
	}
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, d)
}

// enumOf reads an optional value of field in table (named differently from
// the parameter), checked against the schema registry.
func (r *reportParams) enumOf(name, table, field string) string {
	v := r.c.QueryParam(name)
	if v == "" {
		return ""
	}
	values := schemaValues(table, field)
	if !slices.Contains(values, v) {
		r.fault(name, "oneof", strings.Join(values, " "))
		return ""
	}
	return v
}

// enumList reads a parameter that may repeat and may hold several values
// separated by commas (status=submitted&status=reviewed, or
// status=submitted,reviewed), each a value of field in table.
func (r *reportParams) enumList(name, table, field string) []string {
	values := schemaValues(table, field)
	var out []string
	for _, raw := range r.c.QueryParams()[name] {
		for v := range strings.SplitSeq(raw, ",") {
			v = strings.TrimSpace(v)
			if !slices.Contains(values, v) {
				r.fault(name, "oneof", strings.Join(values, " "))
				return nil
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// optionalDate reads an optional YYYY-MM-DD date; absent, it is "".
func (r *reportParams) optionalDate(name string) string {
	v := r.c.QueryParam(name)
	if v == "" {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		r.fault(name, "datetime", time.DateOnly)
		return ""
	}
	return v
}

// text reads optional free text of at most maxRunes characters.
func (r *reportParams) text(name string, maxRunes int) string {
	v := r.c.QueryParam(name)
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxRunes {
		r.fault(name, "max", strconv.Itoa(maxRunes))
		return ""
	}
	return strings.TrimSpace(v)
}

// oneOf reads an optional value from a fixed list.
func (r *reportParams) oneOf(name string, allowed []string) string {
	v := r.c.QueryParam(name)
	if v != "" && !slices.Contains(allowed, v) {
		r.fault(name, "oneof", strings.Join(allowed, " "))
		return ""
	}
	return v
}

// intIn reads an optional whole number in [lo, hi]; absent, it is def.
func (r *reportParams) intIn(name string, lo, hi, def int) int {
	v := r.c.QueryParam(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		r.fault(name, "number", "")
	case n < lo:
		r.fault(name, "min", strconv.Itoa(lo))
	case n > hi:
		r.fault(name, "max", strconv.Itoa(hi))
	default:
		return n
	}
	return def
}

// schemaValues are the values the registry allows for an enum field; a
// missing field is a programming error.
func schemaValues(table, field string) []string {
	t, ok := schema.Lookup(table)
	if !ok {
		panic("reports: schema has no table " + table)
	}
	f, ok := t.Field(field)
	if !ok {
		panic("reports: schema has no field " + table + "." + field)
	}
	return f.Values
}
