package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// TestReviewFromABehindClockKeepsTheDecision is the reviewer of issue 7:
// the team leader's phone runs two days behind; he opens a note the author
// submitted and sends it back for revision. He saw the author's "submitted"
// when he decided, so his decision must stand on the server and on both
// devices, although his clock is older than the author's. Each scenario is
// a way the app may get the note before the decision.
func TestReviewFromABehindClockKeepsTheDecision(t *testing.T) {
	t.Parallel()
	behind := func(o *client.Options) { o.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) } }
	for _, sc := range []struct {
		name string
		open func(t *testing.T, w *world, d *client.Device) *client.Device // brings the note onto the reviewer's phone
	}{
		{"synced", func(t *testing.T, w *world, d *client.Device) *client.Device {
			mustSync(t, d)
			return d
		}},
		{"pulled", func(t *testing.T, w *world, d *client.Device) *client.Device {
			mustPull(t, d)
			return d
		}},
		// The phone's system kills the app between opening the note and
		// the decision: what the device learnt in memory is gone.
		{"pulled then restarted", func(t *testing.T, w *world, d *client.Device) *client.Device {
			mustPull(t, d)
			return w.reopen(t, d, "tuan-phone", newNet(w, 2), behind)
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, worldOptions{})
			author := w.device(t, "lan-phone", "lan", nil, nil)
			id := uuid.NewString()
			mustUpsert(t, author, "visit_notes", id, w.note("lan", 0, "Làm việc với Tỉnh đoàn Lai Châu"))
			mustSync(t, author)
			mustUpsert(t, author, "visit_notes", id, map[string]any{"results": "Đạt 90% chỉ tiêu", "status": "submitted"})
			mustSync(t, author)

			reviewer := w.device(t, "tuan-phone", "tuan", newNet(w, 1), behind)
			reviewer = sc.open(t, w, reviewer)
			if got := mustGet(t, reviewer, "visit_notes", id); got["status"] != "submitted" {
				t.Fatalf("the reviewer opened the note as %v, want submitted", got["status"])
			}
			mustUpsert(t, reviewer, "visit_notes", id, map[string]any{"status": "needs_revision",
				"review_comment": "Bổ sung số liệu đoàn viên", "reviewed_by": w.users["tuan"].id})
			if rep := mustSync(t, reviewer); rep.Applied != 1 || rep.Rejected != 0 {
				t.Fatalf("the decision was not applied: %+v", rep)
			}
			mustSync(t, author)
			mustSync(t, reviewer)

			if srv, _ := w.serverRow(t, "visit_notes", id); srv.Fields["status"] != "needs_revision" ||
				srv.Fields["review_comment"] != "Bổ sung số liệu đoàn viên" {
				t.Errorf("server: status %v, comment %v; want the reviewer's decision", srv.Fields["status"], srv.Fields["review_comment"])
			}
			for name, d := range map[string]*client.Device{"author": author, "reviewer": reviewer} {
				got := mustGet(t, d, "visit_notes", id)
				if got["status"] != "needs_revision" || got["review_comment"] != "Bổ sung số liệu đoàn viên" {
					t.Errorf("%s sees status %v, comment %v; want needs_revision with the comment", name, got["status"], got["review_comment"])
				}
				if rej, err := d.Rejected(ctx); err != nil || len(rej) != 0 {
					t.Errorf("%s: rejected %v (%v)", name, rej, err)
				}
			}
			w.compareDevice(t, "lan-phone", author, w.actor(w.users["lan"], "lan-phone"))
			w.compareDevice(t, "tuan-phone", reviewer, w.actor(w.users["tuan"], "tuan-phone"))
		})
	}
}

func mustPull(t *testing.T, d *client.Device) client.Report {
	t.Helper()
	rep, err := d.Pull(context.Background())
	if err != nil {
		t.Fatalf("pull %s: %v", d.ID(), err)
	}
	return rep
}
