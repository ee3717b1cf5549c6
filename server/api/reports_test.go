package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/syncdb"
	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// Rows of seeds/ the report tests lean on (plan 356-KH/TWĐTN-BKT).
const (
	unitLaiChau    = "7101c118-1527-4646-b0b8-0d6af47eac4a" // Đợt 1, first in the plan's list
	unitTuyenQuang = "41885d1e-ff13-4a33-a242-ce1f609a38c6" // Đợt 1
	unitBacNinh    = "24efe120-f899-424e-9da8-0c3140e100e6" // Đợt 1
	unitHaNam      = "dd682bb0-a36c-4d2e-b214-444d60cce8ed" // Đợt 1
	unitHaNoi      = "ca55cdb3-38ab-43fb-a31e-c3ed3b775300" // in no campaign

	campaignRound1   = "1ae2ac22-7af0-4195-957d-a0abac81fb2b" // 2021-06-01 .. 2021-06-15, 11 units
	campaignRound2   = "a56e9a08-f635-49f1-bd06-2cf79a82197a" // 2021-12-01 .. 2021-12-15
	campaignThematic = "ba73139f-0165-4f07-818f-c2a3fb401960" // 2021-03-25 .. 2021-04-05

	periodYouthMonth = "47a1fc40-17e4-49f0-a923-7f4464d5c699" // March
	periodSummer     = "cf4e4b03-48fc-48df-910f-8e28d551637d" // June .. August

	deptInspection = "9fc583ca-8752-4a1c-b823-0ed20c7e3632" // Ban Kiểm tra Trung ương Đoàn
	deptPropaganda = "f913b16a-5789-4324-9cd6-314bc9da93a5" // Ban Tuyên giáo Trung ương Đoàn
)

// upsert is a row write a device pushes; push gives it an id and a clock.
func upsert(table, id string, fields map[string]any) protocol.Change {
	return protocol.Change{Table: table, RowID: id, Op: protocol.OpUpsert, Fields: fields}
}

// remove is a row deletion a device pushes.
func remove(table, id string) protocol.Change {
	return protocol.Change{Table: table, RowID: id, Op: protocol.OpDelete}
}

func (ts *testServer) unitPosition(t *testing.T, id string) (float64, float64) {
	t.Helper()
	var lat, lng float64
	if err := ts.st.Reader().QueryRow("SELECT lat, lng FROM units WHERE id = ?", id).Scan(&lat, &lng); err != nil {
		t.Fatalf("unit %s position: %v", id, err)
	}
	return lat, lng
}

// trip is a trip with its days, as a phone logs it.
func trip(owner *device, purpose, status string, units []string, days map[string]string) []protocol.Change {
	id := uuid.NewString()
	out := []protocol.Change{upsert("trips", id, map[string]any{
		"user_id": owner.userID, "title": "Đi cơ sở", "purpose": purpose, "status": status,
		"unit_ids": units, "starts_on": "2021-01-01",
	})}
	for day, unit := range days {
		out = append(out, upsert("trip_days", uuid.NewString(), map[string]any{
			"trip_id": id, "user_id": owner.userID, "day": day, "unit_id": unit, "activity": "Làm việc tại cơ sở",
		}))
	}
	return out
}

func checkin(owner *device, unit, at string, lat, lng float64) protocol.Change {
	return upsert("checkins", uuid.NewString(), map[string]any{
		"user_id": owner.userID, "unit_id": unit, "at": at, "lat": lat, "lng": lng, "accuracy_m": 20.0,
	})
}

func tallyOf(t *testing.T, r report.FieldDays, userID string) report.SecretaryDays {
	t.Helper()
	for _, it := range r.Items {
		if it.UserID == userID {
			return it
		}
	}
	t.Fatalf("no tally for %s in %+v", userID, r.Items)
	return report.SecretaryDays{}
}

func purposeDays(s report.SecretaryDays, purpose string) [2]int {
	for _, p := range s.ByPurpose {
		if p.Purpose == purpose {
			return [2]int{p.FieldDays, p.VerifiedDays}
		}
	}
	return [2]int{-1, -1}
}

func periodDays(s report.SecretaryDays, id string) [2]int {
	for _, p := range s.SpecialPeriods {
		if p.PeriodID == id {
			return [2]int{p.FieldDays, p.VerifiedDays}
		}
	}
	return [2]int{-1, -1}
}

