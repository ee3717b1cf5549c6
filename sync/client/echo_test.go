package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// A device that pushes and then pulls is not sent back the rows only it
// wrote (docs/protocol.md, "No echo"), yet holds what the server holds:
// the check-in's computed fields and the trip's default status come in the
// push answer. Once another device of the same user edits the row, the
// row comes whole; a value of its own that lost to that edit gives way to
// the winner and stays as a notice; and each device ends as the server is.
func TestOwnRowsAreNotPulledBackYetDevicesConverge(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "hoa-phone", "hoa", nil, nil)
	tablet := w.device(t, "hoa-tablet", "hoa", nil, func(o *client.Options) {
		o.Now = func() time.Time { return time.Now().Add(3 * time.Second) } // a later clock: it wins concurrent edits
	})
	mustSync(t, phone)
	mustSync(t, tablet)
	hoa := w.users["hoa"].id

	note, trip, checkin := uuid.NewString(), uuid.NewString(), uuid.NewString()
	mustUpsert(t, phone, "visit_notes", note, w.note("hoa", 0, "Làm việc với cơ sở"))
	mustUpsert(t, phone, "trips", trip, map[string]any{"user_id": hoa, "purpose": "working_session", "starts_on": "2021-06-01", "title": "Đi cơ sở"})
	mustUpsert(t, phone, "checkins", checkin, map[string]any{"user_id": hoa, "unit_id": w.units[0],
		"at": time.Now().UTC().Format(time.RFC3339), "lat": w.unitLat[0] + 0.001, "lng": w.unitLng[0], "accuracy_m": 12.0})
	rep := mustSync(t, phone)
	if rep.Pulled != 0 {
		t.Fatalf("the phone was sent back %d rows after pushing its own three", rep.Pulled)
	}
	c := mustGet(t, phone, "checkins", checkin)
	if c["received_at"] == nil || c["received_at"] == "" || c["distance_m"] == nil {
		t.Fatalf("the phone's check-in lacks what the server computed: %v", c)
	}
	if got := mustGet(t, phone, "trips", trip)["status"]; got != "planned" {
		t.Fatalf("the phone's trip has status %v, the server's default is planned", got)
	}
	w.compareDevice(t, "hoa-phone", phone, w.actor(w.users["hoa"], "hoa-phone"))

	// The tablet edits the note; meanwhile the phone, not having pulled
	// that, edits the same field and another one.
	mustSync(t, tablet)
	mustUpsert(t, tablet, "visit_notes", note, map[string]any{"results": "bản trên máy tính bảng"})
	mustSync(t, tablet)
	lost := mustUpsert(t, phone, "visit_notes", note, map[string]any{"results": "bản trên điện thoại", "conclusions": "kết luận"})
	rep = mustSync(t, phone)
	if rep.Lost != 1 || rep.Pulled != 1 {
		t.Fatalf("phone's sync: %d lost, %d pulled; want its results lost and the note pulled whole", rep.Lost, rep.Pulled)
	}
	got := mustGet(t, phone, "visit_notes", note)
	if got["results"] != "bản trên máy tính bảng" || got["conclusions"] != "kết luận" {
		t.Fatalf("phone shows %v / %v, want the tablet's results and its own conclusions", got["results"], got["conclusions"])
	}
	notices, err := phone.Lost(t.Context())
	if err != nil || len(notices) != 1 || notices[0].ChangeID != lost || notices[0].Value != "bản trên điện thoại" {
		t.Fatalf("phone's notices %+v (%v), want its lost results", notices, err)
	}
	mustSync(t, tablet)
	for name, d := range map[string]*client.Device{"hoa-phone": phone, "hoa-tablet": tablet} {
		w.compareDevice(t, name, d, w.actor(w.users["hoa"], name))
	}
}

// One push carrying many changes of one row (a note autosaved offline),
// with a refused change of the same row in the middle of them: the device
// folds the answers row by row, and still ends holding what the server
// holds, the refused change set aside and nothing left to send.
func TestManyChangesOfARowInOnePushFoldToTheServersRow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "lan-phone", "lan", nil, nil)
	mustSync(t, phone)
	note, other := uuid.NewString(), uuid.NewString()
	mustUpsert(t, phone, "visit_notes", note, w.note("lan", 0, "Làm việc với cơ sở"))
	mustUpsert(t, phone, "visit_notes", other, w.note("lan", 1, "Làm việc với huyện đoàn"))
	for i := range 5 {
		mustUpsert(t, phone, "visit_notes", note, map[string]any{"results": "bản " + string(rune('A'+i))})
	}
	// An author may not mark their own note reviewed: the server refuses it.
	refused := mustUpsert(t, phone, "visit_notes", note, map[string]any{"status": "reviewed"})
	for i := range 3 {
		mustUpsert(t, phone, "visit_notes", note, map[string]any{"conclusions": "kết luận " + string(rune('1'+i))})
		mustUpsert(t, phone, "visit_notes", other, map[string]any{"results": "kết quả " + string(rune('1'+i))})
	}
	rep := mustSync(t, phone)
	if rep.Rejected != 1 || rep.Applied != 13 {
		t.Fatalf("sync: %d applied, %d refused; want 13 and the status change", rep.Applied, rep.Rejected)
	}
	rej, err := phone.Rejected(t.Context())
	if err != nil || len(rej) != 1 || rej[0].ChangeID != refused {
		t.Fatalf("refused changes %+v (%v), want the status change alone", rej, err)
	}
	if n, err := phone.Pending(t.Context()); err != nil || n != 0 {
		t.Fatalf("%d changes still to send (%v)", n, err)
	}
	got := mustGet(t, phone, "visit_notes", note)
	if got["results"] != "bản E" || got["conclusions"] != "kết luận 3" || got["status"] != "draft" {
		t.Fatalf("the note reads %v / %v / %v; want the last autosaves, still a draft", got["results"], got["conclusions"], got["status"])
	}
	if got := mustGet(t, phone, "visit_notes", other)["results"]; got != "kết quả 3" {
		t.Fatalf("the other note reads %v", got)
	}
	if rep := mustSync(t, phone); rep.Pulled != 0 || rep.Pushed != 0 {
		t.Fatalf("a second sync moved %d up and %d down; the first left the device as the server is", rep.Pushed, rep.Pulled)
	}
	w.compareDevice(t, "lan-phone", phone, w.actor(w.users["lan"], "lan-phone"))
}

