package syncdb

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// fixture is a real store file with two secretaries, a reviewer and a unit.
type fixture struct {
	db                *DB
	st                *store.Store
	alice, bob, admin Actor
	unit              string
	now               time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	f := &fixture{st: st, now: time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)}
	f.db = New(st, Options{Now: func() time.Time { return f.now }})
	t.Cleanup(func() { f.db.Close(); st.Close() })
	f.unit = uuid.NewString()
	f.alice = Actor{UserID: uuid.NewString(), Roles: []string{"secretary"}, DeviceID: "dev-alice"}
	f.bob = Actor{UserID: uuid.NewString(), Roles: []string{"inspector"}, DeviceID: "dev-bob"}
	f.admin = Actor{UserID: uuid.NewString(), Roles: []string{"admin"}, DeviceID: "dev-admin"}
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		changes := []ServerChange{{Table: "units", RowID: f.unit, Fields: map[string]any{
			"name": "Lai Châu", "kind": "province", "code": "12", "lat": 22.3964, "lng": 103.4582}}}
		for i, a := range []Actor{f.alice, f.bob, f.admin} {
			roles := make([]any, len(a.Roles))
			for j, r := range a.Roles {
				roles[j] = r
			}
			changes = append(changes, ServerChange{Table: "users", RowID: a.UserID, Fields: map[string]any{
				"username": fmt.Sprintf("user%d", i), "roles": roles}})
		}
		return f.db.ApplyServerTx(ctx, tx, "", changes)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) stamp(a Actor, offset time.Duration) string {
	return hlc.Timestamp{Millis: f.now.Add(offset).UnixMilli(), Node: a.DeviceID}.String()
}

func (f *fixture) push(t *testing.T, a Actor, changes ...protocol.Change) []protocol.Result {
	t.Helper()
	resp, err := f.db.Push(context.Background(), a, protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, Changes: changes})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return resp.Results
}

func (f *fixture) pullAll(t *testing.T, a Actor) map[string]protocol.Row {
	t.Helper()
	out := map[string]protocol.Row{}
	cur := ""
	for {
		resp, err := f.db.Pull(context.Background(), a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cur, Limit: 3})
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		for _, r := range resp.Rows {
			out[r.Table+"/"+r.RowID] = r
		}
		cur = resp.Cursor
		if !resp.HasMore {
			return out
		}
	}
}

func note(id string, a Actor, hlc string, fields map[string]any) protocol.Change {
	return protocol.Change{ID: uuid.NewString(), Table: "visit_notes", RowID: id, Op: protocol.OpUpsert, HLC: hlc, Fields: fields}
}

func TestPerFieldMergeKeepsBothEdits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := uuid.NewString()
	res := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, 0), map[string]any{
		"author_id": f.alice.UserID, "unit_id": f.unit, "title": "Làm việc với Tỉnh đoàn", "status": "draft"}))
	if res[0].Status != protocol.StatusApplied {
		t.Fatalf("create: %+v", res[0])
	}
	// Later edits of two fields, pushed out of clock order.
	r1 := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, 2*time.Second), map[string]any{"results": "Đạt 90% chỉ tiêu"}))
	r2 := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, time.Second), map[string]any{"title": "Tiêu đề mới", "results": "cũ"}))
	if r1[0].Status != protocol.StatusApplied || r2[0].Status != protocol.StatusApplied {
		t.Fatalf("edits: %+v %+v", r1, r2)
	}
	rows := f.pullAll(t, f.alice)
	got := rows["visit_notes/"+id].Fields
	if got["title"] != "Tiêu đề mới" || got["results"] != "Đạt 90% chỉ tiêu" {
		t.Fatalf("merged row = %v", got)
	}
}

func TestDuplicateChangeIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ch := note(uuid.NewString(), f.alice, f.stamp(f.alice, 0), map[string]any{"unit_id": f.unit, "title": "x"})
	if r := f.push(t, f.alice, ch); r[0].Status != protocol.StatusApplied {
		t.Fatalf("first: %+v", r)
	}
	if r := f.push(t, f.alice, ch); r[0].Status != protocol.StatusDuplicate {
		t.Fatalf("second: %+v", r)
	}
	var n int
	if err := f.st.Reader().QueryRow("SELECT COUNT(*) FROM change_log WHERE change_id = ?", ch.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("change_log has %d entries (%v), want 1", n, err)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	checkin := uuid.NewString()
	ok := f.push(t, f.alice, protocol.Change{ID: uuid.NewString(), Table: "checkins", RowID: checkin, Op: protocol.OpUpsert,
		HLC: f.stamp(f.alice, 0), Fields: map[string]any{"unit_id": f.unit, "at": "2021-06-03T08:59:00Z", "lat": 22.40, "lng": 103.46, "accuracy_m": 12.0}})
	if ok[0].Status != protocol.StatusApplied {
		t.Fatalf("check-in: %+v", ok)
	}
	cases := []struct {
		name string
		who  Actor
		ch   protocol.Change
		code string
	}{
		{"unknown table", f.alice, protocol.Change{Table: "secrets", RowID: uuid.NewString(), Op: "upsert", HLC: f.stamp(f.alice, 1)}, protocol.CodeUnknownTable},
		{"unknown field", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, 1), map[string]any{"unit_id": f.unit, "colour": "red"}), protocol.CodeUnknownField},
		{"bad value", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, 1), map[string]any{"unit_id": f.unit, "status": "lost"}), protocol.CodeValidationFailed},
		{"missing required", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, 1), map[string]any{"title": "no unit"}), protocol.CodeValidationFailed},
		{"reference data", f.alice, protocol.Change{Table: "units", RowID: f.unit, Op: "upsert", HLC: f.stamp(f.alice, 1), Fields: map[string]any{"name": "x"}}, protocol.CodeForbidden},
		{"someone else's row", f.bob, protocol.Change{Table: "checkins", RowID: checkin, Op: "upsert", HLC: f.stamp(f.bob, 1), Fields: map[string]any{"voided": true}}, protocol.CodeForbidden},
		{"append-only", f.alice, protocol.Change{Table: "checkins", RowID: checkin, Op: "upsert", HLC: f.stamp(f.alice, 1), Fields: map[string]any{"note": "sửa"}}, protocol.CodeImmutable},
		{"computed field", f.alice, protocol.Change{Table: "checkins", RowID: uuid.NewString(), Op: "upsert", HLC: f.stamp(f.alice, 1), Fields: map[string]any{"unit_id": f.unit, "at": "2021-06-03T08:59:00Z", "distance_m": 0.0}}, protocol.CodeForbidden},
		{"clock skew", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, time.Hour), map[string]any{"unit_id": f.unit}), protocol.CodeClockSkew},
		{"foreign clock node", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.bob, 1), map[string]any{"unit_id": f.unit}), protocol.CodeValidationFailed},
		{"unknown reference", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, 1), map[string]any{"unit_id": uuid.NewString()}), protocol.CodeValidationFailed},
		// PostgreSQL's text cannot hold a NUL: refused on both stores alike,
		// where it once failed the push with a 500 there.
		{"NUL in text", f.alice, note(uuid.NewString(), f.alice, f.stamp(f.alice, 1), map[string]any{"unit_id": f.unit, "results": "a\x00b"}), protocol.CodeValidationFailed},
	}
	for _, tc := range cases {
		tc.ch.ID = uuid.NewString()
		r := f.push(t, tc.who, tc.ch)
		if r[0].Status != protocol.StatusRejected || r[0].Code != tc.code || r[0].Message == "" {
			t.Errorf("%s: got %+v, want rejected %s", tc.name, r[0], tc.code)
		}
		if tc.name == "bad value" && r[0].Field != "status" {
			t.Errorf("%s: refusal names field %q, want status", tc.name, r[0].Field)
		}
	}
	// Voiding is the one change an append-only check-in takes.
	void := f.push(t, f.alice, protocol.Change{ID: uuid.NewString(), Table: "checkins", RowID: checkin, Op: "upsert", HLC: f.stamp(f.alice, 2), Fields: map[string]any{"voided": true, "void_reason": "nhầm đơn vị"}})
	if void[0].Status != protocol.StatusApplied {
		t.Fatalf("void: %+v", void)
	}
	row := f.pullAll(t, f.alice)["checkins/"+checkin].Fields
	if row["voided"] != true || row["distance_m"] == nil || row["received_at"] == nil {
		t.Fatalf("check-in after void: %v", row)
	}
}

// A refused change stays refused when its push is replayed, even if it
// would pass now: its device already showed it to the user as refused.
// Sending the same content again is a new change, judged afresh.
func TestRejectionIsFinalForItsChangeID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	unit := uuid.NewString()
	ch := note(uuid.NewString(), f.bob, f.stamp(f.bob, 0), map[string]any{"unit_id": unit, "title": "Đơn vị mới"})
	first := f.push(t, f.bob, ch)
	if first[0].Status != protocol.StatusRejected || first[0].Code != protocol.CodeValidationFailed {
		t.Fatalf("note for an unknown unit: %+v", first[0])
	}
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{{Table: "units", RowID: unit,
			Fields: map[string]any{"name": "Đoàn Khối mới", "kind": "central_affiliated"}}})
	}); err != nil {
		t.Fatal(err)
	}
	replay := f.push(t, f.bob, ch)
	if !reflect.DeepEqual(replay[0], first[0]) {
		t.Fatalf("replayed refusal answered %+v, want %+v", replay[0], first[0])
	}
	ch.ID = uuid.NewString()
	if again := f.push(t, f.bob, ch); again[0].Status != protocol.StatusApplied {
		t.Fatalf("the same content as a new change: %+v", again[0])
	}
}

