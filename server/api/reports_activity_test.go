package api

import (
	"net/http"
	"slices"
	"testing"

	"dicoso/server/report"
	"dicoso/sync/protocol"
)

// One person's activity read over the API is, for every role, exactly the
// rows of that person its pull holds (the same read scopes); headquarters,
// who read it in the console, every row; and the check-ins come with the
// server's flags.
func TestActivityReadScopeIsThePulls(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	far := "11111111-2222-4333-8444-555555555555"
	w.secA.push(t, "", w.secA.change("checkins", far, map[string]any{"unit_id": w.unitA, "at": "2021-03-15T03:00:00Z",
		"lat": 21.03, "lng": 105.85, "accuracy_m": 500.0, "trip_id": w.tripSecA}))

	ids := func(a report.Activity) (trips, days, checkins []string) {
		for _, x := range a.Trips {
			trips = append(trips, x.ID)
		}
		for _, x := range a.Days {
			days = append(days, x.ID)
		}
		for _, x := range a.Checkins {
			checkins = append(checkins, x.ID)
		}
		slices.Sort(trips)
		slices.Sort(days)
		slices.Sort(checkins)
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
		var a report.Activity
		w.get(t, d, "/api/v1/reports/activity?year=2021&user_id="+w.secA.userID).decode(t, http.StatusOK, &a)
		trips, days, checkins := ids(a)
		var wantT, wantD, wantC []string
		if d == w.ic || d == w.admin {
			wantT, wantD, wantC = []string{w.tripSecA}, []string{w.tripDaySecA}, []string{far}
		} else {
			rows, _ := d.pullAll(t, "")
			wantT, wantD, wantC = pulledOf(rows, "trips", w.secA.userID), pulledOf(rows, "trip_days", w.secA.userID), pulledOf(rows, "checkins", w.secA.userID)
		}
		if !slices.Equal(trips, wantT) || !slices.Equal(days, wantD) || !slices.Equal(checkins, wantC) {
			t.Errorf("%s reads trips %v days %v check-ins %v; want %v %v %v", name, trips, days, checkins, wantT, wantD, wantC)
		}
		if d == w.secA {
			if len(a.Checkins) != 1 || !slices.Contains(a.Checkins[0].Flags, "far_from_unit") || !slices.Contains(a.Checkins[0].Flags, "low_accuracy") ||
				a.Checkins[0].Day != "2021-03-15" {
				t.Errorf("the check-in reads %+v, want far and inaccurate, on 15/03/2021", a.Checkins)
			}
		}
	}
	var none report.Activity
	w.get(t, w.admin, "/api/v1/reports/activity?year=2020&user_id="+w.secA.userID).decode(t, http.StatusOK, &none)
	if none.Trips == nil || len(none.Trips)+len(none.Days)+len(none.Checkins) != 0 {
		t.Errorf("another year reads %+v, want empty lists", none)
	}
	w.get(t, w.admin, "/api/v1/reports/activity?year=2021").wantError(t, http.StatusBadRequest, "validation_failed")
	w.get(t, w.admin, "/api/v1/reports/activity?user_id=x").wantError(t, http.StatusBadRequest, "validation_failed")
	w.get(t, w.admin, "/api/v1/reports/activity?user_id="+w.secA.userID+"&year=21").wantError(t, http.StatusBadRequest, "validation_failed")
	w.get(t, nil, "/api/v1/reports/activity?user_id="+w.secA.userID).wantError(t, http.StatusUnauthorized, "unauthorized")
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
	var reg struct{ Items []report.Finding }
	w.get(t, w.admin, "/api/v1/reports/findings").decode(t, http.StatusOK, &reg)
	for _, f := range reg.Items {
		if f.Base == "" {
			t.Errorf("finding %s listed without its base", f.ID)
		}
	}
}
