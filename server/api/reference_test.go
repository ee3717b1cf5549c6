package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// refEnv is the real API, with its one sync engine, on a real store file,
// served over HTTP, with a logged-in admin and any users a test adds.
type refEnv struct {
	url   string
	st    *store.Store
	srv   *Server
	admin refCaller
}

// refCaller is a logged-in user on one device.
type refCaller struct {
	userID, device, token string
}

const refAdminPassword = "ref-admin-password-2021"

func newRefEnv(t *testing.T) *refEnv {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	sdb := syncdb.New(st, syncdb.Options{})
	t.Cleanup(sdb.Close)
	svc := auth.Ephemeral(st, auth.Options{Sync: sdb})
	if created, _, err := svc.BootstrapAdmin(ctx, refAdminPassword); err != nil || !created {
		t.Fatalf("bootstrap admin: created=%v err=%v", created, err)
	}
	s := New(Deps{Config: cfg, Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Auth: svc, Sync: sdb})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	e := &refEnv{url: hs.URL, st: st, srv: s}
	e.admin = e.login(t, "admin", refAdminPassword)
	return e
}

// login logs username in on a device of its own.
func (e *refEnv) login(t *testing.T, username, password string) refCaller {
	t.Helper()
	device := "dev-" + strings.NewReplacer(".", "-").Replace(username)
	var tr tokenResponse
	e.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{
		"username": username, "password": password, "device": map[string]string{"id": device, "name": username},
	}).into(t, http.StatusOK, &tr)
	return refCaller{userID: tr.User.ID, device: device, token: tr.AccessToken}
}

// addUser creates a user holding roles (as admin, through the API) and logs
// them in.
func (e *refEnv) addUser(t *testing.T, username string, roles ...string) refCaller {
	t.Helper()
	const password = "field-days-60-a-year"
	e.do(t, http.MethodPost, "/api/v1/users", e.admin.token, map[string]any{
		"username": username, "password": password, "full_name": "Người dùng " + username, "roles": roles,
	}).into(t, http.StatusCreated, nil)
	return e.login(t, username, password)
}

// refReply is one HTTP answer.
type refReply struct {
	status int
	header http.Header
	body   []byte
}

// do sends body as JSON (a string is sent as is, nil sends nothing).
func (e *refEnv) do(t *testing.T, method, path, token string, body any) refReply {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return refReply{status: res.StatusCode, header: res.Header, body: raw}
}

// into checks the status and decodes the body into dst (when not nil).
func (r refReply) into(t *testing.T, status int, dst any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if dst != nil {
		if err := json.Unmarshal(r.body, dst); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// refError is the design §4 envelope with field-level details.
type refError struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

// envelope checks that the answer is exactly the error envelope with status
// and code.
func (r refReply) envelope(t *testing.T, status int, code string) refError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	var env refError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("not the error envelope: %v; body %s", err, r.body)
	}
	if env.Error.Code != code || env.Error.Message == "" {
		t.Fatalf("envelope code %q message %q, want code %q", env.Error.Code, env.Error.Message, code)
	}
	return env
}

// create posts a row as admin and returns it.
func (e *refEnv) create(t *testing.T, table string, body map[string]any) map[string]any {
	t.Helper()
	var row map[string]any
	e.do(t, http.MethodPost, "/api/v1/"+table, e.admin.token, body).into(t, http.StatusCreated, &row)
	return row
}

func (e *refEnv) list(t *testing.T, table, query string) []map[string]any {
	t.Helper()
	var out struct {
		Items []map[string]any `json:"items"`
	}
	e.do(t, http.MethodGet, "/api/v1/"+table+query, e.admin.token, nil).into(t, http.StatusOK, &out)
	if out.Items == nil {
		t.Fatalf("GET %s%s: items is not an array", table, query)
	}
	return out.Items
}

