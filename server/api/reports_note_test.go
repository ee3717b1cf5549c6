package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/sync/protocol"
)

// readersOf are the notes world's accounts, by name, headquarters apart
// (their devices pull only their own rows; they read every note over the
// API).
func (w notesWorld) readers() (field, headquarters map[string]*device) {
	field = map[string]*device{"leader (secretary and inspector)": w.lan, "team member": w.hoa, "secretary of no cluster": w.secretary,
		"liaison of no unit": w.liaison, "Propaganda Department": w.deptProp, "Inspection department": w.deptInsp, "department-less": w.deptless}
	headquarters = map[string]*device{"admin": w.e.admin, "office": w.office, "inspection committee": w.ic}
	return field, headquarters
}

// listed is every note of the list as who reads it, all pages.
func (w notesWorld) listed(t *testing.T, who *device) []string {
	t.Helper()
	ids := []string{}
	q := "?limit=2"
	for range 100 {
		p := w.notes(t, who, q)
		ids = append(ids, noteIDs(p)...)
		if p.NextCursor == nil {
			sort.Strings(ids)
			return ids
		}
		q = "?limit=2&cursor=" + *p.NextCursor
	}
	t.Fatal("the list does not end")
	return nil
}

// The notes list and the note view give every role exactly the notes its
// pull gives it (the same read scope, server/syncdb), except another
// author's draft; headquarters, whose devices do not pull notes, every
// note but another's draft. A note outside that is 404 in the note view,
// and the findings and rounds shown with a note are those the reader's
// pull holds for it.
func TestNotesReadScopeIsThePulls(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	round := uuid.NewString()
	w.ic.push(t, "", upsert("reviews", round, map[string]any{"note_id": w.n5, "reviewer_id": w.ic.userID,
		"decision": "needs_revision", "comment": "Bổ sung số liệu", "at": "2021-06-06T08:00:00Z"}))

	notes := map[string]protocol.Row{}
	for _, d := range []*device{w.lan, w.hoa, w.office} {
		rows, _ := d.pullAll(t, "")
		maps.DeleteFunc(rows, func(_ string, r protocol.Row) bool { return r.Deleted })
		maps.Copy(notes, rows)
	}
	allNotes := []string{w.n1, w.n2, w.n3, w.n5, w.draft, w.officeDraft, w.deleted}
	visibleTo := func(d *device, pulled map[string]protocol.Row) []string {
		out := []string{}
		for _, id := range allNotes {
			r, ok := pulled[key("visit_notes", id)]
			if !ok || r.Deleted {
				continue
			}
			if r.Fields["status"] == "draft" && r.Fields["author_id"] != d.userID {
				continue
			}
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	field, hq := w.readers()
	check := func(name string, d *device, want []string, pulled map[string]protocol.Row) {
		if got := w.listed(t, d); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", name, got, want)
		}
		for _, id := range allNotes {
			res := w.e.get(t, d, "/api/v1/reports/notes/"+id)
			if !slices.Contains(want, id) {
				res.wantError(t, http.StatusNotFound, "not_found")
				continue
			}
			var got report.NoteDetail
			res.decode(t, http.StatusOK, &got)
			if got.Note.ID != id || got.Base == "" {
				t.Errorf("%s reads note %s as %s, base %q", name, id, got.Note.ID, got.Base)
			}
			if pulled == nil {
				continue
			}
			var findings, rounds, wantF, wantR []string
			for _, f := range got.Findings {
				findings = append(findings, f.ID)
			}
			for _, r := range got.Reviews {
				rounds = append(rounds, r.ID)
			}
			for _, r := range pulled {
				if r.Deleted || r.Fields["note_id"] != id {
					continue
				}
				switch r.Table {
				case "findings":
					wantF = append(wantF, r.RowID)
				case "reviews":
					wantR = append(wantR, r.RowID)
				}
			}
			slices.Sort(findings)
			slices.Sort(wantF)
			slices.Sort(rounds)
			slices.Sort(wantR)
			if !slices.Equal(findings, wantF) || !slices.Equal(rounds, wantR) {
				t.Errorf("%s reads note %s with findings %v and rounds %v; its pull holds %v and %v", name, id, findings, rounds, wantF, wantR)
			}
		}
	}
	for name, d := range field {
		pulled, _ := d.pullAll(t, "")
		check(name, d, visibleTo(d, pulled), pulled)
	}
	for name, d := range hq {
		check(name, d, visibleTo(d, notes), nil)
	}

	// The examples the rule stands for.
	if got := w.listed(t, w.deptProp); !slices.Equal(got, []string{w.n1}) {
		t.Errorf("the Propaganda Department lists %v, want only n1, which its finding cites", got)
	}
	w.e.get(t, w.deptProp, "/api/v1/reports/notes/"+w.n2).wantError(t, http.StatusNotFound, "not_found")
	if got := w.listed(t, w.deptInsp); slices.Contains(got, w.n1) {
		t.Errorf("the Inspection department reads the Propaganda Department's note n1: %v", got)
	}
	var n5 report.NoteDetail
	w.e.get(t, w.hoa, "/api/v1/reports/notes/"+w.n5).decode(t, http.StatusOK, &n5)
	if len(n5.Reviews) != 1 || n5.Reviews[0].Comment != "Bổ sung số liệu" || n5.Reviews[0].Reviewer.ID != w.ic.userID {
		t.Errorf("the team member reads n5's rounds as %+v", n5.Reviews)
	}
	w.e.get(t, w.e.admin, "/api/v1/reports/notes/not-a-uuid").wantError(t, http.StatusBadRequest, "validation_failed")
	w.e.get(t, nil, "/api/v1/reports/notes/"+w.n1).wantError(t, http.StatusUnauthorized, "unauthorized")
}

// The note view is the note's content, findings and rounds as one read,
// with the base a decision made from it carries: a decision pushed with
// that base by a reviewer whose clock runs two days behind stands.
func TestNoteViewContentAndBase(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	var d report.NoteDetail
	w.e.get(t, w.office, "/api/v1/reports/notes/"+w.n1).decode(t, http.StatusOK, &d)
	if d.Note.Title != w.round1Title || d.Content.Results != "Đoàn viên tích cực tham gia" || d.Note.Author.FullName != w.lanName {
		t.Fatalf("note %+v content %+v", d.Note, d.Content)
	}
	if len(d.Findings) != 1 || d.Findings[0].ID != w.f1 || d.Findings[0].DepartmentName == nil || d.Findings[0].Base == "" {
		t.Fatalf("findings %+v", d.Findings)
	}
	if len(d.HandedIn) != 1 || d.HandedIn[0].By.ID != w.lan.userID {
		t.Fatalf("hand-ins %+v, want Lan's one", d.HandedIn)
	}
	if d.Attachments == nil || d.Reviews == nil || d.CheckinPhotos == nil {
		t.Fatalf("empty lists must be [] not null: %+v", d)
	}
	behind := w.office.clock(-48 * time.Hour)
	decide := upsert("visit_notes", w.n1, map[string]any{"status": "needs_revision", "reviewed_by": w.office.userID, "review_comment": "Bổ sung"})
	decide.HLC, decide.Base = behind, d.Base
	_, cursor := w.office.pullAll(t, "")
	if r := w.office.pushResults(t, cursor, decide)[0]; r.Status != protocol.StatusApplied || len(r.Lost) != 0 {
		t.Fatalf("decision from the note view: %+v", r)
	}
	var after report.NoteDetail
	w.e.get(t, w.lan, "/api/v1/reports/notes/"+w.n1).decode(t, http.StatusOK, &after)
	if after.Note.Status != "needs_revision" || after.ReviewComment != "Bổ sung" || after.Base == d.Base {
		t.Fatalf("the author reads %s %q (base %s, was %s)", after.Note.Status, after.ReviewComment, after.Base, d.Base)
	}
}

// A campaign of 5,000 handed-in notes, pushed by their author, reads page
// by page through the notes list: every note exactly once, in the queue's
// order, the counts of the whole selection on every page, the last page
// without a cursor, and a search that finds one note among them.
func TestNotesListPagesAFiveThousandNoteCampaign(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	ins := e.addAccount(t, account{username: "kt.dung", fullName: "Phạm Văn Dũng", roles: []string{auth.RoleInspector}})
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	const total = 5000
	want := map[string]bool{}
	var needle string
	for start := 0; start < total; start += 1000 {
		batch := make([]protocol.Change, 0, 1000)
		for i := start; i < start+1000; i++ {
			n := note(ins, campaignRound1, unitLaiChau, "", "submitted")
			n.Fields["title"] = fmt.Sprintf("Ghi chép số %04d", i)
			n.Fields["results"] = fmt.Sprintf("Kết quả lần %d; mã đối chiếu KT%05d.", i, i)
			want[n.RowID] = true
			if i == 4321 {
				needle = n.RowID
			}
			batch = append(batch, n)
		}
		ins.push(t, "", batch...)
	}

	seen := map[string]bool{}
	var last report.NoteItem
	q := "?campaign_id=" + campaignRound1 + "&limit=200"
	pages := 0
	for cursor := ""; ; pages++ {
		if pages > total/200+1 {
			t.Fatal("the list does not end")
		}
		p := listNotes(t, e, office, q+cursor)
		if p.Counts.Total != total {
			t.Fatalf("page %d counts %d notes, want %d", pages, p.Counts.Total, total)
		}
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("note %s listed twice", it.ID)
			}
			seen[it.ID] = true
			if last.ID != "" && (str(it.SubmittedAt) < str(last.SubmittedAt) || (str(it.SubmittedAt) == str(last.SubmittedAt) && it.ID < last.ID)) {
				t.Fatalf("%s (%s) listed after %s (%s): not the queue's order", it.ID, str(it.SubmittedAt), last.ID, str(last.SubmittedAt))
			}
			last = it
		}
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if len(seen) != total || !maps.Equal(seen, want) {
		t.Fatalf("listed %d notes, want the campaign's %d", len(seen), total)
	}
	found := listNotes(t, e, office, "?campaign_id="+campaignRound1+"&q=kt04321")
	if ids := noteIDs(found); len(ids) != 1 || ids[0] != needle {
		t.Fatalf("search found %v, want the one note", ids)
	}
}

// listNotes is one page of the notes list as who reads it.
func listNotes(t *testing.T, e *testServer, who *device, query string) report.NotePage {
	t.Helper()
	var p report.NotePage
	e.get(t, who, "/api/v1/reports/notes"+query).decode(t, http.StatusOK, &p)
	return p
}
