package api

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"dicoso/server/report"
	"dicoso/sync/protocol"
)

// activity reads every page of one person's trips and check-ins of a
// year, one row a page, as u.
func (w *teamWorld) activity(t *testing.T, u *device, user, year string) (trips []report.ActivityTrip, checkins []report.ActivityCheckin) {
	t.Helper()
	trips, checkins = []report.ActivityTrip{}, []report.ActivityCheckin{}
	for _, list := range []string{"trips", "checkins"} {
		cursor := ""
		for i := 0; ; i++ {
			q := "/api/v1/reports/activity/" + list + "?limit=1&year=" + year + "&user_id=" + user
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			var next *string
			if list == "trips" {
				var p report.TripPage
				w.get(t, u, q).decode(t, http.StatusOK, &p)
				trips, next = append(trips, p.Items...), p.NextCursor
			} else {
				var p report.CheckinPage
				w.get(t, u, q).decode(t, http.StatusOK, &p)
				checkins, next = append(checkins, p.Items...), p.NextCursor
			}
			if next == nil {
				break
			}
			if i > 50 {
				t.Fatalf("%s: paging does not end", q)
			}
			cursor = *next
		}
	}
	return trips, checkins
}

// One person's activity read over the API is, for every role, exactly the
// rows of that person its pull holds (the same read scopes); headquarters,
// who read it in the console, every row; and the check-ins come with the
// server's flags, the days say whether the person checked in.
func TestActivityReadScopeIsThePulls(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	far := "11111111-2222-4333-8444-555555555555"
	w.secA.push(t, "", w.secA.change("checkins", far, map[string]any{"unit_id": w.unitA, "at": "2021-03-15T03:00:00Z",
		"lat": 21.03, "lng": 105.85, "accuracy_m": 500.0, "trip_id": w.tripSecA}))

	ids := func(trips []report.ActivityTrip, checkins []report.ActivityCheckin) (tr, days, ck []string) {
		tr, days, ck = []string{}, []string{}, []string{}
		for _, x := range trips {
			tr = append(tr, x.ID)
			for _, d := range x.Days {
				days = append(days, d.ID)
			}
		}
		for _, x := range checkins {
			ck = append(ck, x.ID)
		}
		slices.Sort(tr)
		slices.Sort(days)
		slices.Sort(ck)
		return
	}
	pulledOf := func(rows map[string]protocol.Row, table, user string) []string {
		out := []string{}
		for _, r := range rows {
			if r.Table == table && !r.Deleted && r.Fields["user_id"] == user {
				out = append(out, r.RowID)
			}
		}
		slices.Sort(out)
		return out
	}
	for name, d := range map[string]*device{"secretary A": w.secA, "secretary B": w.secB, "inspector of team A": w.inspA,
		"leader of team A": w.leaderA, "inspector of team B": w.inspB, "department": w.deptUser,
		"inspection committee": w.ic, "admin": w.admin} {
		trips, checkins := w.activity(t, d, w.secA.userID, "2021")
		gotT, gotD, gotC := ids(trips, checkins)
		var wantT, wantD, wantC []string
		if d == w.ic || d == w.admin {
			wantT, wantD, wantC = []string{w.tripSecA}, []string{w.tripDaySecA}, []string{far}
		} else {
			rows, _ := d.pullAll(t, "")
			wantT, wantD, wantC = pulledOf(rows, "trips", w.secA.userID), pulledOf(rows, "trip_days", w.secA.userID), pulledOf(rows, "checkins", w.secA.userID)
			if len(wantT) == 0 {
				wantD = []string{} // a day is listed with its trip
			}
		}
		if !slices.Equal(gotT, wantT) || !slices.Equal(gotD, wantD) || !slices.Equal(gotC, wantC) {
			t.Errorf("%s reads trips %v days %v check-ins %v; want %v %v %v", name, gotT, gotD, gotC, wantT, wantD, wantC)
		}
		if d == w.secA {
			if len(checkins) != 1 || !slices.Contains(checkins[0].Flags, "far_from_unit") || !slices.Contains(checkins[0].Flags, "low_accuracy") ||
				checkins[0].Day != "2021-03-15" {
				t.Errorf("the check-in reads %+v, want far and inaccurate, on 15/03/2021", checkins)
			}
		}
	}
	trips, checkins := w.activity(t, w.admin, w.secA.userID, "2020")
	if len(trips)+len(checkins) != 0 {
		t.Errorf("another year reads %+v %+v, want empty lists", trips, checkins)
	}
	for _, list := range []string{"trips", "checkins"} {
		path := "/api/v1/reports/activity/" + list
		w.get(t, w.admin, path+"?year=2021").wantError(t, http.StatusBadRequest, "validation_failed")
		w.get(t, w.admin, path+"?user_id=x").wantError(t, http.StatusBadRequest, "validation_failed")
		w.get(t, w.admin, path+"?user_id="+w.secA.userID+"&year=21").wantError(t, http.StatusBadRequest, "validation_failed")
		w.get(t, nil, path+"?user_id="+w.secA.userID).wantError(t, http.StatusUnauthorized, "unauthorized")
	}
}

// A finding's follow-ups read over the API are, for every role, those its
// pull holds of a finding it reads (headquarters: every one); a finding it
// may not read is 404.
func TestFollowUpsReadScopeIsThePulls(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	for name, d := range map[string]*device{"secretary A": w.secA, "secretary B": w.secB, "inspector of team A": w.inspA,
		"inspector of team B": w.inspB, "department 1": w.deptUser, "inspection committee": w.ic, "admin": w.admin} {
		res := w.get(t, d, "/api/v1/reports/findings/"+w.findingA+"/follow-ups")
		reads, want := true, []string{w.followUpA}
		if d != w.ic && d != w.admin {
			rows, _ := d.pullAll(t, "")
			_, reads = rows[key("findings", w.findingA)]
			want = []string{}
			for _, r := range rows {
				if r.Table == "follow_ups" && r.Fields["finding_id"] == w.findingA {
					want = append(want, r.RowID)
				}
			}
		}
		if !reads {
			res.wantError(t, http.StatusNotFound, "not_found")
			continue
		}
		var got struct{ Items []report.FollowUp }
		res.decode(t, http.StatusOK, &got)
		ids := []string{}
		for _, x := range got.Items {
			ids = append(ids, x.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s reads follow-ups %v, want %v", name, ids, want)
		}
	}
	w.get(t, w.admin, "/api/v1/reports/findings/x/follow-ups").wantError(t, http.StatusBadRequest, "validation_failed")
	var reg report.FindingPage
	w.get(t, w.admin, "/api/v1/reports/findings").decode(t, http.StatusOK, &reg)
	for _, f := range reg.Items {
		if f.Base == "" {
			t.Errorf("finding %s listed without its base", f.ID)
		}
	}
}
