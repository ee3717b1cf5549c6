package syncdb

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// pushBase pushes as a device whose pull cursor was base when it made the
// changes.
func (f *fixture) pushBase(t *testing.T, a Actor, base string, changes ...protocol.Change) []protocol.Result {
	t.Helper()
	resp, err := f.db.Push(context.Background(), a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, BaseCursor: base, Changes: changes})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return resp.Results
}

// cursor pulls everything a may read and returns the cursor it ends at.
func (f *fixture) cursor(t *testing.T, a Actor) string {
	t.Helper()
	cur := ""
	for {
		resp, err := f.db.Pull(context.Background(), a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cur, Limit: 500})
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		cur = resp.Cursor
		if !resp.HasMore {
			return cur
		}
	}
}

func (f *fixture) conflictCount(t *testing.T, row string) int {
	t.Helper()
	var n int
	if err := f.st.Reader().QueryRow("SELECT COUNT(*) FROM conflicts WHERE row_id = ?", row).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) setFullName(t *testing.T, a Actor, name string) {
	t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{{Table: "users", RowID: a.UserID, Fields: map[string]any{"full_name": name}}})
	}); err != nil {
		t.Fatal(err)
	}
}

// A reviewer whose clock runs behind (or ahead, within the skew limit)
// decides on a note they pulled (the leader of its team, on a phone): the
// decision stands, on the server and on every device, whatever the clocks
// say; and the author, having pulled the decision, can revise and resubmit
// with a correct clock.
func TestDecisionAfterSeeingTheRowWinsWhateverTheClock(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{-48 * time.Hour, -3 * time.Hour, -time.Minute, 0, 4 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t)
			author, reviewer := w.member, w.leader
			id := uuid.NewString()
			create := note(id, author, w.stamp(author, 0), map[string]any{"unit_id": w.unit, "campaign_id": w.campaign, "title": "Kiểm tra Tỉnh đoàn", "status": "draft"})
			submit := note(id, author, w.stamp(author, time.Second), map[string]any{"status": "submitted"})
			if r := w.push(t, author, create, submit); r[0].Status != protocol.StatusApplied || r[1].Status != protocol.StatusApplied {
				t.Fatalf("author: %+v", r)
			}
			w.now = w.now.Add(10 * time.Second)

			seen := w.cursor(t, reviewer)
			decide := note(id, reviewer, w.stamp(reviewer, skew), map[string]any{
				"status": "needs_revision", "reviewed_by": reviewer.UserID, "review_comment": "Bổ sung số liệu"})
			r := w.pushBase(t, reviewer, seen, decide)
			if r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
				t.Fatalf("decision: %+v", r[0])
			}
			for _, a := range []Actor{reviewer, author} {
				got := w.pullAll(t, a)["visit_notes/"+id]
				if got.Fields["status"] != "needs_revision" || got.Fields["review_comment"] != "Bổ sung số liệu" {
					t.Fatalf("%s sees %v, want the decision", a.DeviceID, got.Fields)
				}
				if got.Version <= submit.HLC {
					t.Fatalf("%s: version %s is not after the submission %s it replaced", a.DeviceID, got.Version, submit.HLC)
				}
			}
			if n := w.conflictCount(t, id); n != 0 {
				t.Fatalf("%d conflicts for a decision made after seeing the note", n)
			}

			// The author pulls the decision and resubmits with a correct clock.
			w.now = w.now.Add(10 * time.Second)
			seen = w.cursor(t, author)
			resubmit := note(id, author, w.stamp(author, 0), map[string]any{"results": "Đã bổ sung", "status": "submitted"})
			if r := w.pushBase(t, author, seen, resubmit); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
				t.Fatalf("resubmission: %+v", r[0])
			}
			if got := w.pullAll(t, reviewer)["visit_notes/"+id]; got.Fields["status"] != "submitted" {
				t.Fatalf("after resubmission the reviewer sees %v", got.Fields["status"])
			}
		})
	}
}

