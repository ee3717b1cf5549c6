package syncdb

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store/storetest"
	"dicoso/sync/protocol"
)

// A value answered as lost is a conflict, whether or not its push carried a
// base_cursor: for every lost value the pair is recorded for review, on the
// field, with the losing value (docs/protocol.md, Merge, Concurrency).
func TestEveryLostValueIsARecordedConflict(t *testing.T) {
	t.Parallel()
	for _, withCursor := range []bool{false, true} {
		name := "no base_cursor"
		if withCursor {
			name = "base_cursor"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			phone, tablet := f.bob, f.bob
			phone.DeviceID, tablet.DeviceID = "bob-phone", "bob-tablet"
			id := uuid.NewString()
			if r := f.push(t, phone, note(id, phone, f.stamp(phone, 0), map[string]any{"unit_id": f.unit, "title": "Ghi chép"})); r[0].Status != protocol.StatusApplied {
				t.Fatalf("create: %+v", r)
			}
			base := ""
			if withCursor {
				base = f.cursor(t, phone)
			}
			newer := note(id, tablet, f.stamp(tablet, 2*time.Minute), map[string]any{"results": "máy tính bảng", "title": "Tiêu đề B"})
			older := note(id, phone, f.stamp(phone, time.Minute), map[string]any{"results": "điện thoại", "title": "Tiêu đề B"})
			if r := f.pushBase(t, tablet, base, newer); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
				t.Fatalf("newer: %+v", r[0])
			}
			r := f.pushBase(t, phone, base, older)
			if r[0].Status != protocol.StatusApplied || len(r[0].Lost) == 0 {
				t.Fatalf("older: %+v, want applied with lost values", r[0])
			}
			for _, l := range r[0].Lost {
				var n int
				if err := f.st.Reader().QueryRow(`SELECT COUNT(*) FROM conflicts WHERE row_id = ? AND field = ? AND loser_value = ? AND loser_device = ?`,
					id, l.Field, l.Value, phone.DeviceID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("lost %s = %v: %d conflicts recorded, want 1", l.Field, l.Value, n)
				}
			}
			// The same value lost nothing: no conflict, no notice.
			if n := f.conflictCount(t, id); n != len(r[0].Lost) {
				t.Errorf("%d conflicts for %d lost values", n, len(r[0].Lost))
			}
		})
	}
}

// A change id names one change of one device. Another device sending a
// change under an id already logged (applied or refused) is refused on the
// id, told nothing of the change that holds it, and changes nothing; the
// device that holds it keeps its answers, also on a retry.
func TestAChangeIDTakenByAnotherDeviceIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bobNote := uuid.NewString()
	if r := f.push(t, f.bob, note(bobNote, f.bob, f.stamp(f.bob, 0), map[string]any{"unit_id": f.unit, "title": "Của Bình"})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("bob: %+v", r)
	}
	aliceNote := uuid.NewString()
	create := note(aliceNote, f.alice, f.stamp(f.alice, 0), map[string]any{"unit_id": f.unit, "title": "Bí mật của An"})
	if r := f.push(t, f.alice, create); r[0].Status != protocol.StatusApplied {
		t.Fatalf("alice: %+v", r)
	}
	refused := note(uuid.NewString(), f.alice, f.stamp(f.alice, time.Second), map[string]any{"unit_id": uuid.NewString(), "title": "Đơn vị lạ"})
	first := f.push(t, f.alice, refused)
	if first[0].Status != protocol.StatusRejected {
		t.Fatalf("alice's refused change: %+v", first)
	}

	for _, taken := range []protocol.Change{create, refused} {
		theirs := note(uuid.NewString(), f.bob, f.stamp(f.bob, 2*time.Second), map[string]any{"unit_id": f.unit, "title": "Việc khác"})
		theirs.ID = taken.ID
		for _, noEcho := range []bool{false, true} {
			resp, err := f.db.Push(context.Background(), f.bob, protocol.PushRequest{Protocol: 1, DeviceID: f.bob.DeviceID, NoEcho: noEcho, Changes: []protocol.Change{theirs}})
			if err != nil {
				t.Fatal(err)
			}
			r := resp.Results[0]
			if r.Status != protocol.StatusRejected || r.Code != protocol.CodeValidationFailed || r.Field != "id" ||
				!strings.Contains(r.Message, "already used") || len(r.Lost) != 0 || r.OutOfScope || r.Fields != nil || r.Version != "" {
				t.Fatalf("bob reusing %s (no_echo %v): %+v, want refused on the id and nothing else", taken.ID, noEcho, r)
			}
			if strings.Contains(r.Message, "Đơn vị") || strings.Contains(r.Message, "An") {
				t.Fatalf("the refusal tells of the other change: %q", r.Message)
			}
		}
		if _, ok := f.pullAll(t, f.bob)["visit_notes/"+theirs.RowID]; ok {
			t.Fatalf("bob's change under a taken id was merged")
		}
	}
	// The holder's retries answer as before, also from a new session.
	again := f.alice
	if r := f.push(t, again, create); r[0].Status != protocol.StatusDuplicate {
		t.Fatalf("alice's retry: %+v, want duplicate", r[0])
	}
	if r := f.push(t, again, refused); !reflect.DeepEqual(r[0], first[0]) {
		t.Fatalf("alice's replayed refusal: %+v, want %+v", r[0], first[0])
	}
	if got := f.pullAll(t, f.alice)["visit_notes/"+aliceNote].Fields["title"]; got != "Bí mật của An" {
		t.Fatalf("alice's note title = %v", got)
	}
}

