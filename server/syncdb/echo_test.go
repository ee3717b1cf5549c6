package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// echoDevice is a device that pushes and pulls with no_echo, modelled as
// the PWA keeps its rows: a local write sets the row's fields and its
// version; a push answer lays the fields and version the server reports
// (docs/protocol.md, "Own writes"); a pulled row replaces the fields it
// carries and the version; a departed row is dropped.
type echoDevice struct {
	a       Actor
	cursor  string
	rows    map[string]map[string]any // table/id → wire fields, plus "version"
	queue   []protocol.Change
	base    []string // the cursor each queued change was made at
	counter int
	skew    time.Duration
	pulled  int // rows received by pull
	lost    int // pushed values that lost
	bumped  int // answers whose row version is not the change's clock
}

func (d *echoDevice) write(f *fixture, table, id string, fields map[string]any) {
	d.counter++
	ts := hlc.Timestamp{Millis: f.now.Add(d.skew).UnixMilli(), Counter: d.counter, Node: d.a.DeviceID}.String()
	key := table + "/" + id
	if d.rows[key] == nil {
		d.rows[key] = map[string]any{}
	}
	for k, v := range fields {
		d.rows[key][k] = v
	}
	d.rows[key]["version"] = ts
	d.queue = append(d.queue, protocol.Change{ID: uuid.NewString(), Table: table, RowID: id, Op: protocol.OpUpsert, HLC: ts, Fields: fields})
	d.base = append(d.base, d.cursor)
}

// sync pushes the queue (one push per base cursor, in order), then pulls
// until the server has nothing more, both with no_echo.
func (d *echoDevice) sync(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	for len(d.queue) > 0 {
		n := 1
		for n < len(d.queue) && d.base[n] == d.base[0] {
			n++
		}
		resp, err := f.db.Push(ctx, d.a, protocol.PushRequest{Protocol: 1, DeviceID: d.a.DeviceID, BaseCursor: d.base[0], NoEcho: true, Changes: d.queue[:n]})
		if err != nil {
			t.Fatalf("push: %v", err)
		}
		for i, r := range resp.Results {
			ch := d.queue[i]
			if r.Status == protocol.StatusRejected {
				t.Fatalf("%s: change %v refused: %+v", d.a.DeviceID, ch.Fields, r)
			}
			row := d.rows[ch.Table+"/"+ch.RowID]
			d.lost += len(r.Lost)
			if r.Version != "" {
				d.bumped++
			}
			for k, v := range r.Fields {
				row[k] = v
			}
			if r.Version != "" && r.Version > row["version"].(string) {
				row["version"] = r.Version
			}
		}
		d.queue, d.base = d.queue[n:], d.base[n:]
	}
	for {
		resp, err := f.db.Pull(ctx, d.a, protocol.PullRequest{Protocol: 1, DeviceID: d.a.DeviceID, Cursor: d.cursor, Limit: 4, NoEcho: true})
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		if resp.Reset {
			t.Fatalf("%s: unexpected reset", d.a.DeviceID)
		}
		for _, r := range resp.Rows {
			key := r.Table + "/" + r.RowID
			if r.Deleted && r.Version == "" {
				delete(d.rows, key)
				continue
			}
			d.pulled++
			if d.rows[key] == nil {
				d.rows[key] = map[string]any{}
			}
			for k, v := range r.Fields {
				d.rows[key][k] = v
			}
			d.rows[key]["version"] = r.Version
		}
		d.cursor = resp.Cursor
		if !resp.HasMore {
			return
		}
	}
}

func wireJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertHoldsServer checks that every field the device holds of the field
// tables, and each row's version, is what a full snapshot (no_echo off)
// gives the same user.
func (d *echoDevice) assertHoldsServer(t *testing.T, f *fixture, tables ...string) {
	t.Helper()
	truth := f.pullAll(t, d.a)
	for key, want := range truth {
		if !slices.Contains(tables, want.Table) {
			continue
		}
		got, ok := d.rows[key]
		if !ok {
			t.Errorf("%s lacks %s", d.a.DeviceID, key)
			continue
		}
		for name, v := range want.Fields {
			if g, had := got[name]; had && wireJSON(t, g) != wireJSON(t, v) {
				t.Errorf("%s %s.%s = %s, server has %s", d.a.DeviceID, key, name, wireJSON(t, g), wireJSON(t, v))
			} else if !had && v != nil {
				t.Errorf("%s %s.%s missing, server has %s", d.a.DeviceID, key, name, wireJSON(t, v))
			}
		}
		if got["version"] != want.Version {
			t.Errorf("%s %s version %v, server has %s", d.a.DeviceID, key, got["version"], want.Version)
		}
	}
	for key := range d.rows {
		if _, ok := truth[key]; !ok && slices.Contains(tables, key[:len(key)-37]) {
			t.Errorf("%s holds %s, which the server does not give it", d.a.DeviceID, key)
		}
	}
}

