package syncdb

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// writerRoles are the roles, each held alone, of people who write visit
// notes and findings in the review world; the liaison writes neither.
func (w *reviewWorld) writerRoles() map[string]Actor {
	return map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader, plan.RoleUnitLiaison: w.liaison,
	}
}

// elsewhere is a second unit and a second campaign: what the probe moved
// a reviewed note to.
func (w *reviewWorld) elsewhere(t *testing.T) (unit, campaign string) {
	t.Helper()
	unit, campaign = uuid.NewString(), uuid.NewString()
	w.serverApply(t,
		ServerChange{Table: "units", RowID: unit, Fields: map[string]any{"name": "Điện Biên", "kind": "province", "code": "11",
			"cluster_id": w.cluster, "lat": 21.38, "lng": 103.02}},
		ServerChange{Table: "campaigns", RowID: campaign, Fields: map[string]any{"plan_id": w.plan, "kind": "thematic", "name": "Đợt 2"}})
	return unit, campaign
}

// TestReviewedNoteIsFinal walks every role as the author of a note in
// every status: its author amends its content, unit and campaign until
// it is reviewed (the PWA's rule, I.1: what was handed in is what was
// reviewed), and then no more; a unit liaison never. An amendment stamped
// before the review was made while the note was open (offline, it reaches
// the server after the review) and stands. A refusal is forbidden, says
// why in Vietnamese first, and changes nothing; the reviewer's own fields
// still move on a reviewed note.
func TestReviewedNoteIsFinal(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	otherUnit, otherCampaign := w.elsewhere(t)
	roles := w.writerRoles()
	// Written apart from specs.go: the statuses in which the author amends a note.
	amendable := map[string]bool{"draft": true, "submitted": true, "needs_revision": true}
	all := map[string]bool{"draft": true, "submitted": true, "needs_revision": true, "reviewed": true}
	step := time.Duration(0)
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		writes := role != plan.RoleUnitLiaison
		for _, when := range []struct {
			name   string
			offset time.Duration // of the change's clock from the review's
			open   map[string]bool
		}{
			{"after the review", 0, amendable},
			{"before the review", -time.Hour, all},
		} {
			for _, status := range noteStatuses {
				for _, try := range []struct {
					what   string
					fields map[string]any
				}{
					{"rewrite the conclusions", map[string]any{"conclusions": "Viết lại kết luận"}},
					{"move it to another unit", map[string]any{"unit_id": otherUnit}},
					{"move it to another campaign", map[string]any{"campaign_id": otherCampaign}},
					{"all three (the probe)", map[string]any{"conclusions": "Viết lại", "unit_id": otherUnit, "campaign_id": otherCampaign}},
					{"retitle it", map[string]any{"title": "Tiêu đề khác"}},
				} {
					step += time.Millisecond
					id := w.noteAt(t, a, status)
					before := w.rowState(t, mustTable("visit_notes"), id)
					res := w.push(t, a, note(id, a, w.stamp(a, step+when.offset), try.fields))[0]
					want := writes && when.open[status]
					if got := res.Status == protocol.StatusApplied; got != want {
						t.Errorf("%s on a %s note, %s: %s: %s %s %q, want allowed=%v", role, status, when.name, try.what, res.Status, res.Code, res.Message, want)
						continue
					}
					if want {
						continue
					}
					if res.Code != protocol.CodeForbidden {
						t.Errorf("%s on a %s note: %s refused as %s, want forbidden", role, status, try.what, res.Code)
					}
					if writes && !strings.HasPrefix(res.Message, "ghi chép đã được duyệt") {
						t.Errorf("%s on a %s note: %s refused with %q, which does not say (in Vietnamese first) that the note is reviewed",
							role, status, try.what, res.Message)
					}
					if after := w.rowState(t, mustTable("visit_notes"), id); after != before {
						t.Errorf("%s on a %s note: %s refused, yet the note changed", role, status, try.what)
					}
				}
			}
		}
	}

	// The reviewer's decision fields still move on a reviewed note, and a
	// note sent back is the author's to amend again.
	id := w.noteAt(t, w.sec, "reviewed")
	step += time.Millisecond
	if r := w.push(t, w.leader, note(id, w.leader, w.stamp(w.leader, step), map[string]any{
		"review_comment": "Bổ sung ý kiến", "reviewed_by": w.leader.UserID}))[0]; r.Status != protocol.StatusApplied {
		t.Errorf("the team leader comments on a reviewed note: %+v", r)
	}
	step += time.Millisecond
	if r := w.push(t, w.leader, note(id, w.leader, w.stamp(w.leader, step), map[string]any{
		"status": "needs_revision", "review_comment": "Cần bổ sung số liệu", "reviewed_by": w.leader.UserID}))[0]; r.Status != protocol.StatusApplied {
		t.Errorf("the team leader sends a reviewed note back: %+v", r)
	}
	step += time.Millisecond
	if r := w.push(t, w.sec, note(id, w.sec, w.stamp(w.sec, step), map[string]any{"conclusions": "Đã bổ sung"}))[0]; r.Status != protocol.StatusApplied {
		t.Errorf("the author amends a note sent back after its review: %+v", r)
	}
	// An author who also reviews (an admin) still decides on their own
	// reviewed note, and still may not rewrite it.
	id = w.noteAt(t, w.admin, "reviewed")
	step += time.Millisecond
	if r := w.push(t, w.admin, note(id, w.admin, w.stamp(w.admin, step), map[string]any{
		"status": "needs_revision", "review_comment": "Tự rà soát", "reviewed_by": w.admin.UserID}))[0]; r.Status != protocol.StatusApplied {
		t.Errorf("an admin sends back their own reviewed note: %+v", r)
	}
	id = w.noteAt(t, w.admin, "reviewed")
	step += time.Millisecond
	if r := w.push(t, w.admin, note(id, w.admin, w.stamp(w.admin, step), map[string]any{
		"status": "reviewed", "conclusions": "Viết lại"}))[0]; r.Status != protocol.StatusRejected || r.Field != "conclusions" {
		t.Errorf("an admin rewriting their own reviewed note with a decision: %+v, want refused on conclusions", r)
	}
}

