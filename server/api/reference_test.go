package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/sync/schema"
)

// create posts a row as admin and returns it.
func (ts *testServer) create(t *testing.T, table string, body map[string]any) map[string]any {
	t.Helper()
	var row map[string]any
	ts.call(t, http.MethodPost, "/api/v1/"+table, ts.admin.token, body).decode(t, http.StatusCreated, &row)
	return row
}

func (ts *testServer) list(t *testing.T, table, query string) []map[string]any {
	t.Helper()
	var out struct {
		Items []map[string]any `json:"items"`
	}
	ts.call(t, http.MethodGet, "/api/v1/"+table+query, ts.admin.token, nil).decode(t, http.StatusOK, &out)
	if out.Items == nil {
		t.Fatalf("GET %s%s: items is not an array", table, query)
	}
	return out.Items
}

// storeCounts is every row of every synced table (live or tombstoned) and
// every change-log entry: what a refused write must leave as it was.
func (ts *testServer) storeCounts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	tables := []string{"change_log"}
	for _, tb := range schema.Tables() {
		tables = append(tables, tb.Name)
	}
	for _, name := range tables {
		var n int
		if err := ts.st.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+name).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// refWorld is what the reference tests build on: a plan, two units, a
// campaign over them and an inspector.
type refWorld struct {
	planID, unitA, unitB, campaignID, inspectorID string
}

func (ts *testServer) world(t *testing.T) refWorld {
	t.Helper()
	var w refWorld
	w.planID = ts.create(t, "plans", map[string]any{
		"year": 2021, "number": "356-KH/TWĐTN-BKT", "issued_on": "2021-02-09",
		"title": "Kế hoạch kiểm tra, đi cơ sở năm 2021", "min_field_days": 60,
	})["id"].(string)
	w.unitA = ts.create(t, "units", map[string]any{"code": "01", "name": "Thành đoàn Hà Nội", "kind": "province",
		"lat": 21.0285, "lng": 105.8542})["id"].(string)
	w.unitB = ts.create(t, "units", map[string]any{"code": "79", "name": "Thành đoàn Thành phố Hồ Chí Minh", "kind": "province",
		"lat": 10.7769, "lng": 106.7009})["id"].(string)
	w.campaignID = ts.create(t, "campaigns", map[string]any{
		"plan_id": w.planID, "kind": "thematic", "name": "Kiểm tra chuyên đề",
		"starts_on": "2021-03-25", "ends_on": "2021-04-05", "unit_ids": []string{w.unitA},
	})["id"].(string)
	w.inspectorID = ts.addUser(t, "kiemtra.vien", auth.RoleInspector).userID
	return w
}