// Two devices edit one field without either having seen the other's
// edit: the later clock wins whichever arrives first, the pair is listed as
// a conflict, and the device whose value lost is told so, with who won and
// when, also when its retry is answered duplicate.
func TestConcurrentEditsGoByClockAndTheLoserIsTold(t *testing.T) {
	t.Parallel()
	for _, laterFirst := range []bool{true, false} {
		name := "later arrives first"
		if !laterFirst {
			name = "later arrives last"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setFullName(t, f.bob, "Trần Thị Bình")
			phone, tablet := f.bob, f.bob
			phone.DeviceID, tablet.DeviceID = "bob-phone", "bob-tablet"
			id := uuid.NewString()
			if r := f.push(t, phone, note(id, phone, f.stamp(phone, 0), map[string]any{"unit_id": f.unit, "title": "Ghi chép"})); r[0].Status != protocol.StatusApplied {
				t.Fatalf("create: %+v", r)
			}
			base := f.cursor(t, phone)
			older := note(id, phone, f.stamp(phone, time.Minute), map[string]any{"results": "Bản trên điện thoại"})
			newer := note(id, tablet, f.stamp(tablet, 2*time.Minute), map[string]any{"results": "Bản trên máy tính bảng"})

			var olderRes []protocol.Result
			if laterFirst {
				if r := f.pushBase(t, tablet, base, newer); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
					t.Fatalf("newer: %+v", r[0])
				}
				olderRes = f.pushBase(t, phone, base, older)
				lost := olderRes[0].Lost
				if olderRes[0].Status != protocol.StatusApplied || len(lost) != 1 {
					t.Fatalf("older: %+v, want applied with one lost value", olderRes[0])
				}
				if l := lost[0]; l.Field != "results" || l.Value != "Bản trên điện thoại" || l.By != f.bob.UserID ||
					l.ByName != "Trần Thị Bình" || l.HLC != newer.HLC || l.At != f.now.Add(2*time.Minute).Format(time.RFC3339Nano) {
					t.Fatalf("lost value = %+v", l)
				}
				again := f.pushBase(t, phone, base, older)
				if again[0].Status != protocol.StatusDuplicate || !reflect.DeepEqual(again[0].Lost, lost) {
					t.Fatalf("retry answered %+v, want duplicate with the same lost value %+v", again[0], lost)
				}
			} else {
				if r := f.pushBase(t, phone, base, older); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
					t.Fatalf("older: %+v", r[0])
				}
				if r := f.pushBase(t, tablet, base, newer); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
					t.Fatalf("newer: %+v", r[0])
				}
			}
			if got := f.pullAll(t, f.bob)["visit_notes/"+id].Fields["results"]; got != "Bản trên máy tính bảng" {
				t.Fatalf("results = %v, want the later clock's value", got)
			}
			if n := f.conflictCount(t, id); n != 1 {
				t.Fatalf("%d conflicts, want 1", n)
			}
		})
	}
}

// A device's own older change arriving after its newer one (a retry) loses
// quietly: it is no news to the device that its later edit stands.
func TestOwnOlderChangeLosesWithoutNotice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := uuid.NewString()
	base := f.cursor(t, f.bob)
	create := note(id, f.bob, f.stamp(f.bob, 0), map[string]any{"unit_id": f.unit, "title": "Một"})
	second := note(id, f.bob, f.stamp(f.bob, 2*time.Second), map[string]any{"title": "Ba"})
	first := note(id, f.bob, f.stamp(f.bob, time.Second), map[string]any{"title": "Hai"})
	r := f.pushBase(t, f.bob, base, create, second, first)
	for _, x := range r {
		if x.Status != protocol.StatusApplied || len(x.Lost) != 0 {
			t.Fatalf("%+v", r)
		}
	}
	if got := f.pullAll(t, f.bob)["visit_notes/"+id].Fields["title"]; got != "Ba" {
		t.Fatalf("title = %v", got)
	}
}
