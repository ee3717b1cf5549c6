package report

import (
	"context"
	"database/sql"
	"dicoso/server/store"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// CampaignReport is what the Inspection Committee reports to the
// Secretariat about one campaign (plan III.1: "tổng hợp những vấn đề còn
// hạn chế, vướng mắc ở cơ sở sau kiểm tra ... và báo cáo Ban Bí thư"): per
// unit what the reviewed visit notes say, and the findings of those notes by
// category. Only reviewed notes are in it: a submitted note may still be
// sent back and change.
type CampaignReport struct {
	Campaign NoteCampaign
	Content  string
	Plan     ReportPlan
	// Units are the campaign's planned units in the plan's order, then any
	// other unit a reviewed note of the campaign is about, by name.
	Units []ReportUnit
	// Findings of the reviewed notes, by category in the registry's order,
	// then unit in the order of Units, then as recorded.
	Findings []ReportFinding
}

// ReportPlan is the plan a campaign carries out.
type ReportPlan struct {
	Number, Title, IssuedOn string
	Year                    int
}

// ReportUnit is one unit of the report.
type ReportUnit struct {
	ID, Code, Name string
	Planned        bool
	// Notes are the unit's reviewed notes of the campaign, by visit date;
	// none means the unit is not yet reviewed.
	Notes []ReportNote
}

// ReportNote is a reviewed visit note.
type ReportNote struct {
	ID, Title, Author, Reviewer, VisitDate                                   string
	Results, Models, Shortcomings, Aspirations, Recommendations, Conclusions string
}

// ReportFinding is a finding of a reviewed note.
type ReportFinding struct {
	Category, Text, Status, Department, UnitID, UnitName string
}

// Reviewed counts the units with a reviewed note.
func (c CampaignReport) Reviewed() int {
	n := 0
	for _, u := range c.Units {
		if len(u.Notes) > 0 {
			n++
		}
	}
	return n
}

func reportNotesSQL(d store.Dialect) string {
	return `SELECT n.id, n.unit_id, n.title, COALESCE(a.full_name, ''), COALESCE(rv.full_name, ''),
	COALESCE(` + visitDateSQL(d) + `, ''),
	n.results, n.models, n.shortcomings, n.aspirations, n.recommendations, n.conclusions
	FROM visit_notes n
	LEFT JOIN note_index ix ON ix.note_id = n.id
	LEFT JOIN users a ON a.id = n.author_id
	LEFT JOIN users rv ON rv.id = n.reviewed_by
	WHERE n.deleted = 0 AND n.status = 'reviewed' AND n.campaign_id = :campaign
	ORDER BY 6, ix.first_submitted_at, n.id`
}

const reportFindingsSQL = `SELECT f.category, f.text, f.status, COALESCE(d.name, ''), n.unit_id, COALESCE(u.name, '')
	FROM findings f
	JOIN visit_notes n ON n.id = f.note_id
	LEFT JOIN departments d ON d.id = f.department_id
	LEFT JOIN units u ON u.id = n.unit_id
	WHERE f.deleted = 0 AND n.deleted = 0 AND n.status = 'reviewed' AND n.campaign_id = :campaign
	ORDER BY f.seq`

// Campaign compiles the report of campaign id, read in one snapshot. It
// returns store.ErrNotFound when id names no live campaign.
func (r *Reports) Campaign(ctx context.Context, id string) (CampaignReport, error) {
	var out CampaignReport
	err := r.read(ctx, "campaign", func(tx *sql.Tx) error {
		arg := sql.Named("campaign", id)
		var starts, ends, number, title, issued sql.NullString
		var year sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT c.id, c.name, c.kind, c.starts_on, c.ends_on, c.content,
			p.number, p.title, p.issued_on, p.year
			FROM campaigns c LEFT JOIN plans p ON p.id = c.plan_id AND p.deleted = 0
			WHERE c.id = :campaign AND c.deleted = 0`, arg).
			Scan(&out.Campaign.ID, &out.Campaign.Name, &out.Campaign.Kind, &starts, &ends, &out.Content,
				&number, &title, &issued, &year)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("campaign " + id)
		}
		if err != nil {
			return fmt.Errorf("read campaign: %w", err)
		}
		out.Campaign.StartsOn, out.Campaign.EndsOn = nullable(starts), nullable(ends)
		out.Plan = ReportPlan{Number: number.String, Title: title.String, IssuedOn: issued.String, Year: int(year.Int64)}

		if out.Units, err = reportUnits(ctx, r.st.Dialect(), tx, arg); err != nil {
			return err
		}
		notes, err := reportNotes(ctx, r.st.Dialect(), tx, arg)
		if err != nil {
			return err
		}
		out.Units, err = placeNotes(ctx, tx, out.Units, notes)
		if err != nil {
			return err
		}
		out.Findings, err = reportFindings(ctx, tx, arg)
		return err
	})
	if err != nil {
		return CampaignReport{}, err
	}
	sortReportFindings(out.Findings, out.Units)
	return out, nil
}

func reportUnits(ctx context.Context, d store.Dialect, tx *sql.Tx, arg sql.NamedArg) ([]ReportUnit, error) {
	rs, err := tx.QueryContext(ctx, `SELECT cu.value, COALESCE(u.code, ''), COALESCE(u.name, '')
		FROM campaigns c, `+d.JSONEach("c.unit_ids", "cu")+` LEFT JOIN units u ON u.id = cu.value
		WHERE c.id = :campaign ORDER BY cu.key`, arg)
	if err != nil {
		return nil, fmt.Errorf("read campaign units: %w", err)
	}
	defer rs.Close()
	var out []ReportUnit
	for rs.Next() {
		u := ReportUnit{Planned: true}
		if err := rs.Scan(&u.ID, &u.Code, &u.Name); err != nil {
			return nil, fmt.Errorf("read campaign units: %w", err)
		}
		out = append(out, u)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read campaign units: %w", err)
	}
	return out, nil
}

type unitNote struct {
	unitID string
	note   ReportNote
}

func reportNotes(ctx context.Context, d store.Dialect, tx *sql.Tx, arg sql.NamedArg) ([]unitNote, error) {
	rs, err := tx.QueryContext(ctx, reportNotesSQL(d), arg)
	if err != nil {
		return nil, fmt.Errorf("read reviewed notes: %w", err)
	}
	defer rs.Close()
	var out []unitNote
	for rs.Next() {
		var un unitNote
		var unit sql.NullString
		n := &un.note
		if err := rs.Scan(&n.ID, &unit, &n.Title, &n.Author, &n.Reviewer, &n.VisitDate,
			&n.Results, &n.Models, &n.Shortcomings, &n.Aspirations, &n.Recommendations, &n.Conclusions); err != nil {
			return nil, fmt.Errorf("read reviewed notes: %w", err)
		}
		un.unitID = unit.String
		out = append(out, un)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read reviewed notes: %w", err)
	}
	return out, nil
}

// placeNotes gives each unit its notes; a note about a unit the campaign
// does not plan adds that unit after the planned ones.
func placeNotes(ctx context.Context, tx *sql.Tx, units []ReportUnit, notes []unitNote) ([]ReportUnit, error) {
	at := map[string]int{}
	for i, u := range units {
		at[u.ID] = i
	}
	var extra []ReportUnit
	for _, n := range notes {
		i, ok := at[n.unitID]
		if !ok {
			u := ReportUnit{ID: n.unitID}
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(code, ''), COALESCE(name, '') FROM units WHERE id = ?`, n.unitID).
				Scan(&u.Code, &u.Name)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("read unit %s: %w", n.unitID, err)
			}
			extra = append(extra, u)
			i = -len(extra) // extra units are placed below
			at[n.unitID] = i
		}
		if i >= 0 {
			units[i].Notes = append(units[i].Notes, n.note)
		} else {
			extra[-i-1].Notes = append(extra[-i-1].Notes, n.note)
		}
	}
	col := collate.New(language.Vietnamese)
	slices.SortStableFunc(extra, func(a, b ReportUnit) int { return col.CompareString(a.Name, b.Name) })
	return append(units, extra...), nil
}

