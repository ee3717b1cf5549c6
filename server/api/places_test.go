package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/sync/protocol"
)

type unitJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	Status       string   `json:"status"`
	ProposedBy   *string  `json:"proposed_by"`
	ReplacedByID *string  `json:"replaced_by_id"`
	ParentID     *string  `json:"parent_id"`
	Lat          *float64 `json:"lat"`
}

// Over HTTP: a secretary proposes a place by push; GET /units?status=
// proposed lists it for everyone; only headquarters decide on it, and
// never on their own proposal; a merge names a confirmed unit; the status
// and the proposer are not edited over the plain REST routes.
func TestPlaceDecisionOverREST(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withSeeds(), withAdmin())
	lan := e.addAccount(t, account{username: "bt.lan", roles: []string{auth.RoleSecretary}})
	officeSec := e.addAccount(t, account{username: "vp.binh", roles: []string{auth.RoleOffice, auth.RoleSecretary}})
	callers := map[string]*device{auth.RoleAdmin: e.admin}
	for _, role := range []string{auth.RoleInspectionCommittee, auth.RoleOffice, auth.RoleDepartment, auth.RoleSecretary, auth.RoleInspector, auth.RoleUnitLiaison} {
		callers[role] = e.addUser(t, "nguoi."+role, role)
	}
	propose := func(d *device, name string) string {
		t.Helper()
		id := uuid.NewString()
		res := d.pushResults(t, "", d.change("units", id, map[string]any{"name": name, "kind": "grassroots", "parent_id": unitLaiChau,
			"lat": 22.5, "lng": 103.5, "status": "proposed"}))
		if res[0].Status != protocol.StatusApplied {
			t.Fatalf("%s proposes %s: %+v", d.id, name, res[0])
		}
		return id
	}
	place := propose(lan, "UBND xã Tả Phìn")

	var list struct{ Items []unitJSON }
	e.get(t, callers[auth.RoleUnitLiaison], "/api/v1/units?status=proposed").decode(t, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != place || list.Items[0].ProposedBy == nil || *list.Items[0].ProposedBy != lan.userID ||
		list.Items[0].Kind != "grassroots" || list.Items[0].ParentID == nil || *list.Items[0].ParentID != unitLaiChau {
		t.Fatalf("proposed places: %+v", list.Items)
	}
	var province unitJSON
	e.get(t, lan, "/api/v1/units/"+unitLaiChau).decode(t, http.StatusOK, &province)
	if province.Status != "confirmed" {
		t.Errorf("the plan's province reads status %q, want confirmed", province.Status)
	}

	decide := func(d *device, id string, body any) reply {
		return e.call(t, http.MethodPost, "/api/v1/units/"+id+"/decision", d.token, body)
	}
	for _, role := range []string{auth.RoleDepartment, auth.RoleSecretary, auth.RoleInspector, auth.RoleUnitLiaison} {
		decide(callers[role], place, map[string]any{"status": "confirmed"}).wantError(t, http.StatusForbidden, "forbidden")
	}
	decide(lan, place, map[string]any{"status": "confirmed"}).wantError(t, http.StatusForbidden, "forbidden")
	own := propose(officeSec, "Trường THPT Mường Tè")
	env := decide(officeSec, own, map[string]any{"status": "confirmed"}).wantError(t, http.StatusForbidden, "forbidden")
	if env.Error.Message != "you proposed this place: someone else at headquarters decides on it" {
		t.Errorf("own proposal refused with %q", env.Error.Message)
	}
	decide(e.admin, unitLaiChau, map[string]any{"status": "rejected"}).wantError(t, http.StatusForbidden, "forbidden")
	decide(e.admin, uuid.NewString(), map[string]any{"status": "confirmed"}).wantError(t, http.StatusNotFound, "not_found")
	decide(e.admin, place, map[string]any{"status": "proposed"}).wantError(t, http.StatusBadRequest, "validation_failed")
	bad := decide(e.admin, place, map[string]any{"status": "merged", "replaced_by_id": place}).wantError(t, http.StatusBadRequest, "validation_failed")
	var details []fieldError
	if err := json.Unmarshal(bad.Error.Details, &details); err != nil || len(details) != 1 || details[0].Field != "replaced_by_id" {
		t.Errorf("a merge into itself: details %s", bad.Error.Details)
	}
	var after unitJSON
	e.get(t, lan, "/api/v1/units/"+place).decode(t, http.StatusOK, &after)
	if after.Status != "proposed" || after.ReplacedByID != nil {
		t.Fatalf("after the refusals: %+v", after)
	}

	// Each headquarters role decides; the last decision stands.
	for _, step := range []struct {
		role, status string
		kept         *string
	}{
		{auth.RoleOffice, "merged", ptr(unitLaiChau)},
		{auth.RoleInspectionCommittee, "rejected", nil},
		{auth.RoleAdmin, "confirmed", nil},
	} {
		body := map[string]any{"status": step.status}
		if step.kept != nil {
			body["replaced_by_id"] = *step.kept
		}
		var got unitJSON
		decide(callers[step.role], place, body).decode(t, http.StatusOK, &got)
		if got.Status != step.status || str(got.ReplacedByID) != str(step.kept) {
			t.Errorf("%s decides %s: %+v", step.role, step.status, got)
		}
	}
	decide(callers[auth.RoleOffice], own, map[string]any{"status": "confirmed"}).decode(t, http.StatusOK, nil)
	e.get(t, lan, "/api/v1/units?status=proposed").decode(t, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("proposed places after the decisions: %+v", list.Items)
	}
	// The proposer's device pulls the decision.
	rows, _ := lan.pullAll(t, "")
	if r := rows[key("units", place)]; r.Fields["status"] != "confirmed" {
		t.Errorf("the proposer pulled the place as %+v", r.Fields)
	}

	// Status and proposer move only by proposal and decision.
	e.call(t, http.MethodPatch, "/api/v1/units/"+place, e.admin.token, map[string]any{"status": "rejected"}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	e.call(t, http.MethodPatch, "/api/v1/units/"+place, e.admin.token, map[string]any{"proposed_by": e.admin.userID}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	e.call(t, http.MethodPost, "/api/v1/units", e.admin.token, map[string]any{"name": "Xã Mới", "kind": "grassroots", "status": "proposed"}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	e.get(t, lan, "/api/v1/units/"+place).decode(t, http.StatusOK, &after)
	if after.Status != "confirmed" {
		t.Errorf("after the refused edits: %+v", after)
	}
}

func ptr[T any](v T) *T { return &v }
