package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"dicoso/server/store"
)

// CoverageQuery selects a coverage report.
type CoverageQuery struct {
	// CampaignID limits the report to one campaign; "" reports them all.
	CampaignID string
	// ClusterID limits each campaign to its units in that activity
	// cluster (the counts are of those units); "" keeps every unit.
	ClusterID string
	// AsOf (YYYY-MM-DD) tells a unit still waiting from one whose window
	// has closed without an inspection.
	AsOf string
}

// Coverage is how far the inspection campaigns (plan II.1, II.2) have got:
// for each campaign its planned units, which of them are inspected, and
// whether inside the campaign's window.
type Coverage struct {
	AsOf  string             `json:"as_of"`
	Items []CampaignCoverage `json:"items"`

	clusterName string // of CoverageQuery.ClusterID, for the export's title
}

// Unit coverage states.
const (
	// Inspected: on a day inside the window, before it opened, after it closed.
	UnitInWindow = "in_window"
	UnitEarly    = "early"
	UnitLate     = "late"
	// Not inspected: the window is still open (or yet to come) and the
	// unit's scheduled day (if any) not past; or either has passed.
	UnitPending = "pending"
	UnitOverdue = "overdue"
)

// CampaignCoverage is one campaign's planned versus inspected units.
type CampaignCoverage struct {
	ID       string  `json:"id"`
	PlanID   *string `json:"plan_id"`
	Kind     string  `json:"kind"`
	Name     string  `json:"name"`
	StartsOn *string `json:"starts_on"`
	EndsOn   *string `json:"ends_on"`
	// Planned is the number of units the campaign names; Inspected of them
	// have a submitted or reviewed visit note of this campaign by its team
	// for the unit (leader or member). The state counts add up to Planned.
	Planned   int            `json:"planned"`
	Inspected int            `json:"inspected"`
	InWindow  int            `json:"in_window"`
	Early     int            `json:"early"`
	Late      int            `json:"late"`
	Pending   int            `json:"pending"`
	Overdue   int            `json:"overdue"`
	Units     []UnitCoverage `json:"units"`
}

// UnitCoverage is one planned unit of a campaign.
type UnitCoverage struct {
	UnitID      string  `json:"unit_id"`
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	ClusterID   *string `json:"cluster_id"`
	ClusterName *string `json:"cluster_name"`
	// State is one of in_window, early, late, pending, overdue.
	State     string `json:"state"`
	Inspected bool   `json:"inspected"`
	// InspectedOn is the day of the visit: the earliest day of the note's
	// trip (at this unit when the trip logged one there), else the trip's
	// start, else the Vietnamese date the note was first submitted.
	InspectedOn *string `json:"inspected_on"`
	// SubmittedAt is when the note first reached the server as submitted.
	SubmittedAt *string `json:"submitted_at"`
	// NoteID and NoteStatus name the note that inspected the unit (the
	// earliest when several did); Notes counts them all.
	NoteID     *string `json:"note_id"`
	NoteStatus *string `json:"note_status"`
	Notes      int     `json:"notes"`
	// ScheduledOn and ScheduledTo are the unit's visit in its team's
	// schedule (team_visits of a team of the campaign; the earliest when
	// several): its first and last day (the same for a one-day visit).
	ScheduledOn *string `json:"scheduled_on"`
	ScheduledTo *string `json:"scheduled_to"`
}

const campaignsSQL = `SELECT id, plan_id, kind, name, starts_on, ends_on FROM campaigns
	WHERE deleted = 0 AND (:campaign = '' OR id = :campaign)
	ORDER BY starts_on IS NULL, starts_on, name, id`

// campaignUnitsSQL lists each campaign's units in the campaign's own order
// (the plan's), with what the report shows of them.
func campaignUnitsSQL(d store.Dialect) string {
	return `SELECT c.id, cu.value, COALESCE(u.code, ''), COALESCE(u.name, ''), u.cluster_id, cl.name
	FROM campaigns c, ` + d.JSONEach("c.unit_ids", "cu") + `
	LEFT JOIN units u ON u.id = cu.value
	LEFT JOIN clusters cl ON cl.id = u.cluster_id AND cl.deleted = 0
	WHERE c.deleted = 0 AND (:campaign = '' OR c.id = :campaign) AND (:cluster = '' OR u.cluster_id = :cluster)
	ORDER BY c.id, cu.key`
}