func TestFieldDaysTally(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary}})
	minh := e.addAccount(t, account{username: "bt.minh", fullName: "Trần Văn Minh", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	inspector := e.addAccount(t, account{username: "kt.hoa", fullName: "Lê Thị Hoa", roles: []string{auth.RoleInspector}})
	laiLat, laiLng := e.unitPosition(t, unitLaiChau)
	hnLat, hnLng := e.unitPosition(t, unitHaNoi)

	// Lan's year.
	inspection := trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{
		"2021-03-05": unitLaiChau, "2021-06-03": unitLaiChau, "2021-06-04": unitLaiChau,
	})
	// A second day record on 5 March on the same trip, and a meeting in Hà
	// Nội the same day: still one field day.
	again := upsert("trip_days", uuid.NewString(), map[string]any{
		"trip_id": inspection[0].RowID, "user_id": lan.userID, "day": "2021-03-05", "unit_id": unitLaiChau, "activity": "Buổi chiều",
	})
	meeting := trip(lan, "meeting", "done", []string{unitHaNoi}, map[string]string{"2021-03-05": unitHaNoi})
	cancelled := trip(lan, "thematic_survey", "cancelled", []string{unitHaNoi}, map[string]string{"2021-04-10": unitHaNoi})
	working := trip(lan, "working_session", "done", []string{unitHaNoi}, map[string]string{
		"2021-05-20": unitHaNoi, "2021-05-21": unitHaNoi,
	})
	var dropped string // the trip day of 20 May, deleted below
	for _, c := range working[1:] {
		if c.Fields["day"] == "2021-05-20" {
			dropped = c.RowID
		}
	}
	planned := trip(lan, "inspection", "planned", []string{unitLaiChau}, map[string]string{"2021-08-15": unitLaiChau})
	voided := checkin(lan, unitLaiChau, "2021-06-04T02:00:00Z", laiLat, laiLng)
	var changes []protocol.Change
	for _, part := range [][]protocol.Change{inspection, {again}, meeting, cancelled, working, planned} {
		changes = append(changes, part...)
	}
	changes = append(changes,
		// 08:00 in Lai Châu on 5 March, at the unit: verifies 5 March.
		checkin(lan, unitLaiChau, "2021-03-05T01:00:00Z", laiLat, laiLng),
		// 06:30 in Hà Nội on 21 May is still 20 May in UTC.
		checkin(lan, unitHaNoi, "2021-05-20T23:30:00Z", hnLat, hnLng),
		// On 3 June the phone was in Hà Nội, not at Lai Châu.
		checkin(lan, unitLaiChau, "2021-06-03T02:00:00Z", hnLat, hnLng),
		voided,
	)
	lan.push(t, "", changes...)
	lan.push(t, "", remove("trip_days", dropped),
		upsert("checkins", voided.RowID, map[string]any{"voided": true, "void_reason": "Điểm danh nhầm"}))

	// Minh logs twelve days in Youth Month.
	days := map[string]string{}
	for d := 1; d <= 12; d++ {
		days["2021-03-"+twoDigits(d)] = unitHaNoi
	}
	minh.push(t, "", trip(minh, "working_session", "done", []string{unitHaNoi}, days)...)
	// Someone who is not a secretary is not tallied.
	inspector.push(t, "", trip(inspector, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-03-05": unitLaiChau})...)

	t.Run("distinct, verified, split", func(t *testing.T) {
		var r report.FieldDays
		e.get(t, e.admin, "/api/v1/reports/field-days?year=2021&date=2021-07-02").decode(t, http.StatusOK, &r)
		if r.MinFieldDays != 60 || r.PlanNumber == nil || *r.PlanNumber != "356-KH/TWĐTN-BKT" {
			t.Errorf("plan: min %d number %v, want 60 and 356-KH/TWĐTN-BKT", r.MinFieldDays, r.PlanNumber)
		}
		if len(r.Items) != 2 {
			t.Fatalf("tallied %d users, want the 2 secretaries: %+v", len(r.Items), r.Items)
		}
		s := tallyOf(t, r, lan.userID)
		// 5 March, 21 May, 3 June, 4 June. Not: the cancelled trip's 10
		// April, the deleted 20 May, the planned 15 August.
		if s.FieldDays != 4 || s.VerifiedDays != 2 || s.PlannedDays != 1 {
			t.Errorf("Lan: field %d verified %d planned %d, want 4, 2, 1", s.FieldDays, s.VerifiedDays, s.PlannedDays)
		}
		if s.RemainingDays != 56 || s.FullName != "Nguyễn Thị Lan" {
			t.Errorf("Lan: remaining %d name %q", s.RemainingDays, s.FullName)
		}
		want := map[string][2]int{
			"inspection":      {3, 1}, // 5 March verified at Lai Châu; 3 June far; 4 June voided
			"meeting":         {1, 0}, // the Lai Châu check-in is not at the meeting's unit
			"working_session": {1, 1}, // 21 May, by the early-morning check-in
			"thematic_survey": {0, 0}, // the trip was cancelled
		}
		for purpose, w := range want {
			if got := purposeDays(s, purpose); got != w {
				t.Errorf("Lan %s: %v, want %v", purpose, got, w)
			}
		}
		if got := periodDays(s, periodYouthMonth); got != [2]int{1, 1} {
			t.Errorf("Lan in Tháng Thanh niên: %v, want one verified day", got)
		}
		if got := periodDays(s, periodSummer); got != [2]int{2, 0} {
			t.Errorf("Lan in Chiến dịch Hè by 2 July: %v, want 2 unverified days", got)
		}
		if m := tallyOf(t, r, minh.userID); m.FieldDays != 12 || periodDays(m, periodYouthMonth) != [2]int{12, 0} {
			t.Errorf("Minh: %d days, Youth Month %v; want 12 in March", m.FieldDays, periodDays(m, periodYouthMonth))
		}
		// 2 July is day 183 of 365: 60 × 183 / 365 = 30.08 days expected.
		if r.ElapsedDays != 183 || r.ExpectedByDate != 30.1 || s.OnPace {
			t.Errorf("pace: elapsed %d expected %v, Lan on pace %v; want 183, 30.1, false", r.ElapsedDays, r.ExpectedByDate, s.OnPace)
		}
	})

	t.Run("on pace at a fixed date", func(t *testing.T) {
		for _, tc := range []struct {
			date     string
			days     int
			expected float64
			onPace   bool
		}{
			{"2021-03-14", 12, 12, true},    // day 73: exactly 12 expected, 12 done
			{"2021-03-11", 11, 11.5, false}, // day 70: 11.5 expected, 11 done
			{"2021-02-28", 0, 9.7, false},
		} {
			var r report.FieldDays
			e.get(t, e.admin, "/api/v1/reports/field-days?year=2021&date="+tc.date+"&user_id="+minh.userID).decode(t, http.StatusOK, &r)
			if len(r.Items) != 1 {
				t.Fatalf("%s: %d lines for one user_id", tc.date, len(r.Items))
			}
			m := r.Items[0]
			if m.FieldDays != tc.days || m.ExpectedByDate != tc.expected || m.OnPace != tc.onPace {
				t.Errorf("%s: days %d expected %v on pace %v; want %d, %v, %v",
					tc.date, m.FieldDays, m.ExpectedByDate, m.OnPace, tc.days, tc.expected, tc.onPace)
			}
		}
	})

	t.Run("a secretary sees only themself", func(t *testing.T) {
		var r report.FieldDays
		e.get(t, lan, "/api/v1/reports/field-days?year=2021&date=2021-07-02").decode(t, http.StatusOK, &r)
		if len(r.Items) != 1 || r.Items[0].UserID != lan.userID {
			t.Fatalf("Lan sees %+v, want only herself", r.Items)
		}
		e.get(t, lan, "/api/v1/reports/field-days?year=2021&user_id="+minh.userID).wantError(t, http.StatusForbidden, "forbidden")
		e.get(t, inspector, "/api/v1/reports/field-days?year=2021").wantError(t, http.StatusForbidden, "forbidden")
		e.get(t, nil, "/api/v1/reports/field-days?year=2021").wantError(t, http.StatusUnauthorized, "unauthorized")
	})

	// A year with no plan is still tallied: against the standing minimum,
	// with no plan named, as the phones count it.
	t.Run("a year with no plan", func(t *testing.T) {
		lan.push(t, "", trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{
			"2020-11-02": unitLaiChau, "2020-11-03": unitLaiChau,
		})...)
		var r report.FieldDays
		e.get(t, e.admin, "/api/v1/reports/field-days?year=2020&date=2020-12-31").decode(t, http.StatusOK, &r)
		if r.PlanID != nil || r.PlanNumber != nil || r.MinFieldDays != plan.DefaultMinFieldDays || len(r.SpecialPeriods) != 0 {
			t.Errorf("2020: plan %v %v, min %d, %d periods; want no plan, the default minimum, no period",
				r.PlanID, r.PlanNumber, r.MinFieldDays, len(r.SpecialPeriods))
		}
		if s := tallyOf(t, r, lan.userID); s.FieldDays != 2 || s.OnPace || s.RemainingDays != plan.DefaultMinFieldDays-2 {
			t.Errorf("Lan in 2020: %d days, on pace %v, remaining %d", s.FieldDays, s.OnPace, s.RemainingDays)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		e.get(t, e.admin, "/api/v1/reports/field-days?year=2021&date=02/07/2021").wantError(t, http.StatusBadRequest, "validation_failed")
		e.get(t, e.admin, "/api/v1/reports/field-days?year=21").wantError(t, http.StatusBadRequest, "validation_failed")
		e.get(t, e.admin, "/api/v1/reports/field-days?year=2021&user_id="+inspector.userID).wantError(t, http.StatusNotFound, "not_found")
	})
}

func twoDigits(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

// note is a visit note of a campaign at a unit, linked to a trip.
func note(author *device, campaign, unit, tripID, status string) protocol.Change {
	f := map[string]any{
		"author_id": author.userID, "unit_id": unit, "campaign_id": campaign, "kind": "inspection",
		"title": "Ghi chép làm việc", "status": status,
	}
	if tripID != "" {
		f["trip_id"] = tripID
	}
	return upsert("visit_notes", uuid.NewString(), f)
}

// team makes member the one member of a team of campaign for units: a
// unit is inspected by its campaign's team (coverage counts their notes).
func (ts *testServer) team(t *testing.T, campaign string, member *device, units ...string) {
	t.Helper()
	ts.apply(t, syncdb.ServerChange{Table: "teams", RowID: uuid.NewString(), Fields: map[string]any{"campaign_id": campaign,
		"name": "Đoàn kiểm tra", "member_ids": []string{member.userID}, "unit_ids": units}})
}

func coverageOf(t *testing.T, r report.Coverage, campaign string) report.CampaignCoverage {
	t.Helper()
	for _, c := range r.Items {
		if c.ID == campaign {
			return c
		}
	}
	t.Fatalf("campaign %s not in the report", campaign)
	return report.CampaignCoverage{}
}

func unitOf(t *testing.T, c report.CampaignCoverage, unit string) report.UnitCoverage {
	t.Helper()
	for _, u := range c.Units {
		if u.UnitID == unit {
			return u
		}
	}
	t.Fatalf("unit %s not planned in %s", unit, c.Name)
	return report.UnitCoverage{}
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	dept := e.addAccount(t, account{username: "ban.tuyen.giao", fullName: "Phạm Văn Nam", department: deptPropaganda, roles: []string{auth.RoleDepartment}})
	liaison := e.addAccount(t, account{username: "tinh.doan", fullName: "Đỗ Thị Mai", roles: []string{auth.RoleUnitLiaison}})
	// Lan inspects in round 1's team for these units, and in the
	// thematic campaign's.
	e.team(t, campaignRound1, lan, unitLaiChau, unitHaNam, unitTuyenQuang)
	e.team(t, campaignThematic, lan, unitBacNinh)

	onTime := trip(lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})
	late := trip(lan, "inspection", "done", []string{unitHaNam}, map[string]string{"2021-06-20": unitHaNam})
	changes := append(onTime, late...)
	changes = append(changes,
		note(lan, campaignRound1, unitLaiChau, onTime[0].RowID, "submitted"),
		note(lan, campaignRound1, unitHaNam, late[0].RowID, "submitted"),
		// A draft does not count, nor a submitted note of another campaign.
		note(lan, campaignRound1, unitTuyenQuang, "", "draft"),
		note(lan, campaignThematic, unitBacNinh, "", "submitted"),
	)
	lan.push(t, "", changes...)

	var r report.Coverage
	e.get(t, e.admin, "/api/v1/reports/coverage?date=2021-07-01").decode(t, http.StatusOK, &r)
	if len(r.Items) != 3 || r.Items[0].ID != campaignThematic || r.Items[1].ID != campaignRound1 || r.Items[2].ID != campaignRound2 {
		t.Fatalf("campaigns %+v, want the plan's three in time order", r.Items)
	}
	c := coverageOf(t, r, campaignRound1)
	if c.Planned != 11 || c.Inspected != 2 || c.InWindow != 1 || c.Late != 1 || c.Overdue != 9 || c.Pending != 0 {
		t.Errorf("round 1 on 1 July: planned %d inspected %d in window %d late %d overdue %d pending %d; want 11, 2, 1, 1, 9, 0",
			c.Planned, c.Inspected, c.InWindow, c.Late, c.Overdue, c.Pending)
	}
	if c.Units[0].UnitID != unitLaiChau || c.Units[0].Name != "Lai Châu" {
		t.Errorf("first unit %s %q, want Lai Châu as the plan lists it", c.Units[0].UnitID, c.Units[0].Name)
	}
	if u := unitOf(t, c, unitLaiChau); !u.Inspected || u.State != report.UnitInWindow || u.InspectedOn == nil || *u.InspectedOn != "2021-06-05" || u.SubmittedAt == nil {
		t.Errorf("Lai Châu: %+v, want inspected in window on 2021-06-05", u)
	}
	if u := unitOf(t, c, unitHaNam); u.State != report.UnitLate || *u.InspectedOn != "2021-06-20" {
		t.Errorf("Hà Nam: %+v, want late, on 2021-06-20", u)
	}
	if u := unitOf(t, c, unitTuyenQuang); u.Inspected || u.State != report.UnitOverdue {
		t.Errorf("Tuyên Quang (draft note only): %+v, want not inspected, overdue", u)
	}
	if u := unitOf(t, c, unitBacNinh); u.Inspected || u.Notes != 0 {
		t.Errorf("Bắc Ninh (note of the thematic campaign): %+v, want not inspected in round 1", u)
	}

	// One campaign, read before its window closed.
	var one report.Coverage
	e.get(t, dept, "/api/v1/reports/coverage?campaign_id="+campaignRound1+"&date=2021-06-10").decode(t, http.StatusOK, &one)
	if len(one.Items) != 1 {
		t.Fatalf("%d campaigns, want the one asked for", len(one.Items))
	}
	if c := one.Items[0]; c.Pending != 9 || c.Overdue != 0 {
		t.Errorf("round 1 on 10 June: pending %d overdue %d, want 9 and 0", c.Pending, c.Overdue)
	}
	e.get(t, lan, "/api/v1/reports/coverage?campaign_id="+campaignRound1).decode(t, http.StatusOK, nil)
	e.get(t, e.admin, "/api/v1/reports/coverage?campaign_id="+uuid.NewString()).wantError(t, http.StatusNotFound, "not_found")
	e.get(t, e.admin, "/api/v1/reports/coverage?campaign_id=round-1").wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, liaison, "/api/v1/reports/coverage").wantError(t, http.StatusForbidden, "forbidden")
}

// A unit is inspected by its campaign's team: a note by anyone else (a
// unit liaison, a secretary or the Inspection Committee outside the team)
// does not mark it inspected, and a liaison, who reads the conclusions
// about their unit, writes no notes or findings.
func TestCoverageCountsOnlyTheTeamsNotes(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	leader := e.addUser(t, "truong.doan", auth.RoleInspector)
	member := e.addUser(t, "thanh.vien", auth.RoleInspector)
	outsider := e.addUser(t, "ngoai.doan", auth.RoleInspector)
	ic := e.addUser(t, "ban.kiem.tra", auth.RoleInspectionCommittee)
	liaison := e.addAccount(t, account{username: "tinh.doan.lc", fullName: "Đỗ Thị Mai", unit: unitLaiChau, roles: []string{auth.RoleUnitLiaison}})
	e.apply(t, syncdb.ServerChange{Table: "teams", RowID: uuid.NewString(), Fields: map[string]any{"campaign_id": campaignRound1,
		"name": "Đoàn 1", "leader_id": leader.userID, "member_ids": []string{member.userID},
		"unit_ids": []string{unitLaiChau, unitTuyenQuang, unitBacNinh, unitHaNam}}})

	// The liaison's visit note of their own unit and campaign, and a
	// finding, are refused.
	own := note(liaison, campaignRound1, unitLaiChau, "", "submitted")
	finding := upsert("findings", uuid.NewString(), map[string]any{"unit_id": unitLaiChau, "campaign_id": campaignRound1,
		"category": "aspiration", "text": "Đề nghị tăng kinh phí"})
	for _, r := range liaison.pushResults(t, "", own, finding) {
		if r.Status != protocol.StatusRejected || r.Code != protocol.CodeForbidden {
			t.Errorf("liaison's write: %+v, want forbidden", r)
		}
	}
	// One written before liaisons were refused does not count either.
	legacy := note(liaison, campaignRound1, unitHaNam, "", "submitted")
	e.apply(t, syncdb.ServerChange{Table: "visit_notes", RowID: legacy.RowID, Fields: legacy.Fields})

	outsider.push(t, "", note(outsider, campaignRound1, unitTuyenQuang, "", "submitted"))
	ic.push(t, "", note(ic, campaignRound1, unitTuyenQuang, "", "submitted"))
	member.push(t, "", note(member, campaignRound1, unitBacNinh, "", "draft"))
	member.push(t, "", note(member, campaignRound1, unitLaiChau, "", "submitted"))
	leader.push(t, "", note(leader, campaignRound1, unitBacNinh, "", "submitted"))

	var r report.Coverage
	e.get(t, e.admin, "/api/v1/reports/coverage?campaign_id="+campaignRound1+"&date=2021-06-10").decode(t, http.StatusOK, &r)
	c := coverageOf(t, r, campaignRound1)
	for unit, want := range map[string]struct {
		inspected bool
		notes     int
	}{
		unitLaiChau:    {true, 1},  // the member's note, not the liaison's
		unitHaNam:      {false, 0}, // the liaison's, from before
		unitTuyenQuang: {false, 0}, // notes by people outside the team
		unitBacNinh:    {true, 1},  // the leader's; the member's draft does not count
	} {
		if u := unitOf(t, c, unit); u.Inspected != want.inspected || u.Notes != want.notes {
			t.Errorf("%s: inspected %v with %d notes, want %v with %d", u.Name, u.Inspected, u.Notes, want.inspected, want.notes)
		}
	}
	if c.Inspected != 2 {
		t.Errorf("round 1: %d units inspected, want 2", c.Inspected)
	}
}

// findingsWorld is field data for the findings register.
type findingsWorld struct {
	e                                *testServer
	lan, office, dept, deptless, sec *device
	cluster                          string
	f1, f2, f3                       string // live findings of handed-in notes
}

func newFindingsWorld(t *testing.T) findingsWorld {
	t.Helper()
	e := newTestServer(t, withSeeds(), withAdmin())
	w := findingsWorld{e: e, cluster: uuid.NewString()}
	w.lan = e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary, auth.RoleInspector}})
	w.office = e.addAccount(t, account{username: "van.phong", fullName: "Vũ Văn Hải", roles: []string{auth.RoleOffice}})
	w.dept = e.addAccount(t, account{username: "ban.tuyen.giao", fullName: "Phạm Văn Nam", department: deptPropaganda, roles: []string{auth.RoleDepartment}})
	w.deptless = e.addAccount(t, account{username: "ban.moi", fullName: "Hoàng Thị Thu", roles: []string{auth.RoleDepartment}})
	w.sec = e.addAccount(t, account{username: "bt.minh", fullName: "Trần Văn Minh", roles: []string{auth.RoleSecretary}})
	e.apply(t,
		syncdb.ServerChange{Table: "clusters", RowID: w.cluster, Fields: map[string]any{"name": "Cụm Tây Bắc"}},
		syncdb.ServerChange{Table: "units", RowID: unitLaiChau, Fields: map[string]any{"cluster_id": w.cluster}},
	)

	// Written as drafts, a mistaken finding deleted, then handed in: a
	// finding is deleted only while its note is open.
	round1 := note(w.lan, campaignRound1, unitLaiChau, "", "draft")
	round1.Fields["title"] = "Kiểm tra Tỉnh đoàn Lai Châu"
	thematic := note(w.lan, campaignThematic, unitBacNinh, "", "draft")
	draft := note(w.lan, campaignRound1, unitTuyenQuang, "", "draft")
	w.f1, w.f2, w.f3 = uuid.NewString(), uuid.NewString(), uuid.NewString()
	gone := uuid.NewString()
	finding := func(id string, n protocol.Change, category, text, dept string) protocol.Change {
		f := map[string]any{"note_id": n.RowID, "author_id": w.lan.userID, "category": category, "text": text}
		if dept != "" {
			f["department_id"] = dept
		}
		return upsert("findings", id, f)
	}
	w.lan.push(t, "", round1, thematic, draft,
		finding(w.f1, round1, "shortcoming", "Sinh hoạt chi đoàn chưa đều", deptPropaganda),
		finding(w.f2, round1, "recommendation", "Đề nghị hỗ trợ kinh phí cho đội hình tình nguyện", deptInspection),
		finding(w.f3, thematic, "recommendation", "Đề nghị tài liệu học tập Nghị quyết", deptPropaganda),
		finding(uuid.NewString(), draft, "shortcoming", "Chưa gửi: còn là bản nháp", deptPropaganda),
		finding(gone, round1, "aspiration", "Ghi nhầm", deptPropaganda),
	)
	w.lan.push(t, "", remove("findings", gone),
		upsert("visit_notes", round1.RowID, map[string]any{"status": "submitted"}),
		upsert("visit_notes", thematic.RowID, map[string]any{"status": "submitted"}))
	// The Office sets a due date and answers; the department follows up.
	w.office.push(t, "", upsert("findings", w.f1, map[string]any{"due_on": "2021-07-15"}),
		upsert("findings", w.f2, map[string]any{"answer": "Văn phòng đề xuất bố trí kinh phí trong quý III"}))
	w.dept.push(t, "",
		upsert("follow_ups", uuid.NewString(), map[string]any{
			"finding_id": w.f1, "author_id": w.dept.userID, "at": "2021-06-20T03:00:00Z", "text": "Đã làm việc với Tỉnh đoàn"}),
		upsert("follow_ups", uuid.NewString(), map[string]any{
			"finding_id": w.f1, "author_id": w.dept.userID, "at": "2021-07-01T03:00:00Z", "text": "Tỉnh đoàn đang khắc phục",
			"status_to": "in_progress"}),
		upsert("findings", w.f1, map[string]any{"status": "in_progress"}),
	)
	return w
}

