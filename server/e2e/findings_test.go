package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"dicoso/sync/client"
)

// downloads lets the browser save downloads into a fresh directory and
// returns it.
func (b *browser) downloads() string {
	b.t.Helper()
	dir := b.t.TempDir()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		})
		return err
	}))
	return dir
}

// waitDownload waits for a finished file with the suffix in dir.
func (b *browser) waitDownload(dir, suffix string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	// Chromium may create the file under its final name before it has
	// written it: wait until it has bytes and its size holds still.
	last := int64(-1)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), suffix) {
				continue
			}
			info, err := e.Info()
			if err != nil || info.Size() == 0 {
				break
			}
			if info.Size() == last {
				return filepath.Join(dir, e.Name())
			}
			last = info.Size()
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.fail("no %s download in %s", suffix, dir)
	return ""
}

// The findings register: a secretary's finding reaches headquarters; the
// Inspection Committee assigns it to a department with a due date and
// follows it up offline; after a sync the server holds both, and the
// department sees the finding and its follow-up on its own phone.
func TestFindingsRegisterAssignAndFollowUp(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	ctx := context.Background()

	var unitID, deptID, deptName string
	if err := db.QueryRow("SELECT id FROM units WHERE name = 'Bắc Ninh'").Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	if err := db.QueryRow("SELECT id, name FROM departments WHERE name = 'Ban Thanh niên trường học Trung ương Đoàn'").Scan(&deptID, &deptName); err != nil {
		t.Fatalf("seeded department: %v", err)
	}

	// The secretary writes a note with a finding on their own phone (the
	// Go device client) and syncs it.
	secID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	sec, err := client.Open(ctx, filepath.Join(t.TempDir(), "bithu.an.db"), client.Options{
		BaseURL: srv.url, DeviceID: "e2e-bithu-an", RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open the secretary's device: %v", err)
	}
	t.Cleanup(func() { sec.Close() })
	if _, err := sec.Login(ctx, "bithu.an", "bithu.an-password"); err != nil {
		t.Fatalf("log the secretary in: %v", err)
	}
	noteID, findingID := uuid.NewString(), uuid.NewString()
	const findingText = "Thiếu kinh phí cho đội hình thanh niên tình nguyện."
	if _, err := sec.Upsert(ctx, "visit_notes", noteID, map[string]any{
		"author_id": secID, "unit_id": unitID, "kind": "working_session",
		"title": "Làm việc với Tỉnh đoàn Bắc Ninh", "results": "Tổ chức tốt Tháng Thanh niên.", "status": "submitted",
	}); err != nil {
		t.Fatalf("write the note: %v", err)
	}
	if _, err := sec.Upsert(ctx, "findings", findingID, map[string]any{
		"note_id": noteID, "author_id": secID, "unit_id": unitID, "category": "shortcoming",
		"text": findingText, "status": "open",
	}); err != nil {
		t.Fatalf("write the finding: %v", err)
	}
	if rep, err := sec.Sync(ctx); err != nil || rep.Applied != 2 {
		t.Fatalf("the secretary's sync: %+v, %v", rep, err)
	}

	icID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	var dept struct {
		ID string `json:"id"`
	}
	if code := srv.post(t, "/api/v1/users", srv.adminToken(t), map[string]any{
		"username": "ban.phongtrao", "password": "ban.phongtrao-password", "full_name": "Lê Thị Cúc",
		"roles": []string{"department"}, "department_id": deptID,
	}, &dept); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("create the department user: %d", code)
	}

	// The Inspection Committee's phone: the register lists the finding.
	ic := newBrowser(t, exe, "inspection-committee", srv.url)
	ic.login("bankiemtra.binh")
	ic.waitText("#tab-findingsTab", "Vấn đề")
	if n := eval[int](ic, `document.querySelectorAll('.tabbar .tab').length`); n != 6 {
		ic.fail("the Inspection Committee has %d tabs, want 6", n)
	}
	ic.click("#tab-findingsTab")
	ic.waitJS("finding listed", `!!document.querySelector('[data-finding="`+findingText+`"]')`)
	row := `[data-finding="` + findingText + `"]`
	ic.waitText(row, "Tồn tại, hạn chế")
	ic.waitText(row, "Bắc Ninh")
	ic.waitText(row, "Đang mở")
	// The "Kiến nghị" filter (the Office's register) leaves it out.
	ic.click(`#filter-category [data-category="recommendation"]`)
	ic.waitText("#findings-count", "0 vấn đề")
	ic.click(`#filter-category [data-category="shortcoming"]`)
	ic.waitJS("finding under its category", `!!document.querySelector('[data-finding="`+findingText+`"]')`)
	ic.screenshot("15-findings-register")

	// The Excel report with the filter on screen, fetched with the session's token.
	dl := ic.downloads()
	ic.click("#report-download")
	xlsx := ic.waitDownload(dl, ".xlsx")
	if b, err := os.ReadFile(xlsx); err != nil || len(b) < 4 || string(b[:2]) != "PK" {
		t.Errorf("the downloaded report %s is not a workbook: %v", xlsx, err)
	}

	// Offline: assign it and follow it up on the phone.
	ic.offline(true)
	ic.waitJS("report needs the network", `!document.querySelector('#report-download')`)
	ic.click(row)
	ic.waitJS("finding opened", `!!document.querySelector('#triage-department')`)
	ic.waitText("#source-note", "Làm việc với Tỉnh đoàn Bắc Ninh")
	ic.setField("#triage-department", deptID)
	due := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	ic.setField("#triage-due", due)
	ic.click("#triage-save")
	ic.waitText("#finding-department", deptName)
	ic.waitJS("assignment only on the phone", `document.querySelector('#finding-card [data-sync]')?.dataset.sync === 'local'`)
	const followText = "Đã đề nghị Tỉnh đoàn bố trí kinh phí trong quý III."
	ic.typeInto("#followup-text", followText)
	ic.setField("#followup-status", "in_progress")
	ic.click("#followup-add")
	ic.waitJS("follow-up listed, not synced", `document.querySelector('[data-followup="`+followText+`"] [data-sync]')?.dataset.sync === 'local'`)
	ic.waitText("#finding-status", "Đang xử lý")
	ic.waitText(`[data-followup="`+followText+`"]`, "Trần Thị Bình")
	eval[bool](ic, `(window.scrollTo(0, 0), true)`)
	ic.screenshot("16a-finding-assigned-offline")
	eval[bool](ic, `(document.querySelector('#followup-list').scrollIntoView({ block: 'center' }), true)`)
	ic.screenshot("16b-finding-followup-offline")
	if n := count(t, db, "SELECT count(*) FROM follow_ups"); n != 0 {
		t.Fatalf("the server has %d follow-ups while the phone is offline", n)
	}

	ic.offline(false)
	ic.syncAndWait()
	ic.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	if n := count(t, db, "SELECT count(*) FROM follow_ups WHERE finding_id = ? AND author_id = ? AND text = ? AND status_to = 'in_progress'",
		findingID, icID, followText); n != 1 {
		t.Errorf("the server holds %d of the Inspection Committee's follow-ups", n)
	}
	if n := count(t, db, "SELECT count(*) FROM findings WHERE id = ? AND department_id = ? AND due_on = ? AND status = 'in_progress' AND author_id = ?",
		findingID, deptID, due, secID); n != 1 {
		t.Errorf("the server's finding is not assigned to %s by %s and in progress", deptName, due)
	}
	ic.go_("#/finding/" + findingID)
	ic.waitJS("follow-up synced", `document.querySelector('[data-followup="`+followText+`"] [data-sync]')?.dataset.sync === 'sent'`)

	// The department's phone: the finding assigned to it, with the follow-up.
	dp := newBrowser(t, exe, "department", srv.url)
	dp.login("ban.phongtrao")
	dp.click("#tab-findingsTab")
	dp.waitJS("assigned finding listed", `!!document.querySelector('[data-finding="`+findingText+`"]')`)
	dp.waitText(row, "Đang xử lý")
	dp.waitText(row, deptName)
	dp.click(row)
	dp.waitJS("follow-up shown", `!!document.querySelector('[data-followup="`+followText+`"]')`)
	if eval[bool](dp, `!!document.querySelector('#triage')`) {
		dp.fail("a department is offered headquarters' assignment form")
	}
	dp.waitJS("department may follow up", `!!document.querySelector('#followup-text')`)
	dp.screenshot("17-finding-department")

	// Six tabs still fit the narrowest phone (360 px): no label spills out
	// of its tab and every tab stays a large target.
	dp.do(chromedp.EmulateViewport(360, 740, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = true
		p.DeviceScaleFactor = 1
	}))
	dp.go_("#/findings")
	dp.waitJS("register at 360 px", `!!document.querySelector('[data-finding]') && window.innerWidth === 360`)
	if bad := eval[string](dp, `[...document.querySelectorAll('.tabbar .tab')].filter((tab) => {
		const r = tab.getBoundingClientRect(), l = tab.querySelector('.tab-label');
		return r.width < 56 || r.height < 48 || l.scrollWidth > l.clientWidth + 1 || l.getBoundingClientRect().bottom > r.bottom;
	}).map((tab) => tab.id).join(' ')`); bad != "" {
		dp.fail("tabs too small or clipped at 360 px: %s", bad)
	}
	dp.screenshot("18-findings-360")
}
