package api

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"dicoso/sync/schema"
)

// notNullColumns is, per synced table, the columns the migrated store
// declares NOT NULL: what a null sent over REST must never reach.
func (ts *testServer) notNullColumns(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, tb := range schema.Tables() {
		rows, err := ts.st.Reader().QueryContext(context.Background(), ts.st.Dialect().Pick(
			`SELECT name FROM pragma_table_info(?) WHERE "notnull" = 1`,
			`SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND is_nullable = 'NO'`), tb.Name)
		if err != nil {
			t.Fatalf("columns of %s: %v", tb.Name, err)
		}
		out[tb.Name] = map[string]bool{}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatalf("columns of %s: %v", tb.Name, err)
			}
			out[tb.Name][name] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("columns of %s: %v", tb.Name, err)
		}
		rows.Close()
	}
	return out
}

// validBody is a creation body of table holding its required fields only,
// each with a value of its type; an id field names the row refs holds for
// the table it points at.
func validBody(t *testing.T, tb *schema.Table, refs map[string]string) map[string]any {
	t.Helper()
	body := map[string]any{}
	for _, name := range tb.Required {
		f, _ := tb.Field(name)
		switch f.Type {
		case schema.Text:
			body[name] = "Giá trị " + name
		case schema.Int:
			body[name] = 2021
		case schema.Real:
			body[name] = 1.5
		case schema.Bool:
			body[name] = false
		case schema.Date:
			body[name] = "2021-03-26"
		case schema.Instant:
			body[name] = "2021-03-26T08:00:00Z"
		case schema.Enum:
			body[name] = f.Values[0]
		case schema.List:
			body[name] = []string{}
		case schema.ID:
			id, ok := refs[f.Ref]
			if !ok {
				t.Fatalf("no %s row for %s.%s: add one to refs", f.Ref, tb.Name, name)
			}
			body[name] = id
		default:
			t.Fatalf("%s.%s: no sample value for its type", tb.Name, name)
		}
	}
	return body
}

// wantFieldRefused checks the answer is 400 validation_failed naming field
// in its details.
func wantFieldRefused(t *testing.T, r reply, field string) {
	t.Helper()
	env := r.wantError(t, http.StatusBadRequest, "validation_failed")
	var details []fieldError
	if err := json.Unmarshal(env.Error.Details, &details); err != nil {
		t.Fatalf("details %s: %v", env.Error.Details, err)
	}
	if !slices.ContainsFunc(details, func(d fieldError) bool { return d.Field == field }) {
		t.Errorf("details %s do not name %s", env.Error.Details, field)
	}
}

