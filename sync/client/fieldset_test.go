package client_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// A device updated to a build that knows a field its old build did not
// gets the values the server already held: rows it pulled before lack them
// and the server would not send those rows again, so the updated device
// pulls a full snapshot once, with its pending edits kept on top. A device
// whose registry did not change does not pull again.
func TestUpdatedDevicePullsTheFieldsItDidNotKnow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	lan := w.users["lan"]
	phone := w.device(t, "lan-phone", "lan", nil, nil)
	trip, other := uuid.NewString(), uuid.NewString()
	mustUpsert(t, phone, "trips", trip, map[string]any{
		"user_id": lan.id, "purpose": "inspection", "starts_on": "2021-03-05",
		"title": "Lai Châu", "notes": "Gặp Ban Thường vụ Tỉnh đoàn",
	})
	mustUpsert(t, phone, "trips", other, map[string]any{
		"user_id": lan.id, "purpose": "meeting", "starts_on": "2021-04-01", "title": "Hà Nội",
	})
	mustSync(t, phone)

	for _, tc := range []struct {
		name     string
		fieldSet string // what the old build left in sync_state; "" leaves no entry
	}{
		{"an older registry", "fs1-0000000000000000"},
		{"a build from before field sets were recorded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "lan-laptop-" + uuid.NewString()[:8]
			nw := newNet(w, 7)
			laptop := w.device(t, name, "lan", nw, nil)
			mustSync(t, laptop)
			// An edit of another trip made offline, still pending when the
			// update comes (the trip with notes is not sent again by it).
			title := "Hà Nội (" + tc.name + ")"
			mustUpsert(t, laptop, "trips", other, map[string]any{"title": title})
			if err := laptop.Close(); err != nil {
				t.Fatal(err)
			}

			// Make the file what the old build left: trips without the
			// notes column, its field set (or none) recorded.
			path := filepath.Join(w.dir, name+".db")
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			stmts := []string{"ALTER TABLE trips DROP COLUMN notes", "DELETE FROM sync_state WHERE key = 'field_set'"}
			if tc.fieldSet != "" {
				stmts = append(stmts, "INSERT INTO sync_state (key, value) VALUES ('field_set', '"+tc.fieldSet+"')")
			}
			for _, s := range stmts {
				if _, err := raw.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}

			updated, err := client.Open(ctx, path, w.options(name, nw, nil))
			if err != nil {
				t.Fatalf("open the old file with this build: %v", err)
			}
			t.Cleanup(func() { updated.Close() })
			if got := mustGet(t, updated, "trips", trip)["notes"]; got != nil {
				t.Fatalf("before the pull the new column holds %v, want nothing", got)
			}
			rep := mustSync(t, updated)
			if !rep.Snapshot {
				t.Errorf("the updated device did not pull a full snapshot: %+v", rep)
			}
			if got := mustGet(t, updated, "trips", trip)["notes"]; got != "Gặp Ban Thường vụ Tỉnh đoàn" {
				t.Errorf("after the update the trip's notes are %v, want the server's", got)
			}
			if got := mustGet(t, updated, "trips", other)["title"]; got != title {
				t.Errorf("the pending title became %v, want %q", got, title)
			}
			if srv, _ := w.serverRow(t, "trips", other); srv.Fields["title"] != title {
				t.Errorf("the pending edit did not reach the server: title %v", srv.Fields["title"])
			}

			// Opened again by the same build: nothing to pull again.
			again := w.reopen(t, updated, name, nw, nil)
			if rep := mustSync(t, again); rep.Snapshot {
				t.Errorf("a device whose registry did not change pulled a snapshot again: %+v", rep)
			}
		})
	}
}
