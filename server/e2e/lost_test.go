package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// shiftClock makes the page's clock (Date.now, new Date(), Date()) run d
// away from the real one, from the next document on: a phone whose date is
// set wrong. Timers and the server are untouched.
func (b *browser) shiftClock(d time.Duration) {
	b.t.Helper()
	src := fmt.Sprintf(`(() => {
		const shift = %d;
		const Real = Date;
		const realNow = Real.now.bind(Real);
		function Shifted(...args) {
			if (!new.target) return new Real(realNow() + shift).toString();
			return args.length === 0 ? new Real(realNow() + shift) : new Real(...args);
		}
		Shifted.prototype = Real.prototype;
		Shifted.now = () => realNow() + shift;
		Shifted.parse = Real.parse;
		Shifted.UTC = Real.UTC;
		globalThis.Date = Shifted;
	})();`, d.Milliseconds())
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// viewport resizes the page: a phone (mobile) or a desktop window.
func (b *browser) viewport(w, h int64, mobile bool) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(w, h, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = mobile
		p.DeviceScaleFactor = 1
	}))
	b.waitJS(fmt.Sprintf("window %dx%d", w, h), fmt.Sprintf(`window.innerWidth === %d`, w))
}

// allowClipboard grants the page the clipboard (as a user accepting the
// prompt) and keeps it focused, as the clipboard API requires.
func (b *browser) allowClipboard() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    cdpbrowser.PermissionSetting("granted"),
				Origin:     b.base,
			}); err != nil {
				return err
			}
		}
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
}

// A reviewer whose phone clock is two days behind opens a submitted note
// (issue 7 §1): the decision made after seeing the note is what remains,
// on the server and on both phones, whatever the reviewer's clock says.
func TestReviewerWithAClockTwoDaysBehindKeepsTheDecision(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	log := &syncLog{}
	srv := startServerWrapped(t, log.wrap)
	db := srv.store.Reader()
	srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	revID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")

	// The author, on a phone with the right time, submits a note.
	a := newBrowser(t, exe, "author", srv.url)
	a.login("kiemtra.dung")
	a.go_("#/note/new")
	a.typeInto("#note-title-new", "Ghi chép làm việc tại Hà Nam")
	a.click(`button[data-purpose="working_session"]`)
	a.typeInto(".unit-picker input[type=search]", "Hà Nam")
	a.click(`button[data-unit="Hà Nam"]`)
	a.click("#note-create")
	a.waitJS("note editor", `!!document.querySelector('#note-results')`)
	noteID := strings.TrimPrefix(eval[string](a, `location.hash`), "#/note/")
	a.typeInto("#note-results", "Hoàn thành 9/10 chỉ tiêu công tác đoàn.")
	a.waitText("#save-state", "Đã lưu trên máy")
	a.click("#note-submit")
	a.waitHandedIn()
	a.syncAndWait()
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'submitted'", noteID); n != 1 {
		t.Fatalf("the submitted note is not on the server: %d", n)
	}

	// The reviewer's phone runs two days behind.
	r := newBrowser(t, exe, "reviewer-behind", srv.url)
	r.shiftClock(-48 * time.Hour)
	r.login("bankiemtra.binh")
	behind := time.Duration(time.Now().UnixMilli()-int64(eval[float64](r, `Date.now()`))) * time.Millisecond
	if math.Abs(behind.Hours()-48) > 0.1 {
		r.fail("the page clock is %v behind, want 48h", behind)
	}
	r.go_("#/note/" + noteID)
	r.waitText("#note-status", "Đã gửi")
	r.waitJS("review panel", `!!document.querySelector('#review-input')`)
	r.typeInto("#review-input", "Bổ sung số liệu đoàn viên mới kết nạp.")
	r.click("#review-revise")
	r.waitText("#note-status", "Cần chỉnh sửa")
	r.syncAndWait()
	r.waitText("#pending-count", "Thay đổi chờ gửi: 0")

	// Both sync again: both see the decision, and the server kept it.
	r.syncAndWait()
	r.go_("#/note/" + noteID)
	r.waitText("#note-status", "Cần chỉnh sửa")
	r.screenshot("lost-01-reviewer-behind-decision")
	a.syncAndWait()
	a.go_("#/note/" + noteID)
	a.waitText("#note-status", "Cần chỉnh sửa")
	a.waitText("#review-comment", "Bổ sung số liệu đoàn viên mới kết nạp.")
	a.screenshot("lost-02-author-sees-decision")
	// The reviewer's phone stamped its decision after the note it had read
	// (the receive rule), not two days before it.
	var submit, decision string
	for _, c := range log.changesOf(noteID) {
		if c.Fields["status"] == "submitted" {
			submit = c.HLC
		}
		if c.Fields["status"] == "needs_revision" {
			decision = c.HLC
		}
	}
	if submit == "" || decision == "" || decision <= submit {
		t.Errorf("the decision was stamped %q, the submission it read %q: want the decision after", decision, submit)
	}
	var status, comment, reviewedBy string
	if err := db.QueryRow("SELECT status, review_comment, reviewed_by FROM visit_notes WHERE id = ?", noteID).
		Scan(&status, &comment, &reviewedBy); err != nil {
		t.Fatal(err)
	}
	if status != "needs_revision" || comment != "Bổ sung số liệu đoàn viên mới kết nạp." || reviewedBy != revID {
		t.Errorf("note on the server: status=%q comment=%q reviewed_by=%q, want the reviewer's decision", status, comment, reviewedBy)
	}
}

