package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/protocol"
)

// halfStaged is a world where lan's three trips, on her team's campaign,
// are followed by more rows, and hoa's laptop has staged its snapshot up
// to the trips when its network goes (pages of 5).
type halfStaged struct {
	w      *world
	lan    *client.Device
	trips  []string
	laptop *client.Device
	nw     *netSim
	actor  syncdb.Actor
}

func newHalfStaged(t *testing.T) *halfStaged {
	t.Helper()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	h := &halfStaged{w: w, lan: w.device(t, "lan-phone", "lan", nil, nil), actor: w.actor(w.users["hoa"], "hoa-laptop")}
	isTrip := map[string]bool{}
	for i := range 3 {
		id := uuid.NewString()
		h.trips = append(h.trips, id)
		isTrip[id] = true
		mustUpsert(t, h.lan, "trips", id, map[string]any{"purpose": "inspection", "starts_on": "2021-06-01",
			"campaign_id": w.campaign, "title": fmt.Sprintf("Đoàn 1, chuyến %d", i+1)})
	}
	mustSync(t, h.lan)
	var units []syncdb.ServerChange
	for i := range 20 {
		units = append(units, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": fmt.Sprintf("Chi đoàn %d", i), "kind": "grassroots", "parent_id": w.units[0]}})
	}
	w.server(t, units...)

	// The page of hoa's snapshot that brings the last of the trips, as the
	// server pages it.
	const limit = 5
	page, cursor := 0, ""
	for found := 0; found < len(h.trips); {
		resp, err := w.sdb.Pull(ctx, h.actor, protocol.PullRequest{Protocol: 1, DeviceID: "hoa-laptop", Cursor: cursor, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		page++
		for _, r := range resp.Rows {
			if isTrip[r.RowID] {
				found++
			}
		}
		if !resp.HasMore {
			t.Fatal("the snapshot ends with the trips: no page left to interrupt")
		}
		cursor = resp.Cursor
	}
	h.nw = newNet(w, 3)
	h.nw.set(func(n *netSim) { n.failPullFrom = page + 1 })
	h.laptop = w.device(t, "hoa-laptop", "hoa", h.nw, func(o *client.Options) { o.PullLimit = limit })
	if _, err := h.laptop.Sync(ctx); err == nil {
		t.Fatal("sync with a failing pull: no error")
	}
	for _, id := range h.trips {
		if _, ok, _ := h.laptop.Get(ctx, "trips", id); ok {
			t.Fatal("a trip of a half snapshot is visible")
		}
	}
	h.nw.set(func(n *netSim) { n.failPullFrom = 0 })
	return h
}

// A snapshot interrupted halfway, after which the user's scope shrinks:
// the server answers the resumed snapshot with a reset, and the rows staged
// before it, which the user may no longer read, must not be swapped in
// with the new snapshot.
func TestRestartedSnapshotForgetsWhatWasStaged(t *testing.T) {
	t.Parallel()
	h := newHalfStaged(t)
	// hoa leaves the team: lan's trips leave her scope.
	h.w.server(t, syncdb.ServerChange{Table: "teams", RowID: h.w.team1, Fields: map[string]any{"member_ids": []string{h.w.users["lan"].id}}})
	rep := mustSync(t, h.laptop)
	if !rep.Reset || !rep.Snapshot {
		t.Fatalf("report %+v, want a reset and a complete snapshot", rep)
	}
	for _, id := range h.trips {
		if _, ok, _ := h.laptop.Get(context.Background(), "trips", id); ok {
			t.Error("a trip staged before the reset, out of hoa's scope since, is on her laptop")
		}
	}
	if stale := h.w.compareDevice(t, "hoa-laptop", h.laptop, h.actor); stale != 0 {
		t.Fatalf("%d rows hoa may not read are on her laptop", stale)
	}
}

// Rows staged by a snapshot that change before it ends come again in a
// later page: one edited comes whole (the device keeps the later state,
// once), one that left the reader's scope comes as departed (the device
// drops it), one that left and came back comes whole.
func TestSnapshotKeepsTheLastOfARowPulledTwice(t *testing.T) {
	t.Parallel()
	h := newHalfStaged(t)
	ctx := context.Background()
	edited, left, back := h.trips[0], h.trips[1], h.trips[2]
	mustUpsert(t, h.lan, "trips", edited, map[string]any{"title": "sửa sau khi hoa đã nhận"})
	mustUpsert(t, h.lan, "trips", left, map[string]any{"campaign_id": nil})
	mustUpsert(t, h.lan, "trips", back, map[string]any{"campaign_id": nil})
	mustSync(t, h.lan)
	mustUpsert(t, h.lan, "trips", back, map[string]any{"campaign_id": h.w.campaign, "title": "trở lại"})
	mustSync(t, h.lan)

	rep := mustSync(t, h.laptop)
	if rep.Reset || !rep.Snapshot {
		t.Fatalf("report %+v, want the snapshot completed without a reset", rep)
	}
	if got := mustGet(t, h.laptop, "trips", edited)["title"]; got != "sửa sau khi hoa đã nhận" {
		t.Errorf("the edited trip's title is %v, want the later one", got)
	}
	if _, ok, _ := h.laptop.Get(ctx, "trips", left); ok {
		t.Error("the trip that left hoa's scope while her snapshot was staged is on her laptop")
	}
	if got := mustGet(t, h.laptop, "trips", back)["title"]; got != "trở lại" {
		t.Errorf("the trip that came back has title %v", got)
	}
	rows, err := h.laptop.Rows(ctx, "trips")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rows {
		if seen[r.ID]++; seen[r.ID] > 1 {
			t.Errorf("trip %s is on the laptop %d times", r.ID, seen[r.ID])
		}
		if r.ID == left {
			t.Errorf("the laptop keeps the trip that left, as %+v", r)
		}
	}
	if stale := h.w.compareDevice(t, "hoa-laptop", h.laptop, h.actor); stale != 0 {
		t.Fatalf("%d rows hoa may not read are on her laptop", stale)
	}
	// The swapped-in table still takes a row once: a later pull replaces it.
	mustUpsert(t, h.lan, "trips", edited, map[string]any{"title": "lần ba"})
	mustSync(t, h.lan)
	mustSync(t, h.laptop)
	if got := mustGet(t, h.laptop, "trips", edited)["title"]; got != "lần ba" {
		t.Errorf("after a later pull the title is %v", got)
	}
	if stale := h.w.compareDevice(t, "hoa-laptop", h.laptop, h.actor); stale != 0 {
		t.Fatalf("%d stale rows after a later pull", stale)
	}
}

// A device file whose snapshot an earlier build staged halfway (its rows
// as JSON in snapshot_rows, their cursor under snapshot_cursor) is opened
// by this build: it starts the snapshot over, and ends with every row,
// not with the pages after that cursor only.
func TestSnapshotStagedByAnEarlierBuildStartsOver(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	var units []syncdb.ServerChange
	for i := range 12 {
		units = append(units, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": fmt.Sprintf("Chi đoàn %d", i), "kind": "grassroots", "parent_id": w.units[1]}})
	}
	w.server(t, units...)
	const name = "hoa-laptop"
	actor := w.actor(w.users["hoa"], name)
	d := w.device(t, name, "hoa", nil, nil)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// What the earlier build left: the first page staged, its cursor kept.
	first, err := w.sdb.Pull(ctx, actor, protocol.PullRequest{Protocol: 1, DeviceID: name, Limit: 10})
	if err != nil || !first.HasMore {
		t.Fatalf("first page: has_more %v, %v", first.HasMore, err)
	}
	raw, err := sql.Open("sqlite", filepath.Join(w.dir, name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE snapshot_rows (tbl TEXT NOT NULL, row_id TEXT NOT NULL, fields TEXT NOT NULL DEFAULT '{}',
		deleted INTEGER NOT NULL DEFAULT 0, version TEXT NOT NULL DEFAULT '', PRIMARY KEY (tbl, row_id))`}
	for _, r := range first.Rows {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO snapshot_rows (tbl, row_id, version) VALUES ('%s', '%s', '%s')", r.Table, r.RowID, r.Version))
	}
	stmts = append(stmts, "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('snapshot_cursor', '"+first.Cursor+"')")
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = client.Open(ctx, filepath.Join(w.dir, name+".db"), w.options(name, newNet(w, 4), nil))
	if err != nil {
		t.Fatalf("open the half-staged file with this build: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if rep := mustSync(t, d); !rep.Snapshot || rep.Pulled < len(first.Rows) {
		t.Fatalf("report %+v, want the whole snapshot pulled again", rep)
	}
	if stale := w.compareDevice(t, name, d, actor); stale != 0 {
		t.Fatalf("%d stale rows", stale)
	}
}

// A row that came into the reader's scope and left it again while a
// snapshot was interrupted comes as departed only, for a row the device
// never staged: the device must not keep it, not even as a tombstone.
func TestSnapshotDropsARowThatCameAndLeft(t *testing.T) {
	t.Parallel()
	h := newHalfStaged(t)
	ctx := context.Background()
	passing := uuid.NewString()
	mustUpsert(t, h.lan, "trips", passing, map[string]any{"purpose": "meeting", "starts_on": "2021-06-02", "campaign_id": h.w.campaign})
	mustSync(t, h.lan)
	mustUpsert(t, h.lan, "trips", passing, map[string]any{"campaign_id": nil})
	mustSync(t, h.lan)

	if rep := mustSync(t, h.laptop); rep.Reset || !rep.Snapshot {
		t.Fatalf("report %+v, want the snapshot completed without a reset", rep)
	}
	rows, err := h.laptop.Rows(ctx, "trips")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == passing {
			t.Errorf("the laptop keeps the trip that came and left, as %+v", r)
		}
	}
	if len(rows) != len(h.trips) {
		t.Errorf("%d trips on the laptop, want lan's %d", len(rows), len(h.trips))
	}
	if stale := h.w.compareDevice(t, "hoa-laptop", h.laptop, h.actor); stale != 0 {
		t.Fatalf("%d stale rows", stale)
	}
}

// The cursor of the next page, sent ahead of a pull answer's body
// (Pull-Cursor), only saves time: a device served without it (an older
// server, a proxy that drops it) pulls the same snapshot, and one served a
// wrong one (here the cursor of a later page, which would skip rows) asks
// again with the cursor of the body and misses nothing.
func TestSnapshotDoesNotDependOnThePullCursorHeader(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	var units []syncdb.ServerChange
	for i := range 60 {
		units = append(units, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": fmt.Sprintf("Chi đoàn %d", i), "kind": "grassroots", "parent_id": w.units[2]}})
	}
	w.server(t, units...)
	for _, tc := range []struct {
		name   string
		header func(http.Header)
	}{
		{"without the header", func(h http.Header) { h.Del(protocol.HeaderPullCursor) }},
		{"with a cursor past the next page", func(h http.Header) {
			// "1.<seq>.<scope>": ten sequences later
			parts := strings.Split(h.Get(protocol.HeaderPullCursor), ".")
			if len(parts) != 3 {
				return
			}
			seq, err := strconv.Atoi(parts[1])
			if err != nil {
				return
			}
			h.Set(protocol.HeaderPullCursor, parts[0]+"."+strconv.Itoa(seq+10)+"."+parts[2])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "hoa-" + strings.ReplaceAll(tc.name, " ", "-")
			nw := newNet(w, 5)
			nw.set(func(n *netSim) { n.pullHeader = tc.header })
			d := w.device(t, name, "hoa", nw, func(o *client.Options) { o.PullLimit = 8 })
			rep := mustSync(t, d)
			if !rep.Snapshot || rep.Pages < 8 {
				t.Fatalf("report %+v, want a snapshot of many pages", rep)
			}
			if stale := w.compareDevice(t, name, d, w.actor(w.users["hoa"], name)); stale != 0 {
				t.Fatalf("%d stale rows", stale)
			}
		})
	}
}
