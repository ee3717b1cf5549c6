package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dicoso/server/store"
	"dicoso/sync/schema"
)

// ErrUnknownTable is returned for a table name the schema registry lacks.
var ErrUnknownTable = errors.New("unknown table")

// HistoryEntry is one applied change of a row, as change_log keeps it.
// Applied holds the field values the change set; Previous the values they
// overwrote; Lost the values of this change that an already newer write
// beat (the losing side of a last-writer-wins merge). All three are JSON
// objects of wire values.
type HistoryEntry struct {
	Seq        int64
	ChangeID   string
	Op         string
	HLC        string
	UserID     string // empty for the system itself
	DeviceID   string // "server-…" for changes the server made
	ReceivedAt string
	Applied    json.RawMessage
	Previous   json.RawMessage
	Lost       json.RawMessage
}

// History lists every change applied to one row, oldest first;
// ErrUnknownTable for a table outside the registry, store.ErrNotFound for a
// row with no change at all.
func (d *DB) History(ctx context.Context, table, rowID string) ([]HistoryEntry, error) {
	t, ok := schema.Lookup(table)
	if !ok {
		return nil, ErrUnknownTable
	}
	rs, err := d.st.Reader().QueryContext(ctx, `SELECT seq, change_id, op, hlc, user_id, device_id, received_at,
		applied, previous, lost FROM change_log WHERE tbl = ? AND row_id = ? ORDER BY seq`, t.Name, strings.ToLower(rowID))
	if err != nil {
		return nil, fmt.Errorf("read history of %s %s: %w", t.Name, rowID, err)
	}
	defer rs.Close()
	var out []HistoryEntry
	for rs.Next() {
		var e HistoryEntry
		var user sql.NullString
		var applied, previous, lost string
		if err := rs.Scan(&e.Seq, &e.ChangeID, &e.Op, &e.HLC, &user, &e.DeviceID, &e.ReceivedAt,
			&applied, &previous, &lost); err != nil {
			return nil, fmt.Errorf("read history of %s %s: %w", t.Name, rowID, err)
		}
		e.UserID = user.String
		e.Applied, e.Previous, e.Lost = json.RawMessage(applied), json.RawMessage(previous), json.RawMessage(lost)
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read history of %s %s: %w", t.Name, rowID, err)
	}
	if len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out, nil
}

// Conflict is a pair of concurrent writes of one field by different
// devices: the value that won (by HLC) and the one that lost, with who
// wrote each, listed for review. Values are as stored, in text form.
type Conflict struct {
	ID           int64
	Table        string
	RowID        string
	Field        string
	WinnerValue  *string
	WinnerHLC    string
	WinnerUser   string
	WinnerDevice string
	LoserValue   *string
	LoserHLC     string
	LoserUser    string
	LoserDevice  string
	DetectedAt   string
	ResolvedAt   string // empty while open
	ResolvedBy   string
}

// ConflictFilter narrows Conflicts. Zero values do not filter.
type ConflictFilter struct {
	Resolved *bool  // only resolved (true) or only open (false) pairs
	Table    string // must be a registry table
	RowID    string
	AfterID  int64 // page: ids greater than this
	Limit    int   // at most this many; DefaultConflictLimit when 0
}

// Conflict page sizes.
const (
	DefaultConflictLimit = 500
	MaxConflictLimit     = 2000
)

// Conflicts lists conflict pairs in detection order; ErrUnknownTable when
// the filter names a table outside the registry.
func (d *DB) Conflicts(ctx context.Context, f ConflictFilter) ([]Conflict, error) {
	var where []string
	var args []any
	if f.Resolved != nil {
		if *f.Resolved {
			where = append(where, "resolved_at IS NOT NULL")
		} else {
			where = append(where, "resolved_at IS NULL")
		}
	}
	if f.Table != "" {
		t, ok := schema.Lookup(f.Table)
		if !ok {
			return nil, ErrUnknownTable
		}
		where = append(where, "tbl = ?")
		args = append(args, t.Name)
	}
	if f.RowID != "" {
		where = append(where, "row_id = ?")
		args = append(args, strings.ToLower(f.RowID))
	}
	where = append(where, "id > ?")
	args = append(args, f.AfterID)
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultConflictLimit
	}
	limit = min(limit, MaxConflictLimit)
	args = append(args, limit)
	q := `SELECT id, tbl, row_id, field, winner_value, winner_hlc, winner_user, winner_device,
		loser_value, loser_hlc, loser_user, loser_device, detected_at, resolved_at, resolved_by
		FROM conflicts WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ?`
	rs, err := d.st.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	defer rs.Close()
	out := []Conflict{}
	for rs.Next() {
		var c Conflict
		var wv, lv, wu, wd, lu, ld, ra, rb sql.NullString
		if err := rs.Scan(&c.ID, &c.Table, &c.RowID, &c.Field, &wv, &c.WinnerHLC, &wu, &wd,
			&lv, &c.LoserHLC, &lu, &ld, &c.DetectedAt, &ra, &rb); err != nil {
			return nil, fmt.Errorf("list conflicts: %w", err)
		}
		if wv.Valid {
			c.WinnerValue = &wv.String
		}
		if lv.Valid {
			c.LoserValue = &lv.String
		}
		c.WinnerUser, c.WinnerDevice, c.LoserUser, c.LoserDevice = wu.String, wd.String, lu.String, ld.String
		c.ResolvedAt, c.ResolvedBy = ra.String, rb.String
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	return out, nil
}

// ResolveConflict marks conflict id reviewed by userID. Resolving it again
// changes nothing (the first review stands); store.ErrNotFound for an
// unknown id.
func (d *DB) ResolveConflict(ctx context.Context, id int64, userID string) error {
	now := d.now().UTC().Format(time.RFC3339Nano)
	return d.st.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conflicts SET resolved_at = ?, resolved_by = ?
			WHERE id = ? AND resolved_at IS NULL`, now, userID, id)
		if err != nil {
			return fmt.Errorf("resolve conflict %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("resolve conflict %d: %w", id, err)
		} else if n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, "SELECT 1 FROM conflicts WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("resolve conflict %d: %w", id, err)
		}
		return nil
	})
}