// A server restarted with its wall clock an hour behind still stamps its
// own edits after the changes it merged before: an admin's correction must
// not lose to the value it corrects.
func TestServerClockResumesPastStoredStamps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	dept := uuid.NewString()
	write := func(now time.Time, name string) {
		t.Helper()
		db := New(st, Options{Now: func() time.Time { return now }})
		defer db.Close()
		if err := st.InTx(ctx, func(tx *sql.Tx) error {
			return db.ApplyServerTx(ctx, tx, "", []ServerChange{{Table: "departments", RowID: dept, Fields: map[string]any{"name": name}}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	noon := time.Date(2021, 3, 26, 12, 0, 0, 0, time.UTC)
	write(noon, "Ban Kiem tra")
	write(noon.Add(-time.Hour), "Ban Kiểm tra Trung ương Đoàn")
	var name string
	if err := st.Reader().QueryRowContext(ctx, "SELECT name FROM departments WHERE id = ?", dept).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "Ban Kiểm tra Trung ương Đoàn" {
		t.Fatalf("after a restart with the clock behind, the later edit lost: name = %q", name)
	}
}

// Deleting a row the server never had changes nothing: it cannot claim an
// id, so the row's real creation later is applied.
func TestDeleteOfAnUnknownRowClaimsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := uuid.NewString()
	del := f.push(t, f.bob, protocol.Change{ID: uuid.NewString(), Table: "visit_notes", RowID: id, Op: protocol.OpDelete, HLC: f.stamp(f.bob, 0)})
	if del[0].Status != protocol.StatusApplied {
		t.Fatalf("delete of an unknown row: %+v", del[0])
	}
	create := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, -time.Second), map[string]any{"unit_id": f.unit, "title": "Ghi chép"}))
	if create[0].Status != protocol.StatusApplied {
		t.Fatalf("the real creation after it: %+v", create[0])
	}
	if row := f.pullAll(t, f.alice)["visit_notes/"+id]; row.Deleted || row.Fields["title"] != "Ghi chép" {
		t.Fatalf("the created note: %+v", row)
	}
}

// New rows pushed together are each written, with the values, version and
// change-log entry of their own change: the merge inserts runs of new rows
// of one table many to a statement (wtx.flush), and a run breaks where the
// table or the columns written change.
func TestManyNewRowsInOnePushAreEachWritten(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	trip := uuid.NewString()
	changes := []protocol.Change{{ID: uuid.NewString(), Table: "trips", RowID: trip, Op: protocol.OpUpsert,
		HLC: f.stamp(f.alice, 0), Fields: map[string]any{"title": "Đi cơ sở", "purpose": "inspection", "starts_on": "2021-06-01"}}}
	type day struct{ id, activity string }
	var days []day
	for i := range 45 {
		d := day{id: uuid.NewString()}
		fields := map[string]any{"trip_id": trip, "day": fmt.Sprintf("2021-05-%02d", 1+i%28), "unit_id": f.unit}
		if i >= 10 { // 10 days without an activity, then 35 with
			d.activity = fmt.Sprintf("Làm việc với cơ sở %d", i)
			fields["activity"] = d.activity
		}
		if i == 30 {
			changes = append(changes, note(uuid.NewString(), f.alice, f.stamp(f.alice, time.Duration(i)*time.Millisecond),
				map[string]any{"unit_id": f.unit, "title": "giữa các ngày"}))
		}
		days = append(days, d)
		changes = append(changes, protocol.Change{ID: uuid.NewString(), Table: "trip_days", RowID: d.id, Op: protocol.OpUpsert,
			HLC: f.stamp(f.alice, time.Duration(i+1)*time.Millisecond), Fields: fields})
	}
	for _, r := range f.push(t, f.alice, changes...) {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("push: %+v", r)
		}
	}
	rows := f.pullAll(t, f.alice)
	for i, d := range days {
		got, ok := rows["trip_days/"+d.id]
		if !ok {
			t.Fatalf("trip day %d was not written", i)
		}
		if got.Fields["activity"] != d.activity || got.Fields["trip_id"] != trip || got.Fields["user_id"] != f.alice.UserID {
			t.Fatalf("trip day %d = %v, want activity %q", i, got.Fields, d.activity)
		}
	}
	// Each row names its own change: version is its clock, seq its entry.
	for _, ch := range changes[1:] {
		if ch.Table != "trip_days" {
			continue
		}
		var version, logged string
		err := f.st.Reader().QueryRow(`SELECT d.version, c.change_id FROM trip_days d JOIN change_log c ON c.seq = d.seq
			WHERE d.id = ?`, ch.RowID).Scan(&version, &logged)
		if err != nil || version != ch.HLC || logged != ch.ID {
			t.Fatalf("trip day %s: version %q, entry %q (%v); want %q, %q", ch.RowID, version, logged, err, ch.HLC, ch.ID)
		}
	}
}
