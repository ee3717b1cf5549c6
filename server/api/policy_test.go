package api

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"dicoso/server/auth"
)

// matrixRoles are the roles of sync/plan; "" is a caller without a token.
var matrixRoles = []string{
	auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice, auth.RoleDepartment,
	auth.RoleSecretary, auth.RoleInspector, auth.RoleUnitLiaison,
}

// roleMatrix is who may call each /api/v1 route, written out independently
// of policy.go: the test is the second opinion. public routes need no token;
// the others admit exactly the roles listed (nil: every logged-in user).
type matrixEntry struct {
	public bool
	roles  []string
}

func roleMatrix() map[string]matrixEntry {
	const (
		admin  = auth.RoleAdmin
		ic     = auth.RoleInspectionCommittee
		office = auth.RoleOffice
	)
	m := map[string]matrixEntry{
		"POST /api/v1/auth/login":   {public: true},
		"POST /api/v1/auth/refresh": {public: true},
		"POST /api/v1/auth/logout":  {public: true},

		"GET /api/v1/me":                  {},
		"GET /api/v1/users":               {},
		"GET /api/v1/users/:id":           {},
		"POST /api/v1/users":              {roles: []string{admin}},
		"PATCH /api/v1/users/:id":         {roles: []string{admin}},
		"DELETE /api/v1/users/:id":        {roles: []string{admin}},
		"POST /api/v1/me/password":        {},
		"POST /api/v1/users/:id/password": {roles: []string{admin}},

		"POST /api/v1/sync/push": {},
		"POST /api/v1/sync/pull": {},

		"PUT /api/v1/attachments/:sha256": {},
		"GET /api/v1/attachments/:sha256": {},

		"GET /api/v1/history/:table/:id":     {roles: []string{admin, ic, office}},
		"GET /api/v1/conflicts":              {roles: []string{admin, ic, office}},
		"POST /api/v1/conflicts/:id/resolve": {roles: []string{admin, ic, office}},
		"POST /api/v1/units/:id/decision":    {roles: []string{admin, ic, office}},
		"POST /api/v1/plans":                 {roles: []string{admin, ic}},
		"PATCH /api/v1/plans/:id":            {roles: []string{admin, ic}},
		"DELETE /api/v1/plans/:id":           {roles: []string{admin}},
		"POST /api/v1/campaigns":             {roles: []string{admin, ic, office}}, // office: special campaigns only
		"PATCH /api/v1/campaigns/:id":        {roles: []string{admin, ic, office}},
		"DELETE /api/v1/campaigns/:id":       {roles: []string{admin, ic, office}},
		"POST /api/v1/special_periods":       {roles: []string{admin, ic, office}},
		"PATCH /api/v1/special_periods/:id":  {roles: []string{admin, ic, office}},
		"DELETE /api/v1/special_periods/:id": {roles: []string{admin, ic, office}},
		"POST /api/v1/teams":                 {roles: []string{admin, ic}},
		"PATCH /api/v1/teams/:id":            {roles: []string{admin, ic}},
		"DELETE /api/v1/teams/:id":           {roles: []string{admin, ic}},
		"POST /api/v1/units":                 {roles: []string{admin}},
		"PATCH /api/v1/units/:id":            {roles: []string{admin}},
		"DELETE /api/v1/units/:id":           {roles: []string{admin}},
		"POST /api/v1/clusters":              {roles: []string{admin}},
		"PATCH /api/v1/clusters/:id":         {roles: []string{admin}},
		"DELETE /api/v1/clusters/:id":        {roles: []string{admin}},
		"POST /api/v1/departments":           {roles: []string{admin}},
		"PATCH /api/v1/departments/:id":      {roles: []string{admin}},
		"DELETE /api/v1/departments/:id":     {roles: []string{admin}},
		"GET /api/v1/units":                  {},
		"GET /api/v1/units/:id":              {},
		"GET /api/v1/clusters":               {},
		"GET /api/v1/clusters/:id":           {},
		"GET /api/v1/departments":            {},
		"GET /api/v1/departments/:id":        {},
		"GET /api/v1/plans":                  {},
		"GET /api/v1/plans/:id":              {},
		"GET /api/v1/campaigns":              {},
		"GET /api/v1/campaigns/:id":          {},
		"GET /api/v1/special_periods":        {},
		"GET /api/v1/special_periods/:id":    {},
		"GET /api/v1/teams":                  {},
		"GET /api/v1/teams/:id":              {},

		// Reports: the row check narrows secretaries and departments.
		"GET /api/v1/reports/field-days":    {roles: []string{admin, ic, office, auth.RoleSecretary}},
		"GET /api/v1/reports/coverage":      {roles: []string{admin, ic, office, auth.RoleSecretary, auth.RoleDepartment}},
		"GET /api/v1/reports/findings":      {roles: []string{admin, ic, office, auth.RoleDepartment}},
		"GET /api/v1/reports/findings.xlsx": {roles: []string{admin, ic, office, auth.RoleDepartment}},
		// Notes: everyone, each held to their read scope (reports_notes_test.go).
		"GET /api/v1/reports/notes":                     {},
		"GET /api/v1/reports/notes/:id":                 {},
		"GET /api/v1/reports/activity/trips":            {},
		"GET /api/v1/reports/activity/checkins":         {},
		"GET /api/v1/reports/findings/:id/follow-ups":   {},
		"GET /api/v1/reports/coverage.xlsx":             {roles: []string{admin, ic, office, auth.RoleSecretary, auth.RoleDepartment}},
		"GET /api/v1/reports/field-days.xlsx":           {roles: []string{admin, ic, office, auth.RoleSecretary}},
		"GET /api/v1/reports/campaigns/:id/report.docx": {roles: []string{admin, ic, office}},
		"GET /api/v1/reports/notices/:id/notice.docx":   {roles: []string{admin, ic, office}},
		// The cluster's leading secretary and department: the handler's row check.
		"GET /api/v1/reports/briefings/:id/minutes.docx": {roles: []string{admin, ic, office, auth.RoleSecretary, auth.RoleDepartment}},
	}
	return m
}