// TestReferenceRoundTrip: for units, campaigns and teams, a row created over
// REST reads back, patches field by field, is found by its filters, and
// once deleted leaves every read and reaches devices as a tombstone.
func TestReferenceRoundTrip(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)

	cases := []struct {
		table  string
		create map[string]any
		patch  map[string]any
		// match finds the row, miss does not.
		match, miss string
	}{
		{
			table: "units",
			create: map[string]any{"id": "6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B", "code": "31", "name": "Thành đoàn Hải Phòng",
				"kind": "province", "lat": 20.8449, "lng": 106.6881, "valid_from": "1955-05-13", "source": "Tổng cục Thống kê"},
			patch: map[string]any{"name": "Thành đoàn Hải Phòng (sửa)", "valid_to": "2025-06-30", "replaced_by_id": w.unitA},
			match: "?kind=province&code=31", miss: "?kind=district",
		},
		{
			table: "campaigns",
			create: map[string]any{"plan_id": w.planID, "kind": "periodic", "name": "Kiểm tra định kỳ đợt 1",
				"content": "Kiểm tra việc thực hiện Chương trình công tác đoàn", "starts_on": "2021-06-01", "ends_on": "2021-06-15",
				"unit_ids": []string{w.unitA, w.unitB}},
			patch: map[string]any{"ends_on": "2021-06-20", "unit_ids": []string{w.unitB}},
			match: "?plan_id=" + w.planID + "&kind=periodic&unit_ids=" + w.unitB, miss: "?unit_ids=" + w.unitA,
		},
		{
			table: "teams",
			create: map[string]any{"campaign_id": w.campaignID, "name": "Đoàn kiểm tra số 1", "leader_id": w.inspectorID,
				"member_ids": []string{w.inspectorID}, "unit_ids": []string{w.unitA}},
			patch: map[string]any{"name": "Đoàn kiểm tra số 1 (bổ sung)", "member_ids": []string{}, "leader_id": nil},
			match: "?campaign_id=" + w.campaignID + "&leader_id=", miss: "?leader_id=" + w.inspectorID,
		},
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			res := e.call(t, http.MethodPost, "/api/v1/"+tc.table, e.admin.token, tc.create)
			var created map[string]any
			res.decode(t, http.StatusCreated, &created)
			id, _ := created["id"].(string)
			if !schema.ValidID(id) {
				t.Fatalf("created row has id %v", created["id"])
			}
			if given, ok := tc.create["id"].(string); ok && id != strings.ToLower(given) {
				t.Errorf("id %s, want the given %s in lower case", id, given)
			}
			if loc := res.header.Get("Location"); loc != "/api/v1/"+tc.table+"/"+id {
				t.Errorf("Location %q", loc)
			}
			tbl, _ := schema.Lookup(tc.table)
			for _, name := range tbl.Columns() {
				if _, ok := created[name]; !ok {
					t.Errorf("the row lacks field %s: %v", name, created)
				}
			}
			assertFields(t, "created", created, tc.create)

			var got map[string]any
			e.call(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).decode(t, http.StatusOK, &got)
			if !jsonEqual(t, got, created) {
				t.Errorf("GET = %v, want the created row %v", got, created)
			}

			var patched map[string]any
			e.call(t, http.MethodPatch, "/api/v1/"+tc.table+"/"+id, e.admin.token, tc.patch).decode(t, http.StatusOK, &patched)
			assertFields(t, "patched", patched, tc.patch)
			for k, v := range created {
				if _, changed := tc.patch[k]; !changed && !jsonEqual(t, patched[k], v) {
					t.Errorf("PATCH changed %s from %v to %v without being asked", k, v, patched[k])
				}
			}
			e.call(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).decode(t, http.StatusOK, &got)
			if !jsonEqual(t, got, patched) {
				t.Errorf("GET after PATCH = %v, want %v", got, patched)
			}

			if !holdsID(e.list(t, tc.table, ""), id) {
				t.Error("the unfiltered list lacks the row")
			}
			if !holdsID(e.list(t, tc.table, tc.match), id) {
				t.Errorf("the list filtered by %s lacks the row", tc.match)
			}
			if holdsID(e.list(t, tc.table, tc.miss), id) {
				t.Errorf("the list filtered by %s holds the row", tc.miss)
			}

			if r := e.call(t, http.MethodDelete, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil); r.status != http.StatusNoContent {
				t.Fatalf("DELETE: %d %s", r.status, r.body)
			}
			e.call(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).wantError(t, http.StatusNotFound, "not_found")
			if holdsID(e.list(t, tc.table, ""), id) {
				t.Error("the list still holds the deleted row")
			}
			e.call(t, http.MethodDelete, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).wantError(t, http.StatusNotFound, "not_found")
			e.call(t, http.MethodPatch, "/api/v1/"+tc.table+"/"+id, e.admin.token, map[string]any{"name": "x"}).
				wantError(t, http.StatusNotFound, "not_found")

			// A device pulling from scratch learns of the row as a tombstone.
			rows, _ := e.admin.pullAll(t, "")
			tomb, ok := rows[key(tc.table, id)]
			if !ok || !tomb.Deleted {
				t.Fatalf("pull gives %+v for the deleted row, want a tombstone", tomb)
			}
		})
	}
}

