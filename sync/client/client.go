// Package client is the Go device side of sync protocol v1 (docs/protocol.md): a
// device with its own SQLite file holding the synced tables, an outbox
// written in the same transaction as every local edit, and Sync, which
// pushes the outbox and pulls what changed.
//
// How the local copy is kept:
//   - the synced tables hold what the user sees: the server's row with the
//     device's own unconfirmed edits (the outbox) laid on top;
//   - server_rows keeps the server's state of every row that has outbox
//     entries, so that when the server refuses an edit, or an edit loses the
//     merge, the row can be rebuilt as the server has it plus what is still
//     pending;
//   - an outbox entry the server acknowledged stays on top (acked) until the
//     next complete pull shows the server's verdict, so a confirmed edit does
//     not flicker back between push and pull;
//   - a full snapshot (an empty cursor: first sync, or after a reset) is
//     staged in shadow tables (snapshot_<table>) and swapped in with one
//     transaction when its last page arrives, so a half snapshot is never
//     visible (snapshot.go);
//   - sync_state holds the pull cursor, the device id, the clock offset, the
//     tokens and the snapshot's progress.
//
// Every step is one transaction, so the device can be killed at any point:
// a change whose answer was lost is sent again with the same change id and
// the server answers duplicate.
package client

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)

	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// Defaults of Options.
const (
	DefaultPushBatch   = 100
	DefaultMaxAttempts = 5
	DefaultRetryBase   = 200 * time.Millisecond
	DefaultRetryMax    = 10 * time.Second
)

// Options configure a Device. Zero values take the defaults.
type Options struct {
	// BaseURL is the server, e.g. "https://dicoso.example.org" (no /api/v1).
	BaseURL string
	// HTTP is the client requests go through (a 60 s timeout when nil).
	HTTP *http.Client
	// DeviceID is this device's id, also the node of its clock. It is stored
	// on first open; a later open may leave it empty, and must not name
	// another id. A random UUID when empty on first open.
	DeviceID string
	// DeviceName is shown to the user in session lists ("Lan's phone").
	DeviceName string
	// Now is the device's physical clock (time.Now when nil). The clock
	// offset learnt from the server is added to it.
	Now    func() time.Time
	Logger *slog.Logger

	// RelaxedDurability runs the device file with synchronous=NORMAL: a
	// commit survives the process being killed but not a power cut. It is
	// for simulated devices sharing one disk (tests, the load generator),
	// where a device's own fsyncs would be all that is measured. A real
	// device leaves it false (synchronous=FULL).
	RelaxedDurability bool

	PushBatch   int           // changes per push (default 100, at most protocol.MaxBatch)
	PullLimit   int           // rows per pull page (default protocol.MaxPullLimit: fewer round trips)
	MaxAttempts int           // tries of one request on transient failures (default 5)
	RetryBase   time.Duration // first backoff (default 200 ms), doubled each try, with jitter
	RetryMax    time.Duration // longest backoff (default 10 s)
}

// Device is one device's local store and its sync with the server. Its
// methods are safe for concurrent use; Sync, Push and Pull run one at a time.
type Device struct {
	db   *sql.DB
	opts Options
	id   string
	log  *slog.Logger
	http *http.Client
	base string
	ps   map[string]*sql.Stmt // prepared statements of the hot paths

	syncMu stdsync.Mutex // one push or pull at a time

	clockMu stdsync.Mutex
	clock   *hlc.Clock
	offset  time.Duration
	// serverTime is the server's clock as last heard (a push's server_time
	// or any answer's Date header), to keep offset in step with it.
	serverTime, serverTimeAt time.Time

	authMu stdsync.Mutex // guards the tokens and their refresh
	tokens tokenState
}

// tokenState is the session, mirrored from sync_state.
type tokenState struct {
	access, refresh string
	userID          string
	roles           []string
}

// Errors.
var (
	// ErrNotLoggedIn means the device holds no session: call Login.
	ErrNotLoggedIn = errors.New("client: not logged in")
	// ErrLoginRequired means the session ended (refresh refused): log in again.
	ErrLoginRequired = errors.New("client: the session has ended; log in again")
	// ErrOtherUser means a device file already belongs to another user.
	ErrOtherUser = errors.New("client: this device file belongs to another user")
)

