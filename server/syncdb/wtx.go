package syncdb

import (
	"context"
	"database/sql"
)

// wtx is a write transaction that prepares each distinct statement once and
// reuses it: a group commit runs the same few statements thousands of times,
// and SQLite's parser would otherwise be a quarter of the cost of a push.
// Statement texts are built only from the schema registry, so the cache
// stays small.
type wtx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// exists remembers rows found by reference checks. Rows are never
	// removed (deletion is a tombstone), so a row seen once stays found.
	exists map[string]struct{}
}

func newWtx(tx *sql.Tx) *wtx {
	return &wtx{tx: tx, stmts: map[string]*sql.Stmt{}, exists: map[string]struct{}{}}
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
