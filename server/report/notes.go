package report

import (
	"context"
	"database/sql"
	"dicoso/server/store"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// NotesQuery selects a page of the console's notes list. Empty fields do
// not filter.
type NotesQuery struct {
	CampaignID string
	// Round is a campaign kind: periodic (each periodic round is a campaign
	// of its own), thematic or special.
	Round     string
	ClusterID string
	UnitID    string
	TeamID    string
	AuthorID  string
	Statuses  []string
	// From and To (YYYY-MM-DD, inclusive) bound the visit date.
	From, To string
	// Search is what a person typed: words found in the note or its
	// findings, whatever their case and diacritics.
	Search string
	// Sort is one of NoteSorts; "" is the review queue's order.
	Sort  string
	Limit int
	// Cursor continues a listing from where its previous page ended.
	Cursor string
	// id selects one note (Note).
	id string

	// Viewer is who reads, and decides what they may see.
	Viewer NotesViewer
}

// NotesViewer is what the notes list may show its reader: the notes of
// its read scope, as the specs give it (syncdb.ReadClause), except another
// author's draft, which is still its author's working copy and never
// appears to reviewers.
type NotesViewer struct {
	UserID string
	// Read is, for a synced table, the SQL condition over its row aliased
	// r selecting what the viewer may read ("TRUE": every row), with its named
	// arguments (:me, :dept, :unit).
	Read func(table string) (string, []any)
}

// NoteSorts are the orders the list offers: a field, ascending, or with a
// leading "-" descending. Notes without the value come last either way.
var NoteSorts = []string{"submitted_at", "-submitted_at", "updated_at", "-updated_at", "visit_date", "-visit_date"}

// sortColumns maps a sort onto the column of notesSQL it orders by.
var sortColumns = map[string]string{"submitted_at": "submitted_at", "updated_at": "updated_at", "visit_date": "visit_date"}

// DefaultNoteSort is the review queue's order: the longest waiting first.
const DefaultNoteSort = "submitted_at"

// NotePage is one page of the notes list.
type NotePage struct {
	Items []NoteItem `json:"items"`
	// NextCursor continues the listing; null on the last page.
	NextCursor *string    `json:"next_cursor"`
	Counts     NoteCounts `json:"counts"`
}

// NoteItem is one note of the list.
type NoteItem struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Status   string        `json:"status"`
	Kind     *string       `json:"kind"`
	Unit     Ref           `json:"unit"`
	Cluster  *Ref          `json:"cluster"`
	Campaign *NoteCampaign `json:"campaign"`
	// VisitDate is the day of the visit, as coverage reads it: the earliest
	// day of the note's trip (at the note's unit when the trip logged one
	// there), else the trip's start, else the Vietnamese date the note was
	// first submitted.
	VisitDate *string `json:"visit_date"`
	Author    Person  `json:"author"`
	// Team is the inspection team of the note's campaign that holds its
	// unit, the author's own when several do.
	Team     *Ref `json:"team"`
	Findings int  `json:"findings"`
	// SubmittedAt is when the note last reached the server as submitted;
	// UpdatedAt when it last changed.
	SubmittedAt *string `json:"submitted_at"`
	UpdatedAt   *string `json:"updated_at"`
}

// Ref names a row.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Person names a user.
type Person struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
}

// NoteCampaign is a note's campaign with its window.
type NoteCampaign struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	StartsOn *string `json:"starts_on"`
	EndsOn   *string `json:"ends_on"`
}

// NoteCounts are the totals of the whole selection (every page): per
// campaign, in time order, and per unit, in Vietnamese alphabetical order.
type NoteCounts struct {
	Total     int         `json:"total"`
	Campaigns []NoteCount `json:"campaigns"`
	Units     []NoteCount `json:"units"`
}

// NoteCount is how many notes of the selection are of one campaign or at
// one unit. ID and Name are null for the notes of no campaign.
type NoteCount struct {
	ID    *string `json:"id"`
	Name  *string `json:"name"`
	Count int     `json:"count"`

	order string
}

