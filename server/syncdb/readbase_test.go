package syncdb

import (
	"context"
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
	return RowBase(seq)
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

// Headquarters decide in the console on a note they read over the API,
// not pulled: the change carries the note's base from that read, and the
// decision stands whatever the reviewer's clock says (two days behind
// included), ordered after the submission it answers on every device.
func TestHeadquartersDecisionAfterReadingTheNoteWins(t *testing.T) {
	t.Parallel()
	for name := range (&reviewWorld{fixture: &fixture{}}).headquarters() {
		for _, skew := range []time.Duration{-48 * time.Hour, -3 * time.Hour, 0, 4 * time.Minute} {
			t.Run(name+"/"+skew.String(), func(t *testing.T) {
				t.Parallel()
				w := newReviewWorld(t)
				reviewer := w.headquarters()[name]
				id, submitHLC := w.submitted(t)
				cursor := w.cursor(t, reviewer)
				if _, pulled := w.pullAll(t, reviewer)["visit_notes/"+id]; pulled {
					t.Fatalf("%s pulled another's note: headquarters read notes over the API", name)
				}
				decide := note(id, reviewer, w.stamp(reviewer, skew), map[string]any{
					"status": "needs_revision", "reviewed_by": reviewer.UserID, "review_comment": "Bổ sung số liệu"})
				decide.Base = w.readBase(t, "visit_notes", id)
				if r := w.pushBase(t, reviewer, cursor, decide); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
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

// The author edits the note (status included) after the reviewer read it
// in the console and before the decision arrives. The reviewer never saw
// that edit: the two are concurrent, decided by clock, whatever the
// reviewer's pull cursor says (it pulled after the edit, but headquarters
// do not pull notes). With the read's base the pair is listed as a
// conflict; either way a losing value comes back in lost.
func TestHeadquartersDecisionConcurrentWithAnUnseenEditGoesByClock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		skew        time.Duration // of the reviewer's clock
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
			base := w.readBase(t, "visit_notes", id)
			edit := note(id, w.member, w.stamp(w.member, time.Second), map[string]any{"results": "Bổ sung sau", "status": "submitted"})
			if r := w.push(t, w.member, edit); r[0].Status != protocol.StatusApplied {
				t.Fatalf("author's edit: %+v", r[0])
			}
			w.now = w.now.Add(10 * time.Second)
			cursor := w.cursor(t, w.ic) // past the author's edit
			decide := note(id, w.ic, w.stamp(w.ic, c.skew-10*time.Second), map[string]any{
				"status": "reviewed", "reviewed_by": w.ic.UserID, "review_comment": ""})
			if c.withBase {
				decide.Base = base
			}
			r := w.pushBase(t, w.ic, cursor, decide)[0]
			if r.Status != protocol.StatusApplied {
				t.Fatalf("decision: %+v", r)
			}
			got := w.pullAll(t, w.member)["visit_notes/"+id].Fields
			if c.reviewerWin {
				if got["status"] != "reviewed" || len(r.Lost) != 0 {
					t.Fatalf("the later decision: status %v, lost %+v; want reviewed, nothing lost", got["status"], r.Lost)
				}
			} else {
				if got["status"] != "submitted" {
					t.Fatalf("status %v: the author's later edit, which the reviewer never saw, must win by clock", got["status"])
				}
				if len(r.Lost) != 1 || r.Lost[0].Field != "status" || r.Lost[0].Value != "reviewed" || r.Lost[0].By != w.member.UserID {
					t.Fatalf("lost = %+v, want the decision's status, lost to the author", r.Lost)
				}
			}
			if got["results"] != "Bổ sung sau" {
				t.Fatalf("the author's edit of results was lost: %v", got["results"])
			}
			if n := w.conflictCount(t, id); c.withBase && n != 1 {
				t.Fatalf("%d conflicts, want the concurrent status listed once", n)
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

// Headquarters' devices pull the reference data and their own rows, not
// the national field data, which they read over the API (ReadClause):
// every field table, every headquarters role. Field roles pull what they
// read, as before.
func TestHeadquartersPullTheirOwnRowsAndReadTheRestOverTheAPI(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	others, _ := w.submitted(t)
	finding := protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: w.stamp(w.member, 2*time.Second),
		Fields: map[string]any{"note_id": others, "unit_id": w.unit, "campaign_id": w.campaign, "category": "shortcoming", "text": "Thiếu sổ sách"}}
	round := review(others, w.leader, w.stamp(w.leader, 3*time.Second), "needs_revision", "Bổ sung")
	if r := w.push(t, w.member, finding); r[0].Status != protocol.StatusApplied {
		t.Fatalf("finding: %+v", r)
	}
	if r := w.push(t, w.leader, round); r[0].Status != protocol.StatusApplied {
		t.Fatalf("round: %+v", r)
	}
	for name, hq := range w.headquarters() {
		own := uuid.NewString()
		if r := w.push(t, hq, note(own, hq, w.stamp(hq, 0), map[string]any{"unit_id": w.unit, "title": "Ghi chép của " + name})); r[0].Status != protocol.StatusApplied {
			t.Fatalf("%s's own note: %+v", name, r)
		}
		rows := w.pullAll(t, hq)
		for key := range rows {
			table := key[:strings.IndexByte(key, '/')]
			if tb, _ := schema.Lookup(table); !tb.Reference && key != "visit_notes/"+own {
				t.Errorf("%s pulled %s, which is not theirs", name, key)
			}
		}
		for _, want := range []string{"visit_notes/" + own, "units/" + w.unit, "campaigns/" + w.campaign, "teams/" + w.team, "users/" + w.member.UserID} {
			if _, ok := rows[want]; !ok {
				t.Errorf("%s did not pull %s", name, want)
			}
		}
		for _, tb := range schema.Tables() {
			if tb.Reference {
				continue
			}
			if where, _ := ReadClause(hq, tb.Name); where != "1" {
				t.Errorf("%s reads %s over the API by %q, want every row", name, tb.Name, where)
			}
		}
	}
	// The team still pulls its notes, findings and rounds.
	rows := w.pullAll(t, w.leader)
	for _, want := range []string{"visit_notes/" + others, "findings/" + finding.RowID, "reviews/" + round.RowID} {
		if _, ok := rows[want]; !ok {
			t.Errorf("the team leader did not pull %s", want)
		}
	}
}
