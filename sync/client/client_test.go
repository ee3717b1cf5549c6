package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// note fields of a new visit note by author in unit.
func (w *world) note(author string, unit int, title string) map[string]any {
	return map[string]any{"author_id": w.users[author].id, "unit_id": w.units[unit], "campaign_id": w.campaign,
		"kind": "inspection", "title": title, "results": "", "status": "draft"}
}

func TestLocalEditIsVisibleAtOnceAndQueued(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	hoa := w.device(t, "hoa-phone", "hoa", nil, nil)
	ctx := context.Background()
	id := uuid.NewString()
	mustUpsert(t, hoa, "trips", id, map[string]any{"purpose": "inspection", "starts_on": "2021-06-03", "title": "Lai Châu"})
	got := mustGet(t, hoa, "trips", id)
	if got["title"] != "Lai Châu" || got["user_id"] != w.users["hoa"].id || got["notes"] != "" {
		t.Fatalf("local row = %v", got)
	}
	if n, _ := hoa.Pending(ctx); n != 1 {
		t.Fatalf("pending = %d, want 1", n)
	}
	// What the schema refuses never reaches the outbox.
	var ve *client.ValidationError
	if _, err := hoa.Upsert(ctx, "trips", id, map[string]any{"purpose": "tourism"}); !errors.As(err, &ve) {
		t.Fatalf("bad enum: err = %v, want a ValidationError", err)
	}
	if _, err := hoa.Upsert(ctx, "trips", id, map[string]any{"colour": "red"}); !errors.As(err, &ve) {
		t.Fatalf("unknown field: err = %v", err)
	}
	if _, err := hoa.Upsert(ctx, "departments", w.dept1, map[string]any{"name": "x"}); !errors.As(err, &ve) {
		t.Fatalf("reference table: err = %v", err)
	}
	if _, err := hoa.Upsert(ctx, "checkins", uuid.NewString(), map[string]any{"distance_m": 3}); !errors.As(err, &ve) {
		t.Fatalf("computed field: err = %v", err)
	}
	if n, _ := hoa.Pending(ctx); n != 1 {
		t.Fatalf("pending after refused edits = %d, want 1", n)
	}
	rep := mustSync(t, hoa)
	if rep.Applied != 1 || !rep.Snapshot {
		t.Fatalf("sync report %+v", rep)
	}
	if n, _ := hoa.Pending(ctx); n != 0 {
		t.Fatalf("pending after sync = %d", n)
	}
	srv, ok := w.serverRow(t, "trips", id)
	if !ok || srv.Fields["title"] != "Lai Châu" {
		t.Fatalf("server row = %+v", srv)
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
}

func TestPendingEditsStayOnTopOfPull(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	phoneNet := newNet(w, 1)
	phone := w.device(t, "lan-phone", "lan", phoneNet, nil)
	laptop := w.device(t, "lan-laptop", "lan", nil, nil)
	id := uuid.NewString()
	mustUpsert(t, phone, "visit_notes", id, w.note("lan", 0, "Làm việc với Tỉnh đoàn"))
	mustSync(t, phone)
	mustSync(t, laptop)

	// The phone cannot push; it edits the title.
	phoneNet.set(func(n *netSim) { n.failPushes = true })
	phoneChange := mustUpsert(t, phone, "visit_notes", id, map[string]any{"title": "phone title"})
	time.Sleep(2 * time.Millisecond) // not the same millisecond, where the device id would break the tie
	// Meanwhile the laptop edits title and results, and syncs.
	mustUpsert(t, laptop, "visit_notes", id, map[string]any{"title": "laptop title", "results": "laptop results"})
	mustSync(t, laptop)

	if _, err := phone.Pull(ctx); err != nil {
		t.Fatalf("pull: %v", err)
	}
	got := mustGet(t, phone, "visit_notes", id)
	if got["title"] != "phone title" {
		t.Fatalf("pending title was overwritten by the pull: %v", got["title"])
	}
	if got["results"] != "laptop results" {
		t.Fatalf("pulled field not taken: results = %v", got["results"])
	}
	if _, err := phone.Sync(ctx); err == nil {
		t.Fatal("sync with pushes failing: no error")
	}
	if got := mustGet(t, phone, "visit_notes", id); got["title"] != "phone title" {
		t.Fatalf("after a failed push the pending title is gone: %v", got["title"])
	}

	// Back online: the phone's edit was made before the laptop's, so it
	// loses; the phone shows the server's verdict, not its own value.
	phoneNet.set(func(n *netSim) { n.failPushes = false })
	rep := mustSync(t, phone)
	if rep.Applied != 1 {
		t.Fatalf("report %+v", rep)
	}
	if got := mustGet(t, phone, "visit_notes", id); got["title"] != "laptop title" || got["results"] != "laptop results" {
		t.Fatalf("phone after sync: %v", got)
	}
	var lost string
	if err := w.st.Reader().QueryRow("SELECT lost FROM change_log WHERE change_id = ?", phoneChange).Scan(&lost); err != nil {
		t.Fatal(err)
	}
	if lost != `{"title":"phone title"}` {
		t.Fatalf("change_log.lost of the phone's edit = %s", lost)
	}
	w.compareDevice(t, "lan-phone", phone, w.actor(w.users["lan"], "lan-phone"))
}

func TestSnapshotIsAtomic(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	hoa := w.device(t, "hoa-phone", "hoa", nil, nil)
	for i := range 12 {
		mustUpsert(t, hoa, "trips", uuid.NewString(), map[string]any{"purpose": "inspection", "starts_on": "2021-06-03", "title": "trip " + string(rune('a'+i))})
	}
	mustSync(t, hoa)

	// Her laptop's first sync dies after the first page of its snapshot.
	nw := newNet(w, 2)
	nw.set(func(n *netSim) { n.failPullFrom = 2 })
	small := func(o *client.Options) { o.PullLimit = 5 }
	laptop := w.device(t, "hoa-laptop", "hoa", nw, small)
	finding := uuid.NewString()
	mustUpsert(t, laptop, "findings", finding, map[string]any{"category": "shortcoming", "text": "Chưa sinh hoạt định kỳ"})
	rep, err := laptop.Sync(ctx)
	if err == nil {
		t.Fatal("sync with a failing pull: no error")
	}
	if rep.Applied != 1 || rep.Pages != 1 {
		t.Fatalf("report %+v", rep)
	}
	for _, tb := range schema.Tables() {
		rows, err := laptop.All(ctx, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if tb.Name != "findings" || r.ID != finding {
				t.Fatalf("a row of a half snapshot is visible: %s %s", tb.Name, r.ID)
			}
		}
	}
	if _, ok, _ := laptop.Get(ctx, "findings", finding); !ok {
		t.Fatal("the device's own edit vanished while the snapshot was staged")
	}

	// Killed, restarted, synced: the snapshot completes from where it was.
	nw.set(func(n *netSim) { n.failPullFrom = 0 })
	laptop = w.reopen(t, laptop, "hoa-laptop", nw, small)
	rep = mustSync(t, laptop)
	if !rep.Snapshot || rep.Pages < 2 {
		t.Fatalf("report %+v", rep)
	}
	trips, err := laptop.All(ctx, "trips")
	if err != nil || len(trips) != 12 {
		t.Fatalf("trips after the snapshot: %d (%v)", len(trips), err)
	}
	if stale := w.compareDevice(t, "hoa-laptop", laptop, w.actor(w.users["hoa"], "hoa-laptop")); stale != 0 {
		t.Fatalf("%d stale rows", stale)
	}
	if n, _ := laptop.Pending(ctx); n != 0 {
		t.Fatalf("pending = %d", n)
	}
}

func TestRejectedChangeDoesNotBlockTheQueue(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	lan := w.device(t, "lan-phone", "lan", nil, nil)
	hoa := w.device(t, "hoa-phone", "hoa", nil, func(o *client.Options) { o.PushBatch = 2 })
	lanTrip := uuid.NewString()
	mustUpsert(t, lan, "trips", lanTrip, map[string]any{"purpose": "inspection", "starts_on": "2021-06-01", "campaign_id": w.campaign, "title": "Lan's"})
	mustSync(t, lan)
	mustSync(t, hoa)
	if _, ok, _ := hoa.Get(ctx, "trips", lanTrip); !ok {
		t.Fatal("a team member's trip for the team's campaign is not visible")
	}

	trip, day, checkin := uuid.NewString(), uuid.NewString(), uuid.NewString()
	mustUpsert(t, hoa, "trips", trip, map[string]any{"purpose": "inspection", "starts_on": "2021-06-03", "title": "first"})
	badDay := mustUpsert(t, hoa, "trip_days", day, map[string]any{"trip_id": uuid.NewString(), "day": "2021-06-03"})
	mustUpsert(t, hoa, "checkins", checkin, map[string]any{"unit_id": w.units[0], "at": "2021-06-03T09:00:00Z",
		"lat": w.unitLat[0], "lng": w.unitLng[0], "accuracy_m": 12, "note": "đến nơi"})
	badEdit := mustUpsert(t, hoa, "checkins", checkin, map[string]any{"note": "sửa lại"})
	badOther := mustUpsert(t, hoa, "trips", lanTrip, map[string]any{"title": "not mine"})
	mustUpsert(t, hoa, "trips", trip, map[string]any{"title": "later"})

	rep := mustSync(t, hoa)
	if rep.Applied != 3 || rep.Rejected != 3 {
		t.Fatalf("report %+v, want 3 applied and 3 rejected", rep)
	}
	rej, err := hoa.Rejected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, r := range rej {
		if r.Message == "" {
			t.Errorf("rejection %s has no message", r.ChangeID)
		}
		codes[r.ChangeID] = r.Code
	}
	want := map[string]string{badDay: protocol.CodeValidationFailed, badEdit: protocol.CodeImmutable, badOther: protocol.CodeForbidden}
	for id, code := range want {
		if codes[id] != code {
			t.Errorf("change %s: rejected with %q, want %q (all: %v)", id, codes[id], code, codes)
		}
	}
	// The device shows the server's state of the refused rows.
	if _, ok, _ := hoa.Get(ctx, "trip_days", day); ok {
		t.Error("a trip day the server refused is still shown")
	}
	if got := mustGet(t, hoa, "checkins", checkin); got["note"] != "đến nơi" {
		t.Errorf("check-in note = %v, want the server's", got["note"])
	}
	if got := mustGet(t, hoa, "trips", lanTrip); got["title"] != "Lan's" {
		t.Errorf("someone else's trip shows %v", got["title"])
	}
	if got := mustGet(t, hoa, "trips", trip); got["title"] != "later" {
		t.Errorf("the change after the refused ones: title = %v", got["title"])
	}
	if n, _ := hoa.Pending(ctx); n != 0 {
		t.Fatalf("pending = %d", n)
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
	// The user dismisses one; the others stay.
	if err := hoa.Dismiss(ctx, badDay); err != nil {
		t.Fatal(err)
	}
	if rej, _ := hoa.Rejected(ctx); len(rej) != 2 {
		t.Fatalf("after dismissing one: %d rejections", len(rej))
	}
}

func TestClockSkewIsCorrected(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ahead := func(o *client.Options) { o.Now = func() time.Time { return time.Now().Add(time.Hour) } }
	hoa := w.device(t, "hoa-phone", "hoa", nil, ahead)
	mustSync(t, hoa)
	trip := uuid.NewString()
	mustUpsert(t, hoa, "trips", trip, map[string]any{"purpose": "inspection", "starts_on": "2021-06-03"})
	rep := mustSync(t, hoa)
	if rep.Restamped != 1 || rep.Applied != 1 || rep.Rejected != 0 {
		t.Fatalf("report %+v, want the change re-stamped and applied", rep)
	}
	if off := hoa.ClockOffset(); off > -59*time.Minute || off < -61*time.Minute {
		t.Fatalf("clock offset %v, want about -1h", off)
	}
	srv, _ := w.serverRow(t, "trips", trip)
	ts, err := hlc.Parse(srv.Version)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(ts.Time()); d < -time.Minute || d > time.Minute {
		t.Fatalf("the applied stamp is %v away from real time", d)
	}
	// The correction survives a restart.
	hoa = w.reopen(t, hoa, "hoa-phone", newNet(w, 3), ahead)
	if off := hoa.ClockOffset(); off > -59*time.Minute {
		t.Fatalf("offset after restart %v", off)
	}
	mustUpsert(t, hoa, "trips", trip, map[string]any{"title": "sau khi chỉnh đồng hồ"})
	if rep := mustSync(t, hoa); rep.Restamped != 0 || rep.Applied != 1 {
		t.Fatalf("after restart: %+v", rep)
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
}

func TestConcurrentEditsKeepHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	at := func(d time.Duration) func(*client.Options) {
		return func(o *client.Options) { o.Now = func() time.Time { return time.Now().Add(d) } }
	}
	phoneNet := newNet(w, 4)
	phone := w.device(t, "lan-phone", "lan", phoneNet, nil)
	laptop := w.device(t, "lan-laptop", "lan", nil, at(2*time.Second))
	id := uuid.NewString()
	mustUpsert(t, phone, "visit_notes", id, w.note("lan", 0, "gốc"))
	mustSync(t, phone)
	mustSync(t, laptop)

	// Both edit the title offline; the laptop's clock is later. The laptop
	// pushes first, so the phone's edit arrives and loses.
	lose := mustUpsert(t, phone, "visit_notes", id, map[string]any{"title": "phone title"})
	win := mustUpsert(t, laptop, "visit_notes", id, map[string]any{"title": "laptop title"})
	mustSync(t, laptop)
	mustSync(t, phone)
	mustSync(t, laptop)
	for name, d := range map[string]*client.Device{"phone": phone, "laptop": laptop} {
		if got := mustGet(t, d, "visit_notes", id); got["title"] != "laptop title" {
			t.Fatalf("%s shows title %v, want the later edit", name, got["title"])
		}
	}
	var lost string
	if err := w.st.Reader().QueryRow("SELECT lost FROM change_log WHERE change_id = ?", lose).Scan(&lost); err != nil {
		t.Fatal(err)
	}
	if lost != `{"title":"phone title"}` {
		t.Fatalf("change_log.lost = %s", lost)
	}
	w.wantConflict(t, id, "title", "laptop title", "lan-laptop", "phone title", "lan-phone")
	// The phone is told its title lost, and keeps the text for its user.
	notices, err := phone.Lost(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].ChangeID != lose || notices[0].Field != "title" || notices[0].Value != "phone title" ||
		notices[0].RowID != id || notices[0].HLC == "" || notices[0].At.IsZero() {
		t.Fatalf("phone's lost values = %+v, want its title", notices)
	}
	if l, err := laptop.Lost(context.Background()); err != nil || len(l) != 0 {
		t.Fatalf("the laptop, whose value won, has lost values %+v (%v)", l, err)
	}
	if err := phone.DismissLost(context.Background(), lose, "title"); err != nil {
		t.Fatal(err)
	}
	if l, _ := phone.Lost(context.Background()); len(l) != 0 {
		t.Fatalf("dismissed notice still listed: %+v", l)
	}

	// Now the later edit arrives second: it overwrites, and the value it
	// replaced is kept as previous.
	phone = w.reopen(t, phone, "lan-phone", phoneNet, at(10*time.Second))
	mustUpsert(t, laptop, "visit_notes", id, map[string]any{"results": "laptop results"})
	over := mustUpsert(t, phone, "visit_notes", id, map[string]any{"results": "phone results"})
	mustSync(t, laptop)
	mustSync(t, phone)
	mustSync(t, laptop)
	for name, d := range map[string]*client.Device{"phone": phone, "laptop": laptop} {
		if got := mustGet(t, d, "visit_notes", id); got["results"] != "phone results" {
			t.Fatalf("%s shows results %v", name, got["results"])
		}
	}
	var previous string
	if err := w.st.Reader().QueryRow("SELECT previous FROM change_log WHERE change_id = ?", over).Scan(&previous); err != nil {
		t.Fatal(err)
	}
	if previous != `{"results":"laptop results"}` {
		t.Fatalf("change_log.previous = %s", previous)
	}
	w.wantConflict(t, id, "results", "phone results", "lan-phone", "laptop results", "lan-laptop")
	if n := w.changeLogCount(t, win); n != 1 {
		t.Fatalf("winning change logged %d times", n)
	}
	for name, d := range map[string]*client.Device{"lan-phone": phone, "lan-laptop": laptop} {
		w.compareDevice(t, name, d, w.actor(w.users["lan"], name))
	}
}

func (w *world) wantConflict(t *testing.T, row, field, winner, winnerDevice, loser, loserDevice string) {
	t.Helper()
	var wv, wd, lv, ld string
	err := w.st.Reader().QueryRow(`SELECT winner_value, winner_device, loser_value, loser_device FROM conflicts
		WHERE tbl = 'visit_notes' AND row_id = ? AND field = ?`, row, field).Scan(&wv, &wd, &lv, &ld)
	if err != nil {
		t.Fatalf("conflict on %s: %v", field, err)
	}
	if wv != winner || wd != winnerDevice || lv != loser || ld != loserDevice {
		t.Fatalf("conflict on %s: winner %q from %s, loser %q from %s", field, wv, wd, lv, ld)
	}
}

func TestLostAnswerIsResentWithTheSameChangeID(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	nw := newNet(w, 5)
	hoa := w.device(t, "hoa-phone", "hoa", nw, func(o *client.Options) { o.MaxAttempts = 2 })
	mustSync(t, hoa)
	var ids []string
	trip := uuid.NewString()
	ids = append(ids, mustUpsert(t, hoa, "trips", trip, map[string]any{"purpose": "meeting", "starts_on": "2021-03-26"}))
	for i := range 5 {
		ids = append(ids, mustUpsert(t, hoa, "trip_days", uuid.NewString(), map[string]any{
			"trip_id": trip, "day": "2021-03-2" + string(rune('6'+i%4)), "activity": "Tháng Thanh niên"}))
	}
	// Every answer is lost after the server committed: the device gives up.
	nw.set(func(n *netSim) { n.dropAnswer = 1 })
	if _, err := hoa.Sync(ctx); err == nil {
		t.Fatal("sync with every answer lost: no error")
	}
	// Killed and restarted; the network is back.
	nw.set(func(n *netSim) { n.dropAnswer = 0 })
	hoa = w.reopen(t, hoa, "hoa-phone", nw, nil)
	if n, _ := hoa.Pending(ctx); n != len(ids) {
		t.Fatalf("pending after the lost answers = %d, want %d", n, len(ids))
	}
	rep := mustSync(t, hoa)
	if rep.Duplicate != len(ids) || rep.Applied != 0 {
		t.Fatalf("report %+v, want every change answered duplicate", rep)
	}
	for _, id := range ids {
		if n := w.changeLogCount(t, id); n != 1 {
			t.Fatalf("change %s is in the change log %d times", id, n)
		}
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
}

func TestExpiredTokenIsRefreshed(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	w := newWorld(t, worldOptions{authNow: now, access: time.Minute})
	hoa := w.device(t, "hoa-phone", "hoa", nil, nil)
	mustSync(t, hoa)
	skew.Store(int64(2 * time.Minute)) // the access token is now expired
	mustUpsert(t, hoa, "trips", uuid.NewString(), map[string]any{"purpose": "meeting", "starts_on": "2021-03-26"})
	if rep := mustSync(t, hoa); rep.Applied != 1 {
		t.Fatalf("report %+v", rep)
	}
	// The refreshed pair was kept: a restarted device still syncs.
	hoa = w.reopen(t, hoa, "hoa-phone", newNet(w, 6), nil)
	skew.Store(int64(4 * time.Minute))
	mustSync(t, hoa)
}

func TestResetKeepsOutboxAndRejected(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	nw := newNet(w, 7)
	hoa := w.device(t, "hoa-phone", "hoa", nw, nil)
	note := uuid.NewString()
	mustUpsert(t, hoa, "visit_notes", note, w.note("hoa", 0, "Lai Châu"))
	bad := mustUpsert(t, hoa, "trip_days", uuid.NewString(), map[string]any{"trip_id": uuid.NewString(), "day": "2021-06-03"})
	mustSync(t, hoa)

	// An edit waits in the outbox when the admin adds hoa to a second team:
	// her scope changed, the server tells the device to start over.
	nw.set(func(n *netSim) { n.failPushes = true })
	pending := mustUpsert(t, hoa, "visit_notes", note, map[string]any{"title": "chờ gửi"})
	w.server(t, syncdb.ServerChange{Table: "teams", RowID: uuid.NewString(), Fields: map[string]any{
		"campaign_id": w.campaign, "name": "Đoàn 2", "member_ids": []string{w.users["hoa"].id}, "unit_ids": []string{w.units[2]}}})
	rep, err := hoa.Pull(ctx)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if !rep.Reset || !rep.Snapshot {
		t.Fatalf("report %+v, want a reset and a new snapshot", rep)
	}
	if got := mustGet(t, hoa, "visit_notes", note); got["title"] != "chờ gửi" {
		t.Fatalf("pending edit lost in the reset: %v", got["title"])
	}
	if rej, _ := hoa.Rejected(ctx); len(rej) != 1 || rej[0].ChangeID != bad {
		t.Fatalf("rejected list after reset: %+v", rej)
	}
	nw.set(func(n *netSim) { n.failPushes = false })
	if rep := mustSync(t, hoa); rep.Applied != 1 {
		t.Fatalf("report %+v", rep)
	}
	if w.changeLogCount(t, pending) != 1 {
		t.Fatal("the pending edit did not reach the server")
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
}

// A department reads the notes and follow-ups of the findings assigned to
// it. Those rows become readable when a finding is assigned, which changes
// the finding, not them: the department's device must still receive them,
// and drop them again when the finding goes elsewhere.
func TestRowsEnteringScopeThroughAnotherRowArePulled(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	hoa := w.device(t, "hoa-phone", "hoa", nil, nil)
	kiem := w.device(t, "kiem-laptop", "kiem", nil, nil)
	phong := w.device(t, "phong-laptop", "phong", nil, nil)
	note, finding, follow := uuid.NewString(), uuid.NewString(), uuid.NewString()
	// A submitted note: a department never reads a draft.
	submitted := w.note("hoa", 0, "Lai Châu")
	submitted["status"] = "submitted"
	mustUpsert(t, hoa, "visit_notes", note, submitted)
	mustUpsert(t, hoa, "findings", finding, map[string]any{"note_id": note, "unit_id": w.units[0], "category": "shortcoming", "text": "Thiếu sinh hoạt"})
	mustUpsert(t, hoa, "follow_ups", follow, map[string]any{"finding_id": finding, "text": "Đã nhắc", "at": "2021-06-04T08:00:00Z"})
	mustSync(t, hoa)
	mustSync(t, phong)
	if _, ok, _ := phong.Get(ctx, "visit_notes", note); ok {
		t.Fatal("the department reads a note before any finding of it is assigned to it")
	}
	// The Inspection Committee assigns the finding to phong's department.
	mustSync(t, kiem)
	mustUpsert(t, kiem, "findings", finding, map[string]any{"department_id": w.dept1})
	mustSync(t, kiem)
	mustSync(t, phong)
	for table, id := range map[string]string{"findings": finding, "visit_notes": note, "follow_ups": follow} {
		if _, ok, _ := phong.Get(ctx, table, id); !ok {
			t.Errorf("after the assignment the department lacks %s %s", table, id)
		}
	}
	// And sends it elsewhere: the department's copy goes.
	mustUpsert(t, kiem, "findings", finding, map[string]any{"department_id": w.dept2})
	mustSync(t, kiem)
	mustSync(t, phong)
	for table, id := range map[string]string{"findings": finding, "visit_notes": note, "follow_ups": follow} {
		if _, ok, _ := phong.Get(ctx, table, id); ok {
			t.Errorf("after the finding left, the department still holds %s %s", table, id)
		}
	}
	if stale := w.compareDevice(t, "phong-laptop", phong, w.actor(w.users["phong"], "phong-laptop")); stale != 0 {
		t.Errorf("%d rows outside the department's scope are still on its device", stale)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	nw := newNet(w, 8)
	hoa := w.device(t, "hoa-phone", "hoa", nw, func(o *client.Options) { o.MaxAttempts = 4 })
	mustSync(t, hoa)
	trip := uuid.NewString()
	id := mustUpsert(t, hoa, "trips", trip, map[string]any{"purpose": "meeting", "starts_on": "2021-03-26"})

	// Two server errors and a rate limit, then the server answers.
	nw.set(func(n *netSim) { n.answers, n.requests = []int{503, 500, 429}, 0 })
	rep := mustSync(t, hoa)
	if rep.Applied != 1 || w.changeLogCount(t, id) != 1 {
		t.Fatalf("report %+v", rep)
	}
	nw.set(func(n *netSim) {
		if n.requests < 5 {
			t.Errorf("%d requests, want the 3 failures retried", n.requests)
		}
	})

	// More failures than attempts: the sync fails and the change waits.
	mustUpsert(t, hoa, "trips", trip, map[string]any{"title": "x"})
	nw.set(func(n *netSim) { n.answers = []int{502, 502, 502, 502, 502} })
	var apiErr *client.APIError
	if _, err := hoa.Sync(ctx); !errors.As(err, &apiErr) || apiErr.Status != 502 {
		t.Fatalf("sync after 4 failed tries: %v", err)
	}
	if n, _ := hoa.Pending(ctx); n != 1 {
		t.Fatalf("pending = %d", n)
	}

	// A refusal is not retried.
	nw.set(func(n *netSim) { n.answers, n.requests = []int{403, 503}, 0 })
	if _, err := hoa.Sync(ctx); !errors.As(err, &apiErr) || apiErr.Status != 403 {
		t.Fatalf("sync refused: %v", err)
	}
	nw.set(func(n *netSim) {
		if n.requests != 1 {
			t.Errorf("a 403 was sent %d times", n.requests)
		}
		n.answers = nil
	})

	// A cancelled context stops the retries at once.
	nw.set(func(n *netSim) { n.offline = true })
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := hoa.Sync(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("sync with a cancelled context: %v", err)
	}
	nw.set(func(n *netSim) { n.offline = false })
	if rep := mustSync(t, hoa); rep.Applied != 1 {
		t.Fatalf("report %+v", rep)
	}
}

// A trip leaves a team member's scope when its owner takes it off the
// team's campaign: the member's device drops it, and gets it back when it
// returns.
func TestRowLeavingScopeIsDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	lan := w.device(t, "lan-phone", "lan", nil, nil)
	hoa := w.device(t, "hoa-phone", "hoa", nil, nil)
	trip := uuid.NewString()
	mustUpsert(t, lan, "trips", trip, map[string]any{"purpose": "inspection", "starts_on": "2021-06-01", "campaign_id": w.campaign, "title": "Đoàn 1"})
	mustSync(t, lan)
	mustSync(t, hoa)
	if _, ok, _ := hoa.Get(ctx, "trips", trip); !ok {
		t.Fatal("a trip of the team's campaign is not on the member's device")
	}
	mustUpsert(t, lan, "trips", trip, map[string]any{"campaign_id": nil})
	mustSync(t, lan)
	mustSync(t, hoa)
	rows, err := hoa.Rows(ctx, "trips")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == trip {
			t.Fatalf("the trip that left hoa's scope is still on her device: %+v", r)
		}
	}
	mustUpsert(t, lan, "trips", trip, map[string]any{"campaign_id": w.campaign, "title": "trở lại"})
	mustSync(t, lan)
	mustSync(t, hoa)
	if got := mustGet(t, hoa, "trips", trip); got["title"] != "trở lại" {
		t.Fatalf("the trip back in scope: %v", got)
	}
	w.compareDevice(t, "hoa-phone", hoa, w.actor(w.users["hoa"], "hoa-phone"))
}

// A reset asks the device for a new snapshot. Until that snapshot is
// complete the device keeps showing what it had: a reset cut short by a
// weak network must not leave the user with an empty phone.
func TestInterruptedResetKeepsWhatTheDeviceHad(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	nw := newNet(w, 7)
	hoa := w.device(t, "hoa-phone", "hoa", nw, func(o *client.Options) { o.PullLimit = 5; o.MaxAttempts = 1 })
	note := uuid.NewString()
	mustUpsert(t, hoa, "visit_notes", note, w.note("hoa", 0, "Lai Châu"))
	mustSync(t, hoa)
	unitsBefore, err := hoa.All(ctx, "units")
	if err != nil {
		t.Fatal(err)
	}
	// hoa joins a second team: her scope changes, the next pull resets.
	w.server(t, syncdb.ServerChange{Table: "teams", RowID: uuid.NewString(), Fields: map[string]any{
		"campaign_id": w.campaign, "name": "Đoàn kiểm tra số 2", "member_ids": []string{w.users["hoa"].id}, "unit_ids": []string{w.units[2]}}})
	nw.set(func(n *netSim) { n.pulls = 0; n.failPullFrom = 3 }) // the reset, one snapshot page, then the network goes
	if _, err := hoa.Sync(ctx); err == nil {
		t.Fatal("the sync succeeded although the network failed mid-snapshot")
	}
	units, err := hoa.All(ctx, "units")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := hoa.Get(ctx, "visit_notes", note); !ok || len(units) != len(unitsBefore) {
		t.Fatalf("after an interrupted reset the device holds its own note: %v, and %d of %d units", ok, len(units), len(unitsBefore))
	}
	nw.set(func(n *netSim) { n.failPullFrom = 0 })
	mustSync(t, hoa)
	if _, ok, _ := hoa.Get(ctx, "visit_notes", note); !ok {
		t.Fatal("after the snapshot completed the device lost its own note")
	}
}

// A phone whose date was a day ahead is corrected by the server; when its
// user then sets the right date, the correction must go too, or every
// later edit would carry a frozen stamp and lose to edits made before it.
func TestClockCorrectionFollowsAFixedDate(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	var skew atomic.Int64
	skew.Store(int64(24 * time.Hour))
	phone := w.device(t, "hoa-phone", "hoa", nil, func(o *client.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	laptop := w.device(t, "hoa-laptop", "hoa", nil, nil)
	mustSync(t, phone)
	trip := uuid.NewString()
	mustUpsert(t, phone, "trips", trip, map[string]any{"purpose": "meeting", "starts_on": "2021-03-26", "title": "gốc"})
	if rep := mustSync(t, phone); rep.Restamped == 0 || phone.ClockOffset() > -23*time.Hour {
		t.Fatalf("the skewed phone was not corrected: %+v, offset %v", rep, phone.ClockOffset())
	}

	skew.Store(0) // the user sets the right date
	mustSync(t, phone)
	if off := phone.ClockOffset(); off != 0 {
		t.Fatalf("offset %v after the date was fixed, want 0", off)
	}
	mustSync(t, laptop)
	mustUpsert(t, laptop, "trips", trip, map[string]any{"title": "máy tính (trước)"})
	mustSync(t, laptop)
	time.Sleep(5 * time.Millisecond) // the phone's edit comes later in real time
	mustUpsert(t, phone, "trips", trip, map[string]any{"title": "điện thoại (sau)"})
	mustSync(t, phone)
	if srv, _ := w.serverRow(t, "trips", trip); srv.Fields["title"] != "điện thoại (sau)" {
		t.Fatalf("server title %q: the later edit lost", srv.Fields["title"])
	}
}

// TestSnapshotStagesPagesOfEverySize: whatever the page size (one page
// for the whole snapshot, pages of 100 give or take one, small pages), every
// row the user may read arrives as the server holds it, deleted rows
// included, and nothing else.
func TestSnapshotStagesPagesOfEverySize(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	var units []syncdb.ServerChange
	for i := range 257 {
		units = append(units, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": fmt.Sprintf("Chi đoàn thôn %d", i), "kind": "province", "code": fmt.Sprintf("S%03d", i),
			"lat": 10 + float64(i)/97, "lng": 103 + float64(i)/83}})
	}
	w.server(t, units...)
	var gone []syncdb.ServerChange
	for _, u := range units[:13] {
		gone = append(gone, syncdb.ServerChange{Table: "units", RowID: u.RowID, Delete: true})
	}
	w.server(t, gone...)
	for _, limit := range []int{7, 99, 100, 101, 1000} {
		name := fmt.Sprintf("hoa-%d", limit)
		d := w.device(t, name, "hoa", nil, func(o *client.Options) { o.PullLimit = limit })
		rep := mustSync(t, d)
		if !rep.Snapshot || rep.Pulled < len(units) {
			t.Fatalf("page size %d: report %+v, want a snapshot of at least %d rows", limit, rep, len(units))
		}
		if stale := w.compareDevice(t, name, d, w.actor(w.users["hoa"], name)); stale != 0 {
			t.Fatalf("page size %d: %d rows the user may not read", limit, stale)
		}
	}
}
