package syncdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"dicoso/server/store"
)

// wtx is a write transaction of the merge.
//
// It prepares each distinct statement once and reuses it: a group commit
// runs the same few statements thousands of times, and SQLite's parser
// would otherwise be a quarter of the cost of a push. On SQLite the
// statements also outlive the transaction (stmtCache): a push that commits
// alone, as under a light load, would otherwise prepare them all again.
// Statement texts are built only from the schema registry, so the caches
// stay small.
//
// It also keeps the rows it merges into, and writes each changed row once,
// at flush, however many changes it took: a note autosaved forty times
// while offline is forty change-log entries but one row write. Everything
// in the merge reads rows through loadRow, which sees these pending states.
type wtx struct {
	tx      *sql.Tx
	dialect store.Dialect
	shared  *stmtCache // nil: prepare per transaction
	stmts   map[string]*sql.Stmt
	// exists remembers rows found by reference checks. Rows are never
	// removed (deletion is a tombstone), so a row seen once stays found.
	exists map[string]struct{}
	rows   map[string]*rowState // "table/id" -> the row as merged so far
	dirty  []*rowState          // rows to write at flush, in first-change order
	// leads remembers leadsTeamOf's answers; a write to teams forgets them.
	leads map[string]bool

	// On SQLite, change-log entries wait in log, logCols values each, and
	// go in by many-row INSERTs (logChange, flushLog): one statement per
	// logChunk changes rather than one each. Their sequence numbers are
	// taken here (nextSeq, read once from the store), as the single writer
	// may. Anything that reads change_log in the transaction, and any
	// write to visit_notes (whose triggers read the entry a row's seq
	// names), flushes them first; flush does too. A failed flush is kept in
	// err and fails the transaction.
	log     []any
	nextSeq int64
	err     error
}

func newWtx(tx *sql.Tx, d store.Dialect, shared *stmtCache) *wtx {
	return &wtx{tx: tx, dialect: d, shared: shared, stmts: map[string]*sql.Stmt{},
		exists: map[string]struct{}{}, rows: map[string]*rowState{}}
}

// querier reads: a *sql.Tx, or a *wtx through its statement cache.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// stmtCache keeps statements prepared on the SQLite store's one writer
// connection, for every write transaction after. (sql.Tx.StmtContext finds
// the statement already prepared on the transaction's connection and
// reuses it.) A statement is prepared for the cache between transactions,
// by warm: preparing on the store while a transaction holds its one
// connection would wait for that connection forever. PostgreSQL has a pool
// of connections that other processes may migrate under it, so there each
// transaction prepares its own.
type stmtCache struct {
	db   *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want map[string]struct{} // asked for in a transaction, to prepare after it
}

func newStmtCache(st *store.Store) *stmtCache {
	if st.Dialect() != store.SQLite {
		return nil
	}
	return &stmtCache{db: st.Writer(), m: map[string]*sql.Stmt{}, want: map[string]struct{}{}}
}

// get is the cached statement for q, or nil: then warm prepares it.
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[q]
	if !ok {
		c.want[q] = struct{}{}
	}
	return s
}

