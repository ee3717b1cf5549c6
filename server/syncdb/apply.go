package syncdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"dicoso/server/store"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// writeCtx is what one push (or one server edit) brings to each change.
type writeCtx struct {
	actor  Actor
	server bool      // a change the server makes: no policy, may set computed fields
	now    time.Time // receipt time
	// cursorSeq is the push's base_cursor: the pusher had pulled every
	// row its pull serves up to it.
	cursorSeq int64
	hasCursor bool
	// baseSeq is what the current change had seen (changeBase): every
	// write of its row with seq <= baseSeq.
	baseSeq int64
	hasBase bool
	// logEnd is the change log's newest sequence when the commit began:
	// no base or cursor the server gave names a later one.
	logEnd  int64
	prior   map[string]protocol.Result // verdicts already given on this push's change ids
	lost    []protocol.LostValue       // the current change's values that lost (see noteLost)
	stamp   hlc.Timestamp              // the current change's clock
	created map[string]bool            // change ids that created their row (for ownEcho); nil: not kept
}

// fieldClock is the stamp of the write that set one field.
type fieldClock struct {
	H string `json:"h"` // HLC of the winning write
	S int64  `json:"s"` // change_log.seq of that write
}

// rowState is a row as stored, with its sync columns.
type rowState struct {
	values  map[string]any // SQL values by field name
	deleted bool
	version string
	clocks  map[string]fieldClock

	// Write-back bookkeeping (see wtx): where the row lives and what of it
	// the transaction has changed but not yet written.
	table *schema.Table
	id    string
	inDB  bool                // the row exists in the file
	seq   int64               // change_log.seq of the last change applied
	dirty map[string]struct{} // fields changed since the last flush
}

// rejection is a change the server refuses: it changes nothing.
type rejection struct {
	code, msg string
	field     string // the field at fault, when one is
}

func (r *rejection) Error() string { return r.code + ": " + r.msg }

func reject(code, format string, args ...any) *rejection {
	return &rejection{code: code, msg: fmt.Sprintf(format, args...)}
}

