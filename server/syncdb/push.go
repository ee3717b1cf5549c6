package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"dicoso/server/store"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// Group commit: a push waits for a transaction's fsync. Rather than one
// fsync per push, the committer takes every push waiting at that moment,
// applies them in one transaction and commits once. Should that shared
// transaction fail on a store error, each push is retried in a transaction
// of its own, so one push cannot fail the others with it.
const (
	maxJobsPerCommit    = 64
	maxChangesPerCommit = 20000
)

type pushJob struct {
	actor Actor
	req   protocol.PushRequest
	// base is req.BaseCursor read, when it has one (hasBase); vouch
	// decides what it vouches for.
	base    cursor
	hasBase bool
	out     chan pushOutcome
}

type pushOutcome struct {
	resp protocol.PushResponse
	err  error
}

// ErrBadBaseCursor refuses a push whose base_cursor is not written as the
// server writes cursors: no pull gave it (400 validation_failed, field
// base_cursor; docs/protocol.md, Push).
var ErrBadBaseCursor = errors.New("base_cursor is not a pull cursor this server gave")

// Push merges a device's changes and answers once they are durable. The
// request must have passed protocol.DecodePush.
func (d *DB) Push(ctx context.Context, actor Actor, req protocol.PushRequest) (protocol.PushResponse, error) {
	actor.DeviceID = req.DeviceID
	actor.dialect = d.st.Dialect()
	job := &pushJob{actor: actor, req: req, out: make(chan pushOutcome, 1)}
	if req.BaseCursor != "" {
		c, err := parseCursor(req.BaseCursor)
		if err != nil {
			return protocol.PushResponse{}, ErrBadBaseCursor
		}
		job.base, job.hasBase = c, true
	}
	select {
	case d.jobs <- job:
	case <-d.stop:
		return protocol.PushResponse{}, ErrClosed
	case <-ctx.Done():
		return protocol.PushResponse{}, ctx.Err()
	}
	// Once queued the job will be committed or failed; wait for the verdict
	// even if the client went away, so what we say matches what we did.
	o := <-job.out
	return o.resp, o.err
}

func (d *DB) commitLoop() {
	defer close(d.done)
	for {
		var first *pushJob
		select {
		case first = <-d.jobs:
		case <-d.stop:
			return
		}
		batch := []*pushJob{first}
		n := len(first.req.Changes)
	gather:
		for len(batch) < maxJobsPerCommit && n < maxChangesPerCommit {
			select {
			case j := <-d.jobs:
				batch = append(batch, j)
				n += len(j.req.Changes)
			default:
				break gather
			}
		}
		d.commit(batch)
	}
}

func (d *DB) commit(batch []*pushJob) {
	outs, err := d.commitJobs(batch)
	if err != nil && len(batch) > 1 {
		// The shared transaction failed. Give every push its own, so one
		// push that trips the store cannot fail the others with it.
		d.log.Warn("group commit failed; committing pushes one by one", "jobs", len(batch), "err", err)
		for i, job := range batch {
			o, jerr := d.commitJobs([]*pushJob{job})
			if jerr != nil {
				outs[i] = pushOutcome{err: jerr}
				continue
			}
			outs[i] = o[0]
		}
	} else if err != nil {
		outs[0] = pushOutcome{err: err}
	}
	applied, dup, rejected := 0, 0, 0
	now := d.now().UTC().Format(time.RFC3339Nano)
	stamp := d.clock.Now().String()
	for i, job := range batch {
		o := outs[i]
		if o.err == nil {
			o.resp.ServerTime, o.resp.HLC = now, stamp
			for _, r := range o.resp.Results {
				switch r.Status {
				case protocol.StatusApplied:
					applied++
				case protocol.StatusDuplicate:
					dup++
				default:
					rejected++
				}
			}
		} else {
			d.log.Error("push failed", "device", job.actor.DeviceID, "err", o.err)
		}
		job.out <- o
	}
	if d.opts.Observe != nil {
		d.opts.Observe(applied, dup, rejected, len(batch))
	}
	if err := d.stmts.warm(context.Background()); err != nil {
		d.log.Warn("preparing the writer's statements", "err", err)
	}
}

