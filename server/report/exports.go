package report

import (
	"context"
	"fmt"
	"strconv"

	"dicoso/sync/plan"
)

// Titles of the exports.
const (
	CoverageTitle  = "Báo cáo tiến độ kiểm tra"
	FieldDaysTitle = "Báo cáo số ngày đi cơ sở của các đồng chí Bí thư Trung ương Đoàn"
)

// Sheets of the exports (Excel allows at most 31 characters).
const (
	coverageUnitsSheet   = "Đơn vị được kiểm tra"
	coverageSummarySheet = "Tổng hợp theo đợt"
	fieldDaysSheet       = "Ngày đi cơ sở"
)

// CoverageHeaders are the columns of the coverage export's unit sheet.
var CoverageHeaders = []string{
	"STT", "Đợt kiểm tra", "Thời gian kiểm tra", "Cụm hoạt động", "Mã đơn vị", "Đơn vị",
	"Tình hình kiểm tra", "Lịch kiểm tra", "Ngày kiểm tra", "Gửi ghi chép lúc", "Trạng thái ghi chép", "Số ghi chép",
}

// CoverageSummaryHeaders are the columns of its per-campaign sheet.
var CoverageSummaryHeaders = []string{
	"STT", "Đợt kiểm tra", "Thời gian kiểm tra", "Số đơn vị", "Đã kiểm tra",
	"Đúng thời gian", "Trước thời gian", "Muộn", "Chưa kiểm tra", "Quá hạn",
}

// CoverageStateLabel is a unit's coverage state in words.
func CoverageStateLabel(state string) string {
	switch state {
	case UnitInWindow:
		return "Đã kiểm tra, đúng thời gian"
	case UnitEarly:
		return "Đã kiểm tra, trước thời gian"
	case UnitLate:
		return "Đã kiểm tra, muộn"
	case UnitPending:
		return "Chưa kiểm tra"
	case UnitOverdue:
		return "Quá hạn, chưa kiểm tra"
	}
	return state
}

// NoteStatusLabel is a visit note's status as the UI shows it.
func NoteStatusLabel(status string) string {
	switch status {
	case "draft":
		return "Bản nháp"
	case "submitted":
		return "Đã gửi"
	case "needs_revision":
		return "Cần chỉnh sửa"
	case "reviewed":
		return "Đã duyệt"
	}
	return status
}

// PurposeLabel is a trip purpose in the plan's words (glossary).
func PurposeLabel(purpose string) string {
	switch purpose {
	case "thematic_survey":
		return "Theo chuyên đề (điều tra, khảo sát)"
	case "inspection":
		return "Kiểm tra, giám sát"
	case "meeting":
		return "Dự hội nghị BCH, BTV đoàn cấp dưới"
	case "working_session":
		return "Làm việc với tỉnh, thành đoàn, đoàn trực thuộc"
	}
	return purpose
}

// scheduledDays is a unit's visit in its team's schedule, in words ("" when
// it has none).
func scheduledDays(u UnitCoverage) string {
	if u.ScheduledOn == nil {
		return ""
	}
	return VisitDays(*u.ScheduledOn, deref(u.ScheduledTo))
}

// CoverageFilename names the coverage export, with the day it reads.
func CoverageFilename(asOf string) string { return "bao-cao-tien-do-kiem-tra-" + asOf + ".xlsx" }

// FieldDaysFilename names the field-day export, with its year and day.
func FieldDaysFilename(year int, asOf string) string {
	return "bao-cao-ngay-di-co-so-" + strconv.Itoa(year) + "-" + asOf + ".xlsx"
}