// visitDateSQL is the day of the visit of note n (with its note_index row
// ix), as coverage reads it: the earliest day of the note's trip (at the
// note's unit when the trip logged one there), else the trip's start, else
// the Vietnamese date the note was first submitted.
func visitDateSQL(d store.Dialect) string {
	return `COALESCE(
		(SELECT NULLIF(td.day, '') FROM trip_days td JOIN trips t ON t.id = td.trip_id
			WHERE td.trip_id = n.trip_id AND td.deleted = 0 AND t.deleted = 0 AND NULLIF(td.day, '') IS NOT NULL
			ORDER BY (td.unit_id IS NOT DISTINCT FROM n.unit_id) DESC, td.day LIMIT 1),
		(SELECT NULLIF(t.starts_on, '') FROM trips t WHERE t.id = n.trip_id AND t.deleted = 0),
		` + d.Pick(`date(ix.first_submitted_at, '+7 hours')`,
		`to_char(ix.first_submitted_at::timestamptz AT TIME ZONE 'UTC' + interval '7 hours', 'YYYY-MM-DD')`) + `)`
}

// notesSQL is every note the viewer may see, with what the list shows and
// sorts by; the filters are appended to its WHERE as constant clauses
// (notesFilter), and visibleNotes wraps it.
func notesSQL(d store.Dialect) string {
	return `SELECT n.id AS id, n.title AS title, n.status AS status, n.kind AS kind,
	n.unit_id AS unit_id, u.name AS unit_name, u.cluster_id AS cluster_id, cl.name AS cluster_name,
	n.campaign_id AS campaign_id, c.name AS campaign_name, c.kind AS campaign_kind,
	c.starts_on AS campaign_starts, c.ends_on AS campaign_ends,
	n.author_id AS author_id, a.full_name AS author_name,
	(SELECT t.id FROM teams t, ` + d.JSONEach("t.unit_ids", "tu") + `
		WHERE t.deleted = 0 AND t.campaign_id = n.campaign_id AND tu.value = n.unit_id
		ORDER BY (t.leader_id IS NOT DISTINCT FROM n.author_id
			OR EXISTS (SELECT 1 FROM ` + d.JSONEach("t.member_ids", "m") + ` WHERE m.value = n.author_id)) DESC,
		t.name, t.id LIMIT 1) AS team_id,
	(SELECT COUNT(*) FROM findings f WHERE f.note_id = n.id AND f.deleted = 0) AS findings,
	` + visitDateSQL(d) + ` AS visit_date,
	ix.submitted_at AS submitted_at, ix.updated_at AS updated_at
	FROM visit_notes n
	LEFT JOIN note_index ix ON ix.note_id = n.id
	LEFT JOIN units u ON u.id = n.unit_id
	LEFT JOIN clusters cl ON cl.id = u.cluster_id AND cl.deleted = 0
	LEFT JOIN campaigns c ON c.id = n.campaign_id
	LEFT JOIN users a ON a.id = n.author_id
	WHERE n.deleted = 0 AND (n.status <> 'draft' OR n.author_id = :me)`
}

// notesFilter is the selection as SQL: the clauses of the inner query
// (over visit_notes n), those of the outer one (over its computed columns)
// and the named values they use.
type notesFilter struct {
	dialect      store.Dialect
	inner, outer []string
	args         []any
}