// Write keeps several edits together: all of them or, when one is refused
// on the device, none; once synced they are on the server as if made one
// by one.
func TestWriteKeepsEditsTogether(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "minh-phone", "minh", nil, nil)
	mustSync(t, phone)
	ctx := t.Context()
	note, finding := uuid.NewString(), uuid.NewString()
	_, err := phone.Write(ctx, []client.Edit{
		{Table: "visit_notes", RowID: note, Fields: w.note("minh", 0, "Làm việc với xã đoàn")},
		{Table: "visit_notes", RowID: note, Fields: map[string]any{"no_such_field": "x"}},
	})
	var verr *client.ValidationError
	if !errors.As(err, &verr) || verr.Field != "no_such_field" {
		t.Fatalf("a refused edit among others: %v, want a validation error naming the field", err)
	}
	if n, _ := phone.Pending(ctx); n != 0 {
		t.Fatalf("%d changes queued after a refused Write", n)
	}
	if _, ok, _ := phone.Get(ctx, "visit_notes", note); ok {
		t.Fatal("the note of a refused Write is on the device")
	}
	ids, err := phone.Write(ctx, []client.Edit{
		{Table: "visit_notes", RowID: note, Fields: w.note("minh", 0, "Làm việc với xã đoàn")},
		{Table: "visit_notes", RowID: note, Fields: map[string]any{"results": "Đã kiện toàn chi đoàn"}},
		{Table: "findings", RowID: finding, Fields: map[string]any{"note_id": note, "unit_id": w.units[0],
			"category": "recommendation", "text": "Đề nghị hỗ trợ kinh phí"}},
		{Table: "findings", RowID: finding, Delete: true},
	})
	if err != nil || len(ids) != 4 {
		t.Fatalf("Write: %v, %d change ids", err, len(ids))
	}
	if got := mustGet(t, phone, "visit_notes", note)["results"]; got != "Đã kiện toàn chi đoàn" {
		t.Fatalf("the note reads %v after the Write", got)
	}
	if rep := mustSync(t, phone); rep.Applied != 4 || rep.Rejected != 0 {
		t.Fatalf("sync after the Write: %d applied, %d refused", rep.Applied, rep.Rejected)
	}
	w.compareDevice(t, "minh-phone", phone, w.actor(w.users["minh"], "minh-phone"))
}

// The server's state of a pushed row, kept by the device from the push's
// answer, holds text as written whatever it contains (quotes, backslashes,
// control characters, markup, letters outside ASCII): after the sync, in
// which the row does not come back, the device holds what the server does.
func TestOwnRowKeptFromThePushAnswerHoldsAnyText(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "hoa-phone", "hoa", nil, nil)
	mustSync(t, phone)
	texts := []string{
		`"quoted" and \back\slashed \" \\" \u0041`,
		"lines\nand\ttabs\r\n, a bell \a, an escape \x1b[0m",
		"</script><b>&amp;</b> 'single' \u2028\u2029",
		"Kết quả tốt 👍 — ghi chú «đầy đủ»",
	}
	var notes []string
	for i, s := range texts {
		id := uuid.NewString()
		notes = append(notes, id)
		mustUpsert(t, phone, "visit_notes", id, w.note("hoa", 0, s))
		mustUpsert(t, phone, "visit_notes", id, map[string]any{"results": s, "conclusions": texts[(i+1)%len(texts)]})
	}
	if rep := mustSync(t, phone); rep.Applied != 2*len(texts) || rep.Pulled != 0 {
		t.Fatalf("sync: %+v, want %d applied and nothing pulled back", rep, 2*len(texts))
	}
	for i, id := range notes {
		got := mustGet(t, phone, "visit_notes", id)
		if got["title"] != texts[i] || got["results"] != texts[i] || got["conclusions"] != texts[(i+1)%len(texts)] {
			t.Errorf("note %d holds %q / %q / %q", i, got["title"], got["results"], got["conclusions"])
		}
	}
	w.compareDevice(t, "hoa-phone", phone, w.actor(w.users["hoa"], "hoa-phone"))
}
