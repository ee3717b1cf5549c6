package client

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"dicoso/sync/schema"
)

// A full snapshot (an empty cursor) is staged, page by page, in a shadow
// of each synced table (snapshot_<table>, the same columns), each page in a
// transaction of its own with the staged cursor. The last page swaps the
// shadows in, in one transaction: each synced table is dropped, its shadow
// renamed to it and given its unique index on id. A snapshot interrupted
// halfway leaves the synced tables untouched.
//
// A shadow has no index while rows are staged: each row is appended, in
// the order the pages bring them. An index on the rows' random ids,
// kept up as they arrive, touched most of its pages with every page
// staged once there were tens of thousands of rows, and rewrote them with
// every commit; built once at the swap it is one sort. A row the pages
// bring twice (it changed while the snapshot was being pulled) is staged
// twice, a row that left the reader's scope is staged as such (deleted,
// no fields, no version, as the server sends it); the swap keeps the last
// staging of each row, and drops those that left.
//
// Files staged by builds before this layout kept the staged rows as JSON
// in snapshot_rows, under the sync_state key snapshot_cursor: such a file
// drops them and starts its snapshot over (dropOldStaging). The new
// layout keeps its cursor under another key, so a build from before it
// that opens a file staged by this one starts its snapshot over as well.

// stagedTable is the shadow a snapshot's rows of t are staged in.
func stagedTable(t *schema.Table) string { return "snapshot_" + t.Name }

// createTableSQL creates the synced table t, with its id as primary key,
// or with shadow, its shadow, whose ids are not unique until the swap (see
// above; a swapped-in table has a unique index on id instead of the key,
// which every statement of the device uses the same way).
func createTableSQL(t *schema.Table, shadow bool) string {
	name, cols := t.Name, []string{"id TEXT PRIMARY KEY"}
	if shadow {
		name, cols = stagedTable(t), []string{"id TEXT NOT NULL"}
	}
	for _, f := range t.Fields {
		cols = append(cols, f.Name+" "+sqlType(f.Type))
	}
	cols = append(cols, "deleted INTEGER NOT NULL DEFAULT 0", "version TEXT NOT NULL DEFAULT ''")
	return "CREATE TABLE IF NOT EXISTS " + name + " (" + strings.Join(cols, ", ") + ")"
}

func stageRowSQL(t *schema.Table) string { return stageRowsSQL(t, 1) }

// stageBatch is how many rows one statement stages: the statement's own
// work (binding, stepping, database/sql's) was a third of staging a row one
// statement at a time.
const stageBatch = 32

// stageRowsSQL stages n rows, in the order given.
func stageRowsSQL(t *schema.Table, n int) string {
	cols := t.Columns()
	row := "(?" + strings.Repeat(", ?", len(cols)+2) + ")"
	return "INSERT INTO " + stagedTable(t) + " (id, " + strings.Join(cols, ", ") + ", deleted, version) VALUES " +
		row + strings.Repeat(", "+row, n-1)
}

// stageDepartedSQL stages a row that left the reader's scope.
func stageDepartedSQL(t *schema.Table) string {
	return "INSERT INTO " + stagedTable(t) + " (id, deleted, version) VALUES (?, 1, '')"
}

// stagedRow is a pulled row of a snapshot page as it is staged: the
// arguments of stageRowSQL (the id, the fields in the table's order as SQL
// values, deleted, version), or, for a departed row, of stageDepartedSQL.
type stagedRow struct {
	table    *schema.Table
	args     []any
	departed bool
}

