package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"dicoso/sync/hlc"
	"dicoso/sync/plan"
	"dicoso/sync/plan/plantest"
)

// TestOneTapCheckinCountsDay: offline, a secretary taps "Điểm danh" on
// Home and confirms: the check-in is at the nearest unit and today (in
// Vietnam) is ticked on a one-day trip started for it, which the Trips
// screen shows and the tally counts. A day ahead is refused on the phone
// and by the server. A check-in is voided with a reason and no longer
// verifies the day. With location refused, the screen says how to allow
// it and the check-in is saved without a position, flagged at once.
func TestOneTapCheckinCountsDay(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	secID := srv.createUser(t, "bithu.cuong", "Lê Văn Cường", "secretary")
	var unitID string
	var ulat, ulng float64
	if err := db.QueryRow("SELECT id, lat, lng FROM units WHERE name = 'Bắc Ninh'").Scan(&unitID, &ulat, &ulng); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	now := plantest.TodayForAWhile(2 * time.Minute)
	today, tomorrow := plan.Today(now), plan.Today(now.Add(24*time.Hour))

	a := newBrowser(t, exe, "secretary", srv.url)
	a.login("bithu.cuong")
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 0/60")
	a.waitText("#home-today", "điểm danh sẽ mở chuyến đi trong ngày")
	a.screenshot("30-home-checkin-button")

	a.offline(true)
	a.reload()
	a.ready()
	a.waitJS("offline banner", `!!document.querySelector('#offline-banner')`)
	a.geolocation(ulat+0.002, ulng-0.002, 15)

	// One tap on Home, then confirm: the nearest unit and a new one-day trip are chosen already.
	a.go_("#/home")
	a.click("#home-checkin")
	a.waitText("#fix", "± 15 m")
	a.waitText("#checkin-unit", "Bắc Ninh")
	if v := eval[string](a, `document.querySelector('#checkin-trip').value`); v != "new" {
		a.fail("trip choice %q, want a new one-day trip", v)
	}
	if v := eval[string](a, `document.querySelector('#checkin-purpose').value`); v != "working_session" {
		a.fail("purpose %q, want working_session", v)
	}
	// Confirming needs no scrolling.
	if !eval[bool](a, `document.querySelector('#checkin-save').getBoundingClientRect().bottom <= innerHeight - document.querySelector('.tabbar').offsetHeight`) {
		a.fail("the confirm button is below the fold")
	}
	a.screenshot("31-checkin-confirm")
	a.click("#checkin-save")
	a.waitText("#checkin-done", "Đã tính ngày "+viDate(today))
	a.waitJS("check-in listed", `document.querySelectorAll('#checkin-list [data-sync="local"]').length === 1`)
	a.waitJS("the new trip chosen for the next check-in", `document.querySelector('#checkin-trip').value !== 'new'`)
	a.screenshot("32-checkin-done")

	// The day counts: on Home, verified by the nearby check-in.
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 1/60")
	a.waitText("#tally-verified", "1")
	a.waitText("#home-today", "Đi cơ sở: Bắc Ninh")

	// The Trips screen shows the trip, ongoing, with today ticked.
	a.go_("#/trips")
	a.waitJS("trip listed", `!!document.querySelector('[data-trip="Đi cơ sở: Bắc Ninh"] [data-ticked="1"]')`)
	a.waitText(`[data-trip="Đi cơ sở: Bắc Ninh"] [data-status]`, "Đang đi")
	a.screenshot("33-trips-list")
	a.click(`[data-trip="Đi cơ sở: Bắc Ninh"]`)
	a.waitJS("today ticked", fmt.Sprintf(`document.querySelector('li[data-day=%q] input[type=checkbox]')?.checked === true`, today))

	// A day ahead is refused on the phone, in Vietnamese.
	a.setField("#trip-end", tomorrow)
	a.click("#trip-save")
	a.waitJS("tomorrow listed", fmt.Sprintf(`!!document.querySelector('li[data-day=%q] input[type=checkbox]')`, tomorrow))
	a.click(fmt.Sprintf(`li[data-day=%q] input[type=checkbox]`, tomorrow))
	a.waitText(fmt.Sprintf(`li[data-day=%q] [data-refused]`, tomorrow), "Không thể đánh dấu ngày chưa đến")
	if eval[bool](a, fmt.Sprintf(`document.querySelector('li[data-day=%q] input[type=checkbox]').checked`, tomorrow)) {
		a.fail("tomorrow is ticked")
	}
	eval[bool](a, fmt.Sprintf(`(document.querySelector('li[data-day=%q] [data-refused]').scrollIntoView({ block: 'center' }), true)`, tomorrow))
	a.screenshot("34-trip-future-day-refused")

	// Void the check-in with a reason: shown voided, no longer verifying the day.
	a.go_("#/checkin")
	a.waitJS("check-in listed", `!!document.querySelector('#checkin-list [data-void]')`)
	a.click("#checkin-list [data-void]")
	a.typeInto("#checkin-list .void-reason", "Chọn nhầm đơn vị")
	a.click("#checkin-list [data-void-confirm]")
	a.waitText("#checkin-list [data-voided]", "Đã hủy: Chọn nhầm đơn vị")
	eval[bool](a, `(document.querySelector('#checkin-list').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("35-checkin-voided")
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 1/60")
	a.waitText("#tally-verified", "0")

	// Nothing reached the server while offline; one sync sends it all.
	if n := count(t, db, "SELECT count(*) FROM checkins WHERE user_id = ?", secID); n != 0 {
		t.Fatalf("server has %d check-ins while the phone was offline", n)
	}
	a.offline(false)
	a.syncAndWait()
	a.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	checks := []struct {
		q    string
		args []any
		want int
	}{
		{`SELECT count(*) FROM trips t, json_each(t.unit_ids) u WHERE t.user_id = ? AND t.deleted = 0
			AND t.purpose = 'working_session' AND t.starts_on = ? AND t.ends_on = ? AND u.value = ?`, []any{secID, today, tomorrow, unitID}, 1},
		{"SELECT count(*) FROM trip_days WHERE user_id = ? AND deleted = 0 AND day = ? AND unit_id = ?", []any{secID, today, unitID}, 1},
		{"SELECT count(*) FROM trip_days WHERE user_id = ?", []any{secID}, 1},
		{`SELECT count(*) FROM checkins c JOIN trips t ON t.id = c.trip_id WHERE c.user_id = ? AND c.unit_id = ?
			AND c.voided = 1 AND c.void_reason = 'Chọn nhầm đơn vị' AND c.accuracy_m = 15`, []any{secID, unitID}, 1},
	}
	for _, c := range checks {
		if n := count(t, db, c.q, c.args...); n != c.want {
			t.Errorf("%s %v: got %d, want %d", c.q, c.args, n, c.want)
		}
	}
	// The phone names its changes and new rows with time-ordered ids
	// (version 7, the creation time first), so they land at the end of the
	// server's indexes: every one it sent, made since the test began.
	rs, err := db.Query(`SELECT change_id, row_id FROM change_log WHERE user_id = ? AND tbl IN ('trips', 'trip_days', 'checkins')`, secID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rs.Next() {
		var change, row string
		if err := rs.Scan(&change, &row); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, change, row)
	}
	rs.Close()
	if len(ids) == 0 {
		t.Fatal("no change of the phone's in the change log")
	}
	for _, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Errorf("id %s is not a version 7 UUID (%v)", id, err)
			continue
		}
		sec, nsec := u.Time().UnixTime()
		if at := time.Unix(sec, nsec); at.Before(now.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("id %s was made at %s, not during the test (began %s)", id, at, now)
		}
	}

	// The server refuses a day ahead too.
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if code := srv.post(t, "/api/v1/auth/login", "", map[string]any{"username": "bithu.cuong", "password": "bithu.cuong-password",
		"device": map[string]string{"id": "e2e-cuong-api", "name": "e2e"}}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	var tripID string
	if err := db.QueryRow("SELECT id FROM trips WHERE user_id = ?", secID).Scan(&tripID); err != nil {
		t.Fatal(err)
	}
	var push struct {
		Results []struct{ Status, Code, Field, Message string }
	}
	if code := srv.post(t, "/api/v1/sync/push", login.AccessToken, map[string]any{"protocol": 1, "device_id": "e2e-cuong-api",
		"changes": []map[string]any{{"id": uuid.NewString(), "table": "trip_days", "row_id": uuid.NewString(), "op": "upsert",
			"hlc":    hlc.Timestamp{Millis: time.Now().UnixMilli(), Node: "e2e-cuong-api"}.String(),
			"fields": map[string]any{"trip_id": tripID, "user_id": secID, "day": tomorrow, "unit_id": unitID}}},
	}, &push); code != http.StatusOK || len(push.Results) != 1 {
		t.Fatalf("push: %d %+v", code, push)
	}
	if r := push.Results[0]; r.Status != "rejected" || r.Code != "validation_failed" || r.Field != "day" || r.Message != "a field day cannot be in the future" {
		t.Errorf("a day ahead pushed: %+v, want rejected validation_failed on day", r)
	}

	// Location refused: the screen says how to allow it for this site, and
	// the check-in is saved without a position, flagged at once.
	a.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"},
			Setting:    cdpbrowser.PermissionSetting("denied"),
			Origin:     srv.url,
		})
		return err
	}))
	a.go_("#/home")
	a.click("#home-checkin")
	a.waitText("#geo-help", "Cài đặt trang web → Vị trí → Cho phép")
	a.waitText("#geo-help", "Vẫn có thể điểm danh không kèm vị trí")
	a.waitText("#checkin-unit", "Bắc Ninh") // today's trip's unit
	a.screenshot("36-checkin-location-refused")
	a.click("#checkin-save")
	a.waitText("#checkin-done", "đã được tính")
	a.waitText("#checkin-list [data-flags]", "không có vị trí")
	eval[bool](a, `(document.querySelector('#checkin-list').scrollIntoView({ block: 'start' }), true)`)
	a.screenshot("37-checkin-no-position-flagged")

	// The same screens on a laptop.
	a.do(chromedp.EmulateViewport(1366, 900))
	for _, sh := range []struct{ hash, wait, name string }{
		{"#/home", "#home-checkin", "38-desktop-home"},
		{"#/checkin", "#checkin-confirm", "38-desktop-checkin"},
		{"#/trips", "#trip-list", "38-desktop-trips"},
	} {
		a.go_(sh.hash)
		a.waitJS(sh.wait, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sh.wait)))
		eval[bool](a, `(scrollTo(0, 0), true)`)
		a.screenshot(sh.name)
	}
}

// viDate is a date as the app writes it (25/03/2021).
func viDate(iso string) string {
	return iso[8:10] + "/" + iso[5:7] + "/" + iso[0:4]
}
