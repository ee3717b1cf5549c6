package syncdb

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// readBase is the note as the console reads it over the API: its base
// (what GET /api/v1/reports/notes/{id} answers with it).
func (w *reviewWorld) readBase(t *testing.T, table, id string) string {
	t.Helper()
	var seq int64
	if err := w.st.Reader().QueryRowContext(context.Background(), "SELECT seq FROM "+table+" WHERE id = ?", id).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return RowBase(table, id, seq)
}

// submitted is a note the team member wrote and submitted, with the
// submission's clock.
func (w *reviewWorld) submitted(t *testing.T) (id, submitHLC string) {
	t.Helper()
	id = uuid.NewString()
	create := note(id, w.member, w.stamp(w.member, 0), map[string]any{"unit_id": w.unit, "campaign_id": w.campaign, "title": "Kiểm tra Tỉnh đoàn", "status": "draft"})
	submit := note(id, w.member, w.stamp(w.member, time.Second), map[string]any{"results": "Đạt 90% chỉ tiêu", "status": "submitted"})
	if r := w.push(t, w.member, create, submit); r[0].Status != protocol.StatusApplied || r[1].Status != protocol.StatusApplied {
		t.Fatalf("author: %+v", r)
	}
	w.now = w.now.Add(10 * time.Second)
	return id, submit.HLC
}

// headquarters are the reviewers who read notes over the API only.
func (w *reviewWorld) headquarters() map[string]Actor {
	return map[string]Actor{"admin": w.admin, "inspection_committee": w.ic, "office": w.office}
}

// Headquarters decide in the console on a note they read over the API:
// the change carries the note's base from that read, and the decision
// stands whatever the reviewer's clock says (two days behind included),
// ordered after the submission it answers on every device. The push has
// no base_cursor here, so only the read's base can order it.
func TestHeadquartersDecisionAfterReadingTheNoteWins(t *testing.T) {
	t.Parallel()
	for name := range (&reviewWorld{fixture: &fixture{}}).headquarters() {
		for _, skew := range []time.Duration{-48 * time.Hour, -3 * time.Hour, 0, 4 * time.Minute} {
			t.Run(name+"/"+skew.String(), func(t *testing.T) {
				t.Parallel()
				w := newReviewWorld(t)
				reviewer := w.headquarters()[name]
				id, submitHLC := w.submitted(t)
				decide := note(id, reviewer, w.stamp(reviewer, skew), map[string]any{
					"status": "needs_revision", "reviewed_by": reviewer.UserID, "review_comment": "Bổ sung số liệu"})
				decide.Base = w.readBase(t, "visit_notes", id)
				if r := w.pushBase(t, reviewer, "", decide); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
					t.Fatalf("decision: %+v", r[0])
				}
				for _, a := range []Actor{w.member, w.leader} {
					got := w.pullAll(t, a)["visit_notes/"+id]
					if got.Fields["status"] != "needs_revision" || got.Fields["review_comment"] != "Bổ sung số liệu" {
						t.Fatalf("%s sees %v, want the decision", a.DeviceID, got.Fields)
					}
					if got.Version <= submitHLC {
						t.Fatalf("%s: version %s is not after the submission %s it answers", a.DeviceID, got.Version, submitHLC)
					}
				}
				if n := w.conflictCount(t, id); n != 0 {
					t.Fatalf("%d conflicts for a decision made after reading the note", n)
				}
			})
		}
	}
}

