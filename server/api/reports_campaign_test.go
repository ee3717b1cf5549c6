package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report/docx/docxtest"
	"dicoso/sync/protocol"
)

// openDOCX checks the answer is a Word document and opens it.
func openDOCX(t *testing.T, r reply) docxtest.Doc {
	t.Helper()
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" {
		t.Errorf("Content-Type %q", ct)
	}
	doc, err := docxtest.Open(r.body)
	if err != nil {
		t.Fatalf("the report does not open: %v", err)
	}
	return doc
}

// after reports whether the paragraph texts appear in this order.
func inOrder(doc docxtest.Doc, texts ...string) bool {
	from := 0
	for _, s := range texts {
		found := false
		for i := from; i < len(doc.Paragraphs); i++ {
			if doc.Paragraphs[i].Text == s {
				from, found = i+1, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func TestCampaignReportDOCX(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	ic := e.addAccount(t, account{username: "ban.kiem.tra", fullName: "Trần Thị Thu", roles: []string{auth.RoleInspectionCommittee}})
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	dept := e.addAccount(t, account{username: "ban.tuyen.giao", department: deptPropaganda, roles: []string{auth.RoleDepartment}})

	visit := trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	reviewed := note(lan, campaignRound1, unitLaiChau, visit[0].RowID, "submitted")
	for k, v := range map[string]string{
		"title":           "Kiểm tra Tỉnh đoàn Lai Châu",
		"results":         "Tổ chức tốt Tháng Thanh niên.\nPhát triển 1.200 đoàn viên mới.",
		"models":          "Mô hình «Thắp sáng đường quê»",
		"shortcomings":    "Sinh hoạt chi đoàn chưa đều",
		"aspirations":     "Mong được tập huấn <kỹ năng> & nghiệp vụ",
		"recommendations": "Đề nghị hỗ trợ kinh phí",
		"conclusions":     "Tỉnh đoàn Lai Châu hoàn thành tốt nhiệm vụ",
	} {
		reviewed.Fields[k] = v
	}
	submitted := note(lan, campaignRound1, unitTuyenQuang, "", "submitted")
	submitted.Fields["conclusions"] = "CHƯA DUYỆT: kết luận Tuyên Quang"
	draft := note(lan, campaignRound1, unitHaNam, "", "draft")
	draft.Fields["conclusions"] = "NHÁP: kết luận Hà Nam"
	sentBack := note(lan, campaignRound1, unitBacNinh, "", "submitted")
	sentBack.Fields["conclusions"] = "TRẢ LẠI: kết luận Bắc Ninh"
	thematic := note(lan, campaignThematic, unitBacNinh, "", "submitted")
	thematic.Fields["conclusions"] = "CHUYÊN ĐỀ: kết luận Bắc Ninh"
	finding := func(n protocol.Change, category, text string) protocol.Change {
		return upsert("findings", uuid.NewString(), map[string]any{
			"note_id": n.RowID, "author_id": lan.userID, "category": category, "text": text, "department_id": deptPropaganda})
	}
	lan.push(t, "", append(visit, reviewed, submitted, draft, sentBack, thematic,
		finding(reviewed, "recommendation", "Đề nghị hỗ trợ kinh phí cho đội hình tình nguyện"),
		finding(reviewed, "shortcoming", "Sinh hoạt chi đoàn chưa đều ở cơ sở"),
		finding(submitted, "shortcoming", "CHƯA DUYỆT: vấn đề Tuyên Quang"),
		finding(draft, "shortcoming", "NHÁP: vấn đề Hà Nam"),
	)...)
	review := func(id, status string) {
		ic.push(t, "", upsert("visit_notes", id, map[string]any{"status": status, "reviewed_by": ic.userID}))
	}
	review(reviewed.RowID, "reviewed")
	review(thematic.RowID, "reviewed")
	review(sentBack.RowID, "reviewed")
	review(sentBack.RowID, "needs_revision") // reviewed once, then sent back: out again

	r := e.get(t, ic, "/api/v1/reports/campaigns/"+campaignRound1+"/report.docx?date=2021-07-05")
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="bao-cao-kiem-tra-dinh-ky-dot-1-nam-2021.docx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	doc := openDOCX(t, r)
	text := doc.Text()

	// The administrative form: issuing body and number on the left, the
	// Union and the place and date on the right, then the title.
	for _, want := range []struct {
		text                    string
		bold, italic, underline bool
		align                   string
		table                   int
	}{
		{"BAN CHẤP HÀNH TRUNG ƯƠNG", false, false, false, "center", 1},
		{"BAN KIỂM TRA", true, false, false, "center", 1},
		{"ĐOÀN TNCS HỒ CHÍ MINH", true, false, true, "center", 1},
		{"Hà Nội, ngày 05 tháng 07 năm 2021", false, true, false, "center", 1},
		{"BÁO CÁO", true, false, false, "center", 0},
		{"Kết quả kiểm tra định kỳ Đợt 1 năm 2021", true, false, false, "center", 0},
	} {
		p, ok := doc.Find(want.text)
		if !ok {
			t.Errorf("no paragraph %q in\n%s", want.text, text)
			continue
		}
		if p.Bold != want.bold || p.Italic != want.italic || p.Underline != want.underline || p.Align != want.align || p.Table != want.table {
			t.Errorf("%q: %+v, want bold %v italic %v underline %v align %s table %d",
				want.text, p, want.bold, want.italic, want.underline, want.align, want.table)
		}
	}
	if left, right := doc.Paragraphs[0], doc.Index("ĐOÀN TNCS HỒ CHÍ MINH"); left.Cell != 0 || doc.Paragraphs[right].Cell != 1 {
		t.Errorf("issuing body in cell %d, the Union in cell %d: want left and right", left.Cell, doc.Paragraphs[right].Cell)
	}
	if !strings.Contains(text, "Số:") || !strings.Contains(text, "-BC/TWĐTN-BKT") {
		t.Errorf("no number line in\n%s", text)
	}
	if !strings.Contains(text, "Thực hiện Kế hoạch số 356-KH/TWĐTN-BKT ngày 09/02/2021 của Ban Bí thư Trung ương Đoàn") {
		t.Errorf("the introduction does not cite the plan:\n%s", text)
	}

	// Per unit, from the reviewed note only; the others are not yet reviewed.
	if !inOrder(doc,
		"I. KHÁI QUÁT",
		"II. KẾT QUẢ KIỂM TRA TẠI CÁC ĐƠN VỊ",
		"1. Lai Châu",
		"a) Kết quả thực hiện", "Tổ chức tốt Tháng Thanh niên.", "Phát triển 1.200 đoàn viên mới.",
		"b) Mô hình tiêu biểu, điển hình tiên tiến", "Mô hình «Thắp sáng đường quê»",
		"c) Tồn tại, hạn chế, vướng mắc", "Sinh hoạt chi đoàn chưa đều",
		"d) Nhu cầu, nguyện vọng", "Mong được tập huấn <kỹ năng> & nghiệp vụ",
		"đ) Kiến nghị, đề xuất", "Đề nghị hỗ trợ kinh phí",
		"e) Kết luận", "Tỉnh đoàn Lai Châu hoàn thành tốt nhiệm vụ",
		"2. Tuyên Quang", "Chưa có ghi chép làm việc được duyệt.",
		"3. Bắc Ninh", "Chưa có ghi chép làm việc được duyệt.",
		"4. Hà Nam", "Chưa có ghi chép làm việc được duyệt.",
		"III. TỔNG HỢP VẤN ĐỀ PHÁT HIỆN",
		"1. Tồn tại, hạn chế, vướng mắc", "Sinh hoạt chi đoàn chưa đều ở cơ sở",
		"2. Kiến nghị, đề xuất", "Đề nghị hỗ trợ kinh phí cho đội hình tình nguyện",
		"3. Mô hình tiêu biểu, điển hình tiên tiến", "Không có.",
		"4. Nhu cầu, nguyện vọng", "Không có.",
		"Nơi nhận:", "- Lưu BKT, VP.",
	) {
		t.Errorf("the report's parts are missing or out of order:\n%s", text)
	}
	if !strings.Contains(text, "Theo ghi chép làm việc «Kiểm tra Tỉnh đoàn Lai Châu» của đồng chí Nguyễn Thị Lan, ngày làm việc 05/06/2021; duyệt: đồng chí Trần Thị Thu.") {
		t.Errorf("the note is not attributed:\n%s", text)
	}
	if !strings.Contains(text, "Đơn vị được kiểm tra: 11 đơn vị theo kế hoạch; 1 đơn vị đã có ghi chép làm việc được duyệt.") ||
		!strings.Contains(text, "Đơn vị chưa có kết quả được duyệt: Tuyên Quang, Bắc Ninh, Hà Nam,") {
		t.Errorf("the overview does not count the units:\n%s", text)
	}
	if p, ok := doc.Find("Sinh hoạt chi đoàn chưa đều ở cơ sở"); !ok || p.Table == 0 {
		t.Errorf("the findings are not in a table: %+v", p)
	}
	for _, secret := range []string{"CHƯA DUYỆT", "NHÁP", "TRẢ LẠI", "CHUYÊN ĐỀ"} {
		if strings.Contains(text, secret) {
			t.Errorf("the report holds %q, from a note that is not a reviewed note of the campaign", secret)
		}
	}

	// Unsigned, a campaign nobody has reviewed yet, and the roles.
	blank := openDOCX(t, e.get(t, office, "/api/v1/reports/campaigns/"+campaignRound2+"/report.docx"))
	if !strings.Contains(blank.Text(), "Hà Nội, ngày      tháng      năm 20") {
		t.Errorf("no blank date line:\n%s", blank.Text())
	}
	if n := strings.Count(blank.Text(), "Chưa có ghi chép làm việc được duyệt."); n != 11 {
		t.Errorf("round 2: %d units not yet reviewed, want all 11", n)
	}
	openDOCX(t, e.get(t, e.admin, "/api/v1/reports/campaigns/"+strings.ToUpper(campaignRound1)+"/report.docx"))
	for _, who := range []*device{dept, lan} {
		e.get(t, who, "/api/v1/reports/campaigns/"+campaignRound1+"/report.docx").wantError(t, http.StatusForbidden, "forbidden")
	}
	e.get(t, nil, "/api/v1/reports/campaigns/"+campaignRound1+"/report.docx").wantError(t, http.StatusUnauthorized, "unauthorized")
	e.get(t, ic, "/api/v1/reports/campaigns/"+uuid.NewString()+"/report.docx").wantError(t, http.StatusNotFound, "not_found")
	e.get(t, ic, "/api/v1/reports/campaigns/dot-1/report.docx").wantError(t, http.StatusNotFound, "not_found")
	e.get(t, ic, "/api/v1/reports/campaigns/"+campaignRound1+"/report.docx?date=5/7/2021").wantError(t, http.StatusBadRequest, "validation_failed")
}
