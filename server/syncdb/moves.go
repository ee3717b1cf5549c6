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

// scopeFields are the fields whose change can take a row out of someone's
// read scope (see scopeRules). Owners never change, and a check-in's unit
// is append-only, so neither is listed.
var scopeFields = map[string][]string{
	"trips":       {"campaign_id", "unit_ids"},
	"trip_days":   {"unit_id"},
	"visit_notes": {"unit_id", "campaign_id", "status"},
	"findings":    {"unit_id", "campaign_id", "department_id"},
}

// movesScope reports whether the winning values change a scope field.
func movesScope(t *schema.Table, cur *rowState, won map[string]any) bool {
	for _, f := range scopeFields[t.Name] {
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

// restampFollowUps moves a finding's follow-ups to the sequence of the
// change that moved the finding: a follow-up is read with its finding, so
// readers who gain the finding must receive its earlier follow-ups too.
func restampFollowUps(ctx context.Context, tx *wtx, findingID string, seq int64) error {
	if _, err := tx.ExecContext(ctx, "UPDATE follow_ups SET seq = ? WHERE finding_id = ? AND seq < ?", seq, findingID, seq); err != nil {
		return fmt.Errorf("restamp follow-ups of %s: %w", findingID, err)
	}
	for _, r := range tx.rows {
		if r.table.Name == "follow_ups" && r.values["finding_id"] == findingID && r.seq < seq {
			r.seq = seq // written at flush with the rest of the row
		}
	}
	return nil
}

// pullDeparted finds rows of t that moved after the cursor, that the actor
// could read before the move and cannot read now: the device must drop
// them. Each comes back as a row with deleted set and no fields, at the
// sequence of its move.
func pullDeparted(ctx context.Context, tx *sql.Tx, a Actor, t *schema.Table, after, until int64, limit int) ([]pulledRow, error) {
	if _, ok := scopeFields[t.Name]; !ok || a.seesAll() {
		return nil, nil
	}
	// The moved rows' former states, shaped like the table (alias r) so the
	// very same scope clause judges them.
	cols := t.Columns()
	proj := make([]string, 0, len(cols)+2)
	proj = append(proj, "m.seq AS seq", "m.row_id AS id")
	for _, c := range cols {
		proj = append(proj, "json_extract(m.before, '$."+c+"') AS "+c)
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
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("encode moved ids: %w", err)
	}
	where, args = scopeClause(a, t)
	args = append(args, sql.Named("ids", string(list)))
	rs, err = tx.QueryContext(ctx, "SELECT r.id FROM "+t.Name+" r WHERE r.id IN (SELECT value FROM json_each(:ids)) AND ("+where+")", args...)
	if err != nil {
		return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
	}
	defer rs.Close()
	stay := map[string]bool{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
		}
		stay[id] = true
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pull moves of %s: %w", t.Name, err)
	}
	moved = slices.DeleteFunc(moved, func(p pulledRow) bool { return stay[p.row.RowID] })
	if t.Name == "findings" {
		return withFollowUps(ctx, tx, a, moved)
	}
	return moved, nil
}

// withFollowUps adds, for each departed finding, those of its follow-ups
// the actor can no longer read: they are read with their finding and leave
// with it, unless the actor wrote them.
func withFollowUps(ctx context.Context, tx *sql.Tx, a Actor, departed []pulledRow) ([]pulledRow, error) {
	out := departed
	where, args := scopeClause(a, mustTable("follow_ups"))
	q := "SELECT r.id FROM follow_ups r WHERE r.finding_id = :finding AND NOT (" + where + ")"
	for _, f := range departed {
		rs, err := tx.QueryContext(ctx, q, append(args, sql.Named("finding", f.row.RowID))...)
		if err != nil {
			return nil, fmt.Errorf("follow-ups of %s: %w", f.row.RowID, err)
		}
		for rs.Next() {
			p := pulledRow{seq: f.seq, row: protocol.Row{Table: "follow_ups", Deleted: true, Fields: map[string]any{}}}
			if err := rs.Scan(&p.row.RowID); err != nil {
				rs.Close()
				return nil, fmt.Errorf("follow-ups of %s: %w", f.row.RowID, err)
			}
			out = append(out, p)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, fmt.Errorf("follow-ups of %s: %w", f.row.RowID, err)
		}
	}
	return out, nil
}
