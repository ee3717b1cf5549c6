package e2e

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// consoleSync taps the console's "Đồng bộ ngay" and waits for a finished run.
func (b *browser) consoleSync() {
	b.t.Helper()
	b.waitJSFor("console sync idle", `!!document.querySelector('#console-sync-now') && !document.querySelector('#console-sync-now').disabled`, syncWait)
	before := eval[string](b, `document.querySelector('#console-sync').dataset.at`)
	b.click("#console-sync-now")
	b.waitJSFor("console sync finished", fmt.Sprintf(`(() => { const s = document.querySelector('#console-sync');
		return s.dataset.at !== '' && s.dataset.at !== %s && s.dataset.running !== '1'; })()`, jsq(before)), syncWait)
}

// consoleFiles lists the console's chunks this page fetched or the service
// worker cached.
func (b *browser) consoleFiles() []string {
	b.t.Helper()
	return eval[[]string](b, `(async () => {
		const urls = performance.getEntriesByType('resource').map((e) => e.name);
		for (const k of await caches.keys()) {
			for (const r of await (await caches.open(k)).keys()) urls.push(r.url);
		}
		return urls.filter((u) => u.includes('/assets/console-'));
	})()`)
}

// media emulates a CSS media type ("print"), or the screen again with "".
func (b *browser) media(m string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return err
	}))
}

// docxText is word/document.xml of a .docx file.
func docxText(t *testing.T, path string) string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != "word/document.xml" {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("%s has no word/document.xml", path)
	return ""
}

