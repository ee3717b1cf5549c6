package client

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// ValidationError is a local edit the schema refuses; nothing was written.
type ValidationError struct {
	Table, Field, Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "client: " + e.Table + ": " + e.Message
	}
	return "client: " + e.Table + "." + e.Field + ": " + e.Message
}

// Upsert writes fields of a row (creating it when the device has none) and
// queues the change for the server, in one transaction. Values are wire
// values (strings, numbers, bools, string lists, nil); they are checked
// against the schema here, while who may write what is the server's call.
// A new row of a table with an owner field gets the logged-in user as owner
// unless fields name one. It returns the change id.
func (d *Device) Upsert(ctx context.Context, table, rowID string, fields map[string]any) (string, error) {
	return d.writeOne(ctx, Edit{Table: table, RowID: rowID, Fields: fields})
}

// Delete tombstones a row and queues the change, in one transaction.
func (d *Device) Delete(ctx context.Context, table, rowID string) (string, error) {
	return d.writeOne(ctx, Edit{Table: table, RowID: rowID, Delete: true})
}

func (d *Device) writeOne(ctx context.Context, e Edit) (string, error) {
	ids, err := d.Write(ctx, []Edit{e})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// normalize checks fields against the schema and returns them as plain
// JSON values (a Go int becomes a JSON number, and so on).
func normalize(t *schema.Table, fields map[string]any) (map[string]any, error) {
	if len(fields) == 0 {
		return nil, &ValidationError{Table: t.Name, Message: "an upsert needs at least one field"}
	}
	wire, plain := plainCopy(fields)
	if !plain {
		b, err := json.Marshal(fields)
		if err != nil {
			return nil, &ValidationError{Table: t.Name, Message: "fields are not JSON values: " + err.Error()}
		}
		if err := json.Unmarshal(b, &wire); err != nil {
			return nil, fmt.Errorf("client: re-read fields: %w", err)
		}
	}
	for name, v := range wire {
		f, ok := t.Field(name)
		if !ok {
			return nil, &ValidationError{Table: t.Name, Field: name, Message: "no such field"}
		}
		if f.Computed {
			return nil, &ValidationError{Table: t.Name, Field: name, Message: "computed by the server"}
		}
		if _, err := f.ToSQL(v); err != nil {
			return nil, &ValidationError{Table: t.Name, Field: name, Message: err.Error()}
		}
	}
	return wire, nil
}

// plainCopy is a copy of fields when every value is already what JSON
// would read back (a string of valid UTF-8, a finite float64, a bool,
// nil), as most edits' values are: encoding and decoding them, which gives
// the same values, was a tenth of a local write. plain is false
// otherwise, and fields go through JSON.
func plainCopy(fields map[string]any) (out map[string]any, plain bool) {
	for _, v := range fields {
		switch x := v.(type) {
		case nil, bool:
		case string:
			if !utf8.ValidString(x) {
				return nil, false
			}
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return maps.Clone(fields), true
}

// Edit is one edit of Write: an upsert of Fields, or a delete.
type Edit struct {
	Table, RowID string
	Fields       map[string]any // an upsert's values, as for Upsert
	Delete       bool
}

// Write makes several edits in one transaction, in order, as Upsert and
// Delete would one by one: all are kept or, if one is refused, none (a
// form that saves a note and its findings together). It returns the
// change ids.
func (d *Device) Write(ctx context.Context, edits []Edit) ([]string, error) {
	type checked struct {
		t      *schema.Table
		id     string
		op     protocol.Op
		fields map[string]any
	}
	all := make([]checked, 0, len(edits))
	for _, e := range edits {
		t, err := lookup(e.Table)
		if err != nil {
			return nil, err
		}
		if t.Reference && (e.Delete || !t.Proposed) {
			return nil, &ValidationError{Table: t.Name, Message: "reference data is edited by administrators, not pushed by devices"}
		}
		c := checked{t: t, id: strings.ToLower(e.RowID), op: protocol.OpDelete}
		if !e.Delete {
			if c.fields, err = normalize(t, e.Fields); err != nil {
				return nil, err
			}
			c.op = protocol.OpUpsert
		}
		if !schema.ValidID(e.RowID) {
			return nil, &ValidationError{Table: t.Name, Field: "id", Message: "row id must be a UUID"}
		}
		all = append(all, c)
	}
	uid := d.UserID()
	var ids []string
	err := d.inTx(ctx, func(x txn) error {
		ids = ids[:0]
		b := editBatch{x: x, uid: uid}
		touched := make([]rowKey, len(all))
		for i, c := range all {
			touched[i] = rowKey{table: c.t.Name, id: c.id}
		}
		if err := b.read(touched); err != nil {
			return err
		}
		for _, c := range all {
			id, err := d.writeIn(&b, c.t, c.id, c.op, c.fields)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return b.finish()
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// editBatch is the edits of one transaction: each row is read once and
// written once at finish, however many edits it takes (a note autosaved
// in a batch), and the device's clock is saved once.
type editBatch struct {
	x      txn
	uid    string
	cursor *string // the pull cursor, read once
	rows   map[string]*editedRow
	order  []*editedRow
	hlc    string // the last stamp given
	// queued holds the outbox entries not yet inserted, as qQueue's
	// arguments: they go queueBatch to a statement, in the order made
	// (nothing reads the outbox before finish).
	queued []any
}

// queueArgs is how many arguments one outbox entry takes in qQueue.
const queueArgs = 8

// queue adds one entry to the outbox, in order.
func (b *editBatch) queue(args ...any) error {
	b.queued = append(b.queued, args...)
	if len(b.queued) < queueBatch*queueArgs {
		return nil
	}
	if _, err := b.x.exec(qQueueN, b.queued...); err != nil {
		return fmt.Errorf("client: queue %d changes: %w", queueBatch, err)
	}
	b.queued = b.queued[:0]
	return nil
}

type editedRow struct {
	t   *schema.Table
	id  string
	cur rowState
}

// read reads the rows the batch's edits touch, as row would one by one,
// with one statement a table, and keeps the server's state of those that
// need it with one statement for sixteen rows.
func (b *editBatch) read(touched []rowKey) error {
	var tables []*schema.Table
	ids := map[*schema.Table][]string{}
	seen := map[rowKey]bool{}
	for _, k := range touched {
		t, ok := schema.Lookup(k.table)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		if ids[t] == nil {
			tables = append(tables, t)
		}
		ids[t] = append(ids[t], k.id)
	}
	if b.rows == nil {
		b.rows = map[string]*editedRow{}
	}
	var keep []*keptRow
	for _, t := range tables {
		list, err := json.Marshal(ids[t])
		if err != nil {
			return fmt.Errorf("client: encode row ids: %w", err)
		}
		cur := make(map[string]rowState, len(ids[t]))
		if err := readRows(b.x, t, string(list), func(id string, r rowState) { cur[id] = r }); err != nil {
			return err
		}
		kept := map[string]bool{}
		if err := serverRows(b.x, t, string(list), func(id string, _ rowState) { kept[id] = true }); err != nil {
			return err
		}
		for _, id := range ids[t] {
			r := &editedRow{t: t, id: id, cur: cur[id]}
			b.rows[t.Name+"/"+id] = r
			b.order = append(b.order, r)
			// See row.
			if !kept[id] {
				keep = append(keep, &keptRow{t: t, id: id, srv: r.cur})
			}
		}
	}
	return keepServerRows(b.x, keep)
}

// row is row id of t as the batch has it so far.
func (b *editBatch) row(t *schema.Table, id string) (*editedRow, error) {
	key := t.Name + "/" + id
	if r, ok := b.rows[key]; ok {
		return r, nil
	}
	cur, err := readRow(b.x, t, id)
	if err != nil {
		return nil, err
	}
	// With no entries queued the row is the server's as last pulled:
	// keep that, to rebuild the row should the server refuse the edit.
	if _, kept, err := serverRow(b.x, t, id); err != nil {
		return nil, err
	} else if !kept {
		if err := keepServerRow(b.x, t, id, cur); err != nil {
			return nil, err
		}
	}
	r := &editedRow{t: t, id: id, cur: cur}
	if b.rows == nil {
		b.rows = map[string]*editedRow{}
	}
	b.rows[key] = r
	b.order = append(b.order, r)
	return r, nil
}

// finish queues the remaining outbox entries and writes the edited rows
// and the device's clock.
func (b *editBatch) finish() error {
	for rest := b.queued; len(rest) > 0; rest = rest[queueArgs:] {
		if _, err := b.x.exec(qQueue, rest[:queueArgs]...); err != nil {
			return fmt.Errorf("client: queue change %v: %w", rest[0], err)
		}
	}
	b.queued = b.queued[:0]
	// The present rows of a table go writeBatch to a statement; the rest
	// (fewer than writeBatch, or removed) one by one.
	var tables []*schema.Table
	present := map[*schema.Table][]*editedRow{}
	for _, r := range b.order {
		if !r.cur.present {
			if err := writeRow(b.x, r.t, r.id, r.cur); err != nil {
				return err
			}
			continue
		}
		if present[r.t] == nil {
			tables = append(tables, r.t)
		}
		present[r.t] = append(present[r.t], r)
	}
	for _, t := range tables {
		rest := present[t]
		for ; len(rest) >= writeBatch; rest = rest[writeBatch:] {
			args := make([]any, 0, writeBatch*(len(t.Columns())+3))
			for _, r := range rest[:writeBatch] {
				args = appendRowArgs(args, t, r.id, r.cur)
			}
			if _, err := b.x.exec(writeRowsSQL(t, writeBatch), args...); err != nil {
				return fmt.Errorf("client: write %d rows of %s: %w", writeBatch, t.Name, err)
			}
		}
		for _, r := range rest {
			if err := writeRow(b.x, t, r.id, r.cur); err != nil {
				return err
			}
		}
	}
	if b.hlc == "" {
		return nil
	}
	return setState(b.x, keyHLC, b.hlc)
}

// writeIn makes one edit of row id in the batch and queues its change.
func (d *Device) writeIn(b *editBatch, t *schema.Table, id string, op protocol.Op, fields map[string]any) (string, error) {
	// Time-ordered (version 7): the server's change-id index grows at its
	// end rather than on a random page (docs/architecture.md).
	changeID := uuid.Must(uuid.NewV7()).String()
	r, err := b.row(t, id)
	if err != nil {
		return "", err
	}
	if op == protocol.OpUpsert && !r.cur.present && t.Owner != "" {
		if _, set := fields[t.Owner]; !set {
			if b.uid != "" {
				fields[t.Owner] = b.uid
			}
		}
	}
	if b.cursor == nil {
		st, err := state(b.x, keyCursor)
		if err != nil {
			return "", err
		}
		c := st[keyCursor]
		b.cursor = &c
	}
	ts := d.stamp()
	e := entry{changeID: changeID, table: t.Name, rowID: id, op: op, hlc: ts.String(), fields: fields}
	body := "{}"
	if len(fields) > 0 {
		bs, err := json.Marshal(fields)
		if err != nil {
			return "", fmt.Errorf("client: encode change: %w", err)
		}
		body = string(bs)
	}
	if err := b.queue(changeID, t.Name, id, string(op), e.hlc, body, *b.cursor, nowText(d.now())); err != nil {
		return "", err
	}
	lay(t, &r.cur, e) // the batch's own copy of the row, read by row
	b.hlc = e.hlc
	return changeID, nil
}

// Rejection is a change the server refused, kept for the user to see.
type Rejection struct {
	ChangeID string
	Table    string
	RowID    string
	Op       protocol.Op
	HLC      string
	Fields   map[string]any
	Code     string // protocol.Code*
	Message  string // the server's sentence, for the user
	At       time.Time
}

// Rejected lists the changes the server refused, oldest first.
func (d *Device) Rejected(ctx context.Context) ([]Rejection, error) {
	rs, err := d.db.QueryContext(ctx, `SELECT change_id, tbl, row_id, op, hlc, fields, code, message, at
		FROM rejected ORDER BY at, change_id`)
	if err != nil {
		return nil, fmt.Errorf("client: list rejected: %w", err)
	}
	defer rs.Close()
	var out []Rejection
	for rs.Next() {
		var r Rejection
		var op, fields, at string
		if err := rs.Scan(&r.ChangeID, &r.Table, &r.RowID, &op, &r.HLC, &fields, &r.Code, &r.Message, &at); err != nil {
			return nil, fmt.Errorf("client: list rejected: %w", err)
		}
		r.Op = protocol.Op(op)
		if err := json.Unmarshal([]byte(fields), &r.Fields); err != nil {
			return nil, fmt.Errorf("client: decode rejected %s: %w", r.ChangeID, err)
		}
		r.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("client: list rejected: %w", err)
	}
	return out, nil
}

// Dismiss removes a rejection the user has seen.
func (d *Device) Dismiss(ctx context.Context, changeID string) error {
	return d.inTx(ctx, func(x txn) error {
		if _, err := x.exec("DELETE FROM rejected WHERE change_id = ?", changeID); err != nil {
			return fmt.Errorf("client: dismiss %s: %w", changeID, err)
		}
		return nil
	})
}

// LostValue is one value of this device's that lost to a concurrent write
// with a later clock: another device changed the field before this one had
// pulled it. The row holds the winner; the notice keeps the user's text.
type LostValue struct {
	ChangeID string
	Table    string
	RowID    string
	Field    string
	Value    any       // what this device had written
	By       string    // user id of the winning write, when known
	ByName   string    // their full name, when known
	At       time.Time // when the winning write was made (its clock)
	HLC      string    // the winning write's clock
}

// keepLost records the lost values of one acknowledged change.
func keepLost(x txn, e entry, lost []protocol.LostValue) error {
	for _, l := range lost {
		v, err := json.Marshal(l.Value)
		if err != nil {
			return fmt.Errorf("client: encode lost value: %w", err)
		}
		if _, err := x.exec(`INSERT OR REPLACE INTO lost (change_id, field, tbl, row_id, value, by_user, by_name, won_at, hlc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.changeID, l.Field, e.table, e.rowID, string(v), l.By, l.ByName, l.At, l.HLC); err != nil {
			return fmt.Errorf("client: keep lost value of %s: %w", e.changeID, err)
		}
	}
	return nil
}

// Lost lists the values of this device's that lost to concurrent writes,
// oldest change first.
func (d *Device) Lost(ctx context.Context) ([]LostValue, error) {
	rs, err := d.db.QueryContext(ctx, `SELECT change_id, tbl, row_id, field, value, by_user, by_name, won_at, hlc
		FROM lost ORDER BY hlc, change_id, field`)
	if err != nil {
		return nil, fmt.Errorf("client: list lost values: %w", err)
	}
	defer rs.Close()
	var out []LostValue
	for rs.Next() {
		var l LostValue
		var value, at string
		if err := rs.Scan(&l.ChangeID, &l.Table, &l.RowID, &l.Field, &value, &l.By, &l.ByName, &at, &l.HLC); err != nil {
			return nil, fmt.Errorf("client: list lost values: %w", err)
		}
		if err := json.Unmarshal([]byte(value), &l.Value); err != nil {
			return nil, fmt.Errorf("client: decode lost value of %s: %w", l.ChangeID, err)
		}
		l.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, l)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("client: list lost values: %w", err)
	}
	return out, nil
}

// DismissLost removes a lost-value notice the user has dealt with.
func (d *Device) DismissLost(ctx context.Context, changeID, field string) error {
	return d.inTx(ctx, func(x txn) error {
		if _, err := x.exec("DELETE FROM lost WHERE change_id = ? AND field = ?", changeID, field); err != nil {
			return fmt.Errorf("client: dismiss lost value of %s: %w", changeID, err)
		}
		return nil
	})
}

// Pending counts the changes not yet confirmed by the server.
func (d *Device) Pending(ctx context.Context) (int, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pending").Scan(&n); err != nil {
		return 0, fmt.Errorf("client: count pending: %w", err)
	}
	return n, nil
}

// reject moves an outbox entry to the rejected list and rebuilds its row
// without it.
func reject(x txn, e entry, code, message string, at time.Time) error {
	body, err := json.Marshal(e.fields)
	if err != nil {
		return fmt.Errorf("client: encode rejected change: %w", err)
	}
	if e.fields == nil {
		body = []byte("{}")
	}
	_, err = x.exec(`INSERT OR REPLACE INTO rejected (change_id, tbl, row_id, op, hlc, fields, code, message, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.changeID, e.table, e.rowID, string(e.op), e.hlc, string(body), code, message, nowText(at))
	if err != nil {
		return fmt.Errorf("client: keep rejected change %s: %w", e.changeID, err)
	}
	if _, err := x.exec("DELETE FROM outbox WHERE change_id = ?", e.changeID); err != nil {
		return fmt.Errorf("client: drop rejected change %s: %w", e.changeID, err)
	}
	t, ok := schema.Lookup(e.table)
	if !ok {
		return nil
	}
	return rebuild(x, t, e.rowID)
}
