package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"dicoso/server/store"
)

// NoteDetail is one note as the console's two-pane view shows it: what the
// list shows of it, its whole content, its findings, its photos and every
// review round, all read in one snapshot. Base is the row's base for a
// change made from this read (docs/protocol.md, "Merge"): the console's
// decision carries it, so the server knows the decision saw this content
// and nothing written after it.
type NoteDetail struct {
	Note          NoteItem       `json:"note"`
	Base          string         `json:"base"`
	Content       NoteContent    `json:"content"`
	Attachments   []string       `json:"attachments"`
	Findings      []NoteFinding  `json:"findings"`
	Reviews       []NoteReview   `json:"reviews"`
	HandedIn      []HandIn       `json:"handed_in"`
	CheckinPhotos []CheckinPhoto `json:"checkin_photos"`
	ReviewedBy    *Person        `json:"reviewed_by"`
	ReviewComment string         `json:"review_comment"`
}

// NoteContent is the note's text, section by section (the plan's
// structure: results, model practices, shortcomings, aspirations,
// recommendations, conclusions).
type NoteContent struct {
	Results         string `json:"results"`
	Models          string `json:"models"`
	Shortcomings    string `json:"shortcomings"`
	Aspirations     string `json:"aspirations"`
	Recommendations string `json:"recommendations"`
	Conclusions     string `json:"conclusions"`
}

// NoteFinding is one finding of the note that the reader may read, with
// its own base for a triage made from this read.
type NoteFinding struct {
	ID             string  `json:"id"`
	Category       string  `json:"category"`
	Text           string  `json:"text"`
	Status         string  `json:"status"`
	DepartmentID   *string `json:"department_id"`
	DepartmentName *string `json:"department_name"`
	DueOn          *string `json:"due_on"`
	Answer         string  `json:"answer"`
	Base           string  `json:"base"`
}

// NoteReview is one review round: who decided what, when, and why.
type NoteReview struct {
	ID       string `json:"id"`
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	At       string `json:"at"`
	Reviewer Person `json:"reviewer"`
}

// HandIn is one time the note reached the server as submitted: who sent
// it and when it arrived.
type HandIn struct {
	At string `json:"at"`
	By Person `json:"by"`
}

// CheckinPhoto is a photo of a check-in by the note's author at its unit.
type CheckinPhoto struct {
	SHA256 string `json:"sha256"`
	At     string `json:"at"`
}

// RowBase names the base of a row of table read at its seq column
// (syncdb.RowBase), given by the caller so this package stays a reader of
// the store.
type RowBase func(table, id string, seq int64) string

// Note reads note id with everything the viewer may read of it, in one
// snapshot. A note the viewer may not read, another author's draft, or a
// deleted one is store.ErrNotFound: the answer does not tell it exists.
func (r *Reports) Note(ctx context.Context, id string, v NotesViewer, base RowBase) (NoteDetail, error) {
	var out NoteDetail
	err := r.read(ctx, "note", func(tx *sql.Tx) error {
		one := func(fn func(tx *sql.Tx) error) error { return fn(tx) }
		page, err := notesIn(ctx, r.st.Dialect(), NotesQuery{id: id, Limit: 1, Viewer: v}, one)
		if err != nil {
			return err
		}
		if len(page.Items) == 0 {
			return notFound("visit note " + id)
		}
		out.Note = page.Items[0]
		var seq int64
		var attachments, reviewedBy, reviewerName sql.NullString
		c := &out.Content
		err = tx.QueryRowContext(ctx, `SELECT n.seq, COALESCE(n.results, ''), COALESCE(n.models, ''), COALESCE(n.shortcomings, ''),
			COALESCE(n.aspirations, ''), COALESCE(n.recommendations, ''), COALESCE(n.conclusions, ''), n.attachments,
			COALESCE(n.review_comment, ''), n.reviewed_by, u.full_name
			FROM visit_notes n LEFT JOIN users u ON u.id = n.reviewed_by WHERE n.id = ?`, id).
			Scan(&seq, &c.Results, &c.Models, &c.Shortcomings, &c.Aspirations, &c.Recommendations, &c.Conclusions,
				&attachments, &out.ReviewComment, &reviewedBy, &reviewerName)
		if err != nil {
			return fmt.Errorf("read note %s: %w", id, err)
		}
		out.Base = base("visit_notes", id, seq)
		out.Attachments = []string{}
		if attachments.Valid && attachments.String != "" {
			if err := json.Unmarshal([]byte(attachments.String), &out.Attachments); err != nil {
				return fmt.Errorf("read note %s attachments: %w", id, err)
			}
		}
		if reviewedBy.Valid && reviewedBy.String != "" {
			out.ReviewedBy = &Person{ID: reviewedBy.String, FullName: reviewerName.String}
		}
		if out.Findings, err = noteFindings(ctx, r.st.Dialect(), tx, id, v, base); err != nil {
			return err
		}
		if out.Reviews, err = noteReviews(ctx, tx, id, v); err != nil {
			return err
		}
		if out.HandedIn, err = handIns(ctx, r.st.Dialect(), tx, id); err != nil {
			return err
		}
		out.CheckinPhotos, err = checkinPhotos(ctx, tx, out.Note, v)
		return err
	})
	return out, err
}