// sync_state keys.
const (
	keyDeviceID      = "device_id"
	keyCursor        = "cursor"          // committed pull cursor; "" until the first snapshot is complete
	keyStagedCursor  = "staged_cursor"   // cursor of the snapshot pages staged so far (snapshot.go)
	keyStagedLeft    = "staged_left"     // tables some staged row left, space-separated
	keyOldSnapCursor = "snapshot_cursor" // the same, of builds before the shadow tables
	keyOffset        = "clock_offset_ms" // added to the physical clock
	keyHLC           = "hlc_last"        // last stamp issued, so a restart never goes back
	keyAccess        = "access_token"
	keyRefresh       = "refresh_token"
	keyUserID        = "user_id"
	keyRoles         = "roles"
	keyFieldSet      = "field_set" // schema.FieldSet of the build whose pulls the synced tables hold
)

// dsn: WAL so reads run beside the writer, synchronous FULL so a committed
// local edit survives power loss, immediate transactions so a read-then-write
// transaction cannot fail on lock upgrade.
func dsn(path string, relaxed bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	if relaxed {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Set("_txlock", "immediate")
	return FileURI(path, q)
}

// FileURI is the "file:" URI of the SQLite file at path with the driver's
// parameters q, the path percent-escaped: SQLite decodes %HH in a URI's path,
// and an unescaped '?' or '#' in a directory name would otherwise end the
// path early and open (or create) a different file.
func FileURI(path string, q url.Values) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	u := url.URL{Scheme: "file", Opaque: esc, RawQuery: q.Encode()}
	return u.String()
}