func (w findingsWorld) ids(t *testing.T, u *device, query string) []string {
	t.Helper()
	var out report.FindingPage
	w.e.get(t, u, "/api/v1/reports/findings"+query).decode(t, http.StatusOK, &out)
	ids := []string{}
	for _, f := range out.Items {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestFindingsRegister(t *testing.T) {
	t.Parallel()
	w := newFindingsWorld(t)
	e := w.e

	var all report.FindingPage
	e.get(t, e.admin, "/api/v1/reports/findings").decode(t, http.StatusOK, &all)
	// In the order they reached the server (the compiled report's order is
	// the workbook's, TestFindingsExport). The draft's finding and the
	// deleted one are not in the register.
	if len(all.Items) != 3 || all.NextCursor != nil || all.Counts.Total != 3 {
		t.Fatalf("register %+v, want 3 findings on one page", all)
	}
	if all.Items[0].ID != w.f1 || all.Items[1].ID != w.f2 || all.Items[2].ID != w.f3 {
		t.Errorf("order %s %s %s, want f1 f2 f3", all.Items[0].ID, all.Items[1].ID, all.Items[2].ID)
	}
	f1 := all.Items[0]
	checks := map[string][2]any{
		"unit":           {str(f1.UnitName), "Lai Châu"},
		"cluster":        {str(f1.ClusterName), "Cụm Tây Bắc"},
		"campaign":       {str(f1.CampaignName), "Kiểm tra định kỳ Đợt 1 năm 2021"},
		"note":           {str(f1.NoteTitle), "Kiểm tra Tỉnh đoàn Lai Châu"},
		"department":     {str(f1.DepartmentName), "Ban Tuyên giáo Trung ương Đoàn"},
		"status":         {f1.Status, "in_progress"},
		"due":            {str(f1.DueOn), "2021-07-15"},
		"follow-ups":     {f1.FollowUps, 2},
		"author":         {str(f1.AuthorName), "Nguyễn Thị Lan"},
		"last follow-up": {f1.LastFollowUp != nil && f1.LastFollowUp.Text == "Tỉnh đoàn đang khắc phục", true},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("f1 %s = %v, want %v", what, c[0], c[1])
		}
	}
	if got := all.Items[1].Answer; got != "Văn phòng đề xuất bố trí kinh phí trong quý III" {
		t.Errorf("f2 answer %q", got)
	}

	for _, tc := range []struct {
		who   *device
		query string
		want  []string
	}{
		{e.admin, "?category=recommendation", []string{w.f2, w.f3}},
		{e.admin, "?sort=-recorded", []string{w.f3, w.f2, w.f1}},
		{e.admin, "?sort=due_on", []string{w.f1, w.f2, w.f3}},  // f1 alone has a due date
		{e.admin, "?sort=-due_on", []string{w.f1, w.f3, w.f2}}, // the undated, newest first
		{w.office, "?category=recommendation&campaign_id=" + campaignRound1, []string{w.f2}},
		{e.admin, "?campaign_id=" + campaignRound1, []string{w.f1, w.f2}},
		{e.admin, "?cluster_id=" + w.cluster, []string{w.f1, w.f2}},
		{e.admin, "?unit_id=" + unitBacNinh, []string{w.f3}},
		{e.admin, "?status=in_progress", []string{w.f1}},
		{e.admin, "?department_id=" + deptInspection, []string{w.f2}},
		{e.admin, "?status=resolved", []string{}},
		// A department sees the findings assigned to it.
		{w.dept, "", []string{w.f1, w.f3}},
		{w.dept, "?category=recommendation", []string{w.f3}},
		{w.dept, "?department_id=" + deptPropaganda, []string{w.f1, w.f3}},
		{w.deptless, "", []string{}},
	} {
		if got := w.ids(t, tc.who, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s%s: %v, want %v", tc.who.id, tc.query, got, tc.want)
		}
	}

	e.get(t, w.dept, "/api/v1/reports/findings?department_id="+deptInspection).wantError(t, http.StatusForbidden, "forbidden")
	e.get(t, w.sec, "/api/v1/reports/findings").wantError(t, http.StatusForbidden, "forbidden")
	e.get(t, w.lan, "/api/v1/reports/findings").wantError(t, http.StatusForbidden, "forbidden")
	e.get(t, nil, "/api/v1/reports/findings").wantError(t, http.StatusUnauthorized, "unauthorized")
	e.get(t, e.admin, "/api/v1/reports/findings?category=complaint").wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, e.admin, "/api/v1/reports/findings?unit_id=lai-chau").wantError(t, http.StatusBadRequest, "validation_failed")
}

