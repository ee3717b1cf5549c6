package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/schema"
)

// historyEntryJSON is one applied change of a row.
type historyEntryJSON struct {
	Seq        int64           `json:"seq"`
	ChangeID   string          `json:"change_id"`
	Op         string          `json:"op"`
	HLC        string          `json:"hlc"`
	UserID     *string         `json:"user_id"`
	DeviceID   string          `json:"device_id"`
	ReceivedAt string          `json:"received_at"`
	Applied    json.RawMessage `json:"applied"`
	Previous   json.RawMessage `json:"previous"`
	Lost       json.RawMessage `json:"lost"`
}

type historyList struct {
	Items []historyEntryJSON `json:"items"`
}

// conflictJSON is one pair of concurrent writes of a field.
type conflictJSON struct {
	ID           int64   `json:"id"`
	Table        string  `json:"table"`
	RowID        string  `json:"row_id"`
	Field        string  `json:"field"`
	WinnerValue  *string `json:"winner_value"`
	WinnerHLC    string  `json:"winner_hlc"`
	WinnerUser   *string `json:"winner_user"`
	WinnerDevice *string `json:"winner_device"`
	LoserValue   *string `json:"loser_value"`
	LoserHLC     string  `json:"loser_hlc"`
	LoserUser    *string `json:"loser_user"`
	LoserDevice  *string `json:"loser_device"`
	DetectedAt   string  `json:"detected_at"`
	ResolvedAt   *string `json:"resolved_at"`
	ResolvedBy   *string `json:"resolved_by"`
}

type conflictList struct {
	Items []conflictJSON `json:"items"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// rowHistory: GET /api/v1/history/:table/:id (headquarters). Every change
// applied to the row, oldest first, with what each overwrote and what lost.
func (s *Server) rowHistory(c echo.Context) error {
	entries, err := s.sync.History(c.Request().Context(), c.Param("table"), c.Param("id"))
	switch {
	case errors.Is(err, syncdb.ErrUnknownTable):
		return &Error{Status: http.StatusNotFound, Code: "unknown_table", Message: "no synced table is named " + strconv.Quote(c.Param("table"))}
	case errors.Is(err, store.ErrNotFound):
		return notFound("row history")
	case err != nil:
		return internal(err)
	}
	out := historyList{Items: make([]historyEntryJSON, 0, len(entries))}
	for _, e := range entries {
		out.Items = append(out.Items, historyEntryJSON{
			Seq: e.Seq, ChangeID: e.ChangeID, Op: e.Op, HLC: e.HLC, UserID: optional(e.UserID),
			DeviceID: e.DeviceID, ReceivedAt: e.ReceivedAt, Applied: e.Applied, Previous: e.Previous, Lost: e.Lost,
		})
	}
	return c.JSON(http.StatusOK, out)
}

// listConflicts: GET /api/v1/conflicts[?resolved=&table=&row_id=&after=&limit=]
// (headquarters). Without resolved, open and resolved pairs alike; pages
// by id with after (the last id seen) and limit.
func (s *Server) listConflicts(c echo.Context) error {
	f := syncdb.ConflictFilter{Table: c.QueryParam("table"), RowID: strings.ToLower(c.QueryParam("row_id"))}
	if f.RowID != "" && !schema.ValidID(f.RowID) {
		return badRequest("validation_failed", "row_id must be a UUID", []fieldError{{Field: "row_id", Rule: "uuid"}})
	}
	if v := c.QueryParam("resolved"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("validation_failed", "resolved must be true or false", []fieldError{{Field: "resolved", Rule: "boolean"}})
		}
		f.Resolved = &b
	}
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("validation_failed", "after must be a conflict id", []fieldError{{Field: "after", Rule: "min", Param: "0"}})
		}
		f.AfterID = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > syncdb.MaxConflictLimit {
			return badRequest("validation_failed", "limit must be between 1 and "+strconv.Itoa(syncdb.MaxConflictLimit),
				[]fieldError{{Field: "limit", Rule: "max", Param: strconv.Itoa(syncdb.MaxConflictLimit)}})
		}
		f.Limit = n
	}
	items, err := s.sync.Conflicts(c.Request().Context(), f)
	if errors.Is(err, syncdb.ErrUnknownTable) {
		return badRequest("unknown_table", "no synced table is named "+strconv.Quote(f.Table), nil)
	}
	if err != nil {
		return internal(err)
	}
	out := conflictList{Items: make([]conflictJSON, 0, len(items))}
	for _, x := range items {
		out.Items = append(out.Items, conflictJSON{
			ID: x.ID, Table: x.Table, RowID: x.RowID, Field: x.Field,
			WinnerValue: x.WinnerValue, WinnerHLC: x.WinnerHLC, WinnerUser: optional(x.WinnerUser), WinnerDevice: optional(x.WinnerDevice),
			LoserValue: x.LoserValue, LoserHLC: x.LoserHLC, LoserUser: optional(x.LoserUser), LoserDevice: optional(x.LoserDevice),
			DetectedAt: x.DetectedAt, ResolvedAt: optional(x.ResolvedAt), ResolvedBy: optional(x.ResolvedBy),
		})
	}
	return c.JSON(http.StatusOK, out)
}

// resolveConflict: POST /api/v1/conflicts/:id/resolve (headquarters). Marks
// the pair reviewed; the merged value stays as it is (to change it, edit
// the row). Resolving twice keeps the first review.
func (s *Server) resolveConflict(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return notFound("conflict")
	}
	err = s.sync.ResolveConflict(c.Request().Context(), id, principalFrom(c).UserID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("conflict")
	}
	if err != nil {
		return internal(err)
	}
	return c.NoContent(http.StatusNoContent)
}
