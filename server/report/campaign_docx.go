package report

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"dicoso/server/report/docx"
)

// The issuing body and the document's number, in the form of the plan's
// own heading (Kế hoạch 356-KH/TWĐTN-BKT): the Central Committee with the
// committee that drafts the document on the left, the Union's name on the
// right where a state document has the national motto. The number is left
// for the Office to give when the report is signed.
const (
	issuerLine     = "BAN CHẤP HÀNH TRUNG ƯƠNG"
	committeeLine  = "BAN KIỂM TRA"
	unionLine      = "ĐOÀN TNCS HỒ CHÍ MINH"
	numberLine     = "Số:       -BC/TWĐTN-BKT"
	reportTitle    = "BÁO CÁO"
	reportCity     = "Hà Nội"
	committeeName  = "Ban Kiểm tra Trung ương Đoàn"
	secretariat    = "Ban Bí thư Trung ương Đoàn"
	notYetReviewed = "Chưa có ghi chép làm việc được duyệt."
)

// CampaignReportTitle is the second line of the title: "Kết quả kiểm tra
// định kỳ Đợt 1 năm 2021" for the campaign "Kiểm tra định kỳ Đợt 1 năm
// 2021".
func CampaignReportTitle(campaignName string) string {
	if rest, ok := strings.CutPrefix(campaignName, "Kiểm tra "); ok {
		return "Kết quả kiểm tra " + rest
	}
	return "Kết quả kiểm tra: " + campaignName
}

// noteSections are the six parts of a visit note (glossary), as the
// report's sub-headings.
var noteSections = []struct {
	label string
	text  func(ReportNote) string
}{
	{"Kết quả thực hiện", func(n ReportNote) string { return n.Results }},
	{"Mô hình tiêu biểu, điển hình tiên tiến", func(n ReportNote) string { return n.Models }},
	{"Tồn tại, hạn chế, vướng mắc", func(n ReportNote) string { return n.Shortcomings }},
	{"Nhu cầu, nguyện vọng", func(n ReportNote) string { return n.Aspirations }},
	{"Kiến nghị, đề xuất", func(n ReportNote) string { return n.Recommendations }},
	{"Kết luận", func(n ReportNote) string { return n.Conclusions }},
}

// Vietnamese sub-item letters (đ follows d).
var itemLetters = []string{"a", "b", "c", "d", "đ", "e", "g", "h", "i", "k"}

// Roman numerals of the report's parts.
var parts = []string{"I", "II", "III", "IV"}