// sheetRows opens an exported workbook and reads its one sheet.
func sheetRows(t *testing.T, body []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the export does not open as a workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %v, want one", sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestFindingsExport(t *testing.T) {
	t.Parallel()
	w := newFindingsWorld(t)
	e := w.e

	r := e.get(t, w.office, "/api/v1/reports/findings.xlsx")
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="bao-cao-van-de-phat-hien-`) || !strings.HasSuffix(cd, `.xlsx"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows := sheetRows(t, r.body)
	if len(rows) != 3+3 {
		t.Fatalf("%d rows, want title, selection, headers and 3 findings: %q", len(rows), rows)
	}
	if rows[0][0] != "Báo cáo tổng hợp vấn đề phát hiện" {
		t.Errorf("title %q", rows[0][0])
	}
	wantHeaders := []string{"STT", "Đợt kiểm tra", "Cụm hoạt động", "Đơn vị", "Nguồn (ghi chép làm việc, giao ban cụm)", "Người ghi",
		"Loại vấn đề", "Nội dung", "Ban phụ trách", "Trạng thái", "Hạn xử lý", "Trả lời", "Số lần theo dõi", "Theo dõi gần nhất"}
	if !slices.Equal(rows[2], wantHeaders) {
		t.Errorf("headers %q, want %q", rows[2], wantHeaders)
	}
	col := func(row []string, header string) string {
		i := slices.Index(wantHeaders, header)
		if i >= len(row) {
			return ""
		}
		return row[i]
	}
	f1 := rows[4] // after the thematic campaign's recommendation
	for header, want := range map[string]string{
		"STT":               "2",
		"Đợt kiểm tra":      "Kiểm tra định kỳ Đợt 1 năm 2021",
		"Cụm hoạt động":     "Cụm Tây Bắc",
		"Đơn vị":            "Lai Châu",
		"Loại vấn đề":       "Tồn tại, hạn chế, vướng mắc",
		"Nội dung":          "Sinh hoạt chi đoàn chưa đều",
		"Ban phụ trách":     "Ban Tuyên giáo Trung ương Đoàn",
		"Trạng thái":        "Đang xử lý",
		"Hạn xử lý":         "15/07/2021",
		"Số lần theo dõi":   "2",
		"Theo dõi gần nhất": "01/07/2021: Tỉnh đoàn đang khắc phục (→ Đang xử lý)",
	} {
		if got := col(f1, header); got != want {
			t.Errorf("f1 %s = %q, want %q", header, got, want)
		}
	}

	// The Office's recommendations register, and a department's own rows.
	r = e.get(t, w.office, "/api/v1/reports/findings.xlsx?category=recommendation")
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "bao-cao-kien-nghi-de-xuat-") {
		t.Errorf("recommendations export named %q", cd)
	}
	rows = sheetRows(t, r.body)
	if len(rows) != 3+2 || col(rows[3], "Loại vấn đề") != "Kiến nghị, đề xuất" || col(rows[4], "Trả lời") != "Văn phòng đề xuất bố trí kinh phí trong quý III" {
		t.Errorf("recommendations export rows %q", rows)
	}
	if !strings.Contains(rows[1][0], "Loại vấn đề: Kiến nghị, đề xuất") {
		t.Errorf("selection row %q does not say it holds the recommendations", rows[1][0])
	}
	r = e.get(t, w.dept, "/api/v1/reports/findings.xlsx")
	if rows := sheetRows(t, r.body); len(rows) != 3+2 {
		t.Errorf("the department's export has %d rows, want its 2 findings", len(rows)-3)
	}
	e.get(t, w.sec, "/api/v1/reports/findings.xlsx").wantError(t, http.StatusForbidden, "forbidden")
}