// A pull cursor names a sequence of this server's change log. One beyond
// the log's end (a device that pulled from a server since restored from an
// older backup), or one whose numbers are not as the server writes them, is
// not this server's: invalid_cursor, which a device treats as a reset. Every
// cursor the server hands out is taken back, on an empty log too, and while
// pushes commit around the pull.
func TestPullCursorBeyondTheLogIsInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pull := func(f *fixture, a Actor, cur string) (protocol.PullResponse, error) {
		return f.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cur, Limit: 500})
	}

	// An empty log: the cursor of an empty snapshot is good.
	st := storetest.Open(t)
	empty := &fixture{st: st, now: time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)}
	empty.db = New(st, Options{Now: func() time.Time { return empty.now }})
	t.Cleanup(func() { empty.db.Close(); st.Close() })
	a := Actor{UserID: uuid.NewString(), Roles: []string{"secretary"}, DeviceID: "dev-a"}
	first, err := pull(empty, a, "")
	if err != nil {
		t.Fatalf("snapshot of an empty log: %v", err)
	}
	if again, err := pull(empty, a, first.Cursor); err != nil || again.Reset {
		t.Fatalf("pull from the empty log's cursor %q: %+v %v", first.Cursor, again, err)
	}

	f := newFixture(t)
	end := f.cursor(t, f.alice)
	c, err := parseCursor(end)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		cursor{seq: c.seq + 1, scope: c.scope}.String(),
		cursor{seq: c.seq + 1000000, scope: c.scope}.String(),
		"1.+" + strconv.FormatInt(c.seq, 10) + "." + c.scope,
		"1.0" + strconv.FormatInt(c.seq, 10) + "." + c.scope,
		"1. " + strconv.FormatInt(c.seq, 10) + "." + c.scope,
		"1.-0." + c.scope,
		"1.9223372036854775808." + c.scope,
	} {
		if resp, err := pull(f, f.alice, bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %+v, %v; want ErrBadCursor", bad, resp, err)
		}
	}
	if resp, err := pull(f, f.alice, end); err != nil || resp.Reset || len(resp.Rows) != 0 || resp.Cursor != end {
		t.Fatalf("pull from the end: %+v %v", resp, err)
	}

	// Pushes commit while a device pulls page after page: every cursor it
	// is handed is taken back.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			id := uuid.NewString()
			f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, time.Duration(i)*time.Millisecond), map[string]any{"unit_id": f.unit, "title": "x"}))
		}
	}()
	cur := ""
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		resp, err := f.db.Pull(ctx, f.alice, protocol.PullRequest{Protocol: 1, DeviceID: f.alice.DeviceID, Cursor: cur, Limit: 7})
		if err != nil {
			t.Fatalf("pull from %q, a cursor the server gave: %v", cur, err)
		}
		cur = resp.Cursor
	}
}