// TestNoFindingsJoinAReviewedNote walks every role: a finding is added to
// a note until the note is reviewed, and moved from an open note onto
// another only while that one is open too (a draft or sent back), the rule
// its corrections already follow on the note it leaves. Judged as of the
// change: one made before the review or hand-in stands, whenever it
// arrives.
func TestNoFindingsJoinAReviewedNote(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := w.writerRoles()
	// Written apart from specs.go.
	addable := map[string]bool{"draft": true, "submitted": true, "needs_revision": true}
	open := map[string]bool{"draft": true, "needs_revision": true}
	all := map[string]bool{"draft": true, "submitted": true, "needs_revision": true, "reviewed": true}
	step := time.Duration(0)
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		writes := role != plan.RoleUnitLiaison
		for _, when := range []struct {
			name        string
			offset      time.Duration
			add, moveTo map[string]bool
		}{
			{"after the note's last status", 0, addable, open},
			{"before it", -time.Hour, all, all},
		} {
			for _, status := range noteStatuses {
				target := w.noteAt(t, a, status)
				// Added to the note.
				step += time.Millisecond
				id := uuid.NewString()
				res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: id, Op: protocol.OpUpsert,
					HLC: w.stamp(a, step+when.offset), Fields: map[string]any{"note_id": target, "unit_id": w.unit,
						"campaign_id": w.campaign, "category": "shortcoming", "text": "Thêm sau"}})[0]
				w.checkFindingVerdict(t, res, writes && when.add[status], role+" adds a finding to a "+status+" note, "+when.name, id, "")

				// Moved onto it from an open note of the same author.
				step += time.Millisecond
				from, id := w.noteAt(t, a, "draft"), uuid.NewString()
				w.serverApply(t, ServerChange{Table: "findings", RowID: id, Fields: map[string]any{
					"note_id": from, "author_id": a.UserID, "unit_id": w.unit, "campaign_id": w.campaign,
					"category": "shortcoming", "text": "Chưa sơ kết"}})
				before := w.rowState(t, mustTable("findings"), id)
				res = w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: id, Op: protocol.OpUpsert,
					HLC: w.stamp(a, step+when.offset), Fields: map[string]any{"note_id": target}})[0]
				w.checkFindingVerdict(t, res, writes && when.moveTo[status], role+" moves a finding onto a "+status+" note, "+when.name, id, before)
			}
		}
	}
}

