package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
	"dicoso/server/syncdb"
	"dicoso/sync/protocol"
)

// syncPush merges a device's outbox (docs/protocol.md). It answers only after the
// merged state is committed with synchronous=FULL, i.e. on disk.
func (s *Server) syncPush(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, err := protocol.DecodePush(body)
	if err != nil {
		return protocolError(err)
	}
	actor, err := s.actor(c, req.DeviceID)
	if err != nil {
		return err
	}
	resp, err := s.sync.Push(c.Request().Context(), actor, req)
	if errors.Is(err, syncdb.ErrBadBaseCursor) {
		return badRequest("validation_failed", "base_cursor is not a pull cursor this server gave",
			[]fieldError{{Field: "base_cursor", Rule: "cursor"}})
	}
	if err != nil {
		return internal(fmt.Errorf("push: %w", err))
	}
	s.metrics.SyncPush(len(req.Changes))
	for _, r := range resp.Results {
		s.metrics.SyncChange(r.Status, r.Code)
	}
	return c.JSON(http.StatusOK, resp)
}

// syncPull pages through the rows the caller may read (docs/protocol.md).
func (s *Server) syncPull(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, err := protocol.DecodePull(body)
	if err != nil {
		return protocolError(err)
	}
	actor, err := s.actor(c, req.DeviceID)
	if err != nil {
		return err
	}
	resp, err := s.sync.Pull(c.Request().Context(), actor, req)
	if errors.Is(err, syncdb.ErrBadCursor) {
		return badRequest("invalid_cursor", "the cursor was not made by this server; pull again from an empty cursor", nil)
	}
	if err != nil {
		return internal(fmt.Errorf("pull: %w", err))
	}
	// A page holds up to thousands of rows: written by the protocol's own
	// encoder, the same document as c.JSON at a fraction of the work.
	if !resp.HasMore {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, resp.AppendJSON(make([]byte, 0, 512*len(resp.Rows)+256)))
	}
	// More pages follow: the cursor goes ahead of the body, in the
	// Pull-Cursor header, sent at once, so that a device may ask for the
	// next page while this one is encoded, compressed and read (an
	// extension: docs/protocol.md, "Pull").
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	res.Header().Set(protocol.HeaderPullCursor, resp.Cursor)
	res.WriteHeader(http.StatusOK)
	res.Flush()
	_, err = res.Write(resp.AppendJSON(make([]byte, 0, 512*len(resp.Rows)+256)))
	return err
}

// protocolError maps a malformed push or pull onto the envelope.
func protocolError(err error) error {
	if errors.Is(err, protocol.ErrProtocol) {
		return &Error{Status: http.StatusUpgradeRequired, Code: "protocol_unsupported", Message: err.Error()}
	}
	var de *protocol.DecodeError
	if errors.As(err, &de) {
		return badRequest(de.Code, de.Message, nil)
	}
	return badRequest("invalid_json", err.Error(), nil)
}

// actor is the caller as the sync engine sees them. A token is bound to the
// device it was issued to; a device may only push and pull as itself, since
// its id is the node of its clock, and only while it is its user's.
func (s *Server) actor(c echo.Context, deviceID string) (syncdb.Actor, error) {
	p := principalFrom(c)
	if p.DeviceID != deviceID {
		return syncdb.Actor{}, forbidden(fmt.Sprintf("this token was issued to device %q, not %q", p.DeviceID, deviceID))
	}
	if err := s.auth.CheckDevice(c.Request().Context(), p.UserID, deviceID); err != nil {
		if errors.Is(err, auth.ErrDeviceTaken) {
			return syncdb.Actor{}, deviceTaken(err)
		}
		return syncdb.Actor{}, internal(err)
	}
	return syncdb.Actor{UserID: p.UserID, Roles: p.Roles, DepartmentID: p.DepartmentID, UnitID: p.UnitID, DeviceID: deviceID}, nil
}
