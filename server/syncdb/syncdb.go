// Package syncdb is the central store's side of sync protocol v1: the one
// write path into synced tables (device pushes and the server's own edits
// alike) and the scoped, paginated read that pull serves.
//
// Every write merges field by field, last writer wins by HLC; every applied
// change is kept in change_log with what it overwrote; concurrent pushes
// share one transaction and one fsync (group commit).
package syncdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/sync/hlc"
	"dicoso/sync/plan"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// ServerNode prefixes the clock node (and device id) of changes the server
// makes. Each engine adds a random suffix, so that two processes writing
// one store (a `dicoso user add` beside a running server) never issue the
// same stamp, which would make one write silently lose to the other.
const ServerNode = "server"

// isServerNode reports whether a clock node is a server engine's.
func isServerNode(node string) bool { return strings.HasPrefix(node, ServerNode) }

// Actor is who is pushing or pulling.
type Actor struct {
	UserID       string
	Roles        []string
	DepartmentID string
	UnitID       string
	DeviceID     string

	// reach is filled by the pull from the store; nil means unknown, and
	// the read scope then keeps every clause the roles allow.
	reach *reach
	// dialect is the store's the actor reads and writes, set by the
	// engine's entry points (Push, Pull, ...): read scopes are SQL in it.
	dialect store.Dialect
}

// Has reports whether the actor holds role.
func (a Actor) Has(role string) bool { return slices.Contains(a.Roles, role) }

// seesAll reports whether a holds a headquarters role, which reads and
// reviews everything (sync/plan, specs.go).
func (a Actor) seesAll() bool { return plan.SeesAll(a.Roles) }

// Options tune a DB.
type Options struct {
	ClockSkew time.Duration    // how far ahead of server time a pushed HLC may be
	Now       func() time.Time // physical clock; time.Now when nil
	Log       *slog.Logger
	// Observe, when set, is told the outcome of every push batch (metrics).
	Observe func(applied, duplicate, rejected int, jobs int)
}

// DB merges changes into the central store.
type DB struct {
	st     *store.Store
	tables tableSet // the synced tables it merges and serves
	clock  *hlc.Clock
	now    func() time.Time
	log    *slog.Logger
	opts   Options

	jobs chan *pushJob
	stop chan struct{}
	done chan struct{}

	defaults stdsync.Map // table name → its column defaults (see columnDefaults)
	stmts    *stmtCache  // the writer's statements, kept across transactions (SQLite)
}

// tableSet is the synced tables of an engine: the registry's (sync/schema),
// and in tests a scratch table besides, to show a table without a spec
// allows nothing.
type tableSet struct {
	list   []*schema.Table
	byName map[string]*schema.Table
}

func newTableSet(tables []*schema.Table) tableSet {
	ts := tableSet{list: tables, byName: make(map[string]*schema.Table, len(tables))}
	for _, t := range tables {
		ts.byName[t.Name] = t
	}
	return ts
}

func (ts tableSet) lookup(name string) (*schema.Table, bool) {
	t, ok := ts.byName[name]
	return t, ok
}

// New starts the merge engine over st. Close stops it.
func New(st *store.Store, opts Options) *DB {
	return newDB(st, opts, newTableSet(schema.Tables()))
}

func newDB(st *store.Store, opts Options, tables tableSet) *DB {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = 5 * time.Minute
	}
	node := ServerNode + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
	d := &DB{
		st:     st,
		tables: tables,
		clock:  hlc.NewClock(node, opts.Now, opts.ClockSkew),
		now:    opts.Now,
		log:    opts.Log,
		opts:   opts,
		jobs:   make(chan *pushJob, 256),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		stmts:  newStmtCache(st),
	}
	d.resumeClock()
	go d.commitLoop()
	return d
}

// resumeClock starts the clock past every stamp already in the store, so a
// server restarted with its wall clock behind does not stamp its own edits
// older than changes it merged before.
func (d *DB) resumeClock() {
	var newest sql.NullString
	if err := d.st.Reader().QueryRowContext(context.Background(), "SELECT MAX(hlc) FROM change_log").Scan(&newest); err != nil {
		d.log.Warn("could not read the newest clock stamp; the clock starts from wall time", "err", err)
		return
	}
	if ts, err := hlc.Parse(newest.String); err == nil {
		d.clock.Observe(ts)
	}
}

// Close stops the group committer after the batch in hand is durable.
func (d *DB) Close() {
	close(d.stop)
	<-d.done
	d.stmts.close()
}