// matrixRoutes are the registered /api/v1 operations (catch-alls and
// echo's not-found entries are not operations).
func matrixRoutes(e *echo.Echo) []*echo.Route {
	var out []*echo.Route
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || strings.Contains(r.Path, "*") || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Method+out[i].Path < out[j].Method+out[j].Path })
	return out
}

// TestRoleMatrix calls every registered /api/v1 route as every role and
// without a token. A refused caller gets 403 forbidden (401 without a
// token); an admitted one gets anything else — here mostly 400 or 404,
// since the requests carry empty bodies and unknown ids, so nothing is
// written. A route missing from roleMatrix fails the test.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	callers := map[string]*device{"": {}} // "": no token
	for _, role := range matrixRoles {
		callers[role] = e.addUser(t, "nguoi."+strings.ReplaceAll(role, "_", "."), role)
	}
	matrix := roleMatrix()
	seen := map[string]bool{}
	for _, r := range matrixRoutes(e.srv.Handler()) {
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := matrix[key]
		if !ok {
			t.Errorf("%s is registered but has no entry in roleMatrix (policy_test.go): say who may call it", key)
			continue
		}
		path := r.Path
		for _, part := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(part, ":") {
				path = strings.Replace(path, part, uuid.NewString(), 1)
			}
		}
		for _, role := range append([]string{""}, matrixRoles...) {
			c := callers[role]
			var body any = "{}"
			switch key {
			case "POST /api/v1/sync/push":
				body = map[string]any{"protocol": 1, "device_id": c.id, "changes": []any{}}
			case "POST /api/v1/sync/pull":
				body = map[string]any{"protocol": 1, "device_id": c.id, "cursor": "", "limit": 1}
			}
			if r.Method == http.MethodGet || r.Method == http.MethodDelete {
				body = nil
			}
			res := e.call(t, r.Method, path, c.token, body)
			who := role
			if who == "" {
				who = "no token"
			}
			switch {
			case want.public:
				if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
					t.Errorf("%s as %s: %d, want it open to anyone; body %s", key, who, res.status, res.body)
				}
			case role == "":
				res.wantError(t, http.StatusUnauthorized, "unauthorized")
			case want.roles == nil || slices.Contains(want.roles, role):
				if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500 {
					t.Errorf("%s as %s: %d, want it admitted; body %s", key, who, res.status, res.body)
				}
				if strings.HasPrefix(key, "POST /api/v1/sync/") && res.status != http.StatusOK {
					t.Errorf("%s as %s for its own device: %d, want 200; body %s", key, who, res.status, res.body)
				}
			default:
				if res.status != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403 forbidden; body %s", key, who, res.status, res.body)
					continue
				}
				res.wantError(t, http.StatusForbidden, "forbidden")
			}
		}
	}
	for key := range matrix {
		if !seen[key] {
			t.Errorf("roleMatrix names %s, which is not registered", key)
		}
	}
}

