package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"dicoso/server/auth"
)

// workbook is an export opened the way a spreadsheet program opens it:
// each sheet's rows as displayed (dates in their number format).
type workbook struct {
	sheets []string
	rows   map[string][][]string
}

func openWorkbook(t *testing.T, r reply) workbook {
	t.Helper()
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the export does not open as a workbook: %v", err)
	}
	defer f.Close()
	wb := workbook{sheets: f.GetSheetList(), rows: map[string][][]string{}}
	for _, s := range wb.sheets {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatalf("sheet %s: %v", s, err)
		}
		wb.rows[s] = rows
	}
	return wb
}

// cell is a row's value under header ("" past the row's end).
func cell(headers, row []string, header string) string {
	i := slices.Index(headers, header)
	if i < 0 || i >= len(row) {
		return ""
	}
	return row[i]
}

func rowOf(t *testing.T, rows [][]string, col int, value string) []string {
	t.Helper()
	for _, r := range rows {
		if col < len(r) && r[col] == value {
			return r
		}
	}
	t.Fatalf("no row with %q in column %d: %q", value, col, rows)
	return nil
}

func TestCoverageExport(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	dept := e.addAccount(t, account{username: "ban.tuyen.giao", department: deptPropaganda, roles: []string{auth.RoleDepartment}})
	liaison := e.addUser(t, "tinh.doan", auth.RoleUnitLiaison)
	e.team(t, campaignRound1, lan, unitLaiChau, unitHaNam)
	onTime := trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	late := trip(lan, "inspection", "done", []string{unitHaNam}, map[string]string{"2021-06-20": unitHaNam})
	changes := append(onTime, late...)
	changes = append(changes,
		note(lan, campaignRound1, unitLaiChau, onTime[0].RowID, "submitted"),
		note(lan, campaignRound1, unitHaNam, late[0].RowID, "submitted"))
	lan.push(t, "", changes...)

	r := e.get(t, office, "/api/v1/reports/coverage.xlsx?campaign_id="+campaignRound1+"&date=2021-07-01")
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="bao-cao-tien-do-kiem-tra-2021-07-01.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	wb := openWorkbook(t, r)
	if !slices.Equal(wb.sheets, []string{"Đơn vị được kiểm tra", "Tổng hợp theo đợt"}) {
		t.Fatalf("sheets %q", wb.sheets)
	}
	units := wb.rows["Đơn vị được kiểm tra"]
	headers := []string{"STT", "Đợt kiểm tra", "Thời gian kiểm tra", "Cụm hoạt động", "Mã đơn vị", "Đơn vị",
		"Tình hình kiểm tra", "Lịch kiểm tra", "Ngày kiểm tra", "Gửi ghi chép lúc", "Trạng thái ghi chép", "Số ghi chép"}
	if units[0][0] != "Báo cáo tiến độ kiểm tra" || !strings.Contains(units[1][0], "Đợt kiểm tra: Kiểm tra định kỳ Đợt 1 năm 2021") ||
		!strings.Contains(units[1][0], "01/07/2021") {
		t.Errorf("title %q, selection %q", units[0][0], units[1][0])
	}
	if !slices.Equal(units[2], headers) {
		t.Errorf("headers %q, want %q", units[2], headers)
	}
	if len(units) != 3+11 {
		t.Fatalf("%d unit rows, want the round's 11", len(units)-3)
	}
	lai := rowOf(t, units, 5, "Lai Châu")
	for header, want := range map[string]string{
		"STT":                 "1", // the plan's order
		"Thời gian kiểm tra":  "01/06/2021 – 15/06/2021",
		"Tình hình kiểm tra":  "Đã kiểm tra, đúng thời gian",
		"Ngày kiểm tra":       "05/06/2021",
		"Trạng thái ghi chép": "Đã gửi",
		"Số ghi chép":         "1",
	} {
		if got := cell(headers, lai, header); got != want {
			t.Errorf("Lai Châu %s = %q, want %q", header, got, want)
		}
	}
	if got := cell(headers, lai, "Gửi ghi chép lúc"); len(got) != len("02/01/2006 15:04") {
		t.Errorf("Lai Châu submitted at %q, want dd/mm/yyyy hh:mm", got)
	}
	if got := cell(headers, rowOf(t, units, 5, "Hà Nam"), "Tình hình kiểm tra"); got != "Đã kiểm tra, muộn" {
		t.Errorf("Hà Nam %q, want late", got)
	}
	if got := cell(headers, rowOf(t, units, 5, "Bắc Ninh"), "Tình hình kiểm tra"); got != "Quá hạn, chưa kiểm tra" {
		t.Errorf("Bắc Ninh %q, want overdue", got)
	}
	summary := wb.rows["Tổng hợp theo đợt"]
	sumHeaders := []string{"STT", "Đợt kiểm tra", "Thời gian kiểm tra", "Số đơn vị", "Đã kiểm tra",
		"Đúng thời gian", "Trước thời gian", "Muộn", "Chưa kiểm tra", "Quá hạn"}
	if !slices.Equal(summary[2], sumHeaders) || len(summary) != 4 {
		t.Fatalf("summary %q", summary)
	}
	if got, want := summary[3][1:], []string{"Kiểm tra định kỳ Đợt 1 năm 2021", "01/06/2021 – 15/06/2021", "11", "2", "1", "0", "1", "0", "9"}; !slices.Equal(got, want) {
		t.Errorf("summary row %q, want %q", got, want)
	}

	// Every campaign; the roles of the JSON report.
	all := openWorkbook(t, e.get(t, dept, "/api/v1/reports/coverage.xlsx?date=2021-07-01"))
	if n := len(all.rows["Đơn vị được kiểm tra"]) - 3; n != 30 {
		t.Errorf("all campaigns: %d unit rows, want 11 + 11 + 8", n)
	}
	if n := len(all.rows["Tổng hợp theo đợt"]) - 3; n != 3 {
		t.Errorf("all campaigns: %d summary rows, want 3", n)
	}
	openWorkbook(t, e.get(t, lan, "/api/v1/reports/coverage.xlsx"))
	e.get(t, liaison, "/api/v1/reports/coverage.xlsx").wantError(t, http.StatusForbidden, "forbidden")
	e.get(t, nil, "/api/v1/reports/coverage.xlsx").wantError(t, http.StatusUnauthorized, "unauthorized")
	e.get(t, office, "/api/v1/reports/coverage.xlsx?campaign_id=round-1").wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, office, "/api/v1/reports/coverage.xlsx?date=1/7/2021").wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, office, "/api/v1/reports/coverage.xlsx?campaign_id="+unitHaNoi).wantError(t, http.StatusNotFound, "not_found")
}

