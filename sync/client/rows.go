package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// Row is one row as the device holds it.
type Row struct {
	Table   string
	ID      string
	Fields  map[string]any // wire names and wire types (lists as []string)
	Deleted bool
	Version string // highest HLC of the row's fields
}

// rowState is a row in SQL values: what a synced table stores.
type rowState struct {
	present bool
	values  map[string]any // by column; SQL values
	deleted bool
	version string
}

// entry is one outbox entry.
type entry struct {
	seq        int64
	changeID   string
	table      string
	rowID      string
	op         protocol.Op
	hlc        string
	fields     map[string]any // wire values
	baseCursor string
	acked      bool
}

func (e entry) change() protocol.Change {
	return protocol.Change{ID: e.changeID, Table: e.table, RowID: e.rowID, Op: e.op, HLC: e.hlc, Fields: e.fields}
}

// fromWire converts a pulled row's fields (trusted: the server wrote them)
// to SQL values. Unknown fields are ignored, missing ones are NULL.
func fromWire(t *schema.Table, fields map[string]any) map[string]any {
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		out[f.Name] = wireToSQL(&f, fields[f.Name])
	}
	return out
}

func wireToSQL(f *schema.Field, v any) any {
	switch x := v.(type) {
	case nil:
		if f.Type == schema.List {
			return "[]"
		}
		return nil
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case float64:
		if f.Type == schema.Int || f.Type == schema.Bool {
			return int64(x)
		}
		return x
	case int64:
		return x
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// toWire converts SQL values to wire values.
func toWire(t *schema.Table, values map[string]any) map[string]any {
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		out[f.Name] = f.FromSQL(values[f.Name])
	}
	return out
}

// localValue is the SQL value of a field the device wrote (checked when it
// entered the outbox).
func localValue(f *schema.Field, v any) any {
	sv, err := f.ToSQL(v)
	if err != nil {
		return wireToSQL(f, v)
	}
	return sv
}

// emptyRow is what a row looks like when the device creates it: the empty
// value of each field, as the server stores a field it was not sent.
func emptyRow(t *schema.Table) map[string]any {
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		v, err := f.ToSQL(nil)
		if err != nil {
			v = nil
		}
		out[f.Name] = v
	}
	return out
}

// overlay lays outbox entries, in order, on top of a server row. An upsert
// sets its fields (and never undeletes: deleted merges like any field); a
// delete sets the tombstone.
func overlay(t *schema.Table, base rowState, entries []entry) rowState {
	r := rowState{present: base.present, deleted: base.deleted, version: base.version, values: make(map[string]any, len(t.Fields))}
	for k, v := range base.values {
		r.values[k] = v
	}
	for _, e := range entries {
		lay(t, &r, e)
	}
	return r
}

// lay lays one outbox entry on r, in place (see overlay).
func lay(t *schema.Table, r *rowState, e entry) {
	if !r.present {
		r.present, r.values = true, emptyRow(t)
	}
	switch e.op {
	case protocol.OpDelete:
		r.deleted = true
	default:
		for name, v := range e.fields {
			if f, ok := t.Field(name); ok {
				r.values[name] = localValue(f, v)
			}
		}
	}
	if e.hlc > r.version {
		r.version = e.hlc
	}
}

// readRow reads a row of a synced table.
func readRow(x txn, t *schema.Table, id string) (rowState, error) {
	cols := t.Columns()
	raw := make([]any, len(cols))
	dest := make([]any, 0, len(cols)+2)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	var deleted int64
	var version string
	dest = append(dest, &deleted, &version)
	err := x.queryRow(readRowSQL(t), id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return rowState{}, nil
	}
	if err != nil {
		return rowState{}, fmt.Errorf("client: read %s %s: %w", t.Name, id, err)
	}
	r := rowState{present: true, deleted: deleted != 0, version: version, values: make(map[string]any, len(cols))}
	for i, c := range cols {
		r.values[c] = raw[i]
	}
	return r, nil
}

