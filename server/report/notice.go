package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dicoso/server/store"
)

// NoticeReport is the notice establishing the inspection teams of a
// campaign (plan III.1: "tham mưu thông báo thành lập các đoàn kiểm tra"),
// or of one of its teams: per team its leader, members, and the units it
// visits with the days, from the teams and their schedule as they stand.
type NoticeReport struct {
	ID, Number, Title, Content, Preparation, Recipients, SignedOn, Status string
	Revision                                                              int
	// RevisesNumber is the number of the issued notice a revision replaces.
	RevisesNumber string
	Campaign      NoteCampaign
	// CampaignContent is the campaign's own content, said when the notice
	// says none.
	CampaignContent string
	Plan            ReportPlan
	Teams           []NoticeTeam
}

// NoticeTeam is one team the notice establishes.
type NoticeTeam struct {
	ID, Name string
	Leader   NoticePerson
	Members  []NoticePerson
	// Visits are the team's units: those scheduled by their first day,
	// then those not yet scheduled in the team's order.
	Visits []NoticeVisit
}

// NoticePerson is a team member as the notice names them.
type NoticePerson struct{ Name, Title string }

// NoticeVisit is a unit a team visits; no StartsOn when not yet scheduled.
type NoticeVisit struct {
	UnitID, UnitName, StartsOn, EndsOn, Place, Contact string
}

