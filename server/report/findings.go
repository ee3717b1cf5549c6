package report

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// Unassigned keeps the findings no department follows up yet.
	Unassigned bool
	// Overdue keeps the findings still open or in progress whose due date
	// is before AsOf (YYYY-MM-DD, a day in Vietnam), which also dates the
	// counts' overdue figure.
	Overdue bool
	AsOf    string
	// Search is what a person typed: words found in the finding's text,
	// its unit's or campaign's name or its answer, whatever their case and
	// diacritics.
	Search string

	// The page (FindingsPage): Sort is one of FindingSorts ("" is
	// "recorded"), Limit the most findings it holds, Cursor where the
	// previous page ended.
	Sort   string
	Limit  int
	Cursor string
}

// FindingSorts are the orders of the paged register: when the finding
// first reached the server (oldest first; "-recorded", newest first) and
// its due date (soonest first; "-due_on", latest first), findings without
// one last either way, then in the order they reached the server.
var FindingSorts = []string{"recorded", "-recorded", "due_on", "-due_on"}

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
// filter is a fixed clause that an empty parameter switches off; a search
// adds one clause per word (findingsFilter). recorded is the change-log
// sequence of the finding's first write: when it reached the server, which
// no later write changes.
const findingsSQL = `SELECT f.id AS id, f.category AS category, f.text AS text, f.status AS status, f.due_on AS due_on,
	f.answer AS answer, f.department_id AS department_id, d.name AS department_name,
	COALESCE(f.unit_id, n.unit_id) AS unit_id, u.name AS unit_name,
	COALESCE(u.cluster_id, b.cluster_id) AS cluster_id, COALESCE(cl.name, bc.name) AS cluster_name,
	COALESCE(f.campaign_id, n.campaign_id, b.campaign_id) AS campaign_id, c.name AS campaign_name, c.starts_on AS campaign_starts,
	f.note_id AS note_id, n.title AS note_title, n.status AS note_status,
	f.briefing_id AS briefing_id, b.held_on AS briefing_held_on, bc.name AS briefing_cluster,
	f.author_id AS author_id, au.full_name AS author_name,
	(SELECT COUNT(*) FROM follow_ups x WHERE x.finding_id = f.id AND x.deleted = 0) AS follow_ups,
	lf.id AS last_id, lf.at AS last_at, lf.text AS last_text, lf.status_to AS last_status_to,
	lf.author_id AS last_author_id, la.full_name AS last_author_name,
	f.seq AS seq,
	(SELECT MIN(x.seq) FROM change_log x WHERE x.tbl = 'findings' AND x.row_id = f.id) AS recorded
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
	AND (:department = '' AND :department_only = 0 OR f.department_id = :department)
	AND (:unassigned = 0 OR f.department_id IS NULL OR f.department_id = '')
	AND (:overdue = 0 OR (` + overdueSQL + `))`

// overdueSQL: a finding still open or in progress whose due date has
// passed as of :as_of (isOverdue in the console says the same).
const overdueSQL = `COALESCE(f.due_on, '') <> '' AND f.due_on < :as_of AND COALESCE(f.status, 'open') IN ('open', 'in_progress')`

// findingsFilter is the selection q makes, as SQL over findingsSQL's
// columns, and its arguments.
func findingsFilter(q FindingsQuery) (string, []any) {
	q.AsOf = cmp.Or(q.AsOf, "9999-12-31")
	args := []any{
		sql.Named("campaign", q.CampaignID), sql.Named("cluster", q.ClusterID), sql.Named("unit", q.UnitID),
		sql.Named("category", q.Category), sql.Named("status", q.Status), sql.Named("department", q.DepartmentID),
		sql.Named("department_only", boolInt(q.DepartmentOnly)), sql.Named("unassigned", boolInt(q.Unassigned)),
		sql.Named("overdue", boolInt(q.Overdue)), sql.Named("as_of", q.AsOf),
	}
	query := findingsSQL
	// Each word of the search, folded, is somewhere in the finding's text,
	// unit, campaign or answer, folded the same way (dicoso_fold: SQL's
	// Fold, migration 0007 on PostgreSQL, foldFunction on SQLite).
	for i, w := range searchTerms(q.Search) {
		name := fmt.Sprintf("word%d", i)
		query += "\n\tAND dicoso_fold(concat_ws(' ', f.text, u.name, c.name, f.answer)) LIKE '%' || :" + name + " || '%'"
		args = append(args, sql.Named(name, w))
	}
	return query, args
}

// FindingPage is one page of the findings register.
type FindingPage struct {
	Items []Finding `json:"items"`
	// NextCursor continues the listing; null on the last page.
	NextCursor *string       `json:"next_cursor"`
	Counts     FindingCounts `json:"counts"`
}

// FindingCounts are the totals of the whole selection (every page).
type FindingCounts struct {
	Total int `json:"total"`
	// Overdue is how many of them are overdue as of the query's date.
	Overdue int `json:"overdue"`
	// ByCategory splits them by category and status, in the registry's
	// order of both; a pair with no finding is left out.
	ByCategory []FindingCount `json:"by_category"`
}

// FindingCount is how many findings of the selection have one category
// and status.
type FindingCount struct {
	Category string `json:"category"`
	Status   string `json:"status"`
	Count    int    `json:"count"`
}

