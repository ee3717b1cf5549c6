package syncdb

import (
	"database/sql"
	"errors"
	"fmt"

	"dicoso/server/store"
	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// The vocabulary of the schedule, notice and briefing specs (specs.go):
// plan III.1 (the Inspection Committee proposes and organises the teams
// and drafts the notice establishing them) and II.1 (each periodic round
// has a cluster briefing, led by the cluster's secretary and department).

// Writers.
var (
	// committee: the Inspection Committee, and the administrator.
	committee = Who{Name: "the Inspection Committee", is: func(c *change) (bool, error) {
		a := c.actor()
		return a.Has(plan.RoleAdmin) || a.Has(plan.RoleInspectionCommittee), nil
	}}
	// briefingRecorder: whoever takes a cluster briefing's minutes:
	// headquarters, or the secretary or a user of the department leading
	// the briefing's cluster, judged on the cluster the briefing is in
	// and the one it would be in (so nobody moves a briefing into or out
	// of a cluster they do not lead).
	briefingRecorder = Who{Name: "headquarters or the cluster's leading secretary and department", is: func(c *change) (bool, error) {
		if c.actor().seesAll() {
			return true, nil
		}
		clusters := []any{c.value("cluster_id")}
		if c.cur != nil {
			clusters = append(clusters, c.stored("cluster_id"))
		}
		for _, cl := range clusters {
			ok, err := leadsCluster(c, cl)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}}
)

// leadsCluster reports whether the writer leads cluster: its secretary, or
// a user of its leading department.
func leadsCluster(c *change, cluster any) (bool, error) {
	id, _ := cluster.(string)
	if id == "" {
		return false, nil
	}
	a := c.actor()
	var sec, dept string
	err := c.tx.QueryRowContext(c.ctx, `SELECT COALESCE(lead_secretary_id, ''), COALESCE(lead_department_id, '')
		FROM clusters WHERE id = ? AND deleted = 0`, id).Scan(&sec, &dept)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // no such cluster: checkRefs refuses the reference
	}
	if err != nil {
		return false, fmt.Errorf("check cluster lead: %w", err)
	}
	if a.Has(plan.RoleSecretary) && sec == a.UserID {
		return true, nil
	}
	return a.Has(plan.RoleDepartment) && a.DepartmentID != "" && dept == a.DepartmentID, nil
}

// Conditions.
var draftNotice = Cond{Name: "a draft", Refused: "an issued notice does not change: draft a new revision of it and issue that",
	holds: func(c *change) (bool, error) { return c.stored("status") != "issued", nil }}

// The moves of a notice: drafted, then issued once; an issued one stays.
// A new row may arrive issued: a notice drafted and issued on a device
// before it synced reaches the server as one change (the outbox folds a
// row's edits).
var noticeMoves = Moves{
	Says: "the Inspection Committee drafts a notice and issues it; an issued notice is replaced by a new revision",
	From: map[string][]string{
		"":      {"draft", "issued"},
		"draft": {"draft", "issued"},
	},
}

// Checks.

// visitOfTeamUnit: a schedule row visits one of its team's units, and
// ends no earlier than it starts.
func visitOfTeamUnit(c *change) error {
	team, _ := c.value("team_id").(string)
	unit, _ := c.value("unit_id").(string)
	var ok bool
	err := c.tx.QueryRowContext(c.ctx, `SELECT EXISTS (SELECT 1 FROM teams t, `+c.tx.dialect.JSONEach("t.unit_ids", "u")+`
		WHERE t.id = ? AND t.deleted = 0 AND u.value = ?)`, team, unit).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check team unit: %w", err)
	}
	if !ok {
		rj := reject(protocol.CodeValidationFailed, "đơn vị này không thuộc danh sách đơn vị của đoàn kiểm tra (the unit is not one of the team's units)")
		rj.field = "unit_id"
		return rj
	}
	return endsNotBeforeStart("visit")(c)
}

