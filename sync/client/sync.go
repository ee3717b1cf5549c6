package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	stdsync "sync"
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
		if err := own.read(x, group, resp.Results); err != nil {
			return err
		}
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
// Pages come from a stream (streamPages) that asks for each page as soon
// as the one before is read, while the device converts and stores those:
// the server answering, the device reading and the device writing
// overlap, instead of each waiting for the others. A page of the stream is
// used only if the stored cursor is the one it was asked with.
func (d *Device) pull(ctx context.Context, rep *Report) error {
	resets := 0
	var stream *pageStream
	defer func() { stream.close() }()
	for {
		st, err := state(d.reader(ctx), keyCursor, keyStagedCursor)
		if err != nil {
			return err
		}
		snapshot := st[keyCursor] == ""
		cursor := st[keyCursor]
		if snapshot {
			cursor = st[keyStagedCursor]
		}
		if !stream.continues(cursor, snapshot) {
			stream.close()
			stream = d.streamPages(ctx, cursor, snapshot)
		}
		f, ok := <-stream.out
		if !ok { // only a stopped stream ends without its last page
			return errors.New("client: pull: the page stream stopped")
		}
		stream.delivered(f)
		resp, err := f.page, f.err
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
		err = d.inTx(ctx, func(x txn) error {
			if snapshot {
				if err := stageRows(x, resp.staged); err != nil {
					return err
				}
				if err := setState(x, keyStagedCursor, resp.Cursor); err != nil {
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

// fetchPage asks the server for one page after cursor. Outside a snapshot
// it asks with no_echo, which leaves out the rows only this device wrote,
// which its push answers told it about (docs/protocol.md, "No echo");
// every page of a snapshot asks for all, since the staged copy replaces
// the device's rows, its own included. ahead gets the cursor of the next
// page if the answer's header gives it before the body (Pull-Cursor).
func (d *Device) fetchPage(ctx context.Context, cursor string, snapshot bool, ahead func(next string)) (pullPage, error) {
	var resp pullPage
	req := protocol.PullRequest{Protocol: protocol.Version, DeviceID: d.id, Cursor: cursor, Limit: d.opts.PullLimit, NoEcho: !snapshot}
	err := d.callHeard(ctx, "/api/v1/sync/pull", req, &resp, true, func(h http.Header) {
		if next := h.Get(protocol.HeaderPullCursor); next != "" {
			ahead(next)
		}
	})
	return resp, err
}

// pageStream delivers the pages of a pull in order, from the cursor it was
// started at. Each page is asked for as soon as its cursor is known: from
// the Pull-Cursor header of the answer before, which the server sends
// ahead of the body (so the server reads the next page while it encodes
// this one and the device reads it), or else from that answer's body. A
// page asked for with a cursor the answer before does not confirm is
// dropped and asked for again. A snapshot's pages are converted for
// staging by a goroutine of their own. No channel holds a page: at most
// three pages are ahead of the one being stored (one converted, one read,
// one being asked for).
type pageStream struct {
	snapshot bool
	next     string // the cursor the next page is asked with
	ended    bool   // the last page (or an error) was delivered
	out      chan fetchedPage
	stop     context.CancelFunc
	done     chan struct{} // closed when every goroutine of the stream has returned
}

type fetchedPage struct {
	page pullPage
	err  error
}

// pageRequest is one page asked for: its cursor, if the answer's header
// gave it, arrives on heard; page and err are set when done is closed.
type pageRequest struct {
	cursor string
	heard  chan string
	done   chan struct{}
	cancel context.CancelFunc
	page   pullPage
	err    error
}

func (d *Device) streamPages(ctx context.Context, cursor string, snapshot bool) *pageStream {
	ctx, cancel := context.WithCancel(ctx)
	s := &pageStream{snapshot: snapshot, next: cursor, out: make(chan fetchedPage), stop: cancel, done: make(chan struct{})}
	var requests stdsync.WaitGroup
	request := func(cursor string) *pageRequest {
		rctx, cancel := context.WithCancel(ctx)
		r := &pageRequest{cursor: cursor, heard: make(chan string, 1), done: make(chan struct{}), cancel: cancel}
		requests.Add(1)
		go func() {
			defer requests.Done()
			defer close(r.done)
			var once stdsync.Once
			r.page, r.err = d.fetchPage(rctx, cursor, snapshot, func(next string) {
				once.Do(func() { r.heard <- next })
			})
		}()
		return r
	}
	read := make(chan fetchedPage)
	go func() {
		defer close(read)
		cur := request(cursor)
		for {
			var next *pageRequest
			select {
			case c := <-cur.heard:
				next = request(c)
			case <-cur.done:
			}
			<-cur.done
			cur.cancel()
			f := fetchedPage{page: cur.page, err: cur.err}
			more := f.err == nil && !f.page.Reset && f.page.HasMore
			if next != nil && (!more || next.cursor != f.page.Cursor) {
				next.cancel()
				next = nil
			}
			if more && next == nil {
				next = request(f.page.Cursor)
			}
			select {
			case read <- f:
			case <-ctx.Done():
				if next != nil {
					next.cancel()
				}
				return
			}
			if !more {
				return
			}
			cur = next
		}
	}()
	converted := make(chan struct{})
	go func() {
		defer close(converted)
		defer close(s.out)
		for f := range read {
			if snapshot && f.err == nil && !f.page.Reset {
				f.page.staged, f.err = stageable(f.page.Rows)
			}
			select {
			case s.out <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		<-converted
		for range read { // the reader may be blocked on a send
		}
		requests.Wait()
		close(s.done)
	}()
	return s
}

// continues reports whether the stream's next page is the one after
// cursor, of the same kind of pull.
func (s *pageStream) continues(cursor string, snapshot bool) bool {
	return s != nil && !s.ended && s.snapshot == snapshot && s.next == cursor
}

// delivered notes the page taken from the stream.
func (s *pageStream) delivered(f fetchedPage) {
	s.next = f.page.Cursor
	s.ended = f.err != nil || f.page.Reset || !f.page.HasMore
}

// close stops the stream and waits for its goroutines.
func (s *pageStream) close() {
	if s == nil {
		return
	}
	s.stop()
	<-s.done
}

// pullPage is a pull answer (protocol.PullResponse) with each row's fields
// left as the JSON the server sent: a snapshot page reads them straight
// into the values it stages (stageable), without decoding them into maps.
type pullPage struct {
	Rows       []pulledRow `json:"rows"`
	Cursor     string      `json:"cursor"`
	HasMore    bool        `json:"has_more"`
	Reset      bool        `json:"reset"`
	ServerTime string      `json:"server_time,omitempty"`

	staged []stagedRow // a snapshot page's rows, ready to stage
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
