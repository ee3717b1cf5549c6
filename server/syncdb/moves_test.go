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
	res := f.push(t, f.alice,
		protocol.Change{ID: uuid.NewString(), Table: "findings", RowID: finding, Op: protocol.OpUpsert, HLC: f.stamp(f.alice, 0),
			Fields: map[string]any{"unit_id": f.unit, "category": "shortcoming", "text": "Sinh hoạt chi đoàn chưa đều"}},
		protocol.Change{ID: uuid.NewString(), Table: "follow_ups", RowID: followUp, Op: protocol.OpUpsert, HLC: f.stamp(f.alice, 1),
			Fields: map[string]any{"finding_id": finding, "text": "Đã nhắc Tỉnh đoàn", "at": "2021-06-10T08:00:00Z"}})
	for _, r := range res {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("setup: %+v", res)
		}
	}
	pull := func(cursor string) protocol.PullResponse {
		resp, err := f.db.Pull(ctx, f.bob, protocol.PullRequest{Protocol: 1, DeviceID: f.bob.DeviceID, Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return resp
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

	move(f.unit, 2*time.Second)
	out := seen(pull(in.Cursor))
	if !out[finding].Deleted || !out[followUp].Deleted {
		t.Fatalf("after the finding moved out the inspector was not told to drop it and its follow-up: %+v", out)
	}
}