// noticeOfCampaign: a notice for one team names that team's campaign; a
// revision revises an issued notice of the same campaign and team, and
// is numbered one after it.
func noticeOfCampaign(c *change) error {
	campaign, _ := c.value("campaign_id").(string)
	if team, _ := c.value("team_id").(string); team != "" {
		var of string
		err := c.tx.QueryRowContext(c.ctx, "SELECT COALESCE(campaign_id, '') FROM teams WHERE id = ? AND deleted = 0", team).Scan(&of)
		if err != nil || of != campaign {
			rj := reject(protocol.CodeValidationFailed, "đoàn kiểm tra không thuộc đợt kiểm tra của thông báo (the team is not of the notice's campaign)")
			rj.field = "team_id"
			return rj
		}
	}
	prev, _ := c.value("revises_id").(string)
	rev := revisionOf(c.value("revision"))
	if prev == "" {
		if rev != 1 {
			return rejectValidation("revision", "a notice that revises none is revision 1; a later revision names the notice it revises (revises_id)")
		}
		return nil
	}
	p, err := loadRow(c.ctx, c.tx, mustTable("notices"), prev)
	if err != nil {
		return err
	}
	if p == nil || p.deleted || p.values["status"] != "issued" {
		return rejectValidation("revises_id", "chỉ sửa đổi được thông báo đã ban hành (only an issued notice is revised)")
	}
	if p.values["campaign_id"] != c.value("campaign_id") || fmt.Sprint(p.values["team_id"]) != fmt.Sprint(c.value("team_id")) {
		return rejectValidation("revises_id", "a revision is of the same campaign and team as the notice it revises")
	}
	if rev != revisionOf(p.values["revision"])+1 {
		return rejectValidation("revision", "a revision is numbered one after the notice it revises")
	}
	return nil
}

// briefingFinding: a finding names a visit note or a briefing, not both;
// one raised at a briefing is written by whoever may record that briefing.
func briefingFinding(c *change) error {
	id, _ := c.value("briefing_id").(string)
	if id == "" {
		return nil
	}
	if note, _ := c.value("note_id").(string); note != "" {
		return rejectValidation("briefing_id", "a finding comes from a visit note or from a briefing, not both")
	}
	b, err := loadRow(c.ctx, c.tx, mustTable("briefings"), id)
	if err != nil || b == nil {
		return err // a missing briefing: checkRefs refuses the reference
	}
	if c.actor().seesAll() {
		return nil
	}
	ok, err := leadsCluster(c, b.values["cluster_id"])
	if err != nil {
		return err
	}
	if !ok {
		return rejectField("briefing_id", "only headquarters or the cluster's leading secretary and department record a briefing's recommendations")
	}
	return nil
}

func rejectValidation(field, msg string) *rejection {
	rj := reject(protocol.CodeValidationFailed, "%s", msg)
	rj.field = field
	return rj
}

// revisionOf is a notice's revision as stored or written; unset is the
// first.
func revisionOf(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 1
}

// Read scopes.
const (
	// inMyTeam: the reader leads team t or belongs to it.
	inMyTeam = `(t.leader_id = :me OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = :me))`
	// inMyTeamPG is inMyTeam on PostgreSQL.
	inMyTeamPG = `(t.leader_id = :me OR t.member_ids::jsonb @> jsonb_build_array(:me::text))`
	// teamOfNotice: team t is the notice n's team, or one of its campaign's
	// when the notice is for the whole campaign.
	teamOfNotice = `(t.id = n.team_id OR (n.team_id IS NULL AND t.campaign_id = n.campaign_id))`
)