// readRows reads the rows of a synced table whose ids are listed in ids (a
// JSON array), giving each one held to fn.
func readRows(x txn, t *schema.Table, ids string, fn func(id string, r rowState)) error {
	rs, err := x.query(readRowsSQL(t), ids)
	if err != nil {
		return fmt.Errorf("client: read %s rows: %w", t.Name, err)
	}
	defer rs.Close()
	cols := t.Columns()
	raw := make([]any, len(cols))
	var id, version string
	var deleted int64
	dest := make([]any, 0, len(cols)+3)
	dest = append(dest, &id)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	dest = append(dest, &deleted, &version)
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			return fmt.Errorf("client: read %s rows: %w", t.Name, err)
		}
		r := rowState{present: true, deleted: deleted != 0, version: version, values: make(map[string]any, len(cols))}
		for i, c := range cols {
			r.values[c] = raw[i]
		}
		fn(id, r)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("client: read %s rows: %w", t.Name, err)
	}
	return nil
}

// writeRow stores a row's state in its synced table (an absent state
// removes the row).
func writeRow(x txn, t *schema.Table, id string, r rowState) error {
	if !r.present {
		if _, err := x.exec(removeRowSQL(t), id); err != nil {
			return fmt.Errorf("client: remove %s %s: %w", t.Name, id, err)
		}
		return nil
	}
	if _, err := x.exec(writeRowSQL(t), appendRowArgs(nil, t, id, r)...); err != nil {
		return fmt.Errorf("client: write %s %s: %w", t.Name, id, err)
	}
	return nil
}

// appendRowArgs appends a present row's values in writeRowSQL's order.
func appendRowArgs(args []any, t *schema.Table, id string, r rowState) []any {
	args = append(args, id)
	for _, c := range t.Columns() {
		args = append(args, r.values[c])
	}
	deleted := int64(0)
	if r.deleted {
		deleted = 1
	}
	return append(args, deleted, r.version)
}

// serverRow reads the kept server state of a row; ok is false when none is
// kept (the row has no outbox entries).
func serverRow(x txn, t *schema.Table, id string) (rowState, bool, error) {
	var present, deleted int64
	var fields, version string
	err := x.queryRow(qServerRow, t.Name, id).Scan(&present, &fields, &deleted, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return rowState{}, false, nil
	}
	if err != nil {
		return rowState{}, false, fmt.Errorf("client: read server state of %s %s: %w", t.Name, id, err)
	}
	srv, err := keptState(t, id, present, fields, deleted, version)
	return srv, err == nil, err
}

// serverRows reads the kept server states of the rows of t whose ids are
// listed in ids (a JSON array), giving each kept one to fn.
func serverRows(x txn, t *schema.Table, ids string, fn func(id string, srv rowState)) error {
	rs, err := x.query(qServerRows, t.Name, ids)
	if err != nil {
		return fmt.Errorf("client: read server state of %s rows: %w", t.Name, err)
	}
	defer rs.Close()
	for rs.Next() {
		var present, deleted int64
		var id, fields, version string
		if err := rs.Scan(&id, &present, &fields, &deleted, &version); err != nil {
			return fmt.Errorf("client: read server state of %s rows: %w", t.Name, err)
		}
		srv, err := keptState(t, id, present, fields, deleted, version)
		if err != nil {
			return err
		}
		fn(id, srv)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("client: read server state of %s rows: %w", t.Name, err)
	}
	return nil
}

// keptState is a row of server_rows as a row state.
func keptState(t *schema.Table, id string, present int64, fields string, deleted int64, version string) (rowState, error) {
	if present == 0 {
		return rowState{}, nil
	}
	var wire map[string]any
	if err := json.Unmarshal([]byte(fields), &wire); err != nil {
		return rowState{}, fmt.Errorf("client: decode server state of %s %s: %w", t.Name, id, err)
	}
	return rowState{present: true, values: fromWire(t, wire), deleted: deleted != 0, version: version}, nil
}