// applyChange validates, authorizes and merges one change in tx. A refused
// change comes back as a rejected Result (and a nil error); an error means
// the store failed and the transaction must not commit.
func (d *DB) applyChange(ctx context.Context, tx *wtx, w *writeCtx, ch protocol.Change) (protocol.Result, error) {
	res := protocol.Result{ID: ch.ID}
	if r, ok := w.prior[ch.ID]; ok {
		return r, nil
	}
	w.lost = nil
	err := d.merge(ctx, tx, w, ch)
	var rj *rejection
	if errors.As(err, &rj) {
		res.Status, res.Code, res.Message, res.Field = protocol.StatusRejected, rj.code, rj.msg, rj.field
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Status = protocol.StatusApplied
	res.Lost = w.lost
	return res, nil
}

// merge is applyChange after the idempotency check.
func (d *DB) merge(ctx context.Context, tx *wtx, w *writeCtx, ch protocol.Change) error {
	t, ok := d.tables.lookup(ch.Table)
	if !ok {
		return reject(protocol.CodeUnknownTable, "unknown table %q", ch.Table)
	}
	if !schema.ValidID(ch.RowID) {
		return reject(protocol.CodeValidationFailed, "row_id must be a UUID")
	}
	rowID := strings.ToLower(ch.RowID)
	if ch.Op != protocol.OpUpsert && ch.Op != protocol.OpDelete {
		return reject(protocol.CodeValidationFailed, "op must be upsert or delete")
	}
	ts, err := hlc.Parse(ch.HLC)
	if err != nil {
		return reject(protocol.CodeValidationFailed, "%v", err)
	}
	w.stamp = ts
	if !w.server {
		if ts.Node != w.actor.DeviceID {
			return reject(protocol.CodeValidationFailed, "hlc node %q is not this device %q", ts.Node, w.actor.DeviceID)
		}
		if _, err := d.clock.Update(ts); err != nil {
			return reject(protocol.CodeClockSkew, "the device clock is ahead of server time %s; correct it and retry",
				d.now().UTC().Format(time.RFC3339))
		}
		if t.Reference && !t.Proposed {
			return reject(protocol.CodeForbidden, "%s is reference data, edited by administrators only", t.Name)
		}
	}

	// The incoming values, checked against the schema.
	vals := make(map[string]any, len(ch.Fields))
	if ch.Op == protocol.OpDelete {
		if len(ch.Fields) > 0 {
			return reject(protocol.CodeValidationFailed, "a delete carries no fields")
		}
	}
	for name, v := range ch.Fields {
		f, ok := t.Field(name)
		if !ok {
			rj := reject(protocol.CodeUnknownField, "%s has no field %q", t.Name, name)
			rj.field = name
			return rj
		}
		if f.Computed && !w.server {
			return reject(protocol.CodeForbidden, "%s.%s is computed by the server", t.Name, name)
		}
		sv, err := f.ToSQL(v)
		if err != nil {
			rj := reject(protocol.CodeValidationFailed, "%v", err)
			rj.field = name
			return rj
		}
		vals[name] = sv
	}

	cur, err := loadRow(ctx, tx, t, rowID)
	if err != nil {
		return err
	}
	if err := d.changeBase(ctx, tx, w, t, ch, cur); err != nil {
		return err
	}
	creating := cur == nil
	if creating && ch.Op == protocol.OpDelete {
		// A table whose rows no device deletes refuses the delete of a row
		// it does not hold too: nothing is logged under the writer's name
		// for an id someone may create later.
		if sp, ok := specs[t.Name]; !w.server && (!ok || t.AppendOnly || len(sp.Delete.Grants) == 0) {
			return reject(protocol.CodeForbidden, "%s rows cannot be deleted from a device", t.Name)
		}
		// Deleting a row the server never had (created and deleted on the
		// device between two syncs, or never sent): nothing to tombstone.
		// The change is logged, so a retry answers duplicate, and changes
		// nothing, so it cannot claim an id someone else will create.
		return d.write(ctx, tx, w, t, rowID, ch, ts, nil, map[string]any{})
	}
	if creating && ch.Op == protocol.OpUpsert && t.Owner != "" {
		if _, set := vals[t.Owner]; !set && !w.server {
			vals[t.Owner] = w.actor.UserID
		}
	}
	if ch.Op == protocol.OpUpsert {
		if err := requiredGiven(t, creating, vals); err != nil {
			return err
		}
	}
	if err := d.checkRules(ctx, tx, w, t, cur, ch.Op, vals); err != nil {
		return err
	}
	if creating && ch.Op == protocol.OpUpsert {
		if !w.server {
			d.computeFields(ctx, tx, w, t, vals)
		}
	}
	if err := checkRefs(ctx, tx, t, vals); err != nil {
		return err
	}
	if ch.Op == protocol.OpDelete {
		vals["deleted"] = int64(1)
	}
	if err := d.write(ctx, tx, w, t, rowID, ch, ts, cur, vals); err != nil {
		return err
	}
	if creating && w.created != nil {
		w.created[ch.ID] = true
	}
	return nil
}

// requiredGiven: a field the schema requires is given on a new row and
// never emptied after (null, or for text only blanks, which is what a
// null text becomes), whoever writes it; the schema's rule, judged before
// anyone's grants, as on creation.
func requiredGiven(t *schema.Table, creating bool, vals map[string]any) error {
	for _, name := range t.Required {
		v, set := vals[name]
		if !set && !creating {
			continue
		}
		empty := v == nil
		if s, ok := v.(string); ok {
			empty = strings.TrimSpace(s) == ""
		}
		if !empty {
			continue
		}
		var rj *rejection
		if creating {
			rj = reject(protocol.CodeValidationFailed, "thiếu thông tin bắt buộc: %s (a new %s row needs %s)", name, t.Name, name)
		} else {
			rj = reject(protocol.CodeValidationFailed, "không được xoá thông tin bắt buộc: %s (%s.%s is required: it cannot be emptied)", name, t.Name, name)
		}
		rj.field = name
		return rj
	}
	return nil
}

// write merges vals into the row by per-field clocks and records the change.
func (d *DB) write(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, rowID string,
	ch protocol.Change, ts hlc.Timestamp, cur *rowState, vals map[string]any) error {
	stamp := ts.String()
	exists := cur != nil
	if !exists {
		cur = &rowState{values: map[string]any{}, clocks: map[string]fieldClock{}, table: t, id: rowID}
	}
	won := make(map[string]any, len(vals))
	var bumped map[string]string // fields won by causality, stored above the value they replaced (rare)
	previous := make(map[string]any)
	lost := make(map[string]any)
	var conflicts []conflict
	for name, v := range vals {
		fc, had := cur.clocks[name]
		fieldStamp := stamp
		if had && fc.H >= stamp {
			if !d.seen(w, fc) {
				lost[name] = v
				if d.lostTo(w, fc) && !sameValue(cur.field(name), v) {
					conflicts = append(conflicts, conflict{field: name, winner: fc, winnerValue: cur.field(name), loserValue: v, loser: stamp})
				}
				if !sameValue(cur.field(name), v) {
					if err := d.noteLost(ctx, tx, w, t, name, v, fc); err != nil {
						return err
					}
				}
				continue
			}
			// The device had pulled the value it replaces: its write is
			// causally later, whatever its clock says (a phone running
			// behind). It wins, stored with a clock just above the value it
			// replaced, so every device orders it after that value too.
			bumped := after(fc.H, ts)
			fieldStamp = bumped.String()
			d.clock.Observe(bumped)
		}
		won[name] = v
		if fieldStamp != stamp {
			if bumped == nil {
				bumped = map[string]string{}
			}
			bumped[name] = fieldStamp
		}
		if had {
			previous[name] = cur.field(name)
			if d.concurrent(w, fc) && !sameValue(cur.field(name), v) {
				conflicts = append(conflicts, conflict{field: name, winner: fieldClock{H: stamp}, winnerValue: v, loserValue: cur.field(name), loser: fc.H})
			}
		}
	}

	seq, err := logChange(ctx, tx, w, t, rowID, ch, won, previous, lost)
	if err != nil {
		return err
	}
	for _, c := range conflicts {
		if c.winner.H == stamp {
			c.winner.S = seq
		}
		if err := recordConflict(ctx, tx, t.Name, rowID, c, w.now); err != nil {
			return err
		}
	}
	if len(won) == 0 {
		return nil
	}
	if exists && movesScope(t, cur, won) {
		if err := recordMove(ctx, tx, t, rowID, seq, cur); err != nil {
			return err
		}
		if err := restampChildren(ctx, tx, t, rowID, seq); err != nil {
			return err
		}
	}
	for name, v := range won {
		h := stamp
		if b, ok := bumped[name]; ok {
			h = b
		}
		cur.clocks[name] = fieldClock{H: h, S: seq}
		if name == "deleted" {
			cur.deleted = v == int64(1)
		} else {
			cur.values[name] = v
		}
		if h > cur.version {
			cur.version = h
		}
	}
	cur.seq = seq
	tx.changed(cur, won)
	return nil
}

// noteLost tells the pushing device that its value for one field did not
// win: another device wrote the field with a later clock, and this device
// had not pulled that write. The user gets it back from the notice; the
// winner stands. Losing to one's own later write, or to the same value,
// is no news.
func (d *DB) noteLost(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, field string, v any, winner fieldClock) error {
	if w.server || nodeOf(winner.H) == w.actor.DeviceID {
		return nil
	}
	var wire any
	if f, ok := t.Field(field); ok {
		wire = f.FromSQL(v)
	} else {
		wire = v != nil && v != int64(0) // deleted
	}
	lv, err := lostValue(ctx, tx, field, wire, winner)
	if err != nil {
		return err
	}
	w.lost = append(w.lost, lv)
	return nil
}

// lostValue describes one lost value (in wire form) with who wrote the
// winner and when.
func lostValue(ctx context.Context, tx *wtx, field string, wire any, winner fieldClock) (protocol.LostValue, error) {
	lv := protocol.LostValue{Field: field, Value: wire, HLC: winner.H}
	if ts, err := hlc.Parse(winner.H); err == nil {
		lv.At = ts.Time().Format(time.RFC3339Nano)
	}
	var user, name sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT c.user_id, u.full_name FROM change_log c
		LEFT JOIN users u ON u.id = c.user_id WHERE c.seq = ?`, winner.S).Scan(&user, &name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return lv, fmt.Errorf("look up the writer of %s: %w", field, err)
	}
	lv.By, lv.ByName = user.String, name.String
	return lv, nil
}

func nodeOf(h string) string { return h[strings.LastIndexByte(h, '.')+1:] }

// changeBase sets what the change had seen of its row (docs/protocol.md,
// "Merge"): the sequence its own base names, when it carries one (a row
// the device read over the API); else the push's base_cursor, but only for
// a row the pusher's pull serves. A device pulls nothing else, so its
// cursor says nothing of the rows its user reads over the API only
// (headquarters in the console): such a change without a base has seen
// nothing, and its writes are ordered by clock.
func (d *DB) changeBase(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, ch protocol.Change, cur *rowState) error {
	w.baseSeq, w.hasBase = 0, false
	if w.server {
		return nil
	}
	if ch.Base != "" {
		c, err := parseCursor(ch.Base)
		switch {
		case err == nil && c.scope == legacyRowBase:
			// A base given before bases named their row: it cannot be told
			// from one of another row, so it vouches for nothing.
		case err != nil || c.scope != rowTag(t.Name, strings.ToLower(ch.RowID)) || c.seq > w.logEnd:
			rj := reject(protocol.CodeValidationFailed, "base is not a base this server gave for this row")
			rj.field = "base"
			return rj
		default:
			w.baseSeq, w.hasBase = c.seq, true
			return nil
		}
	}
	seq, ok, err := pulledUpTo(ctx, tx, w, t, cur)
	if err != nil || !ok {
		return err
	}
	w.baseSeq, w.hasBase = seq, true
	return nil
}

// pulledUpTo is what the pushing device had pulled of the stored row cur:
// every write up to its push's base_cursor, when it sent one and its pull
// serves the row (ok false: the push says nothing of the row).
func pulledUpTo(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, cur *rowState) (seq int64, ok bool, err error) {
	if w.server || !w.hasCursor {
		return 0, false, nil
	}
	served, err := pullServes(ctx, tx, w.actor, t, cur)
	if err != nil || !served {
		return 0, false, err
	}
	return w.cursorSeq, true, nil
}

// pullServes reports whether a's pull serves the stored row cur: always
// when a reads nothing of t over the API only (their pull is their whole
// read scope), and a row not stored yet has nothing to have seen.
func pullServes(ctx context.Context, tx *wtx, a Actor, t *schema.Table, cur *rowState) (bool, error) {
	if cur == nil || !readsOverAPIOnly(a, t) {
		return true, nil
	}
	pulled, args := scopeClause(a, t)
	if pulled == "TRUE" {
		return true, nil
	}
	// The scope is SQL over the file: write what this transaction merged
	// so far, so the row is judged as it now stands.
	if err := tx.flush(ctx); err != nil {
		return false, err
	}
	var ok bool
	err := tx.tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+" r WHERE r.id = :row AND ("+pulled+"))",
		append(args, sql.Named("row", cur.id))...).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check the pull serves %s %s: %w", t.Name, cur.id, err)
	}
	return ok, nil
}

// readsOverAPIOnly reports whether a matches a read scope of t marked API
// (read in the console, never pulled): only then can a row a may read be
// one their pull does not serve. Judged from the spec, without building
// the scope's SQL, as it runs for every change pushed.
func readsOverAPIOnly(a Actor, t *schema.Table) bool {
	for _, s := range specs[t.Name].Read {
		if s.API && a.mayMatch(s) {
			return true
		}
	}
	return false
}

// RowBase is the base of the row id of table read over the API at
// sequence seq (its seq column): a change made from that read carries it
// (protocol Change Base), and the server takes it as having seen every
// write of the row up to seq. It has the cursor's shape, so one parser
// reads both, and names its row in place of a scope, so that a base is
// taken for that row only.
func RowBase(table, id string, seq int64) string {
	return cursor{seq: seq, scope: rowTag(table, strings.ToLower(id))}.String()
}

// rowTag names a row in its bases: a digest of its table and id. It is a
// check against a base sent with another row's change, not a secret: a
// device that may read the row can read its base.
func rowTag(table, id string) string {
	sum := sha256.Sum256([]byte(table + "/" + id))
	return "r" + hex.EncodeToString(sum[:8])
}

// legacyRowBase is the place of the row tag in the bases given before
// they named their row.
const legacyRowBase = "row"

// seen reports whether the pushing device had pulled the stored write fc
// before making its change: its pull cursor (base_cursor) is at or past the
// change-log sequence that wrote the field. A write made after seeing a
// value is causally after it (docs/protocol.md, "Causality"). Server edits
// and pushes without a base cursor are ordered by clock alone.
func (d *DB) seen(w *writeCtx, fc fieldClock) bool {
	return !w.server && w.hasBase && fc.S <= w.baseSeq
}

// after is the smallest clock above h on the writer's node: same
// millisecond, next counter (the next millisecond when the counter is
// full). An unreadable h (stored clocks were parsed on the way in, so only
// a damaged file) leaves the write's own stamp.
func after(h string, write hlc.Timestamp) hlc.Timestamp {
	ts, err := hlc.Parse(h)
	if err != nil {
		return write
	}
	ts.Node = write.Node
	if ts.Counter++; ts.Counter > hlc.MaxCounter {
		ts.Millis, ts.Counter = ts.Millis+1, 0
	}
	return ts
}

// concurrent reports whether the stored write fc was made by another device
// without the pushing device having seen it: a true conflict, worth review.
func (d *DB) concurrent(w *writeCtx, fc fieldClock) bool {
	if w.server {
		return false
	}
	node := nodeOf(fc.H)
	if node == w.actor.DeviceID || isServerNode(node) {
		return false
	}
	if w.hasBase {
		return fc.S > w.baseSeq
	}
	// Without a base the push says nothing of what the device had seen: a
	// change that won over a value may have been made after seeing it.
	// Only one that lost can be called concurrent (lostTo).
	return false
}

// lostTo reports whether the pushing change's value, which lost to the
// stored write fc that its device had not seen, lost to another device: a
// conflict, recorded for review like the lost value it answers
// (docs/protocol.md, Merge, Concurrency), with or without a base.
func (d *DB) lostTo(w *writeCtx, fc fieldClock) bool {
	if w.server {
		return false
	}
	node := nodeOf(fc.H)
	return node != w.actor.DeviceID && !isServerNode(node)
}

func (r *rowState) field(name string) any {
	if name == "deleted" {
		if r.deleted {
			return int64(1)
		}
		return int64(0)
	}
	return r.values[name]
}

func sameValue(a, b any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// loadRow reads a row's fields and sync columns, as this transaction has
// made them so far; nil when absent.
func loadRow(ctx context.Context, tx *wtx, t *schema.Table, id string) (*rowState, error) {
	if r, ok := tx.rows[t.Name+"/"+id]; ok {
		return r, nil
	}
	cols := t.Columns()
	q := "SELECT " + strings.Join(cols, ", ") + ", deleted, version, clocks FROM " + t.Name + " WHERE id = ?"
	dest := make([]any, len(cols)+3)
	raw := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var deleted int64
	var version, clocks string
	dest[len(cols)], dest[len(cols)+1], dest[len(cols)+2] = &deleted, &version, &clocks
	err := tx.QueryRowContext(ctx, q, id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil //nolint:nilnil // absence is a normal answer here: the change creates the row
	}
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", t.Name, id, err)
	}
	r := &rowState{values: make(map[string]any, len(cols)), deleted: deleted != 0, version: version,
		table: t, id: id, inDB: true}
	for i, c := range cols {
		r.values[c] = raw[i]
	}
	if err := json.Unmarshal([]byte(clocks), &r.clocks); err != nil {
		return nil, fmt.Errorf("decode clocks of %s %s: %w", t.Name, id, err)
	}
	if r.clocks == nil {
		r.clocks = map[string]fieldClock{}
	}
	tx.rows[t.Name+"/"+id] = r
	return r, nil
}

// flushRow writes a row's changed fields and its sync columns: an INSERT
// for a new row, an UPDATE of the changed columns for an existing one (an
// INSERT would trip NOT NULL columns the changes did not carry).
func flushRow(ctx context.Context, tx *wtx, r *rowState) error {
	if !r.inDB {
		return insertRows(ctx, tx, []*rowState{r})
	}
	cols := dirtyColumns(r)
	set := make([]string, 0, len(cols)+3)
	args := make([]any, 0, len(cols)+4)
	for _, c := range cols {
		set = append(set, c+" = ?")
		args = append(args, r.field(c))
	}
	set = append(set, "version = ?", "clocks = ?", "seq = ?")
	args = append(args, r.version, encodeClocks(r.clocks), r.seq, r.id)
	q := "UPDATE " + r.table.Name + " SET " + strings.Join(set, ", ") + " WHERE id = ?"
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("write %s %s: %w", r.table.Name, r.id, err)
	}
	clear(r.dirty)
	return nil
}

// dirtyColumns is the fields of r changed since its last write, in a fixed
// order: one statement text per column set, so the prepared statement is
// reused across the batch.
func dirtyColumns(r *rowState) []string {
	cols := make([]string, 0, len(r.dirty))
	for name := range r.dirty {
		cols = append(cols, name) // names come from the schema (checked in merge)
	}
	slices.Sort(cols)
	return cols
}

// insertRows inserts rows not yet in the store, of one table and writing
// the same columns (wtx.flush), with one statement, in order.
func insertRows(ctx context.Context, tx *wtx, rows []*rowState) error {
	first := rows[0]
	cols := dirtyColumns(first)
	one := "(?" + strings.Repeat(", ?", len(cols)+3) + ")"
	colList := ""
	if len(cols) > 0 {
		colList = ", " + strings.Join(cols, ", ")
	}
	q := "INSERT INTO " + first.table.Name + " (id" + colList + ", version, clocks, seq) VALUES " +
		one + strings.Repeat(", "+one, len(rows)-1)
	args := make([]any, 0, len(rows)*(len(cols)+4))
	for _, r := range rows {
		args = append(args, r.id)
		for _, c := range cols {
			args = append(args, r.field(c))
		}
		args = append(args, r.version, encodeClocks(r.clocks), r.seq)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		if len(rows) == 1 {
			return fmt.Errorf("write %s %s: %w", first.table.Name, first.id, err)
		}
		return fmt.Errorf("write %d rows of %s from %s: %w", len(rows), first.table.Name, first.id, err)
	}
	for _, r := range rows {
		r.inDB = true
		clear(r.dirty)
	}
	return nil
}

func logChange(ctx context.Context, tx *wtx, w *writeCtx, t *schema.Table, rowID string,
	ch protocol.Change, won, previous, lost map[string]any) (int64, error) {
	applied, prev, lostJS := encodeValues(t, won), encodeValues(t, previous), encodeValues(t, lost)
	var user any
	if w.actor.UserID != "" {
		user = w.actor.UserID
	}
	received := w.now.Format(time.RFC3339Nano)
	if tx.dialect == store.SQLite {
		// The writer numbers the entry and queues it (wtx.flushLog).
		seq, err := tx.takeSeq(ctx)
		if err != nil {
			return 0, err
		}
		err = tx.queueLog(ctx, seq, ch.ID, t.Name, rowID, string(ch.Op), ch.HLC, user, w.actor.DeviceID,
			received, applied, prev, lostJS)
		if err != nil {
			return 0, err
		}
		return seq, nil
	}
	// On PostgreSQL the sequence is taken under the writer lock
	// (store.InTx), so in commit order (docs/postgres.md), and read back
	// with RETURNING.
	var seq int64
	err := tx.QueryRowContext(ctx, `INSERT INTO change_log
		(change_id, tbl, row_id, op, hlc, user_id, device_id, received_at, applied, previous, lost)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		ch.ID, t.Name, rowID, string(ch.Op), ch.HLC, user, w.actor.DeviceID, received, applied, prev, lostJS).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("log change %s: %w", ch.ID, err)
	}
	return seq, nil
}

