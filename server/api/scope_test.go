package api

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
	"dicoso/sync/protocol"
)

// teamWorld is the world the attachment, scope and audit tests share: a
// campaign with two inspection teams, two clusters led by two secretaries,
// two departments, and field data written by each side.
type teamWorld struct {
	*testServer
	dept1, dept2             string
	unitA, unitB             string
	campaign, teamA, teamB   string
	leaderA                  *device // leads team A (and reviews its notes)
	inspA, inspA2, inspB     *device
	secA, secB               *device
	deptUser, ic             *device
	noteA, noteA2, noteB     string
	findingA, findingB       string
	checkinA, checkinB       string
	followUpA                string
	tripSecA, tripSecB       string
	tripDaySecA, tripDaySecB string
}

func newTeamWorld(t *testing.T) *teamWorld {
	t.Helper()
	w := &teamWorld{testServer: newTestServer(t, withAdmin())}
	id := func() string { return uuid.NewString() }
	w.dept1, w.dept2 = id(), id()
	w.apply(t,
		syncdb.ServerChange{Table: "departments", RowID: w.dept1, Fields: map[string]any{"name": "Ban Phong trào"}},
		syncdb.ServerChange{Table: "departments", RowID: w.dept2, Fields: map[string]any{"name": "Ban Thanh niên Nông thôn"}},
	)
	w.leaderA = w.addUser(t, "leader-a", "inspector")
	w.inspA = w.addUser(t, "insp-a", "inspector")
	w.inspA2 = w.addUser(t, "insp-a2", "inspector")
	w.inspB = w.addUser(t, "insp-b", "inspector")
	w.secA = w.addUser(t, "sec-a", "secretary")
	w.secB = w.addUser(t, "sec-b", "secretary")
	w.deptUser = w.addAccount(t, account{username: "dept-1", roles: []string{"department"}, department: w.dept1})
	w.ic = w.addUser(t, "committee", "inspection_committee")

	clusterA, clusterB, plan := id(), id(), id()
	w.unitA, w.unitB, w.campaign, w.teamA, w.teamB = id(), id(), id(), id(), id()
	w.apply(t,
		syncdb.ServerChange{Table: "clusters", RowID: clusterA, Fields: map[string]any{"name": "Cụm 1", "lead_secretary_id": w.secA.userID}},
		syncdb.ServerChange{Table: "clusters", RowID: clusterB, Fields: map[string]any{"name": "Cụm 2", "lead_secretary_id": w.secB.userID}},
		syncdb.ServerChange{Table: "units", RowID: w.unitA, Fields: map[string]any{
			"name": "Tỉnh đoàn Lai Châu", "kind": "province", "cluster_id": clusterA, "lat": 22.3964, "lng": 103.4582}},
		syncdb.ServerChange{Table: "units", RowID: w.unitB, Fields: map[string]any{
			"name": "Tỉnh đoàn Cà Mau", "kind": "province", "cluster_id": clusterB, "lat": 9.1769, "lng": 105.1524}},
		syncdb.ServerChange{Table: "plans", RowID: plan, Fields: map[string]any{"year": float64(2021), "title": "Kế hoạch 356-KH/TWĐTN-BKT"}},
		syncdb.ServerChange{Table: "campaigns", RowID: w.campaign, Fields: map[string]any{
			"plan_id": plan, "kind": "periodic", "name": "Kiểm tra định kỳ đợt 1", "unit_ids": []string{w.unitA, w.unitB}}},
		syncdb.ServerChange{Table: "teams", RowID: w.teamA, Fields: map[string]any{"campaign_id": w.campaign, "name": "Đoàn 1",
			"leader_id": w.leaderA.userID, "member_ids": []string{w.inspA.userID, w.inspA2.userID}, "unit_ids": []string{w.unitA}}},
		syncdb.ServerChange{Table: "teams", RowID: w.teamB, Fields: map[string]any{"campaign_id": w.campaign, "name": "Đoàn 2",
			"member_ids": []string{w.inspB.userID}, "unit_ids": []string{w.unitB}}},
	)

	// Field data of team A (two authors) and team B.
	w.noteA, w.noteA2, w.noteB = id(), id(), id()
	w.findingA, w.findingB, w.checkinA, w.checkinB, w.followUpA = id(), id(), id(), id(), id()
	note := func(unit, title string) map[string]any {
		return map[string]any{"unit_id": unit, "campaign_id": w.campaign, "kind": "inspection", "title": title,
			"results": "Kết quả kiểm tra", "status": "submitted"}
	}
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	w.inspA.push(t, "",
		w.inspA.change("visit_notes", w.noteA, note(w.unitA, "Kiểm tra Lai Châu")),
		w.inspA.change("findings", w.findingA, map[string]any{"note_id": w.noteA, "unit_id": w.unitA, "campaign_id": w.campaign,
			"category": "shortcoming", "text": "Chưa sơ kết nghị quyết", "department_id": w.dept1}),
		w.inspA.change("checkins", w.checkinA, map[string]any{"unit_id": w.unitA, "at": at, "lat": 22.39, "lng": 103.45, "accuracy_m": 15.0}),
		w.inspA.change("follow_ups", w.followUpA, map[string]any{"finding_id": w.findingA, "text": "Đã nhắc tỉnh đoàn"}),
	)
	w.inspA2.push(t, "", w.inspA2.change("visit_notes", w.noteA2, note(w.unitA, "Ghi chép của thành viên thứ hai")))
	w.inspB.push(t, "",
		w.inspB.change("visit_notes", w.noteB, note(w.unitB, "Kiểm tra Cà Mau")),
		w.inspB.change("findings", w.findingB, map[string]any{"note_id": w.noteB, "unit_id": w.unitB, "campaign_id": w.campaign,
			"category": "recommendation", "text": "Đề nghị hỗ trợ kinh phí", "department_id": w.dept2}),
		w.inspB.change("checkins", w.checkinB, map[string]any{"unit_id": w.unitB, "at": at, "lat": 9.17, "lng": 105.15, "accuracy_m": 20.0}),
	)

	// Each secretary logs a trip (with a day) to a unit of their own cluster.
	w.tripSecA, w.tripSecB, w.tripDaySecA, w.tripDaySecB = id(), id(), id(), id()
	for _, s := range []struct {
		dev        *device
		trip, day  string
		unit, name string
	}{{w.secA, w.tripSecA, w.tripDaySecA, w.unitA, "Làm việc với Lai Châu"}, {w.secB, w.tripSecB, w.tripDaySecB, w.unitB, "Làm việc với Cà Mau"}} {
		s.dev.push(t, "",
			s.dev.change("trips", s.trip, map[string]any{"title": s.name, "purpose": "working_session",
				"unit_ids": []string{s.unit}, "starts_on": "2021-03-15", "ends_on": "2021-03-16", "status": "done"}),
			s.dev.change("trip_days", s.day, map[string]any{"trip_id": s.trip, "day": "2021-03-15", "unit_id": s.unit}),
		)
	}
	return w
}

