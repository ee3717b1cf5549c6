package api

import (
	"database/sql"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/server/syncdb"
)

// placeDecision is headquarters' decision on a grassroots place proposed
// from the field (docs/protocol.md, Places): confirm it, merge it into
// the confirmed unit it duplicates, or reject it.
type placeDecision struct {
	Status       string  `json:"status" validate:"required,oneof=confirmed merged rejected"`
	ReplacedByID *string `json:"replaced_by_id" validate:"omitempty,uuid"`
}

// decidePlace: POST /api/v1/units/:id/decision. The decision is judged by
// the units spec (server/syncdb/specs.go) exactly as the same change
// pushed from the caller's device would be: headquarters only, on a
// grassroots place someone else proposed, merged only into a confirmed
// unit. A place not merged names no kept unit, so a confirmation after a
// merge clears it. It answers the place as it now stands.
func (s *Server) decidePlace(c echo.Context) error {
	var body placeDecision
	if err := s.bind(c, &body); err != nil {
		return err
	}
	units := s.reference("units")
	ctx := c.Request().Context()
	p := principalFrom(c)
	actor := syncdb.Actor{UserID: p.UserID, Roles: p.Roles, DepartmentID: p.DepartmentID, UnitID: p.UnitID}
	fields := map[string]any{"status": body.Status, "replaced_by_id": nil}
	if body.ReplacedByID != nil {
		fields["replaced_by_id"] = *body.ReplacedByID
	}
	var row map[string]any
	err := s.store.InTx(ctx, func(tx *sql.Tx) error {
		before, err := units.load(ctx, tx, c.Param("id"))
		if err != nil {
			return err
		}
		id, _ := before["id"].(string)
		if err := s.sync.ApplyJudgedTx(ctx, tx, actor, syncdb.ServerChange{Table: "units", RowID: id, Fields: fields}); err != nil {
			return err
		}
		row, err = units.load(ctx, tx, id)
		return err
	})
	if errors.Is(err, errNoRow) {
		return notFound(units.noun())
	}
	var rj *syncdb.RejectedError
	if errors.As(err, &rj) && rj.Code == "forbidden" {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: rj.Message, Err: err}
	}
	if err != nil {
		return referenceWriteError(err)
	}
	return c.JSON(http.StatusOK, row)
}
