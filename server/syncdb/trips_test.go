package syncdb

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// TestTripEndsNotBeforeItStarts: a trip, like a campaign, a special
// period or a team's visit, does not end before it starts, judged on the
// row as the change leaves it, so a change of either date alone is judged
// against the other as stored. Every role logs trips (all of them may).
// A refusal is validation_failed on ends_on, Vietnamese first, and changes
// nothing.
func TestTripEndsNotBeforeItStarts(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := w.writerRoles()
	trip := func(starts, ends any) map[string]any {
		return map[string]any{"purpose": "inspection", "starts_on": starts, "ends_on": ends, "title": "Kiểm tra"}
	}
	step := time.Duration(0)
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		a := roles[role]
		try := func(what, id string, fields map[string]any, want bool) {
			t.Helper()
			step += time.Millisecond
			before := w.rowState(t, mustTable("trips"), id)
			res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: "trips", RowID: id, Op: protocol.OpUpsert,
				HLC: w.stamp(a, step), Fields: fields})[0]
			if got := res.Status == protocol.StatusApplied; got != want {
				t.Errorf("%s: %s: %s %s %q, want allowed=%v", role, what, res.Status, res.Code, res.Message, want)
				return
			}
			if want {
				return
			}
			if res.Code != protocol.CodeValidationFailed || res.Field != "ends_on" || !strings.HasPrefix(res.Message, "ngày kết thúc trước ngày bắt đầu") {
				t.Errorf("%s: %s: refused as %s on %q (%q), want validation_failed on ends_on, Vietnamese first", role, what, res.Code, res.Field, res.Message)
			}
			if after := w.rowState(t, mustTable("trips"), id); after != before {
				t.Errorf("%s: %s: refused, yet the trip changed", role, what)
			}
		}
		try("a new trip ending before it starts", uuid.NewString(), trip("2021-06-03", "2021-06-01"), false)
		try("a new trip of one day", uuid.NewString(), trip("2021-06-03", "2021-06-03"), true)
		try("a new trip with no end yet", uuid.NewString(), trip("2021-06-03", nil), true)

		id := uuid.NewString()
		try("a trip of 1-5 June", id, trip("2021-06-01", "2021-06-05"), true)
		try("its end alone moved before its start", id, map[string]any{"ends_on": "2021-05-30"}, false)
		try("its start alone moved past its end", id, map[string]any{"starts_on": "2021-06-06"}, false)
		try("both moved together, in order", id, map[string]any{"starts_on": "2021-06-06", "ends_on": "2021-06-08"}, true)
		try("its end alone moved earlier, still after the start", id, map[string]any{"ends_on": "2021-06-07"}, true)
		try("its end cleared", id, map[string]any{"ends_on": nil}, true)
		try("its start moved anywhere, with no end", id, map[string]any{"starts_on": "2021-07-01"}, true)
		try("an end put back, before the start", id, map[string]any{"ends_on": "2021-06-30"}, false)
	}
}

// TestCheckinsAndNotesNameOwnTrip: a check-in or a visit note names one
// of its author's own trips or none, as a trip day does (ownTrip): it is
// listed with the trip it names in that trip's activity and the coverage
// reports, so naming someone else's would put it in their record. Every
// role that writes the table writes one; a refusal is forbidden on trip_id
// and creates nothing.
func TestCheckinsAndNotesNameOwnTrip(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := w.writerRoles()
	othersTrip := w.seedRow(t, "trips", w.member)
	step := time.Duration(0)
	records := map[string]map[string]any{
		"checkins":    {"unit_id": w.unit, "at": "2021-06-03T08:00:00Z", "lat": 22.39, "lng": 103.45},
		"visit_notes": {"unit_id": w.unit, "campaign_id": w.campaign, "title": "Làm việc tại Lào Cai", "status": "draft"},
	}
	expected := expectedGrants()
	for _, table := range slices.Sorted(maps.Keys(records)) {
		for _, role := range expected[table][opCreate] {
			a := roles[role]
			ownTrip := w.seedRow(t, "trips", a)
			newTrip := uuid.NewString()
			for _, c := range []struct {
				what  string
				trip  any
				first []protocol.Change // pushed before it, in the same push
				want  bool
			}{
				{"with no trip", nil, nil, true},
				{"on their own trip", ownTrip, nil, true},
				{"on a trip they log in the same push", newTrip, []protocol.Change{{ID: uuid.NewString(), Table: "trips", RowID: newTrip,
					Op: protocol.OpUpsert, HLC: w.stamp(a, 0), Fields: map[string]any{"purpose": "inspection", "starts_on": "2021-06-03"}}}, true},
				{"on someone else's trip", othersTrip, nil, false},
			} {
				step += 2 * time.Millisecond
				id := uuid.NewString()
				fields := maps.Clone(records[table])
				fields["trip_id"] = c.trip
				chs := append(slices.Clone(c.first), protocol.Change{ID: uuid.NewString(), Table: table, RowID: id, Op: protocol.OpUpsert,
					HLC: w.stamp(a, step), Fields: fields})
				for i := range chs[:len(chs)-1] {
					chs[i].HLC = w.stamp(a, step-time.Millisecond)
				}
				results := w.push(t, a, chs...)
				res := results[len(results)-1]
				if got := res.Status == protocol.StatusApplied; got != c.want {
					t.Errorf("%s writes %s %s: %s %s %q, want allowed=%v", role, table, c.what, res.Status, res.Code, res.Message, c.want)
					continue
				}
				if c.want {
					continue
				}
				if res.Code != protocol.CodeForbidden || res.Field != "trip_id" || !strings.HasPrefix(res.Message, "chuyến đi này không phải của bạn") {
					t.Errorf("%s writes %s %s: refused as %s on %q (%q), want forbidden on trip_id, Vietnamese first", role, table, c.what, res.Code, res.Field, res.Message)
				}
				if w.rowState(t, mustTable(table), id) != "" {
					t.Errorf("%s writes %s %s: refused, yet the row exists", role, table, c.what)
				}
			}
			// An own note moved onto someone else's trip later.
			if table == "visit_notes" {
				id := w.seedRow(t, table, a)
				step += 2 * time.Millisecond
				res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: table, RowID: id, Op: protocol.OpUpsert,
					HLC: w.stamp(a, step), Fields: map[string]any{"trip_id": othersTrip}})[0]
				if res.Status != protocol.StatusRejected || res.Field != "trip_id" {
					t.Errorf("%s moves their note onto someone else's trip: %s %s %q", role, res.Status, res.Code, res.Message)
				}
			}
		}
	}
}
