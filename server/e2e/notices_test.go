package e2e

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docxRows are the table rows of a .docx file's word/document.xml, each
// the text of its cells, read with an XML decoder (w:tr > w:tc > w:t).
func docxRows(t *testing.T, document string) [][]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(document))
	var rows [][]string
	var row []string
	var cell *strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("word/document.xml: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "tr":
				row = []string{}
			case "tc":
				cell = &strings.Builder{}
			case "t":
				inText = true
			case "br":
				if cell != nil {
					cell.WriteString("\n")
				}
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "tc":
				row = append(row, cell.String())
				cell = nil
			case "tr":
				rows = append(rows, row)
			case "t":
				inText = false
			}
		case xml.CharData:
			if inText && cell != nil {
				cell.Write(e)
			}
		}
	}
	return rows
}

// sourceColumn is column E (the source) of the findings workbook's rows
// after the headers, read from the sheet and its shared strings.
func sourceColumn(t *testing.T, workbook string) []string {
	t.Helper()
	var strs []string
	for _, m := range regexp.MustCompile(`<si><t[^>]*>([^<]*)</t></si>`).FindAllStringSubmatch(workbook, -1) {
		strs = append(strs, html.UnescapeString(m[1]))
	}
	var out []string
	for _, m := range regexp.MustCompile(`<c r="E(\d+)"[^>]*t="s"><v>(\d+)</v>`).FindAllStringSubmatch(workbook, -1) {
		row, _ := strconv.Atoi(m[1])
		i, _ := strconv.Atoi(m[2])
		if row > 3 && i < len(strs) {
			out = append(out, strs[i])
		}
	}
	return out
}

