package client_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/store/storetest"
	"dicoso/sync/client"
)

// A server restored from an older backup has a shorter change log than a
// device that pulled from it since: the device's cursor names a sequence
// the server no longer has, and the rows written after the restore reuse
// those sequences. The server refuses the cursor (invalid_cursor), the
// device takes that as a reset and ends with every row the server holds,
// those new rows included, and none of those the restore lost.
func TestDeviceAheadOfARestoredServerResets(t *testing.T) {
	t.Parallel()
	if storetest.Postgres() {
		t.Skip("a PostgreSQL server is restored with pg_dump's tools")
	}
	ctx := context.Background()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "hoa-phone", "hoa", nil, nil)
	kept := uuid.NewString()
	mustUpsert(t, phone, "visit_notes", kept, w.note("hoa", 0, "Trước bản sao lưu"))
	mustSync(t, phone)
	backup := filepath.Join(t.TempDir(), "dicoso.db")
	if err := w.st.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for range 3 {
		id := uuid.NewString()
		gone = append(gone, id)
		mustUpsert(t, phone, "visit_notes", id, w.note("hoa", 1, "Sau bản sao lưu"))
	}
	mustSync(t, phone)

	// The server is restored from the backup.
	dataDir := t.TempDir()
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "dicoso.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := openWorld(t, dataDir, openSQLite(t, dataDir), worldOptions{})
	restored.refData = w.refData
	// Another device writes there first: its rows take the sequences the
	// phone's cursor names.
	tablet := restored.device(t, "hoa-tablet", "hoa", nil, nil)
	fresh := uuid.NewString()
	mustUpsert(t, tablet, "visit_notes", fresh, restored.note("hoa", 0, "Sau khi khôi phục"))
	mustSync(t, tablet)

	if err := phone.Close(); err != nil {
		t.Fatal(err)
	}
	phone, err = client.Open(ctx, filepath.Join(w.dir, "hoa-phone.db"), restored.options("hoa-phone", newNet(restored, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Close() })
	if _, err := phone.Login(ctx, "hoa", userPassword); err != nil {
		t.Fatal(err)
	}
	rep := mustSync(t, phone)
	if !rep.Reset {
		t.Errorf("report %+v, want a reset", rep)
	}
	for _, id := range []string{kept, fresh} {
		if _, ok, _ := phone.Get(ctx, "visit_notes", id); !ok {
			t.Errorf("the phone lacks note %s, which the restored server holds", id)
		}
	}
	if stale := restored.compareDevice(t, "hoa-phone", phone, restored.actor(restored.users["hoa"], "hoa-phone")); stale != 0 {
		t.Errorf("the phone still holds %d rows the restored server lost (%v)", stale, gone)
	}
}