func reportFindings(ctx context.Context, tx *sql.Tx, arg sql.NamedArg) ([]ReportFinding, error) {
	rs, err := tx.QueryContext(ctx, reportFindingsSQL, arg)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rs.Close()
	var out []ReportFinding
	for rs.Next() {
		var f ReportFinding
		var unit sql.NullString
		if err := rs.Scan(&f.Category, &f.Text, &f.Status, &f.Department, &unit, &f.UnitName); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		f.UnitID = unit.String
		out = append(out, f)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// sortReportFindings orders the findings by category (the registry's
// order), then unit (the report's order), keeping the recorded order.
func sortReportFindings(fs []ReportFinding, units []ReportUnit) {
	categories := findingCategories()
	unitAt := map[string]int{}
	for i, u := range units {
		unitAt[u.ID] = i
	}
	slices.SortStableFunc(fs, func(a, b ReportFinding) int {
		if c := slices.Index(categories, a.Category) - slices.Index(categories, b.Category); c != 0 {
			return c
		}
		return unitAt[a.UnitID] - unitAt[b.UnitID]
	})
}

// CampaignReportFilename names the document after its campaign, in ASCII
// so that every browser keeps it: "bao-cao-kiem-tra-dinh-ky-dot-1-nam-2021.docx".
func CampaignReportFilename(campaignName string) string {
	words := strings.FieldsFunc(Fold(campaignName), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	if len(words) == 0 {
		return "bao-cao-ket-qua-kiem-tra.docx"
	}
	return "bao-cao-" + strings.Join(words, "-") + ".docx"
}