// A device that pushes with no_echo and then pulls gets none of its own
// rows back, and still learns what the server computed (a check-in's
// receipt time, distance and flags) from the push answer; older devices,
// pulls without no_echo and snapshots still get every row.
func TestNoEchoLeavesOutOwnRowsButAnswersWhatTheServerComputed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	phone := &echoDevice{a: f.alice, rows: map[string]map[string]any{}}
	phone.sync(t, f)
	start := phone.cursor
	pulledBefore := phone.pulled
	noteID, checkinID := uuid.NewString(), uuid.NewString()
	phone.write(f, "visit_notes", noteID, map[string]any{"author_id": f.alice.UserID, "unit_id": f.unit, "title": "Làm việc với Tỉnh đoàn", "status": "draft"})
	phone.write(f, "checkins", checkinID, map[string]any{"user_id": f.alice.UserID, "unit_id": f.unit,
		"at": f.now.Format(time.RFC3339), "lat": 22.3970, "lng": 103.4590, "accuracy_m": 15.0})
	phone.sync(t, f)
	if phone.pulled != pulledBefore {
		t.Fatalf("the pull sent back %d of the device's own rows", phone.pulled-pulledBefore)
	}
	c := phone.rows["checkins/"+checkinID]
	if c["received_at"] == nil || c["distance_m"] == nil {
		t.Fatalf("the push answer did not carry the check-in's computed fields: %v", c)
	}
	phone.assertHoldsServer(t, f, "visit_notes", "checkins")

	for _, req := range []protocol.PullRequest{
		{Protocol: 1, DeviceID: f.alice.DeviceID, Cursor: start, Limit: 100},             // an older device
		{Protocol: 1, DeviceID: f.alice.DeviceID, Cursor: "", Limit: 2000, NoEcho: true}, // a snapshot
		{Protocol: 1, DeviceID: "alice-tablet", Cursor: start, Limit: 100, NoEcho: true}, // the same user's other device
	} {
		a := f.alice
		a.DeviceID = req.DeviceID
		resp, err := f.db.Pull(ctx, a, req)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range resp.Rows {
			got[r.Table+"/"+r.RowID] = true
		}
		if !got["visit_notes/"+noteID] || !got["checkins/"+checkinID] {
			t.Errorf("pull %+v: rows %v, want the note and the check-in", req, got)
		}
	}
}

// The rule, over many random histories: two devices of one secretary edit
// the same notes and trips (an administrator's device reads them), each from
// whatever it had pulled, with clocks behind, ahead or right, pushing and
// pulling with no_echo in random order. Concurrent edits lose (and the
// winner reaches the loser by pull), edits made after seeing a value win
// with a version above it, and after everyone has synced every device
// holds exactly what the server holds, field by field and version by
// version, although none was sent back its own writes.
func TestNoEchoDevicesConverge(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lost, bumped int
	t.Cleanup(func() {
		// The histories must reach the cases the rule is about.
		if lost == 0 || bumped == 0 {
			t.Errorf("over all seeds: %d lost values, %d answers with a version of their own; want some of each", lost, bumped)
		}
	})
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rng := rand.New(rand.NewPCG(seed, 7))
			phone := &echoDevice{a: f.alice, rows: map[string]map[string]any{}, skew: -time.Hour}
			tabletActor := f.alice
			tabletActor.DeviceID = "alice-tablet"
			tablet := &echoDevice{a: tabletActor, rows: map[string]map[string]any{}, skew: 4 * time.Minute}
			admin := &echoDevice{a: f.admin, rows: map[string]map[string]any{}}
			devices := []*echoDevice{phone, tablet, admin}
			for _, d := range devices {
				d.sync(t, f)
			}
			notes := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
			trips := []string{uuid.NewString(), uuid.NewString()}
			for _, id := range notes {
				phone.write(f, "visit_notes", id, map[string]any{"author_id": f.alice.UserID, "unit_id": f.unit, "title": "Ghi chép", "status": "draft"})
			}
			for _, id := range trips {
				tablet.write(f, "trips", id, map[string]any{"user_id": f.alice.UserID, "purpose": "working_session", "starts_on": "2021-06-01", "title": "Đi cơ sở"})
			}
			phone.sync(t, f)
			tablet.sync(t, f)
			for step := range 60 {
				f.now = f.now.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
				d := devices[rng.IntN(2)] // the secretary's devices write her rows
				switch rng.IntN(4) {
				case 0:
					d.write(f, "visit_notes", notes[rng.IntN(len(notes))], map[string]any{"results": fmt.Sprintf("kết quả %d của %s", step, d.a.DeviceID)})
				case 1:
					d.write(f, "visit_notes", notes[rng.IntN(len(notes))], map[string]any{"title": fmt.Sprintf("tiêu đề %d", step), "conclusions": fmt.Sprintf("kết luận %d", step)})
				case 2:
					d.write(f, "trips", trips[rng.IntN(len(trips))], map[string]any{"notes": fmt.Sprintf("ghi chú %d", step)})
				case 3:
					d.write(f, "trips", trips[rng.IntN(len(trips))], map[string]any{"title": fmt.Sprintf("chuyến %d", step), "notes": fmt.Sprintf("ghi chú %d", step)})
				}
				if rng.IntN(3) == 0 {
					devices[rng.IntN(3)].sync(t, f)
				}
			}
			for range 2 {
				for _, d := range devices {
					d.sync(t, f)
				}
			}
			for _, d := range devices {
				d.assertHoldsServer(t, f, "visit_notes", "trips")
				mu.Lock()
				lost += d.lost
				bumped += d.bumped
				mu.Unlock()
			}
		})
	}
}

