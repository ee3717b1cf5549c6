package syncdb

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// A delete of a row the server never held is judged by its table: where
// no device deletes rows (grassroots places, append-only check-ins, the
// review trail) it is refused and logs nothing under the writer's name
// (the probe "deleted" random unit ids as a unit liaison and was answered
// applied); where devices delete their own rows it changes nothing and is
// answered applied (a row created and deleted between two syncs), as
// every role's retry then answers duplicate.
func TestDeletingARowTheServerNeverHeld(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	step := time.Duration(0)
	walked := 0
	for _, table := range schema.Tables() {
		if table.Reference && !table.Proposed {
			continue // refused as reference data, whatever the row
		}
		sp := specs[table.Name]
		deletable := !table.AppendOnly && len(sp.Delete.Grants) > 0
		for role, a := range w.writerRoles() {
			walked++
			id := uuid.NewString()
			step += time.Millisecond
			ch := protocol.Change{ID: uuid.NewString(), Table: table.Name, RowID: id, Op: protocol.OpDelete, HLC: w.stamp(a, step)}
			res := w.push(t, a, ch)[0]
			var logged int
			if err := w.st.Reader().QueryRow("SELECT count(*) FROM change_log WHERE row_id = ?", id).Scan(&logged); err != nil {
				t.Fatal(err)
			}
			switch {
			case !deletable && (res.Status != protocol.StatusRejected || res.Code != protocol.CodeForbidden || logged != 0):
				t.Errorf("%s deletes a %s row the server never held: %s %s (%d logged), want forbidden and nothing logged",
					role, table.Name, res.Status, res.Code, logged)
			case deletable && res.Status != protocol.StatusApplied:
				t.Errorf("%s deletes a %s row the server never held: %s %s %q, want applied (nothing to do)",
					role, table.Name, res.Status, res.Code, res.Message)
			}
			if w.rowState(t, table, id) != "" {
				t.Errorf("%s deletes a %s row the server never held: a row now exists", role, table.Name)
			}
		}
	}
	if walked < 50 {
		t.Fatalf("walked %d table and role pairs: the walk lost its tables", walked)
	}
}