// pullAll pulls everything a caller's device may read, page by page.
func (e *refEnv) pullAll(t *testing.T, c refCaller) []protocol.Row {
	t.Helper()
	var rows []protocol.Row
	cursor := ""
	for range 100 {
		var resp protocol.PullResponse
		e.do(t, http.MethodPost, "/api/v1/sync/pull", c.token, map[string]any{
			"protocol": 1, "device_id": c.device, "cursor": cursor, "limit": 200,
		}).into(t, http.StatusOK, &resp)
		rows = append(rows, resp.Rows...)
		if !resp.HasMore {
			return rows
		}
		cursor = resp.Cursor
	}
	t.Fatal("pull never ended")
	return nil
}

// storeCounts is every row of every synced table (live or tombstoned) and
// every change-log entry: what a refused write must leave as it was.
func (e *refEnv) storeCounts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	tables := []string{"change_log"}
	for _, tb := range schema.Tables() {
		tables = append(tables, tb.Name)
	}
	for _, name := range tables {
		var n int
		if err := e.st.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+name).Scan(&n); err != nil {
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

func (e *refEnv) world(t *testing.T) refWorld {
	t.Helper()
	var w refWorld
	w.planID = e.create(t, "plans", map[string]any{
		"year": 2021, "number": "356-KH/TWĐTN-BKT", "issued_on": "2021-02-09",
		"title": "Kế hoạch kiểm tra, đi cơ sở năm 2021", "min_field_days": 60,
	})["id"].(string)
	w.unitA = e.create(t, "units", map[string]any{"code": "01", "name": "Thành đoàn Hà Nội", "kind": "province",
		"lat": 21.0285, "lng": 105.8542})["id"].(string)
	w.unitB = e.create(t, "units", map[string]any{"code": "79", "name": "Thành đoàn Thành phố Hồ Chí Minh", "kind": "province",
		"lat": 10.7769, "lng": 106.7009})["id"].(string)
	w.campaignID = e.create(t, "campaigns", map[string]any{
		"plan_id": w.planID, "kind": "thematic", "name": "Kiểm tra chuyên đề",
		"starts_on": "2021-03-25", "ends_on": "2021-04-05", "unit_ids": []string{w.unitA},
	})["id"].(string)
	w.inspectorID = e.addUser(t, "kiemtra.vien", auth.RoleInspector).userID
	return w
}

// TestReferenceRoundTrip: for units, campaigns and teams, a row created over
// REST reads back, patches field by field, is found by its filters, and
// once deleted leaves every read and reaches devices as a tombstone.
func TestReferenceRoundTrip(t *testing.T) {
	t.Parallel()
	e := newRefEnv(t)
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
			res := e.do(t, http.MethodPost, "/api/v1/"+tc.table, e.admin.token, tc.create)
			var created map[string]any
			res.into(t, http.StatusCreated, &created)
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
			e.do(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).into(t, http.StatusOK, &got)
			if !jsonEqual(t, got, created) {
				t.Errorf("GET = %v, want the created row %v", got, created)
			}

			var patched map[string]any
			e.do(t, http.MethodPatch, "/api/v1/"+tc.table+"/"+id, e.admin.token, tc.patch).into(t, http.StatusOK, &patched)
			assertFields(t, "patched", patched, tc.patch)
			for k, v := range created {
				if _, changed := tc.patch[k]; !changed && !jsonEqual(t, patched[k], v) {
					t.Errorf("PATCH changed %s from %v to %v without being asked", k, v, patched[k])
				}
			}
			e.do(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).into(t, http.StatusOK, &got)
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

			if r := e.do(t, http.MethodDelete, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil); r.status != http.StatusNoContent {
				t.Fatalf("DELETE: %d %s", r.status, r.body)
			}
			e.do(t, http.MethodGet, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).envelope(t, http.StatusNotFound, "not_found")
			if holdsID(e.list(t, tc.table, ""), id) {
				t.Error("the list still holds the deleted row")
			}
			e.do(t, http.MethodDelete, "/api/v1/"+tc.table+"/"+id, e.admin.token, nil).envelope(t, http.StatusNotFound, "not_found")
			e.do(t, http.MethodPatch, "/api/v1/"+tc.table+"/"+id, e.admin.token, map[string]any{"name": "x"}).
				envelope(t, http.StatusNotFound, "not_found")

			// A device pulling from scratch learns of the row as a tombstone.
			var tomb *protocol.Row
			for _, row := range e.pullAll(t, e.admin) {
				if row.Table == tc.table && row.RowID == id {
					tomb = &row
				}
			}
			if tomb == nil || !tomb.Deleted {
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
	e := newRefEnv(t)
	w := e.world(t)
	unitA := "/api/v1/units/" + w.unitA
	ghost := uuid.NewString()
	gone := e.create(t, "departments", map[string]any{"name": "Ban đã giải thể"})["id"].(string)
	e.do(t, http.MethodDelete, "/api/v1/departments/"+gone, e.admin.token, nil).into(t, http.StatusNoContent, nil)

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
			res := e.do(t, tc.method, tc.path, e.admin.token, tc.body)
			env := res.envelope(t, tc.status, tc.code)
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
	e.do(t, http.MethodGet, unitA, e.admin.token, nil).into(t, http.StatusOK, &unit)
	if unit["lat"] != 21.0285 || unit["cluster_id"] != nil || unit["name"] != "Thành đoàn Hà Nội" {
		t.Errorf("unit after refused patches: %v", unit)
	}

	t.Run("wrong content type", func(t *testing.T) {
		before := e.storeCounts(t)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.url+"/api/v1/departments",
			strings.NewReader(`{"name":"Ban Kiểm tra"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+e.admin.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		refReply{status: res.StatusCode, body: raw}.envelope(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		if after := e.storeCounts(t); !sameCounts(before, after) {
			t.Errorf("the store changed: %v -> %v", before, after)
		}
	})
}

// TestReferenceNotFoundAndFilters: ids that name no live row are 404 in the
// envelope; filters are checked like bodies.
func TestReferenceNotFoundAndFilters(t *testing.T) {
	t.Parallel()
	e := newRefEnv(t)
	w := e.world(t)
	ghost := uuid.NewString()
	for _, table := range []string{"units", "clusters", "departments", "plans", "campaigns", "special_periods", "teams"} {
		for _, id := range []string{ghost, "not-a-uuid"} {
			path := "/api/v1/" + table + "/" + id
			e.do(t, http.MethodGet, path, e.admin.token, nil).envelope(t, http.StatusNotFound, "not_found")
			e.do(t, http.MethodPatch, path, e.admin.token, map[string]any{}).envelope(t, http.StatusNotFound, "not_found")
			e.do(t, http.MethodDelete, path, e.admin.token, nil).envelope(t, http.StatusNotFound, "not_found")
		}
	}

	e.do(t, http.MethodGet, "/api/v1/units?province=01", e.admin.token, nil).envelope(t, http.StatusBadRequest, "unknown_filter")
	e.do(t, http.MethodGet, "/api/v1/units?kind=commune", e.admin.token, nil).envelope(t, http.StatusBadRequest, "validation_failed")
	e.do(t, http.MethodGet, "/api/v1/units?lat=north", e.admin.token, nil).envelope(t, http.StatusBadRequest, "validation_failed")
	e.do(t, http.MethodGet, "/api/v1/campaigns?plan_id=12", e.admin.token, nil).envelope(t, http.StatusBadRequest, "validation_failed")
	e.do(t, http.MethodGet, "/api/v1/units?kind=province&kind=district", e.admin.token, nil).envelope(t, http.StatusBadRequest, "validation_failed")

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
	e := newRefEnv(t)
	w := e.world(t)
	env := e.do(t, http.MethodDelete, "/api/v1/plans/"+w.planID, e.admin.token, nil).envelope(t, http.StatusConflict, "in_use")
	if !bytes.Contains(env.Error.Details, []byte(`"campaigns"`)) {
		t.Errorf("details %s do not name the campaigns using the plan", env.Error.Details)
	}
	e.do(t, http.MethodDelete, "/api/v1/campaigns/"+w.campaignID, e.admin.token, nil).into(t, http.StatusNoContent, nil)
	e.do(t, http.MethodDelete, "/api/v1/plans/"+w.planID, e.admin.token, nil).into(t, http.StatusNoContent, nil)
}
