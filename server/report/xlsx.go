package report

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// XLSXContentType is the media type of the exports.
const XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// FindingsTitle heads the exported register: the compiled report the
// Inspection Committee hands up to the Secretariat (plan III.1).
const FindingsTitle = "Báo cáo tổng hợp vấn đề phát hiện"

// findingsSheet is the sheet's name (Excel allows at most 31 characters).
const findingsSheet = "Vấn đề phát hiện"

// findingsHeaders are the register's columns, in the UI's words (glossary).
var findingsHeaders = []string{
	"STT",
	"Đợt kiểm tra",
	"Cụm hoạt động",
	"Đơn vị",
	"Nguồn (ghi chép làm việc, giao ban cụm)",
	"Người ghi",
	"Loại vấn đề",
	"Nội dung",
	"Ban phụ trách",
	"Trạng thái",
	"Hạn xử lý",
	"Trả lời",
	"Số lần theo dõi",
	"Theo dõi gần nhất",
}

// FindingsHeaders returns the export's column headers.
func FindingsHeaders() []string { return append([]string(nil), findingsHeaders...) }

// SourceLabel says where a finding was raised: "Ghi chép làm việc «…»"
// or "Giao ban cụm …, ngày dd/mm/yyyy".
func SourceLabel(f Finding) string {
	switch f.Source {
	case "note":
		if t := deref(f.NoteTitle); t != "" {
			return "Ghi chép làm việc «" + t + "»"
		}
		return "Ghi chép làm việc"
	case "briefing":
		s := "Giao ban cụm"
		if c := deref(f.BriefingCluster); c != "" {
			s += " " + strings.TrimPrefix(c, "Cụm ")
		}
		if d := deref(f.BriefingHeldOn); d != "" {
			s += ", ngày " + viDate(d)
		}
		return s
	}
	return ""
}

// CategoryLabel is a finding category in the plan's words.
func CategoryLabel(category string) string {
	switch category {
	case "shortcoming":
		return "Tồn tại, hạn chế, vướng mắc"
	case "recommendation":
		return "Kiến nghị, đề xuất"
	case "model":
		return "Mô hình tiêu biểu, điển hình tiên tiến"
	case "aspiration":
		return "Nhu cầu, nguyện vọng"
	}
	return category
}

// StatusLabel is a finding status as the UI shows it.
func StatusLabel(status string) string {
	switch status {
	case "open":
		return "Đang mở"
	case "in_progress":
		return "Đang xử lý"
	case "resolved":
		return "Đã giải quyết"
	case "dismissed":
		return "Không xử lý"
	}
	return status
}

// FindingsFilename names the export: the recommendations register when
// only recommendations are asked for, the findings register otherwise,
// with the day it was drawn up. ASCII only, so every browser keeps it.
func FindingsFilename(q FindingsQuery, today string) string {
	base := "bao-cao-van-de-phat-hien"
	if q.Category == "recommendation" {
		base = "bao-cao-kien-nghi-de-xuat"
	}
	return base + "-" + today + ".xlsx"
}