// stageable converts a snapshot page's rows for staging. It runs in the
// goroutine that fetched the page, while the page before is being written.
// Rows of tables this build does not know are left out.
func stageable(rows []pulledRow) ([]stagedRow, error) {
	out := make([]stagedRow, 0, len(rows))
	for _, r := range rows {
		t, ok := schema.Lookup(r.Table)
		if !ok {
			continue
		}
		n := len(t.Fields)
		args := make([]any, n+3)
		args[0] = strings.ToLower(r.RowID)
		keys, err := fieldValues(t, r.Fields, args[1:1+n])
		if err != nil {
			return nil, fmt.Errorf("client: decode pulled row %s %s: %w", r.Table, r.RowID, err)
		}
		if r.Deleted && r.Version == "" && keys == 0 {
			// Departed: deleted, with no fields and no version.
			out = append(out, stagedRow{table: t, args: args[:1], departed: true})
			continue
		}
		deleted := int64(0)
		if r.Deleted {
			deleted = 1
		}
		args[n+1], args[n+2] = deleted, r.Version
		out = append(out, stagedRow{table: t, args: args})
	}
	return out, nil
}

// stageRows appends a page's rows to the shadow tables, and notes in
// sync_state the tables some row left (for the swap to drop).
func stageRows(x txn, rows []stagedRow) error {
	// Each table's rows go stageBatch to a statement, in the page's order
	// (a departed row is staged after the rows before it): the swap keeps
	// the last staging of a row by that order.
	type batch struct {
		one, many, departed *sql.Stmt
		args                []any
		n                   int
	}
	byTable := map[*schema.Table]*batch{}
	var order []*schema.Table
	flush := func(t *schema.Table, b *batch) error {
		width := len(b.args) / max(b.n, 1)
		for i := 0; i < b.n; i++ {
			row := b.args[i*width : (i+1)*width]
			if _, err := b.one.ExecContext(x.ctx, row...); err != nil {
				return fmt.Errorf("client: stage %s %s: %w", t.Name, row[0], err)
			}
		}
		b.args, b.n = b.args[:0], 0
		return nil
	}
	var left []string
	for _, r := range rows {
		b, ok := byTable[r.table]
		if !ok {
			// Bound to the transaction once per page, not once per row.
			b = &batch{one: x.stmt(stageRowSQL(r.table)), many: x.stmt(stageRowsSQL(r.table, stageBatch)),
				departed: x.stmt(stageDepartedSQL(r.table))}
			if b.one == nil || b.many == nil || b.departed == nil {
				return fmt.Errorf("client: stage %s: statements not prepared", r.table.Name)
			}
			byTable[r.table] = b
			order = append(order, r.table)
		}
		if r.departed {
			if err := flush(r.table, b); err != nil {
				return err
			}
			if _, err := b.departed.ExecContext(x.ctx, r.args...); err != nil {
				return fmt.Errorf("client: stage %s %s: %w", r.table.Name, r.args[0], err)
			}
			left = append(left, r.table.Name)
			continue
		}
		b.args = append(b.args, r.args...)
		if b.n++; b.n == stageBatch {
			if _, err := b.many.ExecContext(x.ctx, b.args...); err != nil {
				return fmt.Errorf("client: stage %d rows of %s: %w", b.n, r.table.Name, err)
			}
			b.args, b.n = b.args[:0], 0
		}
	}
	for _, t := range order {
		if err := flush(t, byTable[t]); err != nil {
			return err
		}
	}
	if len(left) == 0 {
		return nil
	}
	st, err := state(x, keyStagedLeft)
	if err != nil {
		return err
	}
	have := strings.Fields(st[keyStagedLeft])
	for _, name := range left {
		if !slices.Contains(have, name) {
			have = append(have, name)
		}
	}
	return setState(x, keyStagedLeft, strings.Join(have, " "))
}

