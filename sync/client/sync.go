package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// Report says what one Sync (or Push, or Pull) did.
type Report struct {
	Pushed    int  // changes sent, retries after clock_skew included
	Applied   int  // changes the server applied
	Duplicate int  // changes the server already had (an answer lost before)
	Rejected  int  // changes moved to the rejected list
	Restamped int  // changes re-stamped after the server refused the device's clock, and those queued after them
	Lost      int  // pushed values that lost to a concurrent later write (see Device.Lost)
	Pulled    int  // rows received
	Pages     int  // pull pages
	Reset     bool // the server asked the device to drop its copy and start over
	Snapshot  bool // a full snapshot was completed and swapped in
}

// Sync pushes the outbox, then pulls until the server has nothing more.
func (d *Device) Sync(ctx context.Context) (Report, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	var rep Report
	if err := d.push(ctx, &rep); err != nil {
		return rep, err
	}
	if err := d.pull(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, d.followServerTime(ctx)
}

// Push sends the outbox only.
func (d *Device) Push(ctx context.Context) (Report, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	var rep Report
	err := d.push(ctx, &rep)
	return rep, err
}

// Pull fetches what changed only.
func (d *Device) Pull(ctx context.Context) (Report, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	var rep Report
	err := d.pull(ctx, &rep)
	return rep, err
}

// push sends pending outbox entries in outbox order, in batches. An entry
// leaves the outbox's pending state only on the server's answer: applied or
// duplicate marks it acknowledged, rejected moves it to the rejected list
// (and the queue goes on), clock_skew corrects the device's clock from the
// server's time and sends it once more with a new stamp.
func (d *Device) push(ctx context.Context, rep *Report) error {
	restamped := map[string]bool{}
	batch := d.opts.PushBatch
	for {
		entries, err := queryEntries(d.reader(ctx), qPendingEntries, batch)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		// One push per base cursor: the server judges concurrency by what
		// the device had pulled when it made the change.
		n := 1
		for n < len(entries) && entries[n].baseCursor == entries[0].baseCursor {
			n++
		}
		group := entries[:n]
		req := protocol.PushRequest{Protocol: protocol.Version, DeviceID: d.id, BaseCursor: group[0].baseCursor,
			NoEcho: true, Changes: make([]protocol.Change, len(group))}
		for i, e := range group {
			req.Changes[i] = e.change()
		}
		var resp protocol.PushResponse
		err = d.call(ctx, "/api/v1/sync/push", req, &resp, true)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge {
			if len(group) > 1 {
				batch = max(1, len(group)/2)
				continue
			}
			// One change larger than the server takes: it can never pass.
			if err := d.inTx(ctx, func(x txn) error {
				return reject(x, group[0], apiErr.Code, apiErr.Message, d.now())
			}); err != nil {
				return err
			}
			rep.Rejected++
			continue
		}
		if err != nil {
			return fmt.Errorf("client: push: %w", err)
		}
		rep.Pushed += len(group)
		if len(resp.Results) != len(group) {
			return fmt.Errorf("client: push: %d results for %d changes", len(resp.Results), len(group))
		}
		d.observe(resp.HLC)
		if err := d.settle(ctx, rep, group, resp, restamped); err != nil {
			return err
		}
		if st, err := time.Parse(time.RFC3339Nano, resp.ServerTime); err == nil {
			d.sawServerTime(st)
		}
	}
}

// settle records the server's verdicts on one push, in one transaction.
func (d *Device) settle(ctx context.Context, rep *Report, group []entry, resp protocol.PushResponse, restamped map[string]bool) error {
	var counts Report
	var skewed, redone []entry
	now := d.now()
	var next *hlc.Clock
	var offset time.Duration
	err := d.inTx(ctx, func(x txn) error {
		counts, skewed, redone, next = Report{}, nil, nil, nil
		var own ownFolds
		for i, r := range resp.Results {
			e := group[i]
			if r.ID != e.changeID {
				return fmt.Errorf("client: push: result %d is for change %s, not %s", i, r.ID, e.changeID)
			}
			switch r.Status {
			case protocol.StatusApplied, protocol.StatusDuplicate:
				if r.Status == protocol.StatusApplied {
					counts.Applied++
				} else {
					counts.Duplicate++
				}
				if err := keepLost(x, e, r.Lost); err != nil {
					return err
				}
				if err := own.add(x, e, r); err != nil {
					return err
				}
				counts.Lost += len(r.Lost)
			case protocol.StatusRejected:
				if r.Code == protocol.CodeClockSkew && !restamped[e.changeID] {
					skewed = append(skewed, e)
					continue
				}
				counts.Rejected++
				if err := own.flush(x, now); err != nil {
					return err
				}
				if err := reject(x, e, r.Code, r.Message, now); err != nil {
					return err
				}
			default:
				return fmt.Errorf("client: push: change %s has unknown status %q", e.changeID, r.Status)
			}
		}
		if err := own.flush(x, now); err != nil {
			return err
		}
		if len(skewed) == 0 {
			return nil
		}
		var err error
		next, offset, redone, err = d.restamp(x, resp, skewed)
		if err != nil {
			return err
		}
		if next == nil { // the server's time is unreadable: nothing to correct by
			for _, e := range skewed {
				counts.Rejected++
				if err := reject(x, e, protocol.CodeClockSkew, "the server refused the device's clock", now); err != nil {
					return err
				}
			}
			return nil
		}
		counts.Restamped = len(redone)
		return nil
	})
	if err != nil {
		return err
	}
	if next != nil {
		d.clockMu.Lock()
		d.clock, d.offset = next, offset
		d.clockMu.Unlock()
		d.log.Warn("device clock corrected from the server's time", "offset", offset, "restamped", len(redone))
	}
	for _, e := range redone {
		restamped[e.changeID] = true
	}
	rep.Applied += counts.Applied
	rep.Duplicate += counts.Duplicate
	rep.Rejected += counts.Rejected
	rep.Restamped += counts.Restamped
	rep.Lost += counts.Lost
	return nil
}

// offsetThreshold is how far the device clock may drift from the server's
// before the device adds the difference: more than network delay, less
// than the server's clock_skew tolerance.
const offsetThreshold = time.Minute

// followServerTime keeps the clock offset in step with the server's time on
// every answer: a device whose clock is off by more than a minute adds the
// difference, and one whose user has since set the right date drops the
// correction. Without the second half, a phone corrected once would stamp
// every later edit with a frozen time and lose every merge.
func (d *Device) followServerTime(ctx context.Context) error {
	d.clockMu.Lock()
	st, at := d.serverTime, d.serverTimeAt
	d.clockMu.Unlock()
	if st.IsZero() {
		return nil
	}
	drift := st.Sub(at)
	offset := time.Duration(0)
	if drift > offsetThreshold || drift < -offsetThreshold {
		offset = drift.Round(time.Millisecond)
	}
	d.clockMu.Lock()
	change := offset-d.offset > offsetThreshold || d.offset-offset > offsetThreshold
	d.clockMu.Unlock()
	if !change {
		return nil
	}
	if err := d.inTx(ctx, func(x txn) error { return setState(x, keyOffset, fmt.Sprint(offset.Milliseconds())) }); err != nil {
		return err
	}
	d.clockMu.Lock()
	defer d.clockMu.Unlock()
	next := d.newClock(offset)
	_, _ = next.Update(d.clock.Now()) // never behind a stamp already issued
	d.clock, d.offset = next, offset
	d.log.Info("device clock offset follows the server's time", "offset", offset)
	return nil
}

// restamp corrects the clock from the server's time and gives new stamps
// from the corrected clock, in outbox order, to the refused changes and to
// every pending change queued after the first of them (same change ids: the
// server never applied them). Re-stamping the later ones too keeps the
// device's own edits in the order they were made. It returns the new clock,
// to be used once the transaction commits, and the re-stamped entries; or
// a nil clock when the server's time cannot be read.
func (d *Device) restamp(x txn, resp protocol.PushResponse, skewed []entry) (*hlc.Clock, time.Duration, []entry, error) {
	serverTime, err := time.Parse(time.RFC3339Nano, resp.ServerTime)
	if err != nil {
		return nil, 0, nil, nil //nolint:nilerr // an unreadable time is a verdict, not a failure
	}
	offset := serverTime.Sub(d.opts.Now()).Round(time.Millisecond)
	next := d.newClock(offset)
	if ts, err := hlc.Parse(resp.HLC); err == nil {
		_, _ = next.Update(ts) // after everything the server has seen
	}
	if err := setState(x, keyOffset, fmt.Sprint(offset.Milliseconds())); err != nil {
		return nil, 0, nil, err
	}
	first := skewed[0].seq
	for _, e := range skewed {
		first = min(first, e.seq)
	}
	later, err := queryEntries(x, `SELECT seq, change_id, tbl, row_id, op, hlc, fields, base_cursor, 0
		FROM outbox WHERE acked_at IS NULL AND seq >= ? ORDER BY seq`, first)
	if err != nil {
		return nil, 0, nil, err
	}
	last := ""
	for _, e := range later {
		last = next.Now().String()
		if _, err := x.exec("UPDATE outbox SET hlc = ? WHERE change_id = ?", last, e.changeID); err != nil {
			return nil, 0, nil, fmt.Errorf("client: re-stamp %s: %w", e.changeID, err)
		}
		if t, ok := schema.Lookup(e.table); ok {
			if err := rebuild(x, t, e.rowID); err != nil {
				return nil, 0, nil, err
			}
		}
	}
	if last == "" {
		last = next.Now().String()
	}
	if err := setState(x, keyHLC, last); err != nil {
		return nil, 0, nil, err
	}
	return next, offset, later, nil
}

// maxResets bounds how often one pull starts over on the server's word.
const maxResets = 3

// pull fetches pages until has_more is false. Without a committed cursor
// (first sync, or after a reset) the pages are a full snapshot: they are
// staged and swapped in with the last page, in one transaction.
//
// While a page is being stored, the next one is already requested (its
// cursor is the stored page's): the server answering and the device
// writing overlap, instead of each waiting for the other. The page fetched
// ahead is used only if the stored cursor is the one it was asked with.
func (d *Device) pull(ctx context.Context, rep *Report) error {
	resets := 0
	aheadCtx, cancel := context.WithCancel(ctx)
	var ahead *pageAhead
	defer func() {
		cancel()
		if ahead != nil {
			<-ahead.done
		}
	}()
	for {
		st, err := state(d.reader(ctx), keyCursor, keySnapCursor)
		if err != nil {
			return err
		}
		snapshot := st[keyCursor] == ""
		cursor := st[keyCursor]
		if snapshot {
			cursor = st[keySnapCursor]
		}
		var resp pullPage
		if ahead != nil {
			<-ahead.done
			if ahead.cursor == cursor {
				resp, err = ahead.resp, ahead.err
			}
		}
		if ahead == nil || ahead.cursor != cursor {
			resp, err = d.fetchPage(ctx, cursor, !snapshot)
		}
		ahead = nil
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Code == "invalid_cursor" {
			resp, err = pullPage{Reset: true}, nil
		}
		if err != nil {
			return fmt.Errorf("client: pull: %w", err)
		}
		if resp.Reset {
			if resets++; resets > maxResets {
				return fmt.Errorf("client: pull: the server asked for a reset %d times in a row", resets)
			}
			rep.Reset = true
			d.log.Info("server asked for a reset; pulling a new snapshot", "device", d.id)
			if err := d.inTx(ctx, restartSnapshot); err != nil {
				return err
			}
			continue
		}
		if st, err := time.Parse(time.RFC3339Nano, resp.ServerTime); err == nil {
			d.sawServerTime(st)
		}
		rep.Pages++
		rep.Pulled += len(resp.Rows)
		if resp.HasMore {
			ahead = d.fetchAhead(aheadCtx, resp.Cursor, !snapshot)
		}
		err = d.inTx(ctx, func(x txn) error {
			if snapshot {
				if err := stageRows(x, resp.Rows); err != nil {
					return err
				}
				if err := setState(x, keySnapCursor, resp.Cursor); err != nil {
					return err
				}
				if resp.HasMore {
					return nil
				}
				if err := swapSnapshot(x, resp.Cursor); err != nil {
					return err
				}
				return endRound(x)
			}
			for _, raw := range resp.Rows {
				if t, ok := schema.Lookup(raw.Table); ok {
					r, err := raw.decode()
					if err != nil {
						return err
					}
					if err := applyPulled(x, t, r); err != nil {
						return err
					}
				}
			}
			if err := setState(x, keyCursor, resp.Cursor); err != nil {
				return err
			}
			if resp.HasMore {
				return nil
			}
			return endRound(x)
		})
		if err != nil {
			return err
		}
		for _, r := range resp.Rows {
			d.observe(r.Version)
		}
		if !resp.HasMore {
			rep.Snapshot = rep.Snapshot || snapshot
			return nil
		}
	}
}

// fetchPage asks the server for one page after cursor; noEcho leaves out
// the rows only this device wrote, which its push answers told it about
// (docs/protocol.md, "No echo"). Every page of a snapshot asks for all:
// the staged copy replaces the device's rows, its own included.
func (d *Device) fetchPage(ctx context.Context, cursor string, noEcho bool) (pullPage, error) {
	var resp pullPage
	req := protocol.PullRequest{Protocol: protocol.Version, DeviceID: d.id, Cursor: cursor, Limit: d.opts.PullLimit, NoEcho: noEcho}
	err := d.call(ctx, "/api/v1/sync/pull", req, &resp, true)
	return resp, err
}

// pageAhead is a page requested before the one before it was stored; done
// is closed when resp and err are set.
type pageAhead struct {
	cursor string
	resp   pullPage
	err    error
	done   chan struct{}
}

func (d *Device) fetchAhead(ctx context.Context, cursor string, noEcho bool) *pageAhead {
	a := &pageAhead{cursor: cursor, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.resp, a.err = d.fetchPage(ctx, cursor, noEcho)
	}()
	return a
}

// restartSnapshot starts a full snapshot over. The rows the device holds
// stay visible until the new snapshot is complete and swapped in (which
// replaces them all, rows with pending edits rebuilt on top), so a reset
// interrupted by a weak network never leaves the user with an empty phone.
func restartSnapshot(x txn) error {
	if _, err := x.exec("DELETE FROM snapshot_rows"); err != nil {
		return fmt.Errorf("client: drop snapshot: %w", err)
	}
	if err := setState(x, keyCursor, ""); err != nil {
		return err
	}
	return setState(x, keySnapCursor, "")
}

// pullPage is a pull answer (protocol.PullResponse) with each row's fields
// left as the JSON the server sent: a snapshot page stages that text as it
// is, without decoding it into maps and encoding it again.
type pullPage struct {
	Rows       []pulledRow `json:"rows"`
	Cursor     string      `json:"cursor"`
	HasMore    bool        `json:"has_more"`
	Reset      bool        `json:"reset"`
	ServerTime string      `json:"server_time,omitempty"`
}

type pulledRow struct {
	Table   string          `json:"table"`
	RowID   string          `json:"row_id"`
	Fields  json.RawMessage `json:"fields"`
	Deleted bool            `json:"deleted"`
	Version string          `json:"version"`
}

// decode is the row with its fields decoded.
func (r pulledRow) decode() (protocol.Row, error) {
	out := protocol.Row{Table: r.Table, RowID: r.RowID, Deleted: r.Deleted, Version: r.Version}
	if len(r.Fields) > 0 {
		if err := json.Unmarshal(r.Fields, &out.Fields); err != nil {
			return out, fmt.Errorf("client: decode pulled row %s %s: %w", r.Table, r.RowID, err)
		}
	}
	return out, nil
}

func stageRows(x txn, rows []pulledRow) error {
	for _, raw := range rows {
		if _, ok := schema.Lookup(raw.Table); !ok {
			continue
		}
		id := strings.ToLower(raw.RowID)
		if raw.Deleted && raw.Version == "" { // perhaps departed: the rare path decodes
			r, err := raw.decode()
			if err != nil {
				return err
			}
			if departed(r) { // staged by an earlier page, out of scope since
				if _, err := x.exec("DELETE FROM snapshot_rows WHERE tbl = ? AND row_id = ?", r.Table, id); err != nil {
					return fmt.Errorf("client: unstage %s %s: %w", r.Table, r.RowID, err)
				}
				continue
			}
		}
		fields := string(raw.Fields)
		if fields == "" || fields == "null" {
			fields = "{}"
		}
		deleted := 0
		if raw.Deleted {
			deleted = 1
		}
		if _, err := x.exec(qStage, raw.Table, id, fields, deleted, raw.Version); err != nil {
			return fmt.Errorf("client: stage %s %s: %w", raw.Table, raw.RowID, err)
		}
	}
	return nil
}

// swapSnapshot replaces the pulled copy with the complete staged snapshot;
// rows with outbox entries get the snapshot as their server state, with the
// entries still on top.
func swapSnapshot(x txn, cursor string) error {
	for _, t := range schema.Tables() {
		if _, err := x.exec("DELETE FROM " + t.Name); err != nil {
			return fmt.Errorf("client: clear %s: %w", t.Name, err)
		}
		if _, err := x.exec(swapRowsSQL(t), t.Name); err != nil {
			return fmt.Errorf("client: swap in %s: %w", t.Name, err)
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
		srv, err := stagedRow(x, t, k.id)
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
	if _, err := x.exec("DELETE FROM snapshot_rows"); err != nil {
		return fmt.Errorf("client: clear snapshot: %w", err)
	}
	if err := setState(x, keySnapCursor, ""); err != nil {
		return err
	}
	return setState(x, keyCursor, cursor)
}

// stagedRow is one row of the snapshot (absent when the snapshot lacks it).
func stagedRow(x txn, t *schema.Table, id string) (rowState, error) {
	var fields, version string
	var deleted int64
	err := x.queryRow(qStagedRow, t.Name, id).Scan(&fields, &deleted, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return rowState{}, nil
	}
	if err != nil {
		return rowState{}, fmt.Errorf("client: read snapshot row %s %s: %w", t.Name, id, err)
	}
	var wire map[string]any
	if err := json.Unmarshal([]byte(fields), &wire); err != nil {
		return rowState{}, fmt.Errorf("client: decode snapshot row %s %s: %w", t.Name, id, err)
	}
	return rowState{present: true, values: fromWire(t, wire), deleted: deleted != 0, version: version}, nil
}

type rowKey struct{ table, id string }

func rowKeys(x txn, query string) ([]rowKey, error) {
	rs, err := x.query(query)
	if err != nil {
		return nil, fmt.Errorf("client: list rows: %w", err)
	}
	defer rs.Close()
	var out []rowKey
	for rs.Next() {
		var k rowKey
		if err := rs.Scan(&k.table, &k.id); err != nil {
			return nil, fmt.Errorf("client: list rows: %w", err)
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// endRound closes a complete pull: every change the server acknowledged
// before it began is now reflected in the pulled rows (if it won its
// merge), so the acknowledged entries leave the outbox and their rows are
// rebuilt from the server's state plus what is still pending.
func endRound(x txn) error {
	acked, err := rowKeys(x, "SELECT DISTINCT tbl, row_id FROM outbox WHERE acked_at IS NOT NULL")
	if err != nil {
		return err
	}
	if len(acked) == 0 {
		return nil
	}
	if _, err := x.exec("DELETE FROM outbox WHERE acked_at IS NOT NULL"); err != nil {
		return fmt.Errorf("client: clear acknowledged changes: %w", err)
	}
	for _, k := range acked {
		if t, ok := schema.Lookup(k.table); ok {
			if err := rebuild(x, t, k.id); err != nil {
				return err
			}
		}
	}
	return nil
}