// FindingsXLSX is the findings register selected by q as a workbook: a
// title row, a row saying which findings and when it was drawn up (today,
// YYYY-MM-DD), the column headers, then one row per finding in the order
// of Findings.
func (r *Reports) FindingsXLSX(ctx context.Context, q FindingsQuery, today string) ([]byte, error) {
	var items []Finding
	var scope string
	err := r.read(ctx, "findings export", func(tx *sql.Tx) error {
		var err error
		if items, err = findings(ctx, r.st.Dialect(), tx, q); err != nil {
			return err
		}
		scope, err = describeFilter(ctx, tx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortFindings(items)
	b, err := findingsWorkbook(items, scope, today)
	if err != nil {
		return nil, fmt.Errorf("report findings export: %w", err)
	}
	return b, nil
}

// describeFilter says in words which findings the export holds.
func describeFilter(ctx context.Context, tx *sql.Tx, q FindingsQuery) (string, error) {
	var campaign, cluster, unit, dept sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT name FROM campaigns WHERE id = :campaign),
		(SELECT name FROM clusters WHERE id = :cluster),
		(SELECT name FROM units WHERE id = :unit),
		(SELECT name FROM departments WHERE id = :department)`,
		sql.Named("campaign", q.CampaignID), sql.Named("cluster", q.ClusterID),
		sql.Named("unit", q.UnitID), sql.Named("department", q.DepartmentID)).
		Scan(&campaign, &cluster, &unit, &dept)
	if err != nil {
		return "", fmt.Errorf("read filter names: %w", err)
	}
	var parts []string
	add := func(label, id string, name sql.NullString) {
		switch {
		case id == "":
		case name.String != "":
			parts = append(parts, label+": "+name.String)
		default:
			parts = append(parts, label+": "+id)
		}
	}
	add("Đợt kiểm tra", q.CampaignID, campaign)
	add("Cụm hoạt động", q.ClusterID, cluster)
	add("Đơn vị", q.UnitID, unit)
	if q.Category != "" {
		parts = append(parts, "Loại vấn đề: "+CategoryLabel(q.Category))
	}
	if q.Status != "" {
		parts = append(parts, "Trạng thái: "+StatusLabel(q.Status))
	}
	add("Ban phụ trách", q.DepartmentID, dept)
	if len(parts) == 0 {
		return "Tất cả vấn đề phát hiện", nil
	}
	return strings.Join(parts, "; "), nil
}

// Rows of the sheet (1-based, as Excel counts).
const (
	titleRow  = 1
	scopeRow  = 2
	headerRow = 3
	firstRow  = 4
)

// findingsWorkbook lays the register out on one sheet.
func findingsWorkbook(items []Finding, scope, today string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", findingsSheet); err != nil {
		return nil, fmt.Errorf("name sheet: %w", err)
	}
	sh := findingsSheet
	last, err := excelize.ColumnNumberToName(len(findingsHeaders))
	if err != nil {
		return nil, err
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}

	drawnUp := today
	if d, err := time.Parse(time.DateOnly, today); err == nil {
		drawnUp = d.Format("02/01/2006")
	}
	cells := []struct {
		row   int
		text  string
		style int
	}{
		{titleRow, FindingsTitle, st.title},
		{scopeRow, fmt.Sprintf("%s. Lập ngày %s; %d vấn đề.", scope, drawnUp, len(items)), st.scope},
	}
	for _, c := range cells {
		first, end := fmt.Sprintf("A%d", c.row), fmt.Sprintf("%s%d", last, c.row)
		if err := f.SetCellValue(sh, first, c.text); err != nil {
			return nil, err
		}
		if err := f.MergeCell(sh, first, end); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(sh, first, end, c.style); err != nil {
			return nil, err
		}
	}
	if err := f.SetRowHeight(sh, titleRow, 24); err != nil {
		return nil, err
	}

	header := make([]any, len(findingsHeaders))
	for i, h := range findingsHeaders {
		header[i] = h
	}
	if err := f.SetSheetRow(sh, fmt.Sprintf("A%d", headerRow), &header); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", headerRow), fmt.Sprintf("%s%d", last, headerRow), st.header); err != nil {
		return nil, err
	}

	for i, it := range items {
		row := firstRow + i
		values := []any{
			i + 1,
			deref(it.CampaignName),
			deref(it.ClusterName),
			deref(it.UnitName),
			SourceLabel(it),
			deref(it.AuthorName),
			CategoryLabel(it.Category),
			it.Text,
			deref(it.DepartmentName),
			StatusLabel(it.Status),
			"", // due date: set below as a date cell
			it.Answer,
			it.FollowUps,
			describeFollowUp(it.LastFollowUp),
		}
		if err := f.SetSheetRow(sh, fmt.Sprintf("A%d", row), &values); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", last, row), st.cell); err != nil {
			return nil, err
		}
		if it.DueOn != nil {
			if due, err := time.Parse(time.DateOnly, *it.DueOn); err == nil {
				cell := fmt.Sprintf("K%d", row)
				if err := f.SetCellValue(sh, cell, due); err != nil {
					return nil, err
				}
				// After the value: setting a time applies excelize's own
				// date format, which this replaces with the Vietnamese one.
				if err := f.SetCellStyle(sh, cell, cell, st.date); err != nil {
					return nil, err
				}
			}
		}
	}

	widths := []float64{6, 28, 20, 20, 30, 20, 22, 60, 26, 14, 12, 40, 10, 40}
	for i, w := range widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return nil, err
		}
	}
	lastRow := max(firstRow-1+len(items), headerRow)
	if err := f.AutoFilter(sh, fmt.Sprintf("A%d:%s%d", headerRow, last, lastRow), nil); err != nil {
		return nil, err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", firstRow), ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: FindingsTitle, Creator: "dicoso", Language: "vi-VN"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("write workbook: %w", err)
	}
	return buf.Bytes(), nil
}

type styles struct{ title, scope, header, cell, date int }

func newStyles(f *excelize.File) (styles, error) {
	border := []excelize.Border{
		{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1},
	}
	dateFmt := "dd/mm/yyyy"
	defs := []*excelize.Style{
		{Font: &excelize.Font{Bold: true, Size: 14}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
		{Font: &excelize.Font{Italic: true}, Alignment: &excelize.Alignment{Horizontal: "center", WrapText: true}},
		{Font: &excelize.Font{Bold: true}, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}},
		{Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}},
		{Border: border, Alignment: &excelize.Alignment{Vertical: "top"}, CustomNumFmt: &dateFmt},
	}
	ids := make([]int, len(defs))
	for i, d := range defs {
		id, err := f.NewStyle(d)
		if err != nil {
			return styles{}, fmt.Errorf("style: %w", err)
		}
		ids[i] = id
	}
	return styles{title: ids[0], scope: ids[1], header: ids[2], cell: ids[3], date: ids[4]}, nil
}

// describeFollowUp is the last follow-up in one cell: its Vietnamese date,
// its text, and the status it moved the finding to.
func describeFollowUp(fu *FollowUp) string {
	if fu == nil {
		return ""
	}
	var b strings.Builder
	if fu.At != nil {
		if d := localDate(*fu.At); d != "" {
			t, _ := time.Parse(time.DateOnly, d)
			b.WriteString(t.Format("02/01/2006") + ": ")
		}
	}
	b.WriteString(fu.Text)
	if fu.StatusTo != nil {
		b.WriteString(" (→ " + StatusLabel(*fu.StatusTo) + ")")
	}
	return b.String()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