// keepServerRow records the server's state of a row with outbox entries.
func keepServerRow(x txn, t *schema.Table, id string, r rowState) error {
	present, fields, deleted, err := keptColumns(t, id, r)
	if err != nil {
		return err
	}
	if _, err := x.exec(qKeepServerRow, t.Name, id, present, fields, deleted, r.version); err != nil {
		return fmt.Errorf("client: keep server state of %s %s: %w", t.Name, id, err)
	}
	return nil
}

// keepServerRows records the server's state of rows with outbox entries,
// keepBatch to a statement.
func keepServerRows(x txn, rows []*keptRow) error {
	rest := rows
	if len(rest) >= keepBatch {
		args := make([]any, 0, 6*keepBatch)
		for ; len(rest) >= keepBatch; rest = rest[keepBatch:] {
			args = args[:0]
			for _, k := range rest[:keepBatch] {
				present, fields, deleted, err := keptColumns(k.t, k.id, k.srv)
				if err != nil {
					return err
				}
				args = append(args, k.t.Name, k.id, present, fields, deleted, k.srv.version)
			}
			if _, err := x.exec(qKeepServerRowsN, args...); err != nil {
				return fmt.Errorf("client: keep server state of %d rows: %w", keepBatch, err)
			}
		}
	}
	for _, k := range rest {
		if err := keepServerRow(x, k.t, k.id, k.srv); err != nil {
			return err
		}
	}
	return nil
}

// keptColumns are the columns of server_rows that hold the state r.
func keptColumns(t *schema.Table, id string, r rowState) (present int64, fields string, deleted int64, err error) {
	if !r.present {
		return 0, "{}", 0, nil
	}
	if r.deleted {
		deleted = 1
	}
	b, err := json.Marshal(toWire(t, r.values))
	if err != nil {
		return 0, "", 0, fmt.Errorf("client: encode %s %s: %w", t.Name, id, err)
	}
	return 1, string(b), deleted, nil
}

// rowEntries reads a row's outbox entries in order.
func rowEntries(x txn, table, id string) ([]entry, error) {
	return queryEntries(x, qRowEntries, table, id)
}

// queryEntries reads outbox entries; query selects seq, change_id, tbl,
// row_id, op, hlc, fields, base_cursor and whether the entry is acked.
func queryEntries(x txn, query string, args ...any) ([]entry, error) {
	rs, err := x.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("client: read outbox: %w", err)
	}
	defer rs.Close()
	var out []entry
	for rs.Next() {
		var e entry
		var op, fields string
		if err := rs.Scan(&e.seq, &e.changeID, &e.table, &e.rowID, &op, &e.hlc, &fields, &e.baseCursor, &e.acked); err != nil {
			return nil, fmt.Errorf("client: read outbox: %w", err)
		}
		e.op = protocol.Op(op)
		if err := json.Unmarshal([]byte(fields), &e.fields); err != nil {
			return nil, fmt.Errorf("client: decode outbox entry %s: %w", e.changeID, err)
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("client: read outbox: %w", err)
	}
	return out, nil
}

// rebuild recomputes a row with kept server state: the server's row with
// the remaining outbox entries on top. When no entry remains the kept state
// is dropped: the row is plainly the server's again.
func rebuild(x txn, t *schema.Table, id string) error {
	base, kept, err := serverRow(x, t, id)
	if err != nil || !kept {
		return err
	}
	entries, err := rowEntries(x, t.Name, id)
	if err != nil {
		return err
	}
	if err := writeRow(x, t, id, overlay(t, base, entries)); err != nil {
		return err
	}
	if len(entries) == 0 {
		if _, err := x.exec(qDropServerRow, t.Name, id); err != nil {
			return fmt.Errorf("client: drop server state of %s %s: %w", t.Name, id, err)
		}
	}
	return nil
}

// ownFolds lays the acknowledged changes of one push answer on the kept
// server state of their rows (see fold), reading and writing each row once
// however many of the push's changes it took: a note autosaved forty times
// offline is forty answers but one row. It also gathers the
// acknowledgements. Anything else that reads the outbox or the kept state
// in the same transaction (a refusal, a restamp) comes after flush.
type ownFolds struct {
	rows  map[string]*keptRow // "table/id"; nil: the row has no kept state
	order []*keptRow
	acks  []int64 // outbox seq of each acknowledged change
}

