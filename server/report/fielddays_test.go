package report_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/report"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/plan"
)

// tallyLine is what a secretary's tally says, whichever side computed it.
type tallyLine struct {
	Plan                     string // the plan's number; "" when the year has none
	Min, Elapsed, Due        int
	Expected                 float64
	Field, Verified, Planned int
	Remaining                int
	OnPace                   bool
	ByPurpose                map[string][2]int
	ByPeriod                 map[string][2]int // by period name
	PeriodsStart, PeriodsEnd []string
}

func fromReport(r report.FieldDays, userID string) (tallyLine, error) {
	var s *report.SecretaryDays
	for i := range r.Items {
		if r.Items[i].UserID == userID {
			s = &r.Items[i]
		}
	}
	if s == nil {
		return tallyLine{}, fmt.Errorf("no line for %s", userID)
	}
	l := tallyLine{Min: r.MinFieldDays, Elapsed: r.ElapsedDays, Due: r.DueByDate, Expected: r.ExpectedByDate,
		Field: s.FieldDays, Verified: s.VerifiedDays, Planned: s.PlannedDays, Remaining: s.RemainingDays, OnPace: s.OnPace,
		ByPurpose: map[string][2]int{}, ByPeriod: map[string][2]int{}}
	if r.PlanNumber != nil {
		l.Plan = *r.PlanNumber
	}
	for _, p := range s.ByPurpose {
		l.ByPurpose[p.Purpose] = [2]int{p.FieldDays, p.VerifiedDays}
	}
	for _, p := range s.SpecialPeriods {
		l.ByPeriod[p.Name] = [2]int{p.FieldDays, p.VerifiedDays}
	}
	for _, p := range r.SpecialPeriods {
		l.PeriodsStart, l.PeriodsEnd = append(l.PeriodsStart, deref(p.StartsOn)), append(l.PeriodsEnd, deref(p.EndsOn))
	}
	return l, nil
}