type conflict struct {
	field       string
	winner      fieldClock
	winnerValue any
	loser       string
	loserValue  any
}

func recordConflict(ctx context.Context, tx *wtx, table, rowID string, c conflict, now time.Time) error {
	userOf := func(device string) any {
		var u sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT user_id FROM devices WHERE id = ?", device).Scan(&u); err != nil || !u.Valid {
			return nil
		}
		return u.String
	}
	str := func(v any) any {
		if v == nil {
			return nil
		}
		return fmt.Sprint(v)
	}
	wd, ld := nodeOf(c.winner.H), nodeOf(c.loser)
	_, err := tx.ExecContext(ctx, `INSERT INTO conflicts
		(tbl, row_id, field, winner_value, winner_hlc, winner_user, winner_device,
		 loser_value, loser_hlc, loser_user, loser_device, detected_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		table, rowID, c.field, str(c.winnerValue), c.winner.H, userOf(wd), wd,
		str(c.loserValue), c.loser, userOf(ld), ld, now.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("record conflict on %s %s.%s: %w", table, rowID, c.field, err)
	}
	return nil
}

// checkRefs rejects a change naming a row that does not exist.
func checkRefs(ctx context.Context, tx *wtx, t *schema.Table, vals map[string]any) error {
	for name, v := range vals {
		f, ok := t.Field(name)
		if !ok || f.Ref == "" || v == nil {
			continue
		}
		var ids []string
		switch f.Type {
		case schema.ID:
			ids = []string{v.(string)}
		case schema.List:
			if err := json.Unmarshal([]byte(v.(string)), &ids); err != nil {
				return fmt.Errorf("decode %s: %w", name, err)
			}
		}
		for _, id := range ids {
			key := f.Ref + "/" + id
			if _, ok := tx.exists[key]; ok {
				continue
			}
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+f.Ref+" WHERE id = ?", id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				rj := reject(protocol.CodeValidationFailed, "%s: no %s row %s", name, f.Ref, id)
				rj.field = name
				return rj
			}
			if err != nil {
				return fmt.Errorf("check %s %s: %w", f.Ref, id, err)
			}
			tx.exists[key] = struct{}{}
		}
	}
	return nil
}