// Clock is the server's hybrid logical clock.
func (d *DB) Clock() *hlc.Clock { return d.clock }

// Store is the underlying store.
func (d *DB) Store() *store.Store { return d.st }

// ErrClosed is returned by Push after Close.
var ErrClosed = errors.New("sync engine is closed")

// ServerChange is a change the server itself makes (seed load, an admin's
// REST edit, user creation). Fields use wire names and wire JSON types.
type ServerChange struct {
	Table  string
	RowID  string
	Delete bool
	Fields map[string]any
}

// RejectedError is a server-made change the engine refused: a value the
// schema refuses, a missing required field, a reference to a row that does
// not exist. Code is a rejection code of docs/protocol.md (validation_failed,
// unknown_field, ...); Field names the field at fault when there is one.
type RejectedError struct {
	Table, RowID string
	Code         string
	Field        string
	Message      string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("apply %s %s: %s: %s", e.Table, e.RowID, e.Code, e.Message)
}

// ApplyServerTx merges server-made changes inside the caller's transaction,
// stamped with the server clock and recorded in change_log as made by
// actorUserID (empty for the system itself) on the engine's own "server-…" device. A change the
// engine refuses is a *RejectedError; any error means the caller's
// transaction should roll back.
func (d *DB) ApplyServerTx(ctx context.Context, tx *sql.Tx, actorUserID string, changes []ServerChange) error {
	now := d.now().UTC()
	wt := newWtx(tx, d.st.Dialect(), d.stmts)
	for _, sc := range changes {
		op := protocol.OpUpsert
		if sc.Delete {
			op = protocol.OpDelete
		}
		ch := protocol.Change{
			ID:     uuid.Must(uuid.NewV7()).String(), // time-ordered, as devices make them
			Table:  sc.Table,
			RowID:  sc.RowID,
			Op:     op,
			HLC:    d.clock.Now().String(),
			Fields: sc.Fields,
		}
		w := &writeCtx{actor: Actor{UserID: actorUserID, DeviceID: d.clock.Node(), dialect: d.st.Dialect()}, server: true, now: now}
		// A server change skips applyChange's idempotency check (its change
		// id is fresh), so merge directly and keep the rejection's field.
		err := d.merge(ctx, wt, w, ch)
		var rj *rejection
		if errors.As(err, &rj) {
			return &RejectedError{Table: sc.Table, RowID: sc.RowID, Code: rj.code, Field: rj.field, Message: rj.msg}
		}
		if err != nil {
			return fmt.Errorf("apply %s %s: %w", sc.Table, sc.RowID, err)
		}
		// Server changes touch reference tables, whose foreign keys SQLite
		// checks row by row: write each change before the next one, and
		// all before the caller goes on with its own SQL.
		if err := wt.flush(ctx); err != nil {
			return fmt.Errorf("apply %s %s: %w", sc.Table, sc.RowID, err)
		}
	}
	return nil
}

// ApplyJudgedTx merges, inside the caller's transaction, a change a user
// makes over REST that a device of theirs could push (a headquarters
// decision on a proposed place): it is judged by the table's spec exactly
// as their push would be, stamped with the server clock, and recorded in
// change_log as made by actor on the engine's own device. A refusal is a
// *RejectedError; any other error means the caller's transaction should
// roll back.
func (d *DB) ApplyJudgedTx(ctx context.Context, tx *sql.Tx, actor Actor, sc ServerChange) error {
	wt := newWtx(tx, d.st.Dialect(), d.stmts)
	actor.DeviceID = d.clock.Node()
	actor.dialect = d.st.Dialect()
	actor.reach = nil
	op := protocol.OpUpsert
	if sc.Delete {
		op = protocol.OpDelete
	}
	ch := protocol.Change{ID: uuid.Must(uuid.NewV7()).String(), Table: sc.Table, RowID: sc.RowID, Op: op, HLC: d.clock.Now().String(), Fields: sc.Fields}
	w := &writeCtx{actor: actor, now: d.now().UTC()}
	err := d.merge(ctx, wt, w, ch)
	var rj *rejection
	if errors.As(err, &rj) {
		return &RejectedError{Table: sc.Table, RowID: sc.RowID, Code: rj.code, Field: rj.field, Message: rj.msg}
	}
	if err != nil {
		return fmt.Errorf("apply %s %s: %w", sc.Table, sc.RowID, err)
	}
	if err := wt.flush(ctx); err != nil {
		return fmt.Errorf("apply %s %s: %w", sc.Table, sc.RowID, err)
	}
	return nil
}
