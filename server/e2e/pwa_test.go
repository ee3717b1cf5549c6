package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dicoso/sync/plan"
	"dicoso/sync/plan/plantest"
)

// login opens the app, logs in and waits for the first full sync.
func (b *browser) login(username string) {
	b.t.Helper()
	b.navigate(b.base + "/")
	b.waitJS("the app's login form", `!!document.querySelector('#login-submit')`)
	b.typeInto("input[name=username]", username)
	b.typeInto("input[name=password]", username+"-password")
	b.click("#login-submit")
	b.ready()
	b.waitJS("service worker controls the page", `document.documentElement.dataset.offlineReady === '1'`)
	b.syncAndWait()
}

// syncAndWait taps "Đồng bộ ngay" and waits for a successful run.
func (b *browser) syncAndWait() {
	b.t.Helper()
	b.syncAllowingProblems()
	if p := eval[string](b, `document.querySelector('#sync-problem')?.textContent ?? ''`); p != "" {
		b.fail("sync reported a problem: %s", p)
	}
}

// syncAllowingProblems taps "Đồng bộ ngay" and waits for a run that got
// through the pull, whatever it reported on the way (a refused upload).
func (b *browser) syncAllowingProblems() {
	b.t.Helper()
	b.go_("#/sync")
	b.waitJS("sync screen", `!!document.querySelector('#sync-now')`)
	b.waitJSFor("sync idle", `!document.querySelector('#sync-now').disabled`, syncWait)
	before := eval[string](b, `document.querySelector('#last-sync').dataset.at`)
	b.click("#sync-now")
	b.waitJSFor("sync finished", fmt.Sprintf(`(() => { const at = document.querySelector('#last-sync').dataset.at;
		return at !== '' && at !== %s && !document.querySelector('#sync-now').disabled; })()`, jsq(before)), syncWait)
}

func (b *browser) pending() string {
	return eval[string](b, `document.querySelector('#pending-count')?.textContent ?? ''`)
}

func count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// pushEncodings counts the PWA's pushes as they reach the server: gzipped,
// or plain with a body of 1 KB or more (which should have been gzipped).
type pushEncodings struct {
	mu        sync.Mutex
	gzip, big int
}

func (p *pushEncodings) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/sync/push" {
			p.mu.Lock()
			if r.Header.Get("Content-Encoding") == "gzip" {
				p.gzip++
			} else if r.ContentLength >= 1024 {
				p.big++
			}
			p.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (p *pushEncodings) counts() (gzip, bigPlain int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gzip, p.big
}

