package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/sync/protocol"
)

// pageThrough reads a paged listing of the API from its first page to its
// last, limit rows a page, calling between after each page but the last
// (rows arriving while someone reads), and returns every row's id in the
// order read.
func pageThrough(t *testing.T, e *testServer, u *device, path string, limit int, between func(page int)) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		q := fmt.Sprintf("%s&limit=%d", path, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var p struct {
			Items      []struct{ ID string } `json:"items"`
			NextCursor *string               `json:"next_cursor"`
		}
		e.get(t, u, q).decode(t, http.StatusOK, &p)
		if len(p.Items) > limit {
			t.Fatalf("%s: a page of %d rows, asked %d", q, len(p.Items), limit)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		if page > 100 {
			t.Fatalf("%s: paging does not end", path)
		}
		if between != nil {
			between(page)
		}
		cursor = *p.NextCursor
	}
}

// once checks that every id of want was read exactly once, that no id was
// read twice, and returns how many of extra (rows that arrived while
// paging) were read.
func once(t *testing.T, what string, read, want, extra []string) int {
	t.Helper()
	seen := map[string]int{}
	for _, id := range read {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("%s: %s read twice", what, id)
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s: %s read %d times, want once", what, id, seen[id])
		}
	}
	n := 0
	for _, id := range extra {
		n += seen[id]
	}
	if len(read) != len(want)+n {
		t.Errorf("%s: read %d rows, want the %d there were and %d that arrived", what, len(read), len(want), n)
	}
	return n
}

// The findings register pages as the notes list does: through every
// finding exactly once, in each order, while new findings reach the server
// between pages (those after the cursor come in a later page, those before
// it do not, and nothing moves); counts are the whole selection's.
func TestFindingsRegisterPagesEveryRowOnce(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	office := e.addAccount(t, account{username: "van.phong", fullName: "Vũ Văn Hải", roles: []string{auth.RoleOffice}})
	n := 0
	// raise hands in a note with k findings; every third gets a due date.
	raise := func(k int) []string {
		nt := note(lan, campaignRound1, unitLaiChau, "", "submitted")
		changes := []protocol.Change{nt}
		var ids, dated []string
		for range k {
			n++
			id := uuid.NewString()
			changes = append(changes, findingOf(lan, id, nt.RowID, "shortcoming", fmt.Sprintf("Vấn đề số %d", n), deptPropaganda))
			ids = append(ids, id)
			if n%3 == 0 {
				dated = append(dated, id)
			}
		}
		lan.push(t, "", changes...)
		for i, id := range dated {
			office.push(t, "", upsert("findings", id, map[string]any{"due_on": fmt.Sprintf("2021-08-%02d", 20-i-n%7)}))
		}
		return ids
	}
	all := raise(10)
	for _, sort := range []string{"", "recorded", "-recorded", "due_on", "-due_on"} {
		before := slices.Clone(all)
		var arrived []string
		read := pageThrough(t, e, office, "/api/v1/reports/findings?sort="+sort, 3, func(page int) {
			if page < 2 {
				more := raise(2)
				arrived = append(arrived, more...)
				all = append(all, more...)
			}
		})
		got := once(t, "sort="+sort, read, before, arrived)
		switch sort {
		case "", "recorded":
			if got != len(arrived) {
				t.Errorf("sort=%s: %d of the %d findings that arrived while paging were read, want all (they come last)", sort, got, len(arrived))
			}
		case "-recorded":
			if got != 0 {
				t.Errorf("sort=-recorded: %d findings that arrived while paging were read, want none (they come first)", got)
			}
		}
	}

	// The same rows in one page as in pages of one, in the same order.
	whole := pageThrough(t, e, office, "/api/v1/reports/findings?sort=due_on", 200, nil)
	if byOne := pageThrough(t, e, office, "/api/v1/reports/findings?sort=due_on", 1, nil); !slices.Equal(whole, byOne) || len(whole) != len(all) {
		t.Errorf("pages of one read %d findings, one page %d (of %d), or in another order", len(byOne), len(whole), len(all))
	}
	var first report.FindingPage
	e.get(t, office, "/api/v1/reports/findings?limit=2").decode(t, http.StatusOK, &first)
	if first.Counts.Total != len(all) || first.NextCursor == nil {
		t.Errorf("a page of 2 counts %d findings (want %d) and continues: %v", first.Counts.Total, len(all), first.NextCursor != nil)
	}

	// A cursor continues only its own listing; bad paging is refused.
	for _, tc := range []struct{ query, field string }{
		{"?sort=-recorded&cursor=" + url.QueryEscape(*first.NextCursor), "cursor"}, // the order differs
		{"?category=recommendation&cursor=" + url.QueryEscape(*first.NextCursor), "cursor"},
		{"?cursor=not-a-cursor", "cursor"},
		{"?cursor=" + url.QueryEscape("eyJ2IjoxfQ"), "cursor"},
		{"?limit=0", "limit"},
		{"?limit=201", "limit"},
		{"?limit=ten", "limit"},
		{"?sort=text", "sort"},
		{"?unassigned=yes", "unassigned"},
		{"?overdue=2", "overdue"},
		{"?date=2021-13-01", "date"},
		{"?q=" + strings.Repeat("a", 201), "q"},
	} {
		env := e.get(t, office, "/api/v1/reports/findings"+tc.query).wantError(t, http.StatusBadRequest, "validation_failed")
		var details []fieldError
		if err := json.Unmarshal(env.Error.Details, &details); err != nil || len(details) == 0 || details[0].Field != tc.field {
			t.Errorf("%s: details %s, want the field %s", tc.query, env.Error.Details, tc.field)
		}
	}
	// The limit may change between pages.
	rest := pageThrough(t, e, office, "/api/v1/reports/findings?sort=&cursor="+url.QueryEscape(*first.NextCursor), 50, nil)
	if len(rest) != len(all)-2 {
		t.Errorf("the rest in pages of 50: %d findings, want %d", len(rest), len(all)-2)
	}
}