// keptRow is the server's state of a row, as server_rows keeps it.
type keptRow struct {
	t   *schema.Table
	id  string
	srv rowState
}

// read reads, before the first add, the kept server state of every row
// the acknowledged changes of a push answer touch: one statement a table
// rather than one a row, with what add would read of each.
func (f *ownFolds) read(x txn, group []entry, results []protocol.Result) error {
	var tables []*schema.Table
	ids := map[*schema.Table][]string{}
	for i, r := range results {
		if i >= len(group) || (r.Status != protocol.StatusApplied && r.Status != protocol.StatusDuplicate) {
			continue
		}
		t, ok := schema.Lookup(group[i].table)
		if !ok {
			continue
		}
		id := strings.ToLower(group[i].rowID)
		key := t.Name + "/" + id
		if _, seen := f.rows[key]; seen {
			continue
		}
		if f.rows == nil {
			f.rows = map[string]*keptRow{}
		}
		f.rows[key] = nil // no kept state, unless read below
		if ids[t] == nil {
			tables = append(tables, t)
		}
		ids[t] = append(ids[t], id)
	}
	for _, t := range tables {
		list, err := json.Marshal(ids[t])
		if err != nil {
			return fmt.Errorf("client: encode row ids: %w", err)
		}
		if err := serverRows(x, t, string(list), func(id string, srv rowState) {
			o := &keptRow{t: t, id: id, srv: srv}
			f.order = append(f.order, o)
			f.rows[t.Name+"/"+id] = o
		}); err != nil {
			return err
		}
	}
	return nil
}

// add folds one acknowledged change.
func (f *ownFolds) add(x txn, e entry, r protocol.Result) error {
	f.acks = append(f.acks, e.seq)
	t, ok := schema.Lookup(e.table)
	if !ok {
		return nil
	}
	id := strings.ToLower(e.rowID)
	key := t.Name + "/" + id
	o, seen := f.rows[key]
	if !seen {
		srv, kept, err := serverRow(x, t, id)
		if err != nil {
			return err
		}
		if f.rows == nil {
			f.rows = map[string]*keptRow{}
		}
		if kept {
			o = &keptRow{t: t, id: id, srv: srv}
			f.order = append(f.order, o)
		}
		f.rows[key] = o
	}
	if o != nil {
		o.srv = fold(o.t, o.srv, e, r)
	}
	return nil
}

// flush writes the folded rows, keepBatch to a statement, and the
// acknowledgements.
func (f *ownFolds) flush(x txn, now time.Time) error {
	if err := keepServerRows(x, f.order); err != nil {
		return err
	}
	if len(f.acks) > 0 {
		seqs := []byte{'['}
		for i, seq := range f.acks {
			if i > 0 {
				seqs = append(seqs, ',')
			}
			seqs = strconv.AppendInt(seqs, seq, 10)
		}
		seqs = append(seqs, ']')
		if _, err := x.exec(qAck, nowText(now), string(seqs)); err != nil {
			return fmt.Errorf("client: acknowledge %d changes: %w", len(f.acks), err)
		}
	}
	*f = ownFolds{}
	return nil
}