// FindingsPage is one page of the register q selects, in q's order, with
// the selection's counts, all read in one snapshot. It returns
// ErrBadCursor for a cursor that does not continue this listing.
func (r *Reports) FindingsPage(ctx context.Context, q FindingsQuery, base RowBase) (FindingPage, error) {
	sort := cmp.Or(q.Sort, "recorded")
	order := keyset{Key: "s.recorded", Number: true, Desc: strings.HasPrefix(sort, "-")}
	switch strings.TrimPrefix(sort, "-") {
	case "recorded":
	case "due_on":
		// The due date, then when the finding reached the server: one text.
		order.Number, order.Missing = false, "COALESCE(s.due_on, '') = ''"
		order.Key = "COALESCE(s.due_on, '') || '.' || " + r.st.Dialect().Pick(
			"printf('%020d', COALESCE(s.recorded, 0))", "lpad(COALESCE(s.recorded, 0)::text, 20, '0')")
	default:
		return FindingPage{}, fmt.Errorf("report findings: unknown sort %q", q.Sort)
	}
	rows, args := findingsFilter(q)
	fp := fingerprint("findings", q.CampaignID, q.ClusterID, q.UnitID, q.Category, q.Status, q.DepartmentID,
		strconv.FormatBool(q.DepartmentOnly), strconv.FormatBool(q.Unassigned), strconv.FormatBool(q.Overdue), q.AsOf,
		strings.Join(searchTerms(q.Search), " "), sort)
	after, err := order.decode(q.Cursor, fp)
	if err != nil {
		return FindingPage{}, err
	}
	page, pageArgs := order.page(rows, args, after, q.Limit)
	out := FindingPage{Counts: FindingCounts{ByCategory: []FindingCount{}}}
	err = r.read(ctx, "findings", func(tx *sql.Tx) error {
		var err error
		out.Items, out.NextCursor, err = readPage(ctx, tx, page, pageArgs, q.Limit, fp, func(rs *sql.Rows, c *pageCursor) (Finding, error) {
			f, err := scanFinding(rs, &c.Null, &c.Key)
			c.ID = f.ID
			return f, err
		})
		if err != nil {
			return fmt.Errorf("read findings: %w", err)
		}
		out.Counts, err = findingCounts(ctx, tx, q, rows, args)
		return err
	})
	if err != nil {
		return FindingPage{}, err
	}
	WithBase(out.Items, base)
	return out, nil
}

// findingCounts counts the selection rows (findingsFilter) by category and
// status, and its overdue findings as of q.AsOf.
func findingCounts(ctx context.Context, tx *sql.Tx, q FindingsQuery, rows string, args []any) (FindingCounts, error) {
	out := FindingCounts{ByCategory: []FindingCount{}}
	rs, err := tx.QueryContext(ctx, `SELECT s.category, COALESCE(s.status, 'open'), COUNT(*),
		SUM(CASE WHEN COALESCE(s.due_on, '') <> '' AND s.due_on < :count_as_of AND COALESCE(s.status, 'open') IN ('open', 'in_progress') THEN 1 ELSE 0 END)
		FROM (`+rows+`) s GROUP BY s.category, COALESCE(s.status, 'open')`,
		append(slices.Clone(args), sql.Named("count_as_of", cmp.Or(q.AsOf, Today(time.Now()))))...)
	if err != nil {
		return out, fmt.Errorf("count findings: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var c FindingCount
		var overdue int
		if err := rs.Scan(&c.Category, &c.Status, &c.Count, &overdue); err != nil {
			return out, fmt.Errorf("count findings: %w", err)
		}
		out.Total += c.Count
		out.Overdue += overdue
		out.ByCategory = append(out.ByCategory, c)
	}
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("count findings: %w", err)
	}
	categories, statuses := fieldValues("category"), fieldValues("status")
	slices.SortFunc(out.ByCategory, func(a, b FindingCount) int {
		if c := cmp.Compare(slices.Index(categories, a.Category), slices.Index(categories, b.Category)); c != 0 {
			return c
		}
		return cmp.Compare(slices.Index(statuses, a.Status), slices.Index(statuses, b.Status))
	})
	return out, nil
}

// findings reads the whole register q selects (the export), in no order:
// sortFindings puts it in the compiled report's.
func findings(ctx context.Context, tx *sql.Tx, q FindingsQuery) ([]Finding, error) {
	query, args := findingsFilter(q)
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rs.Close()
	out := []Finding{}
	for rs.Next() {
		f, err := scanFinding(rs)
		if err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		out = append(out, f)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// scanFinding reads one row of findingsSQL, then the columns more holds
// the destinations of (a page's sort key).
func scanFinding(rs *sql.Rows, more ...any) (Finding, error) {
	var f Finding
	var due, dept, deptName, unit, unitName, cluster, clusterName, campaign, campaignName, campaignStarts,
		note, noteTitle, noteStatus, briefing, briefingOn, briefingCluster, author, authorName sql.NullString
	var fuID, fuAt, fuText, fuStatus, fuAuthor, fuAuthorName sql.NullString
	var recorded sql.NullInt64
	err := rs.Scan(append([]any{&f.ID, &f.Category, &f.Text, &f.Status, &due, &f.Answer,
		&dept, &deptName, &unit, &unitName, &cluster, &clusterName,
		&campaign, &campaignName, &campaignStarts, &note, &noteTitle, &noteStatus,
		&briefing, &briefingOn, &briefingCluster, &author, &authorName, &f.FollowUps,
		&fuID, &fuAt, &fuText, &fuStatus, &fuAuthor, &fuAuthorName, &f.seq, &recorded}, more...)...)
	if err != nil {
		return f, err
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
	return f, nil
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
func findingCategories() []string { return fieldValues("category") }

// fieldValues are the values of an enum field of findings, in the registry's order.
func fieldValues(field string) []string {
	t, _ := schema.Lookup("findings")
	f, _ := t.Field(field)
	return f.Values
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