// The team leader accepts a note after the Inspection Committee read it in
// the console, and before the Committee's own decision arrives (an
// accepted note, which headquarters' devices do not pull).
// The Committee never saw the leader's change: the two are concurrent and
// decided by clock, whatever its pull cursor says (it pulled after the
// change, but its pull does not serve the note). With the read's base the
// pair is listed as a conflict; either way a losing value comes back in
// lost.
func TestHeadquartersDecisionConcurrentWithAnUnseenEditGoesByClock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		skew        time.Duration // of the Committee's clock
		withBase    bool
		reviewerWin bool
	}{
		{"two days behind, with the read's base", -48 * time.Hour, true, false},
		{"two days behind, no base", -48 * time.Hour, false, false},
		{"ahead, with the read's base", 4 * time.Minute, true, true},
		{"ahead, no base", 4 * time.Minute, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t)
			id, _ := w.submitted(t)
			back := note(id, w.leader, w.stamp(w.leader, 2*time.Second), map[string]any{"status": "needs_revision", "reviewed_by": w.leader.UserID, "review_comment": "Bổ sung"})
			if r := w.push(t, w.leader, back); r[0].Status != protocol.StatusApplied {
				t.Fatalf("the leader's sending back: %+v", r[0])
			}
			base := w.readBase(t, "visit_notes", id)
			accept := note(id, w.leader, w.stamp(w.leader, 3*time.Second), map[string]any{"status": "reviewed"})
			if r := w.push(t, w.leader, accept); r[0].Status != protocol.StatusApplied {
				t.Fatalf("the leader's acceptance: %+v", r[0])
			}
			w.now = w.now.Add(10 * time.Second)
			cursor := w.cursor(t, w.ic) // past the leader's change
			if row, pulled := w.pullAll(t, w.ic)["visit_notes/"+id]; pulled && !row.Deleted {
				t.Fatal("the Committee pulled a note already accepted")
			}
			decide := note(id, w.ic, w.stamp(w.ic, c.skew-10*time.Second), map[string]any{
				"status": "needs_revision", "reviewed_by": w.ic.UserID, "review_comment": "Bổ sung thêm"})
			if c.withBase {
				decide.Base = base
			}
			r := w.pushBase(t, w.ic, cursor, decide)[0]
			if r.Status != protocol.StatusApplied {
				t.Fatalf("decision: %+v", r)
			}
			got := w.pullAll(t, w.member)["visit_notes/"+id].Fields
			if c.reviewerWin {
				if got["status"] != "needs_revision" || len(r.Lost) != 0 {
					t.Fatalf("the later decision: status %v, lost %+v; want needs_revision, nothing lost", got["status"], r.Lost)
				}
			} else {
				if got["status"] != "reviewed" {
					t.Fatalf("status %v: the leader's later acceptance, which the Committee never saw, must win by clock", got["status"])
				}
				i := slices.IndexFunc(r.Lost, func(l protocol.LostValue) bool { return l.Field == "status" })
				if i < 0 || r.Lost[i].Value != "needs_revision" || r.Lost[i].By != w.leader.UserID {
					t.Fatalf("lost = %+v, want the decision's status, lost to the leader", r.Lost)
				}
			}
			if n := w.conflictCount(t, id); c.withBase && n == 0 {
				t.Fatal("no conflict listed for the concurrent decisions")
			}
		})
	}
}

// A base the server did not give is refused, and changes nothing.
func TestMalformedRowBaseIsRefused(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	id, _ := w.submitted(t)
	decide := note(id, w.ic, w.stamp(w.ic, 0), map[string]any{"status": "reviewed", "reviewed_by": w.ic.UserID})
	decide.Base = "seq 12"
	r := w.pushBase(t, w.ic, w.cursor(t, w.ic), decide)[0]
	if r.Status != protocol.StatusRejected || r.Code != protocol.CodeValidationFailed || r.Field != "base" {
		t.Fatalf("%+v, want validation_failed on base", r)
	}
	if got := w.pullAll(t, w.member)["visit_notes/"+id].Fields["status"]; got != "submitted" {
		t.Fatalf("status %v after a refused decision", got)
	}
}

