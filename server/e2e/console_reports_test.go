package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"dicoso/sync/client"
)

// fieldPhone is a field user's phone (the Go device client) logged in as
// a new user of the given role.
func (s *server) fieldPhone(t *testing.T, username, fullName, role string) (*client.Device, string) {
	t.Helper()
	id := s.createUser(t, username, fullName, role)
	d, err := client.Open(context.Background(), filepath.Join(t.TempDir(), username+".db"), client.Options{
		BaseURL: s.url, DeviceID: "e2e-" + strings.ReplaceAll(username, ".", "-"), RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open %s's device: %v", username, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Login(context.Background(), username, username+"-password"); err != nil {
		t.Fatalf("log %s in: %v", username, err)
	}
	return d, id
}

func upsert(t *testing.T, d *client.Device, table string, fields map[string]any) string {
	t.Helper()
	id := uuid.NewString()
	if _, err := d.Upsert(context.Background(), table, id, fields); err != nil {
		t.Fatalf("write %s: %v", table, err)
	}
	return id
}

func syncAll(t *testing.T, d *client.Device, want int) {
	t.Helper()
	rep, err := d.Sync(context.Background())
	if err != nil || rep.Applied != want {
		t.Fatalf("sync: %+v, %v (want %d applied)", rep, err, want)
	}
}

// workbookText is every XML part of an XLSX's workbook folder (shared
// strings and sheets) as text, after checking it is a zip with a sheet.
func workbookText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip (%d bytes): %v", len(b), err)
	}
	var out strings.Builder
	sheets := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/") || !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		if strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			sheets++
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out.Write(x)
	}
	if sheets == 0 {
		t.Fatalf("the workbook has no sheet")
	}
	return out.String()
}

func (s *server) getBytes(t *testing.T, path, token string) ([]byte, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b, res.Header.Get("Content-Type")
}