// Open opens (creating if needed) the device file at path.
func Open(ctx context.Context, path string, opts Options) (*Device, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.PushBatch <= 0 {
		opts.PushBatch = DefaultPushBatch
	}
	opts.PushBatch = min(opts.PushBatch, protocol.MaxBatch)
	if opts.PullLimit < 0 || opts.PullLimit > protocol.MaxPullLimit {
		return nil, fmt.Errorf("client: pull limit must be between 0 and %d", protocol.MaxPullLimit)
	}
	if opts.PullLimit == 0 {
		// The largest page the server gives: a snapshot of 100,000 rows in
		// 50 round trips rather than 200. A page is one transaction on the
		// device, so a dropped connection loses at most one page.
		opts.PullLimit = protocol.MaxPullLimit
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = DefaultRetryBase
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	if opts.DeviceID != "" && !hlc.ValidNode(opts.DeviceID) {
		return nil, fmt.Errorf("client: device id %q must be 1-64 letters, digits, '-' or '_'", opts.DeviceID)
	}
	db, err := sql.Open("sqlite", dsn(path, opts.RelaxedDurability))
	if err != nil {
		return nil, fmt.Errorf("client: open %s: %w", path, err)
	}
	// One connection: the device is one user's; writes queue in Go.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	d := &Device{db: db, opts: opts, log: opts.Logger, http: opts.HTTP, base: strings.TrimRight(opts.BaseURL, "/")}
	if err := d.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the device file. Nothing is lost: every step was committed.
func (d *Device) Close() error {
	for _, s := range d.ps {
		s.Close()
	}
	return d.db.Close()
}

// ID is the device id (the node of its clock).
func (d *Device) ID() string { return d.id }

// UserID is the logged-in user's id ("" before Login).
func (d *Device) UserID() string {
	d.authMu.Lock()
	defer d.authMu.Unlock()
	return d.tokens.userID
}

// init creates the tables and loads the device's identity and clock.
func (d *Device) init(ctx context.Context) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("client: begin: %w", err)
	}
	if err := createSchema(ctx, tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("client: create schema: %w", err)
	}
	if err := dropOldStaging(txn{ctx: ctx, tx: tx, db: d.db}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := followFieldSet(txn{ctx: ctx, tx: tx, db: d.db}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("client: create schema: %w", err)
	}
	if d.ps, err = prepare(ctx, d.db); err != nil {
		return err
	}
	st, err := state(d.reader(ctx), keyDeviceID, keyOffset, keyHLC, keyAccess, keyRefresh, keyUserID, keyRoles)
	if err != nil {
		return err
	}
	switch {
	case st[keyDeviceID] == "":
		d.id = d.opts.DeviceID
		if d.id == "" {
			d.id = uuid.NewString()
		}
		if err := d.inTx(ctx, func(x txn) error { return setState(x, keyDeviceID, d.id) }); err != nil {
			return err
		}
	case d.opts.DeviceID != "" && d.opts.DeviceID != st[keyDeviceID]:
		return fmt.Errorf("client: this file is device %q, not %q", st[keyDeviceID], d.opts.DeviceID)
	default:
		d.id = st[keyDeviceID]
	}
	if ms, err := strconv.ParseInt(st[keyOffset], 10, 64); err == nil {
		d.offset = time.Duration(ms) * time.Millisecond
	}
	d.clock = d.newClock(d.offset)
	if last, err := hlc.Parse(st[keyHLC]); err == nil {
		_, _ = d.clock.Update(last) // no skew limit on the device's own clock
	}
	d.tokens = tokenState{access: st[keyAccess], refresh: st[keyRefresh], userID: st[keyUserID], roles: splitRoles(st[keyRoles])}
	return nil
}

func (d *Device) newClock(offset time.Duration) *hlc.Clock {
	now := d.opts.Now
	return hlc.NewClock(d.id, func() time.Time { return now().Add(offset) }, 0)
}

// now is the device's corrected physical time.
func (d *Device) now() time.Time {
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	return d.opts.Now().Add(d.offset)
}

// stamp takes the next local clock reading.
func (d *Device) stamp() hlc.Timestamp {
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	return d.clock.Now()
}

// absurdAhead is how far past the server's time a pulled stamp may be before
// the device refuses to follow it. The server refuses pushed stamps more
// than its clock_skew (minutes) ahead of its clock, so a stamp a day ahead
// means a damaged row, and following it would freeze the device's clock
// there. It is judged against the server's time, never the device's own: a
// phone running days behind must still follow every version it pulls.
const absurdAhead = 24 * time.Hour

// observe moves the clock past a remote reading (the receive rule of a
// hybrid logical clock), so an edit made after seeing another device's
// value carries a later stamp than that value.
func (d *Device) observe(s string) {
	ts, err := hlc.Parse(s)
	if err != nil {
		return
	}
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	if !d.serverTime.IsZero() {
		serverNow := d.serverTime.Add(d.opts.Now().Sub(d.serverTimeAt))
		if ts.Time().After(serverNow.Add(absurdAhead)) {
			d.log.Warn("ignoring a clock stamp far ahead of the server's time", "stamp", s, "server_time", serverNow)
			return
		}
	}
	d.clock.Observe(ts)
}

// sawServerTime records the server's time as an answer gave it, and moves
// the clock past it: a device whose clock runs behind stamps its next edit
// after everything the server had when it answered.
func (d *Device) sawServerTime(t time.Time) {
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	d.serverTime, d.serverTimeAt = t, d.opts.Now()
	d.clock.Observe(hlc.Timestamp{Millis: t.UnixMilli()})
}

// ClockOffset is what the device adds to its physical clock, learnt from
// the server when it refused the device's stamps as skewed.
func (d *Device) ClockOffset() time.Duration {
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	return d.offset
}

func splitRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// createSchema makes the device's tables. Synced tables get any column the
// schema gained since the file was made.
func createSchema(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		// The outbox: local edits in the order they were made. acked_at is
		// set when the server confirmed the change; the entry stays on top
		// of the row until the next complete pull.
		`CREATE TABLE IF NOT EXISTS outbox (
			seq         INTEGER PRIMARY KEY AUTOINCREMENT,
			change_id   TEXT NOT NULL UNIQUE,
			tbl         TEXT NOT NULL,
			row_id      TEXT NOT NULL,
			op          TEXT NOT NULL,
			hlc         TEXT NOT NULL,
			fields      TEXT NOT NULL DEFAULT '{}',
			base_cursor TEXT NOT NULL DEFAULT '',
			created_at  TEXT NOT NULL,
			acked_at    TEXT
		)`,
		`CREATE INDEX IF NOT EXISTS outbox_row ON outbox(tbl, row_id, seq)`,
		// The entries not yet acknowledged, in order: a device that pushes
		// batch after batch before its next pull (a month offline) keeps
		// the acknowledged ones until that pull, and reading the next batch
		// or counting what is pending must not step over all of them.
		`CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(seq) WHERE acked_at IS NULL`,
		`CREATE VIEW IF NOT EXISTS pending AS
			SELECT seq, change_id, tbl, row_id, op, hlc, fields FROM outbox WHERE acked_at IS NULL`,
		// Changes the server refused, kept for the user to see.
		`CREATE TABLE IF NOT EXISTS rejected (
			change_id TEXT PRIMARY KEY,
			tbl       TEXT NOT NULL,
			row_id    TEXT NOT NULL,
			op        TEXT NOT NULL,
			hlc       TEXT NOT NULL,
			fields    TEXT NOT NULL DEFAULT '{}',
			code      TEXT NOT NULL,
			message   TEXT NOT NULL,
			at        TEXT NOT NULL
		)`,
		// Values of this device's changes that lost to a concurrent later
		// write (the push result's lost list), kept for the user to copy back.
		`CREATE TABLE IF NOT EXISTS lost (
			change_id TEXT NOT NULL,
			field     TEXT NOT NULL,
			tbl       TEXT NOT NULL,
			row_id    TEXT NOT NULL,
			value     TEXT NOT NULL,
			by_user   TEXT NOT NULL DEFAULT '',
			by_name   TEXT NOT NULL DEFAULT '',
			won_at    TEXT NOT NULL DEFAULT '',
			hlc       TEXT NOT NULL,
			PRIMARY KEY (change_id, field)
		)`,
		// The server's state of each row with outbox entries (present = 0:
		// the server has no such row as far as the device knows).
		`CREATE TABLE IF NOT EXISTS server_rows (
			tbl     TEXT NOT NULL,
			row_id  TEXT NOT NULL,
			present INTEGER NOT NULL,
			fields  TEXT NOT NULL DEFAULT '{}',
			deleted INTEGER NOT NULL DEFAULT 0,
			version TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (tbl, row_id)
		)`,
	}
	// Each synced table, and its shadow where a snapshot is staged.
	for _, t := range schema.Tables() {
		stmts = append(stmts, createTableSQL(t, false), createTableSQL(t, true))
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	for _, t := range schema.Tables() {
		for _, name := range []string{t.Name, stagedTable(t)} {
			have, err := columnsOf(ctx, tx, name)
			if err != nil {
				return err
			}
			for _, f := range t.Fields {
				if have[f.Name] {
					continue
				}
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+name+" ADD COLUMN "+f.Name+" "+sqlType(f.Type)); err != nil {
					return fmt.Errorf("add %s.%s: %w", name, f.Name, err)
				}
			}
		}
	}
	return nil
}

