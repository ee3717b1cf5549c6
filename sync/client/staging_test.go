package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/protocol"
)

// A snapshot interrupted halfway, after which the user's scope shrinks:
// the server answers the resumed snapshot with a reset, and the rows staged
// before it, which the user may no longer read, must not be swapped in
// with the new snapshot.
func TestRestartedSnapshotForgetsWhatWasStaged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	lan := w.device(t, "lan-phone", "lan", nil, nil)
	trips := map[string]bool{}
	for i := range 3 {
		id := uuid.NewString()
		trips[id] = true
		mustUpsert(t, lan, "trips", id, map[string]any{"purpose": "inspection", "starts_on": "2021-06-01",
			"campaign_id": w.campaign, "title": fmt.Sprintf("Đoàn 1, chuyến %d", i+1)})
	}
	mustSync(t, lan)
	// More rows after the trips, so the snapshot goes on after them.
	var units []syncdb.ServerChange
	for i := range 20 {
		units = append(units, syncdb.ServerChange{Table: "units", RowID: uuid.NewString(), Fields: map[string]any{
			"name": fmt.Sprintf("Chi đoàn %d", i), "kind": "grassroots", "parent_id": w.units[0]}})
	}
	w.server(t, units...)

	// The page of hoa's snapshot that brings lan's trips (hoa is on their
	// team), as the server pages it.
	const limit = 5
	hoaActor := w.actor(w.users["hoa"], "hoa-laptop")
	page, cursor := 0, ""
	for found := 0; found < len(trips); {
		resp, err := w.sdb.Pull(ctx, hoaActor, protocol.PullRequest{Protocol: 1, DeviceID: "hoa-laptop", Cursor: cursor, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		page++
		for _, r := range resp.Rows {
			if trips[r.RowID] {
				found++
			}
		}
		if !resp.HasMore {
			t.Fatal("the snapshot ends with the trips: no page left to interrupt")
		}
		cursor = resp.Cursor
	}

	// hoa's laptop stages the trips, then the network goes.
	nw := newNet(w, 3)
	nw.set(func(n *netSim) { n.failPullFrom = page + 1 })
	small := func(o *client.Options) { o.PullLimit = limit }
	laptop := w.device(t, "hoa-laptop", "hoa", nw, small)
	if _, err := laptop.Sync(ctx); err == nil {
		t.Fatal("sync with a failing pull: no error")
	}
	for id := range trips {
		if _, ok, _ := laptop.Get(ctx, "trips", id); ok {
			t.Fatal("a trip of a half snapshot is visible")
		}
	}

	// hoa leaves the team: lan's trips leave her scope.
	w.server(t, syncdb.ServerChange{Table: "teams", RowID: w.team1, Fields: map[string]any{"member_ids": []string{w.users["lan"].id}}})
	nw.set(func(n *netSim) { n.failPullFrom = 0 })
	rep := mustSync(t, laptop)
	if !rep.Reset || !rep.Snapshot {
		t.Fatalf("report %+v, want a reset and a complete snapshot", rep)
	}
	for id := range trips {
		if _, ok, _ := laptop.Get(ctx, "trips", id); ok {
			t.Error("a trip staged before the reset, out of hoa's scope since, is on her laptop")
		}
	}
	if stale := w.compareDevice(t, "hoa-laptop", laptop, hoaActor); stale != 0 {
		t.Fatalf("%d rows hoa may not read are on her laptop", stale)
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