// CampaignDocument lays the report out as an editable Word document in
// the form of a Đoàn administrative document. signedOn (YYYY-MM-DD) fills
// the place-and-date line; "" leaves day and month blank for the Office,
// with year.
func CampaignDocument(c CampaignReport, signedOn string, year int) *docx.Document {
	d := docx.New(reportTitle + " " + CampaignReportTitle(c.Campaign.Name))
	heading(d, signedOn, year)

	d.Add(
		docx.Paragraph{Align: docx.Center, SpaceBefore: 12, Runs: []docx.Run{{Text: reportTitle, Bold: true, Size: 15}}},
		docx.Paragraph{Align: docx.Center, Runs: []docx.Run{{Text: CampaignReportTitle(c.Campaign.Name), Bold: true}}},
		docx.Paragraph{Align: docx.Center, SpaceAfter: 12, Runs: []docx.Run{{Text: "-----"}}},
	)
	intro := fmt.Sprintf("%s báo cáo %s như sau:", committeeName, lowerFirst(CampaignReportTitle(c.Campaign.Name)))
	if c.Plan.Number != "" {
		intro = fmt.Sprintf("Thực hiện Kế hoạch số %s%s của %s về %s, %s", c.Plan.Number, issuedOn(c.Plan.IssuedOn),
			secretariat, planSubject(c.Plan.Title), intro)
	}
	d.Add(body(intro))

	// I. Overview: window, content, units reviewed and not.
	part := 0
	d.Add(partHeading(&part, "KHÁI QUÁT"))
	if w := window(c.Campaign.StartsOn, c.Campaign.EndsOn); w != "" {
		d.Add(labelled("Thời gian kiểm tra: ", w+"."))
	}
	if content := strings.TrimSpace(c.Content); content != "" {
		for _, line := range lines(content) {
			d.Add(body(line))
		}
	}
	planned, extra := 0, 0
	var pending []string
	for _, u := range c.Units {
		if u.Planned {
			planned++
		} else {
			extra++
		}
		if len(u.Notes) == 0 {
			pending = append(pending, u.Name)
		}
	}
	summary := fmt.Sprintf("%d đơn vị theo kế hoạch; %d đơn vị đã có ghi chép làm việc được duyệt", planned, c.Reviewed())
	if extra > 0 {
		summary += fmt.Sprintf(" (trong đó %d đơn vị ngoài kế hoạch)", extra)
	}
	d.Add(labelled("Đơn vị được kiểm tra: ", summary+"."))
	if len(pending) > 0 {
		d.Add(labelled("Đơn vị chưa có kết quả được duyệt: ", strings.Join(pending, ", ")+"."))
	}

	// II. Per unit, from the reviewed notes.
	d.Add(partHeading(&part, "KẾT QUẢ KIỂM TRA TẠI CÁC ĐƠN VỊ"))
	if len(c.Units) == 0 {
		d.Add(note("Đợt kiểm tra chưa có đơn vị nào."))
	}
	for i, u := range c.Units {
		d.Add(docx.Paragraph{SpaceBefore: 6, KeepNext: true, FirstLine: 10,
			Runs: []docx.Run{{Text: fmt.Sprintf("%d. %s", i+1, u.Name), Bold: true}}})
		if len(u.Notes) == 0 {
			d.Add(note(notYetReviewed))
			continue
		}
		for _, n := range u.Notes {
			writeUnitNote(d, n)
		}
	}

	// III. Findings by category.
	d.Add(partHeading(&part, "TỔNG HỢP VẤN ĐỀ PHÁT HIỆN"))
	for i, category := range findingCategories() {
		d.Add(docx.Paragraph{SpaceBefore: 6, KeepNext: true, FirstLine: 10,
			Runs: []docx.Run{{Text: fmt.Sprintf("%d. %s", i+1, CategoryLabel(category)), Bold: true}}})
		var rows []docx.Row
		for _, f := range c.Findings {
			if f.Category != category {
				continue
			}
			rows = append(rows, docx.Row{Cells: []docx.Cell{
				cellOf(fmt.Sprintf("%d", len(rows)+1), docx.Center, false),
				cellOf(f.UnitName, docx.Left, false),
				cellOf(f.Text, docx.Justify, false),
				cellOf(f.Department, docx.Left, false),
				cellOf(StatusLabel(f.Status), docx.Left, false),
			}})
		}
		if len(rows) == 0 {
			d.Add(note("Không có."))
			continue
		}
		header := docx.Row{Header: true, Cells: []docx.Cell{
			cellOf("STT", docx.Center, true), cellOf("Đơn vị", docx.Center, true), cellOf("Nội dung", docx.Center, true),
			cellOf("Ban phụ trách", docx.Center, true), cellOf("Trạng thái", docx.Center, true),
		}}
		d.AddTable(docx.Table{Widths: []float64{12, 30, 70, 30, 23}, Borders: true, Rows: append([]docx.Row{header}, rows...)})
	}

	recipients(d)
	return d
}

// heading is the two-column block at the top: issuing body and number on
// the left, the Union and the place and date on the right.
func heading(d *docx.Document, signedOn string, year int) {
	headingOf(d, committeeLine, numberLine, signedOn, year)
}

// headingOf is heading with the document's own body (under the Central
// Committee) and number line.
func headingOf(d *docx.Document, body, number, signedOn string, year int) {
	center := func(runs ...docx.Run) docx.Paragraph {
		return docx.Paragraph{Align: docx.Center, Runs: runs}
	}
	left := docx.Cell{Paragraphs: []docx.Paragraph{
		center(docx.Run{Text: issuerLine, Size: 13}),
		center(docx.Run{Text: body, Bold: true, Size: 13}),
		center(docx.Run{Text: "***", Size: 13}),
		center(docx.Run{Text: number, Size: 13}),
	}}
	right := docx.Cell{Paragraphs: []docx.Paragraph{
		center(docx.Run{Text: unionLine, Bold: true, Underline: true, Size: 14}),
		{},
		center(docx.Run{Text: placeAndDate(signedOn, year), Italic: true, Size: 13}),
	}}
	d.AddTable(docx.Table{Widths: []float64{80, 85}, Rows: []docx.Row{{Cells: []docx.Cell{left, right}}}})
}

// placeAndDate is "Hà Nội, ngày 05 tháng 07 năm 2021", or with day and
// month left blank when the report is not yet signed.
func placeAndDate(signedOn string, year int) string {
	if t, err := time.Parse(time.DateOnly, signedOn); err == nil {
		return fmt.Sprintf("%s, ngày %02d tháng %02d năm %d", reportCity, t.Day(), int(t.Month()), t.Year())
	}
	return fmt.Sprintf("%s, ngày      tháng      năm %d", reportCity, year)
}