// Notice reads notice id with its campaign, plan, teams and schedule, in
// one snapshot. It returns store.ErrNotFound when id names no live notice.
func (r *Reports) Notice(ctx context.Context, id string) (NoticeReport, error) {
	var out NoticeReport
	err := r.read(ctx, "notice", func(tx *sql.Tx) error {
		var team, starts, ends, number, title, issued, signed, revises sql.NullString
		var rev, year sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT n.id, n.number, n.title, n.content, n.preparation, n.recipients, n.signed_on, n.status,
			n.revision, COALESCE(pn.number, ''), n.team_id,
			c.id, c.name, c.kind, c.starts_on, c.ends_on, COALESCE(c.content, ''),
			p.number, p.title, p.issued_on, p.year
			FROM notices n JOIN campaigns c ON c.id = n.campaign_id
			LEFT JOIN notices pn ON pn.id = n.revises_id
			LEFT JOIN plans p ON p.id = c.plan_id AND p.deleted = 0
			WHERE n.id = ? AND n.deleted = 0`, id).
			Scan(&out.ID, &out.Number, &out.Title, &out.Content, &out.Preparation, &out.Recipients, &signed, &out.Status,
				&rev, &revises, &team,
				&out.Campaign.ID, &out.Campaign.Name, &out.Campaign.Kind, &starts, &ends, &out.CampaignContent,
				&number, &title, &issued, &year)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("notice " + id)
		}
		if err != nil {
			return fmt.Errorf("read notice: %w", err)
		}
		out.SignedOn, out.RevisesNumber = signed.String, revises.String
		out.Revision = max(1, int(rev.Int64))
		out.Campaign.StartsOn, out.Campaign.EndsOn = nullable(starts), nullable(ends)
		out.Plan = ReportPlan{Number: number.String, Title: title.String, IssuedOn: issued.String, Year: int(year.Int64)}
		out.Teams, err = noticeTeams(ctx, r.st.Dialect(), tx, out.Campaign.ID, team.String)
		return err
	})
	if err != nil {
		return NoticeReport{}, err
	}
	return out, nil
}

// noticeTeams are team (or, when "", every live team of campaign, by
// name) with their people and schedule.
func noticeTeams(ctx context.Context, d store.Dialect, tx *sql.Tx, campaign, team string) ([]NoticeTeam, error) {
	rs, err := tx.QueryContext(ctx, `SELECT t.id, t.name, COALESCE(l.full_name, ''), COALESCE(l.title, '')
		FROM teams t LEFT JOIN users l ON l.id = t.leader_id
		WHERE t.deleted = 0 AND t.campaign_id = :campaign AND (:team = '' OR t.id = :team)
		ORDER BY t.name, t.id`, sql.Named("campaign", campaign), sql.Named("team", team))
	if err != nil {
		return nil, fmt.Errorf("read notice teams: %w", err)
	}
	var out []NoticeTeam
	for rs.Next() {
		var t NoticeTeam
		if err := rs.Scan(&t.ID, &t.Name, &t.Leader.Name, &t.Leader.Title); err != nil {
			rs.Close()
			return nil, fmt.Errorf("read notice teams: %w", err)
		}
		out = append(out, t)
	}
	err = rs.Err()
	rs.Close()
	if err != nil {
		return nil, fmt.Errorf("read notice teams: %w", err)
	}
	for i := range out {
		if out[i].Members, err = teamMembers(ctx, d, tx, out[i].ID); err != nil {
			return nil, err
		}
		if out[i].Visits, err = teamVisits(ctx, d, tx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func teamMembers(ctx context.Context, d store.Dialect, tx *sql.Tx, team string) ([]NoticePerson, error) {
	rs, err := tx.QueryContext(ctx, `SELECT COALESCE(NULLIF(u.full_name, ''), u.username, ''), COALESCE(u.title, '')
		FROM teams t, `+d.JSONEach("t.member_ids", "m")+` LEFT JOIN users u ON u.id = m.value
		WHERE t.id = ? AND m.value IS DISTINCT FROM t.leader_id ORDER BY m.key`, team)
	if err != nil {
		return nil, fmt.Errorf("read team members: %w", err)
	}
	defer rs.Close()
	var out []NoticePerson
	for rs.Next() {
		var p NoticePerson
		if err := rs.Scan(&p.Name, &p.Title); err != nil {
			return nil, fmt.Errorf("read team members: %w", err)
		}
		out = append(out, p)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read team members: %w", err)
	}
	return out, nil
}

// teamVisits are the team's units with their scheduled visits: every
// schedule row of a unit of the team by its first day, then the team's
// units without one, in the team's order.
func teamVisits(ctx context.Context, d store.Dialect, tx *sql.Tx, team string) ([]NoticeVisit, error) {
	rs, err := tx.QueryContext(ctx, `SELECT tu.value, COALESCE(u.name, ''), COALESCE(v.starts_on, ''), COALESCE(v.ends_on, ''),
		COALESCE(v.place, ''), COALESCE(v.contact, '')
		FROM teams t CROSS JOIN `+d.JSONEach("t.unit_ids", "tu")+`
		LEFT JOIN units u ON u.id = tu.value
		LEFT JOIN team_visits v ON v.team_id = t.id AND v.unit_id = tu.value AND v.deleted = 0
		WHERE t.id = ?
		ORDER BY v.starts_on IS NULL, v.starts_on, tu.key`, team)
	if err != nil {
		return nil, fmt.Errorf("read team schedule: %w", err)
	}
	defer rs.Close()
	var out []NoticeVisit
	for rs.Next() {
		var v NoticeVisit
		if err := rs.Scan(&v.UnitID, &v.UnitName, &v.StartsOn, &v.EndsOn, &v.Place, &v.Contact); err != nil {
			return nil, fmt.Errorf("read team schedule: %w", err)
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read team schedule: %w", err)
	}
	return out, nil
}

// VisitDays says a visit's days: "10/06/2021", "10/06/2021 – 11/06/2021",
// or "chưa xếp lịch" when none is set.
func VisitDays(starts, ends string) string {
	switch {
	case starts == "":
		return "chưa xếp lịch"
	case ends == "" || ends == starts:
		return viDate(starts)
	}
	return viDate(starts) + " – " + viDate(ends)
}

// NoticeFilename is "thong-bao-<campaign in ASCII>.docx".
func NoticeFilename(campaignName string) string {
	return "thong-bao-" + strings.TrimPrefix(CampaignReportFilename(campaignName), "bao-cao-")
}