// assertFields checks that row holds each wanted value (as JSON).
func assertFields(t *testing.T, what string, row, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if k == "id" {
			continue
		}
		if !jsonEqual(t, row[k], v) {
			t.Errorf("%s row: %s = %v, want %v", what, k, row[k], v)
		}
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

func holdsID(rows []map[string]any, id string) bool {
	for _, r := range rows {
		if r["id"] == id {
			return true
		}
	}
	return false
}

// TestReferenceRefusesBadBodies: every malformed or invalid write is
// answered 4xx in the envelope, names the field at fault, and leaves the
// store exactly as it was (no row, no change-log entry).
func TestReferenceRefusesBadBodies(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)
	unitA := "/api/v1/units/" + w.unitA
	ghost := uuid.NewString()
	gone := e.create(t, "departments", map[string]any{"name": "Ban đã giải thể"})["id"].(string)
	e.call(t, http.MethodDelete, "/api/v1/departments/"+gone, e.admin.token, nil).decode(t, http.StatusNoContent, nil)

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field, rule  string
	}{
		{"unknown field", "POST", "/api/v1/units", map[string]any{"name": "X", "kind": "province", "population": 8}, 400, "unknown_field", "", ""},
		{"unknown field on patch", "PATCH", unitA, map[string]any{"deleted": true}, 400, "unknown_field", "", ""},
		{"wrong type", "POST", "/api/v1/units", map[string]any{"name": "X", "kind": "province", "lat": "21.0"}, 400, "validation_failed", "lat", "number"},
		{"name not a string", "POST", "/api/v1/departments", map[string]any{"name": 7}, 400, "validation_failed", "name", "string"},
		{"enum", "POST", "/api/v1/units", map[string]any{"name": "X", "kind": "commune"}, 400, "validation_failed", "kind", "oneof"},
		{"out of range", "PATCH", unitA, map[string]any{"lat": 123.0}, 400, "validation_failed", "lat", "number"},
		{"bad date", "POST", "/api/v1/special_periods", map[string]any{"plan_id": w.planID, "name": "Tháng Thanh niên", "starts_on": "01/03/2021"}, 400, "validation_failed", "starts_on", "date"},
		{"list not a list", "PATCH", "/api/v1/campaigns/" + w.campaignID, map[string]any{"unit_ids": w.unitA}, 400, "validation_failed", "unit_ids", "list"},
		{"too long", "POST", "/api/v1/departments", map[string]any{"name": strings.Repeat("á", 301)}, 400, "validation_failed", "name", "max"},
		{"missing required", "POST", "/api/v1/units", map[string]any{"name": "Tỉnh đoàn Lào Cai"}, 400, "validation_failed", "kind", "required"},
		{"blank required", "POST", "/api/v1/clusters", map[string]any{"name": "  "}, 400, "validation_failed", "name", "required"},
		{"null required on patch", "PATCH", "/api/v1/campaigns/" + w.campaignID, map[string]any{"plan_id": nil}, 400, "validation_failed", "plan_id", "required"},
		{"dangling reference", "POST", "/api/v1/campaigns", map[string]any{"plan_id": ghost, "kind": "special", "name": "Hè"}, 400, "validation_failed", "plan_id", "exists"},
		{"dangling list reference", "POST", "/api/v1/teams", map[string]any{"campaign_id": w.campaignID, "name": "Đoàn 2", "member_ids": []string{ghost}}, 400, "validation_failed", "member_ids", "exists"},
		{"reference to a deleted row", "POST", "/api/v1/clusters", map[string]any{"name": "Cụm 1", "lead_department_id": gone}, 400, "validation_failed", "lead_department_id", "exists"},
		{"dangling reference on patch", "PATCH", unitA, map[string]any{"cluster_id": ghost}, 400, "validation_failed", "cluster_id", "exists"},
		{"end before start", "PATCH", "/api/v1/campaigns/" + w.campaignID, map[string]any{"ends_on": "2021-03-01"}, 400, "validation_failed", "ends_on", "gtefield"},
		{"id not a uuid", "POST", "/api/v1/departments", map[string]any{"id": "ban-kiem-tra", "name": "Ban Kiểm tra"}, 400, "validation_failed", "id", "uuid"},
		{"id cannot change", "PATCH", unitA, map[string]any{"id": ghost}, 400, "validation_failed", "id", "readonly"},
		{"id taken", "POST", "/api/v1/units", map[string]any{"id": w.unitA, "name": "X", "kind": "province"}, 409, "id_taken", "", ""},
		{"not JSON", "POST", "/api/v1/units", `{"name": "X",`, 400, "invalid_json", "", ""},
		{"not an object", "POST", "/api/v1/units", `[{"name": "X"}]`, 400, "invalid_json", "", ""},
		{"null body", "PATCH", unitA, `null`, 400, "invalid_json", "", ""},
		{"two values", "POST", "/api/v1/departments", `{"name": "A"} {"name": "B"}`, 400, "invalid_json", "", ""},
		{"empty body", "POST", "/api/v1/departments", "", 400, "invalid_json", "", ""},
		{"still in use", "DELETE", unitA, nil, 409, "in_use", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.storeCounts(t)
			res := e.call(t, tc.method, tc.path, e.admin.token, tc.body)
			env := res.wantError(t, tc.status, tc.code)
			if tc.field != "" {
				var details []fieldError
				if err := json.Unmarshal(env.Error.Details, &details); err != nil {
					t.Fatalf("details %s: %v", env.Error.Details, err)
				}
				found := false
				for _, d := range details {
					found = found || (d.Field == tc.field && d.Rule == tc.rule)
				}
				if !found {
					t.Errorf("details %s do not name field %s with rule %s", env.Error.Details, tc.field, tc.rule)
				}
			}
			if tc.code == "unknown_field" && !bytes.Contains(env.Error.Details, []byte(`"field"`)) {
				t.Errorf("unknown_field details %s do not name the field", env.Error.Details)
			}
			if after := e.storeCounts(t); !sameCounts(before, after) {
				t.Errorf("the store changed: %v -> %v", before, after)
			}
		})
	}

	// A refused write leaves the row's values as they were too.
	var unit map[string]any
	e.call(t, http.MethodGet, unitA, e.admin.token, nil).decode(t, http.StatusOK, &unit)
	if unit["lat"] != 21.0285 || unit["cluster_id"] != nil || unit["name"] != "Thành đoàn Hà Nội" {
		t.Errorf("unit after refused patches: %v", unit)
	}

	t.Run("wrong content type", func(t *testing.T) {
		before := e.storeCounts(t)
		e.call(t, http.MethodPost, "/api/v1/departments", e.admin.token, []byte(`{"name":"Ban Kiểm tra"}`), "Content-Type", "text/plain").
			wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		if after := e.storeCounts(t); !sameCounts(before, after) {
			t.Errorf("the store changed: %v -> %v", before, after)
		}
	})
}

