package report

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// Workbook is an export ready to send: the caller sets the answer's
// headers once it has one (so a refusal is still an error envelope), then
// writes it straight to the response and closes it.
type Workbook struct {
	f *excelize.File
}

// WriteTo writes the .xlsx file to w.
func (wb *Workbook) WriteTo(w io.Writer) (int64, error) { return wb.f.WriteTo(w) }

// Close releases the workbook.
func (wb *Workbook) Close() error { return wb.f.Close() }

// table is one sheet of an export: a title row, a row saying what the
// sheet holds, the column headers, then the rows. A time.Time value is a
// date cell shown dd/mm/yyyy; everything else as it is.
type table struct {
	sheet   string // at most 31 characters (Excel)
	title   string
	scope   string
	headers []string
	widths  []float64
	rows    [][]any
}

// newWorkbook lays the tables out, one sheet each, in order.
func newWorkbook(title string, tables ...table) (*Workbook, error) {
	f := excelize.NewFile()
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	for i, t := range tables {
		if i == 0 {
			err = f.SetSheetName("Sheet1", t.sheet)
		} else {
			_, err = f.NewSheet(t.sheet)
		}
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", t.sheet, err)
		}
		if err := writeTable(f, st, t); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", t.sheet, err)
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "dicoso", Language: "vi-VN"}); err != nil {
		return nil, err
	}
	ok = true
	return &Workbook{f: f}, nil
}

func writeTable(f *excelize.File, st styles, t table) error {
	sh := t.sheet
	last, err := excelize.ColumnNumberToName(len(t.headers))
	if err != nil {
		return err
	}
	for _, c := range []struct {
		row   int
		text  string
		style int
	}{{titleRow, t.title, st.title}, {scopeRow, t.scope, st.scope}} {
		first, end := fmt.Sprintf("A%d", c.row), fmt.Sprintf("%s%d", last, c.row)
		if err := f.SetCellValue(sh, first, c.text); err != nil {
			return err
		}
		if err := f.MergeCell(sh, first, end); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, first, end, c.style); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sh, titleRow, 24); err != nil {
		return err
	}
	header := make([]any, len(t.headers))
	for i, h := range t.headers {
		header[i] = h
	}
	if err := f.SetSheetRow(sh, fmt.Sprintf("A%d", headerRow), &header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", headerRow), fmt.Sprintf("%s%d", last, headerRow), st.header); err != nil {
		return err
	}
	for i, values := range t.rows {
		row := firstRow + i
		if err := f.SetSheetRow(sh, fmt.Sprintf("A%d", row), &values); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", last, row), st.cell); err != nil {
			return err
		}
		for j, v := range values {
			if _, isDate := v.(time.Time); !isDate {
				continue
			}
			cell, err := excelize.CoordinatesToCellName(j+1, row)
			if err != nil {
				return err
			}
			// After the value: setting a time applies excelize's own date
			// format, which this replaces with the Vietnamese one.
			if err := f.SetCellStyle(sh, cell, cell, st.date); err != nil {
				return err
			}
		}
	}
	for i, w := range t.widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return err
		}
	}
	lastRow := max(firstRow-1+len(t.rows), headerRow)
	if err := f.AutoFilter(sh, fmt.Sprintf("A%d:%s%d", headerRow, last, lastRow), nil); err != nil {
		return err
	}
	return f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: headerRow,
		TopLeftCell: fmt.Sprintf("A%d", firstRow), ActivePane: "bottomLeft"})
}

// dateCell is a YYYY-MM-DD date as a date cell, or "" when there is none.
func dateCell(day *string) any {
	if day == nil {
		return ""
	}
	d, err := time.Parse(time.DateOnly, *day)
	if err != nil {
		return *day
	}
	return d
}

// viDate writes a YYYY-MM-DD date the Vietnamese way, dd/mm/yyyy.
func viDate(day string) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.Format("02/01/2006")
}

// viInstant writes a stored instant as its date and time in Vietnam.
func viInstant(instant *string) string {
	if instant == nil {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, *instant)
	if err != nil {
		return *instant
	}
	return t.In(vietnam()).Format("02/01/2006 15:04")
}

// window writes a campaign's window, "01/06/2021 – 15/06/2021".
func window(starts, ends *string) string {
	switch {
	case starts != nil && ends != nil:
		return viDate(*starts) + " – " + viDate(*ends)
	case starts != nil:
		return "từ " + viDate(*starts)
	case ends != nil:
		return "đến " + viDate(*ends)
	}
	return ""
}