// A push's base_cursor is a claim that its device had pulled every write up
// to it: it orders the device's edits after what it saw, whatever their
// clock. Only a cursor the server could have handed this device now is
// taken at its word. One beyond the change log's end or read under another
// scope vouches for nothing (the edit goes by clock: it may be an honest
// device's, from before a restore or a change of its scope); one not
// written as the server writes cursors refuses the push. A device that did
// pull the value still wins over it with a clock behind.
func TestForgedBaseCursorIsNotTrusted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	phone, tablet := f.bob, f.bob
	phone.DeviceID, tablet.DeviceID = "bob-phone", "bob-tablet"
	// row is a note the tablet wrote after the phone's clock: the phone's
	// edit, stamped before, has not seen it unless its cursor says so.
	row := func(t *testing.T) (id string, edit protocol.Change) {
		t.Helper()
		id = uuid.NewString()
		if r := f.push(t, tablet, note(id, tablet, f.stamp(tablet, 0), map[string]any{"unit_id": f.unit, "title": "Ghi chép"})); r[0].Status != protocol.StatusApplied {
			t.Fatalf("create: %+v", r)
		}
		if r := f.push(t, tablet, note(id, tablet, f.stamp(tablet, 2*time.Minute), map[string]any{"results": "máy tính bảng"})); r[0].Status != protocol.StatusApplied {
			t.Fatalf("tablet: %+v", r)
		}
		return id, note(id, phone, f.stamp(phone, time.Minute), map[string]any{"results": "điện thoại"})
	}
	results := func(t *testing.T, id string) any {
		t.Helper()
		return f.pullAll(t, f.bob)["visit_notes/"+id].Fields["results"]
	}

	t.Run("honest", func(t *testing.T) {
		id, edit := row(t)
		r := f.pushBase(t, phone, f.cursor(t, phone), edit)[0]
		if r.Status != protocol.StatusApplied || len(r.Lost) != 0 || results(t, id) != "điện thoại" {
			t.Fatalf("%+v, results %v: a device that pulled the value wins over it", r, results(t, id))
		}
	})
	for name, forge := range map[string]func(c cursor) string{
		"beyond the log":   func(c cursor) string { return cursor{seq: c.seq + 99999999, scope: c.scope}.String() },
		"one past the log": func(c cursor) string { return cursor{seq: c.seq + 1, scope: c.scope}.String() },
		"another scope":    func(c cursor) string { return cursor{seq: c.seq, scope: "deadbeef"}.String() },
		"another user's": func(c cursor) string {
			own, _ := parseCursor(f.cursor(t, f.alice))
			return cursor{seq: c.seq, scope: own.scope}.String()
		},
	} {
		t.Run(name, func(t *testing.T) {
			id, edit := row(t)
			honest, err := parseCursor(f.cursor(t, phone))
			if err != nil {
				t.Fatal(err)
			}
			r := f.pushBase(t, phone, forge(honest), edit)[0]
			if r.Status != protocol.StatusApplied || len(r.Lost) != 1 || results(t, id) != "máy tính bảng" {
				t.Fatalf("%+v, results %v: an edit with an older clock and a base_cursor the server cannot vouch for goes by clock", r, results(t, id))
			}
			if n := f.conflictCount(t, id); n != 1 {
				t.Fatalf("%d conflicts, want 1", n)
			}
		})
	}
	for _, bad := range []string{"zzz", "1.+5.deadbeef", "1.05.deadbeef", "2.5.deadbeef", "1.5"} {
		t.Run("malformed "+bad, func(t *testing.T) {
			id, edit := row(t)
			_, err := f.db.Push(context.Background(), phone, protocol.PushRequest{Protocol: 1, DeviceID: phone.DeviceID, BaseCursor: bad, Changes: []protocol.Change{edit}})
			if !errors.Is(err, ErrBadBaseCursor) {
				t.Fatalf("push with base_cursor %q: %v, want ErrBadBaseCursor", bad, err)
			}
			var n int
			if err := f.st.Reader().QueryRow("SELECT COUNT(*) FROM change_log WHERE change_id = ?", edit.ID).Scan(&n); err != nil || n != 0 {
				t.Fatalf("the refused push logged %d changes (%v)", n, err)
			}
			if results(t, id) != "máy tính bảng" {
				t.Fatalf("results %v after a refused push", results(t, id))
			}
		})
	}
}

// A change's base names the row it was read from and a sequence of the
// change log. One for another row, one beyond the log's end, or one not
// written as the server writes them is refused on base and changes
// nothing. A base of the older form, which names no row, vouches for
// nothing: the change goes by clock.
func TestForgedRowBaseIsRefused(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	id, _ := w.submitted(t)
	other, _ := w.submitted(t)
	var seq int64
	if err := w.st.Reader().QueryRow("SELECT seq FROM visit_notes WHERE id = ?", id).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	end := w.cursor(t, w.ic)
	c, _ := parseCursor(end)
	decide := func(base string) protocol.Change {
		ch := note(id, w.ic, w.stamp(w.ic, -48*time.Hour), map[string]any{"status": "needs_revision", "reviewed_by": w.ic.UserID, "review_comment": "Bổ sung"})
		ch.Base = base
		return ch
	}
	for name, base := range map[string]string{
		"another note's":   w.readBase(t, "visit_notes", other),
		"another table's":  RowBase("findings", id, seq),
		"beyond the log":   RowBase("visit_notes", id, c.seq+999999),
		"one past the log": RowBase("visit_notes", id, c.seq+1),
		"a pull cursor":    end,
		"malformed":        "1.999999.abc",
	} {
		r := w.pushBase(t, w.ic, "", decide(base))[0]
		if r.Status != protocol.StatusRejected || r.Code != protocol.CodeValidationFailed || r.Field != "base" {
			t.Errorf("%s base %q: %+v, want validation_failed on base", name, base, r)
		}
	}
	if got := w.pullAll(t, w.member)["visit_notes/"+id].Fields["status"]; got != "submitted" {
		t.Fatalf("status %v after refused decisions", got)
	}
	// The older form names no row: by clock, two days behind, it loses.
	r := w.pushBase(t, w.ic, "", decide(cursor{seq: seq, scope: "row"}.String()))[0]
	if r.Status != protocol.StatusApplied || len(r.Lost) == 0 {
		t.Fatalf("a base of the older form: %+v, want applied and lost by clock", r)
	}
	// The base the read gave still orders the decision after what it read.
	r = w.pushBase(t, w.ic, "", decide(w.readBase(t, "visit_notes", id)))[0]
	if r.Status != protocol.StatusApplied || len(r.Lost) != 0 {
		t.Fatalf("the read's own base: %+v", r)
	}
	if got := w.pullAll(t, w.member)["visit_notes/"+id].Fields["status"]; got != "needs_revision" {
		t.Fatalf("status %v after a decision with the read's base", got)
	}
}