func noteFindings(ctx context.Context, d store.Dialect, tx *sql.Tx, id string, v NotesViewer, base RowBase) ([]NoteFinding, error) {
	read, args := v.Read("findings")
	rs, err := tx.QueryContext(ctx, `SELECT r.id, COALESCE(r.category, ''), COALESCE(r.text, ''), COALESCE(r.status, 'open'),
		r.department_id, d.name, r.due_on, COALESCE(r.answer, ''), r.seq
		FROM findings r LEFT JOIN departments d ON d.id = r.department_id
		WHERE r.note_id = :note_id AND r.deleted = 0 AND (`+read+`) ORDER BY `+d.Pick("r.rowid",
		"(SELECT MIN(c.seq) FROM change_log c WHERE c.tbl = 'findings' AND c.row_id = r.id), r.id"),
		append(slices.Clone(args), sql.Named("note_id", id))...)
	if err != nil {
		return nil, fmt.Errorf("read findings of note %s: %w", id, err)
	}
	defer rs.Close()
	out := []NoteFinding{}
	for rs.Next() {
		var f NoteFinding
		var dept, deptName, due sql.NullString
		var seq int64
		if err := rs.Scan(&f.ID, &f.Category, &f.Text, &f.Status, &dept, &deptName, &due, &f.Answer, &seq); err != nil {
			return nil, fmt.Errorf("read findings of note %s: %w", id, err)
		}
		f.DepartmentID, f.DepartmentName, f.DueOn, f.Base = nullable(dept), nullable(deptName), nullable(due), base("findings", f.ID, seq)
		out = append(out, f)
	}
	return out, rs.Err()
}

func noteReviews(ctx context.Context, tx *sql.Tx, id string, v NotesViewer) ([]NoteReview, error) {
	read, args := v.Read("reviews")
	rs, err := tx.QueryContext(ctx, `SELECT r.id, COALESCE(r.decision, ''), COALESCE(r.comment, ''), COALESCE(r.at, ''),
		COALESCE(r.reviewer_id, ''), COALESCE(u.full_name, u.username, '')
		FROM reviews r LEFT JOIN users u ON u.id = r.reviewer_id
		WHERE r.note_id = :note_id AND r.deleted = 0 AND (`+read+`) ORDER BY r.at, r.id`,
		append(slices.Clone(args), sql.Named("note_id", id))...)
	if err != nil {
		return nil, fmt.Errorf("read review rounds of note %s: %w", id, err)
	}
	defer rs.Close()
	out := []NoteReview{}
	for rs.Next() {
		var x NoteReview
		if err := rs.Scan(&x.ID, &x.Decision, &x.Comment, &x.At, &x.Reviewer.ID, &x.Reviewer.FullName); err != nil {
			return nil, fmt.Errorf("read review rounds of note %s: %w", id, err)
		}
		out = append(out, x)
	}
	return out, rs.Err()
}

// handIns are the changes that set the note submitted, oldest first, from
// the change log (every applied change is kept there).
func handIns(ctx context.Context, d store.Dialect, tx *sql.Tx, id string) ([]HandIn, error) {
	rs, err := tx.QueryContext(ctx, `SELECT c.received_at, COALESCE(c.user_id, ''), COALESCE(u.full_name, u.username, '')
		FROM change_log c LEFT JOIN users u ON u.id = c.user_id
		WHERE c.tbl = 'visit_notes' AND c.row_id = ? AND `+d.Pick(`json_extract(c.applied, '$.status')`, `(c.applied::jsonb ->> 'status')`)+` = 'submitted'
		ORDER BY c.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read hand-ins of note %s: %w", id, err)
	}
	defer rs.Close()
	out := []HandIn{}
	for rs.Next() {
		var h HandIn
		if err := rs.Scan(&h.At, &h.By.ID, &h.By.FullName); err != nil {
			return nil, fmt.Errorf("read hand-ins of note %s: %w", id, err)
		}
		out = append(out, h)
	}
	return out, rs.Err()
}

// checkinPhotos are the photos of the author's check-ins at the note's
// unit that the viewer may read, newest first (at most 12).
func checkinPhotos(ctx context.Context, tx *sql.Tx, n NoteItem, v NotesViewer) ([]CheckinPhoto, error) {
	read, args := v.Read("checkins")
	rs, err := tx.QueryContext(ctx, `SELECT r.photo, COALESCE(r.at, '') FROM checkins r
		WHERE r.deleted = 0 AND r.user_id = :author AND r.unit_id = :note_unit AND COALESCE(r.photo, '') <> ''
		AND COALESCE(r.voided, 0) = 0 AND (`+read+`) ORDER BY r.at DESC LIMIT 12`,
		append(slices.Clone(args), sql.Named("author", n.Author.ID), sql.Named("note_unit", n.Unit.ID))...)
	if err != nil {
		return nil, fmt.Errorf("read check-in photos: %w", err)
	}
	defer rs.Close()
	out := []CheckinPhoto{}
	for rs.Next() {
		var p CheckinPhoto
		if err := rs.Scan(&p.SHA256, &p.At); err != nil {
			return nil, fmt.Errorf("read check-in photos: %w", err)
		}
		out = append(out, p)
	}
	return out, rs.Err()
}