// fold is the kept server state srv of a row once the acknowledged change
// e is laid on it, as the server answered it (r): the device pushes and
// pulls with no_echo (docs/protocol.md, "Own writes"), so a row only it
// wrote never comes back by pull, and its answer is how the device learns
// the server's state. The change's values go in, except those the answer
// lists as lost (the server holds another writer's value, which the row
// pulled brings or brought), then what the answer adds (computed fields,
// defaults) and the row's version; a row the answer says the device
// cannot read is none.
func fold(t *schema.Table, srv rowState, e entry, r protocol.Result) rowState {
	lost := make(map[string]bool, len(r.Lost))
	for _, l := range r.Lost {
		lost[l.Field] = true
	}
	if !srv.present {
		srv = rowState{present: true, values: emptyRow(t)}
	}
	if e.op == protocol.OpDelete {
		srv.deleted = srv.deleted || !lost["deleted"]
	}
	for name, v := range e.fields {
		if f, ok := t.Field(name); ok && !lost[name] {
			srv.values[name] = localValue(f, v)
		}
	}
	for name, v := range r.Fields {
		if f, ok := t.Field(name); ok {
			srv.values[name] = localValue(f, v)
		}
	}
	srv.version = e.hlc
	if r.Version != "" {
		srv.version = r.Version
	}
	if r.OutOfScope {
		// Not the device's to read: no pull will bring it or drop it, so
		// the server's state, as this device may hold it, is no row.
		srv = rowState{}
	}
	return srv
}

// departed reports whether a pulled row is the server saying the row left
// the reader's scope (deleted, with no fields and no version), rather than
// a tombstone (which carries the row's last fields and the delete's stamp).
// The device drops such a row.
func departed(r protocol.Row) bool { return r.Deleted && r.Version == "" && len(r.Fields) == 0 }

// applyPulled stores a pulled row: the server's state, with the device's
// outbox entries for it (if any) still on top. A departed row is dropped.
func applyPulled(x txn, t *schema.Table, r protocol.Row) error {
	id := strings.ToLower(r.RowID)
	srv := rowState{present: true, values: fromWire(t, r.Fields), deleted: r.Deleted, version: r.Version}
	if departed(r) {
		srv = rowState{}
	}
	_, kept, err := serverRow(x, t, id)
	if err != nil {
		return err
	}
	if !kept {
		return writeRow(x, t, id, srv)
	}
	if err := keepServerRow(x, t, id, srv); err != nil {
		return err
	}
	return rebuild(x, t, id)
}

// lookup finds a synced table by name.
func lookup(table string) (*schema.Table, error) {
	t, ok := schema.Lookup(table)
	if !ok {
		return nil, fmt.Errorf("client: unknown table %q", table)
	}
	return t, nil
}

// Get returns a live row's fields; ok is false when the device holds no such
// row or holds it deleted.
func (d *Device) Get(ctx context.Context, table, id string) (map[string]any, bool, error) {
	t, err := lookup(table)
	if err != nil {
		return nil, false, err
	}
	r, err := readRow(d.reader(ctx), t, strings.ToLower(id))
	if err != nil || !r.present || r.deleted {
		return nil, false, err
	}
	return toWire(t, r.values), true, nil
}

// All lists a table's live rows, by id.
func (d *Device) All(ctx context.Context, table string) ([]Row, error) {
	return d.rows(ctx, table, "WHERE deleted = 0")
}

// Rows lists every row of a table the device holds, tombstones included.
func (d *Device) Rows(ctx context.Context, table string) ([]Row, error) {
	return d.rows(ctx, table, "")
}

func (d *Device) rows(ctx context.Context, table, where string) ([]Row, error) {
	t, err := lookup(table)
	if err != nil {
		return nil, err
	}
	cols := t.Columns()
	rs, err := d.db.QueryContext(ctx, "SELECT id, "+strings.Join(cols, ", ")+", deleted, version FROM "+t.Name+" "+where+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("client: list %s: %w", t.Name, err)
	}
	defer rs.Close()
	var out []Row
	for rs.Next() {
		raw := make([]any, len(cols))
		dest := make([]any, 0, len(cols)+3)
		var r Row
		var deleted int64
		dest = append(dest, &r.ID)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		dest = append(dest, &deleted, &r.Version)
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("client: list %s: %w", t.Name, err)
		}
		r.Table, r.Deleted, r.Fields = t.Name, deleted != 0, make(map[string]any, len(cols))
		for i, c := range cols {
			f, _ := t.Field(c)
			r.Fields[c] = f.FromSQL(raw[i])
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("client: list %s: %w", t.Name, err)
	}
	return out, nil
}