// fromDevice is the tally as the phone computes it: the rules' queries
// (plan.Compute, the SQL pwa/src/store/plan.gen.ts carries) over the
// device's own SQLite file.
func fromDevice(ctx context.Context, db *sql.DB, year int, asOf, userID string) (tallyLine, error) {
	t, err := plan.Compute(ctx, db, year, asOf, userID)
	if err != nil {
		return tallyLine{}, err
	}
	u := t.User(userID)
	l := tallyLine{Min: t.MinFieldDays, Elapsed: t.ElapsedDays, Due: t.DueByDate, Expected: t.ExpectedByDate,
		Field: u.Field, Verified: u.Verified, Planned: u.Planned, Remaining: t.Remaining(u.Field), OnPace: t.OnPace(u.Field),
		ByPurpose: map[string][2]int{}, ByPeriod: map[string][2]int{}}
	if t.Plan != nil {
		l.Plan = t.Plan.Number
	}
	for k, d := range u.ByPurpose {
		l.ByPurpose[k] = [2]int{d.Field, d.Verified}
	}
	for _, p := range t.Periods {
		d := u.ByPeriod[p.ID]
		l.ByPeriod[p.Name] = [2]int{d.Field, d.Verified}
		l.PeriodsStart, l.PeriodsEnd = append(l.PeriodsStart, deref(p.StartsOn)), append(l.PeriodsEnd, deref(p.EndsOn))
	}
	return l, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The phone's tally and GET /api/v1/reports/field-days give the same
// numbers for every year: one with a plan and special periods, one whose
// plan sets no minimum, one with a smaller minimum, and years with no plan
// at all, on several dates. The phone counts on its own copy, before its
// work is sent (its check-ins not judged by the server yet) and after.
func TestPhoneTallyAgreesWithTheReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	st := storetest.Open(t)
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	authSvc := auth.Ephemeral(st, auth.Options{Sync: sdb})
	hs := httptest.NewServer(api.New(api.Deps{Config: cfg, Store: st, Log: slog.New(slog.DiscardHandler), Auth: authSvc, Sync: sdb}).Handler())
	t.Cleanup(func() {
		hs.Close()
		sdb.Close()
		st.Close()
	})
	const password = "field-password-2021"
	sec, err := authSvc.CreateUser(ctx, "", auth.NewUser{Username: "bt.lan", Password: password, FullName: "Nguyễn Thị Lan", Roles: []string{plan.RoleSecretary}})
	if err != nil {
		t.Fatal(err)
	}

	laiChau, haNoi, noPoint := uuid.NewString(), uuid.NewString(), uuid.NewString()
	const laiLat, laiLng, hnLat, hnLng = 22.39, 103.46, 21.03, 105.85
	plan2021, plan2022, plan2023 := uuid.NewString(), uuid.NewString(), uuid.NewString()
	server := []syncdb.ServerChange{
		{Table: "units", RowID: laiChau, Fields: map[string]any{"name": "Lai Châu", "kind": "province", "lat": laiLat, "lng": laiLng}},
		{Table: "units", RowID: haNoi, Fields: map[string]any{"name": "Hà Nội", "kind": "province", "lat": hnLat, "lng": hnLng}},
		{Table: "units", RowID: noPoint, Fields: map[string]any{"name": "Đơn vị chưa có toạ độ", "kind": "grassroots"}},
		{Table: "plans", RowID: plan2021, Fields: map[string]any{"year": 2021.0, "number": "356-KH/TWĐTN-BKT", "title": "Kế hoạch 2021", "min_field_days": 60.0, "issued_on": "2021-02-09"}},
		{Table: "special_periods", RowID: uuid.NewString(), Fields: map[string]any{"plan_id": plan2021, "name": "Tháng Thanh niên", "starts_on": "2021-03-01", "ends_on": "2021-03-31"}},
		{Table: "special_periods", RowID: uuid.NewString(), Fields: map[string]any{"plan_id": plan2021, "name": "Chiến dịch Hè", "starts_on": "2021-06-01", "ends_on": "2021-08-31"}},
		// 2022's plan names no minimum and a period without dates yet.
		{Table: "plans", RowID: plan2022, Fields: map[string]any{"year": 2022.0, "number": "12-KH/TWĐTN", "title": "Kế hoạch 2022"}},
		{Table: "special_periods", RowID: uuid.NewString(), Fields: map[string]any{"plan_id": plan2022, "name": "Đợt chưa định ngày"}},
		{Table: "plans", RowID: plan2023, Fields: map[string]any{"year": 2023.0, "number": "20-KH/TWĐTN", "title": "Kế hoạch 2023", "min_field_days": 45.0}},
	}
	if err := st.InTx(ctx, func(tx *sql.Tx) error { return sdb.ApplyServerTx(ctx, tx, "", server) }); err != nil {
		t.Fatal(err)
	}

	devPath := filepath.Join(dir, "phone.db")
	phone, err := client.Open(ctx, devPath, client.Options{BaseURL: hs.URL, DeviceID: "lan-phone"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Close() })
	if _, err := phone.Login(ctx, "bt.lan", password); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Sync(ctx); err != nil { // the reference data, as a phone has it before going out
		t.Fatal(err)
	}

	upsert := func(table string, fields map[string]any) string {
		t.Helper()
		id := uuid.NewString()
		if _, err := phone.Upsert(ctx, table, id, fields); err != nil {
			t.Fatalf("%s %v: %v", table, fields, err)
		}
		return id
	}
	trip := func(purpose, status string, units []string, days map[string]string) map[string]string {
		t.Helper()
		first := "9999-12-31"
		for d := range days {
			first = min(first, d)
		}
		id := upsert("trips", map[string]any{"user_id": sec.ID, "title": "Đi cơ sở", "purpose": purpose, "status": status, "unit_ids": units, "starts_on": first})
		out := map[string]string{"trip": id}
		for day, unit := range days {
			out[day] = upsert("trip_days", map[string]any{"trip_id": id, "user_id": sec.ID, "day": day, "unit_id": unit, "activity": "Làm việc tại cơ sở"})
		}
		return out
	}
	checkin := func(unit, at string, pos ...float64) string {
		t.Helper()
		f := map[string]any{"user_id": sec.ID, "unit_id": unit, "at": at, "accuracy_m": 15.0}
		if len(pos) == 2 {
			f["lat"], f["lng"] = pos[0], pos[1]
		}
		return upsert("checkins", f)
	}

	// 2020, no plan: two days, one verified.
	trip("inspection", "done", []string{laiChau}, map[string]string{"2020-11-02": laiChau, "2020-11-03": laiChau})
	checkin(laiChau, "2020-11-02T01:00:00Z", laiLat+0.01, laiLng)
	// 2021: a day on two trips of two purposes, a cancelled trip, a deleted
	// day, a planned day, a check-in far away, a voided one, one early in
	// the Vietnamese morning (the UTC day before), a unit without a point.
	trip("inspection", "done", []string{laiChau}, map[string]string{"2021-03-05": laiChau, "2021-06-03": laiChau, "2021-06-04": laiChau})
	trip("meeting", "done", []string{haNoi}, map[string]string{"2021-03-05": haNoi})
	trip("thematic_survey", "cancelled", []string{haNoi}, map[string]string{"2021-04-10": haNoi})
	working := trip("working_session", "ongoing", []string{haNoi}, map[string]string{"2021-05-20": haNoi, "2021-05-21": haNoi})
	trip("inspection", "planned", []string{laiChau}, map[string]string{"2021-08-15": laiChau})
	trip("thematic_survey", "done", []string{noPoint}, map[string]string{"2021-07-01": noPoint, "2021-07-02": noPoint})
	checkin(laiChau, "2021-03-05T01:00:00Z", laiLat, laiLng)
	checkin(haNoi, "2021-05-20T23:30:00Z", hnLat, hnLng)
	checkin(laiChau, "2021-06-03T02:00:00Z", hnLat, hnLng) // in Hà Nội, not at Lai Châu
	voided := checkin(laiChau, "2021-06-04T02:00:00Z", laiLat, laiLng)
	checkin(noPoint, "2021-07-01T03:00:00Z", 21.5, 105.5) // a position, but no point to measure from
	checkin(noPoint, "2021-07-02T03:00:00Z")              // no position
	if _, err := phone.Delete(ctx, "trip_days", working["2021-05-20"]); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Upsert(ctx, "checkins", voided, map[string]any{"voided": true, "void_reason": "Điểm danh nhầm"}); err != nil {
		t.Fatal(err)
	}
	// 2022: a check-in 4.9 km away verifies; one 5.2 km away does not.
	trip("working_session", "done", []string{laiChau}, map[string]string{"2022-01-10": laiChau, "2022-03-26": laiChau})
	checkin(laiChau, "2022-01-10T02:00:00Z", laiLat+0.0468, laiLng) // ≈ 5.2 km north
	checkin(laiChau, "2022-03-26T02:00:00Z", laiLat+0.0441, laiLng) // ≈ 4.9 km north
	// 2023: the last day of the year, verified just after midnight in
	// Vietnam; a check-in at 00:30 on 1 January 2024 verifies nothing.
	trip("inspection", "done", []string{laiChau}, map[string]string{"2023-12-31": laiChau, "2023-06-01": laiChau})
	checkin(laiChau, "2023-12-30T17:30:00Z", laiLat, laiLng)
	checkin(laiChau, "2023-12-31T17:30:00Z", laiLat, laiLng)

	cases := []struct {
		year int
		asOf string
	}{
		{2020, "2020-11-02"}, {2020, "2020-12-31"},
		{2021, "2021-02-28"}, {2021, "2021-03-14"}, {2021, "2021-07-02"}, {2021, "2021-12-31"},
		{2022, "2022-03-31"}, {2022, "2022-12-31"},
		{2023, "2023-06-30"}, {2023, "2023-12-31"},
		{2024, "2024-05-01"},
		{2021, "2022-06-01"}, // a past year read later: its whole minimum is due
	}
	dev, err := sql.Open("sqlite", "file:"+devPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	before := map[string]tallyLine{}
	for _, c := range cases {
		l, err := fromDevice(ctx, dev, c.year, c.asOf, sec.ID)
		if err != nil {
			t.Fatalf("phone tally %d as of %s: %v", c.year, c.asOf, err)
		}
		before[c.asOf+"/"+fmt.Sprint(c.year)] = l
	}

	if rep, err := phone.Sync(ctx); err != nil || rep.Rejected != 0 {
		t.Fatalf("sync: %+v %v", rep, err)
	}
	if n, err := phone.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pending after sync: %d %v", n, err)
	}

	rep := report.New(st)
	for _, c := range cases {
		name := fmt.Sprintf("%d as of %s", c.year, c.asOf)
		server, err := rep.FieldDays(ctx, report.FieldDaysQuery{Year: c.year, AsOf: c.asOf, UserID: sec.ID})
		if err != nil {
			t.Fatalf("%s: report: %v", name, err)
		}
		want, err := fromReport(server, sec.ID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, err := fromDevice(ctx, dev, c.year, c.asOf, sec.ID)
		if err != nil {
			t.Fatalf("%s: phone tally after sync: %v", name, err)
		}
		if !reflect.DeepEqual(after, want) {
			t.Errorf("%s: the phone says\n %+v\nthe report says\n %+v", name, after, want)
		}
		if b := before[c.asOf+"/"+fmt.Sprint(c.year)]; !reflect.DeepEqual(b, want) {
			t.Errorf("%s: before sending, the phone said\n %+v\nthe report says\n %+v", name, b, want)
		}
	}

	// The figures themselves, so that agreeing on a wrong rule fails too.
	for _, c := range []struct {
		year                    int
		asOf, plan              string
		min, field, verified    int
		planned, due            int
		purposeInspection       [2]int
		youthMonth, summerMonth [2]int
	}{
		{2020, "2020-12-31", "", plan.DefaultMinFieldDays, 2, 1, 0, 60, [2]int{2, 1}, [2]int{}, [2]int{}},
		// 5 March (twice, two purposes), 21 May, 3 and 4 June, 1 and 2 July.
		{2021, "2021-07-02", "356-KH/TWĐTN-BKT", 60, 6, 3, 1, 31, [2]int{3, 1}, [2]int{1, 1}, [2]int{4, 1}},
		{2022, "2022-12-31", "12-KH/TWĐTN", plan.DefaultMinFieldDays, 2, 1, 0, 60, [2]int{}, [2]int{}, [2]int{}},
		{2023, "2023-06-30", "20-KH/TWĐTN", 45, 1, 0, 1, 23, [2]int{1, 0}, [2]int{}, [2]int{}},
		{2023, "2023-12-31", "20-KH/TWĐTN", 45, 2, 1, 0, 45, [2]int{2, 1}, [2]int{}, [2]int{}},
		{2024, "2024-05-01", "", plan.DefaultMinFieldDays, 0, 0, 0, 20, [2]int{}, [2]int{}, [2]int{}},
	} {
		l := before[c.asOf+"/"+fmt.Sprint(c.year)]
		if l.Plan != c.plan || l.Min != c.min || l.Field != c.field || l.Verified != c.verified || l.Planned != c.planned || l.Due != c.due {
			t.Errorf("%d as of %s: plan %q min %d, field %d verified %d planned %d due %d; want %q %d, %d %d %d %d",
				c.year, c.asOf, l.Plan, l.Min, l.Field, l.Verified, l.Planned, l.Due, c.plan, c.min, c.field, c.verified, c.planned, c.due)
		}
		if l.ByPurpose["inspection"] != c.purposeInspection {
			t.Errorf("%d as of %s: inspection %v, want %v", c.year, c.asOf, l.ByPurpose["inspection"], c.purposeInspection)
		}
		if c.year == 2021 && (l.ByPeriod["Tháng Thanh niên"] != c.youthMonth || l.ByPeriod["Chiến dịch Hè"] != c.summerMonth) {
			t.Errorf("2021 periods %v, want Youth Month %v, summer %v", l.ByPeriod, c.youthMonth, c.summerMonth)
		}
	}
}