// CoverageWorkbook is the coverage report of q as a workbook: one row per
// planned unit of each campaign, and a sheet of per-campaign totals. Its
// errors are Coverage's.
func (r *Reports) CoverageWorkbook(ctx context.Context, q CoverageQuery) (*Workbook, error) {
	cov, err := r.Coverage(ctx, q)
	if err != nil {
		return nil, err
	}
	scope := "Tất cả các đợt kiểm tra"
	if q.CampaignID != "" && len(cov.Items) == 1 {
		scope = "Đợt kiểm tra: " + cov.Items[0].Name
	}
	if q.ClusterID != "" {
		scope += ". Cụm hoạt động: " + cov.clusterName
	}
	scope = fmt.Sprintf("%s. Tính đến ngày %s.", scope, viDate(cov.AsOf))
	units := table{sheet: coverageUnitsSheet, title: CoverageTitle, scope: scope, headers: CoverageHeaders,
		widths: []float64{6, 32, 24, 20, 10, 28, 28, 24, 14, 18, 16, 10}}
	summary := table{sheet: coverageSummarySheet, title: CoverageTitle, scope: scope, headers: CoverageSummaryHeaders,
		widths: []float64{6, 32, 24, 10, 12, 14, 14, 10, 14, 10}}
	for i, c := range cov.Items {
		win := window(c.StartsOn, c.EndsOn)
		summary.rows = append(summary.rows, []any{i + 1, c.Name, win, c.Planned, c.Inspected,
			c.InWindow, c.Early, c.Late, c.Pending, c.Overdue})
		for _, u := range c.Units {
			status := ""
			if u.NoteStatus != nil {
				status = NoteStatusLabel(*u.NoteStatus)
			}
			units.rows = append(units.rows, []any{len(units.rows) + 1, c.Name, win, deref(u.ClusterName), u.Code, u.Name,
				CoverageStateLabel(u.State), scheduledDays(u), dateCell(u.InspectedOn), viInstant(u.SubmittedAt), status, u.Notes})
		}
	}
	wb, err := newWorkbook(CoverageTitle, units, summary)
	if err != nil {
		return nil, fmt.Errorf("report coverage export: %w", err)
	}
	return wb, nil
}

// FieldDaysHeaders are the fixed columns of the field-day export; a column
// per trip purpose and one per special period of the plan follow.
var FieldDaysHeaders = []string{
	"STT", "Họ và tên", "Chức vụ", "Số ngày đi cơ sở", "Ngày có xác nhận vị trí", "Tối thiểu",
	"Còn thiếu", "Cần đạt đến ngày", "Tiến độ", "Ngày đã lên lịch",
}

// FieldDaysWorkbook is the field-day tally of q as a workbook: one row per
// secretary. Its errors are FieldDays'.
func (r *Reports) FieldDaysWorkbook(ctx context.Context, q FieldDaysQuery) (*Workbook, error) {
	fd, err := r.FieldDays(ctx, q)
	if err != nil {
		return nil, err
	}
	headers := append([]string(nil), FieldDaysHeaders...)
	widths := []float64{6, 28, 24, 12, 14, 10, 10, 12, 16, 12}
	for _, p := range plan.Purposes() {
		headers = append(headers, PurposeLabel(p))
		widths = append(widths, 18)
	}
	for _, p := range fd.SpecialPeriods {
		headers = append(headers, p.Name)
		widths = append(widths, 18)
	}
	basis := "Chưa có kế hoạch của năm"
	if fd.PlanNumber != nil {
		basis = "Theo Kế hoạch số " + *fd.PlanNumber
	}
	t := table{sheet: fieldDaysSheet, title: fmt.Sprintf("%s năm %d", FieldDaysTitle, fd.Year), headers: headers, widths: widths,
		scope: fmt.Sprintf("%s: tối thiểu %d ngày trong năm. Tính đến ngày %s (ngày thứ %d/%d của năm), cần đạt %s ngày.",
			basis, fd.MinFieldDays, viDate(fd.AsOf), fd.ElapsedDays, fd.DaysInYear, strconv.FormatFloat(fd.ExpectedByDate, 'f', -1, 64))}
	for i, s := range fd.Items {
		pace := "Chậm tiến độ"
		if s.OnPace {
			pace = "Đúng tiến độ"
		}
		row := []any{i + 1, s.FullName, s.Title, s.FieldDays, s.VerifiedDays, s.MinFieldDays,
			s.RemainingDays, s.ExpectedByDate, pace, s.PlannedDays}
		for _, p := range s.ByPurpose {
			row = append(row, p.FieldDays)
		}
		for _, p := range s.SpecialPeriods {
			row = append(row, p.FieldDays)
		}
		t.rows = append(t.rows, row)
	}
	wb, err := newWorkbook(t.title, t)
	if err != nil {
		return nil, fmt.Errorf("report field days export: %w", err)
	}
	return wb, nil
}
