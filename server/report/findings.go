package report

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"dicoso/server/store"
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
		items[i].Base = base("findings", items[i].ID, items[i].seq)
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

// The register is read in parts. findingsJoins and findingsFilter are
// which findings the register holds and which a query selects: a finding
// of a draft note is left out (the note is still its author's working
// copy, not yet handed in, and may change before it is); a finding
// recorded without a note is in. findingsColumns is what the register
// shows of each; a page orders and cuts the selection on a few columns
// (findingsKeys) and reads the rest for its own rows only, so a page of 50
// never computes the follow-ups of 5,000.
const findingsJoins = `FROM findings f
	LEFT JOIN visit_notes n ON n.id = f.note_id
	LEFT JOIN briefings b ON b.id = f.briefing_id AND b.deleted = 0
	LEFT JOIN clusters bc ON bc.id = b.cluster_id AND bc.deleted = 0
	LEFT JOIN units u ON u.id = COALESCE(f.unit_id, n.unit_id)
	LEFT JOIN clusters cl ON cl.id = u.cluster_id AND cl.deleted = 0
	LEFT JOIN campaigns c ON c.id = COALESCE(f.campaign_id, n.campaign_id, b.campaign_id)`

// findingsColumns is one row of the register (scanFinding). recorded is
// the change-log sequence of the finding's first write: when it reached
// the server, which no later write changes.
const findingsColumns = `SELECT f.id AS id, f.category AS category, f.text AS text, f.status AS status, f.due_on AS due_on,
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
	f.seq AS seq, ` + recordedSQL + ` AS recorded`

// findingsDetails is what findingsColumns reads beyond findingsJoins.
const findingsDetails = `
	LEFT JOIN departments d ON d.id = f.department_id
	LEFT JOIN users au ON au.id = f.author_id
	LEFT JOIN follow_ups lf ON lf.id = (SELECT x.id FROM follow_ups x
		WHERE x.finding_id = f.id AND x.deleted = 0 ORDER BY x.at DESC, x.seq DESC LIMIT 1)
	LEFT JOIN users la ON la.id = lf.author_id`

// findingsKeys is what a page orders and cuts the selection by. A page
// reads it materialized (fk): each finding's first change-log sequence is
// looked up once (an index seek), not once for each place the order and
// the cursor read it.
const findingsKeys = `SELECT f.id AS id, f.due_on AS due_on, ` + recordedSQL + ` AS recorded`

const recordedSQL = `(SELECT MIN(x.seq) FROM change_log x WHERE x.tbl = 'findings' AND x.row_id = f.id)`

// overdueSQL: a finding still open or in progress whose due date has
// passed as of :as_of (isOverdue in the console says the same).
const overdueSQL = `COALESCE(f.due_on, '') <> '' AND f.due_on < :as_of AND COALESCE(f.status, 'open') IN ('open', 'in_progress')`

