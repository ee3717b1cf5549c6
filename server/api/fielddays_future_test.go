package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/report"
	"dicoso/server/syncdb"
	"dicoso/sync/plan"
	"dicoso/sync/plan/plantest"
	"dicoso/sync/protocol"
)

// TestFieldDaysNoFutureDay: over HTTP, with the server's real clock, a
// secretary ticks today (in Vietnam) but not tomorrow, and the tally the
// report gives by default counts today and no later day, even one that
// reached the store before the rule (written here as the server).
func TestFieldDaysNoFutureDay(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary}})
	now := plantest.TodayForAWhile(time.Minute)
	today, tomorrow := plan.Today(now), plan.Today(now.Add(24*time.Hour))
	trip := uuid.NewString()
	lan.push(t, "", upsert("trips", trip, map[string]any{"user_id": lan.userID, "title": "Đi cơ sở", "purpose": "working_session",
		"status": "ongoing", "unit_ids": []string{unitLaiChau}, "starts_on": today, "ends_on": tomorrow}))
	day := func(d string) protocol.Change {
		return upsert("trip_days", uuid.NewString(), map[string]any{"trip_id": trip, "user_id": lan.userID, "day": d, "unit_id": unitLaiChau})
	}
	res := lan.pushResults(t, "", day(today), day(tomorrow))
	if res[0].Status != protocol.StatusApplied {
		t.Errorf("tick today %s: %s %s %q, want applied", today, res[0].Status, res[0].Code, res[0].Message)
	}
	if r := res[1]; r.Status != protocol.StatusRejected || r.Code != protocol.CodeValidationFailed || r.Field != "day" ||
		r.Message != "a field day cannot be in the future" {
		t.Errorf("tick tomorrow %s: %s %s field %q %q, want rejected validation_failed on day", tomorrow, r.Status, r.Code, r.Field, r.Message)
	}
	// A day ahead stored before the rule existed.
	ahead := plan.Today(now.Add(48 * time.Hour))
	e.apply(t, syncdb.ServerChange{Table: "trip_days", RowID: uuid.NewString(), Fields: map[string]any{
		"trip_id": trip, "user_id": lan.userID, "day": ahead, "unit_id": unitLaiChau}})
	planned := 1
	if ahead[:4] != today[:4] {
		planned = 0 // next year's: not in this year's tally at all
	}

	for _, who := range []*device{e.admin, lan} {
		var r report.FieldDays
		e.get(t, who, "/api/v1/reports/field-days").decode(t, http.StatusOK, &r)
		if r.AsOf != today {
			t.Errorf("as of %s, want today in Vietnam %s", r.AsOf, today)
		}
		s := tallyOf(t, r, lan.userID)
		if s.FieldDays != 1 || s.PlannedDays != planned {
			t.Errorf("field days %d (planned %d), want 1 (planned %d): today only, the day ahead is planned, not spent",
				s.FieldDays, s.PlannedDays, planned)
		}
	}
}