func issuedOn(day string) string {
	if day == "" {
		return ""
	}
	return " ngày " + viDate(day)
}

// planSubject is the plan's title as the subject of "về …": "Kế hoạch
// kiểm tra, đi cơ sở của Ban Bí thư ... năm 2021" is about "kiểm tra, đi cơ
// sở của Ban Bí thư ... năm 2021".
func planSubject(title string) string {
	if rest, ok := strings.CutPrefix(title, "Kế hoạch "); ok {
		return rest
	}
	if title == "" {
		return "kiểm tra, đi cơ sở"
	}
	return lowerFirst(title)
}

func partHeading(n *int, title string) docx.Paragraph {
	label := parts[*n]
	*n++
	return docx.Paragraph{SpaceBefore: 12, KeepNext: true, FirstLine: 10,
		Runs: []docx.Run{{Text: label + ". " + title, Bold: true}}}
}

// body is a justified paragraph of running text, first line indented.
func body(text string) docx.Paragraph {
	return docx.Paragraph{Align: docx.Justify, FirstLine: 10, Runs: []docx.Run{{Text: text}}}
}

func labelled(label, text string) docx.Paragraph {
	return docx.Paragraph{Align: docx.Justify, FirstLine: 10, Runs: []docx.Run{{Text: label, Bold: true}, {Text: text}}}
}

func note(text string) docx.Paragraph {
	return docx.Paragraph{Align: docx.Justify, FirstLine: 10, Runs: []docx.Run{{Text: text, Italic: true}}}
}

// writeUnitNote writes a reviewed note: who wrote it, when, then its six parts.
func writeUnitNote(d *docx.Document, n ReportNote) {
	about := "Theo ghi chép làm việc"
	if n.Title != "" {
		about += " «" + n.Title + "»"
	}
	if n.Author != "" {
		about += " của đồng chí " + n.Author
	}
	if n.VisitDate != "" {
		about += ", ngày làm việc " + viDate(n.VisitDate)
	}
	if n.Reviewer != "" {
		about += "; duyệt: đồng chí " + n.Reviewer
	}
	d.Add(note(about + "."))
	for i, s := range noteSections {
		d.Add(docx.Paragraph{FirstLine: 10, KeepNext: true,
			Runs: []docx.Run{{Text: itemLetters[i] + ") " + s.label, Bold: true, Italic: true}}})
		text := strings.TrimSpace(s.text(n))
		if text == "" {
			d.Add(note("Không có."))
			continue
		}
		for _, line := range lines(text) {
			d.Add(body(line))
		}
	}
}

// recipients is the closing block: "Nơi nhận:" on the left, the signature
// on the right.
func recipients(d *docx.Document) {
	recipientsOf(d, []string{
		"- " + secretariat + " (để báo cáo);",
		"- Văn phòng Trung ương Đoàn;",
		"- Các ban, đơn vị khối phong trào TW Đoàn;",
		"- Các đơn vị được kiểm tra;",
		"- Lưu BKT, VP.",
	})
}

// recipientsOf is the closing block with these lines under "Nơi nhận:".
func recipientsOf(d *docx.Document, to []string) {
	small := func(text string, bold, italic bool) docx.Paragraph {
		return docx.Paragraph{Runs: []docx.Run{{Text: text, Bold: bold, Italic: italic, Size: 12}}}
	}
	left := docx.Cell{Paragraphs: []docx.Paragraph{small("Nơi nhận:", true, true)}}
	for _, line := range to {
		left.Paragraphs = append(left.Paragraphs, small(line, false, false))
	}
	right := docx.Cell{Paragraphs: []docx.Paragraph{
		{Align: docx.Center, Runs: []docx.Run{{Text: "TM. BAN KIỂM TRA", Bold: true}}},
		{Align: docx.Center, Runs: []docx.Run{{Text: "TRƯỞNG BAN", Bold: true}}},
	}}
	d.Add(docx.Paragraph{SpaceAfter: 12})
	d.AddTable(docx.Table{Widths: []float64{85, 80}, Rows: []docx.Row{{Cells: []docx.Cell{left, right}}}})
}

func cellOf(text string, align docx.Align, bold bool) docx.Cell {
	return docx.Cell{Paragraphs: []docx.Paragraph{{Align: align, Runs: []docx.Run{{Text: text, Bold: bold, Size: 12}}}}}
}

// lines splits text into its non-empty lines: each becomes a paragraph.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
