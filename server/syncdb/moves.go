package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// movesScope reports whether the winning values change a field whose
// change can take the row out of someone's read scope (Spec.Moves).
// Owners never change, and a check-in's unit is append-only, so neither
// is one.
func movesScope(t *schema.Table, cur *rowState, won map[string]any) bool {
	sp, ok := specs[t.Name]
	if !ok {
		return false
	}
	for _, f := range sp.Moves {
		if v, ok := won[f]; ok && !sameValue(v, cur.values[f]) {
			return true
		}
	}
	return false
}

// recordMove keeps the row's fields as they were before a scope move.
func recordMove(ctx context.Context, tx *wtx, t *schema.Table, rowID string, seq int64, cur *rowState) error {
	before, err := json.Marshal(cur.values)
	if err != nil {
		return fmt.Errorf("encode scope move: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO scope_moves (seq, tbl, row_id, before) VALUES (?, ?, ?, ?)",
		seq, t.Name, rowID, string(before)); err != nil {
		return fmt.Errorf("record scope move of %s %s: %w", t.Name, rowID, err)
	}
	return nil
}

// restampChildren moves the rows read with a moved row (Spec.Parent) to
// the sequence of the change that moved it, and theirs in turn: readers
// who gain the row must receive them too, however old they are.
func restampChildren(ctx context.Context, tx *wtx, t *schema.Table, rowID string, seq int64) error {
	for _, child := range children(t) {
		link := specs[child.Name].Parent
		// The children may have been merged in this transaction and not
		// written yet: write them, so the SQL below sees them all.
		if err := tx.flush(ctx); err != nil {
			return err
		}
		rs, err := tx.tx.QueryContext(ctx, "SELECT id FROM "+child.Name+" WHERE "+link.Field+" = ?", rowID)
		if err != nil {
			return fmt.Errorf("find the %s of %s: %w", child.Name, rowID, err)
		}
		var ids []string
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return fmt.Errorf("find the %s of %s: %w", child.Name, rowID, err)
			}
			ids = append(ids, id)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return fmt.Errorf("find the %s of %s: %w", child.Name, rowID, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+child.Name+" SET seq = ? WHERE "+link.Field+" = ? AND seq < ?", seq, rowID, seq); err != nil {
			return fmt.Errorf("restamp the %s of %s: %w", child.Name, rowID, err)
		}
		for _, r := range tx.rows {
			if r.table.Name == child.Name && r.values[link.Field] == rowID && r.seq < seq {
				r.seq = seq // keep the cached row as written
			}
		}
		for _, id := range ids {
			if err := restampChildren(ctx, tx, child, id, seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// pullDeparted finds rows of t that moved after the cursor, that the actor
// could read before the move and cannot read now: the device must drop
// them. Each comes back as a row with deleted set and no fields, at the
// sequence of its move.
func pullDeparted(ctx context.Context, tx *sql.Tx, a Actor, t *schema.Table, after, until int64, limit int) ([]pulledRow, error) {
	if sp, ok := specs[t.Name]; !ok || len(sp.Moves) == 0 {
		return nil, nil
	}
	if where, _ := scopeClause(a, t); where == "TRUE" {
		return nil, nil // reads every row: none departs
	}
	// The moved rows' former states, shaped like the table (alias r) so the
	// very same scope clause judges them.
	cols := t.Columns()
	proj := make([]string, 0, len(cols)+2)
	proj = append(proj, "m.seq AS seq", "m.row_id AS id")
	for _, c := range cols {
		proj = append(proj, a.dialect.Pick("json_extract(m.before, '$."+c+"')", "(m.before::jsonb ->> '"+c+"')")+" AS "+c)
	}
	where, args := scopeClause(a, t)
	q := "WITH r AS (SELECT " + strings.Join(proj, ", ") + " FROM scope_moves m WHERE m.tbl = :tbl AND m.seq > :after AND m.seq <= :until)" +
		" SELECT r.seq, r.id FROM r WHERE " + where + " ORDER BY r.seq LIMIT :limit"
	args = append(args, sql.Named("tbl", t.Name), sql.Named("after", after), sql.Named("until", until), sql.Named("limit", limit))
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
	}
	var moved []pulledRow
	var ids []string
	for rs.Next() {
		var p pulledRow
		if err := rs.Scan(&p.seq, &p.row.RowID); err != nil {
			rs.Close()
			return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
		}
		p.row.Table, p.row.Deleted, p.row.Fields = t.Name, true, map[string]any{}
		moved = append(moved, p)
		ids = append(ids, p.row.RowID)
	}
	if err := rs.Err(); err != nil {
		rs.Close()
		return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
	}
	rs.Close()
	if len(moved) == 0 {
		return nil, nil
	}
	// Rows still readable now come with the ordinary pull instead.
	stay, err := readableIDs(ctx, tx, a, t, ids)
	if err != nil {
		return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
	}
	moved = slices.DeleteFunc(moved, func(p pulledRow) bool { return stay[p.row.RowID] })
	return withChildren(ctx, tx, a, t, moved)
}

// withChildren adds, for each departed row of t, the rows read with it
// (Spec.Parent) that leave with it: those the actor could read while it
// was in their scope and can read no longer. Their own children follow.
func withChildren(ctx context.Context, tx *sql.Tx, a Actor, t *schema.Table, departed []pulledRow) ([]pulledRow, error) {
	out := departed
	if len(departed) == 0 {
		return out, nil
	}
	for _, child := range children(t) {
		link := specs[child.Name].Parent
		then, args := scopeClauseWith(a, child, true, false)
		now, _ := scopeClause(a, child) // same named arguments
		q := "SELECT r.id FROM " + child.Name + " r WHERE r." + link.Field + " = :parent AND (" + then + ") AND NOT (" + now + ")"
		var gone []pulledRow
		for _, p := range departed {
			rs, err := tx.QueryContext(ctx, q, append(args, sql.Named("parent", p.row.RowID))...)
			if err != nil {
				return nil, fmt.Errorf("%s of %s: %w", child.Name, p.row.RowID, err)
			}
			for rs.Next() {
				c := pulledRow{seq: p.seq, row: protocol.Row{Table: child.Name, Deleted: true, Fields: map[string]any{}}}
				if err := rs.Scan(&c.row.RowID); err != nil {
					rs.Close()
					return nil, fmt.Errorf("%s of %s: %w", child.Name, p.row.RowID, err)
				}
				gone = append(gone, c)
			}
			err = rs.Err()
			rs.Close()
			if err != nil {
				return nil, fmt.Errorf("%s of %s: %w", child.Name, p.row.RowID, err)
			}
		}
		more, err := withChildren(ctx, tx, a, child, gone)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// children are the tables whose rows are read with a row of t.
func children(t *schema.Table) []*schema.Table {
	var out []*schema.Table
	for _, c := range schema.Tables() {
		if sp, ok := specs[c.Name]; ok && sp.Parent != nil && sp.Parent.Table == t.Name {
			out = append(out, c)
		}
	}
	return out
}

// readableIDs is which of the rows ids of t the actor (with their reach,
// see withReach) may read now, in one query: a pull's departed rows and a
// push's out-of-scope answers ask it of many rows at once. nil means every
// row: a reads t whole, and nothing is asked of the store.
func readableIDs(ctx context.Context, tx querier, a Actor, t *schema.Table, ids []string) (map[string]bool, error) {
	where, args := scopeClause(a, t)
	if where == "TRUE" {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("encode ids: %w", err)
	}
	args = append(args, sql.Named("ids", string(list)))
	// The ids lead and each finds its row by key (SQLite's CROSS JOIN keeps
	// that order): the scope's EXISTS clauses then run for these rows only.
	rs, err := tx.QueryContext(ctx, "SELECT r.id FROM "+a.dialect.JSONEach(":ids", "i")+a.dialect.Pick(" CROSS JOIN ", " JOIN ")+
		t.Name+" r ON r.id = i.value WHERE ("+where+")", args...)
	if err != nil {
		return nil, fmt.Errorf("which %s rows are readable: %w", t.Name, err)
	}
	defer rs.Close()
	readable := make(map[string]bool, len(ids))
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("which %s rows are readable: %w", t.Name, err)
		}
		readable[id] = true
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("which %s rows are readable: %w", t.Name, err)
	}
	return readable, nil
}