// The register's filters the console's screen offers, on the server: a
// search without diacritics, the unassigned findings, the overdue ones as
// of a day; the counts are the selection's.
func TestFindingsRegisterFiltersAndCounts(t *testing.T) {
	t.Parallel()
	w := newFindingsWorld(t)
	e := w.e
	// f1 is due on 15 July and in progress; f3 loses its department.
	w.office.push(t, "", upsert("findings", w.f3, map[string]any{"department_id": nil}))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?q=sinh+hoat+chi+doan", []string{w.f1}},
		{"?q=KINH+PHI", []string{w.f2}},       // its text
		{"?q=quy+iii", []string{w.f2}},        // its answer
		{"?q=lai+chau", []string{w.f1, w.f2}}, // their unit
		{"?q=dinh+ky+de+nghi", []string{w.f2}},
		{"?q=khong+co", []string{}},
		{"?q=%21%21", []string{w.f1, w.f2, w.f3}}, // no word: no filter
		{"?unassigned=true", []string{w.f3}},
		{"?unassigned=1&category=recommendation", []string{w.f3}},
		{"?overdue=true&date=2021-07-16", []string{w.f1}},
		{"?overdue=true&date=2021-07-15", []string{}},
		{"?overdue=false", []string{w.f1, w.f2, w.f3}},
	} {
		if got := w.ids(t, e.admin, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	var p report.FindingPage
	e.get(t, e.admin, "/api/v1/reports/findings?limit=1&date=2021-07-16").decode(t, http.StatusOK, &p)
	want := []report.FindingCount{
		{Category: "shortcoming", Status: "in_progress", Count: 1},
		{Category: "recommendation", Status: "open", Count: 2},
	}
	if p.Counts.Total != 3 || p.Counts.Overdue != 1 || !slices.Equal(p.Counts.ByCategory, want) {
		t.Errorf("counts %+v, want 3 findings, 1 overdue, %v", p.Counts, want)
	}
	// A department's counts are its own findings'.
	e.get(t, w.dept, "/api/v1/reports/findings?date=2021-07-16").decode(t, http.StatusOK, &p)
	if p.Counts.Total != 1 || p.Counts.Overdue != 1 || len(p.Items) != 1 || p.Items[0].ID != w.f1 {
		t.Errorf("the department's page %+v", p)
	}
	if got := w.ids(t, w.dept, "?unassigned=true"); len(got) != 0 {
		t.Errorf("a department lists unassigned findings: %v", got)
	}
}

// One person's check-ins and trips page through every row exactly once,
// newest first, while more arrive between pages: an older check-in
// (synced late) comes in a later page, a newer one does not, nothing
// repeats.
func TestActivityPagesEveryRowOnce(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	var checkins []string
	stamp := 0
	checkIn := func(day int) string {
		stamp++
		id := uuid.NewString()
		w.secA.push(t, "", w.secA.change("checkins", id, map[string]any{"unit_id": w.unitA,
			"at": fmt.Sprintf("2021-04-%02dT%02d:00:00Z", day, stamp%20), "lat": 22.39, "lng": 103.45, "accuracy_m": 15.0}))
		return id
	}
	for d := 10; d < 17; d++ {
		checkins = append(checkins, checkIn(d))
	}
	var arrived []string
	read := pageThrough(t, w.testServer, w.admin, "/api/v1/reports/activity/checkins?year=2021&user_id="+w.secA.userID, 2, func(page int) {
		if page == 0 {
			arrived = append(arrived, checkIn(2), checkIn(28)) // older than every one read, newer than all
		}
	})
	if got := once(t, "check-ins", read, checkins, arrived); got != 1 || !slices.Contains(read, arrived[0]) {
		t.Errorf("of the check-ins that arrived while paging, %d were read, want the older one only", got)
	}

	var trips []string
	for i := range 5 {
		id := uuid.NewString()
		w.secA.push(t, "", w.secA.change("trips", id, map[string]any{"user_id": w.secA.userID, "title": fmt.Sprintf("Chuyến %d", i),
			"purpose": "inspection", "status": "done", "starts_on": fmt.Sprintf("2021-05-%02d", 10+i%3)}),
			w.secA.change("trip_days", uuid.NewString(), map[string]any{"trip_id": id, "user_id": w.secA.userID,
				"day": fmt.Sprintf("2021-04-%02d", 10+i), "unit_id": w.unitA, "activity": "Làm việc"}))
		trips = append(trips, id)
	}
	trips = append(trips, w.tripSecA)
	read = pageThrough(t, w.testServer, w.admin, "/api/v1/reports/activity/trips?year=2021&user_id="+w.secA.userID, 2, nil)
	once(t, "trips", read, trips, nil)
	var p report.TripPage
	w.get(t, w.admin, "/api/v1/reports/activity/trips?year=2021&limit=200&user_id="+w.secA.userID).decode(t, http.StatusOK, &p)
	checked := 0
	for _, tr := range p.Items {
		for _, d := range tr.Days {
			if d.CheckedIn {
				checked++
			}
		}
	}
	if checked != 5 { // the five days of April 10-14, each with a check-in
		t.Errorf("%d days say the secretary checked in, want 5", checked)
	}
	for _, q := range []string{"limit=0", "limit=201", "cursor=x", "cursor=" + url.QueryEscape("eyJ2IjoxfQ")} {
		for _, list := range []string{"trips", "checkins"} {
			w.get(t, w.admin, "/api/v1/reports/activity/"+list+"?user_id="+w.secA.userID+"&"+q).wantError(t, http.StatusBadRequest, "validation_failed")
		}
	}
	// A trips cursor does not continue the check-ins, nor another person's.
	var tp report.TripPage
	w.get(t, w.admin, "/api/v1/reports/activity/trips?year=2021&limit=1&user_id="+w.secA.userID).decode(t, http.StatusOK, &tp)
	if tp.NextCursor == nil {
		t.Fatal("one trip a page: no next page")
	}
	c := url.QueryEscape(*tp.NextCursor)
	w.get(t, w.admin, "/api/v1/reports/activity/checkins?year=2021&user_id="+w.secA.userID+"&cursor="+c).wantError(t, http.StatusBadRequest, "validation_failed")
	w.get(t, w.admin, "/api/v1/reports/activity/trips?year=2021&user_id="+w.secB.userID+"&cursor="+c).wantError(t, http.StatusBadRequest, "validation_failed")
}