// commitJobs applies pushes in one transaction and commits once. Its
// outcomes hold only if the error is nil.
func (d *DB) commitJobs(batch []*pushJob) ([]pushOutcome, error) {
	outs := make([]pushOutcome, len(batch))
	// The store work must not be cut short by one client's cancellation:
	// other pushes share this transaction.
	ctx := context.Background()
	err := d.st.InTx(ctx, func(tx *sql.Tx) error {
		wt := newWtx(tx, d.st.Dialect(), d.stmts)
		// The log's end before this commit writes: what a base or a
		// cursor the server gave can name.
		end, err := logEnd(ctx, wt)
		if err != nil {
			return err
		}
		created := make([]map[string]bool, len(batch))
		for i, job := range batch {
			results, made, err := d.applyPush(ctx, wt, job, end)
			if err != nil {
				return err
			}
			outs[i].resp.Results, created[i] = results, made
		}
		if err := wt.flush(ctx); err != nil {
			return err
		}
		// Answers to pushes sent with no_echo are judged on the rows as
		// the whole batch left them: applied in any order, they give the
		// device the same values.
		for i, job := range batch {
			if !job.req.NoEcho {
				continue
			}
			reader, _, err := withReach(ctx, wt, job.actor)
			if err != nil {
				return err
			}
			for j, ch := range job.req.Changes {
				if r := &outs[i].resp.Results[j]; r.Status != protocol.StatusRejected {
					if err := d.ownEcho(ctx, wt, job.actor.DeviceID, ch, created[i], r); err != nil {
						return err
					}
				}
			}
			if err := d.markOutOfScope(ctx, wt, reader, job.req.Changes, outs[i].resp.Results); err != nil {
				return err
			}
		}
		return wt.flush(ctx) // nothing is left to write; a failed write fails the commit
	})
	return outs, err
}

// applyPush merges one push's changes in order.
// It returns the verdicts and, for a push sent with no_echo, which of its
// changes created their row.
func (d *DB) applyPush(ctx context.Context, tx *wtx, job *pushJob, end int64) ([]protocol.Result, map[string]bool, error) {
	w := &writeCtx{actor: job.actor, now: d.now().UTC(), logEnd: end}
	if job.req.NoEcho {
		w.created = map[string]bool{}
	}
	if err := vouch(ctx, tx, w, job); err != nil {
		return nil, nil, err
	}
	if err := touchDevice(ctx, tx, job.actor, w.now); err != nil {
		return nil, nil, err
	}
	prior, err := priorVerdicts(ctx, tx, job.actor.DeviceID, job.req.Changes)
	if err != nil {
		return nil, nil, err
	}
	if err := d.relost(ctx, tx, w, prior); err != nil {
		return nil, nil, err
	}
	w.prior = prior
	results := make([]protocol.Result, 0, len(job.req.Changes))
	for _, ch := range job.req.Changes {
		r, err := d.applyChange(ctx, tx, w, ch)
		if err != nil {
			return nil, nil, err
		}
		if r.Status == protocol.StatusRejected && !isUsedElsewhere(r) {
			if err := keepRejected(ctx, tx, job.actor, ch, r, w.now); err != nil {
				return nil, nil, err
			}
		}
		results = append(results, r)
	}
	return results, w.created, nil
}