var (
	// A team's leader and members read their team's schedule.
	myTeamsVisits = Scope{Name: "a team's leader and members: the team's schedule", needs: inTeam,
		SQL: `EXISTS (SELECT 1 FROM teams t WHERE t.id = r.team_id AND t.deleted = 0 AND ` + inMyTeam + `)`,
		PG:  `EXISTS (SELECT 1 FROM teams t WHERE t.id = r.team_id AND t.deleted = 0 AND ` + inMyTeamPG + `)`}
	// A liaison reads the visits to their unit once a notice announcing
	// the team is issued.
	liaisonAnnouncedVisits = Scope{Name: "a unit liaison: visits to their unit, once announced", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit,
		SQL: `r.unit_id = :unit AND EXISTS (SELECT 1 FROM teams t JOIN notices n ON n.deleted = 0 AND n.status = 'issued' AND ` + teamOfNotice + `
		WHERE t.id = r.team_id AND t.deleted = 0)`}
	// Issued notices reach the teams they establish and the liaisons of
	// those teams' units.
	myTeamsNotices = Scope{Name: "a team's leader and members: the issued notices of their team", needs: inTeam,
		SQL: `r.status = 'issued' AND EXISTS (SELECT 1 FROM teams t, notices n WHERE n.id = r.id AND t.deleted = 0 AND ` + teamOfNotice + ` AND ` + inMyTeam + `)`,
		PG:  `r.status = 'issued' AND EXISTS (SELECT 1 FROM teams t, notices n WHERE n.id = r.id AND t.deleted = 0 AND ` + teamOfNotice + ` AND ` + inMyTeamPG + `)`}
	liaisonNotices = Scope{Name: "a unit liaison: issued notices of teams visiting their unit", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit,
		SQL: `r.status = 'issued' AND EXISTS (SELECT 1 FROM teams t, json_each(t.unit_ids) tu, notices n
		WHERE n.id = r.id AND t.deleted = 0 AND tu.value = :unit AND ` + teamOfNotice + `)`,
		PG: `r.status = 'issued' AND EXISTS (SELECT 1 FROM teams t, notices n
		WHERE n.id = r.id AND t.deleted = 0 AND t.unit_ids::jsonb @> jsonb_build_array(:unit::text) AND ` + teamOfNotice + `)`}
	// A briefing is read by the secretary and the department leading its
	// cluster, and by the liaisons of the units that host or attend it.
	clusterLeadsBriefings = Scope{Name: "a cluster's leading secretary and department: its briefings",
		Roles: []string{plan.RoleSecretary, plan.RoleDepartment},
		SQL: `EXISTS (SELECT 1 FROM clusters c WHERE c.id = r.cluster_id AND c.deleted = 0
		AND (c.lead_secretary_id = :me OR (:dept != '' AND c.lead_department_id = :dept)))`}
	// The recommendations raised at a cluster's briefings are read by the
	// secretary and the department leading it, whoever recorded them (one
	// raised for the whole cluster names no unit).
	clusterLeadsRecommendations = Scope{Name: "a cluster's leading secretary and department: the recommendations of its briefings",
		Roles: []string{plan.RoleSecretary, plan.RoleDepartment},
		SQL: `r.briefing_id IN (SELECT b.id FROM briefings b JOIN clusters c ON c.id = b.cluster_id
		WHERE b.deleted = 0 AND c.deleted = 0 AND (c.lead_secretary_id = :me OR (:dept != '' AND c.lead_department_id = :dept)))`}
	liaisonBriefings = Scope{Name: "a unit liaison: briefings their unit hosts or attends", Roles: []string{plan.RoleUnitLiaison}, needs: hasUnit,
		SQL: `(r.host_unit_id = :unit OR EXISTS (SELECT 1 FROM json_each(r.unit_ids) bu WHERE bu.value = :unit))`,
		PG:  `(r.host_unit_id = :unit OR r.unit_ids::jsonb @> jsonb_build_array(:unit::text))`}
)

// scheduleReach is the part of the read scope that moves when a notice is
// issued rather than when the rows it opens change: the teams visiting the
// liaison's unit whose notice is out. Issuing one changes the cursor's
// fingerprint, and the liaison's devices pull again (docs/protocol.md,
// Reset). The clusters a department leads are in it for the same reason.
func scheduleReach(d store.Dialect) string {
	return `
	UNION ALL
	SELECT 'announced', t.id FROM teams t, ` + d.JSONEach("t.unit_ids", "tu") + `
	WHERE :is_liaison = 1 AND t.deleted = 0 AND tu.value = :unit AND EXISTS (SELECT 1 FROM notices n
		WHERE n.deleted = 0 AND n.status = 'issued' AND ` + teamOfNotice + `)
	UNION ALL
	SELECT 'dept cluster', c.id FROM clusters c WHERE :in_dept = 1 AND c.deleted = 0 AND c.lead_department_id = :dept`
}

// isLiaison is 1 when a reads as a unit liaison attached to a unit.
func isLiaison(a Actor) int {
	if a.Has(plan.RoleUnitLiaison) && a.UnitID != "" {
		return 1
	}
	return 0
}