// warm prepares the statements transactions asked for and did not find. It
// must run outside any write transaction, and prepares without holding the
// cache's lock: it may wait for the connection, which a transaction
// elsewhere (an admin's REST edit) holds while it asks the cache too.
func (c *stmtCache) warm(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	qs := make([]string, 0, len(c.want))
	for q := range c.want {
		qs = append(qs, q)
	}
	clear(c.want)
	c.mu.Unlock()
	for _, q := range qs {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if old, ok := c.m[q]; ok {
			old.Close()
		}
		c.m[q] = s
		c.mu.Unlock()
	}
	return nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
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

// flush writes the waiting change-log entries, then every changed row, in
// the order rows were first changed (so a row is inserted before one that
// refers to it).
func (w *wtx) flush(ctx context.Context) error {
	if err := w.flushLog(ctx); err != nil {
		return err
	}
	for rest := w.dirty; len(rest) > 0; {
		// New rows of one table, one after the other, writing the same
		// columns (a trip's days) go rowChunk to a statement: a
		// many-row INSERT writes them in the same order, row by row.
		// A shorter run is written row by row.
		n := insertRun(rest)
		if n == rowChunk {
			if err := insertRows(ctx, w, rest[:n]); err != nil {
				return err
			}
		} else {
			for _, r := range rest[:max(n, 1)] {
				if err := flushRow(ctx, w, r); err != nil {
					return err
				}
			}
		}
		rest = rest[max(n, 1):]
	}
	w.dirty = w.dirty[:0]
	return nil
}

// rowChunk is how many new rows one statement inserts (flush).
const rowChunk = 16

// insertRun is how many rows at the start of rows, at most rowChunk, are
// new rows of one table writing the same columns (0 if the first is in
// the store already).
func insertRun(rows []*rowState) int {
	first := rows[0]
	if first.inDB {
		return 0
	}
	n := 1
	for ; n < rowChunk && n < len(rows); n++ {
		r := rows[n]
		if r.inDB || r.table != first.table || !sameKeys(r.dirty, first.dirty) {
			break
		}
	}
	return n
}

func sameKeys(a, b map[string]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func (w *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := w.stmts[q]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if ps := w.shared.get(q); ps != nil {
		s = w.tx.StmtContext(ctx, ps)
	} else {
		var err error
		if s, err = w.tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
	}
	w.stmts[q] = s
	return s, nil
}

// QueryContext is sql.Tx's, through the statement cache.
func (w *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := w.logBefore(ctx, q, false); err != nil {
		return nil, err
	}
	s, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext is sql.Tx's, through the statement cache. A failed log
// flush is not lost with the row: it fails the transaction (w.err).
func (w *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	_ = w.logBefore(ctx, q, false)
	s, err := w.stmt(ctx, q)
	if err != nil {
		return w.tx.QueryRowContext(ctx, q, args...) // reports the same error through Scan
	}
	return s.QueryRowContext(ctx, args...)
}

// ExecContext is sql.Tx's, through the statement cache.
func (w *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := w.logBefore(ctx, q, true); err != nil {
		return nil, err
	}
	s, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// Change-log entries as logChange queues them: the columns of logInsert.
const (
	logCols  = 12
	logChunk = 32
)

// logInsertHead starts every logInserts statement: logBefore tells them
// from the statements that read change_log by it.
const logInsertHead = "INSERT OR FAIL INTO change_log"

// logInserts[n] is the INSERT of n change-log entries, built once: the
// statement cache is keyed by its text. OR FAIL spares SQLite a statement
// journal for each of them (a copy of every page the statement touches,
// kept to undo it alone): any failure fails the whole transaction anyway
// (w.err), so there is nothing to undo a statement at a time. Measured by
// BenchmarkPush (mix=field, 100 devices): 2–3% less CPU a change.
var logInserts = func() (q [logChunk + 1]string) {
	const one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for n := 1; n <= logChunk; n++ {
		q[n] = logInsertHead + `
		(seq, change_id, tbl, row_id, op, hlc, user_id, device_id, received_at, applied, previous, lost)
		VALUES ` + one + strings.Repeat(", "+one, n-1)
	}
	return q
}()

// takeSeq is the change-log sequence of the next entry: one past any the
// store ever gave (AUTOINCREMENT keeps that in sqlite_sequence), counted
// on from there for the rest of the transaction.
func (w *wtx) takeSeq(ctx context.Context) (int64, error) {
	if w.nextSeq == 0 {
		var last int64
		if err := w.tx.QueryRowContext(ctx, `SELECT MAX(
			COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), 0),
			COALESCE((SELECT MAX(seq) FROM change_log), 0))`).Scan(&last); err != nil {
			return 0, fmt.Errorf("read the change-log sequence: %w", err)
		}
		w.nextSeq = last + 1
	}
	seq := w.nextSeq
	w.nextSeq++
	return seq, nil
}

// queueLog adds one change-log entry (logCols values, seq first) and
// inserts a full chunk.
func (w *wtx) queueLog(ctx context.Context, entry ...any) error {
	w.log = append(w.log, entry...)
	if len(w.log) >= logChunk*logCols {
		return w.flushLog(ctx)
	}
	return nil
}

// flushLog inserts the waiting change-log entries.
func (w *wtx) flushLog(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	for rest := w.log; len(rest) > 0; {
		n := min(len(rest)/logCols, logChunk)
		s, err := w.stmt(ctx, logInserts[n])
		if err == nil {
			_, err = s.ExecContext(ctx, rest[:n*logCols]...)
		}
		if err != nil {
			w.err = fmt.Errorf("log changes: %w", err)
			return w.err
		}
		rest = rest[n*logCols:]
	}
	// Keep the buffer for the next entries, without their values.
	clear(w.log)
	w.log = w.log[:0]
	return nil
}

// logBefore flushes the waiting entries before a statement that would
// miss them: one reading change_log, or a write to visit_notes (whose
// triggers read the entry the row's seq names).
func (w *wtx) logBefore(ctx context.Context, q string, write bool) error {
	if len(w.log) == 0 && w.err == nil {
		return nil
	}
	if strings.Contains(q, "change_log") && !strings.HasPrefix(q, logInsertHead) ||
		write && strings.Contains(q, "visit_notes") {
		return w.flushLog(ctx)
	}
	return nil
}
