package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/syncdb"
	"dicoso/sync/protocol"
)

// notesWorld is field data for the console's notes list: notes in every
// status, at units of a cluster and of a team, with findings assigned to
// two departments, written in a known order (the server clock moves a
// second between pushes).
type notesWorld struct {
	e                                  *testServer
	lan, hoa, office, ic               *device
	deptProp, deptInsp, deptless       *device
	secretary, liaison                 *device
	cluster, team                      string
	n1, n2, n3, n5                     string // handed in, in the order first submitted
	draft, officeDraft, deleted        string
	f1, f2                             string // findings of n1 (Tuyên giáo) and n2 (Kiểm tra)
	draftFinding                       string // of the draft, assigned to Tuyên giáo
	findingsOf                         map[string]int
	lanName, hoaName                   string
	teamName, clusterName, round1Title string
}

func newNotesWorld(t *testing.T) notesWorld {
	t.Helper()
	e := newTestServer(t, withClock(time.Now()), withSeeds(), withAdmin())
	w := notesWorld{e: e, cluster: uuid.NewString(), team: uuid.NewString(),
		lanName: "Nguyễn Thị Lan", hoaName: "Lê Thị Hoa", teamName: "Đoàn kiểm tra số 1", clusterName: "Cụm Tây Bắc"}
	w.lan = e.addAccount(t, account{username: "bt.lan", fullName: w.lanName, roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	w.hoa = e.addAccount(t, account{username: "kt.hoa", fullName: w.hoaName, roles: []string{auth.RoleInspector}})
	w.office = e.addAccount(t, account{username: "van.phong", fullName: "Vũ Văn Hải", roles: []string{auth.RoleOffice}})
	w.ic = e.addAccount(t, account{username: "ban.kiem.tra", fullName: "Trần Thị Thu", roles: []string{auth.RoleInspectionCommittee}})
	w.deptProp = e.addAccount(t, account{username: "ban.tuyen.giao", fullName: "Phạm Văn Nam", department: deptPropaganda, roles: []string{auth.RoleDepartment}})
	w.deptInsp = e.addAccount(t, account{username: "ban.kt.theo.doi", fullName: "Đinh Văn Tú", department: deptInspection, roles: []string{auth.RoleDepartment}})
	w.deptless = e.addAccount(t, account{username: "ban.moi", fullName: "Hoàng Thị Thu", roles: []string{auth.RoleDepartment}})
	w.secretary = e.addAccount(t, account{username: "bt.minh", fullName: "Trần Văn Minh", roles: []string{auth.RoleSecretary}})
	w.liaison = e.addAccount(t, account{username: "tinh.doan", fullName: "Đỗ Thị Mai", roles: []string{auth.RoleUnitLiaison}})
	e.apply(t,
		syncdb.ServerChange{Table: "clusters", RowID: w.cluster, Fields: map[string]any{"name": w.clusterName}},
		syncdb.ServerChange{Table: "units", RowID: unitLaiChau, Fields: map[string]any{"cluster_id": w.cluster}},
		syncdb.ServerChange{Table: "teams", RowID: w.team, Fields: map[string]any{
			"campaign_id": campaignRound1, "name": w.teamName, "leader_id": w.lan.userID,
			"member_ids": []string{w.hoa.userID}, "unit_ids": []string{unitLaiChau, unitTuyenQuang},
		}},
	)
	tick := func() { e.clock.Advance(time.Second) }

	// n1: Lan at Lai Châu on 5 June, one finding for the Propaganda Department.
	visit := trip(w.lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	n1 := note(w.lan, campaignRound1, unitLaiChau, visit[0].RowID, "submitted")
	w.round1Title = "Kiểm tra Tỉnh đoàn"
	n1.Fields["title"] = w.round1Title
	n1.Fields["results"] = "Đoàn viên tích cực tham gia"
	w.n1, w.f1 = n1.RowID, uuid.NewString()
	w.lan.push(t, "", append(visit, n1, findingOf(w.lan, w.f1, w.n1, "shortcoming", "Sinh hoạt chi đoàn chưa đều", deptPropaganda))...)
	tick()

	// n2: Hoa at Tuyên Quang, a recommendation for the Inspection Committee's department.
	n2 := note(w.hoa, campaignRound1, unitTuyenQuang, "", "submitted")
	w.n2, w.f2 = n2.RowID, uuid.NewString()
	w.hoa.push(t, "", n2, findingOf(w.hoa, w.f2, w.n2, "recommendation", "Đề nghị hỗ trợ kinh phí", deptInspection))
	tick()

	// n3: the thematic inspection at Bắc Ninh, then reviewed.
	n3 := note(w.lan, campaignThematic, unitBacNinh, "", "submitted")
	w.n3 = n3.RowID
	w.lan.push(t, "", n3)
	tick()
	w.ic.push(t, "", upsert("visit_notes", w.n3, map[string]any{"status": "reviewed", "reviewed_by": w.ic.userID}))
	tick()

	// A draft at Hà Nam whose finding is already assigned: still Lan's alone.
	draft := note(w.lan, campaignRound1, unitHaNam, "", "draft")
	draft.Fields["results"] = "Đoàn viên chưa gửi"
	w.draft, w.draftFinding = draft.RowID, uuid.NewString()
	w.lan.push(t, "", draft, findingOf(w.lan, w.draftFinding, w.draft, "shortcoming", "Bản nháp chưa gửi", deptPropaganda))
	tick()

	// n5: Lan at Lai Châu again, sent back for revision.
	n5 := note(w.lan, campaignRound1, unitLaiChau, "", "submitted")
	w.n5 = n5.RowID
	w.lan.push(t, "", n5)
	tick()
	w.ic.push(t, "", upsert("visit_notes", w.n5, map[string]any{"status": "needs_revision", "review_comment": "Bổ sung số liệu"}))
	tick()

	// A note submitted and then deleted by the server, and the Office's own draft.
	gone := note(w.lan, campaignRound1, unitBacNinh, "", "submitted")
	w.deleted = gone.RowID
	w.lan.push(t, "", gone)
	e.apply(t, syncdb.ServerChange{Table: "visit_notes", RowID: w.deleted, Delete: true})
	officeDraft := note(w.office, campaignRound1, unitLaiChau, "", "draft")
	w.officeDraft = officeDraft.RowID
	w.office.push(t, "", officeDraft)
	w.findingsOf = map[string]int{w.n1: 1, w.n2: 1, w.n3: 0, w.n5: 0}
	return w
}

func findingOf(author *device, id, noteID, category, text, dept string) protocol.Change {
	return upsert("findings", id, map[string]any{
		"note_id": noteID, "author_id": author.userID, "category": category, "text": text, "department_id": dept,
	})
}

// notes reads one page of the list as u.
func (w notesWorld) notes(t *testing.T, u *device, query string) report.NotePage {
	t.Helper()
	var page report.NotePage
	w.e.get(t, u, "/api/v1/reports/notes"+query).decode(t, http.StatusOK, &page)
	return page
}

func noteIDs(p report.NotePage) []string {
	ids := []string{}
	for _, it := range p.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestNotesListQueueAndItems(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)

	// The default is the review queue's order: longest waiting first, no
	// drafts of others, no deleted note.
	page := w.notes(t, w.e.admin, "")
	if got, want := noteIDs(page), []string{w.n1, w.n2, w.n3, w.n5}; !slices.Equal(got, want) {
		t.Fatalf("admin's list %v, want n1 n2 n3 n5", got)
	}
	if page.NextCursor != nil {
		t.Errorf("one page, yet next_cursor %q", *page.NextCursor)
	}
	queue := w.notes(t, w.ic, "?status=submitted")
	if got, want := noteIDs(queue), []string{w.n1, w.n2}; !slices.Equal(got, want) {
		t.Errorf("review queue %v, want n1 n2", got)
	}
	if got := noteIDs(w.notes(t, w.ic, "?sort=-submitted_at")); !slices.Equal(got, []string{w.n5, w.n3, w.n2, w.n1}) {
		t.Errorf("newest first: %v", got)
	}

	it := page.Items[0]
	checks := map[string][2]any{
		"title":          {it.Title, w.round1Title},
		"status":         {it.Status, "submitted"},
		"unit":           {it.Unit, report.Ref{ID: unitLaiChau, Name: "Lai Châu"}},
		"cluster":        {it.Cluster != nil && *it.Cluster == report.Ref{ID: w.cluster, Name: w.clusterName}, true},
		"campaign":       {it.Campaign != nil && it.Campaign.Name == "Kiểm tra định kỳ Đợt 1 năm 2021", true},
		"window":         {it.Campaign != nil && str(it.Campaign.StartsOn) == "2021-06-01" && str(it.Campaign.EndsOn) == "2021-06-15", true},
		"visit date":     {str(it.VisitDate), "2021-06-05"},
		"author":         {it.Author, report.Person{ID: w.lan.userID, FullName: w.lanName}},
		"team":           {it.Team != nil && *it.Team == report.Ref{ID: w.team, Name: w.teamName}, true},
		"findings":       {it.Findings, 1},
		"submitted":      {it.SubmittedAt != nil, true},
		"updated":        {it.UpdatedAt != nil, true},
		"kind":           {str(it.Kind), "inspection"},
		"thematic team":  {page.Items[2].Team == nil, true}, // n3: the thematic campaign has no team
		"resubmit order": {*page.Items[0].SubmittedAt < *page.Items[1].SubmittedAt, true},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("n1 %s = %v, want %v", what, c[0], c[1])
		}
	}
	// A note without a trip is dated by the day it was first submitted (in Vietnam).
	if n2 := page.Items[1]; str(n2.VisitDate) != report.Today(w.e.clock.Now()) {
		t.Errorf("n2 visit date %s, want today %s", str(n2.VisitDate), report.Today(w.e.clock.Now()))
	}

	// Counts cover the selection: per campaign in time order, per unit by name.
	c := page.Counts
	if c.Total != 4 {
		t.Errorf("total %d, want 4", c.Total)
	}
	wantCampaigns := []string{campaignThematic + "=1", campaignRound1 + "=3"}
	var gotCampaigns []string
	for _, n := range c.Campaigns {
		gotCampaigns = append(gotCampaigns, str(n.ID)+"="+strconv.Itoa(n.Count))
	}
	if !slices.Equal(gotCampaigns, wantCampaigns) {
		t.Errorf("campaign counts %v, want %v", gotCampaigns, wantCampaigns)
	}
	var gotUnits []string
	for _, n := range c.Units {
		gotUnits = append(gotUnits, str(n.Name)+"="+strconv.Itoa(n.Count))
	}
	if want := []string{"Bắc Ninh=1", "Lai Châu=2", "Tuyên Quang=1"}; !slices.Equal(gotUnits, want) {
		t.Errorf("unit counts %v, want %v", gotUnits, want)
	}
	if qc := queue.Counts; qc.Total != 2 || len(qc.Campaigns) != 1 || qc.Campaigns[0].Count != 2 {
		t.Errorf("the queue's counts %+v, want 2 notes of round 1", qc)
	}

	// The Office sees its own draft, and nobody else does.
	if got := noteIDs(w.notes(t, w.office, "?status=draft")); !slices.Equal(got, []string{w.officeDraft}) {
		t.Errorf("the Office's drafts %v, want its own", got)
	}
	if got := noteIDs(w.notes(t, w.e.admin, "?status=draft")); len(got) != 0 {
		t.Errorf("admin sees drafts %v", got)
	}
}

func TestNotesListFilters(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	today := report.Today(w.e.clock.Now())
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?campaign_id=" + campaignRound1, []string{w.n1, w.n2, w.n5}},
		{"?round=thematic", []string{w.n3}},
		{"?round=periodic", []string{w.n1, w.n2, w.n5}},
		{"?round=special", []string{}},
		{"?cluster_id=" + w.cluster, []string{w.n1, w.n5}},
		{"?unit_id=" + unitTuyenQuang, []string{w.n2}},
		{"?unit_id=" + strings.ToUpper(unitTuyenQuang), []string{w.n2}},
		{"?team_id=" + w.team, []string{w.n1, w.n2, w.n5}},
		{"?author_id=" + w.hoa.userID, []string{w.n2}},
		{"?status=reviewed&status=needs_revision", []string{w.n3, w.n5}},
		{"?status=reviewed,submitted", []string{w.n1, w.n2, w.n3}},
		{"?from=2021-06-01&to=2021-06-30", []string{w.n1}},
		{"?from=" + today, []string{w.n2, w.n3, w.n5}},
		{"?to=2021-06-04", []string{}},
		{"?campaign_id=" + campaignRound1 + "&status=submitted&cluster_id=" + w.cluster, []string{w.n1}},
	} {
		if got := noteIDs(w.notes(t, w.e.admin, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
}

func TestNotesListSortByVisitDate(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	// n1 was visited on 5 June; the others, without a trip, are dated today.
	got := noteIDs(w.notes(t, w.e.admin, "?sort=visit_date"))
	if len(got) != 4 || got[0] != w.n1 {
		t.Errorf("by visit date %v, want n1 first", got)
	}
	got = noteIDs(w.notes(t, w.e.admin, "?sort=-visit_date"))
	if len(got) != 4 || got[3] != w.n1 {
		t.Errorf("by visit date, latest first %v, want n1 last", got)
	}
}

func TestNotesListSearch(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	search := func(q string) []string {
		t.Helper()
		return noteIDs(w.notes(t, w.e.admin, "?q="+url.QueryEscape(q)))
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"lai chau", []string{w.n1, w.n5}},   // the unit's name, without diacritics
		{"LAI CHÂU", []string{w.n1, w.n5}},   // any case
		{"lai ch", []string{w.n1, w.n5}},     // the last word as it is being typed
		{"doan vien", []string{w.n1}},        // "Đoàn viên": đ folds to d; not the draft's
		{"Đoàn", []string{w.n1}},             // and the other way round
		{"kinh phi", []string{w.n2}},         // a finding's words find its note
		{"chi đoàn chưa", []string{w.n1}},    //
		{"le thi hoa", []string{w.n2}},       // the author's name
		{"tuyen quang kinh", []string{w.n2}}, // every word must occur
		{"tuyen quang sinh", []string{}},     //
		{"nháp", []string{}},                 // the draft's finding stays its author's
		{`"AND" NEAR(`, []string{}},          // words only, never FTS5 syntax
		{"!!!", []string{}},
	} {
		if got := search(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("q=%q: %v, want %v", tc.q, got, tc.want)
		}
	}
	// Search combines with the other filters, and its counts follow it.
	p := w.notes(t, w.e.admin, "?q=lai+chau&status=submitted")
	if got := noteIDs(p); !slices.Equal(got, []string{w.n1}) || p.Counts.Total != 1 {
		t.Errorf("lai chau, submitted: %v total %d, want n1 alone", got, p.Counts.Total)
	}

	// The index follows every write: a finding's text changed, a finding
	// deleted, a note's text changed, a unit renamed.
	// (The notes are sent back first: a finding is corrected only while
	// its note is open.)
	for _, n := range []string{w.n1, w.n2} {
		w.e.apply(t, syncdb.ServerChange{Table: "visit_notes", RowID: n, Fields: map[string]any{"status": "needs_revision"}})
	}
	w.hoa.push(t, "", upsert("findings", w.f2, map[string]any{"text": "Đề xuất tài liệu học tập"}))
	if got := search("kinh phi"); len(got) != 0 {
		t.Errorf("the finding's old words still find %v", got)
	}
	if got := search("tai lieu"); !slices.Equal(got, []string{w.n2}) {
		t.Errorf("the finding's new words find %v, want n2", got)
	}
	w.lan.push(t, "", remove("findings", w.f1))
	if got := search("sinh hoat"); len(got) != 0 {
		t.Errorf("a deleted finding's words still find %v", got)
	}
	w.lan.push(t, "", upsert("visit_notes", w.n1, map[string]any{"results": "Phong trào tình nguyện sôi nổi"}))
	if got := search("doan vien"); len(got) != 0 {
		t.Errorf("the note's old words still find %v", got)
	}
	if got := search("tinh nguyen soi noi"); !slices.Equal(got, []string{w.n1}) {
		t.Errorf("the note's new words find %v, want n1", got)
	}
	w.e.apply(t, syncdb.ServerChange{Table: "units", RowID: unitTuyenQuang, Fields: map[string]any{"name": "Tỉnh Tuyên Quang mới"}})
	if got := search("tuyen quang moi"); !slices.Equal(got, []string{w.n2}) {
		t.Errorf("the unit's new name finds %v, want n2", got)
	}
}

func TestNotesListPaging(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	for _, sort := range []string{"", "&sort=-submitted_at", "&sort=updated_at", "&sort=-visit_date"} {
		all := noteIDs(w.notes(t, w.e.admin, "?limit=200"+sort))
		var paged []string
		cursor := ""
		for i := 0; ; i++ {
			q := "?limit=3" + sort
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p := w.notes(t, w.e.admin, q)
			if p.Counts.Total != 4 {
				t.Errorf("%s page %d: total %d, want the whole selection's 4", sort, i, p.Counts.Total)
			}
			paged = append(paged, noteIDs(p)...)
			if p.NextCursor == nil {
				break
			}
			if i > 3 {
				t.Fatalf("%s: paging does not end", sort)
			}
			cursor = *p.NextCursor
		}
		if !slices.Equal(paged, all) || len(all) != 4 {
			t.Errorf("%s: pages of 3 give %v, one page %v", sort, paged, all)
		}
	}

	first := w.notes(t, w.e.admin, "?limit=2&status=submitted,reviewed,needs_revision")
	if first.NextCursor == nil || len(first.Items) != 2 {
		t.Fatalf("first page %v next %v", noteIDs(first), first.NextCursor)
	}
	// A cursor continues only its own listing.
	for _, q := range []string{
		"?limit=2&cursor=" + *first.NextCursor, // the filter differs
		"?limit=2&status=submitted,reviewed,needs_revision&sort=-submitted_at&cursor=" + *first.NextCursor, // the order differs
		"?cursor=not-a-cursor",
		"?cursor=" + url.QueryEscape("eyJ2IjoxfQ"), // well-formed, names no note
	} {
		env := w.e.get(t, w.e.admin, "/api/v1/reports/notes"+q).wantError(t, http.StatusBadRequest, "validation_failed")
		if !strings.Contains(string(env.Error.Details), `"cursor"`) {
			t.Errorf("%s: details %s do not name the cursor", q, env.Error.Details)
		}
	}
	// The limit may change between pages.
	rest := w.notes(t, w.e.admin, "?limit=10&status=submitted,reviewed,needs_revision&cursor="+*first.NextCursor)
	if got := append(noteIDs(first), noteIDs(rest)...); !slices.Equal(got, []string{w.n1, w.n2, w.n3, w.n5}) {
		t.Errorf("two pages %v", got)
	}
}

func TestNotesListScope(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	// A department sees the handed-in notes its findings cite, never a
	// draft's, whatever it asks for.
	for _, tc := range []struct {
		who   *device
		query string
		want  []string
	}{
		{w.deptProp, "", []string{w.n1}},
		{w.deptProp, "?status=draft", []string{}},
		{w.deptProp, "?unit_id=" + unitHaNam, []string{}},
		{w.deptProp, "?q=chua+gui", []string{}},
		{w.deptInsp, "", []string{w.n2}},
		{w.deptInsp, "?author_id=" + w.lan.userID, []string{}},
		{w.deptless, "", []string{}},
		{w.office, "", []string{w.n1, w.n2, w.n3, w.n5, w.officeDraft}},
	} {
		p := w.notes(t, tc.who, tc.query)
		if got := noteIDs(p); !slices.Equal(got, tc.want) {
			t.Errorf("%s%s: %v, want %v", tc.who.id, tc.query, got, tc.want)
		}
		if p.Counts.Total != len(tc.want) {
			t.Errorf("%s%s: counts total %d, want %d", tc.who.id, tc.query, p.Counts.Total, len(tc.want))
		}
	}
	// Reassigning the finding moves the note out of one department's list
	// and into the other's.
	w.office.push(t, "", upsert("findings", w.f1, map[string]any{"department_id": deptInspection}))
	if got := noteIDs(w.notes(t, w.deptProp, "")); len(got) != 0 {
		t.Errorf("after the move the Propaganda Department still sees %v", got)
	}
	if got := noteIDs(w.notes(t, w.deptInsp, "")); !slices.Equal(got, []string{w.n1, w.n2}) {
		t.Errorf("after the move the Inspection department sees %v, want n1 n2", got)
	}

	w.e.get(t, nil, "/api/v1/reports/notes").wantError(t, http.StatusUnauthorized, "unauthorized")
}

func TestNotesListRefusesBadFilters(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	for _, tc := range []struct{ query, field string }{
		{"?campaign_id=round-1", "campaign_id"},
		{"?cluster_id=1", "cluster_id"},
		{"?unit_id=lai-chau", "unit_id"},
		{"?team_id=x", "team_id"},
		{"?author_id=lan", "author_id"},
		{"?round=monthly", "round"},
		{"?status=published", "status"},
		{"?status=submitted,", "status"},
		{"?from=2021-13-01", "from"},
		{"?to=05/06/2021", "to"},
		{"?from=2021-06-10&to=2021-06-01", "to"},
		{"?limit=0", "limit"},
		{"?limit=201", "limit"},
		{"?limit=ten", "limit"},
		{"?sort=title", "sort"},
		{"?q=" + strings.Repeat("a", 201), "q"},
	} {
		env := e.get(t, e.admin, "/api/v1/reports/notes"+tc.query).wantError(t, http.StatusBadRequest, "validation_failed")
		var details []fieldError
		if err := json.Unmarshal(env.Error.Details, &details); err != nil || len(details) == 0 || details[0].Field != tc.field {
			t.Errorf("%s: details %s, want the field %s", tc.query, env.Error.Details, tc.field)
		}
	}
	// Every fault at once.
	env := e.get(t, e.admin, "/api/v1/reports/notes?round=x&limit=0").wantError(t, http.StatusBadRequest, "validation_failed")
	if !strings.Contains(env.Error.Message, "round") || !strings.Contains(env.Error.Message, "limit") {
		t.Errorf("message %q does not name both faults", env.Error.Message)
	}
	// An empty store lists nothing, validly.
	var p report.NotePage
	e.get(t, e.admin, "/api/v1/reports/notes").decode(t, http.StatusOK, &p)
	if len(p.Items) != 0 || p.NextCursor != nil || p.Counts.Total != 0 || p.Counts.Campaigns == nil || p.Counts.Units == nil {
		t.Errorf("empty list %+v", p)
	}
}

func TestNotesListAnswersAsDocumented(t *testing.T) {
	t.Parallel()
	w := newNotesWorld(t)
	var page any
	w.e.get(t, w.e.admin, "/api/v1/reports/notes?limit=1").decode(t, http.StatusOK, &page)
	item := firstOf(t, page, "items").(map[string]any)
	counts := page.(map[string]any)["counts"]
	for _, c := range []struct {
		component string
		value     any
	}{
		{"NoteListPage", page},
		{"NoteListItem", item},
		{"NamedRef", item["unit"]},
		{"NoteListCampaign", item["campaign"]},
		{"PersonRef", item["author"]},
		{"NoteListCounts", counts},
		{"NoteListCount", firstOf(t, counts, "units")},
	} {
		if got, want := keysOf(t, c.value, c.component), documentedFields(t, c.component); !slices.Equal(got, want) {
			t.Errorf("%s: answer has %v, openapi.json documents %v", c.component, got, want)
		}
	}
}