// TestOfficeWritesOnlySpecialCampaigns: the Office organises the visits of
// Youth Month and the Summer Volunteer Campaign (plan III.1), so it may
// write campaigns of kind special, and no others, nor turn one into
// another kind.
func TestOfficeWritesOnlySpecialCampaigns(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)
	office := e.addUser(t, "van.phong", auth.RoleOffice)

	before := e.storeCounts(t)
	e.call(t, http.MethodPost, "/api/v1/campaigns", office.token, map[string]any{
		"plan_id": w.planID, "kind": "periodic", "name": "Kiểm tra định kỳ đợt 2",
	}).wantError(t, http.StatusForbidden, "forbidden")
	e.call(t, http.MethodPatch, "/api/v1/campaigns/"+w.campaignID, office.token, map[string]any{"name": "Đổi tên"}).
		wantError(t, http.StatusForbidden, "forbidden")
	e.call(t, http.MethodDelete, "/api/v1/campaigns/"+w.campaignID, office.token, nil).
		wantError(t, http.StatusForbidden, "forbidden")
	if after := e.storeCounts(t); !sameCounts(before, after) {
		t.Errorf("refused writes changed the store: %v -> %v", before, after)
	}

	var summer map[string]any
	e.call(t, http.MethodPost, "/api/v1/campaigns", office.token, map[string]any{
		"plan_id": w.planID, "kind": "special", "name": "Chiến dịch Thanh niên tình nguyện Hè 2021",
		"starts_on": "2021-06-01", "ends_on": "2021-08-31",
	}).decode(t, http.StatusCreated, &summer)
	id := summer["id"].(string)
	e.call(t, http.MethodPatch, "/api/v1/campaigns/"+id, office.token, map[string]any{"kind": "thematic"}).
		wantError(t, http.StatusForbidden, "forbidden")
	e.call(t, http.MethodPatch, "/api/v1/campaigns/"+id, office.token, map[string]any{"content": "Thăm các đội hình tình nguyện"}).
		decode(t, http.StatusOK, nil)
	e.call(t, http.MethodDelete, "/api/v1/campaigns/"+id, office.token, nil).decode(t, http.StatusNoContent, nil)

	// The Inspection Committee may write any campaign; a department none.
	ic := e.addUser(t, "ban.kiem.tra", auth.RoleInspectionCommittee)
	e.call(t, http.MethodPatch, "/api/v1/campaigns/"+w.campaignID, ic.token, map[string]any{"content": "Nghị quyết Đại hội XIII"}).
		decode(t, http.StatusOK, nil)
	dept := e.addUser(t, "ban.phong.trao", auth.RoleDepartment)
	e.call(t, http.MethodPatch, "/api/v1/campaigns/"+w.campaignID, dept.token, map[string]any{"content": "x"}).
		wantError(t, http.StatusForbidden, "forbidden")
}

// TestEveryPolicyRuleIsUsed keeps the policy table honest: each resource
// and action it lists guards a registered route, so no rule is dead text.
func TestEveryPolicyRuleIsUsed(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for key := range roleMatrix() {
		method, path, _ := strings.Cut(key, " ")
		resource := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
		if strings.HasPrefix(path, "/api/v1/reports/notes") || strings.HasPrefix(path, "/api/v1/reports/activity/") || strings.HasSuffix(path, "/follow-ups") {
			resource = "rows" // synced rows read over the API, scoped per row (policy.go)
		}
		var act action
		switch {
		case resource == "sync":
			act = action(strings.TrimPrefix(path, "/api/v1/sync/"))
		case method == http.MethodGet:
			act = actRead
		case method == http.MethodPost && strings.HasSuffix(path, "/decision"):
			act = actDecide
		case method == http.MethodPost && (strings.HasSuffix(path, "/resolve") || strings.HasSuffix(path, "/password")):
			act = actUpdate
		case method == http.MethodPost || method == http.MethodPut:
			act = actCreate
		case method == http.MethodPatch:
			act = actUpdate
		case method == http.MethodDelete:
			act = actDelete
		}
		used[resource+" "+string(act)] = true
	}
	for resource, rp := range accessPolicy {
		for act := range rp.actions {
			if !used[resource+" "+string(act)] {
				t.Errorf("policy rule %s %s guards no route in roleMatrix", act, resource)
			}
		}
	}
}