// The review round trip in the headquarters console (issue 8): an
// inspector submits a campaign note on a phone; the Inspection Committee,
// at a desktop, finds it in the review queue (searching without
// diacritics), sends it back with a required comment, written through the
// device's outbox and shown as waiting until the server has it; the phone
// shows the decision and its comment; the author resubmits; the reviewer,
// with an empty comment box and the earlier round listed, marks it
// reviewed; the row history shows who did what; the campaign report's
// print view and its Word file carry the unit's conclusions. The field
// phone never downloads the console.
func TestConsoleReviewQueueRoundTrip(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")

	var campaignID, unitID string
	if err := db.QueryRow("SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if err := db.QueryRow("SELECT id FROM units WHERE name = 'Bắc Ninh'").Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	if code := srv.post(t, "/api/v1/teams", srv.adminToken(t), map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 2", "leader_id": insID,
		"member_ids": []string{insID}, "unit_ids": []string{unitID},
	}, nil); code >= 300 {
		t.Fatalf("create team: %d", code)
	}

	// The inspector writes and submits the note on a phone.
	const (
		title       = "Kiểm tra định kỳ Đợt 1 tại Tỉnh đoàn Bắc Ninh"
		results     = "Hoàn thành 9/10 chỉ tiêu công tác đoàn năm 2021."
		conclusion1 = "Tỉnh đoàn Bắc Ninh thực hiện tốt chương trình công tác."
		conclusion2 = "Đề nghị Tỉnh đoàn Bắc Ninh nhân rộng mô hình Thanh niên khởi nghiệp."
		finding     = "Thiếu kinh phí cho Chiến dịch Thanh niên tình nguyện hè."
		comment     = "Bổ sung số liệu đoàn viên mới kết nạp trong phần kết luận."
	)
	a := newBrowser(t, exe, "inspector", srv.url)
	a.login("kiemtra.dung")
	a.go_(fmt.Sprintf("#/note/new?unit=%s&campaign=%s", unitID, campaignID))
	a.waitJS("note form prefilled", `!!document.querySelector('button.choice.on[data-unit="Bắc Ninh"]') &&
		!!document.querySelector('button.choice.on[data-purpose="inspection"]')`)
	a.typeInto("#note-title-new", title)
	a.click("#note-create")
	a.waitJS("note editor", `!!document.querySelector('#note-results')`)
	noteID := strings.TrimPrefix(eval[string](a, `location.hash`), "#/note/")
	a.typeInto("#note-results", results)
	a.typeInto("#note-conclusions", conclusion1)
	a.click("#note-title") // blur: the section saves
	a.waitText("#save-state", "Đã lưu trên máy")
	a.typeInto("#finding-text", finding)
	a.click("#finding-add")
	a.waitJS("finding listed", `document.querySelectorAll('#finding-list li').length === 1`)
	a.click("#note-submit")
	a.waitHandedIn()
	a.syncAndWait()
	if eval[bool](a, `!!document.querySelector('#open-console')`) {
		a.fail("an inspector is offered the headquarters console")
	}
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'submitted' AND campaign_id = ?", noteID, campaignID); n != 1 {
		t.Fatalf("the submitted note is not on the server: %d", n)
	}

	// The reviewer, at a desktop, lands on the review queue.
	r := newBrowser(t, exe, "reviewer", srv.url)
	r.login("bankiemtra.binh")
	r.viewport(1366, 900, false)
	r.go_("#/console")
	r.waitJS("queue", `location.hash.startsWith('#/console/queue') && !!document.querySelector('#queue-list')`)
	row := fmt.Sprintf(`#queue-list [data-note=%q]`, noteID)
	r.waitJS("note queued", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(row)))
	r.waitText("#queue-total", "1 ghi chép")
	r.waitText(row, "Phạm Văn Dũng")
	r.waitText(row, "Đoàn kiểm tra số 2")
	r.screenshot("console-01-queue")

	// Search ignores case and diacritics; a miss says what to do.
	r.typeInto("#f-q", "xyz khong co")
	r.waitJS("no match", `document.querySelectorAll('#queue-list [data-note]').length === 0 && !!document.querySelector('.c-empty')`)
	r.setField("#f-q", "")
	r.typeInto("#f-q", "thanh nien tinh nguyen")
	r.waitJS("found by its finding, without diacritics", fmt.Sprintf(`!!document.querySelector(%s) && location.hash.includes('q=thanh+nien+tinh+nguyen')`, jsq(row)))

	// The note, beside the list.
	r.click(row)
	r.waitJS("note open", fmt.Sprintf(`document.querySelector('#note-view')?.dataset.note === %s`, jsq(noteID)))
	r.waitText("#note-unit", "Bắc Ninh")
	r.waitText("#note-campaign", "Kiểm tra định kỳ Đợt 1 năm 2021")
	r.waitText("#note-author", "Phạm Văn Dũng")
	r.waitText("#note-team", "Đoàn kiểm tra số 2")
	r.waitText(`[data-section="results"]`, results)
	r.waitText(`[data-section="conclusions"]`, conclusion1)
	r.waitText("#note-findings", finding)
	r.waitText("#note-rounds", "Gửi duyệt")
	if v := eval[string](r, `document.querySelector('#decision-comment').value`); v != "" {
		r.fail("the comment box opens with %q", v)
	}
	r.screenshot("console-02-note")

	// Sending back needs a comment: without one nothing is written.
	r.click("#decide-revise")
	r.waitText("#decision-error", "Hãy ghi ý kiến")
	if eval[bool](r, `!!document.querySelector('#console-pending')`) {
		r.fail("a decision without a comment was queued")
	}

	// Offline, the decision waits in the outbox and says so.
	r.offline(true)
	r.typeInto("#decision-comment", comment)
	r.click("#decide-revise")
	r.waitJS("decision pending", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(row+` [data-decision="pending"]`)))
	r.waitText("#console-pending", "thay đổi chờ gửi") // the note and its review round
	r.waitText("#note-pane", "Mọi ghi chép trong danh sách này đã có quyết định.")
	r.screenshot("console-03-decision-pending")
	r.click(row)
	r.waitText(`#note-rounds [data-round="needs_revision"][data-pending="1"]`, comment)
	r.waitText("#decision-done", "Cần chỉnh sửa")
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'submitted'", noteID); n != 1 {
		t.Fatalf("the note changed on the server while the reviewer was offline")
	}
	r.offline(false)
	r.consoleSync()
	r.waitJS("decision sent", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(row+` [data-decision="sent"]`)))
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'needs_revision' AND review_comment = ?", noteID, comment); n != 1 {
		t.Fatalf("the server does not hold the decision with its comment")
	}

	// The phone shows the decision and the comment; the author resubmits.
	a.syncAndWait()
	a.go_("#/note/" + noteID)
	a.waitText("#note-status", "Cần chỉnh sửa")
	a.waitText("#review-comment", comment)
	a.screenshot("console-04-phone-sent-back")
	a.typeInto("#note-conclusions", " "+conclusion2)
	a.click("#note-title")
	a.waitText("#save-state", "Đã lưu trên máy")
	a.click("#note-submit")
	a.waitHandedIn()
	a.syncAndWait()

	// Back in the queue as a new round: the comment box is empty again and
	// the earlier round is listed with its comment.
	r.click("#queue-refresh")
	r.waitJS("resubmitted note back in the queue", fmt.Sprintf(`!!document.querySelector(%s) && !document.querySelector(%s)`,
		jsq(row+` [data-status="submitted"]`), jsq(row+` [data-decision]`)))
	r.click(row)
	r.waitText(`[data-section="conclusions"]`, conclusion2)
	r.waitJS("rounds", `document.querySelectorAll('#note-rounds [data-round]').length === 3`)
	r.waitText(`#note-rounds [data-round="needs_revision"]`, comment)
	r.waitText(`#note-rounds [data-round="needs_revision"]`, "Trần Thị Bình")
	if v := eval[string](r, `document.querySelector('#decision-comment').value`); v != "" {
		r.fail("the comment box was pre-filled with %q", v)
	}
	r.click("#decide-approve")
	r.consoleSync()
	deadline := time.Now().Add(20 * time.Second)
	for count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'reviewed'", noteID) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the note was not marked reviewed on the server")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Coverage shows the unit reviewed.
	r.go_("#/console/coverage?campaign_id=" + campaignID)
	// (The visit is today, after the 2021 window: late, and reviewed.)
	r.waitJS("coverage: Bắc Ninh reviewed", `document.querySelector('.cov-campaign tr[data-unit="Bắc Ninh"]')?.dataset.noteStatus === 'reviewed'`)
	r.waitText(`.cov-campaign tr[data-unit="Bắc Ninh"]`, "Đã duyệt")
	r.screenshot("console-04b-coverage-reviewed")

	// The row history: who changed what, from which device.
	r.go_("#/console/history/visit_notes/" + noteID)
	r.waitJS("history rows", `document.querySelectorAll('#history-table tbody tr').length >= 4`)
	r.waitText("#history-table", "Trần Thị Bình")
	r.waitText("#history-table", "Phạm Văn Dũng")
	r.waitText("#history-table", comment)
	r.waitText("#history-table", "thiết bị này")
	r.screenshot("console-05-history")

	// The campaign's report: print view and Word file.
	r.go_("#/console/queue?status=all&campaign_id=" + campaignID)
	r.click("#open-report")
	r.waitJS("report page", `!!document.querySelector('#report-page')`)
	r.waitText("#report-page", "BÁO CÁO")
	r.waitText("#report-page", conclusion2)
	r.waitText("#report-page", "Chưa có ghi chép làm việc được duyệt.")
	if eval[bool](r, `!!document.querySelector('#console-nav')`) {
		r.fail("the print view shows the console's navigation")
	}
	r.screenshot("console-06-report")
	eval[bool](r, `([...document.querySelectorAll('#report-page .r-p')].find((p) => p.textContent.includes('Bắc Ninh') &&
		/^\d+\. /.test(p.textContent)).scrollIntoView({ block: 'start' }), true)`)
	r.screenshot("console-06b-report-unit")
	eval[bool](r, `(document.querySelector('#report-page table.r-borders').scrollIntoView({ block: 'center' }), true)`)
	r.screenshot("console-06c-report-findings")
	// Printed: the sheet alone, no toolbar, no app chrome.
	r.media("print")
	if !eval[bool](r, `getComputedStyle(document.querySelector('.r-toolbar')).display === 'none' &&
		getComputedStyle(document.querySelector('#report-page')).boxShadow === 'none'`) {
		r.fail("the print stylesheet leaves the toolbar or the sheet's shadow")
	}
	r.media("")
	dir := r.downloads()
	r.click("#report-docx")
	xml := docxText(t, r.waitDownload(dir, ".docx"))
	for _, want := range []string{"Bắc Ninh", conclusion1, conclusion2, "Nơi nhận"} {
		if !strings.Contains(xml, want) {
			t.Errorf("the downloaded report lacks %q", want)
		}
	}
	if strings.Contains(xml, comment) {
		t.Errorf("the report carries the reviewer's comment")
	}

	// The queue on a phone: the list, then the note with a way back.
	r.viewport(390, 844, true)
	r.go_("#/console/queue?status=all")
	r.waitJS("queue on a phone", fmt.Sprintf(`!!document.querySelector(%s) && getComputedStyle(document.querySelector('#note-pane')).display === 'none'`, jsq(row)))
	r.screenshot("console-07-queue-phone")
	r.click(row)
	r.waitJS("note on a phone", `!!document.querySelector('#note-view') && getComputedStyle(document.querySelector('.q-list-pane')).display === 'none'`)
	if w := eval[int](r, `document.documentElement.scrollWidth`); w > 390 {
		r.fail("the note pane is %d px wide on a 390 px phone", w)
	}
	r.screenshot("console-08-note-phone")

	// The console was downloaded (and cached) by the reviewer only.
	if f := r.consoleFiles(); len(f) == 0 {
		t.Errorf("the reviewer's browser never loaded the console chunk")
	}
	if f := a.consoleFiles(); len(f) != 0 {
		t.Errorf("the field phone downloaded the console: %v", f)
	}

}

