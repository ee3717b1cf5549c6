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
