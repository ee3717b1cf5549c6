package syncdb

import (
	"context"
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
