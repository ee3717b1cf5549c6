package report

import (
	"fmt"
	"strings"

	"dicoso/server/report/docx"
)

// What a notice says when its draft leaves a part empty: the plan's
// III.2 (the provinces organise their side) and the usual recipients.
const (
	noticeTitle        = "THÔNG BÁO"
	defaultPreparation = "Các đơn vị được kiểm tra chuẩn bị báo cáo bằng văn bản theo nội dung kiểm tra, gửi về Ban Kiểm tra Trung ương Đoàn trước ngày làm việc; bố trí thành phần, địa điểm làm việc và cử cán bộ đầu mối phối hợp với đoàn kiểm tra."
)

var defaultNoticeRecipients = []string{
	"- " + secretariat + " (để báo cáo);",
	"- Các đồng chí trong đoàn kiểm tra;",
	"- Các đơn vị được kiểm tra;",
	"- Lưu BKT, VP.",
}

// NoticeSubject is the line under "THÔNG BÁO": the notice's own title, or
// "Thành lập đoàn kiểm tra định kỳ Đợt 1 năm 2021" for the campaign
// "Kiểm tra định kỳ Đợt 1 năm 2021".
func NoticeSubject(n NoticeReport) string {
	if t := strings.TrimSpace(n.Title); t != "" {
		return t
	}
	if rest, ok := strings.CutPrefix(n.Campaign.Name, "Kiểm tra "); ok {
		return "Thành lập đoàn kiểm tra " + rest
	}
	return "Thành lập đoàn kiểm tra: " + n.Campaign.Name
}

// NoticeDocument lays the notice out as an editable Word document in the
// form of a Đoàn administrative document: issuing body and number, place
// and date, "THÔNG BÁO" and its subject, then team by team the leader,
// the members and the units with their days, the content of the
// inspection, what each unit prepares, and "Nơi nhận". signed on the
// notice fills the date; without it day and month are left blank, with
// year.
func NoticeDocument(n NoticeReport, year int) *docx.Document {
	d := docx.New(noticeTitle + " " + NoticeSubject(n))
	number := "Số:       -TB/TWĐTN-BKT"
	if strings.TrimSpace(n.Number) != "" {
		number = "Số: " + strings.TrimSpace(n.Number)
	}
	headingOf(d, committeeLine, number, n.SignedOn, year)
	d.Add(
		docx.Paragraph{Align: docx.Center, SpaceBefore: 12, Runs: []docx.Run{{Text: noticeTitle, Bold: true, Size: 15}}},
		docx.Paragraph{Align: docx.Center, Runs: []docx.Run{{Text: NoticeSubject(n), Bold: true}}},
	)
	if n.Revision > 1 {
		replaces := fmt.Sprintf("(Sửa đổi lần %d", n.Revision-1)
		if n.RevisesNumber != "" {
			replaces += ", thay thế Thông báo số " + n.RevisesNumber
		}
		d.Add(docx.Paragraph{Align: docx.Center, Runs: []docx.Run{{Text: replaces + ")", Italic: true}}})
	}
	d.Add(docx.Paragraph{Align: docx.Center, SpaceAfter: 12, Runs: []docx.Run{{Text: "-----"}}})

	intro := committeeName + " thông báo thành lập đoàn kiểm tra như sau:"
	if n.Plan.Number != "" {
		intro = fmt.Sprintf("Thực hiện Kế hoạch số %s%s của %s về %s, %s", n.Plan.Number, issuedOn(n.Plan.IssuedOn),
			secretariat, planSubject(n.Plan.Title), intro)
	}
	d.Add(body(intro))

	part := 0
	d.Add(partHeading(&part, "THÀNH PHẦN ĐOÀN KIỂM TRA, ĐƠN VỊ VÀ THỜI GIAN KIỂM TRA"))
	if w := window(n.Campaign.StartsOn, n.Campaign.EndsOn); w != "" {
		d.Add(labelled("Thời gian kiểm tra của đợt: ", w+"."))
	}
	if len(n.Teams) == 0 {
		d.Add(note("Chưa có đoàn kiểm tra."))
	}
	for i, t := range n.Teams {
		d.Add(docx.Paragraph{SpaceBefore: 6, KeepNext: true, FirstLine: 10,
			Runs: []docx.Run{{Text: fmt.Sprintf("%d. %s", i+1, t.Name), Bold: true}}})
		leader := "chưa phân công"
		if t.Leader.Name != "" {
			leader = person(t.Leader)
		}
		d.Add(labelled("- Trưởng đoàn: ", leader+"."))
		if len(t.Members) == 0 {
			d.Add(labelled("- Thành viên: ", "không có."))
		} else {
			d.Add(labelled("- Thành viên:", ""))
			for _, m := range t.Members {
				d.Add(docx.Paragraph{Indent: 10, FirstLine: 5, Runs: []docx.Run{{Text: "+ " + person(m) + ";"}}})
			}
		}
		d.Add(docx.Paragraph{FirstLine: 10, KeepNext: true, Runs: []docx.Run{{Text: "- Đơn vị và thời gian kiểm tra:", Bold: true}}})
		if len(t.Visits) == 0 {
			d.Add(note("Chưa có đơn vị."))
			continue
		}
		rows := []docx.Row{{Header: true, Cells: []docx.Cell{
			cellOf("STT", docx.Center, true), cellOf("Đơn vị", docx.Center, true), cellOf("Thời gian", docx.Center, true),
			cellOf("Địa điểm, liên hệ", docx.Center, true),
		}}}
		for j, v := range t.Visits {
			where := strings.Join(nonEmpty(v.Place, v.Contact), "; ")
			rows = append(rows, docx.Row{Cells: []docx.Cell{
				cellOf(fmt.Sprintf("%d", j+1), docx.Center, false),
				cellOf(v.UnitName, docx.Left, false),
				cellOf(VisitDays(v.StartsOn, v.EndsOn), docx.Center, false),
				cellOf(where, docx.Left, false),
			}})
		}
		d.AddTable(docx.Table{Widths: []float64{12, 45, 45, 63}, Borders: true, Rows: rows})
	}

	d.Add(partHeading(&part, "NỘI DUNG KIỂM TRA"))
	content := strings.TrimSpace(n.Content)
	if content == "" {
		content = strings.TrimSpace(n.CampaignContent)
	}
	if content == "" {
		d.Add(note("Theo kế hoạch kiểm tra."))
	}
	for _, line := range lines(content) {
		d.Add(body(line))
	}

	d.Add(partHeading(&part, "CÔNG TÁC CHUẨN BỊ CỦA CÁC ĐƠN VỊ"))
	prep := strings.TrimSpace(n.Preparation)
	if prep == "" {
		prep = defaultPreparation
	}
	for _, line := range lines(prep) {
		d.Add(body(line))
	}
	d.Add(body(committeeName + " thông báo để các đơn vị biết, phối hợp thực hiện."))

	to := lines(n.Recipients)
	if len(to) == 0 {
		to = defaultNoticeRecipients
	}
	recipientsOf(d, to)
	return d
}

// person is "đồng chí Nguyễn Văn A, Ủy viên Ban Kiểm tra".
func person(p NoticePerson) string {
	s := "đồng chí " + p.Name
	if p.Title != "" {
		s += ", " + p.Title
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
