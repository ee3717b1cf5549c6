package syncdb

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// A unit liaison reads the submitted notes about their unit. When a
// reviewer sends a note back for revision it leaves the liaison's scope:
// their next pull must tell the device to drop it, and tell nobody else.
func TestRowLeavingScopeIsDeliveredAsDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	liaison := Actor{UserID: uuid.NewString(), Roles: []string{"unit_liaison"}, UnitID: f.unit, DeviceID: "dev-liaison"}
	stranger := Actor{UserID: f.bob.UserID, Roles: []string{"inspector"}, DeviceID: "dev-stranger"}

	id := uuid.NewString()
	res := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, 0), map[string]any{
		"unit_id": f.unit, "title": "Kiểm tra định kỳ", "status": "submitted"}))
	if res[0].Status != protocol.StatusApplied {
		t.Fatalf("create: %+v", res)
	}
	cursor := func(a Actor) string {
		resp, err := f.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Cursor
	}
	lc, sc := cursor(liaison), cursor(stranger)

	res = f.push(t, f.admin, note(id, f.admin, f.stamp(f.admin, time.Second), map[string]any{
		"status": "needs_revision", "review_comment": "Bổ sung kết luận"}))
	if res[0].Status != protocol.StatusApplied {
		t.Fatalf("review: %+v", res)
	}

	resp, err := f.db.Pull(ctx, liaison, protocol.PullRequest{Protocol: 1, DeviceID: liaison.DeviceID, Cursor: lc, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var dropped bool
	for _, r := range resp.Rows {
		if r.Table == "visit_notes" && r.RowID == id {
			if !r.Deleted || len(r.Fields) != 0 {
				t.Fatalf("liaison got the note after it left their scope: %+v", r)
			}
			dropped = true
		}
	}
	if !dropped {
		t.Fatalf("liaison's pull did not say to drop the note: %+v", resp.Rows)
	}

	resp, err = f.db.Pull(ctx, stranger, protocol.PullRequest{Protocol: 1, DeviceID: stranger.DeviceID, Cursor: sc, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Rows {
		if r.RowID == id {
			t.Fatalf("a user who never could read the note heard of it: %+v", r)
		}
	}

	// The author still reads it, whole, with the reviewer's decision.
	row := f.pullAll(t, f.alice)["visit_notes/"+id]
	if row.Deleted || row.Fields["status"] != "needs_revision" {
		t.Fatalf("author's copy: %+v", row)
	}
}

// A follow-up is read with its finding. When a finding moves into an
// inspection team's units, the team's inspector receives its earlier
// follow-ups too; when it moves out, the inspector's device drops both.
func TestFollowUpsMoveWithTheirFinding(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	plan, campaign, team, teamUnit := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{
			{Table: "units", RowID: teamUnit, Fields: map[string]any{"name": "Bắc Ninh", "kind": "province"}},
			{Table: "plans", RowID: plan, Fields: map[string]any{"year": 2021.0, "title": "Kế hoạch 356"}},
			{Table: "campaigns", RowID: campaign, Fields: map[string]any{"plan_id": plan, "kind": "periodic", "name": "Đợt 1"}},
			{Table: "teams", RowID: team, Fields: map[string]any{"campaign_id": campaign, "name": "Đoàn kiểm tra số 1",
				"member_ids": []any{f.bob.UserID}, "unit_ids": []any{teamUnit}}},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	finding, followUp := uuid.NewString(), uuid.NewString()
	changes := []protocol.Change{
		{ID: uuid.NewString(), Table: "findings", RowID: finding, Op: protocol.OpUpsert, HLC: f.stamp(f.alice, 0),
			Fields: map[string]any{"unit_id": f.unit, "category": "shortcoming", "text": "Sinh hoạt chi đoàn chưa đều"}},
		{ID: uuid.NewString(), Table: "follow_ups", RowID: followUp, Op: protocol.OpUpsert, HLC: f.stamp(f.alice, 1),
			Fields: map[string]any{"finding_id": finding, "text": "Đã nhắc Tỉnh đoàn", "at": "2021-06-10T08:00:00Z"}},
	}
	// More follow-ups than a pull page holds: they move with their finding
	// under one sequence, and a page must not cut them.
	for i := range 5 {
		changes = append(changes, protocol.Change{ID: uuid.NewString(), Table: "follow_ups", RowID: uuid.NewString(), Op: protocol.OpUpsert,
			HLC: f.stamp(f.alice, time.Duration(2+i)*time.Millisecond), Fields: map[string]any{"finding_id": finding, "text": "Nhắc lại", "at": "2021-06-11T08:00:00Z"}})
	}
	res := f.push(t, f.alice, changes...)
	for _, r := range res {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("setup: %+v", res)
		}
	}
	// pull pages through everything after cursor, two rows a page.
	pull := func(cursor string) protocol.PullResponse {
		var all protocol.PullResponse
		for {
			resp, err := f.db.Pull(ctx, f.bob, protocol.PullRequest{Protocol: 1, DeviceID: f.bob.DeviceID, Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			all.Rows = append(all.Rows, resp.Rows...)
			all.Cursor, cursor = resp.Cursor, resp.Cursor
			if !resp.HasMore {
				return all
			}
		}
	}
	seen := func(resp protocol.PullResponse) map[string]protocol.Row {
		out := map[string]protocol.Row{}
		for _, r := range resp.Rows {
			out[r.RowID] = r
		}
		return out
	}
	first := pull("")
	if _, ok := seen(first)[followUp]; ok {
		t.Fatal("the inspector read a follow-up of a finding outside their team's units")
	}

	move := func(unit string, at time.Duration) {
		r := f.push(t, f.alice, protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: finding, Op: protocol.OpUpsert,
			HLC: f.stamp(f.alice, at), Fields: map[string]any{"unit_id": unit}})
		if r[0].Status != protocol.StatusApplied {
			t.Fatalf("move: %+v", r)
		}
	}
	move(teamUnit, time.Second)
	in := pull(first.Cursor)
	rows := seen(in)
	if rows[finding].Deleted || rows[followUp].Deleted || rows[followUp].Fields["text"] != "Đã nhắc Tỉnh đoàn" {
		t.Fatalf("after the finding moved into the team's unit the inspector got %+v", in.Rows)
	}
	n := 0
	for _, r := range rows {
		if r.Table == "follow_ups" && !r.Deleted {
			n++
		}
	}
	if n != 6 {
		t.Fatalf("the inspector received %d of the finding's 6 follow-ups", n)
	}

	move(f.unit, 2*time.Second)
	out := seen(pull(in.Cursor))
	if !out[finding].Deleted || !out[followUp].Deleted {
		t.Fatalf("after the finding moved out the inspector was not told to drop it and its follow-up: %+v", out)
	}
}

// A department reads the notes of the findings assigned to it. Filing a
// finding on someone else's note must not open that note to one's own
// department.
func TestFindingCannotOpenAnotherUsersNote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	dept := uuid.NewString()
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{{Table: "departments", RowID: dept, Fields: map[string]any{"name": "Ban Tuyên giáo"}}})
	}); err != nil {
		t.Fatal(err)
	}
	eve := Actor{UserID: f.bob.UserID, Roles: []string{"department"}, DepartmentID: dept, DeviceID: "dev-eve"}
	secret := uuid.NewString()
	if r := f.push(t, f.alice, note(secret, f.alice, f.stamp(f.alice, 0), map[string]any{"unit_id": f.unit, "title": "bản nháp riêng"})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("note: %+v", r)
	}
	r := f.push(t, eve, protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: uuid.NewString(), Op: protocol.OpUpsert,
		HLC: f.stamp(eve, time.Second), Fields: map[string]any{"note_id": secret, "department_id": dept, "category": "model", "text": "x"}})
	if r[0].Status != protocol.StatusRejected || r[0].Code != protocol.CodeForbidden || r[0].Field != "note_id" {
		t.Fatalf("a finding citing another user's note answered %+v, want rejected forbidden on note_id", r[0])
	}
	if _, ok := f.pullAll(t, eve)["visit_notes/"+secret]; ok {
		t.Fatal("the department user read another user's draft")
	}
	// The note's author may still file findings on it in the same push.
	own, finding := uuid.NewString(), uuid.NewString()
	rs := f.push(t, f.alice,
		note(own, f.alice, f.stamp(f.alice, 2*time.Second), map[string]any{"unit_id": f.unit, "title": "Ghi chép"}),
		protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: finding, Op: protocol.OpUpsert, HLC: f.stamp(f.alice, 3*time.Second),
			Fields: map[string]any{"note_id": own, "department_id": dept, "category": "shortcoming", "text": "Thiếu số liệu"}})
	for _, x := range rs {
		if x.Status != protocol.StatusApplied {
			t.Fatalf("author's note and finding in one push: %+v", rs)
		}
	}
}