func newNotesFilter(d store.Dialect, q NotesQuery) (notesFilter, error) {
	read, args := q.Viewer.Read("visit_notes")
	f := notesFilter{dialect: d, args: slices.Clone(args)}
	if read != "TRUE" {
		f.inner = append(f.inner, `n.id IN (SELECT r.id FROM visit_notes r WHERE `+read+`)`)
	}
	add := func(where *[]string, value, clause, name string) {
		if value != "" {
			*where = append(*where, clause)
			f.args = append(f.args, sql.Named(name, value))
		}
	}
	add(&f.inner, q.id, `n.id = :note_id`, "note_id")
	add(&f.inner, q.CampaignID, `n.campaign_id = :campaign`, "campaign")
	add(&f.inner, q.Round, `c.kind = :round`, "round")
	add(&f.inner, q.ClusterID, `u.cluster_id = :cluster`, "cluster")
	add(&f.inner, q.UnitID, `n.unit_id = :unit_id`, "unit_id")
	add(&f.inner, q.AuthorID, `n.author_id = :author`, "author")
	if len(q.Statuses) > 0 {
		js, err := json.Marshal(q.Statuses)
		if err != nil {
			return f, err
		}
		add(&f.inner, string(js), `n.status IN (SELECT s.value FROM `+d.JSONEach(":statuses", "s")+`)`, "statuses")
	}
	if q.Search != "" {
		if d == store.Postgres {
			expr := tsQuery(q.Search)
			if expr == "" {
				f.inner = append(f.inner, `FALSE`)
			}
			add(&f.inner, expr, `ix.search @@ to_tsquery('simple', :match)`, "match")
		} else {
			expr := matchExpr(q.Search)
			if expr == "" {
				// Only punctuation: nothing can match it.
				f.inner = append(f.inner, `FALSE`)
			}
			add(&f.inner, expr, `ix.doc IN (SELECT rowid FROM note_search WHERE note_search MATCH :match)`, "match")
		}
	}
	add(&f.outer, q.TeamID, `team_id = :team`, "team")
	add(&f.outer, q.From, `visit_date >= :from`, "from")
	add(&f.outer, q.To, `visit_date <= :to`, "to")
	return f, nil
}

// sql is the selection: notesSQL narrowed by the filter, as a subquery
// whose columns the outer clauses and the paging read.
func (f notesFilter) sql() string {
	inner := notesSQL(f.dialect)
	for _, c := range f.inner {
		inner += "\n\tAND (" + c + ")"
	}
	outer := "SELECT * FROM (" + inner + ") AS visible"
	if len(f.outer) > 0 {
		outer += " WHERE " + strings.Join(f.outer, " AND ")
	}
	return outer
}

// fingerprint names a filter and order, so that a cursor is only taken by
// the listing it came from.
func (q NotesQuery) fingerprint() string {
	read, args := q.Viewer.Read("visit_notes")
	return fingerprint(append([]string{"notes", q.Viewer.UserID, read, fmt.Sprint(args...),
		q.CampaignID, q.Round, q.ClusterID, q.UnitID, q.TeamID, q.AuthorID, q.From, q.To,
		strings.Join(searchTerms(q.Search), " "), q.Sort}, q.Statuses...)...)
}

// Notes lists a page of the notes q selects, with the selection's counts,
// all read in one snapshot. It returns ErrBadCursor for a cursor that does
// not continue this listing.
func (r *Reports) Notes(ctx context.Context, q NotesQuery) (NotePage, error) {
	return notesIn(ctx, r.st.Dialect(), q, func(fn func(tx *sql.Tx) error) error { return r.read(ctx, "notes", fn) })
}

// notesIn is Notes, reading through read (one read transaction, or part
// of a larger one).
func notesIn(ctx context.Context, d store.Dialect, q NotesQuery, read func(func(tx *sql.Tx) error) error) (NotePage, error) {
	if q.Sort == "" {
		q.Sort = DefaultNoteSort
	}
	col, ok := sortColumns[strings.TrimPrefix(q.Sort, "-")]
	if !ok {
		return NotePage{}, fmt.Errorf("report notes: unknown sort %q", q.Sort)
	}
	desc := strings.HasPrefix(q.Sort, "-")
	f, err := newNotesFilter(d, q)
	if err != nil {
		return NotePage{}, fmt.Errorf("report notes: %w", err)
	}
	fp := q.fingerprint()
	order := keyset{Key: "s." + col, Desc: desc}
	after, err := order.decode(q.Cursor, fp)
	if err != nil {
		return NotePage{}, err
	}
	rows := "SELECT s.*, (SELECT t.name FROM teams t WHERE t.id = s.team_id) AS team_name FROM (" + f.sql() + ") s"
	page, args := order.page(rows, f.args, after, q.Limit)

	out := NotePage{Items: []NoteItem{}, Counts: NoteCounts{Campaigns: []NoteCount{}, Units: []NoteCount{}}}
	err = read(func(tx *sql.Tx) error {
		var err error
		out.Items, out.NextCursor, err = readPage(ctx, tx, page, args, q.Limit, fp, scanNote)
		if err != nil {
			return fmt.Errorf("read notes: %w", err)
		}
		if q.id != "" {
			return nil // one note: no counts
		}
		out.Counts, err = noteCounts(ctx, tx, f)
		return err
	})
	if err != nil {
		return NotePage{}, err
	}
	return out, nil
}