func TestFieldWorkOfflineThenSync(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	pushes := &pushEncodings{}
	srv := startServerWrapped(t, pushes.wrap)
	db := srv.store.Reader()
	secID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	revID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")

	var unitID string
	var ulat, ulng float64
	if err := db.QueryRow("SELECT id, lat, lng FROM units WHERE name = 'Bắc Ninh'").Scan(&unitID, &ulat, &ulng); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}

	a := newBrowser(t, exe, "secretary", srv.url)
	a.login("bithu.an")
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 0/60")
	a.screenshot("01-home")

	// No network from here on: the app must open from the service worker
	// and keep everything on the device.
	a.offline(true)
	a.reload()
	a.ready()
	a.waitJS("offline banner", `!!document.querySelector('#offline-banner')`)

	// A trip of two days, both ticked with what was done.
	// Yesterday and today in Vietnam: the check-in below counts today on
	// this trip, and no day may be ahead of the plan's calendar.
	now := plantest.TodayForAWhile(2 * time.Minute)
	d1, d2 := plan.Today(now.Add(-24*time.Hour)), plan.Today(now)
	a.go_("#/trip/new")
	a.typeInto("#trip-title", "Làm việc với Tỉnh đoàn Bắc Ninh")
	a.click(`button[data-purpose="working_session"]`)
	a.setField("#trip-start", d1)
	a.setField("#trip-end", d2)
	a.typeInto(".unit-picker input[type=search]", "Bắc Ninh")
	a.click(`button[data-unit="Bắc Ninh"]`)
	a.click("#trip-save")
	a.waitJS("trip days", fmt.Sprintf(`!!document.querySelector('li[data-day=%q] input[type=checkbox]')`, d2))
	for _, d := range []string{d1, d2} {
		a.click(fmt.Sprintf(`li[data-day=%q] input[type=checkbox]`, d))
		a.waitJS("day ticked", fmt.Sprintf(`!!document.querySelector('li[data-day=%q] .day-activity')`, d))
		a.typeInto(fmt.Sprintf(`li[data-day=%q] .day-activity`, d), "Dự sinh hoạt chi đoàn ngày "+d)
	}
	a.click("#trip-title") // blur the last activity: it saves on blur
	a.waitJS("both days saved", `document.querySelectorAll('#trip-days [data-sync="local"]').length === 2`)
	eval[bool](a, `(document.querySelector('#trip-days').scrollIntoView({ block: 'end' }), true)`)
	a.screenshot("02-trip")

	// A check-in near the unit, with a photo compressed on the device.
	a.geolocation(ulat+0.003, ulng+0.002, 18)
	a.go_("#/checkin")
	a.click("#tab-checkin")
	a.waitText("#fix", "± 18 m")
	a.waitJS("nearest unit first", `document.querySelector('.choice-list button')?.dataset.unit === 'Bắc Ninh'`)
	a.click(`button[data-unit="Bắc Ninh"]`)
	// The photo is taken with a large button in the user's language: a
	// label around a file input that is out of sight (so no browser
	// "Choose File") but still named and reachable for assistive technology.
	a.waitText("#photo-btn", "Chụp ảnh")
	if name := a.accessibleName("#photo-input"); name != "Chụp ảnh" {
		a.fail("the photo input is announced as %q, want %q", name, "Chụp ảnh")
	}
	if !eval[bool](a, `(() => { const i = document.querySelector('#photo-input');
		const r = i.getBoundingClientRect(), btn = document.querySelector('#photo-btn').getBoundingClientRect();
		return i.closest('label')?.id === 'photo-btn' && i.type === 'file' && i.accept === 'image/*' &&
			i.getAttribute('capture') === 'environment' && r.width <= 1 && r.height <= 1 &&
			btn.height >= 48 && btn.width >= 300; })()`) {
		a.fail("the photo button is not a large label around a hidden camera input")
	}
	eval[bool](a, `(document.querySelector('#photo-btn').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("03a-checkin-photo-button")
	a.do(chromedp.SetUploadFiles(chromedp.CSS("#photo-input"), []string{writePhoto(t)}))
	a.waitJS("photo compressed", `!!document.querySelector('#photo-size')`)
	a.waitText("#photo-name", "field-photo.jpg")
	a.waitJS("thumbnail shown", `(() => { const img = document.querySelector('#photo-preview img');
		return img.complete && img.naturalWidth === 1600 && img.getBoundingClientRect().width > 0; })()`)
	a.waitText("#photo-btn", "Chụp lại")
	eval[bool](a, `(document.querySelector('#photo-btn').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("03b-checkin-photo-chosen")
	a.typeInto("#checkin-note", "Gặp Ban Thường vụ Tỉnh đoàn")
	a.click("#checkin-save")
	a.waitJS("check-in listed", `document.querySelectorAll('#checkin-list li').length === 1`)
	a.screenshot("03-checkin")

	// A visit note with a finding, saved as a draft while typing, then submitted.
	a.go_("#/note/new")
	a.typeInto("#note-title-new", "Ghi chép làm việc tại Bắc Ninh")
	a.click(`button[data-purpose="working_session"]`)
	a.typeInto(".unit-picker input[type=search]", "Bắc Ninh")
	a.click(`button[data-unit="Bắc Ninh"]`)
	a.click("#note-create")
	a.waitJS("note editor", `!!document.querySelector('#note-results')`)
	a.typeInto("#note-results", "Tổ chức tốt Tháng Thanh niên; 12 công trình thanh niên.")
	a.waitText("#save-state", "Đã lưu trên máy")
	a.typeInto("#finding-text", "Thiếu kinh phí cho đội hình tình nguyện.")
	a.click("#finding-add")
	a.waitJS("finding listed", `document.querySelectorAll('#finding-list li').length === 1`)
	a.click("#note-submit")
	a.waitText("#note-status", "Chờ gửi") // handed in, not yet sent: offline
	a.screenshot("04-note")

	// Reload with no network: everything is still there, only on this device.
	a.reload()
	a.ready()
	a.go_("#/trips")
	a.waitJS("trip after reload", `!!document.querySelector('[data-trip="Làm việc với Tỉnh đoàn Bắc Ninh"] [data-sync="local"]')`)
	a.go_("#/checkin")
	a.waitJS("check-in after reload", `document.querySelectorAll('#checkin-list [data-sync="local"]').length === 1`)
	a.go_("#/notes")
	a.waitJS("note after reload", `!!document.querySelector('[data-note="Ghi chép làm việc tại Bắc Ninh"] [data-sync="local"]')`)
	a.go_("#/sync")
	a.waitJS("pending listed", `document.querySelectorAll('#record-list [data-sync="local"]').length === 6`)
	a.screenshot("05-sync-offline")
	if n := count(t, db, "SELECT count(*) FROM trips"); n != 0 {
		t.Fatalf("server has %d trips while the phone was offline", n)
	}

	// Network back: one sync sends everything, photo first.
	a.offline(false)
	a.syncAndWait()
	a.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	a.waitJS("all records synced", `document.querySelectorAll('#record-list [data-sync]').length === 6 &&
		document.querySelectorAll('#record-list [data-sync="sent"]').length === 6`)
	a.screenshot("06-sync-done")
	// A month offline is paid for over a weak signal: the pushes went
	// gzipped (CompressionStream), none of 1 KB or more went plain.
	if gz, plain := pushes.counts(); gz == 0 || plain != 0 {
		t.Errorf("pushes: %d gzipped, %d of 1 KB or more plain; want them gzipped", gz, plain)
	}

	// The server holds exactly those rows, owned by the secretary.
	checks := []struct {
		q    string
		want int
	}{
		{"SELECT count(*) FROM trips WHERE user_id = ? AND purpose = 'working_session' AND deleted = 0", 1},
		{"SELECT count(*) FROM trip_days WHERE user_id = ? AND deleted = 0 AND activity LIKE 'Dự sinh hoạt chi đoàn%'", 2},
		{"SELECT count(*) FROM checkins WHERE user_id = ? AND photo != '' AND accuracy_m = 18", 1},
		{"SELECT count(*) FROM visit_notes WHERE author_id = ? AND status = 'submitted' AND results LIKE 'Tổ chức tốt%'", 1},
		{"SELECT count(*) FROM findings WHERE author_id = ? AND category = 'shortcoming'", 1},
	}
	for _, c := range checks {
		if n := count(t, db, c.q, secID); n != c.want {
			t.Errorf("%s: got %d, want %d", c.q, n, c.want)
		}
	}
	// And nothing else: field tables hold only what this phone made.
	for tbl, want := range map[string]int{"trips": 1, "trip_days": 2, "checkins": 1, "visit_notes": 1, "findings": 1} {
		if n := count(t, db, "SELECT count(*) FROM "+tbl); n != want {
			t.Errorf("server has %d %s rows, want %d", n, tbl, want)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM checkins c JOIN attachments a ON a.sha256 = c.photo WHERE a.size < 600000"); n != 1 {
		t.Errorf("the check-in's photo is not on the server (compressed): %d", n)
	}
	var noteID string
	if err := db.QueryRow("SELECT id FROM visit_notes").Scan(&noteID); err != nil {
		t.Fatal(err)
	}
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 2/60")
	a.waitText("#tally-verified", "1")
	a.screenshot("07-home-tally")
	// The phone counts by the server's rules: its card says what the
	// field-day report says for this secretary today.
	a.assertTallyMatchesReport(srv, "bithu.an")
	a.viewport(1366, 900, false)
	a.go_("#/home")
	a.waitText("#tally-days", "Số ngày đi cơ sở: 2/60")
	a.screenshot("07b-home-tally-desktop")
	a.viewport(390, 844, true)

	// Two people, two fields of one note: the secretary amends the
	// conclusions offline while the reviewer asks for a revision.
	a.offline(true)
	a.go_("#/note/" + noteID)
	a.typeInto("#note-conclusions", "Đề nghị Tỉnh đoàn bố trí kinh phí.")
	a.waitText("#save-state", "Đã lưu trên máy")

	r := newBrowser(t, exe, "reviewer", srv.url)
	r.login("bankiemtra.binh")
	r.go_("#/note/" + noteID)
	r.waitJS("review panel", `!!document.querySelector('#review-input')`)
	// Sending a note back says why: an empty comment is not sent.
	r.click("#review-revise")
	r.waitJS("a reason is asked for", `!!document.querySelector('#review-comment-missing')`)
	r.waitText("#note-status", "Đã gửi")
	r.typeInto("#review-input", "Bổ sung số liệu đoàn viên.")
	r.click("#review-revise")
	r.waitText("#note-status", "Cần chỉnh sửa")
	r.waitJS("the comment box is empty for the next decision", `document.querySelector('#review-input').value === ''`)
	r.syncAndWait()

	a.offline(false)
	a.syncAndWait()
	a.go_("#/note/" + noteID)
	a.waitText("#note-status", "Cần chỉnh sửa")
	a.waitText("#review-comment", "Bổ sung số liệu đoàn viên.")
	a.waitJS("own amendment kept", `document.querySelector('#note-conclusions').value === 'Đề nghị Tỉnh đoàn bố trí kinh phí.'`)
	// The author sees the review round: who, when, what and why.
	a.waitJS("the round reached the author", `(document.querySelector('#review-rounds')?.textContent ?? '').includes('Yêu cầu chỉnh sửa: Bổ sung số liệu đoàn viên.')`)
	a.screenshot("08-note-needs-revision")

	r.syncAndWait()
	r.go_("#/note/" + noteID)
	r.waitJS("author's amendment arrived", `document.querySelector('#note-conclusions').value === 'Đề nghị Tỉnh đoàn bố trí kinh phí.'`)
	r.waitText("#note-status", "Cần chỉnh sửa")
	var status, comment, conclusions, reviewedBy string
	if err := db.QueryRow("SELECT status, review_comment, conclusions, reviewed_by FROM visit_notes WHERE id = ?", noteID).
		Scan(&status, &comment, &conclusions, &reviewedBy); err != nil {
		t.Fatal(err)
	}
	if status != "needs_revision" || comment != "Bổ sung số liệu đoàn viên." || conclusions != "Đề nghị Tỉnh đoàn bố trí kinh phí." || reviewedBy != revID {
		t.Errorf("merged note on the server: status=%q comment=%q conclusions=%q reviewed_by=%q", status, comment, conclusions, reviewedBy)
	}

	// Two people, one field: offline, the secretary amends and resubmits
	// (status submitted) while the reviewer approves (status reviewed). The
	// later decision wins, and the pair is listed for headquarters to
	// review (docs/protocol.md), because the phone's push says what it had seen.
	a.offline(true)
	a.go_("#/note/" + noteID)
	a.typeInto("#note-conclusions", " Đã bổ sung số liệu.")
	a.waitText("#save-state", "Đã lưu trên máy")
	a.click("#note-submit")
	a.waitHandedIn()
	r.click("#review-approve")
	r.waitText("#note-status", "Đã duyệt")
	r.syncAndWait()
	a.offline(false)
	a.syncAndWait()
	a.go_("#/note/" + noteID)
	a.waitText("#note-status", "Đã duyệt")
	// Both rounds are kept, in order, for the author as for the reviewer.
	a.waitJS("both rounds kept", `document.querySelectorAll('#review-rounds li').length === 2 &&
		document.querySelector('#review-rounds li:last-child').textContent.includes('Đã duyệt')`)
	var rounds int
	if err := db.QueryRow("SELECT COUNT(*) FROM reviews WHERE note_id = ? AND reviewer_id = ?", noteID, revID).Scan(&rounds); err != nil || rounds != 2 {
		t.Errorf("review rounds on the server: %d (%v), want 2", rounds, err)
	}
	var conflicts struct {
		Items []struct {
			Table       string  `json:"table"`
			RowID       string  `json:"row_id"`
			Field       string  `json:"field"`
			WinnerValue *string `json:"winner_value"`
			LoserValue  *string `json:"loser_value"`
		} `json:"items"`
	}
	if code := srv.send(t, http.MethodGet, "/api/v1/conflicts?table=visit_notes&row_id="+noteID, srv.adminToken(t), nil, &conflicts); code != http.StatusOK {
		t.Fatalf("list conflicts: %d", code)
	}
	var statusPair bool
	for _, c := range conflicts.Items {
		if c.Field == "status" && c.WinnerValue != nil && strings.Contains(*c.WinnerValue, "reviewed") &&
			c.LoserValue != nil && strings.Contains(*c.LoserValue, "submitted") {
			statusPair = true
		}
		if c.Field == "conclusions" || c.Field == "review_comment" {
			t.Errorf("edits of different fields listed as a conflict: %+v", c)
		}
	}
	if !statusPair {
		t.Errorf("the concurrent status edits are not listed as a conflict: %+v", conflicts.Items)
	}

	// A change the server refuses is shown with its reason, and can be
	// discarded on purpose: here a trip title over the 300-character limit.
	var tripID string
	if err := db.QueryRow("SELECT id FROM trips").Scan(&tripID); err != nil {
		t.Fatal(err)
	}
	a.go_("#/trip/" + tripID)
	a.waitJS("trip form", `document.querySelector('#trip-title')?.value === 'Làm việc với Tỉnh đoàn Bắc Ninh'`)
	a.setField("#trip-title", strings.Repeat("Rất dài ", 45))
	a.click("#trip-save")
	a.syncAndWait()
	a.waitJS("rejected listed", `!!document.querySelector('#rejected-list [data-rejected="validation_failed"]')`)
	// Explained in Vietnamese from the code and the field the server named,
	// by the label the trip form gives it; the server's own sentence stays
	// below as a detail.
	a.waitJS("refusal names the field", `document.querySelector('#rejected-list .reason')?.dataset.field === 'title'`)
	if got, want := eval[string](a, `document.querySelector('#rejected-list .reason').textContent`),
		"Bị từ chối: «Tên chuyến đi» không hợp lệ"; got != want {
		a.fail("refusal explained as %q, want %q", got, want)
	}
	a.waitText("#rejected-list .reason-detail", "title is longer than 300 characters (validation_failed)")
	a.waitText("#rejected-list", "Chuyến đi · Tên chuyến đi")
	a.waitJS("trip marked refused", `!!document.querySelector('#record-list [data-sync="refused"]')`)
	eval[bool](a, `(document.querySelector('#rejected-list').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("09-sync-rejected")
	// In English, the English explanation.
	a.click("#lang-switch")
	a.waitText("#tab-home", "Overview")
	if got, want := eval[string](a, `document.querySelector('#rejected-list .reason').textContent`),
		"Rejected: “Trip title” is not valid"; got != want {
		a.fail("refusal explained in English as %q, want %q", got, want)
	}
	eval[bool](a, `(document.querySelector('#rejected-list').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("10-sync-english")
	a.click("#lang-switch")
	a.waitText("#tab-home", "Tổng quan")
	a.click(`#rejected-list [data-action="discard"]`)
	a.click(`#rejected-list [data-action="discard-confirm"]`)
	a.waitText("#rejected-list", "")
	a.waitJS("rejected list empty", `document.querySelectorAll('#rejected-list li').length === 0`)
	a.go_("#/trips")
	a.waitJS("title restored", `!!document.querySelector('[data-trip="Làm việc với Tỉnh đoàn Bắc Ninh"] [data-sync="sent"]')`)
	var title string
	if err := db.QueryRow("SELECT title FROM trips WHERE id = ?", tripID).Scan(&title); err != nil || title != "Làm việc với Tỉnh đoàn Bắc Ninh" {
		t.Errorf("server trip title %q, %v", title, err)
	}
}

// Two people share one phone: the first logs out with unsynced work (warned,
// and the work is kept), the second never sees nor sends it, and the first
// finds it again at the next login and sends it then.
func TestSharedPhoneKeepsEachUsersDataApart(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	anID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	srv.createUser(t, "bithu.cuong", "Lê Văn Cường", "secretary")

	p := newBrowser(t, exe, "shared-phone", srv.url)
	p.navigate(srv.url + "/")
	p.waitJS("login form", `!!document.querySelector('input[name=username]')`)
	p.screenshot("00-login")
	p.login("bithu.an")
	p.offline(true)
	p.go_("#/trip/new")
	p.typeInto("#trip-title", "Chuyến của An")
	p.typeInto(".unit-picker input[type=search]", "Hà Nam")
	p.click(`button[data-unit="Hà Nam"]`)
	p.click("#trip-save")
	p.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)

	p.go_("#/sync")
	p.click("#logout")
	p.waitText("#logout-warning", "Còn 1 thay đổi chưa đồng bộ")
	p.screenshot("11-logout-warning")
	p.click("#logout-anyway")
	p.waitJS("login form", `!!document.querySelector('input[name=username]')`)

	p.offline(false)
	p.login("bithu.cuong")
	p.go_("#/trips")
	p.waitJS("trip list", `!!document.querySelector('#new-trip')`)
	if n := eval[int](p, `document.querySelectorAll('#trip-list li').length`); n != 0 {
		t.Fatalf("the second user sees %d trips of the first", n)
	}
	if n := count(t, db, "SELECT count(*) FROM trips"); n != 0 {
		t.Fatalf("the second user's sync sent %d trips of the first", n)
	}
	p.go_("#/sync")
	p.click("#logout")
	p.waitJS("login form", `!!document.querySelector('input[name=username]')`)

	p.login("bithu.an")
	p.go_("#/trips")
	p.waitJS("own trip back and sent", `!!document.querySelector('[data-trip="Chuyến của An"] [data-sync="sent"]')`)
	if n := count(t, db, "SELECT count(*) FROM trips WHERE user_id = ? AND title = 'Chuyến của An'", anID); n != 1 {
		t.Fatalf("server has %d of An's trips after An's sync", n)
	}
}

// An inspector sees their team's campaign: the window, the units to
// inspect, and which already have a submitted note; a note started from a
// unit there is tied to the campaign.
func TestInspectorSeesTheTeamCampaign(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	var campaignID, unitsJSON string
	if err := db.QueryRow("SELECT id, unit_ids FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&campaignID, &unitsJSON); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	var units []string
	if err := json.Unmarshal([]byte(unitsJSON), &units); err != nil || len(units) < 3 {
		t.Fatalf("campaign units %s: %v", unitsJSON, err)
	}
	if code := srv.post(t, "/api/v1/teams", srv.adminToken(t), map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1", "leader_id": insID,
		"member_ids": []string{insID}, "unit_ids": units[:3],
	}, nil); code >= 300 {
		t.Fatalf("create team: %d", code)
	}

	b := newBrowser(t, exe, "inspector", srv.url)
	b.login("kiemtra.dung")
	b.assertInstallable()
	b.go_("#/home")
	b.click(`.btn-secondary[data-teams]`)
	b.waitJS("team listed", `document.querySelectorAll('[data-team="Đoàn kiểm tra số 1"] [data-unit-row]').length === 3`)
	b.waitText(`[data-team="Đoàn kiểm tra số 1"]`, "01/06/2021 – 15/06/2021")
	if n := eval[int](b, `document.querySelectorAll('[data-unit-row] [data-note-state]:not([data-note-state="none"])').length`); n != 0 {
		t.Fatalf("%d units show a note before any was written", n)
	}
	first := eval[string](b, `document.querySelector('[data-unit-row]').dataset.unitRow`)
	b.click(`[data-unit-row] button`)
	b.waitJS("note form prefilled", fmt.Sprintf(`!!document.querySelector('button.choice.on[data-unit=%s]') &&
		!!document.querySelector('button.choice.on[data-purpose="inspection"]')`, jsq(first)))
	b.typeInto("#note-title-new", "Kiểm tra định kỳ Đợt 1 tại "+first)
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-results')`)
	b.typeInto("#note-results", "Hoàn thành 8/10 chỉ tiêu.")
	b.click("#note-submit")
	// Handed in: waiting to be sent until the sync takes it, then sent.
	b.waitHandedIn()
	b.go_("#/campaign")
	b.waitJS("unit has a note", fmt.Sprintf(`['pending', 'submitted'].includes(document.querySelector('[data-unit-row=%s] [data-note-state]')?.dataset.noteState)`, jsq(first)))
	b.screenshot("12-campaign")
	b.syncAndWait()
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE author_id = ? AND campaign_id = ? AND kind = 'inspection' AND status = 'submitted'", insID, campaignID); n != 1 {
		t.Fatalf("server has %d submitted campaign notes by the inspector", n)
	}
}

// When the server no longer knows the refresh token (revoked, expired), the
// app says so, keeps working and keeps the unsynced work; logging in again
// from the prompt sends it.
func TestLostSessionAsksToLogInAgainAndKeepsWork(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	anID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	b := newBrowser(t, exe, "relogin", srv.url)
	b.login("bithu.an")

	// The session ends on the server (as after an admin's revocation), and
	// the access token on the phone is past its time.
	refresh := eval[string](b, `JSON.parse(localStorage.getItem('dicoso.session')).refresh`)
	if code := srv.post(t, "/api/v1/auth/logout", "", map[string]string{"refresh_token": refresh}, nil); code != 204 && code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	eval[bool](b, `(() => { const s = JSON.parse(localStorage.getItem('dicoso.session'));
		s.accessExpiresAt = 0; localStorage.setItem('dicoso.session', JSON.stringify(s)); return true; })()`)
	b.reload()
	b.ready()

	b.go_("#/trip/new")
	b.typeInto("#trip-title", "Chuyến sau khi hết phiên")
	b.typeInto(".unit-picker input[type=search]", "Hà Nam")
	b.click(`button[data-unit="Hà Nam"]`)
	b.click("#trip-save")
	b.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	b.go_("#/sync")
	b.click("#sync-now")
	b.waitJS("asked to log in again", `!!document.querySelector('#relogin-btn')`)
	b.waitText("#pending-count", "Thay đổi chờ gửi: 1")
	b.screenshot("14-session-ended")
	if n := count(t, db, "SELECT count(*) FROM trips"); n != 0 {
		t.Fatalf("a trip reached the server without a session: %d", n)
	}

	b.click("#relogin-btn")
	b.waitJS("login prompt", `!!document.querySelector('.modal input[name=password]')`)
	b.typeInto(".modal input[name=password]", "bithu.an-password")
	b.click(".modal #login-submit")
	b.waitJS("prompt closed", `!document.querySelector('.modal') && !document.querySelector('#relogin-btn')`)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	if n := count(t, db, "SELECT count(*) FROM trips WHERE user_id = ? AND title = 'Chuyến sau khi hết phiên'", anID); n != 1 {
		t.Fatalf("the kept trip did not reach the server after logging in again: %d", n)
	}
}