// Findings follow their note. A unit liaison reads the findings about
// their unit (with their follow-ups) only while the note they were
// recorded on is submitted or reviewed: never on a draft, and they leave
// the liaison's copy when the note goes back for revision. A department
// reads the findings assigned to it whatever their note's status, but the
// note itself only once it is submitted.
func TestFindingsFollowTheirNote(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	ctx := context.Background()
	noteID, finding, followUp := uuid.NewString(), uuid.NewString(), uuid.NewString()
	shown, shownFinding := uuid.NewString(), uuid.NewString()
	step := time.Duration(0)
	ch := func(table, id string, fields map[string]any) protocol.Change {
		step += time.Millisecond
		return protocol.Change{ID: uuid.NewString(), Table: table, RowID: id, Op: protocol.OpUpsert, HLC: w.stamp(w.alice, step), Fields: fields}
	}
	res := w.push(t, w.alice,
		ch("visit_notes", noteID, map[string]any{"unit_id": w.unit, "campaign_id": w.campaign, "title": "Nháp", "status": "draft"}),
		ch("findings", finding, map[string]any{"note_id": noteID, "unit_id": w.unit, "category": "shortcoming",
			"text": "Chưa sơ kết", "department_id": w.dept.DepartmentID}),
		ch("follow_ups", followUp, map[string]any{"finding_id": finding, "text": "Đã nhắc"}),
		// A submitted note's finding, which the liaison reads from the start.
		ch("visit_notes", shown, map[string]any{"unit_id": w.unit, "campaign_id": w.campaign, "title": "Đã gửi", "status": "submitted"}),
		ch("findings", shownFinding, map[string]any{"note_id": shown, "unit_id": w.unit, "category": "model", "text": "Mô hình hay"}),
	)
	for _, r := range res {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("setup: %+v", res)
		}
	}
	// pull pages from cursor to the end and returns the rows by id.
	pull := func(a Actor, cursor string) (map[string]protocol.Row, string) {
		rows := map[string]protocol.Row{}
		for {
			resp, err := w.db.Pull(ctx, a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Reset {
				t.Fatalf("%s: pull answered reset", a.DeviceID)
			}
			for _, r := range resp.Rows {
				rows[r.RowID] = r
			}
			cursor = resp.Cursor
			if !resp.HasMore {
				return rows, cursor
			}
		}
	}
	// want maps a row id to "row", "dropped", "" (not heard of) or "kept"
	// (not dropped: sent again or not at all).
	type want map[string]string
	check := func(stage, who string, rows map[string]protocol.Row, expect want) {
		t.Helper()
		for id, what := range expect {
			r, ok := rows[id]
			got := ""
			switch {
			case ok && r.Deleted:
				got = "dropped"
			case ok:
				got = "row"
			}
			if got != what && (what != "kept" || got == "dropped") {
				t.Errorf("%s, %s: %s is %q, want %q", stage, who, id, got, what)
			}
		}
	}

	lRows, lCur := pull(w.liaison, "")
	check("draft", "liaison", lRows, want{noteID: "", finding: "", followUp: "", shown: "row", shownFinding: "row"})
	dRows, dCur := pull(w.dept, "")
	check("draft", "department", dRows, want{noteID: "", finding: "row", followUp: "row"})

	// Submitted: the liaison receives the note with its finding and
	// follow-up, the department the note.
	if r := w.push(t, w.alice, ch("visit_notes", noteID, map[string]any{"status": "submitted"})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("submit: %+v", r)
	}
	lRows, lCur = pull(w.liaison, lCur)
	check("submitted", "liaison", lRows, want{noteID: "row", finding: "row", followUp: "row"})
	dRows, dCur = pull(w.dept, dCur)
	check("submitted", "department", dRows, want{noteID: "row"})

	// Back for revision: they leave the liaison's copy; the department
	// drops the note and keeps its finding.
	if r := w.push(t, w.leader, note(noteID, w.leader, w.stamp(w.leader, time.Second), map[string]any{
		"status": "needs_revision", "review_comment": "Bổ sung", "reviewed_by": w.leader.UserID})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("revision: %+v", r)
	}
	lRows, lCur = pull(w.liaison, lCur)
	check("needs_revision", "liaison", lRows, want{noteID: "dropped", finding: "dropped", followUp: "dropped", shownFinding: ""})
	dRows, _ = pull(w.dept, dCur)
	check("needs_revision", "department", dRows, want{noteID: "dropped", finding: "kept", followUp: "kept"})

	// Resubmitted: back again.
	step = 2 * time.Second // after the leader's decision
	if r := w.push(t, w.alice, ch("visit_notes", noteID, map[string]any{"status": "submitted"})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("resubmit: %+v", r)
	}
	lRows, _ = pull(w.liaison, lCur)
	check("resubmitted", "liaison", lRows, want{noteID: "row", finding: "row", followUp: "row"})

	// Someone who never read the note hears nothing of any of it.
	stranger := Actor{UserID: uuid.NewString(), Roles: []string{"unit_liaison"}, UnitID: uuid.NewString(), DeviceID: "dev-stranger"}
	sRows, _ := pull(stranger, "")
	check("any", "liaison of another unit", sRows, want{noteID: "", finding: "", followUp: ""})
}