// inspectingNotesSQL lists the notes that count as an inspection: live,
// submitted or reviewed, of a campaign, written by the leader or a member
// of one of the campaign's teams that inspects the note's unit (plan II.1:
// the teams inspect; a note by anyone else is no inspection); with the day
// of the visit and the time the note was first submitted (from the change
// log).
func inspectingNotesSQL(d store.Dialect) string {
	return `SELECT n.id, n.campaign_id, n.unit_id, n.status,
	(SELECT td.day FROM trip_days td JOIN trips t ON t.id = td.trip_id
		WHERE td.trip_id = n.trip_id AND td.deleted = 0 AND t.deleted = 0 AND td.day IS NOT NULL
		ORDER BY (td.unit_id IS NOT DISTINCT FROM n.unit_id) DESC, td.day LIMIT 1),
	(SELECT t.starts_on FROM trips t WHERE t.id = n.trip_id AND t.deleted = 0),
	(SELECT MIN(cl.received_at) FROM change_log cl
		WHERE cl.tbl = 'visit_notes' AND cl.row_id = n.id
		AND ` + d.Pick(`json_extract(cl.applied, '$.status')`, `(cl.applied::jsonb ->> 'status')`) + ` IN ('submitted', 'reviewed'))
	FROM visit_notes n
	WHERE n.deleted = 0 AND n.status IN ('submitted', 'reviewed') AND n.campaign_id IS NOT NULL
	AND n.unit_id IS NOT NULL AND (:campaign = '' OR n.campaign_id = :campaign)
	AND EXISTS (SELECT 1 FROM teams t, ` + d.JSONEach("t.unit_ids", "tu") + `
		WHERE t.deleted = 0 AND t.campaign_id = n.campaign_id AND tu.value = n.unit_id
		AND (t.leader_id = n.author_id OR EXISTS (SELECT 1 FROM ` + d.JSONEach("t.member_ids", "m") + ` WHERE m.value = n.author_id)))`
}

// inspection is one note that inspected a unit.
type inspection struct {
	noteID, status, on, submittedAt string
}

// Coverage reports the campaigns' coverage as of q.AsOf. It returns
// store.ErrNotFound when q.CampaignID names no live campaign.
func (r *Reports) Coverage(ctx context.Context, q CoverageQuery) (Coverage, error) {
	out := Coverage{AsOf: q.AsOf, Items: []CampaignCoverage{}}
	units := map[string][]UnitCoverage{}
	notes := map[[2]string][]inspection{} // by campaign and unit
	schedule := map[[2]string][2]string{} // by campaign and unit: first and last day
	err := r.read(ctx, "coverage", func(tx *sql.Tx) error {
		arg := sql.Named("campaign", q.CampaignID)
		var err error
		if out.Items, err = campaigns(ctx, tx, arg); err != nil {
			return err
		}
		if q.CampaignID != "" && len(out.Items) == 0 {
			return notFound("campaign " + q.CampaignID)
		}
		if q.ClusterID != "" {
			err := tx.QueryRowContext(ctx, "SELECT COALESCE(name, '') FROM clusters WHERE id = ? AND deleted = 0", q.ClusterID).Scan(&out.clusterName)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("cluster " + q.ClusterID)
			}
			if err != nil {
				return fmt.Errorf("read cluster: %w", err)
			}
		}
		if units, err = campaignUnits(ctx, r.st.Dialect(), tx, arg, sql.Named("cluster", q.ClusterID)); err != nil {
			return err
		}
		if notes, err = inspectingNotes(ctx, r.st.Dialect(), tx, arg); err != nil {
			return err
		}
		schedule, err = scheduledVisits(ctx, tx, arg)
		return err
	})
	if err != nil {
		return Coverage{}, err
	}
	for i := range out.Items {
		c := &out.Items[i]
		c.Units = []UnitCoverage{}
		for _, u := range units[c.ID] {
			found := notes[[2]string{c.ID, u.UnitID}]
			u.Notes = len(found)
			if first, ok := earliest(found); ok {
				u.Inspected = true
				u.NoteID, u.NoteStatus = &first.noteID, &first.status
				u.InspectedOn, u.SubmittedAt = optional(first.on), optional(first.submittedAt)
			}
			if v, ok := schedule[[2]string{c.ID, u.UnitID}]; ok {
				u.ScheduledOn, u.ScheduledTo = optional(v[0]), optional(v[1])
			}
			u.State = unitState(u, c.StartsOn, c.EndsOn, q.AsOf)
			c.count(u)
			c.Units = append(c.Units, u)
		}
	}
	return out, nil
}

func (c *CampaignCoverage) count(u UnitCoverage) {
	c.Planned++
	if u.Inspected {
		c.Inspected++
	}
	switch u.State {
	case UnitInWindow:
		c.InWindow++
	case UnitEarly:
		c.Early++
	case UnitLate:
		c.Late++
	case UnitPending:
		c.Pending++
	case UnitOverdue:
		c.Overdue++
	}
}

// unitState places a unit against its campaign's window. A window without
// a start (or an end) is open on that side. A unit not inspected is overdue
// once the window has closed, or once its own scheduled visit has passed.
func unitState(u UnitCoverage, starts, ends *string, asOf string) string {
	if !u.Inspected {
		if ends != nil && asOf > *ends {
			return UnitOverdue
		}
		if last := u.ScheduledTo; last != nil && asOf > *last {
			return UnitOverdue
		}
		return UnitPending
	}
	on := ""
	if u.InspectedOn != nil {
		on = *u.InspectedOn
	}
	switch {
	case on == "":
		return UnitInWindow // no date at all: nothing says it was outside
	case starts != nil && on < *starts:
		return UnitEarly
	case ends != nil && on > *ends:
		return UnitLate
	}
	return UnitInWindow
}

