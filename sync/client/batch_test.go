package client_test

import (
	"context"
	"fmt"
	"testing"

	"dicoso/sync/client"
	"dicoso/sync/loadgen"
)

// A day's work saved in one Write (loadgen's mix: a trip, a visit note, 33
// trip days and 65 autosaves of the note) is kept whole: every row as last
// edited, every edit queued in the order made, and all of it on the
// server after a sync. A second Write edits most of those rows again and
// deletes some, in one transaction too. The device writes rows and queues
// changes many to a statement; nothing of a batch may fall between them.
func TestALargeWriteKeepsEveryRowAndEveryChange(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	d := w.device(t, "lan-phone", "hoa", nil, nil)
	ctx := context.Background()

	edits := loadgen.Batch(w.users["hoa"].id, w.units[0], 100)
	ids, err := d.Write(ctx, edits)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(edits) {
		t.Fatalf("Write gave %d change ids for %d edits", len(ids), len(edits))
	}
	if n, _ := d.Pending(ctx); n != len(edits) {
		t.Fatalf("pending = %d, want %d", n, len(edits))
	}
	var days []string
	last := map[string]map[string]any{} // each row's values as its last edit left them
	for _, e := range edits {
		if last[e.RowID] == nil {
			last[e.RowID] = map[string]any{}
			if e.Table == "trip_days" {
				days = append(days, e.RowID)
			}
		}
		for k, v := range e.Fields {
			last[e.RowID][k] = v
		}
	}
	check := func(when string) {
		t.Helper()
		for _, e := range edits {
			got, ok, err := d.Get(ctx, e.Table, e.RowID)
			if err != nil || !ok {
				t.Fatalf("%s: %s %s: ok=%v err=%v", when, e.Table, e.RowID, ok, err)
			}
			for k, v := range last[e.RowID] {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Fatalf("%s: %s %s %s = %v, want %v", when, e.Table, e.RowID, k, got[k], v)
				}
			}
		}
		all, err := d.All(ctx, "trip_days")
		if err != nil || len(all) != len(days) {
			t.Fatalf("%s: %d trip days on the device (err %v), want %d", when, len(all), err, len(days))
		}
	}
	check("after the write")
	rep := mustSync(t, d)
	if rep.Applied != len(edits) || rep.Rejected != 0 {
		t.Fatalf("sync report %+v, want %d applied", rep, len(edits))
	}
	check("after the sync")

	// Again: every day renamed, the note autosaved 20 times, 5 days deleted.
	var again []client.Edit
	for i, id := range days {
		again = append(again, client.Edit{Table: "trip_days", RowID: id, Fields: map[string]any{"activity": fmt.Sprintf("Làm việc, bản %d", i)}})
	}
	note := edits[1].RowID
	for i := range 20 {
		again = append(again, client.Edit{Table: "visit_notes", RowID: note, Fields: map[string]any{"results": fmt.Sprintf("Kết quả, lần %d", i)}})
	}
	gone := days[:5]
	for _, id := range gone {
		again = append(again, client.Edit{Table: "trip_days", RowID: id, Delete: true})
	}
	if _, err := d.Write(ctx, again); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.Pending(ctx); n != len(again) {
		t.Fatalf("pending after the second write = %d, want %d", n, len(again))
	}
	rep = mustSync(t, d)
	if rep.Applied != len(again) || rep.Rejected != 0 {
		t.Fatalf("second sync report %+v, want %d applied", rep, len(again))
	}
	if got := mustGet(t, d, "visit_notes", note); got["results"] != "Kết quả, lần 19" {
		t.Fatalf("note results = %v, want the last autosave", got["results"])
	}
	for i, id := range days {
		row, ok := w.serverRow(t, "trip_days", id)
		deleted := i < len(gone)
		switch {
		case !ok:
			t.Fatalf("trip day %s is not on the server", id)
		case deleted != row.Deleted:
			t.Fatalf("trip day %d on the server: deleted=%v, want %v", i, row.Deleted, deleted)
		case !deleted && row.Fields["activity"] != fmt.Sprintf("Làm việc, bản %d", i):
			t.Fatalf("trip day %d on the server: activity %v", i, row.Fields["activity"])
		}
		_, onDevice, err := d.Get(ctx, "trip_days", id)
		if err != nil || onDevice == deleted {
			t.Fatalf("trip day %d on the device: present=%v err=%v, want present=%v", i, onDevice, err, !deleted)
		}
	}
	w.compareDevice(t, "lan-phone", d, w.actor(w.users["hoa"], "lan-phone"))
}
