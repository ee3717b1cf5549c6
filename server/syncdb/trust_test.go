package syncdb

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// A value answered as lost is a conflict, whether or not its push carried a
// base_cursor: for every lost value the pair is recorded for review, on the
// field, with the losing value (docs/protocol.md, Merge, Concurrency).
func TestEveryLostValueIsARecordedConflict(t *testing.T) {
	t.Parallel()
	for _, withCursor := range []bool{false, true} {
		name := "no base_cursor"
		if withCursor {
			name = "base_cursor"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			phone, tablet := f.bob, f.bob
			phone.DeviceID, tablet.DeviceID = "bob-phone", "bob-tablet"
			id := uuid.NewString()
			if r := f.push(t, phone, note(id, phone, f.stamp(phone, 0), map[string]any{"unit_id": f.unit, "title": "Ghi chép"})); r[0].Status != protocol.StatusApplied {
				t.Fatalf("create: %+v", r)
			}
			base := ""
			if withCursor {
				base = f.cursor(t, phone)
			}
			newer := note(id, tablet, f.stamp(tablet, 2*time.Minute), map[string]any{"results": "máy tính bảng", "title": "Tiêu đề B"})
			older := note(id, phone, f.stamp(phone, time.Minute), map[string]any{"results": "điện thoại", "title": "Tiêu đề B"})
			if r := f.pushBase(t, tablet, base, newer); r[0].Status != protocol.StatusApplied || len(r[0].Lost) != 0 {
				t.Fatalf("newer: %+v", r[0])
			}
			r := f.pushBase(t, phone, base, older)
			if r[0].Status != protocol.StatusApplied || len(r[0].Lost) == 0 {
				t.Fatalf("older: %+v, want applied with lost values", r[0])
			}
			for _, l := range r[0].Lost {
				var n int
				if err := f.st.Reader().QueryRow(`SELECT COUNT(*) FROM conflicts WHERE row_id = ? AND field = ? AND loser_value = ? AND loser_device = ?`,
					id, l.Field, l.Value, phone.DeviceID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("lost %s = %v: %d conflicts recorded, want 1", l.Field, l.Value, n)
				}
			}
			// The same value lost nothing: no conflict, no notice.
			if n := f.conflictCount(t, id); n != len(r[0].Lost) {
				t.Errorf("%d conflicts for %d lost values", n, len(r[0].Lost))
			}
		})
	}
}