// findingsFilter is the selection q makes, the WHERE over findingsJoins,
// and its arguments: a clause for each filter set (the joins no clause
// reads are left out of the plan), and the words searched.
func findingsFilter(d store.Dialect, q FindingsQuery) (string, []any) {
	clauses := []string{`f.deleted = 0`, `(f.note_id IS NULL OR (n.deleted = 0 AND n.status <> 'draft'))`}
	var args []any
	add := func(on bool, clause string, named ...sql.NamedArg) {
		if on {
			clauses = append(clauses, clause)
			for _, a := range named {
				args = append(args, a)
			}
		}
	}
	add(q.CampaignID != "", `COALESCE(f.campaign_id, n.campaign_id, b.campaign_id) = :campaign`, sql.Named("campaign", q.CampaignID))
	add(q.ClusterID != "", `COALESCE(u.cluster_id, b.cluster_id) = :cluster`, sql.Named("cluster", q.ClusterID))
	add(q.UnitID != "", `COALESCE(f.unit_id, n.unit_id) = :unit`, sql.Named("unit", q.UnitID))
	add(q.Category != "", `f.category = :category`, sql.Named("category", q.Category))
	add(q.Status != "", `f.status = :status`, sql.Named("status", q.Status))
	// A department user is held to their department, an empty one included.
	add(q.DepartmentID != "" || q.DepartmentOnly, `f.department_id = :department`, sql.Named("department", q.DepartmentID))
	add(q.Unassigned, `COALESCE(f.department_id, '') = ''`)
	add(q.Overdue, overdueSQL, sql.Named("as_of", cmp.Or(q.AsOf, "9999-12-31")))
	// Each word of the search, folded, is somewhere in the finding's text,
	// unit, campaign or answer, folded the same way: on SQLite by
	// dicoso_fold (search.go), a clause a word; on PostgreSQL by its own
	// normalisation, once, matched against every word at once (its
	// dicoso_fold of migration 0007 translates through a table of 400
	// letters, which costs a millisecond a finding).
	const text = `concat_ws(' ', f.text, u.name, c.name, f.answer)`
	words := searchTerms(q.Search)
	if d == store.Postgres && len(words) > 0 {
		var re strings.Builder
		re.WriteString("^")
		for _, w := range words {
			re.WriteString("(?=.*" + w + ")") // a word holds letters and digits only
		}
		add(true, `lower(translate(regexp_replace(normalize(`+text+`, NFD), '[\u0300-\u036f]', '', 'g'), 'đĐ', 'dd')) ~ :words`,
			sql.Named("words", re.String()))
	} else {
		for i, w := range words {
			name := fmt.Sprintf("word%d", i)
			add(true, `dicoso_fold(`+text+`) LIKE '%' || :`+name+` || '%'`, sql.Named(name, w))
		}
	}
	return "\n\tWHERE " + strings.Join(clauses, "\n\tAND "), args
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
	where, args := findingsFilter(r.st.Dialect(), q)
	fp := fingerprint("findings", q.CampaignID, q.ClusterID, q.UnitID, q.Category, q.Status, q.DepartmentID,
		strconv.FormatBool(q.DepartmentOnly), strconv.FormatBool(q.Unassigned), strconv.FormatBool(q.Overdue), q.AsOf,
		strings.Join(searchTerms(q.Search), " "), sort)
	after, err := order.decode(q.Cursor, fp)
	if err != nil {
		return FindingPage{}, err
	}
	page, pageArgs := order.page("SELECT * FROM fk", args, after, q.Limit)
	page = "WITH fk AS MATERIALIZED (" + findingsKeys + "\n\t" + findingsJoins + where + ")\n" + page
	out := FindingPage{Items: []Finding{}, Counts: FindingCounts{ByCategory: []FindingCount{}}}
	err = r.read(ctx, "findings", func(tx *sql.Tx) error {
		// The page's ids, in order; then their rows.
		ids, next, err := readPage(ctx, tx, page, pageArgs, q.Limit, fp, func(rs *sql.Rows, c *pageCursor) (string, error) {
			var due sql.NullString
			var recorded sql.NullInt64
			err := rs.Scan(&c.ID, &due, &recorded, &c.Null, &c.Key)
			return c.ID, err
		})
		if err != nil {
			return fmt.Errorf("read findings: %w", err)
		}
		out.NextCursor = next
		if out.Items, err = findingsByID(ctx, r.st.Dialect(), tx, ids); err != nil {
			return err
		}
		out.Counts, err = findingCounts(ctx, tx, q, where, args)
		return err
	})
	if err != nil {
		return FindingPage{}, err
	}
	WithBase(out.Items, base)
	return out, nil
}

// findingsByID reads the register's rows of ids, in that order.
func findingsByID(ctx context.Context, d store.Dialect, tx *sql.Tx, ids []string) ([]Finding, error) {
	if len(ids) == 0 {
		return []Finding{}, nil
	}
	list, _ := json.Marshal(ids) // strings always encode
	rs, err := tx.QueryContext(ctx, findingsColumns+"\n\t"+findingsJoins+findingsDetails+
		"\n\tWHERE f.id IN (SELECT j.value FROM "+d.JSONEach(":ids", "j")+")", sql.Named("ids", string(list)))
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rs.Close()
	byID := make(map[string]Finding, len(ids))
	for rs.Next() {
		f, err := scanFinding(rs)
		if err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		byID[f.ID] = f
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	out := make([]Finding, 0, len(ids))
	for _, id := range ids {
		if f, ok := byID[id]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// findingCounts counts the selection (where: findingsFilter's) by
// category and status, and its overdue findings as of q.AsOf.
func findingCounts(ctx context.Context, tx *sql.Tx, q FindingsQuery, where string, args []any) (FindingCounts, error) {
	out := FindingCounts{ByCategory: []FindingCount{}}
	rs, err := tx.QueryContext(ctx, `SELECT f.category, COALESCE(f.status, 'open'), COUNT(*),
		SUM(CASE WHEN COALESCE(f.due_on, '') <> '' AND f.due_on < :count_as_of AND COALESCE(f.status, 'open') IN ('open', 'in_progress') THEN 1 ELSE 0 END)
		`+findingsJoins+where+` GROUP BY f.category, COALESCE(f.status, 'open')`,
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
func findings(ctx context.Context, d store.Dialect, tx *sql.Tx, q FindingsQuery) ([]Finding, error) {
	where, args := findingsFilter(d, q)
	rs, err := tx.QueryContext(ctx, findingsColumns+"\n\t"+findingsJoins+findingsDetails+where, args...)
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