// TestNullRefusedWhereTheStoreHoldsNone walks every reference resource and
// every field its table holds NOT NULL (or the registry requires), and
// sends it as null on create and on update: each is refused as
// validation_failed naming the field, and the store is left as it was.
// (A plan's min_field_days: null used to reach SQLite and answer 500.)
func TestNullRefusedWhereTheStoreHoldsNone(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	w := e.world(t)
	notNull := e.notNullColumns(t)
	if !notNull["plans"]["min_field_days"] || !notNull["users"]["full_name"] {
		t.Fatalf("the store's NOT NULL columns were not read: %v", notNull)
	}
	refs := map[string]string{"plans": w.planID, "campaigns": w.campaignID, "units": w.unitA, "users": w.inspectorID}

	walked := 0
	for _, tb := range schema.Tables() {
		if !tb.Reference || tb.Name == "users" { // users have their own handlers, walked below
			continue
		}
		target := e.create(t, tb.Name, validBody(t, tb, refs))["id"].(string)
		for _, f := range tb.Fields {
			if f.Computed || !(notNull[tb.Name][f.Name] || slices.Contains(tb.Required, f.Name)) {
				continue
			}
			walked++
			t.Run(tb.Name+"/"+f.Name, func(t *testing.T) {
				body := validBody(t, tb, refs)
				body[f.Name] = nil
				before := e.storeCounts(t)
				wantFieldRefused(t, e.call(t, http.MethodPost, "/api/v1/"+tb.Name, e.admin.token, body), f.Name)
				if after := e.storeCounts(t); !sameCounts(before, after) {
					t.Errorf("POST: the store changed: %v -> %v", before, after)
				}

				path := "/api/v1/" + tb.Name + "/" + target
				var rowBefore, rowAfter map[string]any
				e.call(t, http.MethodGet, path, e.admin.token, nil).decode(t, http.StatusOK, &rowBefore)
				wantFieldRefused(t, e.call(t, http.MethodPatch, path, e.admin.token, map[string]any{f.Name: nil}), f.Name)
				e.call(t, http.MethodGet, path, e.admin.token, nil).decode(t, http.StatusOK, &rowAfter)
				if !jsonEqual(t, rowBefore, rowAfter) {
					t.Errorf("PATCH: the row changed: %v -> %v", rowBefore, rowAfter)
				}
				if after := e.storeCounts(t); !sameCounts(before, after) {
					t.Errorf("PATCH: the store changed: %v -> %v", before, after)
				}
			})
		}
	}
	if walked < 20 {
		t.Fatalf("walked only %d reference fields", walked)
	}

	// Users: every field of the create and update bodies whose column is
	// NOT NULL, or that has no column at all (the password), refuses null.
	userFields := map[string]bool{}
	for _, f := range append(documentedFields(t, "UserCreate"), documentedFields(t, "UserPatch")...) {
		userFields[f] = true
	}
	columns, _ := schema.Lookup("users")
	nullable := func(field string) bool {
		_, isColumn := columns.Field(field)
		return isColumn && !notNull["users"][field] || field == "id"
	}
	userPath := "/api/v1/users/" + w.inspectorID
	for _, field := range slices.Sorted(maps.Keys(userFields)) {
		if nullable(field) {
			continue
		}
		t.Run("users/"+field, func(t *testing.T) {
			before := e.storeCounts(t)
			if slices.Contains(documentedFields(t, "UserCreate"), field) {
				body := newUserBody("null.tester")
				body[field] = nil
				wantFieldRefused(t, e.call(t, http.MethodPost, "/api/v1/users", e.admin.token, body), field)
			}
			if slices.Contains(documentedFields(t, "UserPatch"), field) {
				var rowBefore, rowAfter map[string]any
				e.call(t, http.MethodGet, userPath, e.admin.token, nil).decode(t, http.StatusOK, &rowBefore)
				wantFieldRefused(t, e.call(t, http.MethodPatch, userPath, e.admin.token, map[string]any{field: nil}), field)
				e.call(t, http.MethodGet, userPath, e.admin.token, nil).decode(t, http.StatusOK, &rowAfter)
				if !jsonEqual(t, rowBefore, rowAfter) {
					t.Errorf("PATCH: the user changed: %v -> %v", rowBefore, rowAfter)
				}
			}
			if after := e.storeCounts(t); !sameCounts(before, after) {
				t.Errorf("the store changed: %v -> %v", before, after)
			}
		})
	}

	// A column that may be empty takes null, and null empties it.
	dept := e.create(t, "departments", map[string]any{"name": "Ban Tổ chức"})["id"].(string)
	var u userJSON
	e.call(t, http.MethodPatch, userPath, e.admin.token, map[string]any{"department_id": dept}).decode(t, http.StatusOK, &u)
	if u.DepartmentID == nil || *u.DepartmentID != dept {
		t.Fatalf("department_id not set: %+v", u)
	}
	e.call(t, http.MethodPatch, userPath, e.admin.token, map[string]any{"department_id": nil}).decode(t, http.StatusOK, &u)
	if u.DepartmentID != nil {
		t.Errorf("department_id: null left %s", *u.DepartmentID)
	}
	var team map[string]any
	teamID := e.create(t, "teams", map[string]any{"campaign_id": w.campaignID, "name": "Đoàn 3", "leader_id": w.inspectorID})["id"].(string)
	e.call(t, http.MethodPatch, "/api/v1/teams/"+teamID, e.admin.token, map[string]any{"leader_id": nil}).decode(t, http.StatusOK, &team)
	if team["leader_id"] != nil {
		t.Errorf("leader_id: null left %v", team["leader_id"])
	}
}