// keys lists "table/row_id" for rows of the given tables only.
func fieldKeys(rows map[string]protocol.Row) map[string]bool {
	out := map[string]bool{}
	for k, r := range rows {
		switch r.Table {
		case "trips", "trip_days", "checkins", "visit_notes", "findings", "follow_ups":
			out[k] = true
		}
	}
	return out
}

func TestPullScopeIsolatesTeamsSecretariesAndDepartments(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)

	teamA := []string{key("visit_notes", w.noteA), key("visit_notes", w.noteA2), key("findings", w.findingA),
		key("checkins", w.checkinA), key("follow_ups", w.followUpA)}
	teamB := []string{key("visit_notes", w.noteB), key("findings", w.findingB), key("checkins", w.checkinB)}
	tripsA := []string{key("trips", w.tripSecA), key("trip_days", w.tripDaySecA)}
	tripsB := []string{key("trips", w.tripSecB), key("trip_days", w.tripDaySecB)}
	// What waits on headquarters: the notes handed in and not yet decided,
	// the findings still open, with their follow-ups.
	waiting := []string{key("visit_notes", w.noteA), key("visit_notes", w.noteA2), key("visit_notes", w.noteB),
		key("findings", w.findingA), key("findings", w.findingB), key("follow_ups", w.followUpA)}

	cases := []struct {
		name string
		dev  *device
		want []string // exactly the field rows this device must receive
	}{
		// Own rows, and a team mate's rows for the team's units.
		{"inspector of team A", w.inspA, teamA},
		{"second inspector of team A", w.inspA2, teamA},
		{"leader of team A", w.leaderA, teamA},
		{"inspector of team B", w.inspB, teamB},
		// A secretary reads field data of the units of the cluster they
		// lead (here team A's unit), and their own trips; never the other
		// secretary's trips.
		{"secretary leading cluster A", w.secA, append(append([]string{}, teamA...), tripsA...)},
		{"secretary leading cluster B", w.secB, append(append([]string{}, teamB...), tripsB...)},
		// A department reads the findings assigned to it, with their notes
		// and follow-ups, and nothing else.
		{"department 1", w.deptUser, []string{key("findings", w.findingA), key("visit_notes", w.noteA), key("follow_ups", w.followUpA)}},
		// Headquarters read every row over the API (the console); their
		// devices pull their own rows (here none) and what waits on them,
		// not the check-ins and trips.
		{"inspection committee", w.ic, waiting},
		{"admin", w.admin, waiting},
	}
	// The rows reasoned about exist with the owners and units assumed.
	rows, _ := w.secA.pullAll(t, "")
	rowsB, _ := w.secB.pullAll(t, "")
	maps.Copy(rows, rowsB)
	for _, c := range []struct{ k, field, want string }{
		{key("visit_notes", w.noteA), "author_id", w.inspA.userID},
		{key("visit_notes", w.noteB), "unit_id", w.unitB},
		{key("findings", w.findingA), "department_id", w.dept1},
		{key("trips", w.tripSecB), "user_id", w.secB.userID},
		{key("checkins", w.checkinA), "user_id", w.inspA.userID},
	} {
		r, ok := rows[c.k]
		if !ok {
			t.Fatalf("admin did not receive %s", c.k)
		}
		if got := fmt.Sprint(r.Fields[c.field]); !strings.EqualFold(got, c.want) {
			t.Fatalf("%s.%s = %s, want %s", c.k, c.field, got, c.want)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, _ := tc.dev.pullAll(t, "")
			got := fieldKeys(rows)
			want := map[string]bool{}
			for _, k := range tc.want {
				want[k] = true
			}
			for k := range want {
				if !got[k] {
					t.Errorf("did not receive %s", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("received %s, outside its scope", k)
				}
			}
			// Reference data reaches everyone.
			if _, ok := rows[key("units", w.unitB)]; !ok {
				t.Error("did not receive reference data (unit B)")
			}
		})
	}

	// Last, as it changes the teams: a scope change resets the cursor.
	t.Run("scope change resets", func(t *testing.T) {
		rows, cursor := w.inspA.pullAll(t, "")
		if _, ok := rows[key("visit_notes", w.noteB)]; ok {
			t.Fatal("team A's inspector received team B's note before joining team B")
		}

		// The admin adds the inspector to team B as well.
		w.apply(t, syncdb.ServerChange{Table: "teams", RowID: w.teamB, Fields: map[string]any{
			"member_ids": []string{w.inspB.userID, w.inspA.userID}}})

		resp := w.inspA.pullPage(t, cursor, 100)
		if !resp.Reset {
			t.Fatalf("pull after the scope changed: reset = false, rows %d", len(resp.Rows))
		}
		if len(resp.Rows) != 0 {
			t.Errorf("a reset answer carries %d rows", len(resp.Rows))
		}
		rows, _ = w.inspA.pullAll(t, "")
		for _, k := range []string{key("visit_notes", w.noteB), key("findings", w.findingB), key("checkins", w.checkinB), key("visit_notes", w.noteA)} {
			if _, ok := rows[k]; !ok {
				t.Errorf("after the reset, the fresh snapshot lacks %s", k)
			}
		}

		// An unrelated user's cursor is not reset by someone else's change.
		_, curB := w.secB.pullAll(t, "")
		w.apply(t, syncdb.ServerChange{Table: "teams", RowID: w.teamA, Fields: map[string]any{"name": "Đoàn kiểm tra số 1"}})
		if resp := w.secB.pullPage(t, curB, 100); resp.Reset {
			t.Error("secretary B was told to reset by a change to a team they are not in")
		}
	})
}