// swapSnapshot replaces the pulled copy with the complete staged snapshot:
// each synced table becomes its shadow, and a new empty shadow is made.
// Rows with outbox entries get the snapshot as their server state, with
// the entries still on top.
func swapSnapshot(x txn, cursor string) error {
	st, err := state(x, keyStagedLeft)
	if err != nil {
		return err
	}
	left := strings.Fields(st[keyStagedLeft])
	for _, t := range schema.Tables() {
		for _, q := range []string{
			"DROP TABLE " + t.Name,
			"ALTER TABLE " + stagedTable(t) + " RENAME TO " + t.Name,
			createTableSQL(t, true),
		} {
			if _, err := x.exec(q); err != nil {
				return fmt.Errorf("client: swap in %s: %w", t.Name, err)
			}
		}
		if err := uniqueRows(x, t, slices.Contains(left, t.Name)); err != nil {
			return err
		}
	}
	kept, err := rowKeys(x, "SELECT tbl, row_id FROM server_rows")
	if err != nil {
		return err
	}
	for _, k := range kept {
		t, ok := schema.Lookup(k.table)
		if !ok {
			continue
		}
		srv, err := readRow(x, t, k.id) // as the snapshot has it
		if err != nil {
			return err
		}
		if err := keepServerRow(x, t, k.id, srv); err != nil {
			return err
		}
		if err := rebuild(x, t, k.id); err != nil {
			return err
		}
	}
	if err := setState(x, keyStagedCursor, ""); err != nil {
		return err
	}
	if err := setState(x, keyStagedLeft, ""); err != nil {
		return err
	}
	return setState(x, keyCursor, cursor)
}

// uniqueRows makes the swapped-in table t hold each row once, as last
// staged, without the rows that left the reader's scope, and gives it its
// unique index on id. Rows staged twice are rare (a row that changed while
// the snapshot was pulled): they are looked for only when the index cannot
// be built, or when some row of t left.
func uniqueRows(x txn, t *schema.Table, someLeft bool) error {
	dedupe := func() error {
		for _, q := range []string{
			"DELETE FROM " + t.Name + " WHERE rowid NOT IN (SELECT max(rowid) FROM " + t.Name + " GROUP BY id)",
			"DELETE FROM " + t.Name + " WHERE deleted = 1 AND version = ''",
		} {
			if _, err := x.exec(q); err != nil {
				return fmt.Errorf("client: swap in %s: %w", t.Name, err)
			}
		}
		return nil
	}
	if someLeft {
		if err := dedupe(); err != nil {
			return err
		}
	}
	index := "CREATE UNIQUE INDEX " + t.Name + "_by_id ON " + t.Name + " (id)"
	_, err := x.exec(index)
	var se *sqlite.Error
	if err != nil && !someLeft && errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		if err = dedupe(); err != nil {
			return err
		}
		_, err = x.exec(index)
	}
	if err != nil {
		return fmt.Errorf("client: index %s: %w", t.Name, err)
	}
	return nil
}

// restartSnapshot starts a full snapshot over. The rows the device holds
// stay visible until the new snapshot is complete and swapped in (which
// replaces them all, rows with pending edits rebuilt on top), so a reset
// interrupted by a weak network never leaves the user with an empty phone.
func restartSnapshot(x txn) error {
	for _, t := range schema.Tables() {
		if _, err := x.exec("DELETE FROM " + stagedTable(t)); err != nil {
			return fmt.Errorf("client: drop snapshot: %w", err)
		}
	}
	for _, k := range []string{keyCursor, keyStagedCursor, keyStagedLeft} {
		if err := setState(x, k, ""); err != nil {
			return err
		}
	}
	return nil
}

// dropOldStaging drops the staging table of builds before the shadow
// tables, with the cursor of the pages staged in it: a snapshot it held
// half of starts over.
func dropOldStaging(x txn) error {
	var n int
	if err := x.queryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'snapshot_rows'").Scan(&n); err != nil {
		return fmt.Errorf("client: look for old staging: %w", err)
	}
	if n == 0 {
		return nil
	}
	if _, err := x.exec("DROP TABLE snapshot_rows"); err != nil {
		return fmt.Errorf("client: drop old staging: %w", err)
	}
	return setState(x, keyOldSnapCursor, "")
}

