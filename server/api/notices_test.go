package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/syncdb"
)

// The notice document: the Inspection Committee schedules a team, drafts
// and issues the notice, and the Word document names, team by team, the
// leader, members, units and days of the schedule, in administrative form;
// only headquarters download it.
func TestNoticeDOCX(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	ic := e.addAccount(t, account{username: "ban.kiem.tra", fullName: "Trần Thị Thu", roles: []string{auth.RoleInspectionCommittee}})
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	leaderID := e.createAccount(t, account{username: "truong.doan", fullName: "Lê Văn Hùng", roles: []string{auth.RoleInspector}})
	memberID := e.createAccount(t, account{username: "thanh.vien", fullName: "Phạm Thị Mai", roles: []string{auth.RoleInspector}})
	sec := e.addUser(t, "bi.thu", auth.RoleSecretary)
	liaison := e.addAccount(t, account{username: "lai.chau", unit: unitLaiChau, roles: []string{auth.RoleUnitLiaison}})
	dept := e.addAccount(t, account{username: "ban.tuyen.giao", department: deptPropaganda, roles: []string{auth.RoleDepartment}})

	team := uuid.NewString()
	e.apply(t, syncdb.ServerChange{Table: "teams", RowID: team, Fields: map[string]any{"campaign_id": campaignRound1,
		"name": "Đoàn kiểm tra số 1", "leader_id": leaderID, "member_ids": []any{memberID}, "unit_ids": []any{unitLaiChau, unitTuyenQuang, unitBacNinh}}})
	notice := uuid.NewString()
	ic.push(t, "",
		upsert("team_visits", uuid.NewString(), map[string]any{"team_id": team, "unit_id": unitTuyenQuang, "starts_on": "2021-06-12",
			"place": "Tỉnh đoàn Tuyên Quang"}),
		upsert("team_visits", uuid.NewString(), map[string]any{"team_id": team, "unit_id": unitLaiChau, "starts_on": "2021-06-10",
			"ends_on": "2021-06-11", "place": "Hội trường Tỉnh đoàn Lai Châu", "contact": "Đ/c Hà, 0912 345 678"}),
		upsert("notices", notice, map[string]any{"campaign_id": campaignRound1, "team_id": team, "status": "draft",
			"number": "15-TB/TWĐTN-BKT", "signed_on": "2021-06-01", "preparation": "Chuẩn bị báo cáo kết quả 6 tháng đầu năm."}),
	)
	ic.push(t, "", upsert("notices", notice, map[string]any{"status": "issued"}))

	r := e.get(t, ic, "/api/v1/reports/notices/"+notice+"/notice.docx")
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="thong-bao-kiem-tra-dinh-ky-dot-1-nam-2021.docx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	doc := openDOCX(t, r)
	for _, want := range []string{"BAN KIỂM TRA", "Số: 15-TB/TWĐTN-BKT", "Hà Nội, ngày 01 tháng 06 năm 2021", "THÔNG BÁO",
		"Thành lập đoàn kiểm tra định kỳ Đợt 1 năm 2021", "1. Đoàn kiểm tra số 1", "- Trưởng đoàn: đồng chí Lê Văn Hùng.",
		"+ đồng chí Phạm Thị Mai;", "Chuẩn bị báo cáo kết quả 6 tháng đầu năm.", "Nơi nhận:"} {
		if _, ok := doc.Find(want); !ok {
			t.Errorf("the notice lacks %q:\n%s", want, doc.Text())
		}
	}
	// The schedule table: units by their first day, then the unscheduled.
	var rows [][]string
	for _, p := range doc.Paragraphs {
		if p.Table == 0 || p.Row == 0 || p.Cell == 0 {
			continue
		}
		for len(rows) < p.Table*100+p.Row+1 {
			rows = append(rows, nil)
		}
		rows[p.Table*100+p.Row] = append(rows[p.Table*100+p.Row], p.Text)
	}
	rows = slices.DeleteFunc(rows, func(r []string) bool { return len(r) < 3 })
	want := [][]string{
		{"Lai Châu", "10/06/2021 – 11/06/2021", "Hội trường Tỉnh đoàn Lai Châu; Đ/c Hà, 0912 345 678"},
		{"Tuyên Quang", "12/06/2021", "Tỉnh đoàn Tuyên Quang"},
		{"Bắc Ninh", "chưa xếp lịch", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("schedule rows %q, want %q", rows, want)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("schedule row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	openDOCX(t, e.get(t, office, "/api/v1/reports/notices/"+notice+"/notice.docx"))

	// A revision says what it replaces; a notice for the whole campaign
	// names every team of it, team by team.
	revision := uuid.NewString()
	ic.push(t, "", upsert("notices", revision, map[string]any{"campaign_id": campaignRound1, "team_id": team, "status": "issued",
		"number": "16-TB/TWĐTN-BKT", "revision": 2.0, "revises_id": notice}))
	doc = openDOCX(t, e.get(t, ic, "/api/v1/reports/notices/"+revision+"/notice.docx"))
	if _, ok := doc.Find("(Sửa đổi lần 1, thay thế Thông báo số 15-TB/TWĐTN-BKT)"); !ok {
		t.Errorf("the revision does not say what it replaces:\n%s", doc.Text())
	}
	second := uuid.NewString()
	e.apply(t, syncdb.ServerChange{Table: "teams", RowID: second, Fields: map[string]any{"campaign_id": campaignRound1,
		"name": "Đoàn kiểm tra số 2", "unit_ids": []any{unitHaNam}}})
	wide := uuid.NewString()
	ic.push(t, "", upsert("notices", wide, map[string]any{"campaign_id": campaignRound1, "status": "draft"}))
	doc = openDOCX(t, e.get(t, ic, "/api/v1/reports/notices/"+wide+"/notice.docx"))
	if !inOrder(doc, "1. Đoàn kiểm tra số 1", "- Trưởng đoàn: đồng chí Lê Văn Hùng.", "2. Đoàn kiểm tra số 2", "- Trưởng đoàn: chưa phân công.") {
		t.Errorf("the campaign's notice does not name both teams in order:\n%s", doc.Text())
	}
	if _, ok := doc.Find("Số:       -TB/TWĐTN-BKT"); !ok {
		t.Errorf("a notice without a number leaves it blank for the Office:\n%s", doc.Text())
	}

	// The coverage workbook says each unit's scheduled days.
	wb := openWorkbook(t, e.get(t, office, "/api/v1/reports/coverage.xlsx?campaign_id="+campaignRound1+"&date=2021-06-09"))
	sheet := wb.rows["Đơn vị được kiểm tra"]
	col := slices.Index(sheet[2], "Lịch kiểm tra")
	scheduled := map[string]string{}
	for _, r := range sheet[3:] {
		if col >= 0 && col < len(r) {
			scheduled[r[5]] = r[col]
		} else if len(r) > 5 {
			scheduled[r[5]] = ""
		}
	}
	if scheduled["Lai Châu"] != "10/06/2021 – 11/06/2021" || scheduled["Tuyên Quang"] != "12/06/2021" || scheduled["Bắc Ninh"] != "" {
		t.Errorf("coverage workbook schedule column: %q", scheduled)
	}

	// Coverage reads the schedule: a unit scheduled is pending with its day
	// until that day has passed, then overdue though the window is open; a
	// unit not scheduled stays pending until the window closes.
	for _, tc := range []struct {
		asOf                string
		laiChau, tuyenQuang string
	}{
		{"2021-06-09", report.UnitPending, report.UnitPending},
		{"2021-06-11", report.UnitPending, report.UnitPending},
		{"2021-06-12", report.UnitOverdue, report.UnitPending},
		{"2021-06-13", report.UnitOverdue, report.UnitOverdue},
	} {
		var cov report.Coverage
		e.get(t, office, "/api/v1/reports/coverage?campaign_id="+campaignRound1+"&date="+tc.asOf).decode(t, http.StatusOK, &cov)
		states := map[string]report.UnitCoverage{}
		for _, u := range coverageOf(t, cov, campaignRound1).Units {
			states[u.UnitID] = u
		}
		lai, tq, bn := states[unitLaiChau], states[unitTuyenQuang], states[unitBacNinh]
		if lai.State != tc.laiChau || tq.State != tc.tuyenQuang || bn.State != report.UnitPending {
			t.Errorf("as of %s: Lai Châu %s, Tuyên Quang %s, Bắc Ninh %s; want %s, %s, pending", tc.asOf, lai.State, tq.State, bn.State, tc.laiChau, tc.tuyenQuang)
		}
		if lai.ScheduledOn == nil || *lai.ScheduledOn != "2021-06-10" || lai.ScheduledTo == nil || *lai.ScheduledTo != "2021-06-11" || bn.ScheduledOn != nil {
			t.Errorf("as of %s: scheduled Lai Châu %v–%v, Bắc Ninh %v", tc.asOf, lai.ScheduledOn, lai.ScheduledTo, bn.ScheduledOn)
		}
	}
	for _, who := range []*device{sec, liaison, dept} {
		e.get(t, who, "/api/v1/reports/notices/"+notice+"/notice.docx").wantError(t, http.StatusForbidden, "forbidden")
	}
	e.get(t, ic, "/api/v1/reports/notices/"+uuid.NewString()+"/notice.docx").wantError(t, http.StatusNotFound, "not_found")
	e.get(t, ic, "/api/v1/reports/notices/nope/notice.docx").wantError(t, http.StatusNotFound, "not_found")
}

// A briefing's recommendations are in the Office's register beside those
// from visit notes, each saying where it came from (JSON and workbook);
// the minutes document carries them with their answers, for headquarters
// and the cluster's leads only.
func TestBriefingRecommendationsInTheRegister(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	sec := e.addAccount(t, account{username: "bi.thu", fullName: "Nguyễn Văn Bình", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	otherSec := e.addUser(t, "bi.thu.khac", auth.RoleSecretary)
	dept := e.addAccount(t, account{username: "ban.tuyen.giao", department: deptPropaganda, roles: []string{auth.RoleDepartment}})
	otherDept := e.addAccount(t, account{username: "ban.kiem.tra", department: deptInspection, roles: []string{auth.RoleDepartment}})
	cluster := uuid.NewString()
	e.apply(t,
		syncdb.ServerChange{Table: "clusters", RowID: cluster, Fields: map[string]any{"name": "Cụm Tây Bắc", "lead_secretary_id": sec.userID,
			"lead_department_id": deptPropaganda}},
		syncdb.ServerChange{Table: "units", RowID: unitLaiChau, Fields: map[string]any{"cluster_id": cluster}},
	)
	briefing := uuid.NewString()
	fromBriefing := func(text string) string {
		id := uuid.NewString()
		sec.push(t, "", upsert("findings", id, map[string]any{"author_id": sec.userID, "briefing_id": briefing, "unit_id": unitLaiChau,
			"campaign_id": campaignRound1, "category": "recommendation", "text": text}))
		return id
	}
	sec.push(t, "", upsert("briefings", briefing, map[string]any{"cluster_id": cluster, "campaign_id": campaignRound1, "held_on": "2021-06-20",
		"place": "Sa Pa", "host_unit_id": unitLaiChau, "unit_ids": []any{unitLaiChau}, "minutes": "Các tỉnh báo cáo kết quả 6 tháng đầu năm."}))
	answered := fromBriefing("Đề nghị hỗ trợ kinh phí tập huấn")
	fromBriefing("Đề nghị tăng chỉ tiêu đoàn viên")
	visit := trip(sec, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	n := note(sec, campaignRound1, unitLaiChau, visit[0].RowID, "submitted")
	n.Fields["title"] = "Kiểm tra Tỉnh đoàn Lai Châu"
	sec.push(t, "", append(visit, n, upsert("findings", uuid.NewString(), map[string]any{"author_id": sec.userID, "note_id": n.RowID,
		"category": "recommendation", "text": "Đề nghị bổ sung biên chế"}))...)
	office.push(t, "", upsert("findings", answered, map[string]any{"status": "resolved", "department_id": deptPropaganda,
		"due_on": "2021-07-15", "answer": "Văn phòng bố trí kinh phí trong quý III"}))

	var reg struct {
		Items []struct {
			Text, Source, Answer string
			BriefingID           *string `json:"briefing_id"`
			BriefingCluster      *string `json:"briefing_cluster"`
		} `json:"items"`
	}
	e.get(t, office, "/api/v1/reports/findings?category=recommendation").decode(t, http.StatusOK, &reg)
	sources := map[string]string{}
	for _, it := range reg.Items {
		sources[it.Text] = it.Source
		if it.Source == "briefing" && (it.BriefingID == nil || *it.BriefingID != briefing || it.BriefingCluster == nil || *it.BriefingCluster != "Cụm Tây Bắc") {
			t.Errorf("%q does not name its briefing: %+v", it.Text, it)
		}
	}
	wantSources := map[string]string{"Đề nghị hỗ trợ kinh phí tập huấn": "briefing", "Đề nghị tăng chỉ tiêu đoàn viên": "briefing",
		"Đề nghị bổ sung biên chế": "note"}
	if len(sources) != len(wantSources) {
		t.Errorf("register %+v, want %v", reg.Items, wantSources)
	}
	for text, src := range wantSources {
		if sources[text] != src {
			t.Errorf("%q comes from %q, want %q", text, sources[text], src)
		}
	}
	rows := sheetRows(t, e.get(t, office, "/api/v1/reports/findings.xlsx?category=recommendation").body)
	col := slices.Index(rows[2], "Nguồn (ghi chép làm việc, giao ban cụm)")
	got := map[string]bool{}
	for _, r := range rows[3:] {
		if col >= 0 && col < len(r) {
			got[r[col]] = true
		}
	}
	for _, want := range []string{"Giao ban cụm Tây Bắc, ngày 20/06/2021", "Ghi chép làm việc «Kiểm tra Tỉnh đoàn Lai Châu»"} {
		if !got[want] {
			t.Errorf("the workbook's source column lacks %q: %q", want, rows)
		}
	}

	for _, who := range []*device{office, sec, dept} {
		doc := openDOCX(t, e.get(t, who, "/api/v1/reports/briefings/"+briefing+"/minutes.docx"))
		for _, want := range []string{"BIÊN BẢN", "Giao ban Cụm Tây Bắc – Kiểm tra định kỳ Đợt 1 năm 2021", "Các tỉnh báo cáo kết quả 6 tháng đầu năm.",
			"Đề nghị hỗ trợ kinh phí tập huấn", "Văn phòng bố trí kinh phí trong quý III\nHạn xử lý: 15/07/2021",
			"Đề nghị tăng chỉ tiêu đoàn viên", "Chưa trả lời (Đang mở)"} {
			if _, ok := doc.Find(want); !ok && !strings.Contains(doc.Text(), want) {
				t.Errorf("the minutes lack %q:\n%s", want, doc.Text())
			}
		}
		if strings.Contains(doc.Text(), "Đề nghị bổ sung biên chế") {
			t.Error("the minutes carry a recommendation from a visit note")
		}
	}
	for _, who := range []*device{otherSec, otherDept} {
		e.get(t, who, "/api/v1/reports/briefings/"+briefing+"/minutes.docx").wantError(t, http.StatusForbidden, "forbidden")
	}
}