// scheduledVisits is each campaign unit's scheduled visit: the earliest
// schedule row of a live team of the campaign for that unit.
func scheduledVisits(ctx context.Context, tx *sql.Tx, arg sql.NamedArg) (map[[2]string][2]string, error) {
	rs, err := tx.QueryContext(ctx, `SELECT t.campaign_id, v.unit_id, v.starts_on, COALESCE(NULLIF(v.ends_on, ''), v.starts_on)
		FROM team_visits v JOIN teams t ON t.id = v.team_id AND t.deleted = 0
		WHERE v.deleted = 0 AND v.starts_on IS NOT NULL AND (:campaign = '' OR t.campaign_id = :campaign)
		ORDER BY v.starts_on DESC`, arg)
	if err != nil {
		return nil, fmt.Errorf("read schedule: %w", err)
	}
	defer rs.Close()
	out := map[[2]string][2]string{}
	for rs.Next() {
		var campaign, unit, first, last string
		if err := rs.Scan(&campaign, &unit, &first, &last); err != nil {
			return nil, fmt.Errorf("read schedule: %w", err)
		}
		out[[2]string{campaign, unit}] = [2]string{first, last} // the earliest is read last
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read schedule: %w", err)
	}
	return out, nil
}

// earliest picks the note whose visit came first (then the first submitted).
func earliest(found []inspection) (inspection, bool) {
	if len(found) == 0 {
		return inspection{}, false
	}
	best := found[0]
	for _, n := range found[1:] {
		if later(best, n) {
			best = n
		}
	}
	return best, true
}

// later reports whether a comes after b: by visit day (an unknown day
// last), then submission, then id so the choice is stable.
func later(a, b inspection) bool {
	switch {
	case a.on != b.on:
		return b.on != "" && (a.on == "" || a.on > b.on)
	case a.submittedAt != b.submittedAt:
		return b.submittedAt != "" && (a.submittedAt == "" || a.submittedAt > b.submittedAt)
	}
	return a.noteID > b.noteID
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func campaigns(ctx context.Context, tx *sql.Tx, arg sql.NamedArg) ([]CampaignCoverage, error) {
	rs, err := tx.QueryContext(ctx, campaignsSQL, arg)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	defer rs.Close()
	out := []CampaignCoverage{}
	for rs.Next() {
		var c CampaignCoverage
		var plan, starts, ends sql.NullString
		if err := rs.Scan(&c.ID, &plan, &c.Kind, &c.Name, &starts, &ends); err != nil {
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		c.PlanID, c.StartsOn, c.EndsOn = nullable(plan), nullable(starts), nullable(ends)
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	return out, nil
}

func campaignUnits(ctx context.Context, d store.Dialect, tx *sql.Tx, campaign, cluster sql.NamedArg) (map[string][]UnitCoverage, error) {
	rs, err := tx.QueryContext(ctx, campaignUnitsSQL(d), campaign, cluster)
	if err != nil {
		return nil, fmt.Errorf("read campaign units: %w", err)
	}
	defer rs.Close()
	out := map[string][]UnitCoverage{}
	for rs.Next() {
		var campaign string
		var u UnitCoverage
		var cluster, clusterName sql.NullString
		if err := rs.Scan(&campaign, &u.UnitID, &u.Code, &u.Name, &cluster, &clusterName); err != nil {
			return nil, fmt.Errorf("read campaign units: %w", err)
		}
		u.ClusterID, u.ClusterName = nullable(cluster), nullable(clusterName)
		out[campaign] = append(out[campaign], u)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read campaign units: %w", err)
	}
	return out, nil
}

func inspectingNotes(ctx context.Context, d store.Dialect, tx *sql.Tx, arg sql.NamedArg) (map[[2]string][]inspection, error) {
	rs, err := tx.QueryContext(ctx, inspectingNotesSQL(d), arg)
	if err != nil {
		return nil, fmt.Errorf("read visit notes: %w", err)
	}
	defer rs.Close()
	out := map[[2]string][]inspection{}
	for rs.Next() {
		var n inspection
		var campaign, unit string
		var day, tripStart, submitted sql.NullString
		if err := rs.Scan(&n.noteID, &campaign, &unit, &n.status, &day, &tripStart, &submitted); err != nil {
			return nil, fmt.Errorf("read visit notes: %w", err)
		}
		n.submittedAt = submitted.String
		switch {
		case day.String != "":
			n.on = day.String
		case tripStart.String != "":
			n.on = tripStart.String
		default:
			n.on = localDate(submitted.String)
		}
		k := [2]string{campaign, unit}
		out[k] = append(out[k], n)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read visit notes: %w", err)
	}
	return out, nil
}