// firstOf is the first element of the array at key of object v.
func firstOf(t *testing.T, v any, key string) any {
	t.Helper()
	arr, ok := v.(map[string]any)[key].([]any)
	if !ok || len(arr) == 0 {
		t.Fatalf("%s: no items in %v", key, v)
	}
	return arr[0]
}

// TestReportsAnswerAsDocumented holds the answers to openapi.json: each
// object carries exactly the documented fields.
func TestReportsAnswerAsDocumented(t *testing.T) {
	t.Parallel()
	w := newFindingsWorld(t)
	e := w.e
	w.lan.push(t, "", trip(w.lan, "inspection", "done", []string{unitLaiChau}, map[string]string{"2021-06-05": unitLaiChau})...)

	var days, coverage, findings any
	e.get(t, e.admin, "/api/v1/reports/field-days?year=2021&date=2021-12-31").decode(t, http.StatusOK, &days)
	e.get(t, e.admin, "/api/v1/reports/coverage?campaign_id="+campaignRound1).decode(t, http.StatusOK, &coverage)
	e.get(t, e.admin, "/api/v1/reports/findings?status=in_progress").decode(t, http.StatusOK, &findings)
	secretary := firstOf(t, days, "items")
	campaign := firstOf(t, coverage, "items")
	finding := firstOf(t, findings, "items")
	for _, c := range []struct {
		component string
		value     any
	}{
		{"FieldDaysReport", days},
		{"ReportSpecialPeriod", firstOf(t, days, "special_periods")},
		{"SecretaryFieldDays", secretary},
		{"PurposeFieldDays", firstOf(t, secretary, "by_purpose")},
		{"PeriodFieldDays", firstOf(t, secretary, "special_periods")},
		{"CoverageReport", coverage},
		{"CampaignCoverage", campaign},
		{"UnitCoverage", firstOf(t, campaign, "units")},
		{"FindingRegisterList", findings},
		{"FindingRegisterEntry", finding},
		{"FindingRegisterCounts", findings.(map[string]any)["counts"]},
		{"FindingRegisterCount", firstOf(t, findings.(map[string]any)["counts"], "by_category")},
		{"FollowUpSummary", finding.(map[string]any)["last_follow_up"]},
	} {
		if got, want := keysOf(t, c.value, c.component), documentedFields(t, c.component); !slices.Equal(got, want) {
			t.Errorf("%s: answer has %v, openapi.json documents %v", c.component, got, want)
		}
	}
}