// The same field of one note edited on two devices, each offline and
// neither having seen the other's edit: the later edit wins, and the device
// whose text lost says so on the note and in the Sync screen, naming whose
// edit replaced it and when, and gives the lost text back to copy.
func TestConcurrentEditShowsTheLostTextToCopyBack(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")

	// A draft note, written on the phone and pulled by the laptop.
	p := newBrowser(t, exe, "phone", srv.url)
	p.login("bithu.an")
	p.go_("#/note/new")
	p.typeInto("#note-title-new", "Làm việc với Tỉnh đoàn Bắc Ninh")
	p.click(`button[data-purpose="working_session"]`)
	p.typeInto(".unit-picker input[type=search]", "Bắc Ninh")
	p.click(`button[data-unit="Bắc Ninh"]`)
	p.click("#note-create")
	p.waitJS("note editor", `!!document.querySelector('#note-results')`)
	noteID := strings.TrimPrefix(eval[string](p, `location.hash`), "#/note/")
	p.typeInto("#note-results", "Tổ chức tốt Tháng Thanh niên.")
	p.waitText("#save-state", "Đã lưu trên máy")
	p.syncAndWait()
	l := newBrowser(t, exe, "laptop", srv.url)
	l.login("bithu.an")
	l.go_("#/note/" + noteID)
	l.waitJS("note on the laptop", `document.querySelector('#note-results')?.value === 'Tổ chức tốt Tháng Thanh niên.'`)

	// Offline, both write the conclusions: the phone first, the laptop later.
	const phoneText = "Đề nghị Tỉnh đoàn bố trí kinh phí cho đội hình tình nguyện."
	const laptopText = "Đề nghị Tỉnh đoàn tổng kết mô hình trong quý III."
	p.offline(true)
	l.offline(true)
	p.go_("#/note/" + noteID)
	p.typeInto("#note-conclusions", phoneText)
	p.waitText("#save-state", "Đã lưu trên máy")
	l.typeInto("#note-conclusions", laptopText)
	l.waitText("#save-state", "Đã lưu trên máy")

	// The laptop syncs first, then the phone.
	l.offline(false)
	l.syncAndWait()
	l.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	p.offline(false)
	p.syncAndWait()
	p.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	var conclusions string
	if err := db.QueryRow("SELECT conclusions FROM visit_notes WHERE id = ?", noteID).Scan(&conclusions); err != nil {
		t.Fatal(err)
	}
	if conclusions != laptopText {
		t.Fatalf("server conclusions %q, want the later edit %q", conclusions, laptopText)
	}

	// The note on the phone: the laptop's text, and the notice.
	notice := `#lost-notices li[data-lost-field="conclusions"]`
	p.go_("#/note/" + noteID)
	p.waitJS("the winning text on the phone", fmt.Sprintf(`document.querySelector('#note-conclusions')?.value === %s`, jsq(laptopText)))
	p.waitJS("lost notice on the note", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(notice)))
	want := "«Kết luận» của bạn đã bị thay bằng bản sửa của Nguyễn Văn An lúc "
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%s).querySelector('.lost-title').textContent`, jsq(notice))); !strings.HasPrefix(got, want) {
		p.fail("notice reads %q, want it to start %q", got, want)
	}
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%s).querySelector('.lost-text').textContent`, jsq(notice))); got != phoneText {
		p.fail("the notice shows %q as the lost text, want %q", got, phoneText)
	}

	// "Sao chép" puts the lost text on the clipboard.
	p.allowClipboard()
	p.click(notice + ` [data-action="copy-lost"]`)
	p.waitText(notice+` [data-action="copy-lost"]`, "Đã sao chép")
	if got := eval[string](p, `navigator.clipboard.readText()`); got != phoneText {
		p.fail("the clipboard holds %q, want the lost text %q", got, phoneText)
	}
	eval[bool](p, `(window.scrollTo(0, 0), true)`)
	p.screenshot("lost-03-note-390")
	p.viewport(1366, 900, false)
	eval[bool](p, `(window.scrollTo(0, 0), true)`)
	p.screenshot("lost-04-note-1366")

	// The Sync screen lists it too, with the note's title, and opens it.
	item := `#lost-list li[data-lost-field="conclusions"]`
	p.go_("#/sync")
	p.waitJS("lost value listed", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(item)))
	p.waitText(item, "Ghi chép · Làm việc với Tỉnh đoàn Bắc Ninh")
	p.waitText(item, want)
	p.waitText(item+" .lost-text", phoneText)
	eval[bool](p, `(document.querySelector('#lost-list').scrollIntoView({ block: 'center' }), true)`)
	p.screenshot("lost-05-sync-1366")
	p.viewport(390, 844, true)
	eval[bool](p, `(document.querySelector('#lost-list').scrollIntoView({ block: 'center' }), true)`)
	p.screenshot("lost-06-sync-390")

	// In English, the English sentence.
	p.click("#lang-switch")
	p.waitText(item, "Your “Conclusions” was replaced by Nguyễn Văn An’s edit at ")
	p.click("#lang-switch")
	p.waitText(item, want)

	// "Mở" opens the note; "Đã xem" dismisses the notice everywhere.
	p.click(item + ` [data-action="open-lost"]`)
	p.waitJS("note opened", fmt.Sprintf(`location.hash === %s && !!document.querySelector(%s)`, jsq("#/note/"+noteID), jsq(notice)))
	p.click(notice + ` [data-action="dismiss-lost"]`)
	p.waitJS("notice dismissed", `!document.querySelector('#lost-notices')`)
	p.go_("#/sync")
	p.waitJS("sync screen", `!!document.querySelector('#sync-now')`)
	p.waitJS("nothing listed", `!document.querySelector('#lost-list')`)

	// The laptop, whose edit won, has nothing to be told.
	l.syncAndWait()
	if n := eval[int](l, `document.querySelectorAll('#lost-list li').length`); n != 0 {
		l.fail("the winning device lists %d lost values", n)
	}
}