// Headquarters' devices pull the reference data, their own rows and what
// waits on them: the notes in review, submitted or sent back (with their
// findings and rounds), and the findings still open or in progress (with
// their follow-ups). Nothing else of the national field data, which they
// read over the API (ReadClause): every field table, every headquarters
// role. A note leaves their devices once accepted, a finding once resolved.
func TestHeadquartersPullWhatWaitsOnThem(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	waiting, _ := w.submitted(t)
	decided, _ := w.submitted(t)
	stamp := time.Duration(0)
	next := func() time.Duration { stamp += time.Second; return stamp }
	finding := func(noteID, status string) protocol.Change {
		return protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: w.stamp(w.member, next()),
			Fields: map[string]any{"note_id": noteID, "unit_id": w.unit, "campaign_id": w.campaign, "category": "shortcoming", "text": "Thiếu sổ sách", "status": status}}
	}
	openF, resolvedF := finding(decided, "open"), finding(decided, "resolved")
	checkin := protocol.Change{ID: uuid.NewString(), Table: "checkins", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: w.stamp(w.member, next()),
		Fields: map[string]any{"unit_id": w.unit, "at": "2021-06-03T08:59:00Z", "lat": 22.40, "lng": 103.46, "accuracy_m": 12.0}}
	if r := w.push(t, w.member, openF, resolvedF, checkin); r[0].Status != protocol.StatusApplied || r[1].Status != protocol.StatusApplied || r[2].Status != protocol.StatusApplied {
		t.Fatalf("field data: %+v", r)
	}
	round := review(decided, w.leader, w.stamp(w.leader, next()), "reviewed", "Đạt")
	accept := note(decided, w.leader, w.stamp(w.leader, next()), map[string]any{"status": "reviewed", "reviewed_by": w.leader.UserID})
	if r := w.push(t, w.leader, round, accept); r[0].Status != protocol.StatusApplied || r[1].Status != protocol.StatusApplied {
		t.Fatalf("the leader's decision: %+v", r)
	}
	for name, hq := range w.headquarters() {
		own := uuid.NewString()
		if r := w.push(t, hq, note(own, hq, w.stamp(hq, 0), map[string]any{"unit_id": w.unit, "title": "Ghi chép của " + name})); r[0].Status != protocol.StatusApplied {
			t.Fatalf("%s's own note: %+v", name, r)
		}
		want := map[string]bool{"visit_notes/" + own: true, "visit_notes/" + waiting: true, "findings/" + openF.RowID: true}
		rows := w.pullAll(t, hq)
		maps.DeleteFunc(rows, func(_ string, r protocol.Row) bool { return r.Deleted })
		for key := range rows {
			table := key[:strings.IndexByte(key, '/')]
			if tb, _ := schema.Lookup(table); !tb.Reference && !want[key] {
				t.Errorf("%s pulled %s, which is neither theirs nor waiting on them", name, key)
			}
		}
		for key := range want {
			if _, ok := rows[key]; !ok {
				t.Errorf("%s did not pull %s", name, key)
			}
		}
		for _, tb := range schema.Tables() {
			if tb.Reference {
				continue
			}
			if where, _ := readClause(hq, tb.Name); where != "TRUE" {
				t.Errorf("%s reads %s over the API by %q, want every row", name, tb.Name, where)
			}
		}
	}
	// An acceptance and a resolution move the rows out of headquarters'
	// pull: a device that had them drops them.
	cursor := w.cursor(t, w.office)
	send := note(waiting, w.leader, w.stamp(w.leader, next()), map[string]any{"status": "reviewed", "reviewed_by": w.leader.UserID})
	resolve := protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: openF.RowID, Op: protocol.OpUpsert, HLC: w.stamp(w.office, next()),
		Fields: map[string]any{"status": "resolved"}}
	if r := w.push(t, w.leader, send); r[0].Status != protocol.StatusApplied {
		t.Fatalf("sending back: %+v", r)
	}
	if r := w.push(t, w.office, resolve); r[0].Status != protocol.StatusApplied {
		t.Fatalf("resolving: %+v", r)
	}
	resp, err := w.db.Pull(context.Background(), w.office, protocol.PullRequest{Protocol: 1, DeviceID: w.office.DeviceID, Cursor: cursor, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	departed := map[string]bool{}
	for _, r := range resp.Rows {
		if r.Deleted {
			departed[r.Table+"/"+r.RowID] = true
		}
	}
	if !departed["visit_notes/"+waiting] || !departed["findings/"+openF.RowID] {
		t.Errorf("after the acceptance and the resolution the Office's device got departures %v, want the note and the finding", departed)
	}
	// The team still pulls its notes, findings and rounds.
	rows := w.pullAll(t, w.leader)
	for _, want := range []string{"visit_notes/" + decided, "findings/" + resolvedF.RowID, "reviews/" + round.RowID} {
		if _, ok := rows[want]; !ok {
			t.Errorf("the team leader did not pull %s", want)
		}
	}
}

// The author edits the note (its status included) after the reviewer read
// it in the console and before the decision arrives. The console's change
// carries the base of that read, so the author's edit is concurrent with
// it, decided by clock and listed as a conflict, even though the
// reviewer's device has since pulled the edit (its pull cursor is past
// it): the decision was made on what the console showed.
func TestConsoleDecisionAndAnUnseenAuthorEditGoByClock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		skew        time.Duration // of the reviewer's clock
		reviewerWin bool
	}{
		{"reviewer two days behind", -48 * time.Hour, false},
		{"reviewer ahead", 4 * time.Minute, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t)
			id, _ := w.submitted(t)
			base := w.readBase(t, "visit_notes", id)
			edit := note(id, w.member, w.stamp(w.member, time.Second), map[string]any{"results": "Bổ sung sau", "status": "submitted"})
			if r := w.push(t, w.member, edit); r[0].Status != protocol.StatusApplied {
				t.Fatalf("author's edit: %+v", r[0])
			}
			w.now = w.now.Add(10 * time.Second)
			cursor := w.cursor(t, w.ic) // holds the author's edit: the note is in review
			decide := note(id, w.ic, w.stamp(w.ic, c.skew-10*time.Second), map[string]any{
				"status": "needs_revision", "reviewed_by": w.ic.UserID, "review_comment": "Bổ sung số liệu"})
			decide.Base = base
			r := w.pushBase(t, w.ic, cursor, decide)[0]
			if r.Status != protocol.StatusApplied {
				t.Fatalf("decision: %+v", r)
			}
			got := w.pullAll(t, w.member)["visit_notes/"+id].Fields
			if c.reviewerWin {
				if got["status"] != "needs_revision" || len(r.Lost) != 0 {
					t.Fatalf("the later decision: status %v, lost %+v", got["status"], r.Lost)
				}
			} else {
				if got["status"] != "submitted" {
					t.Fatalf("status %v: the author's later edit, unseen in the console, must win by clock", got["status"])
				}
				i := slices.IndexFunc(r.Lost, func(l protocol.LostValue) bool { return l.Field == "status" })
				if i < 0 || r.Lost[i].Value != "needs_revision" || r.Lost[i].By != w.member.UserID {
					t.Fatalf("lost = %+v, want the decision's status, lost to the author", r.Lost)
				}
			}
			if got["results"] != "Bổ sung sau" {
				t.Fatalf("the author's edit of results was lost: %v", got["results"])
			}
			if n := w.conflictCount(t, id); n == 0 {
				t.Fatal("the concurrent status writes are not listed as a conflict")
			}
		})
	}
}
