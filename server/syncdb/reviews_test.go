package syncdb

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

func review(note string, a Actor, hlc, decision, comment string) protocol.Change {
	return protocol.Change{ID: uuid.NewString(), Table: "reviews", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: hlc,
		Fields: map[string]any{"note_id": note, "decision": decision, "comment": comment, "at": "2021-06-03T09:00:00Z"}}
}

// Every review round of a note is kept and read with the note: the author
// sees each decision and its comment, a round cannot be rewritten, a note
// the server holds as a draft is not reviewed, and a note sent back says
// why.
func TestReviewRoundsAreKeptAndFollowTheirNote(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	nid := w.noteAt(t, w.member, "submitted")
	step := time.Duration(0)
	stamp := func(a Actor) string { step += time.Millisecond; return w.stamp(a, step) }

	// Refusals first: none of them changes anything.
	draft := w.noteAt(t, w.member, "draft")
	for name, c := range map[string]struct {
		who   Actor
		ch    protocol.Change
		code  string
		field string
	}{
		"a draft":                  {w.leader, review(draft, w.leader, "", "needs_revision", "Bổ sung"), protocol.CodeForbidden, "note_id"},
		"sent back without reason": {w.ic, review(nid, w.ic, "", "needs_revision", "  "), protocol.CodeValidationFailed, "comment"},
		"by its author":            {w.member, review(nid, w.member, "", "reviewed", ""), protocol.CodeForbidden, ""},
		"by a unit liaison":        {w.liaison, review(nid, w.liaison, "", "reviewed", ""), protocol.CodeForbidden, ""},
		"by the department":        {w.dept, review(nid, w.dept, "", "reviewed", ""), protocol.CodeForbidden, ""},
	} {
		c.ch.HLC = stamp(c.who)
		r := w.push(t, c.who, c.ch)[0]
		if r.Status != protocol.StatusRejected || r.Code != c.code || (c.field != "" && r.Field != c.field) {
			t.Errorf("review of %s: %+v, want %s on %q", name, r, c.code, c.field)
		}
	}

	first := review(nid, w.leader, stamp(w.leader), "needs_revision", "Bổ sung số liệu đoàn viên")
	if r := w.push(t, w.leader, first)[0]; r.Status != protocol.StatusApplied {
		t.Fatalf("the team leader's round: %+v", r)
	}
	second := review(nid, w.ic, stamp(w.ic), "reviewed", "Đạt")
	if r := w.push(t, w.ic, second)[0]; r.Status != protocol.StatusApplied {
		t.Fatalf("the Inspection Committee's round: %+v", r)
	}
	edit := protocol.Change{ID: uuid.NewString(), Table: "reviews", RowID: first.RowID, Op: protocol.OpUpsert, HLC: stamp(w.leader),
		Fields: map[string]any{"comment": "Viết lại lịch sử"}}
	if r := w.push(t, w.leader, edit)[0]; r.Status != protocol.StatusRejected || r.Code != protocol.CodeImmutable {
		t.Fatalf("rewriting a round: %+v, want immutable", r)
	}

	rounds := func(a Actor) map[string]string {
		got := map[string]string{}
		for key, row := range w.pullAll(t, a) {
			if row.Table == "reviews" && !row.Deleted {
				got[key] = row.Fields["comment"].(string)
			}
		}
		return got
	}
	want := map[string]string{"reviews/" + first.RowID: "Bổ sung số liệu đoàn viên", "reviews/" + second.RowID: "Đạt"}
	for name, a := range map[string]Actor{"author": w.member, "leader": w.leader, "office": w.office, "liaison": w.liaison} {
		got := rounds(a)
		if len(got) != len(want) || got["reviews/"+first.RowID] != want["reviews/"+first.RowID] || got["reviews/"+second.RowID] != "Đạt" {
			t.Errorf("%s reads rounds %v, want %v", name, got, want)
		}
	}
	if got := rounds(w.sec); len(got) != 2 {
		t.Errorf("the cluster's secretary, who reads the note, reads rounds %v", got)
	}

	// The note goes back for revision: the liaison no longer reads it, nor
	// its rounds.
	back := note(nid, w.ic, stamp(w.ic), map[string]any{"status": "needs_revision", "reviewed_by": w.ic.UserID, "review_comment": "Làm lại"})
	if r := w.push(t, w.ic, back)[0]; r.Status != protocol.StatusApplied {
		t.Fatalf("sending back: %+v", r)
	}
	if got := rounds(w.liaison); len(got) != 0 {
		t.Errorf("the liaison still reads the rounds of a note sent back: %v", got)
	}
}
