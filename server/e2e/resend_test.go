package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"dicoso/sync/client"
)

// A refused change keeps what the user wrote, even after pulls laid the
// server's values over its row and a fresh snapshot dropped a refused
// creation: "Sửa" opens the form on the user's values, and "Gửi lại" sends
// the user's values, bringing a dropped record back.
//
// A secretary makes a synced trip's title too long, and logs a new trip
// (title also too long) with a day ticked: the server refuses all three
// changes (the day because its trip is not there). The secretary's tablet
// then adds notes to the first trip, and the phone's next pull lays the
// server's title over it. Being put on an inspection team changes the
// secretary's read scope, so the sync after that is answered with reset and
// the phone takes a fresh snapshot, without the refused new trip and its
// day. Offline, the secretary fixes both titles via "Sửa" and resends the
// day; back online, one sync sends it all.
// savedBanner is true while the form says it saved (the offline banner may
// come first in the page).
const savedBanner = `[...document.querySelectorAll('.banner')].some((e) => e.textContent.includes('Đã lưu trên máy'))`

func TestRefusedChangesKeepTheUsersValuesAcrossPulls(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	ctx := context.Background()
	var resets atomic.Int32 // pull answers with reset: true
	srv := startServerWrapped(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/sync/pull" {
				next.ServeHTTP(w, r)
				return
			}
			rec := &tee{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			var res struct {
				Reset bool `json:"reset"`
			}
			if json.Unmarshal(rec.body.Bytes(), &res) == nil && res.Reset {
				resets.Add(1)
			}
		})
	})
	db := srv.store.Reader()
	secID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")

	b := newBrowser(t, exe, "refused-work", srv.url)
	b.login("bithu.an")
	today := time.Now().Format("2006-01-02")

	// A trip, sent.
	const titleA = "Làm việc với Tỉnh đoàn Bắc Ninh"
	b.go_("#/trip/new")
	b.typeInto("#trip-title", titleA)
	b.typeInto(".unit-picker input[type=search]", "Bắc Ninh")
	b.click(`button[data-unit="Bắc Ninh"]`)
	b.click("#trip-save")
	b.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	tripA := strings.TrimPrefix(eval[string](b, `location.hash`), "#/trip/")
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")

	// Its title made longer than the server's 300 characters, and a new
	// trip with a title just as long and a day ticked.
	longA := strings.Repeat("Rất dài ", 45)
	b.go_("#/trip/" + tripA)
	b.waitJS("trip form", fmt.Sprintf(`document.querySelector('#trip-title')?.value === %s`, jsq(titleA)))
	b.setField("#trip-title", longA)
	b.click("#trip-save")
	b.waitJS("saved", savedBanner)
	longB := strings.Repeat("Chuyến mới đến Hà Nam ", 15)
	b.go_("#/trip/new")
	b.setField("#trip-title", longB)
	b.typeInto(".unit-picker input[type=search]", "Hà Nam")
	b.click(`button[data-unit="Hà Nam"]`)
	b.click("#trip-save")
	b.waitJS("new trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	tripB := strings.TrimPrefix(eval[string](b, `location.hash`), "#/trip/")
	day := fmt.Sprintf(`li[data-day=%q]`, today)
	b.click(day + " input[type=checkbox]")
	b.waitJS("day ticked", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(day+" .day-activity")))

	b.syncAndWait()
	refusedA := fmt.Sprintf(`#rejected-list li[data-table="trips"][data-row=%q]`, tripA)
	refusedB := fmt.Sprintf(`#rejected-list li[data-table="trips"][data-row=%q]`, tripB)
	refusedDay := `#rejected-list li[data-table="trip_days"]`
	b.waitJS("three refusals", fmt.Sprintf(`document.querySelectorAll('#rejected-list li').length === 3 &&
		!!document.querySelector(%s) && !!document.querySelector(%s) && !!document.querySelector(%s)`,
		jsq(refusedA), jsq(refusedB), jsq(refusedDay)))
	if n := count(t, db, "SELECT count(*) FROM trips WHERE title = ?", titleA); n != 1 {
		t.Fatalf("the refused title reached the server: %d trips keep the old one", n)
	}

	// The secretary's tablet adds notes to the first trip; the phone's
	// pull then lays the server's trip, old title included, over its row.
	const notesA = "Mang theo báo cáo sơ kết 6 tháng."
	tablet, err := client.Open(ctx, filepath.Join(t.TempDir(), "tablet.db"), client.Options{
		BaseURL: srv.url, DeviceID: "e2e-an-tablet", RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open the tablet: %v", err)
	}
	t.Cleanup(func() { tablet.Close() })
	if _, err := tablet.Login(ctx, "bithu.an", "bithu.an-password"); err != nil {
		t.Fatalf("log the tablet in: %v", err)
	}
	if _, err := tablet.Pull(ctx); err != nil {
		t.Fatalf("tablet pull: %v", err)
	}
	if _, err := tablet.Upsert(ctx, "trips", tripA, map[string]any{"notes": notesA}); err != nil {
		t.Fatalf("tablet edit: %v", err)
	}
	if rep, err := tablet.Sync(ctx); err != nil || rep.Applied != 1 {
		t.Fatalf("tablet sync: %+v, %v", rep, err)
	}
	b.syncAndWait()
	b.go_("#/trips")
	b.waitJS("server's title laid over the refused one", fmt.Sprintf(`!!document.querySelector('[data-trip=%s] [data-sync="refused"]')`, jsq(titleA)))

	// Put on an inspection team: the next pull is answered with reset, and
	// the fresh snapshot has neither the refused new trip nor its day.
	var campaignID string
	if err := db.QueryRow("SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if code := srv.post(t, "/api/v1/teams", srv.adminToken(t), map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 3", "leader_id": secID, "member_ids": []string{secID},
	}, nil); code != http.StatusCreated {
		t.Fatalf("put the secretary on a team: %d", code)
	}
	b.syncAndWait()
	if resets.Load() == 0 {
		b.fail("the server did not answer the pull with reset after the team change")
	}
	b.go_("#/trips")
	b.waitJS("refused new trip gone with the snapshot", fmt.Sprintf(`document.querySelectorAll('#trip-list [data-trip]').length === 1 &&
		!!document.querySelector('[data-trip=%s]')`, jsq(titleA)))
	b.go_("#/sync")
	b.waitJS("three refusals still listed", `document.querySelectorAll('#rejected-list li').length === 3`)

	// Offline, "Sửa" on the first trip: the form shows the title the user
	// wrote (not the server's) and the tablet's notes; shorten and save.
	b.offline(true)
	const fixedA = "Làm việc với Tỉnh đoàn Bắc Ninh về công tác kiểm tra"
	b.click(refusedA + ` [data-action="fix"]`)
	b.waitJS("form on the refused title", fmt.Sprintf(`location.hash === %s && document.querySelector('#trip-title')?.value === %s`,
		jsq("#/trip/"+tripA), jsq(longA)))
	b.waitJS("tablet's notes kept", fmt.Sprintf(`document.querySelector('#trip-notes')?.value === %s`, jsq(notesA)))
	b.setField("#trip-title", fixedA)
	b.click("#trip-save")
	b.waitJS("saved", savedBanner)

	// "Sửa" on the new trip brings it back with its title; shorten and save.
	const fixedB = "Chuyến mới đến Hà Nam"
	b.go_("#/sync")
	b.click(refusedB + ` [data-action="fix"]`)
	b.waitJS("dropped trip back on the refused title", fmt.Sprintf(`location.hash === %s && document.querySelector('#trip-title')?.value === %s`,
		jsq("#/trip/"+tripB), jsq(longB)))
	b.setField("#trip-title", fixedB)
	b.click("#trip-save")
	b.waitJS("saved", savedBanner)

	// "Gửi lại" on the day brings it back, waiting to be sent.
	b.go_("#/sync")
	b.click(refusedDay + ` [data-action="resend"]`)
	b.waitJS("rejected list empty", `document.querySelectorAll('#rejected-list li').length === 0`)
	b.waitText("#pending-count", "Thay đổi chờ gửi: 3")
	b.go_("#/trip/" + tripB)
	b.waitJS("day back, pending", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(day+` [data-sync="local"]`)))

	// Back online: one sync sends the user's values.
	b.offline(false)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	b.waitJS("nothing refused", `document.querySelectorAll('#rejected-list li').length === 0`)
	b.go_("#/trips")
	b.waitJS("both trips sent", fmt.Sprintf(`!!document.querySelector('[data-trip=%s] [data-sync="sent"]') &&
		!!document.querySelector('[data-trip=%s] [data-sync="sent"]')`, jsq(fixedA), jsq(fixedB)))
	var title, notes string
	if err := db.QueryRow("SELECT title, notes FROM trips WHERE id = ?", tripA).Scan(&title, &notes); err != nil {
		t.Fatal(err)
	}
	if title != fixedA || notes != notesA {
		t.Errorf("first trip on the server: title %q notes %q, want %q and the tablet's %q", title, notes, fixedA, notesA)
	}
	if n := count(t, db, "SELECT count(*) FROM trips WHERE id = ? AND title = ? AND user_id = ? AND deleted = 0", tripB, fixedB, secID); n != 1 {
		t.Errorf("the new trip is not on the server with the fixed title: %d", n)
	}
	if n := count(t, db, "SELECT count(*) FROM trip_days WHERE trip_id = ? AND day = ? AND user_id = ? AND deleted = 0", tripB, today, secID); n != 1 {
		t.Errorf("the resent day is not on the server: %d", n)
	}
}