// fieldIndexes maps each synced table's field names to their positions.
var fieldIndexes = sync.OnceValue(func() map[*schema.Table]map[string]int {
	out := map[*schema.Table]map[string]int{}
	for _, t := range schema.Tables() {
		m := make(map[string]int, len(t.Fields))
		for i, f := range t.Fields {
			m[f.Name] = i
		}
		out[t] = m
	}
	return out
})

// fieldValues reads a pulled row's fields (a JSON object, or null) into
// dst, the SQL values in t's field order, as fromWire converts them: a
// missing or null field is NULL (a list's is "[]"), true and false 1 and
// 0, a number an int64 for an integer or boolean column and a float64
// otherwise, a list or object its JSON text. Unknown fields are ignored.
// It returns how many fields the object has. raw was checked as JSON with
// the whole answer; anything but a plain string, number or literal goes
// through encoding/json.
func fieldValues(t *schema.Table, raw []byte, dst []any) (int, error) {
	for i := range t.Fields {
		dst[i] = wireToSQL(&t.Fields[i], nil)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	if raw[0] != '{' {
		return 0, errors.New("fields are not an object")
	}
	index := fieldIndexes()[t]
	keys := 0
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == '}' {
		return 0, nil
	}
	for i < len(raw) {
		end, err := valueEnd(raw, i)
		if err != nil || raw[i] != '"' {
			return 0, errors.New("malformed fields")
		}
		name := raw[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			s, err := jsonString(raw[i:end])
			if err != nil {
				return 0, err
			}
			name = []byte(s)
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return 0, errors.New("malformed fields")
		}
		i = skipSpace(raw, i+1)
		end, err = valueEnd(raw, i)
		if err != nil {
			return 0, err
		}
		keys++
		if j, ok := index[string(name)]; ok {
			v, err := sqlValue(&t.Fields[j], raw[i:end])
			if err != nil {
				return 0, fmt.Errorf("field %s: %w", name, err)
			}
			dst[j] = v
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		if i < len(raw) && raw[i] == '}' {
			return keys, nil
		}
		return 0, errors.New("malformed fields")
	}
	return 0, errors.New("malformed fields")
}

// sqlValue is wireToSQL of the JSON value tok, without going through an
// interface value for the plain kinds.
func sqlValue(f *schema.Field, tok []byte) (any, error) {
	switch tok[0] {
	case '"':
		return jsonString(tok)
	case 't', 'f', 'n':
		v, err := jsonValue(tok)
		return wireToSQL(f, v), err
	case '[', '{':
		var v any
		err := json.Unmarshal(tok, &v)
		return wireToSQL(f, v), err
	}
	n, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return nil, fmt.Errorf("malformed value %.20q", tok)
	}
	if f.Type == schema.Int || f.Type == schema.Bool {
		return int64(n), nil
	}
	return n, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd is where the JSON value starting at b[i] ends.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("malformed fields")
	}
	switch c := b[i]; {
	case c == '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
	case c == '[' || c == '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, err := valueEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
	default: // a number or a literal
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j > i {
			return j, nil
		}
	}
	return 0, errors.New("malformed fields")
}

// jsonString decodes a JSON string token; one with escapes or bytes that
// are not UTF-8 goes through encoding/json, which replaces those as the
// rest of the client's decoding does.
func jsonString(tok []byte) (string, error) {
	body := tok[1 : len(tok)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(tok, &s)
	return s, err
}

// jsonValue decodes one JSON value token as encoding/json decodes it into
// an interface: nil, bool, float64, string, []any or map[string]any.
func jsonValue(tok []byte) (any, error) {
	switch tok[0] {
	case '"':
		return jsonString(tok)
	case 'n':
		if string(tok) == "null" {
			return nil, nil
		}
	case 't':
		if string(tok) == "true" {
			return true, nil
		}
	case 'f':
		if string(tok) == "false" {
			return false, nil
		}
	case '[', '{':
		var v any
		err := json.Unmarshal(tok, &v)
		return v, err
	default:
		f, err := strconv.ParseFloat(string(tok), 64)
		if err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("malformed value %.20q", tok)
}