// scanNote reads one row of the page query: notesSQL's columns, the
// team's name, then the sort key (into cur).
func scanNote(rs *sql.Rows, cur *pageCursor) (NoteItem, error) {
	var it NoteItem
	var kind, unitID, unitName, clusterID, clusterName, campaignID, campaignName, campaignKind,
		starts, ends, authorID, authorName, teamID, visit, submitted, updated, teamName sql.NullString
	err := rs.Scan(&it.ID, &it.Title, &it.Status, &kind,
		&unitID, &unitName, &clusterID, &clusterName,
		&campaignID, &campaignName, &campaignKind, &starts, &ends,
		&authorID, &authorName, &teamID, &it.Findings, &visit, &submitted, &updated,
		&teamName, &cur.Null, &cur.Key)
	if err != nil {
		return it, err
	}
	cur.ID = it.ID
	it.Kind = nullable(kind)
	it.Unit = Ref{ID: unitID.String, Name: unitName.String}
	if clusterID.Valid && clusterName.Valid {
		it.Cluster = &Ref{ID: clusterID.String, Name: clusterName.String}
	}
	if campaignID.Valid && campaignName.Valid {
		it.Campaign = &NoteCampaign{ID: campaignID.String, Name: campaignName.String, Kind: campaignKind.String,
			StartsOn: nullable(starts), EndsOn: nullable(ends)}
	}
	it.Author = Person{ID: authorID.String, FullName: authorName.String}
	if teamID.Valid {
		it.Team = &Ref{ID: teamID.String, Name: teamName.String}
	}
	it.VisitDate, it.SubmittedAt, it.UpdatedAt = nullable(visit), nullable(submitted), nullable(updated)
	return it, nil
}

// noteCounts counts the whole selection per campaign and per unit.
func noteCounts(ctx context.Context, tx *sql.Tx, f notesFilter) (NoteCounts, error) {
	q := `SELECT 'campaign', s.campaign_id, c.name, COALESCE(c.starts_on, ''), COUNT(*)
		FROM (` + f.sql() + `) s LEFT JOIN campaigns c ON c.id = s.campaign_id
		GROUP BY s.campaign_id, c.name, c.starts_on
		UNION ALL
		SELECT 'unit', s.unit_id, u.name, '', COUNT(*)
		FROM (` + f.sql() + `) s LEFT JOIN units u ON u.id = s.unit_id
		GROUP BY s.unit_id, u.name`
	out := NoteCounts{Campaigns: []NoteCount{}, Units: []NoteCount{}}
	rs, err := tx.QueryContext(ctx, q, f.args...)
	if err != nil {
		return out, fmt.Errorf("count notes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var kind string
		var id, name sql.NullString
		var n NoteCount
		if err := rs.Scan(&kind, &id, &name, &n.order, &n.Count); err != nil {
			return out, fmt.Errorf("count notes: %w", err)
		}
		n.ID, n.Name = nullable(id), nullable(name)
		if kind == "campaign" {
			out.Campaigns = append(out.Campaigns, n)
			out.Total += n.Count
		} else {
			out.Units = append(out.Units, n)
		}
	}
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("count notes: %w", err)
	}
	col := collate.New(language.Vietnamese)
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	// Campaigns in time order, undated and campaign-less last; units by name.
	slices.SortFunc(out.Campaigns, func(a, b NoteCount) int {
		if c := boolOrder(a.ID == nil, b.ID == nil); c != 0 {
			return c
		}
		if c := boolOrder(a.order == "", b.order == ""); c != 0 {
			return c
		}
		if c := strings.Compare(a.order, b.order); c != 0 {
			return c
		}
		return col.CompareString(str(a.Name), str(b.Name))
	})
	slices.SortFunc(out.Units, func(a, b NoteCount) int {
		if c := col.CompareString(str(a.Name), str(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(str(a.ID), str(b.ID))
	})
	return out, nil
}

// boolOrder puts false before true.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