// priorVerdicts finds which of the changes were judged before, in one
// query rather than one per change. An applied change answers duplicate and
// changes nothing. A refused one stays refused with the same code and
// message: its device has already put it in front of its user, so a late
// replay must not apply it behind their back. clock_skew is the exception,
// as the device re-sends that change, restamped, under the same id.
//
// A change id is one change of one device: only that device's retry is a
// duplicate or a replay. An id another device's change holds (applied or
// refused, clock_skew included) is refused on the id, and the answer says
// nothing of that change (usedElsewhere).
func priorVerdicts(ctx context.Context, tx *wtx, device string, changes []protocol.Change) (map[string]protocol.Result, error) {
	idList := make([]string, len(changes))
	for i, ch := range changes {
		idList[i] = ch.ID
	}
	list, err := json.Marshal(idList)
	if err != nil {
		return nil, fmt.Errorf("encode change ids: %w", err)
	}
	ids := tx.dialect.JSONEach(":ids", "i")
	rows, err := tx.QueryContext(ctx, `
		SELECT change_id, device_id, '', '', '' FROM change_log WHERE change_id IN (SELECT i.value FROM `+ids+`)
		UNION ALL
		SELECT change_id, device_id, code, message, field FROM rejected_changes
		WHERE change_id IN (SELECT i.value FROM `+ids+`)`,
		sql.Named("ids", string(list)))
	if err != nil {
		return nil, fmt.Errorf("look up change ids: %w", err)
	}
	defer rows.Close()
	prior := map[string]protocol.Result{}
	for rows.Next() {
		var id, by, code, msg, field string
		if err := rows.Scan(&id, &by, &code, &msg, &field); err != nil {
			return nil, fmt.Errorf("look up change ids: %w", err)
		}
		switch {
		case by != device:
			prior[id] = usedElsewhere(id)
		case isUsedElsewhere(prior[id]):
			// another device's entry under the same id decided it
		case code == "":
			prior[id] = protocol.Result{ID: id, Status: protocol.StatusDuplicate}
		case code != protocol.CodeClockSkew:
			prior[id] = protocol.Result{ID: id, Status: protocol.StatusRejected, Code: code, Message: msg, Field: field}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up change ids: %w", err)
	}
	return prior, nil
}

// usedElsewhere is the answer to a change sent under an id another
// device's change holds. It is not kept as the id's refusal: the id is the
// other change's.
func usedElsewhere(id string) protocol.Result {
	return protocol.Result{ID: id, Status: protocol.StatusRejected, Code: protocol.CodeValidationFailed, Field: "id",
		Message: "this change id is already used by another change; send the change under a new id"}
}

// isUsedElsewhere reports whether r is usedElsewhere's answer: the one
// refusal that names the change's id (a merge names the row's fields).
func isUsedElsewhere(r protocol.Result) bool {
	return r.Status == protocol.StatusRejected && r.Code == protocol.CodeValidationFailed && r.Field == "id"
}

// relost repeats, on a change answered duplicate, the lost values its first
// answer carried: that answer may never have reached the device, and the
// notice is how its user gets the text back. The winner named is the
// field's current writer; a field the device has since won back, or one now
// holding the same value, is no longer lost.
func (d *DB) relost(ctx context.Context, tx *wtx, w *writeCtx, prior map[string]protocol.Result) error {
	var ids []string
	for id, r := range prior {
		if r.Status == protocol.StatusDuplicate {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("encode change ids: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT change_id, tbl, row_id, lost FROM change_log
		WHERE change_id IN (SELECT i.value FROM `+tx.dialect.JSONEach("?", "i")+`) AND lost != '{}'`, string(list))
	if err != nil {
		return fmt.Errorf("look up lost values: %w", err)
	}
	type lostChange struct{ id, table, row, lost string }
	var found []lostChange
	for rows.Next() {
		var c lostChange
		if err := rows.Scan(&c.id, &c.table, &c.row, &c.lost); err != nil {
			rows.Close()
			return fmt.Errorf("look up lost values: %w", err)
		}
		found = append(found, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up lost values: %w", err)
	}
	for _, c := range found {
		t, ok := schema.Lookup(c.table)
		if !ok {
			continue
		}
		var vals map[string]any
		if err := json.Unmarshal([]byte(c.lost), &vals); err != nil {
			return fmt.Errorf("decode lost values of %s: %w", c.id, err)
		}
		cur, err := loadRow(ctx, tx, t, c.row)
		if err != nil {
			return err
		}
		if cur == nil {
			continue // a delete of a row the server never had: nothing stands to name
		}
		r := prior[c.id]
		for _, name := range slices.Sorted(maps.Keys(vals)) {
			fc, had := cur.clocks[name]
			if !had || nodeOf(fc.H) == w.actor.DeviceID {
				continue
			}
			stored := cur.field(name)
			if f, ok := t.Field(name); ok {
				stored = f.FromSQL(stored)
			} else {
				stored = stored == int64(1)
			}
			if sameValue(stored, vals[name]) {
				continue
			}
			lv, err := lostValue(ctx, tx, name, vals[name], fc)
			if err != nil {
				return err
			}
			r.Lost = append(r.Lost, lv)
		}
		prior[c.id] = r
	}
	return nil
}

// ownEcho fills, on the answer to an applied or duplicate change of a push
// sent with no_echo, what the device cannot know from its own write and
// will not pull back (docs/protocol.md, "Own writes"): the row's version
// when it is not the change's clock; every value of the change's fields,
// the table's computed fields and its owner that this device's clock set
// and that differs from what the change sent; and, on the change that
// created the row, the value of every field no write has set (a column
// default, such as a new trip's status). Each is the value once the whole
// batch is merged. A field another writer holds is left out: its row
// comes back by pull (see ownRule). created lists the push's changes that
// created their row; a duplicate is looked up in the change log.
func (d *DB) ownEcho(ctx context.Context, tx *wtx, device string, ch protocol.Change, created map[string]bool, r *protocol.Result) error {
	t, ok := d.tables.lookup(ch.Table)
	if !ok || !schema.ValidID(ch.RowID) {
		return nil
	}
	rowID := strings.ToLower(ch.RowID)
	cur, err := loadRow(ctx, tx, t, rowID)
	if err != nil || cur == nil {
		return err
	}
	if cur.version != ch.HLC {
		r.Version = cur.version
	}
	creation := created[ch.ID]
	if r.Status == protocol.StatusDuplicate {
		if creation, err = firstChange(ctx, tx, t, rowID, ch.ID); err != nil {
			return err
		}
	}
	var defaults map[string]any
	for _, f := range t.Fields {
		fc, clocked := cur.clocks[f.Name]
		sent, wasSent := ch.Fields[f.Name]
		var v any
		switch {
		case clocked && nodeOf(fc.H) != device:
			continue
		case clocked && wasSent && fc.H == ch.HLC:
			continue // set by this change: the value it sent
		case clocked && (wasSent || f.Computed || f.Name == t.Owner):
			v = f.FromSQL(cur.field(f.Name))
			if wasSent {
				if sv, err := f.ToSQL(sent); err == nil && sameValue(f.FromSQL(sv), v) {
					continue
				}
			}
		case !clocked && creation:
			sv, inRow := cur.values[f.Name]
			if !inRow {
				// A row this batch inserted holds the columns it wrote;
				// the others took the table's defaults.
				if defaults == nil {
					if defaults, err = d.columnDefaults(ctx, tx.tx, t); err != nil {
						return err
					}
				}
				sv = defaults[f.Name]
			}
			if sv == nil {
				continue
			}
			v = f.FromSQL(sv)
		default:
			continue
		}
		if r.Fields == nil {
			r.Fields = map[string]any{}
		}
		r.Fields[f.Name] = v
	}
	return nil
}

// markOutOfScope sets OutOfScope on the answers to changes (applied or
// duplicate) whose row the pusher, with their reach, may not read as the
// batch left it: the device drops its copy. One query per table written.
// A row the server does not hold (a delete of a row it never had) is no
// one's: nothing to drop but the device's own copy either way.
func (d *DB) markOutOfScope(ctx context.Context, tx querier, a Actor, changes []protocol.Change, results []protocol.Result) error {
	byTable := map[*schema.Table][]int{} // positions of the answered changes, by table
	for j, ch := range changes {
		if results[j].Status == protocol.StatusRejected || !schema.ValidID(ch.RowID) {
			continue
		}
		if t, ok := d.tables.lookup(ch.Table); ok {
			byTable[t] = append(byTable[t], j)
		}
	}
	for t, js := range byTable {
		ids := make([]string, len(js))
		for k, j := range js {
			ids[k] = strings.ToLower(changes[j].RowID)
		}
		readable, err := readableIDs(ctx, tx, a, t, ids)
		if err != nil {
			return err
		}
		if readable == nil {
			continue // a reads every row of t
		}
		for k, j := range js {
			results[j].OutOfScope = !readable[ids[k]]
		}
	}
	return nil
}

// firstChange reports whether the change id is the first logged change of
// the row: the change that created it.
func firstChange(ctx context.Context, tx *wtx, t *schema.Table, rowID, changeID string) (bool, error) {
	var first sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT change_id FROM change_log WHERE tbl = ? AND row_id = ? ORDER BY seq LIMIT 1`,
		t.Name, rowID).Scan(&first)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("look up the first change of %s %s: %w", t.Name, rowID, err)
	}
	return first.String == changeID, nil
}

// columnDefaults reads the SQL defaults of a synced table's columns (the
// values of a row's fields no write has set), once per table.
func (d *DB) columnDefaults(ctx context.Context, tx *sql.Tx, t *schema.Table) (map[string]any, error) {
	if v, ok := d.defaults.Load(t.Name); ok {
		return v.(map[string]any), nil
	}
	rs, err := tx.QueryContext(ctx, d.st.Dialect().Pick(
		"SELECT name, dflt_value FROM pragma_table_info(?)",
		`SELECT column_name, column_default FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`), t.Name)
	if err != nil {
		return nil, fmt.Errorf("read the defaults of %s: %w", t.Name, err)
	}
	defer rs.Close()
	out := map[string]any{}
	for rs.Next() {
		var name string
		var dflt sql.NullString
		if err := rs.Scan(&name, &dflt); err != nil {
			return nil, fmt.Errorf("read the defaults of %s: %w", t.Name, err)
		}
		if d.st.Dialect() == store.Postgres && dflt.Valid {
			// PostgreSQL writes a default with its type: 'planned'::text.
			if i := strings.LastIndex(dflt.String, "::"); i > 0 && !strings.Contains(dflt.String[i:], "'") {
				dflt.String = dflt.String[:i]
			}
		}
		out[name] = sqlLiteral(dflt)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read the defaults of %s: %w", t.Name, err)
	}
	d.defaults.Store(t.Name, out)
	return out, nil
}

// sqlLiteral is the value of a column default as table_info gives it: a
// quoted string, a number, or NULL (nil).
func sqlLiteral(s sql.NullString) any {
	if !s.Valid || strings.EqualFold(s.String, "null") {
		return nil
	}
	if q := s.String; len(q) >= 2 && q[0] == '\'' && q[len(q)-1] == '\'' {
		return strings.ReplaceAll(q[1:len(q)-1], "''", "'")
	}
	if n, err := strconv.ParseInt(s.String, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s.String, 64); err == nil {
		return f
	}
	return nil
}

// touchDevice records that the device exists and belongs to the user, so a
// conflict can name the author of each side.
func touchDevice(ctx context.Context, tx *wtx, a Actor, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO devices (id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET user_id = excluded.user_id, last_seen = excluded.last_seen`,
		a.DeviceID, a.UserID, now.Format(time.RFC3339), now.Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("record device %s: %w", a.DeviceID, err)
	}
	return nil
}

func keepRejected(ctx context.Context, tx *wtx, a Actor, ch protocol.Change, r protocol.Result, now time.Time) error {
	body, err := json.Marshal(ch)
	if err != nil {
		return fmt.Errorf("encode rejected change: %w", err)
	}
	// An upsert on both stores (SQLite's INSERT OR REPLACE is its own).
	_, err = tx.ExecContext(ctx, `INSERT INTO rejected_changes
		(change_id, tbl, row_id, user_id, device_id, code, message, field, body, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (change_id) DO UPDATE SET tbl = excluded.tbl, row_id = excluded.row_id, user_id = excluded.user_id,
			device_id = excluded.device_id, code = excluded.code, message = excluded.message, field = excluded.field,
			body = excluded.body, received_at = excluded.received_at`,
		ch.ID, ch.Table, ch.RowID, a.UserID, a.DeviceID, r.Code, r.Message, r.Field, string(body), now.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("keep rejected change %s: %w", ch.ID, err)
	}
	return nil
}

func jsonList(items []string) (string, error) {
	b, err := json.Marshal(items)
	return string(b), err
}

// vouch takes the push's base_cursor as what its device had pulled, when
// the server could have given it to this device now: its sequence within
// the change log, read under the device's present scope (the
// fingerprint). Any other vouches for nothing, and the push's changes go
// by clock as without one; it may still be an honest device's, pulled
// before the server was restored from an older backup or before its scope
// changed, so it is not refused (docs/protocol.md, Push).
func vouch(ctx context.Context, tx *wtx, w *writeCtx, job *pushJob) error {
	if !job.hasBase || job.base.seq > w.logEnd {
		return nil
	}
	_, scope, err := withReach(ctx, tx, w.actor)
	if err != nil {
		return err
	}
	if job.base.scope == scope {
		w.cursorSeq, w.hasCursor = job.base.seq, true
	}
	return nil
}
