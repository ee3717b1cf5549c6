package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dicoso/server/report/docx"
)

// BriefingReport is a cluster briefing (giao ban cụm, plan II.1.1 and
// II.1.2) with its minutes and the recommendations raised at it, each with
// the answer it has got (III.1: the Office compiles and answers them).
type BriefingReport struct {
	ID, HeldOn, Place, Minutes              string
	ClusterID, Cluster, Campaign, HostUnit  string
	LeadSecretary                           NoticePerson
	LeadDepartment                          string
	Units                                   []string
	Recommendations                         []BriefingRecommendation
	leadSecretaryID, leadDepartmentID, camp string
}

// BriefingRecommendation is one recommendation raised at a briefing.
type BriefingRecommendation struct {
	Unit, Text, Department, Status, DueOn, Answer string
}

// Leads reports whether the user leads the briefing's cluster: its
// secretary, or a user of its leading department.
func (b BriefingReport) Leads(userID, departmentID string) bool {
	return b.leadSecretaryID != "" && b.leadSecretaryID == userID ||
		departmentID != "" && b.leadDepartmentID == departmentID
}

// Briefing reads briefing id, its people and its recommendations, in one
// snapshot; store.ErrNotFound when id names no live briefing. The leading
// secretary and department are the briefing's own, else its cluster's.
func (r *Reports) Briefing(ctx context.Context, id string) (BriefingReport, error) {
	var out BriefingReport
	err := r.read(ctx, "briefing", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT b.id, COALESCE(b.held_on, ''), b.place, b.minutes, COALESCE(b.cluster_id, ''), COALESCE(c.name, ''),
			COALESCE(cp.name, ''), COALESCE(h.name, ''),
			COALESCE(COALESCE(b.lead_secretary_id, c.lead_secretary_id), ''), COALESCE(s.full_name, ''), COALESCE(s.title, ''),
			COALESCE(COALESCE(b.lead_department_id, c.lead_department_id), ''), COALESCE(d.name, ''),
			COALESCE(c.lead_secretary_id, ''), COALESCE(c.lead_department_id, '')
			FROM briefings b LEFT JOIN clusters c ON c.id = b.cluster_id
			LEFT JOIN campaigns cp ON cp.id = b.campaign_id
			LEFT JOIN units h ON h.id = b.host_unit_id
			LEFT JOIN users s ON s.id = COALESCE(b.lead_secretary_id, c.lead_secretary_id)
			LEFT JOIN departments d ON d.id = COALESCE(b.lead_department_id, c.lead_department_id)
			WHERE b.id = ? AND b.deleted = 0`, id).
			Scan(&out.ID, &out.HeldOn, &out.Place, &out.Minutes, &out.ClusterID, &out.Cluster, &out.Campaign, &out.HostUnit,
				new(string), &out.LeadSecretary.Name, &out.LeadSecretary.Title, new(string), &out.LeadDepartment,
				&out.leadSecretaryID, &out.leadDepartmentID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("briefing " + id)
		}
		if err != nil {
			return fmt.Errorf("read briefing: %w", err)
		}
		rs, err := tx.QueryContext(ctx, `SELECT COALESCE(u.name, '') FROM briefings b, `+r.st.Dialect().JSONEach("b.unit_ids", "bu")+`
			LEFT JOIN units u ON u.id = bu.value WHERE b.id = ? ORDER BY bu.key`, id)
		if err != nil {
			return fmt.Errorf("read briefing units: %w", err)
		}
		for rs.Next() {
			var name string
			if err := rs.Scan(&name); err != nil {
				rs.Close()
				return fmt.Errorf("read briefing units: %w", err)
			}
			out.Units = append(out.Units, name)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return fmt.Errorf("read briefing units: %w", err)
		}
		// As raised: the order the server first stored them (rowid; on
		// PostgreSQL, which has none, the sequence of each one's first
		// change), not the last change (seq), which an answer moves.
		rs, err = tx.QueryContext(ctx, `SELECT COALESCE(u.name, ''), f.text, COALESCE(d.name, ''), f.status, COALESCE(f.due_on, ''), f.answer
			FROM findings f LEFT JOIN units u ON u.id = f.unit_id LEFT JOIN departments d ON d.id = f.department_id
			WHERE f.briefing_id = ? AND f.deleted = 0 ORDER BY `+r.st.Dialect().Pick("f.rowid",
			"(SELECT MIN(c.seq) FROM change_log c WHERE c.tbl = 'findings' AND c.row_id = f.id), f.id"), id)
		if err != nil {
			return fmt.Errorf("read briefing recommendations: %w", err)
		}
		defer rs.Close()
		for rs.Next() {
			var f BriefingRecommendation
			if err := rs.Scan(&f.Unit, &f.Text, &f.Department, &f.Status, &f.DueOn, &f.Answer); err != nil {
				return fmt.Errorf("read briefing recommendations: %w", err)
			}
			out.Recommendations = append(out.Recommendations, f)
		}
		return rs.Err()
	})
	if err != nil {
		return BriefingReport{}, err
	}
	return out, nil
}

// BriefingFilename is "bien-ban-giao-ban-<cluster in ASCII>-<date>.docx".
func BriefingFilename(b BriefingReport) string {
	words := strings.FieldsFunc(Fold(b.Cluster+" "+b.HeldOn), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	return "bien-ban-giao-ban-" + strings.Join(words, "-") + ".docx"
}

// BriefingDocument lays out the minutes of a briefing for the cluster:
// when, where, who led and attended, what was said, and the
// recommendations raised with the answers they have got.
func BriefingDocument(b BriefingReport, year int) *docx.Document {
	subject := "Giao ban " + strings.TrimSpace(b.Cluster)
	if b.Campaign != "" {
		subject += " – " + b.Campaign
	}
	d := docx.New("BIÊN BẢN " + subject)
	headingOf(d, strings.ToUpper(strings.TrimSpace(b.Cluster)), "", b.HeldOn, year)
	d.Add(
		docx.Paragraph{Align: docx.Center, SpaceBefore: 12, Runs: []docx.Run{{Text: "BIÊN BẢN", Bold: true, Size: 15}}},
		docx.Paragraph{Align: docx.Center, Runs: []docx.Run{{Text: subject, Bold: true}}},
		docx.Paragraph{Align: docx.Center, SpaceAfter: 12, Runs: []docx.Run{{Text: "-----"}}},
	)
	if b.HeldOn != "" {
		d.Add(labelled("Thời gian: ", "ngày "+viDate(b.HeldOn)+"."))
	}
	if where := strings.Join(nonEmpty(b.Place, b.HostUnit), ", đơn vị đăng cai: "); where != "" {
		d.Add(labelled("Địa điểm: ", where+"."))
	}
	var chair []string
	if b.LeadSecretary.Name != "" {
		chair = append(chair, person(b.LeadSecretary))
	}
	if b.LeadDepartment != "" {
		chair = append(chair, b.LeadDepartment+" (ban phụ trách cụm)")
	}
	if len(chair) > 0 {
		d.Add(labelled("Chủ trì: ", strings.Join(chair, "; ")+"."))
	}
	if len(b.Units) > 0 {
		d.Add(labelled("Đơn vị tham dự: ", strings.Join(b.Units, ", ")+"."))
	}

	part := 0
	d.Add(partHeading(&part, "NỘI DUNG GIAO BAN"))
	if len(lines(b.Minutes)) == 0 {
		d.Add(note("Chưa ghi nội dung."))
	}
	for _, line := range lines(b.Minutes) {
		d.Add(body(line))
	}

	d.Add(partHeading(&part, "KIẾN NGHỊ, ĐỀ XUẤT VÀ TRẢ LỜI"))
	if len(b.Recommendations) == 0 {
		d.Add(note("Không có kiến nghị."))
	} else {
		rows := []docx.Row{{Header: true, Cells: []docx.Cell{
			cellOf("STT", docx.Center, true), cellOf("Đơn vị", docx.Center, true), cellOf("Kiến nghị, đề xuất", docx.Center, true),
			cellOf("Ban phụ trách", docx.Center, true), cellOf("Trả lời", docx.Center, true),
		}}}
		for i, f := range b.Recommendations {
			answer := f.Answer
			if strings.TrimSpace(answer) == "" {
				answer = "Chưa trả lời (" + StatusLabel(f.Status) + ")"
			}
			if f.DueOn != "" {
				answer += "\nHạn xử lý: " + viDate(f.DueOn)
			}
			rows = append(rows, docx.Row{Cells: []docx.Cell{
				cellOf(fmt.Sprintf("%d", i+1), docx.Center, false),
				cellOf(f.Unit, docx.Left, false),
				cellOf(f.Text, docx.Justify, false),
				cellOf(f.Department, docx.Left, false),
				cellOf(answer, docx.Justify, false),
			}})
		}
		d.AddTable(docx.Table{Widths: []float64{12, 30, 55, 30, 38}, Borders: true, Rows: rows})
	}

	d.Add(docx.Paragraph{SpaceAfter: 12})
	sign := func(title string) docx.Cell {
		return docx.Cell{Paragraphs: []docx.Paragraph{{Align: docx.Center, Runs: []docx.Run{{Text: title, Bold: true}}}}}
	}
	d.AddTable(docx.Table{Widths: []float64{82, 83}, Rows: []docx.Row{{Cells: []docx.Cell{sign("THƯ KÝ"), sign("CHỦ TRÌ")}}}})
	return d
}
