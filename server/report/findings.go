package report

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"dicoso/sync/schema"
)

// FindingsQuery filters the findings register; empty fields do not filter.
// Campaign and unit are the finding's own, or its note's when it names
// none; the cluster is that unit's.
type FindingsQuery struct {
	CampaignID   string
	ClusterID    string
	UnitID       string
	Category     string // shortcoming, recommendation (the Office's register), model, aspiration
	Status       string
	DepartmentID string
	// DepartmentOnly holds the register to DepartmentID even when it is
	// empty: a department user whose account names no department sees none.
	DepartmentOnly bool
}

// Finding is one row of the findings register (plan III.1): what was found
// where, who follows it up, how far it has got.
type Finding struct {
	ID             string  `json:"id"`
	Category       string  `json:"category"`
	Text           string  `json:"text"`
	Status         string  `json:"status"`
	DueOn          *string `json:"due_on"`
	Answer         string  `json:"answer"`
	DepartmentID   *string `json:"department_id"`
	DepartmentName *string `json:"department_name"`
	UnitID         *string `json:"unit_id"`
	UnitName       *string `json:"unit_name"`
	ClusterID      *string `json:"cluster_id"`
	ClusterName    *string `json:"cluster_name"`
	CampaignID     *string `json:"campaign_id"`
	CampaignName   *string `json:"campaign_name"`
	NoteID         *string `json:"note_id"`
	NoteTitle      *string `json:"note_title"`
	NoteStatus     *string `json:"note_status"`
	// Source is where the finding was raised: "note" (a visit note),
	// "briefing" (a cluster briefing: BriefingID, its date and cluster)
	// or "" (recorded on its own).
	Source          string    `json:"source"`
	BriefingID      *string   `json:"briefing_id"`
	BriefingHeldOn  *string   `json:"briefing_held_on"`
	BriefingCluster *string   `json:"briefing_cluster"`
	AuthorID        *string   `json:"author_id"`
	AuthorName      *string   `json:"author_name"`
	FollowUps       int       `json:"follow_ups"`
	LastFollowUp    *FollowUp `json:"last_follow_up"`
	// Base is the row's base for a triage made from this read
	// (docs/protocol.md, Change.base); the API fills it (WithBase).
	Base string `json:"base"`

	campaignStarts string
	seq            int64
}

// WithBase fills each finding's Base from its seq column.
func WithBase(items []Finding, base RowBase) {
	for i := range items {
		items[i].Base = base(items[i].seq)
	}
}

