package client_test

import (
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