// checkFindingVerdict: a finding change applied as wanted, or refused as
// forbidden on note_id, saying why in Vietnamese first, with the row as it
// was (before: "" for none).
func (w *reviewWorld) checkFindingVerdict(t *testing.T, res protocol.Result, want bool, what, id, before string) {
	t.Helper()
	if got := res.Status == protocol.StatusApplied; got != want {
		t.Errorf("%s: %s %s %q, want allowed=%v", what, res.Status, res.Code, res.Message, want)
		return
	}
	if want {
		return
	}
	if res.Code != protocol.CodeForbidden {
		t.Errorf("%s: refused as %s %q, want forbidden", what, res.Code, res.Message)
	}
	if !strings.HasPrefix(what, plan.RoleUnitLiaison) && (res.Field != "note_id" || !strings.HasPrefix(res.Message, "ghi chép") &&
		!strings.HasPrefix(res.Message, "chỉ chuyển")) {
		t.Errorf("%s: refused on %q with %q, want note_id and a Vietnamese reason first", what, res.Field, res.Message)
	}
	if after := w.rowState(t, mustTable("findings"), id); after != before {
		t.Errorf("%s: refused, yet the finding changed", what)
	}
}

// The order of arrival: an author offline since before the review amends
// the note and adds a finding to it; the review reaches the server first,
// then the author's push. What was made before the review stands, by the
// clock or, when the device had pulled the review, by its base cursor
// (then it was made after seeing it, whatever the clock says). Arriving
// before the review, the same changes stand, and the review is taken.
func TestReviewAndAmendmentInEitherOrder(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	ctx := context.Background()
	cursor := func(a Actor) string { return w.pulledTo(t, a) }
	push := func(a Actor, base string, chs ...protocol.Change) []protocol.Result {
		resp, err := w.db.Push(ctx, a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, BaseCursor: base, Changes: chs})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Results
	}
	step := time.Duration(0)
	for _, c := range []struct {
		name        string
		reviewFirst bool
		pulled      bool          // the author's device had pulled the review
		offset      time.Duration // of the author's clock from the review's
		want        string
	}{
		{"review first, amendment made before it, offline", true, false, -2 * time.Second, protocol.StatusApplied},
		{"review first, amendment made after it", true, false, 2 * time.Second, protocol.StatusRejected},
		{"review first, device pulled it, clock two days behind", true, true, -48 * time.Hour, protocol.StatusRejected},
		{"amendment first, made before the review", false, false, -2 * time.Second, protocol.StatusApplied},
	} {
		step += 10 * time.Second
		id := w.noteAt(t, w.sec, "submitted")
		base := cursor(w.sec)
		review := note(id, w.leader, w.stamp(w.leader, step), map[string]any{"status": "reviewed", "reviewed_by": w.leader.UserID})
		amend := []protocol.Change{
			note(id, w.sec, w.stamp(w.sec, step+c.offset), map[string]any{"conclusions": "Bổ sung: " + c.name}),
			{ID: uuid.NewString(), Table: "findings", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: w.stamp(w.sec, step+c.offset+time.Millisecond),
				Fields: map[string]any{"note_id": id, "unit_id": w.unit, "category": "shortcoming", "text": "Thêm: " + c.name}},
		}
		if !c.reviewFirst {
			for i, r := range push(w.sec, base, amend...) {
				if r.Status != c.want {
					t.Errorf("%s: change %d: %+v, want %s", c.name, i, r, c.want)
				}
			}
		}
		if r := push(w.leader, cursor(w.leader), review)[0]; r.Status != protocol.StatusApplied {
			t.Fatalf("%s: the review: %+v", c.name, r)
		}
		if c.reviewFirst {
			if c.pulled {
				base = cursor(w.sec)
			}
			for i, r := range push(w.sec, base, amend...) {
				if r.Status != c.want {
					t.Errorf("%s: change %d: %+v, want %s", c.name, i, r, c.want)
				} else if r.Status == protocol.StatusRejected && r.Code != protocol.CodeForbidden {
					t.Errorf("%s: change %d refused as %s, want forbidden", c.name, i, r.Code)
				}
			}
		}
		var status string
		if err := w.st.Reader().QueryRow("SELECT status FROM visit_notes WHERE id = ?", id).Scan(&status); err != nil || status != "reviewed" {
			t.Errorf("%s: the note is %q (%v), want reviewed", c.name, status, err)
		}
	}
}
