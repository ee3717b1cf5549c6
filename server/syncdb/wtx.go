package syncdb

import (
	"context"
	"database/sql"

	"dicoso/server/store"
)

// wtx is a write transaction of the merge.
//
// It prepares each distinct statement once and reuses it: a group commit
// runs the same few statements thousands of times, and SQLite's parser
// would otherwise be a quarter of the cost of a push. Statement texts are
// built only from the schema registry, so the cache stays small.
//
// It also keeps the rows it merges into, and writes each changed row once,
// at flush, however many changes it took: a note autosaved forty times
// while offline is forty change-log entries but one row write. Everything
// in the merge reads rows through loadRow, which sees these pending states.
type wtx struct {
	tx      *sql.Tx
	dialect store.Dialect
	stmts   map[string]*sql.Stmt
	// exists remembers rows found by reference checks. Rows are never
	// removed (deletion is a tombstone), so a row seen once stays found.
	exists map[string]struct{}
	rows   map[string]*rowState // "table/id" -> the row as merged so far
	dirty  []*rowState          // rows to write at flush, in first-change order
	// leads remembers leadsTeamOf's answers; a write to teams forgets them.
	leads map[string]bool
}

func newWtx(tx *sql.Tx, d store.Dialect) *wtx {
	return &wtx{tx: tx, dialect: d, stmts: map[string]*sql.Stmt{}, exists: map[string]struct{}{}, rows: map[string]*rowState{}}
}

// changed records that fields of r were merged and must be written.
func (w *wtx) changed(r *rowState, fields map[string]any) {
	key := r.table.Name + "/" + r.id
	if r.table.Name == "teams" {
		w.leads = nil
	}
	w.rows[key] = r
	w.exists[key] = struct{}{}
	if r.dirty == nil {
		r.dirty = map[string]struct{}{}
	}
	if len(r.dirty) == 0 {
		w.dirty = append(w.dirty, r)
	}
	for name := range fields {
		r.dirty[name] = struct{}{}
	}
}

// flush writes every changed row, in the order rows were first changed
// (so a row is inserted before one that refers to it).
func (w *wtx) flush(ctx context.Context) error {
	for _, r := range w.dirty {
		if err := flushRow(ctx, w, r); err != nil {
			return err
		}
	}
	w.dirty = w.dirty[:0]
	return nil
}

func (w *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := w.stmts[q]; ok {
		return s, nil
	}
	s, err := w.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = s
	return s, nil
}

// QueryRowContext is sql.Tx's, through the statement cache.
func (w *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := w.stmt(ctx, q)
	if err != nil {
		return w.tx.QueryRowContext(ctx, q, args...) // reports the same error through Scan
	}
	return s.QueryRowContext(ctx, args...)
}

// ExecContext is sql.Tx's, through the statement cache.
func (w *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}
