package e2e

import (
	"testing"

	"dicoso/server/syncdb"
)

// TestProposedPlaceConfirmedAndJudged: a secretary stands at a commune
// about 100 km from Vinh, the capital of Nghệ An, offline. The check-in
// screen offers the provinces, Nghệ An nearest at about 100 km; the
// secretary adds the commune where they stand (under Nghệ An, chosen by
// default as the nearest province) and checks in at it. Synced, the place
// reaches the server as proposed, and the check-in is judged against the
// place (0 m, no flag), not against the province. The Office confirms it
// in the console; the phone then shows it confirmed, on top as a recent
// place and nearest, and a second check-in 60 m away is judged near too.
// The day counts as verified. Search ignores diacritics (and reads đ as d).
// A duplicate the secretary adds next is merged into the commune in the
// console: the phone shows its check-in under the kept unit and offers the
// kept unit only.
func TestProposedPlaceConfirmedAndJudged(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	secID := srv.createUser(t, "bithu.hoa", "Trần Thị Hoà", "secretary")
	srv.createUser(t, "vanphong.nam", "Phạm Văn Nam", "office")
	var provinceID string
	var plat, plng float64
	if err := db.QueryRow("SELECT id, lat, lng FROM units WHERE name = 'Nghệ An'").Scan(&provinceID, &plat, &plng); err != nil {
		t.Fatalf("seeded province: %v", err)
	}
	// The commune: west of Vinh, about 100 km.
	lat, lng := 18.70, 104.745
	if d := syncdb.Haversine(lat, lng, plat, plng); d < 95000 || d > 105000 {
		t.Fatalf("the commune is %.0f m from Vinh, want about 100 km", d)
	}

	a := newBrowser(t, exe, "secretary", srv.url)
	a.login("bithu.hoa")
	a.offline(true)
	a.reload()
	a.ready()
	a.waitJS("offline banner", `!!document.querySelector('#offline-banner')`)
	a.geolocation(lat, lng, 12)

	a.go_("#/checkin")
	a.waitText("#fix", "± 12 m")
	a.waitText("#checkin-unit", "Nghệ An")
	a.waitText("#checkin-unit", "100 km")
	// Search without diacritics, đ as d.
	a.typeInto(".unit-picker input[type=search]", "doan khoi cac co quan")
	a.waitJS("search finds Đoàn Khối", `[...document.querySelectorAll('.unit-picker .choice')].length === 1
		&& document.querySelector('.unit-picker .choice').dataset.unit.startsWith('Đoàn Khối các')`)
	a.setField(".unit-picker input[type=search]", "Châu Khê")
	a.waitJS("no such unit yet", `document.querySelectorAll('.unit-picker .choice').length === 0`)
	a.waitText("#add-place", "Thêm «Châu Khê» tại vị trí này")
	a.click("#add-place")
	a.waitJS("place form", `document.querySelector('#place-name').value === 'Châu Khê'`)
	if v := eval[string](a, `document.querySelector('#place-parent').value`); v != provinceID {
		a.fail("the new place's parent is %q, want Nghệ An (nearest) %q", v, provinceID)
	}
	a.setField("#place-name", "UBND xã Châu Khê")
	eval[bool](a, `(document.querySelector('#place-form').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("places-01-add-place-390")
	a.click("#place-save")
	a.waitText("#place-added", "Đã thêm «UBND xã Châu Khê»")
	a.waitText("#checkin-unit", "UBND xã Châu Khê")
	a.waitText("#checkin-unit", "Cách đơn vị 0 m")
	a.waitText("#checkin-unit-proposed", "chờ Ban Kiểm tra hoặc Văn phòng Trung ương Đoàn duyệt")
	a.setField(".unit-picker input[type=search]", "chau khe")
	a.waitJS("the place found without diacritics, tagged proposed",
		`document.querySelector('.choice[data-unit="UBND xã Châu Khê"][data-status="proposed"] .ptag-proposed') !== null`)
	eval[bool](a, `(scrollTo(0, 0), true)`)
	a.screenshot("places-02-checkin-at-new-place-390")
	a.click("#checkin-save")
	a.waitText("#checkin-done", "Đã điểm danh tại UBND xã Châu Khê")
	a.waitJS("check-in listed, not flagged", `document.querySelectorAll('#checkin-list [data-sync="local"]').length === 1
		&& !document.querySelector('#checkin-list [data-flags]')`)
	if n := count(t, db, "SELECT count(*) FROM units WHERE name = 'UBND xã Châu Khê'"); n != 0 {
		t.Fatalf("the server has the place while the phone was offline")
	}

	a.offline(false)
	a.syncAndWait()
	a.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	var placeID, status, proposer, parent, cluster string
	if err := db.QueryRow(`SELECT id, status, proposed_by, parent_id, COALESCE(cluster_id, '') FROM units
		WHERE name = 'UBND xã Châu Khê' AND kind = 'grassroots'`).Scan(&placeID, &status, &proposer, &parent, &cluster); err != nil {
		t.Fatalf("the place on the server: %v", err)
	}
	if status != "proposed" || proposer != secID || parent != provinceID {
		t.Errorf("the place on the server: status %s, proposed by %s, under %s", status, proposer, parent)
	}
	judged := func(what string, wantMin, wantMax float64) {
		t.Helper()
		var d float64
		var flags string
		if err := db.QueryRow(`SELECT distance_m, flags FROM checkins WHERE user_id = ? AND unit_id = ? ORDER BY at DESC LIMIT 1`,
			secID, placeID).Scan(&d, &flags); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d < wantMin || d > wantMax || flags != "[]" {
			t.Errorf("%s: %.0f m, flags %s; want %.0f–%.0f m from the place, no flag", what, d, flags, wantMin, wantMax)
		}
	}
	judged("the check-in at the new place", 0, 5)

	// Headquarters (the Office) confirm it in the console.
	hq := newBrowser(t, exe, "office", srv.url)
	hq.loginAs("vanphong.nam", "vanphong.nam-password")
	hq.viewport(1366, 900, false)
	hq.go_("#/console/management/places")
	hq.waitJS("proposed place listed", `!!document.querySelector('#places-table tr[data-place="UBND xã Châu Khê"]')`)
	hq.waitText(`#places-table tr[data-place="UBND xã Châu Khê"]`, "Trần Thị Hoà")
	hq.waitText(`#places-table tr[data-place="UBND xã Châu Khê"]`, "Nghệ An")
	hq.screenshot("places-10-console-proposed-1366")
	hq.click(`#places-table tr[data-place="UBND xã Châu Khê"] .link-btn`)
	hq.waitText("#place-decision", "18.70000, 104.74500")
	hq.waitJS("merge candidates, nearest first", `document.querySelector('#place-kept').value === `+jsq(provinceID))
	hq.screenshot("places-11-console-decision-1366")
	hq.click("#place-confirm")
	hq.waitText("#place-outcome", "Đã xác nhận «UBND xã Châu Khê».")
	hq.waitText("#places-empty", "Không có cơ sở nào ở trạng thái này.")
	hq.screenshot("places-12-console-confirmed-1366")
	if n := count(t, db, "SELECT count(*) FROM units WHERE id = ? AND status = 'confirmed'", placeID); n != 1 {
		t.Fatalf("the place is not confirmed on the server")
	}

	// The phone pulls the decision; 60 m away the place is nearest and on
	// top as a recent place, no longer awaiting approval.
	a.syncAndWait()
	a.geolocation(lat+0.00054, lng, 10)
	a.go_("#/home")
	a.go_("#/checkin")
	a.waitText("#fix", "± 10 m")
	a.waitText("#checkin-unit", "UBND xã Châu Khê")
	a.waitText("#checkin-unit", "60 m")
	if eval[bool](a, `!!document.querySelector('#checkin-unit-proposed')`) {
		a.fail("the confirmed place still reads as awaiting approval")
	}
	a.waitJS("recent place on top, confirmed", `(() => { const c = document.querySelector('.unit-picker .choice');
		return c.dataset.unit === 'UBND xã Châu Khê' && c.dataset.status === 'confirmed' && !!c.querySelector('.ptag-recent'); })()`)
	eval[bool](a, `(document.querySelector('.unit-picker').scrollIntoView({ block: 'start' }), true)`)
	a.screenshot("places-03-picker-recent-confirmed-390")
	eval[bool](a, `(scrollTo(0, 0), true)`)
	a.click("#checkin-save")
	a.waitText("#checkin-done", "Đã điểm danh tại UBND xã Châu Khê")
	a.syncAndWait()
	a.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	judged("the check-in 60 m from the confirmed place", 50, 70)
	if n := count(t, db, "SELECT count(*) FROM checkins WHERE user_id = ? AND flags LIKE '%far_from_unit%'", secID); n != 0 {
		t.Errorf("%d check-ins flagged far from unit", n)
	}
	// The day counts, verified by the check-ins at the place.
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 1/60")
	a.waitText("#tally-verified", "1")
	a.go_("#/checkin")
	a.waitJS("both check-ins listed", `document.querySelectorAll('#checkin-list .checkin-item').length === 2`)
	eval[bool](a, `(document.querySelector('#checkin-list').scrollIntoView({ block: 'start' }), true)`)
	a.screenshot("places-04-checkins-at-place-390")

	// A duplicate: the secretary adds the commune's school at the same spot
	// and checks in there; the Office merges it into the commune. The
	// phone then shows the check-in under the kept unit and no longer
	// offers the duplicate.
	a.setField(".unit-picker input[type=search]", "THCS Châu Khê")
	a.click("#add-place")
	a.setField("#place-name", "Trường THCS Châu Khê")
	a.click("#place-save")
	a.waitText("#checkin-unit", "Trường THCS Châu Khê")
	a.click("#checkin-save")
	a.waitText("#checkin-done", "Đã điểm danh tại Trường THCS Châu Khê")
	a.syncAndWait()
	a.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	var dupID string
	if err := db.QueryRow("SELECT id FROM units WHERE name = 'Trường THCS Châu Khê' AND status = 'proposed'").Scan(&dupID); err != nil {
		t.Fatalf("the duplicate on the server: %v", err)
	}
	hq.go_("#/console/management/units")
	hq.go_("#/console/management/places")
	hq.waitJS("duplicate listed", `!!document.querySelector('#places-table tr[data-place="Trường THCS Châu Khê"]')`)
	hq.click(`#places-table tr[data-place="Trường THCS Châu Khê"] .link-btn`)
	hq.waitJS("the nearest confirmed unit offered first", `document.querySelector('#place-kept').value === `+jsq(placeID))
	hq.screenshot("places-13-console-merge-1366")
	hq.click("#place-merge")
	hq.waitText("#place-outcome", "Đã gộp «Trường THCS Châu Khê» vào «UBND xã Châu Khê».")
	if n := count(t, db, "SELECT count(*) FROM units WHERE id = ? AND status = 'merged' AND replaced_by_id = ?", dupID, placeID); n != 1 {
		t.Fatalf("the duplicate is not merged into the commune on the server")
	}

	a.syncAndWait()
	a.go_("#/checkin")
	a.waitJS("the check-in at the duplicate shown under the kept unit",
		`[...document.querySelectorAll('#checkin-list .checkin-unit-name')].some((e) => e.textContent === 'UBND xã Châu Khê (Trường THCS Châu Khê)')`)
	a.waitJS("the duplicate no longer offered", `!!document.querySelector('.unit-picker .choice')
		&& !document.querySelector('.choice[data-unit="Trường THCS Châu Khê"]')
		&& document.querySelector('.unit-picker .choice').dataset.unit === 'UBND xã Châu Khê'`)
	eval[bool](a, `(document.querySelector('#checkin-list').scrollIntoView({ block: 'start' }), true)`)
	a.screenshot("places-05-checkin-at-merged-place-390")
}