// A row written into the file by other means than a change (a migration's
// backfill, an import: no field clocks) holds values the device may never
// have had: a no_echo device that edits it still gets it whole.
func TestNoEchoSendsARowWithValuesNoWriteSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	phone := &echoDevice{a: f.alice, rows: map[string]map[string]any{}}
	phone.sync(t, f)
	id := uuid.NewString()
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO visit_notes (id, author_id, unit_id, kind, title, status) VALUES (?, ?, ?, 'inspection', 'Nhập từ sổ', 'draft')`,
			id, f.alice.UserID, f.unit)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	phone.write(f, "visit_notes", id, map[string]any{"results": "bổ sung"})
	phone.sync(t, f)
	if got := phone.rows["visit_notes/"+id]["title"]; got != "Nhập từ sổ" {
		t.Fatalf("the phone holds title %v after editing a row it never pulled, want the row sent whole", got)
	}
}

// TestNoEchoAnswersWhatLeavesThePushersScope: a headquarters device holds
// the findings still open; the Office closing two of them in one push is
// told, for those two, that its device no longer reads them (it drops its
// copy), and not for the one it only dated, nor for a rejected change.
func TestNoEchoAnswersWhatLeavesThePushersScope(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	note := w.noteAt(t, w.leader, "submitted")
	var ids []string
	for range 3 {
		id := uuid.NewString()
		w.serverApply(t, ServerChange{Table: "findings", RowID: id, Fields: map[string]any{
			"note_id": note, "author_id": w.leader.UserID, "unit_id": w.unit, "campaign_id": w.campaign,
			"category": "recommendation", "text": "Đề nghị hỗ trợ"}})
		ids = append(ids, id)
	}
	changes := []protocol.Change{
		{ID: uuid.NewString(), Table: "findings", RowID: ids[0], Op: protocol.OpUpsert, HLC: w.stamp(w.office, time.Millisecond), Fields: map[string]any{"status": "resolved"}},
		{ID: uuid.NewString(), Table: "findings", RowID: ids[1], Op: protocol.OpUpsert, HLC: w.stamp(w.office, 2*time.Millisecond), Fields: map[string]any{"due_on": "2021-08-01"}},
		{ID: uuid.NewString(), Table: "findings", RowID: strings.ToUpper(ids[2]), Op: protocol.OpUpsert, HLC: w.stamp(w.office, 3*time.Millisecond), Fields: map[string]any{"status": "resolved"}},
		{ID: uuid.NewString(), Table: "findings", RowID: ids[1], Op: protocol.OpUpsert, HLC: w.stamp(w.office, 4*time.Millisecond), Fields: map[string]any{"text": "not theirs"}},
	}
	resp, err := w.db.Push(context.Background(), w.office, protocol.PushRequest{Protocol: 1, DeviceID: w.office.DeviceID, NoEcho: true, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status string
		out    bool
	}{{protocol.StatusApplied, true}, {protocol.StatusApplied, false}, {protocol.StatusApplied, true}, {protocol.StatusRejected, false}}
	for i, r := range resp.Results {
		if r.Status != want[i].status || r.OutOfScope != want[i].out {
			t.Errorf("change %d: %s out_of_scope=%v, want %s out_of_scope=%v", i, r.Status, r.OutOfScope, want[i].status, want[i].out)
		}
	}
}