// Issue 12, end to end: the Inspection Committee schedules a team in the
// console (a unit put outside the campaign's window, and a member on two
// teams the same day, are pointed out) and
// issues the notice; the inspector's phone and the unit liaison's phone,
// offline after one sync, show the team's dates (the liaison saw nothing
// before the notice was issued); the notice's Word file names the team's
// units and dates; a change to the issued notice is a new revision, which
// the liaison's phone shows marked as changed. A cluster's secretary records a briefing with two
// recommendations on a phone, offline; the Office answers one in the
// console, and the recommendations register shows both with their source.
func TestNoticeScheduleAndBriefing(t *testing.T) {
	t.Parallel()
	axe := axeSource(t)
	exe := chromiumPath(t)
	srv := startServer(t)
	campaignID, units := seededCampaign(t, srv)
	db := srv.store.Reader()
	unitName := func(id string) string {
		var n string
		if err := db.QueryRow("SELECT name FROM units WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first, second := unitName(units[0]), unitName(units[1])

	admin := srv.adminToken(t)
	leaderID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	memberID := srv.createUser(t, "kiemtra.lan", "Hoàng Thị Lan", "inspector")
	srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	srv.createUser(t, "vanphong.thu", "Ngô Minh Thư", "office")
	secID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	if code := srv.post(t, "/api/v1/users", admin, map[string]any{"username": "lienlac.ha", "password": "lienlac.ha-password",
		"full_name": "Đỗ Thu Hà", "roles": []string{"unit_liaison"}, "unit_id": units[0]}, nil); code >= 300 {
		t.Fatalf("create the liaison: %d", code)
	}
	var team, cluster struct {
		ID string `json:"id"`
	}
	if code := srv.post(t, "/api/v1/teams", admin, map[string]any{"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1",
		"leader_id": leaderID, "member_ids": []string{leaderID, memberID}, "unit_ids": units[:2]}, &team); code >= 300 {
		t.Fatalf("create the team: %d", code)
	}
	// A second team of the campaign shares a member with the first.
	if code := srv.post(t, "/api/v1/teams", admin, map[string]any{"campaign_id": campaignID, "name": "Đoàn kiểm tra số 2",
		"member_ids": []string{memberID}, "unit_ids": units[2:3]}, nil); code >= 300 {
		t.Fatalf("create the second team: %d", code)
	}
	if code := srv.post(t, "/api/v1/clusters", admin, map[string]any{"name": "Cụm Tây Bắc", "lead_secretary_id": secID}, &cluster); code >= 300 {
		t.Fatalf("create the cluster: %d", code)
	}
	for _, u := range units[:2] {
		if code := srv.patch(t, "/api/v1/units/"+u, admin, map[string]any{"cluster_id": cluster.ID}, nil); code >= 300 {
			t.Fatalf("put %s in the cluster: %d", u, code)
		}
	}

	// The liaison's phone syncs before anything is announced: nothing shows.
	l := newBrowser(t, exe, "liaison", srv.url)
	l.login("lienlac.ha")
	l.viewport(390, 844, true)
	l.go_("#/home")
	l.waitText("#liaison-visits", "Chưa có lịch làm việc")

	// The Committee schedules the team at a desktop.
	c := newBrowser(t, exe, "committee", srv.url)
	c.login("bankiemtra.binh")
	c.viewport(1366, 900, false)
	c.go_("#/console/notices?campaign=" + campaignID)
	c.waitJS("team card", `!!document.querySelector('[data-team="Đoàn kiểm tra số 1"] [data-add="unit"]')`)
	addVisit := func(unit, from, to, place, contact string) {
		card := `[data-team="Đoàn kiểm tra số 1"] `
		c.setField(card+`[data-add="unit"]`, unit)
		c.setField(card+`[data-add="from"]`, from)
		c.setField(card+`[data-add="to"]`, to)
		c.setField(card+`[data-add="place"]`, place)
		c.setField(card+`[data-add="contact"]`, contact)
		c.click(card + `[data-add="save"]`)
	}
	addVisit(units[0], "2021-06-10", "2021-06-11", "Hội trường Tỉnh đoàn", "Đ/c Hà, 0912 345 678")
	c.waitJS("first visit listed", fmt.Sprintf(`!!document.querySelector('tr[data-visit=%s]')`, jsq(first)))
	addVisit(units[1], "2021-06-20", "", "Tỉnh đoàn", "")
	c.waitText(fmt.Sprintf(`#n-conflicts [data-conflict="outside_window"][data-unit=%s]`, jsq(second)), "nằm ngoài thời gian của đợt")
	c.screenshot("notices-01-console-schedule-conflict")
	// The Committee moves it back inside the window: the warning goes.
	c.setField(fmt.Sprintf(`tr[data-visit=%s] input[type=date]`, jsq(second)), "2021-06-14")
	c.waitJS("conflict cleared", `!document.querySelector('#n-conflicts')`)

	// The same member on the second team the same day is pointed out too.
	c.setField(`[data-team="Đoàn kiểm tra số 2"] [data-add="unit"]`, units[2])
	c.setField(`[data-team="Đoàn kiểm tra số 2"] [data-add="from"]`, "2021-06-11")
	c.click(`[data-team="Đoàn kiểm tra số 2"] [data-add="save"]`)
	c.waitText(`#n-conflicts [data-conflict="member_twice"]`, "Hoàng Thị Lan có lịch ở hai đoàn cùng ngày 11/06/2021")
	c.screenshot("notices-01b-console-member-twice")
	c.click(`[data-team="Đoàn kiểm tra số 2"] tr[data-visit] .c-btn-danger`)
	c.waitJS("conflict cleared", `!document.querySelector('#n-conflicts')`)

	c.click(`[data-new-notice="Đoàn kiểm tra số 1"]`)
	c.waitJS("draft open", `!!document.querySelector('[data-status="draft"] [data-notice-field="number"]')`)
	c.setField(`[data-status="draft"] [data-notice-field="number"]`, "25-TB/TWĐTN-BKT")
	c.setField(`[data-status="draft"] [data-notice-field="signed_on"]`, "2021-06-01")
	c.setField(`[data-status="draft"] [data-notice-field="preparation"]`, "Chuẩn bị báo cáo kết quả 6 tháng đầu năm 2021.")
	eval[bool](c, `(window.confirm = () => true, true)`)
	c.click(`[data-status="draft"] [data-notice-action="issue"]`)
	c.waitText(`[data-notice="25-TB/TWĐTN-BKT"] [data-notice-status]`, "Đã ban hành")
	c.consoleSync()
	c.waitJS("issued notice sent", `!document.querySelector('[data-notice="25-TB/TWĐTN-BKT"] [data-notice-action="word"]')?.disabled`)
	c.screenshot("notices-02-console-notice-issued")
	c.viewport(390, 844, false) // a narrow window: no mobile layout widening
	c.screenshot("notices-02b-console-notices-phone")
	c.viewport(1366, 900, false)
	if n := count(t, db, "SELECT count(*) FROM notices WHERE status = 'issued' AND number = '25-TB/TWĐTN-BKT' AND team_id = ?", team.ID); n != 1 {
		t.Fatalf("issued notices on the server: %d", n)
	}
	if n := count(t, db, "SELECT count(*) FROM team_visits WHERE deleted = 0 AND team_id = ?", team.ID); n != 2 {
		t.Fatalf("schedule rows on the server: %d", n)
	}

	// Coverage names each unit's scheduled day (the server's report).
	c.go_("#/console/coverage?campaign_id=" + campaignID)
	c.waitText(fmt.Sprintf(`tr[data-unit=%s] [data-scheduled="2021-06-10"]`, jsq(first)), "Dự kiến kiểm tra ngày 10/06")
	c.waitText(fmt.Sprintf(`tr[data-unit=%s] [data-scheduled="2021-06-14"]`, jsq(second)), "Dự kiến kiểm tra ngày 14/06")
	c.screenshot("notices-02c-console-coverage-scheduled")
	c.go_("#/console/notices?campaign=" + campaignID)
	c.waitJS("notice listed", `!!document.querySelector('[data-notice="25-TB/TWĐTN-BKT"] .n-notice-head')`)
	c.click(`[data-notice="25-TB/TWĐTN-BKT"] .n-notice-head`)
	c.waitJS("notice open", `!!document.querySelector('[data-notice="25-TB/TWĐTN-BKT"] [data-notice-action="word"]')`)

	// The notice's Word file: the team's units and dates, read from its XML.
	dir := c.downloads()
	c.click(`[data-notice="25-TB/TWĐTN-BKT"] [data-notice-action="word"]`)
	doc := docxText(t, c.waitDownload(dir, ".docx"))
	rows := docxRows(t, doc)
	for _, want := range [][]string{
		{"1", first, "10/06/2021 – 11/06/2021", "Hội trường Tỉnh đoàn; Đ/c Hà, 0912 345 678"},
		{"2", second, "14/06/2021", "Tỉnh đoàn"},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("the notice's schedule table lacks %q: %q", want, rows)
		}
	}
	for _, want := range []string{"THÔNG BÁO", "Thành lập đoàn kiểm tra định kỳ Đợt 1 năm 2021", "Số: 25-TB/TWĐTN-BKT",
		"- Trưởng đoàn: ", "đồng chí Phạm Văn Dũng", "+ đồng chí Hoàng Thị Lan;", "Chuẩn bị báo cáo kết quả 6 tháng đầu năm 2021.", "Nơi nhận:"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the notice lacks %q", want)
		}
	}

	// The inspector's phone: one sync, then offline, the team's dates.
	ins := newBrowser(t, exe, "inspector", srv.url)
	ins.login("kiemtra.lan")
	ins.viewport(390, 844, true)
	ins.offline(true)
	ins.reload()
	ins.ready()
	ins.go_("#/campaign")
	ins.waitText(fmt.Sprintf(`[data-visit-unit=%s] .v-days`, jsq(first)), "10/06/2021 – 11/06/2021")
	ins.waitText(fmt.Sprintf(`[data-visit-unit=%s] .v-days`, jsq(second)), "14/06/2021")
	ins.waitText(`[data-notice="25-TB/TWĐTN-BKT"]`, "Thông báo số 25-TB/TWĐTN-BKT ngày 01/06/2021")
	ins.screenshot("notices-03-inspector-schedule-offline")
	ins.audit("notices-a11y-inspector-schedule", axe)

	// The liaison's phone: the next sync brings what the notice opened;
	// offline, the home says when the team comes, who, and what.
	l.syncAndWait()
	l.offline(true)
	l.reload()
	l.ready()
	l.go_("#/home")
	l.waitText("#liaison-visits .v-days", "Đoàn đến làm việc: 10/06/2021 – 11/06/2021")
	l.waitText("#liaison-visits [data-visit-leader]", "Phạm Văn Dũng")
	l.waitText("#liaison-visits [data-visit-members]", "Hoàng Thị Lan")
	l.waitText("#liaison-visits [data-visit-prepare]", "Chuẩn bị báo cáo kết quả 6 tháng đầu năm 2021.")
	l.waitJS("campaign content", `(document.querySelector('#liaison-visits [data-visit-content]')?.textContent ?? '').length > 20`)
	if eval[bool](l, fmt.Sprintf(`!!document.querySelector('[data-visit-unit=%s]')`, jsq(second))) {
		t.Error("the liaison sees the team's visit to another unit")
	}
	l.screenshot("notices-04-liaison-home-offline")
	l.audit("notices-a11y-liaison-home", axe)

	// The Committee changes the issued notice: a new revision, issued; the
	// liaison's phone shows the latest, marked as changed.
	c.click(`[data-notice="25-TB/TWĐTN-BKT"][data-status="issued"] [data-notice-action="revise"]`)
	c.waitJS("revision drafted", `!!document.querySelector('[data-status="draft"] [data-notice-field="preparation"]')`)
	c.setField(`[data-status="draft"] [data-notice-field="preparation"]`, "Chuẩn bị báo cáo và danh sách đoàn viên mới kết nạp.")
	c.click(`[data-status="draft"] [data-notice-action="issue"]`)
	c.waitJS("revision issued", `document.querySelectorAll('[data-notice="25-TB/TWĐTN-BKT"][data-status="issued"]').length === 2`)
	c.consoleSync()
	if n := count(t, db, "SELECT count(*) FROM notices WHERE status = 'issued' AND revision = 2 AND revises_id IS NOT NULL"); n != 1 {
		t.Fatalf("issued revisions on the server: %d", n)
	}
	l.offline(false)
	l.syncAndWait()
	l.go_("#/home")
	l.waitText("#liaison-visits [data-changed]", "Đã thay đổi (sửa đổi lần 1)")
	l.waitText("#liaison-visits [data-visit-prepare]", "Chuẩn bị báo cáo và danh sách đoàn viên mới kết nạp.")
	l.screenshot("notices-04b-liaison-notice-changed")
	l.viewport(1366, 900, false)
	l.screenshot("notices-04c-liaison-home-desktop")

	// The secretary leading the cluster records a briefing offline on a phone.
	s := newBrowser(t, exe, "secretary", srv.url)
	s.login("bithu.an")
	s.viewport(390, 844, true)
	s.offline(true)
	s.go_("#/home")
	s.click("#home-briefings")
	s.click("#briefing-new")
	s.waitJS("briefing form", `!!document.querySelector('#briefing-cluster option')`)
	s.setField("#briefing-date", "2021-06-20")
	s.setField("#briefing-campaign", campaignID)
	s.setField("#briefing-place", "Sa Pa, Lào Cai")
	s.waitJS("cluster units", `document.querySelectorAll('#briefing-units input').length === 2`)
	s.setField("#briefing-host", units[0])
	s.click("#briefing-units label:first-child input")
	s.typeInto("#briefing-minutes", "Các tỉnh trong cụm báo cáo kết quả 6 tháng đầu năm.")
	s.click("#briefing-save")
	s.waitJS("recommendations form", `!!document.querySelector('#rec-text')`)
	recs := []string{"Đề nghị hỗ trợ kinh phí tập huấn cán bộ đoàn cơ sở.", "Đề nghị tăng chỉ tiêu kết nạp đoàn viên mới."}
	for i, text := range recs {
		s.setField("#rec-unit", units[i])
		s.typeInto("#rec-text", text)
		s.click("#rec-add")
		s.waitJS("recommendation listed", fmt.Sprintf(`!!document.querySelector('[data-rec=%s]')`, jsq(text)))
	}
	s.screenshot("notices-05-secretary-briefing-offline")
	s.audit("notices-a11y-briefing", axe)
	s.phoneScreen("#/briefings", "[data-briefing]", "notices-a11y-briefings", axe)
	s.offline(false)
	s.syncAndWait()
	var briefingID string
	if err := db.QueryRow("SELECT id FROM briefings WHERE cluster_id = ? AND held_on = '2021-06-20' AND deleted = 0", cluster.ID).Scan(&briefingID); err != nil {
		t.Fatalf("the briefing on the server: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM findings WHERE briefing_id = ? AND category = 'recommendation' AND deleted = 0", briefingID); n != 2 {
		t.Fatalf("recommendations of the briefing on the server: %d", n)
	}

	// The Office answers one in the console; the register shows both, with their source.
	o := newBrowser(t, exe, "office", srv.url)
	o.login("vanphong.thu")
	o.viewport(1366, 900, false)
	o.go_("#/console/findings?category=recommendation")
	o.click(fmt.Sprintf(`#cf-table tr[data-finding=%s]`, jsq(recs[0])))
	o.waitJS("triage form", `!!document.querySelector('#cf-triage-answer')`)
	o.typeInto("#cf-triage-answer", "Văn phòng bố trí kinh phí trong quý III.")
	o.click("#cf-triage-save")
	o.consoleSync()
	for _, text := range recs {
		o.waitText(fmt.Sprintf(`#cf-table tr[data-finding=%s] [data-source="briefing"]`, jsq(text)), "Giao ban Cụm Tây Bắc, ngày 20/06/2021")
	}
	o.waitText("#cf-source", "Giao ban Cụm Tây Bắc, ngày 20/06/2021")
	o.screenshot("notices-06-office-register-sources")
	var answer string
	if err := db.QueryRow("SELECT answer FROM findings WHERE briefing_id = ? AND text = ?", briefingID, recs[0]).Scan(&answer); err != nil || answer != "Văn phòng bố trí kinh phí trong quý III." {
		t.Fatalf("the Office's answer on the server: %q, %v", answer, err)
	}
	// The register's workbook says where each came from too.
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if code := srv.post(t, "/api/v1/auth/login", "", map[string]any{"username": "vanphong.thu", "password": "vanphong.thu-password",
		"device": map[string]string{"id": "e2e-office-api", "name": "e2e"}}, &login); code != http.StatusOK {
		t.Fatalf("office login: %d", code)
	}
	officeToken := login.AccessToken
	xlsx, _ := srv.getBytes(t, "/api/v1/reports/findings.xlsx?category=recommendation", officeToken)
	if sources := sourceColumn(t, workbookText(t, xlsx)); !slices.Equal(sources, []string{"Giao ban cụm Tây Bắc, ngày 20/06/2021", "Giao ban cụm Tây Bắc, ngày 20/06/2021"}) {
		t.Errorf("the register's workbook gives the sources %q, want the briefing for both", sources)
	}

	// The briefing screen in the console, and its minutes with the answer.
	o.go_("#/console/briefings/" + briefingID)
	o.waitText(fmt.Sprintf(`[data-rec=%s]`, jsq(recs[0])), "Văn phòng bố trí kinh phí trong quý III.")
	o.screenshot("notices-07-console-briefing")
	dir = o.downloads()
	o.click("#cb-word")
	minutes := docxText(t, o.waitDownload(dir, ".docx"))
	for _, want := range append([]string{"BIÊN BẢN", "Các tỉnh trong cụm báo cáo kết quả 6 tháng đầu năm.", "Văn phòng bố trí kinh phí trong quý III."}, recs...) {
		if !strings.Contains(minutes, want) {
			t.Errorf("the minutes lack %q", want)
		}
	}
	if !bytes.Contains([]byte(minutes), []byte("Chưa trả lời")) {
		t.Error("the minutes do not say the second recommendation is unanswered")
	}
}