// Where the console opens: a department lands on its findings and sees no
// review queue; the language switch and the way to the field app and back
// work from the console's navigation.
func TestConsoleLandingForADepartment(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	var deptID string
	if err := srv.store.Reader().QueryRow("SELECT id FROM departments WHERE name = 'Ban Thanh niên trường học Trung ương Đoàn'").Scan(&deptID); err != nil {
		t.Fatalf("seeded department: %v", err)
	}
	if code := srv.post(t, "/api/v1/users", srv.adminToken(t), map[string]any{
		"username": "ban.truonghoc", "password": "ban.truonghoc-password", "full_name": "Lê Thị Cúc",
		"roles": []string{"department"}, "department_id": deptID,
	}, nil); code >= 300 {
		t.Fatalf("create the department user: %d", code)
	}
	d := newBrowser(t, exe, "department", srv.url)
	d.login("ban.truonghoc")
	d.viewport(1366, 900, false)
	d.navigate(srv.url + "/")
	d.ready()
	d.waitJS("lands on findings", `location.hash === '#/console/findings' && !!document.querySelector('#nav-findings[aria-current="page"]')`)
	if eval[bool](d, `!!document.querySelector('#nav-queue')`) {
		d.fail("a department is offered the review queue")
	}
	d.go_("#/console/queue")
	d.waitText("#console-not-allowed", "không được xem")
	d.go_("#/console/findings")
	d.waitText("#console-user", "Lê Thị Cúc")
	d.screenshot("console-09-department")

	d.click("#console-lang")
	d.waitText("#nav-findings", "Findings")
	d.waitText("#console-logout", "Log out")
	d.click("#console-lang")
	d.waitText("#nav-findings", "Phát hiện & kiến nghị")

	d.click("#nav-field-app")
	d.waitJS("field app", `location.hash === '#/home' && !!document.querySelector('.tabbar') && !document.querySelector('#console-nav')`)
	d.click("#open-console")
	d.waitJS("back in the console", `location.hash.startsWith('#/console/findings') && !!document.querySelector('#console-nav')`)
}

