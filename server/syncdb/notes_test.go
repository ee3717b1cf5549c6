package syncdb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// noteStatuses are a visit note's statuses; "" stands for "no note yet"
// (the change creates it).
var noteStatuses = []string{"draft", "submitted", "needs_revision", "reviewed"}

// authorMoves and reviewerMoves are the transition table of a note's
// status, written out as the plan's review cycle: the author drafts,
// submits and may take a submitted note back; a reviewer sends it back for
// revision or accepts it, never before it is submitted; the author
// resubmits after a revision request. Anything not listed is refused.
var (
	authorMoves = map[string][]string{
		"":               {"draft", "submitted"},
		"draft":          {"draft", "submitted"},
		"submitted":      {"draft", "submitted"},
		"needs_revision": {"submitted"},
		"reviewed":       {},
	}
	reviewerMoves = map[string][]string{
		"draft":          {},
		"submitted":      {"needs_revision", "reviewed"},
		"needs_revision": {"needs_revision", "reviewed"},
		"reviewed":       {"needs_revision", "reviewed"},
	}
)

// reviewWorld is the fixture plus a campaign whose team, led by leader
// with member in it, covers the fixture's unit.
type reviewWorld struct {
	*fixture
	campaign, plan, team, cluster string
	period                        string // a special period of the plan
	leader, member                Actor
	ic, office, liaison, dept     Actor
	sec                           Actor // leads the cluster of the fixture's unit
}

func newReviewWorld(t *testing.T) *reviewWorld {
	t.Helper()
	f := newFixture(t)
	w := &reviewWorld{fixture: f, campaign: uuid.NewString(), plan: uuid.NewString(), team: uuid.NewString(),
		cluster: uuid.NewString(), period: uuid.NewString()}
	mk := func(dev string, roles ...string) Actor {
		return Actor{UserID: uuid.NewString(), Roles: roles, DeviceID: dev}
	}
	w.leader, w.member = mk("dev-leader", "inspector"), mk("dev-member", "inspector")
	w.ic, w.office = mk("dev-ic", "inspection_committee"), mk("dev-office", "office")
	w.liaison = mk("dev-liaison", "unit_liaison")
	w.liaison.UnitID = f.unit
	w.dept = mk("dev-dept", "department")
	w.dept.DepartmentID = uuid.NewString()
	w.sec = mk("dev-sec", "secretary")
	changes := []ServerChange{{Table: "departments", RowID: w.dept.DepartmentID, Fields: map[string]any{"name": "Ban Tuyên giáo"}}}
	for i, a := range []Actor{w.leader, w.member, w.ic, w.office, w.liaison, w.dept, w.sec} {
		fields := map[string]any{"username": fmt.Sprintf("review%d", i), "roles": a.Roles}
		if a.UnitID != "" {
			fields["unit_id"] = a.UnitID
		}
		if a.DepartmentID != "" {
			fields["department_id"] = a.DepartmentID
		}
		changes = append(changes, ServerChange{Table: "users", RowID: a.UserID, Fields: fields})
	}
	changes = append(changes,
		ServerChange{Table: "clusters", RowID: w.cluster, Fields: map[string]any{"name": "Cụm 1", "lead_secretary_id": w.sec.UserID,
			"lead_department_id": w.dept.DepartmentID}},
		ServerChange{Table: "units", RowID: f.unit, Fields: map[string]any{"cluster_id": w.cluster}},
		ServerChange{Table: "plans", RowID: w.plan, Fields: map[string]any{"year": 2021.0, "title": "Kế hoạch 356"}},
		ServerChange{Table: "campaigns", RowID: w.campaign, Fields: map[string]any{"plan_id": w.plan, "kind": "periodic", "name": "Đợt 1"}},
		ServerChange{Table: "special_periods", RowID: w.period, Fields: map[string]any{"plan_id": w.plan, "name": "Tháng Thanh niên"}},
		ServerChange{Table: "teams", RowID: w.team, Fields: map[string]any{"campaign_id": w.campaign, "name": "Đoàn 1",
			"leader_id": w.leader.UserID, "member_ids": []any{w.member.UserID}, "unit_ids": []any{f.unit}}},
	)
	w.serverApply(t, changes...)
	return w
}