// FollowUps lists the follow-ups of finding id that v may read, oldest
// first; store.ErrNotFound when v may not read the finding.
func (r *Reports) FollowUps(ctx context.Context, id string, v NotesViewer) ([]FollowUp, error) {
	out := []FollowUp{}
	err := r.read(ctx, "follow-ups", func(tx *sql.Tx) error {
		read, args := v.Read("findings")
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM findings r WHERE r.id = :finding AND r.deleted = 0 AND (`+read+`))`,
			append(slices.Clone(args), sql.Named("finding", id))...).Scan(&ok); err != nil {
			return fmt.Errorf("read finding %s: %w", id, err)
		}
		if !ok {
			return notFound("finding " + id)
		}
		read, args = v.Read("follow_ups")
		rs, err := tx.QueryContext(ctx, `SELECT r.id, r.at, COALESCE(r.text, ''), r.status_to, r.author_id, COALESCE(NULLIF(u.full_name, ''), u.username)
			FROM follow_ups r LEFT JOIN users u ON u.id = r.author_id
			WHERE r.finding_id = :finding AND r.deleted = 0 AND (`+read+`) ORDER BY r.at, r.seq`,
			append(slices.Clone(args), sql.Named("finding", id))...)
		if err != nil {
			return fmt.Errorf("read follow-ups of %s: %w", id, err)
		}
		defer rs.Close()
		for rs.Next() {
			var x FollowUp
			var at, to, author, name sql.NullString
			if err := rs.Scan(&x.ID, &at, &x.Text, &to, &author, &name); err != nil {
				return fmt.Errorf("read follow-ups of %s: %w", id, err)
			}
			x.At, x.StatusTo, x.AuthorID, x.AuthorName = nullable(at), nullable(to), nullable(author), nullable(name)
			out = append(out, x)
		}
		return rs.Err()
	})
	return out, err
}

// FollowUp is an action taken on a finding.
type FollowUp struct {
	ID         string  `json:"id"`
	At         *string `json:"at"`
	Text       string  `json:"text"`
	StatusTo   *string `json:"status_to"`
	AuthorID   *string `json:"author_id"`
	AuthorName *string `json:"author_name"`
}

// findingsSQL is the register. A finding of a draft note is left out: the
// note is still its author's working copy, not yet handed in, and may
// change before it is; a finding recorded without a note is in. Every
// filter is a fixed clause that an empty parameter switches off.
const findingsSQL = `SELECT f.id, f.category, f.text, f.status, f.due_on, f.answer,
	f.department_id, d.name,
	COALESCE(f.unit_id, n.unit_id), u.name, COALESCE(u.cluster_id, b.cluster_id), COALESCE(cl.name, bc.name),
	COALESCE(f.campaign_id, n.campaign_id, b.campaign_id), c.name, c.starts_on,
	f.note_id, n.title, n.status,
	f.briefing_id, b.held_on, bc.name,
	f.author_id, au.full_name,
	(SELECT COUNT(*) FROM follow_ups x WHERE x.finding_id = f.id AND x.deleted = 0),
	lf.id, lf.at, lf.text, lf.status_to, lf.author_id, la.full_name,
	f.seq
	FROM findings f
	LEFT JOIN visit_notes n ON n.id = f.note_id
	LEFT JOIN briefings b ON b.id = f.briefing_id AND b.deleted = 0
	LEFT JOIN clusters bc ON bc.id = b.cluster_id AND bc.deleted = 0
	LEFT JOIN units u ON u.id = COALESCE(f.unit_id, n.unit_id)
	LEFT JOIN clusters cl ON cl.id = u.cluster_id AND cl.deleted = 0
	LEFT JOIN campaigns c ON c.id = COALESCE(f.campaign_id, n.campaign_id, b.campaign_id)
	LEFT JOIN departments d ON d.id = f.department_id
	LEFT JOIN users au ON au.id = f.author_id
	LEFT JOIN follow_ups lf ON lf.id = (SELECT x.id FROM follow_ups x
		WHERE x.finding_id = f.id AND x.deleted = 0 ORDER BY x.at DESC, x.seq DESC LIMIT 1)
	LEFT JOIN users la ON la.id = lf.author_id
	WHERE f.deleted = 0 AND (f.note_id IS NULL OR (n.deleted = 0 AND n.status <> 'draft'))
	AND (:campaign = '' OR COALESCE(f.campaign_id, n.campaign_id, b.campaign_id) = :campaign)
	AND (:cluster = '' OR COALESCE(u.cluster_id, b.cluster_id) = :cluster)
	AND (:unit = '' OR COALESCE(f.unit_id, n.unit_id) = :unit)
	AND (:category = '' OR f.category = :category)
	AND (:status = '' OR f.status = :status)
	AND (:department = '' AND :department_only = 0 OR f.department_id = :department)`

// Findings lists the register, ordered as the compiled report reads: by
// campaign (in time), unit (in Vietnamese alphabetical order), category,
// then as recorded.
func (r *Reports) Findings(ctx context.Context, q FindingsQuery) ([]Finding, error) {
	var out []Finding
	err := r.read(ctx, "findings", func(tx *sql.Tx) error {
		var err error
		out, err = findings(ctx, tx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortFindings(out)
	return out, nil
}

func findings(ctx context.Context, tx *sql.Tx, q FindingsQuery) ([]Finding, error) {
	rs, err := tx.QueryContext(ctx, findingsSQL,
		sql.Named("campaign", q.CampaignID), sql.Named("cluster", q.ClusterID), sql.Named("unit", q.UnitID),
		sql.Named("category", q.Category), sql.Named("status", q.Status), sql.Named("department", q.DepartmentID),
		sql.Named("department_only", boolInt(q.DepartmentOnly)))
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rs.Close()
	out := []Finding{}
	for rs.Next() {
		var f Finding
		var due, dept, deptName, unit, unitName, cluster, clusterName, campaign, campaignName, campaignStarts,
			note, noteTitle, noteStatus, briefing, briefingOn, briefingCluster, author, authorName sql.NullString
		var fuID, fuAt, fuText, fuStatus, fuAuthor, fuAuthorName sql.NullString
		err := rs.Scan(&f.ID, &f.Category, &f.Text, &f.Status, &due, &f.Answer,
			&dept, &deptName, &unit, &unitName, &cluster, &clusterName,
			&campaign, &campaignName, &campaignStarts, &note, &noteTitle, &noteStatus,
			&briefing, &briefingOn, &briefingCluster, &author, &authorName, &f.FollowUps,
			&fuID, &fuAt, &fuText, &fuStatus, &fuAuthor, &fuAuthorName, &f.seq)
		if err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		f.DueOn, f.DepartmentID, f.DepartmentName = nullable(due), nullable(dept), nullable(deptName)
		f.UnitID, f.UnitName, f.ClusterID, f.ClusterName = nullable(unit), nullable(unitName), nullable(cluster), nullable(clusterName)
		f.CampaignID, f.CampaignName, f.campaignStarts = nullable(campaign), nullable(campaignName), campaignStarts.String
		f.NoteID, f.NoteTitle, f.NoteStatus = nullable(note), nullable(noteTitle), nullable(noteStatus)
		f.BriefingID, f.BriefingHeldOn, f.BriefingCluster = nullable(briefing), nullable(briefingOn), nullable(briefingCluster)
		switch {
		case note.Valid:
			f.Source = "note"
		case briefing.Valid:
			f.Source = "briefing"
		}
		f.AuthorID, f.AuthorName = nullable(author), nullable(authorName)
		if fuID.Valid {
			f.LastFollowUp = &FollowUp{ID: fuID.String, At: nullable(fuAt), Text: fuText.String,
				StatusTo: nullable(fuStatus), AuthorID: nullable(fuAuthor), AuthorName: nullable(fuAuthorName)}
		}
		out = append(out, f)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// sortFindings orders the register: campaigns by start (undated and
// campaign-less last), then campaign name and unit name in Vietnamese
// collation (SQLite's binary order would put "Đ" after "Z"), then category
// in the registry's order, then the order the findings reached the server.
func sortFindings(fs []Finding) {
	col := collate.New(language.Vietnamese)
	categories := findingCategories()
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	lastIfEmpty := func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		}
		return 0
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := lastIfEmpty(a.campaignStarts, b.campaignStarts); c != 0 {
			return c
		}
		if c := strings.Compare(a.campaignStarts, b.campaignStarts); c != 0 {
			return c
		}
		if c := lastIfEmpty(str(a.CampaignName), str(b.CampaignName)); c != 0 {
			return c
		}
		if c := col.CompareString(str(a.CampaignName), str(b.CampaignName)); c != 0 {
			return c
		}
		if c := lastIfEmpty(str(a.UnitName), str(b.UnitName)); c != 0 {
			return c
		}
		if c := col.CompareString(str(a.UnitName), str(b.UnitName)); c != 0 {
			return c
		}
		if c := slices.Index(categories, a.Category) - slices.Index(categories, b.Category); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// findingCategories are the finding categories in the registry's order.
func findingCategories() []string {
	t, _ := schema.Lookup("findings")
	f, _ := t.Field("category")
	return f.Values
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