func TestCoverageExportOfNothing(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin()) // no plan, no campaign
	wb := openWorkbook(t, e.get(t, e.admin, "/api/v1/reports/coverage.xlsx"))
	for _, s := range wb.sheets {
		if rows := wb.rows[s]; len(rows) != 3 || rows[2][0] != "STT" {
			t.Errorf("sheet %s of an empty selection: %q, want title, selection and headers", s, rows)
		}
	}
}

func TestFieldDaysExport(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary}})
	minh := e.addAccount(t, account{username: "bt.minh", fullName: "Trần Văn Minh", roles: []string{auth.RoleSecretary}})
	inspector := e.addUser(t, "kt.hoa", auth.RoleInspector)
	ic := e.addUser(t, "ban.kiem.tra", auth.RoleInspectionCommittee)
	laiLat, laiLng := e.unitPosition(t, unitLaiChau)
	lan.push(t, "", append(trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{
		"2021-03-05": unitLaiChau, "2021-06-03": unitLaiChau}),
		checkin(lan, unitLaiChau, "2021-03-05T01:00:00Z", laiLat, laiLng))...)
	days := map[string]string{}
	for d := 1; d <= 12; d++ {
		days["2021-03-"+twoDigits(d)] = unitHaNoi
	}
	minh.push(t, "", trip(minh, "working_session", "done", []string{unitHaNoi}, days)...)

	r := e.get(t, ic, "/api/v1/reports/field-days.xlsx?year=2021&date=2021-07-02")
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="bao-cao-ngay-di-co-so-2021-2021-07-02.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	wb := openWorkbook(t, r)
	if !slices.Equal(wb.sheets, []string{"Ngày đi cơ sở"}) {
		t.Fatalf("sheets %q", wb.sheets)
	}
	rows := wb.rows["Ngày đi cơ sở"]
	headers := []string{"STT", "Họ và tên", "Chức vụ", "Số ngày đi cơ sở", "Ngày có xác nhận vị trí", "Tối thiểu",
		"Còn thiếu", "Cần đạt đến ngày", "Tiến độ", "Ngày đã lên lịch",
		"Theo chuyên đề (điều tra, khảo sát)", "Kiểm tra, giám sát", "Dự hội nghị BCH, BTV đoàn cấp dưới",
		"Làm việc với tỉnh, thành đoàn, đoàn trực thuộc",
		"Tháng Thanh niên 2021", "Chiến dịch Thanh niên tình nguyện Hè năm 2021"}
	if !slices.Equal(rows[2], headers) {
		t.Errorf("headers %q, want %q", rows[2], headers)
	}
	if rows[0][0] != "Báo cáo số ngày đi cơ sở của các đồng chí Bí thư Trung ương Đoàn năm 2021" ||
		!strings.Contains(rows[1][0], "356-KH/TWĐTN-BKT") || !strings.Contains(rows[1][0], "02/07/2021") || !strings.Contains(rows[1][0], "30.1") {
		t.Errorf("title %q, selection %q", rows[0][0], rows[1][0])
	}
	if len(rows) != 3+2 {
		t.Fatalf("%d rows, want the 2 secretaries", len(rows)-3)
	}
	l := rowOf(t, rows, 1, "Nguyễn Thị Lan")
	for header, want := range map[string]string{
		"Số ngày đi cơ sở":        "2",
		"Ngày có xác nhận vị trí": "1",
		"Tối thiểu":               "60",
		"Còn thiếu":               "58",
		"Cần đạt đến ngày":        "30.1",
		"Tiến độ":                 "Chậm tiến độ",
		"Kiểm tra, giám sát":      "2",
		"Tháng Thanh niên 2021":   "1",
		"Chiến dịch Thanh niên tình nguyện Hè năm 2021": "1",
	} {
		if got := cell(headers, l, header); got != want {
			t.Errorf("Lan %s = %q, want %q", header, got, want)
		}
	}
	if got := cell(headers, rowOf(t, rows, 1, "Trần Văn Minh"), "Làm việc với tỉnh, thành đoàn, đoàn trực thuộc"); got != "12" {
		t.Errorf("Minh's working sessions %q, want 12", got)
	}

	// A secretary exports their own line only.
	own := openWorkbook(t, e.get(t, lan, "/api/v1/reports/field-days.xlsx?year=2021&date=2021-07-02")).rows["Ngày đi cơ sở"]
	if len(own) != 4 || own[3][1] != "Nguyễn Thị Lan" {
		t.Errorf("Lan's export %q, want her line alone", own)
	}
	e.get(t, lan, "/api/v1/reports/field-days.xlsx?user_id="+minh.userID).wantError(t, http.StatusForbidden, "forbidden")
	e.get(t, inspector, "/api/v1/reports/field-days.xlsx").wantError(t, http.StatusForbidden, "forbidden")
	// A year without a plan is tallied against the standing minimum, and says so.
	noPlan := openWorkbook(t, e.get(t, e.admin, "/api/v1/reports/field-days.xlsx?year=2020&date=2020-07-01")).rows["Ngày đi cơ sở"]
	if !strings.HasPrefix(noPlan[1][0], "Chưa có kế hoạch của năm: tối thiểu 60 ngày") || len(noPlan) != 3+2 {
		t.Errorf("2020 export %q", noPlan)
	}
	e.get(t, e.admin, "/api/v1/reports/field-days.xlsx?year=21").wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, e.admin, "/api/v1/reports/field-days.xlsx?user_id="+inspector.userID).wantError(t, http.StatusNotFound, "not_found")
}

func TestFieldDaysExportOfNothing(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin()) // the plan, no secretary yet
	rows := openWorkbook(t, e.get(t, e.admin, "/api/v1/reports/field-days.xlsx?year=2021")).rows["Ngày đi cơ sở"]
	if len(rows) != 3 || rows[2][1] != "Họ và tên" {
		t.Errorf("empty export %q, want title, selection and headers", rows)
	}
}