func (f *fixture) serverApply(t *testing.T, changes ...ServerChange) {
	t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error { return f.db.ApplyServerTx(ctx, tx, "", changes) }); err != nil {
		t.Fatal(err)
	}
}

// pulledTo pulls everything a can read and returns the cursor its device
// then holds: the base_cursor of what it writes next.
func (w *reviewWorld) pulledTo(t *testing.T, a Actor) string {
	t.Helper()
	ctx := context.Background()
	resp, err := w.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for resp.HasMore {
		if resp, err = w.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: resp.Cursor, Limit: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	return resp.Cursor
}

// noteAt puts a note by author at status on the server, as if it had got
// there through the review cycle, and returns its id.
func (w *reviewWorld) noteAt(t *testing.T, author Actor, status string) string {
	t.Helper()
	id := uuid.NewString()
	w.serverApply(t, ServerChange{Table: "visit_notes", RowID: id, Fields: map[string]any{
		"author_id": author.UserID, "unit_id": w.unit, "campaign_id": w.campaign, "title": "Kiểm tra định kỳ",
		"results": "Kết quả", "status": status}})
	return id
}

// TestNoteStatusTransitions walks every status pair for every role: the
// author, a reviewer (the team leader and each headquarters role), and
// people who may read the note but neither wrote nor review it. A refused
// change is forbidden and leaves the note as it was.
func TestNoteStatusTransitions(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	admin := w.admin
	type role struct {
		name   string
		who    Actor
		author bool // writes as the note's author
		moves  map[string][]string
	}
	union := map[string][]string{}
	for from := range authorMoves {
		union[from] = append(slices.Clone(authorMoves[from]), reviewerMoves[from]...)
	}
	roles := []role{
		{"author", w.alice, true, authorMoves},
		{"team leader", w.leader, false, reviewerMoves},
		{"admin", admin, false, reviewerMoves},
		{"inspection committee", w.ic, false, reviewerMoves},
		{"office", w.office, false, reviewerMoves},
		{"team member", w.member, false, nil},
		{"unit liaison", w.liaison, false, nil},
		{"department", w.dept, false, nil},
		// An author who also reviews (an admin writing a note) holds both.
		{"author who reviews", admin, true, union},
	}
	step := time.Duration(0)
	for _, r := range roles {
		for _, from := range append([]string{""}, noteStatuses...) {
			if from == "" && !r.author {
				continue // only an author creates a note (own rows, tested elsewhere)
			}
			for _, to := range noteStatuses {
				step += time.Millisecond
				id := uuid.NewString()
				fields := map[string]any{"status": to}
				if from == "" {
					fields = map[string]any{"unit_id": w.unit, "campaign_id": w.campaign, "title": "Ghi chép", "status": to}
				} else {
					id = w.noteAt(t, w.alice, from)
					if r.author {
						id = w.noteAt(t, r.who, from)
					}
				}
				if !r.author {
					// A reviewer's decision comes with its comment and its name.
					fields["review_comment"] = "Ý kiến của người duyệt"
					fields["reviewed_by"] = r.who.UserID
				}
				res := w.push(t, r.who, note(id, r.who, w.stamp(r.who, step), fields))[0]
				want := slices.Contains(r.moves[from], to)
				got := res.Status == protocol.StatusApplied
				if got != want {
					t.Errorf("%s: %q -> %q: %s %s %q, want allowed=%v", r.name, from, to, res.Status, res.Code, res.Message, want)
					continue
				}
				if !got && res.Code != protocol.CodeForbidden {
					t.Errorf("%s: %q -> %q refused as %s, want forbidden", r.name, from, to, res.Code)
				}
				if from == "" {
					continue
				}
				var status string
				if err := w.st.Reader().QueryRow("SELECT status FROM visit_notes WHERE id = ?", id).Scan(&status); err != nil {
					t.Fatal(err)
				}
				if wantStatus := map[bool]string{true: to, false: from}[want]; status != wantStatus {
					t.Errorf("%s: %q -> %q left the note %q, want %q", r.name, from, to, status, wantStatus)
				}
			}
		}
	}
}

// The probe that found the fault: a reviewer set a note back to draft, or
// to submitted, by sending a comment with it.
func TestReviewerCannotUnsubmitWithAComment(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	for i, to := range []string{"draft", "submitted"} {
		id := w.noteAt(t, w.alice, "needs_revision")
		res := w.push(t, w.leader, note(id, w.leader, w.stamp(w.leader, time.Duration(i)*time.Second), map[string]any{
			"status": to, "review_comment": "Trả lại"}))[0]
		if res.Status != protocol.StatusRejected || res.Code != protocol.CodeForbidden || res.Field != "status" {
			t.Errorf("team leader setting %s with a comment: %+v, want forbidden on status", to, res)
		}
	}
	// Reviewing a note the server holds as a draft says why it is refused,
	// whatever the reviewer's device believed.
	id := w.noteAt(t, w.alice, "draft")
	res := w.push(t, w.ic, note(id, w.ic, w.stamp(w.ic, 5*time.Second), map[string]any{
		"status": "reviewed", "review_comment": "Đạt", "reviewed_by": w.ic.UserID}))[0]
	if res.Status != protocol.StatusRejected || res.Code != protocol.CodeForbidden || !containsAll(res.Message, "draft", "submit") {
		t.Errorf("reviewing a draft: %+v, want forbidden saying it is a draft until submitted", res)
	}
	res = w.push(t, w.ic, note(id, w.ic, w.stamp(w.ic, 6*time.Second), map[string]any{"review_comment": "Góp ý sớm"}))[0]
	if res.Status != protocol.StatusRejected || res.Code != protocol.CodeForbidden {
		t.Errorf("commenting on a draft: %+v, want forbidden", res)
	}
	// A reviewer names only themselves as the reviewer.
	id = w.noteAt(t, w.alice, "submitted")
	res = w.push(t, w.ic, note(id, w.ic, w.stamp(w.ic, 7*time.Second), map[string]any{
		"status": "reviewed", "reviewed_by": w.office.UserID}))[0]
	if res.Status != protocol.StatusRejected || res.Field != "reviewed_by" {
		t.Errorf("naming another reviewer: %+v, want refused on reviewed_by", res)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(strings.ToLower(s), p) {
			return false
		}
	}
	return true
}

// A move is judged from the status its writer had seen. Offline, the
// author amends a note sent back for revision and resubmits it, while the
// leader accepts it after all: both decisions were legal where they were
// made, so the author's amendment is kept, the later decision wins and the
// pair is listed for review. An author who had seen the acceptance may
// not resubmit.
func TestConcurrentReviewAndResubmit(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	ctx := context.Background()
	id := w.noteAt(t, w.alice, "needs_revision")
	base := func(a Actor) string {
		resp, err := w.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Cursor
	}
	pushFrom := func(a Actor, cursor string, ch protocol.Change) protocol.Result {
		resp, err := w.db.Push(ctx, a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, BaseCursor: cursor, Changes: []protocol.Change{ch}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Results[0]
	}
	authorBase := base(w.alice)
	if r := pushFrom(w.leader, base(w.leader), note(id, w.leader, w.stamp(w.leader, 2*time.Second), map[string]any{
		"status": "reviewed", "reviewed_by": w.leader.UserID})); r.Status != protocol.StatusApplied {
		t.Fatalf("leader accepts: %+v", r)
	}
	if r := pushFrom(w.alice, authorBase, note(id, w.alice, w.stamp(w.alice, time.Second), map[string]any{
		"conclusions": "Đã bổ sung số liệu", "status": "submitted"})); r.Status != protocol.StatusApplied {
		t.Fatalf("the author's concurrent resubmission: %+v, want applied (its status losing to the later decision)", r)
	}
	var status, conclusions string
	var conflicts int
	if err := w.st.Reader().QueryRow(`SELECT status, conclusions, (SELECT COUNT(*) FROM conflicts WHERE row_id = v.id AND field = 'status')
		FROM visit_notes v WHERE id = ?`, id).Scan(&status, &conclusions, &conflicts); err != nil {
		t.Fatal(err)
	}
	if status != "reviewed" || conclusions != "Đã bổ sung số liệu" || conflicts != 1 {
		t.Fatalf("after the concurrent pair: status %q, conclusions %q, %d conflicts; want reviewed, the amendment, 1", status, conclusions, conflicts)
	}
	r := pushFrom(w.alice, base(w.alice), note(id, w.alice, w.stamp(w.alice, 3*time.Second), map[string]any{"status": "submitted"}))
	if r.Status != protocol.StatusRejected || r.Code != protocol.CodeForbidden {
		t.Fatalf("resubmitting a note seen reviewed: %+v, want forbidden", r)
	}
}

// A unit liaison reads the notes and findings about their unit and writes
// none: not a new one, nor one recorded under their name before.
func TestLiaisonWritesNoNotesOrFindings(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	legacy := w.noteAt(t, w.liaison, "draft")
	legacyFinding := uuid.NewString()
	w.serverApply(t, ServerChange{Table: "findings", RowID: legacyFinding, Fields: map[string]any{
		"author_id": w.liaison.UserID, "unit_id": w.unit, "category": "aspiration", "text": "Kiến nghị"}})
	changes := []protocol.Change{
		note(uuid.NewString(), w.liaison, w.stamp(w.liaison, 1), map[string]any{
			"unit_id": w.unit, "campaign_id": w.campaign, "title": "Tự đánh giá", "status": "submitted"}),
		note(legacy, w.liaison, w.stamp(w.liaison, 2), map[string]any{"status": "submitted"}),
		{ID: uuid.NewString(), Table: "visit_notes", RowID: legacy, Op: protocol.OpDelete, HLC: w.stamp(w.liaison, 3)},
		{ID: uuid.NewString(), Table: "findings", RowID: uuid.NewString(), Op: protocol.OpUpsert, HLC: w.stamp(w.liaison, 4),
			Fields: map[string]any{"unit_id": w.unit, "category": "aspiration", "text": "Đề nghị"}},
		{ID: uuid.NewString(), Table: "findings", RowID: legacyFinding, Op: protocol.OpUpsert, HLC: w.stamp(w.liaison, 5),
			Fields: map[string]any{"text": "Sửa kiến nghị"}},
		{ID: uuid.NewString(), Table: "findings", RowID: legacyFinding, Op: protocol.OpDelete, HLC: w.stamp(w.liaison, 6)},
	}
	for i, r := range w.push(t, w.liaison, changes...) {
		if r.Status != protocol.StatusRejected || r.Code != protocol.CodeForbidden {
			t.Errorf("liaison's change %d (%s %s): %+v, want forbidden", i, changes[i].Table, changes[i].Op, r)
		}
	}
	// Holding another role as well, they write as that role.
	both := w.liaison
	both.Roles = []string{"unit_liaison", "inspector"}
	if r := w.push(t, both, note(uuid.NewString(), both, w.stamp(both, 7), map[string]any{"unit_id": w.unit, "title": "Ghi chép"})); r[0].Status != protocol.StatusApplied {
		t.Errorf("a liaison who is also an inspector writing a note: %+v", r[0])
	}
}

// TestFindingsOpenWhileTheirNoteIs walks every role as the author of a finding
// on its own note in every status: the finding's text is corrected and the
// finding deleted only while the note is a draft or sent back for revision
// (what was handed in is what the reviewer reads); its status (a
// follow-up) moves whatever the note's; a unit liaison writes none of it.
// A refused change is forbidden, names its reason, and changes nothing.
// A correction stamped before the note's hand-in was made while the note
// was open (offline, it reaches the server with or after the hand-in) and
// stands in every status.
func TestFindingsOpenWhileTheirNoteIs(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader, plan.RoleUnitLiaison: w.liaison,
	}
	// Written apart from specs.go: the statuses in which a note's findings are open.
	open := map[string]bool{"draft": true, "needs_revision": true}
	step := time.Duration(0)
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		writes := role != plan.RoleUnitLiaison
		for _, when := range []struct {
			name   string
			offset time.Duration // of the change's clock from the hand-in's
			open   map[string]bool
		}{
			{"after the hand-in", 0, open},
			{"before the hand-in", -time.Hour, map[string]bool{"draft": true, "submitted": true, "needs_revision": true, "reviewed": true}},
		} {
			for _, status := range noteStatuses {
				for _, try := range []struct {
					what  string
					op    protocol.Op
					field map[string]any
					want  bool
				}{
					{"correct the text", protocol.OpUpsert, map[string]any{"text": "Sửa nội dung"}, writes && when.open[status]},
					{"change the category", protocol.OpUpsert, map[string]any{"category": "recommendation"}, writes && when.open[status]},
					{"delete", protocol.OpDelete, nil, writes && when.open[status]},
					{"move the status", protocol.OpUpsert, map[string]any{"status": "in_progress"}, writes},
				} {
					step += time.Millisecond
					noteID, id := w.noteAt(t, a, status), uuid.NewString()
					w.serverApply(t, ServerChange{Table: "findings", RowID: id, Fields: map[string]any{
						"note_id": noteID, "author_id": a.UserID, "unit_id": w.unit, "campaign_id": w.campaign,
						"category": "shortcoming", "text": "Chưa sơ kết"}})
					before := w.rowState(t, mustTable("findings"), id)
					res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: id, Op: try.op,
						HLC: w.stamp(a, step+when.offset), Fields: try.field})[0]
					if got := res.Status == protocol.StatusApplied; got != try.want {
						t.Errorf("%s on a %s note, %s: %s: %s %s %q, want allowed=%v", role, status, when.name, try.what, res.Status, res.Code, res.Message, try.want)
						continue
					}
					if try.want {
						continue
					}
					if res.Code != protocol.CodeForbidden {
						t.Errorf("%s on a %s note: %s refused as %s, want forbidden", role, status, try.what, res.Code)
					}
					if writes && !containsAll(res.Message, "draft", "sent back") {
						t.Errorf("%s on a %s note: %s refused with %q, which does not say when a finding may change", role, status, try.what, res.Message)
					}
					if after := w.rowState(t, mustTable("findings"), id); after != before {
						t.Errorf("%s on a %s note: %s refused, yet the finding changed", role, status, try.what)
					}
				}
			}
		}
	}
}