// Headquarters reads the campaign's coverage, the secretaries' field days
// and the findings in the console at 1366×900: a team member's submitted
// note inspects the unit (in its window, by the day of the member's
// trip), the secretary's three field days are tallied with the Youth Month
// day and their trip, the finding of the note is assigned to a department
// through the outbox, and the coverage and field-day workbooks download
// and hold the unit and the secretary by name.
func TestConsoleReportsCoverageFieldDaysFindings(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	ctx := context.Background()
	var campaignID, unitID, deptID string
	if err := db.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'`).Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM units WHERE name = 'Bắc Ninh'`).Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM departments ORDER BY name LIMIT 1`).Scan(&deptID); err != nil {
		t.Fatalf("seeded department: %v", err)
	}

	// A secretary's three days in the field in 2021, one in Youth Month.
	sec, secID := srv.fieldPhone(t, "bithu.an", "Nguyễn Văn An", "secretary")
	trip := upsert(t, sec, "trips", map[string]any{"user_id": secID, "title": "Làm việc với Tỉnh đoàn Bắc Ninh",
		"purpose": "working_session", "unit_ids": []any{unitID}, "starts_on": "2021-03-10", "ends_on": "2021-03-11", "status": "done"})
	for _, day := range []string{"2021-03-10", "2021-03-11"} {
		upsert(t, sec, "trip_days", map[string]any{"trip_id": trip, "user_id": secID, "day": day, "unit_id": unitID, "activity": "Dự sinh hoạt"})
	}
	trip2 := upsert(t, sec, "trips", map[string]any{"user_id": secID, "title": "Dự hội nghị BCH Tỉnh đoàn",
		"purpose": "meeting", "unit_ids": []any{unitID}, "starts_on": "2021-05-20", "status": "done"})
	upsert(t, sec, "trip_days", map[string]any{"trip_id": trip2, "user_id": secID, "day": "2021-05-20", "unit_id": unitID, "activity": "Hội nghị"})
	// Checked in on the first day (08:30 in Hà Nội), not on the others.
	upsert(t, sec, "checkins", map[string]any{"user_id": secID, "unit_id": unitID, "trip_id": trip, "at": "2021-03-10T01:30:00Z",
		"lat": 21.1861, "lng": 106.0763, "accuracy_m": 12.0})
	syncAll(t, sec, 6)

	// A team of the first round; its member inspects Bắc Ninh in the window.
	insp, inspID := srv.fieldPhone(t, "thanhtra.dung", "Phạm Thị Dung", "inspector")
	admin := srv.adminToken(t)
	if code := srv.post(t, "/api/v1/teams", admin, map[string]any{"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1",
		"member_ids": []string{inspID}, "unit_ids": []string{unitID}}, nil); code != http.StatusCreated {
		t.Fatalf("create team: %d", code)
	}
	if _, err := insp.Sync(ctx); err != nil {
		t.Fatalf("inspector pulls the team: %v", err)
	}
	itrip := upsert(t, insp, "trips", map[string]any{"user_id": inspID, "title": "Kiểm tra Tỉnh đoàn Bắc Ninh", "purpose": "inspection",
		"campaign_id": campaignID, "unit_ids": []any{unitID}, "starts_on": "2021-06-05", "status": "done"})
	upsert(t, insp, "trip_days", map[string]any{"trip_id": itrip, "user_id": inspID, "day": "2021-06-05", "unit_id": unitID, "activity": "Kiểm tra"})
	note := upsert(t, insp, "visit_notes", map[string]any{"author_id": inspID, "unit_id": unitID, "campaign_id": campaignID,
		"trip_id": itrip, "kind": "inspection", "title": "Kiểm tra định kỳ tại Bắc Ninh", "results": "Hoàn thành các chỉ tiêu.", "status": "submitted"})
	finding := upsert(t, insp, "findings", map[string]any{"note_id": note, "author_id": inspID, "unit_id": unitID, "campaign_id": campaignID,
		"category": "shortcoming", "text": "Sinh hoạt chi đoàn chưa đều", "status": "open"})
	syncAll(t, insp, 4)

	a := newBrowser(t, exe, "hq", srv.url)
	a.loginAs("admin", adminPassword)
	a.viewport(1366, 900, false)

	// Coverage: Bắc Ninh inspected in its window, one of eleven.
	a.go_("#/console/coverage")
	a.waitJS("three campaigns", `document.querySelectorAll('.cov-campaign').length === 3`)
	a.screenshot("console-coverage-all-1366")
	a.go_("#/console/coverage?campaign_id=" + campaignID)
	a.waitJS("Bắc Ninh inspected", `document.querySelector('tr[data-unit="Bắc Ninh"]')?.dataset.state === 'inspected'`)
	a.waitJS("one of eleven", `(() => { const c = document.querySelector('.cov-count');
		return c?.dataset.inspected === '1' && c?.dataset.planned === '11'; })()`)
	a.waitText(`tr[data-unit="Bắc Ninh"]`, "Đoàn kiểm tra số 1")
	a.waitText(`tr[data-unit="Bắc Ninh"]`, "05/06/2021")
	if s := eval[string](a, `document.querySelector('tr[data-unit="Lai Châu"]')?.dataset.state ?? ''`); s != "overdue" {
		a.fail("Lai Châu (not inspected, window closed in 2021) shows %q, want overdue", s)
	}
	a.screenshot("console-coverage-1366")

	// The "Tải Excel" button hands the browser the workbook.
	dl := t.TempDir()
	a.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl,
		})
		return err
	}))
	a.click("#cov-xlsx")
	var got []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && got == nil; time.Sleep(200 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dl, "*.xlsx"))
		if len(files) == 1 {
			got, _ = os.ReadFile(files[0])
		}
	}
	if got == nil {
		a.fail("the coverage workbook was not downloaded")
	}
	if x := workbookText(t, got); !strings.Contains(x, "Bắc Ninh") || !strings.Contains(x, "Lai Châu") {
		t.Errorf("the downloaded coverage workbook does not name the campaign's units")
	}

	// Field days: the secretary's three days, one in Youth Month.
	a.go_("#/console/fielddays?year=2021")
	a.waitText(`tr[data-secretary="Nguyễn Văn An"] .fd-days`, "3")
	a.waitJS("chart drawn", `!!document.querySelector('tr[data-secretary="Nguyễn Văn An"] svg.cumchart polyline')`)
	a.waitText("#fd-summary", "356-KH/TWĐTN-BKT")
	a.screenshot("console-fielddays-1366")
	a.click(`tr[data-secretary="Nguyễn Văn An"] .fd-open`)
	a.waitText("#fd-trips", "Làm việc với Tỉnh đoàn Bắc Ninh")
	a.waitText("#fd-detail-days", "3/60")
	a.waitJS("two days of the first trip", `document.querySelectorAll('[data-trip="Làm việc với Tỉnh đoàn Bắc Ninh"] tr[data-day]').length === 2`)
	a.waitText(`[data-trip="Làm việc với Tỉnh đoàn Bắc Ninh"] tr[data-day="2021-03-10"]`, "Đã điểm danh")
	a.waitText(`[data-trip="Làm việc với Tỉnh đoàn Bắc Ninh"] tr[data-day="2021-03-11"]`, "Chưa điểm danh")
	a.waitJS("the check-in listed", `document.querySelectorAll('#fd-checkins tr[data-checkin="Bắc Ninh"]').length === 1`)
	a.screenshot("console-fielddays-secretary-1366")
	a.viewport(390, 844, true)
	if w := eval[int](a, `document.documentElement.scrollWidth`); w > 390 {
		a.fail("the field-day detail is %d px wide on a 390 px phone", w)
	}
	eval[bool](a, `(document.querySelector('#fd-trips').scrollIntoView({ block: 'start' }), true)`)
	a.screenshot("console-fielddays-secretary-390")
	a.viewport(1366, 900, false)

	// Findings: the finding is assigned to a department with a due date
	// and an answer; it shows as not synced until the server has it.
	a.go_("#/console/findings")
	a.click(`tr[data-finding="Sinh hoạt chi đoàn chưa đều"]`)
	a.waitJS("triage form", `!!document.querySelector('#cf-triage-department')`)
	a.setField("#cf-triage-department", deptID)
	a.setField("#cf-triage-due", "2021-09-30")
	a.typeInto("#cf-triage-answer", "Đề nghị Tỉnh đoàn duy trì sinh hoạt hằng tháng.")
	a.click("#cf-triage-save")
	// The write is on the device (its row shows the new due date) before
	// any sync; then the sync takes it to the server.
	a.waitText("#cf-due-now", "30/09/2021")
	a.waitText("#cf-due-now", "Quá hạn")
	a.click("#console-sync-now")
	assigned := func() bool {
		return count(t, db, `SELECT count(*) FROM findings WHERE id = ? AND department_id = ? AND due_on = '2021-09-30' AND answer LIKE 'Đề nghị Tỉnh đoàn%'`,
			finding, deptID) == 1
	}
	for deadline := time.Now().Add(30 * time.Second); !assigned() && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if !assigned() {
		a.fail("the server does not have the assignment")
	}
	a.waitJS("shown as synced", `document.querySelector('#cf-detail .row [data-sync]')?.dataset.sync === 'sent'`)
	// Read back from the server (the device keeps no copy of the register):
	// the assignment stays in sight.
	a.waitText("#cf-due-now", "30/09/2021")
	a.waitJS("department shown", `document.querySelector('#cf-department-now')?.textContent !== 'Chưa giao ban'`)
	eval[bool](a, `(window.scrollTo(0, 0), document.querySelector('.cpane-sticky')?.scrollTo(0, 0), true)`)
	a.screenshot("console-findings-1366")

	// The workbooks, as the API serves them, name the unit and the secretary.
	cov, ct := srv.getBytes(t, "/api/v1/reports/coverage.xlsx?campaign_id="+campaignID, admin)
	if !strings.Contains(ct, "spreadsheetml") {
		t.Errorf("coverage.xlsx content type %q", ct)
	}
	if x := workbookText(t, cov); !strings.Contains(x, "Bắc Ninh") || !strings.Contains(x, "Kiểm tra định kỳ Đợt 1 năm 2021") {
		t.Errorf("coverage.xlsx does not name Bắc Ninh and the campaign")
	}
	fd, _ := srv.getBytes(t, "/api/v1/reports/field-days.xlsx?year=2021&date=2021-12-31", admin)
	if x := workbookText(t, fd); !strings.Contains(x, "Nguyễn Văn An") {
		t.Errorf("field-days.xlsx does not name the secretary")
	}
}