// followFieldSet starts the pull over with a full snapshot when this
// build's registry has another field set than the build that pulled the
// rows the device holds. createSchema has just added the columns a newer
// registry brings, but the rows pulled before hold nothing in them (a
// device drops fields it does not know, and the server sends a row again
// only when it changes), so without a new snapshot the device would never
// get those values. Pending edits stay on top of the snapshot, as after a
// reset. A file from before field sets were recorded starts over once.
func followFieldSet(x txn) error {
	st, err := state(x, keyFieldSet)
	if err != nil {
		return err
	}
	if st[keyFieldSet] == schema.FieldSet() {
		return nil
	}
	if err := restartSnapshot(x); err != nil {
		return err
	}
	return setState(x, keyFieldSet, schema.FieldSet())
}

func columnsOf(ctx context.Context, tx *sql.Tx, table string) (map[string]bool, error) {
	rs, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rs.Close()
	out := map[string]bool{}
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		out[n] = true
	}
	return out, rs.Err()
}

func sqlType(t schema.Type) string {
	switch t {
	case schema.Int, schema.Bool:
		return "INTEGER"
	case schema.Real:
		return "REAL"
	}
	return "TEXT"
}

// inTx runs fn in one write transaction.
func (d *Device) inTx(ctx context.Context, fn func(txn) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("client: begin: %w", err)
	}
	if err := fn(txn{ctx: ctx, tx: tx, db: d.db, ps: d.ps}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("client: commit: %w", err)
	}
	return nil
}

// reader reads outside a transaction.
func (d *Device) reader(ctx context.Context) txn { return txn{ctx: ctx, db: d.db, ps: d.ps} }

// state reads sync_state keys; a missing key reads as "".
func state(x txn, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		var v string
		err := x.queryRow(qState, k).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("client: read state %s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func setState(x txn, key, value string) error {
	if _, err := x.exec(qSetState, key, value); err != nil {
		return fmt.Errorf("client: write state %s: %w", key, err)
	}
	return nil
}

func nowText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
