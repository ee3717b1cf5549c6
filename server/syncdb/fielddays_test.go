package syncdb

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/plan"
	"dicoso/sync/protocol"
)

// TestFutureFieldDayRefused: every role that may write its own trip days
// may tick today, in Vietnam by the server's clock, and no later day: not
// on creating a day nor on moving one. A UTC calendar would get both
// wrong around Vietnamese midnight, so the clock is set where the two
// disagree.
func TestFutureFieldDayRefused(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := map[string]Actor{
		plan.RoleAdmin: w.admin, plan.RoleInspectionCommittee: w.ic, plan.RoleOffice: w.office, plan.RoleDepartment: w.dept,
		plan.RoleSecretary: w.sec, plan.RoleInspector: w.leader, plan.RoleUnitLiaison: w.liaison,
	}
	if got := slices.Sorted(slices.Values(expectedGrants()["trip_days"][opCreate])); !slices.Equal(got, slices.Sorted(maps.Keys(roles))) {
		t.Fatalf("roles that create trip days %v, want every role %v walked here", got, slices.Sorted(maps.Keys(roles)))
	}
	cases := []struct {
		name string
		now  time.Time // the server's clock
		day  string
		ok   bool
	}{
		// 03:00 on 4 June in Hà Nội is still 3 June in UTC.
		{"today in Vietnam, tomorrow in UTC", time.Date(2021, 6, 3, 20, 0, 0, 0, time.UTC), "2021-06-04", true},
		{"yesterday in Vietnam", time.Date(2021, 6, 3, 20, 0, 0, 0, time.UTC), "2021-06-03", true},
		{"tomorrow in Vietnam", time.Date(2021, 6, 3, 20, 0, 0, 0, time.UTC), "2021-06-05", false},
		{"next year", time.Date(2021, 6, 3, 20, 0, 0, 0, time.UTC), "2022-01-01", false},
		// 23:30 on 3 June in Hà Nội: 4 June has not begun.
		{"tomorrow in Vietnam at 23:30", time.Date(2021, 6, 3, 16, 30, 0, 0, time.UTC), "2021-06-04", false},
		{"today in Vietnam at 23:30", time.Date(2021, 6, 3, 16, 30, 0, 0, time.UTC), "2021-06-03", true},
		// Within the tolerated clock skew (5 minutes) of midnight, a phone
		// a little fast is believed.
		{"tomorrow, two minutes before midnight", time.Date(2021, 6, 3, 16, 58, 0, 0, time.UTC), "2021-06-04", true},
	}
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		for _, tc := range cases {
			w.now = tc.now
			// Create.
			fields := w.newFields(t, "trip_days", a, "")
			fields["day"] = tc.day
			id := uuid.NewString()
			res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "trip_days", RowID: id, Op: protocol.OpUpsert,
				HLC: w.stamp(a, 0), Fields: fields})[0]
			checkFutureDay(t, role+" creates "+tc.name, res, tc.ok)
			if got := w.rowState(t, mustTable("trip_days"), id); (got != "") != tc.ok {
				t.Errorf("%s creates %s: stored=%v, want %v", role, tc.name, got != "", tc.ok)
			}
			// Move an existing day (ticked long ago) to it.
			own := w.seedRow(t, "trip_days", a)
			before := w.rowState(t, mustTable("trip_days"), own)
			res = w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "trip_days", RowID: own, Op: protocol.OpUpsert,
				HLC: w.stamp(a, time.Millisecond), Fields: map[string]any{"day": tc.day}})[0]
			checkFutureDay(t, role+" moves a day to "+tc.name, res, tc.ok)
			if !tc.ok && w.rowState(t, mustTable("trip_days"), own) != before {
				t.Errorf("%s moves a day to %s: refused, yet the row changed", role, tc.name)
			}
		}
	}
	// A day not rewritten is not judged again: the activity of a day
	// stored before the rule (or by the server) can still be edited.
	w.now = time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)
	ahead := uuid.NewString()
	fields := w.newFields(t, "trip_days", w.sec, "")
	fields["day"] = "2021-06-10"
	w.serverApply(t, ServerChange{Table: "trip_days", RowID: ahead, Fields: fields})
	res := w.push(t, w.sec, protocol.Change{ID: uuid.NewString(), Table: "trip_days", RowID: ahead, Op: protocol.OpUpsert,
		HLC: w.stamp(w.sec, 0), Fields: map[string]any{"activity": "Dự kiến"}})[0]
	if res.Status != protocol.StatusApplied {
		t.Errorf("edit the activity of a stored day ahead: %s %s %q, want applied", res.Status, res.Code, res.Message)
	}
}

func checkFutureDay(t *testing.T, what string, res protocol.Result, ok bool) {
	t.Helper()
	if ok {
		if res.Status != protocol.StatusApplied {
			t.Errorf("%s: %s %s %q, want applied", what, res.Status, res.Code, res.Message)
		}
		return
	}
	if res.Status != protocol.StatusRejected || res.Code != protocol.CodeValidationFailed || res.Field != "day" ||
		res.Message != "a field day cannot be in the future" {
		t.Errorf("%s: %s %s field %q %q, want rejected validation_failed on day, \"a field day cannot be in the future\"",
			what, res.Status, res.Code, res.Field, res.Message)
	}
}
