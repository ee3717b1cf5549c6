package client

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"dicoso/sync/schema"
)

// txn is what the storage helpers work through: a transaction (or, for
// reads outside one, the database) and the device's prepared statements.
// Pulling a page writes hundreds of rows with a handful of statements;
// preparing them once per device, not once per row, is most of its cost.
type txn struct {
	ctx context.Context
	tx  *sql.Tx // nil: a read outside a transaction
	db  *sql.DB
	ps  map[string]*sql.Stmt
}

func (x txn) stmt(query string) *sql.Stmt {
	s, ok := x.ps[query]
	if !ok {
		return nil
	}
	if x.tx != nil {
		return x.tx.StmtContext(x.ctx, s) // reuses the statement prepared on this connection
	}
	return s
}

func (x txn) exec(query string, args ...any) (sql.Result, error) {
	if s := x.stmt(query); s != nil {
		return s.ExecContext(x.ctx, args...)
	}
	if x.tx != nil {
		return x.tx.ExecContext(x.ctx, query, args...)
	}
	return x.db.ExecContext(x.ctx, query, args...)
}

func (x txn) query(query string, args ...any) (*sql.Rows, error) {
	if s := x.stmt(query); s != nil {
		return s.QueryContext(x.ctx, args...)
	}
	if x.tx != nil {
		return x.tx.QueryContext(x.ctx, query, args...)
	}
	return x.db.QueryContext(x.ctx, query, args...)
}

func (x txn) queryRow(query string, args ...any) *sql.Row {
	if s := x.stmt(query); s != nil {
		return s.QueryRowContext(x.ctx, args...)
	}
	if x.tx != nil {
		return x.tx.QueryRowContext(x.ctx, query, args...)
	}
	return x.db.QueryRowContext(x.ctx, query, args...)
}

// The statements of the hot paths. Table and column names come from the
// schema registry only.
const (
	qState          = "SELECT value FROM sync_state WHERE key = ?"
	qSetState       = "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
	qServerRow      = "SELECT present, fields, deleted, version FROM server_rows WHERE tbl = ? AND row_id = ?"
	qServerRows     = "SELECT row_id, present, fields, deleted, version FROM server_rows WHERE tbl = ? AND row_id IN (SELECT value FROM json_each(?))"
	qKeepServerRow  = "INSERT INTO server_rows (tbl, row_id, present, fields, deleted, version) VALUES (?, ?, ?, ?, ?, ?)" + keptUpsert
	qDropServerRow  = "DELETE FROM server_rows WHERE tbl = ? AND row_id = ?"
	qRowEntries     = "SELECT seq, change_id, tbl, row_id, op, hlc, fields, base_cursor, acked_at IS NOT NULL FROM outbox WHERE tbl = ? AND row_id = ? ORDER BY seq"
	qQueue          = "INSERT INTO outbox (change_id, tbl, row_id, op, hlc, fields, base_cursor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	qAck            = "UPDATE outbox SET acked_at = ? WHERE seq IN (SELECT value FROM json_each(?))"
	qPendingEntries = "SELECT seq, change_id, tbl, row_id, op, hlc, fields, base_cursor, 0 FROM outbox WHERE acked_at IS NULL ORDER BY seq LIMIT ?"
)

// queueBatch is how many outbox entries one statement queues.
const queueBatch = 16

var qQueueN = qQueue + strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?)", queueBatch-1)

// writeBatch is how many rows of one table a batch of edits writes with
// one statement (editBatch.finish).
const writeBatch = 16

// keepBatch is how many rows of server_rows one statement writes.
const keepBatch = 16

var qKeepServerRowsN = "INSERT INTO server_rows (tbl, row_id, present, fields, deleted, version) VALUES (?, ?, ?, ?, ?, ?)" +
	strings.Repeat(", (?, ?, ?, ?, ?, ?)", keepBatch-1) + keptUpsert

// keptUpsert updates a kept row in place, where INSERT OR REPLACE deleted
// it and inserted it anew under another rowid (both B-trees written twice).
const keptUpsert = " ON CONFLICT (tbl, row_id) DO UPDATE SET present = excluded.present, fields = excluded.fields, " +
	"deleted = excluded.deleted, version = excluded.version"

func readRowSQL(t *schema.Table) string {
	return "SELECT " + strings.Join(t.Columns(), ", ") + ", deleted, version FROM " + t.Name + " WHERE id = ?"
}

func readRowsSQL(t *schema.Table) string {
	return "SELECT id, " + strings.Join(t.Columns(), ", ") + ", deleted, version FROM " + t.Name +
		" WHERE id IN (SELECT value FROM json_each(?))"
}

func writeRowSQL(t *schema.Table) string {
	cols := t.Columns()
	return "INSERT OR REPLACE INTO " + t.Name + " (id, " + strings.Join(cols, ", ") + ", deleted, version) VALUES (?" +
		strings.Repeat(", ?", len(cols)+2) + ")"
}

// writeRowsSQL writes n rows of t (as writeRowSQL, n to a statement).
func writeRowsSQL(t *schema.Table, n int) string {
	row := "(?" + strings.Repeat(", ?", len(t.Columns())+2) + ")"
	return writeRowSQL(t) + strings.Repeat(", "+row, n-1)
}

func removeRowSQL(t *schema.Table) string { return "DELETE FROM " + t.Name + " WHERE id = ?" }

// prepare readies the hot statements on the device's connection.
func prepare(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	queries := []string{qState, qSetState, qServerRow, qServerRows, qKeepServerRow, qKeepServerRowsN, qDropServerRow, qRowEntries, qQueue, qQueueN, qAck,
		qPendingEntries}
	for _, t := range schema.Tables() {
		queries = append(queries, readRowSQL(t), readRowsSQL(t), writeRowSQL(t), writeRowsSQL(t, writeBatch), removeRowSQL(t), stageRowSQL(t), stageRowsSQL(t, stageBatch), stageDepartedSQL(t))
	}
	ps := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range ps {
				p.Close()
			}
			return nil, fmt.Errorf("client: prepare %.60s: %w", q, err)
		}
		ps[q] = s
	}
	return ps, nil
}
