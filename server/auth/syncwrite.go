package auth

import (
	"context"
	"database/sql"
	"errors"

	"dicoso/server/syncdb"
)

// errNoSync is returned by user writes on a service built without the sync
// engine (an Ephemeral one for tests that only log in).
var errNoSync = errors.New("auth: no sync engine to write users through")

// writeUser writes the public (synced) part of a users row through the sync
// engine, so it gets its clocks and change-log entry and devices pull it.
// fields use wire names and wire types.
func (s *Service) writeUser(ctx context.Context, tx *sql.Tx, actorID, id string, fields map[string]any) error {
	if s.sync == nil {
		return errNoSync
	}
	return s.sync.ApplyServerTx(ctx, tx, actorID, []syncdb.ServerChange{{Table: "users", RowID: id, Fields: fields}})
}

// tombstoneUser marks a users row deleted through the sync engine.
func (s *Service) tombstoneUser(ctx context.Context, tx *sql.Tx, actorID, id string) error {
	if s.sync == nil {
		return errNoSync
	}
	return s.sync.ApplyServerTx(ctx, tx, actorID, []syncdb.ServerChange{{Table: "users", RowID: id, Delete: true}})
}