// TestReferenceNotFoundAndFilters: ids that name no live row are 404 in the
// envelope; filters are checked like bodies.
func TestReferenceNotFoundAndFilters(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)
	ghost := uuid.NewString()
	for _, table := range []string{"units", "clusters", "departments", "plans", "campaigns", "special_periods", "teams"} {
		for _, id := range []string{ghost, "not-a-uuid"} {
			path := "/api/v1/" + table + "/" + id
			e.call(t, http.MethodGet, path, e.admin.token, nil).wantError(t, http.StatusNotFound, "not_found")
			e.call(t, http.MethodPatch, path, e.admin.token, map[string]any{}).wantError(t, http.StatusNotFound, "not_found")
			e.call(t, http.MethodDelete, path, e.admin.token, nil).wantError(t, http.StatusNotFound, "not_found")
		}
	}

	e.call(t, http.MethodGet, "/api/v1/units?province=01", e.admin.token, nil).wantError(t, http.StatusBadRequest, "unknown_filter")
	e.call(t, http.MethodGet, "/api/v1/units?kind=commune", e.admin.token, nil).wantError(t, http.StatusBadRequest, "validation_failed")
	e.call(t, http.MethodGet, "/api/v1/units?lat=north", e.admin.token, nil).wantError(t, http.StatusBadRequest, "validation_failed")
	e.call(t, http.MethodGet, "/api/v1/campaigns?plan_id=12", e.admin.token, nil).wantError(t, http.StatusBadRequest, "validation_failed")
	e.call(t, http.MethodGet, "/api/v1/units?kind=province&kind=district", e.admin.token, nil).wantError(t, http.StatusBadRequest, "validation_failed")

	// Filters select exactly: by number, by null, by list membership.
	if got := e.list(t, "units", "?lat=21.0285"); len(got) != 1 || got[0]["id"] != w.unitA {
		t.Errorf("?lat=21.0285 gives %v", got)
	}
	if got := e.list(t, "units", "?cluster_id="); len(got) != 2 {
		t.Errorf("?cluster_id= (null) gives %d units, want 2", len(got))
	}
	if got := e.list(t, "campaigns", "?unit_ids="+strings.ToUpper(w.unitA)); len(got) != 1 {
		t.Errorf("?unit_ids=<unit A> gives %d campaigns, want 1", len(got))
	}
	if got := e.list(t, "plans", "?year=2020"); len(got) != 0 {
		t.Errorf("?year=2020 gives %v", got)
	}
}

// TestReferenceDeleteRefusedWhileNamed: a row that live rows name stays
// until they stop naming it; then it goes.
func TestReferenceDeleteRefusedWhileNamed(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)
	env := e.call(t, http.MethodDelete, "/api/v1/plans/"+w.planID, e.admin.token, nil).wantError(t, http.StatusConflict, "in_use")
	if !bytes.Contains(env.Error.Details, []byte(`"campaigns"`)) {
		t.Errorf("details %s do not name the campaigns using the plan", env.Error.Details)
	}
	e.call(t, http.MethodDelete, "/api/v1/campaigns/"+w.campaignID, e.admin.token, nil).decode(t, http.StatusNoContent, nil)
	e.call(t, http.MethodDelete, "/api/v1/plans/"+w.planID, e.admin.token, nil).decode(t, http.StatusNoContent, nil)
}