// A campaign of 5,000 submitted notes (issue 8): the queue reads it from
// the server fifty at a time, oldest first, with the counts of the whole
// selection, "Xem thêm" adds the next fifty, a search finds one note among
// them, and the page never blocks for long. The notes are written straight
// into the server's file (test setup: 5,000 pushes would only slow the
// test), so the reviewer's device never holds them: the queue does not
// need it to.
func TestConsoleQueuePagesAFiveThousandNoteCampaign(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	db := srv.store.Reader()
	var campaignID, unitsJSON string
	if err := db.QueryRow("SELECT id, unit_ids FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 2 năm 2021'").Scan(&campaignID, &unitsJSON); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	var units []string
	if err := json.Unmarshal([]byte(unitsJSON), &units); err != nil || len(units) == 0 {
		t.Fatalf("campaign units %s: %v", unitsJSON, err)
	}
	const total = 5000
	start := time.Date(2021, 12, 1, 1, 0, 0, 0, time.UTC)
	err := srv.store.InTx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < total; i++ {
			id := uuid.NewString()
			if _, err := tx.Exec(`INSERT INTO visit_notes (id, author_id, unit_id, campaign_id, kind, title, results, status)
				VALUES (?, ?, ?, ?, 'inspection', ?, ?, 'submitted')`,
				id, insID, units[i%len(units)], campaignID, fmt.Sprintf("Ghi chép số %04d", i),
				fmt.Sprintf("Kết quả kiểm tra lần %d; mã đối chiếu KT%05d.", i, i)); err != nil {
				return err
			}
			at := start.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000Z")
			if _, err := tx.Exec(`UPDATE note_index SET first_submitted_at = ?, submitted_at = ?, updated_at = ? WHERE note_id = ?`,
				at, at, at, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write %d notes: %v", total, err)
	}

	r := newBrowser(t, exe, "reviewer-5000", srv.url)
	r.login("bankiemtra.binh")
	r.viewport(1366, 900, false)
	r.go_("#/console/queue")
	r.waitJS("console", `!!document.querySelector('#queue-list')`)
	// Every task the page runs from here on, longer than 50 ms.
	eval[bool](r, `(() => { window.__long = [];
		new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
		return true; })()`)
	r.go_("#/console/queue?campaign_id=" + campaignID)
	r.waitText("#queue-total", fmt.Sprintf("%d ghi chép", total))
	r.waitJS("first page", `document.querySelectorAll('#queue-list [data-note]').length === 50`)
	if first := eval[string](r, `document.querySelector('#queue-list [data-note]').dataset.title`); first != "Ghi chép số 0000" {
		r.fail("the queue starts with %q, want the longest waiting", first)
	}
	r.click("#queue-more")
	r.waitJS("second page", `document.querySelectorAll('#queue-list [data-note]').length === 100`)
	r.waitText("#queue-counts", "đang hiện 100")
	if last := eval[string](r, `[...document.querySelectorAll('#queue-list [data-note]')].at(-1).dataset.title`); last != "Ghi chép số 0099" {
		r.fail("the second page ends with %q", last)
	}
	r.screenshot("console-10-queue-5000")
	r.typeInto("#f-q", "kt04321")
	r.waitJS("one found", `document.querySelectorAll('#queue-list [data-note]').length === 1 &&
		document.querySelector('#queue-list [data-note]').dataset.title === 'Ghi chép số 4321'`)
	// How long the page's tasks took is logged for whoever reads the run,
	// not asserted (no timed assertions): the list pages, it never loads
	// all 5,000 (the API test TestNotesListPagesAFiveThousandNoteCampaign
	// reads every page).
	t.Logf("long tasks while paging 5,000 notes: %v", eval[[]float64](r, `window.__long`))

	// A decision on a note this device does not hold (headquarters read
	// notes over the API): the outbox entry carries what the server merges
	// and the base of the read, and once it is acknowledged the device
	// keeps no copy of the note; its pull never brings the national notes.
	q := location(r)
	r.go_("#/notes")
	r.waitJS("field notes", `!!document.querySelector('#note-list')`)
	if n := eval[int](r, `document.querySelectorAll('#note-list li').length`); n != 0 {
		r.fail("the reviewer's device holds %d notes; this case needs it to hold none", n)
	}
	r.go_(q)
	r.click(`#queue-list [data-title="Ghi chép số 4321"]`)
	r.waitJS("decision, once the note is read", `document.querySelector('#decide-approve')?.disabled === false`)
	r.click("#decide-approve")
	r.waitJS("decided", `!!document.querySelector('#queue-list [data-title="Ghi chép số 4321"] [data-decision]')`)
	r.consoleSync()
	r.waitJS("decision sent", `!!document.querySelector('#queue-list [data-title="Ghi chép số 4321"] [data-decision="sent"]')`)
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE title = 'Ghi chép số 4321' AND status = 'reviewed' AND author_id = ?", insID); n != 1 {
		t.Fatalf("the decision on a note the device did not hold did not reach the server")
	}
	r.consoleSync()
	r.go_("#/notes")
	r.waitJS("field notes", `!!document.querySelector('#note-list')`)
	if n := eval[int](r, `document.querySelectorAll('#note-list li').length`); n != 0 {
		r.fail("after the sync the reviewer's device holds %d notes, want none", n)
	}
}

func location(b *browser) string {
	b.t.Helper()
	return eval[string](b, `location.hash`)
}