// A device that had pulled a note's hand-in cannot correct its findings
// any more, whatever its clock says: an edit stamped two days before the
// hand-in, pushed with a base cursor past it, was made after seeing it.
// The same edit from a device whose cursor predates the hand-in was made
// offline while the note was open, and stands.
func TestFindingEditAfterPullingTheHandInIsRefusedWhateverTheClock(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	ctx := context.Background()
	cursor := func(a Actor) string { return w.pulledTo(t, a) }
	roles := map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader,
	}
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		for _, handIn := range []string{"submitted", "reviewed"} {
			for _, behind := range []time.Duration{48 * time.Hour, time.Minute} {
				noteID, finding := w.noteAt(t, a, "draft"), uuid.NewString()
				w.serverApply(t, ServerChange{Table: "findings", RowID: finding, Fields: map[string]any{
					"note_id": noteID, "author_id": a.UserID, "unit_id": w.unit, "campaign_id": w.campaign,
					"category": "shortcoming", "text": "Chưa sơ kết"}})
				before := cursor(a)
				w.serverApply(t, ServerChange{Table: "visit_notes", RowID: noteID, Fields: map[string]any{"status": handIn}})
				after := cursor(a)
				for _, c := range []struct {
					name, base string
					want       string
				}{
					{"having pulled the hand-in", after, protocol.StatusRejected},
					{"offline since before it", before, protocol.StatusApplied},
				} {
					resp, err := w.db.Push(ctx, a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, BaseCursor: c.base,
						Changes: []protocol.Change{{ID: uuid.NewString(), Table: "findings", RowID: finding, Op: protocol.OpUpsert,
							HLC: w.stamp(a, -behind), Fields: map[string]any{"text": "Sửa sau khi nộp (" + c.name + ")"}}}})
					if err != nil {
						t.Fatal(err)
					}
					if r := resp.Results[0]; r.Status != c.want {
						t.Errorf("%s, note %s, clock %s behind, %s: %s %s %q, want %s", role, handIn, behind, c.name, r.Status, r.Code, r.Message, c.want)
					} else if r.Status == protocol.StatusRejected && r.Code != protocol.CodeForbidden {
						t.Errorf("%s: refused as %s, want forbidden", role, r.Code)
					}
				}
			}
		}
	}
}
