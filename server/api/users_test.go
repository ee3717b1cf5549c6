package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"dicoso/server/syncdb"
)

const departmentID = "0f7e5a52-1d2c-4b6a-9c1e-3a4b5c6d7e8f"

func newUserBody(username string) map[string]any {
	return map[string]any{
		"username": username, "password": "field-days-60", "full_name": "Nguyễn Thị Lan",
		"title": "Bí thư Trung ương Đoàn", "roles": []string{"secretary", "inspector"},
	}
}

func TestAdminCreatesUsers(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	e.apply(t, syncdb.ServerChange{Table: "departments", RowID: departmentID, Fields: map[string]any{"name": "Ban Kiểm tra"}})
	admin := e.login(t, "admin", adminPassword, "admin-laptop")

	body := newUserBody("lan.nguyen")
	body["department_id"] = departmentID
	r := e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, body)
	var lan userJSON
	r.decode(t, http.StatusCreated, &lan)
	if lan.ID == "" || lan.Username != "lan.nguyen" || lan.FullName != "Nguyễn Thị Lan" ||
		lan.Title != "Bí thư Trung ương Đoàn" || strings.Join(lan.Roles, ",") != "secretary,inspector" ||
		lan.DepartmentID == nil || *lan.DepartmentID != departmentID || lan.UnitID != nil || lan.Disabled {
		t.Fatalf("created user %+v", lan)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "argon2") {
		t.Fatalf("answer leaks the password: %s", r.body)
	}
	// The public part went through the sync engine, so devices will pull it.
	var logged int
	if err := e.st.Reader().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM change_log WHERE tbl = 'users' AND row_id = ?`, lan.ID).Scan(&logged); err != nil || logged == 0 {
		t.Fatalf("no change_log entry for the new user (%d, %v)", logged, err)
	}

	// The new user logs in with the password the admin set.
	lanTokens := e.login(t, "lan.nguyen", "field-days-60", "lan-phone")
	if strings.Join(lanTokens.User.Roles, ",") != "secretary,inspector" {
		t.Fatalf("login roles %v", lanTokens.User.Roles)
	}

	// Anyone logged in reads users, public part only; only admins write.
	var list userList
	r = e.call(t, http.MethodGet, "/api/v1/users", lanTokens.AccessToken, nil)
	r.decode(t, http.StatusOK, &list)
	if len(list.Items) != 2 || list.Items[0].Username != "admin" || list.Items[1].Username != "lan.nguyen" {
		t.Fatalf("list %+v", list.Items)
	}
	if strings.Contains(string(r.body), "password") {
		t.Fatalf("list leaks passwords: %s", r.body)
	}
	e.call(t, http.MethodGet, "/api/v1/users?role=secretary", lanTokens.AccessToken, nil).decode(t, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != lan.ID {
		t.Fatalf("role filter: %+v", list.Items)
	}
	var one userJSON
	e.call(t, http.MethodGet, "/api/v1/users/"+admin.User.ID, lanTokens.AccessToken, nil).decode(t, http.StatusOK, &one)
	if one.Username != "admin" {
		t.Fatalf("get user %+v", one)
	}
	e.call(t, http.MethodGet, "/api/v1/users/7d1f0c3e-0000-4000-8000-000000000000", lanTokens.AccessToken, nil).
		wantError(t, http.StatusNotFound, "not_found")
	e.call(t, http.MethodGet, "/api/v1/users", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized")

	e.call(t, http.MethodPost, "/api/v1/users", lanTokens.AccessToken, newUserBody("minh.tran")).
		wantError(t, http.StatusForbidden, "forbidden")
	e.call(t, http.MethodPatch, "/api/v1/users/"+lan.ID, lanTokens.AccessToken, map[string]any{"roles": []string{"admin"}}).
		wantError(t, http.StatusForbidden, "forbidden")
	e.call(t, http.MethodDelete, "/api/v1/users/"+admin.User.ID, lanTokens.AccessToken, nil).
		wantError(t, http.StatusForbidden, "forbidden")

	bad := []struct {
		name   string
		change func(map[string]any)
		status int
		code   string
		field  string
	}{
		{"duplicate username", func(b map[string]any) {}, 409, "username_taken", ""},
		{"unknown field", func(b map[string]any) { b["username"] = "minh.tran"; b["is_superuser"] = true }, 400, "unknown_field", "is_superuser"},
		{"unknown role", func(b map[string]any) { b["username"] = "minh.tran"; b["roles"] = []string{"superuser"} }, 400, "validation_failed", "roles"},
		{"no role", func(b map[string]any) { b["username"] = "minh.tran"; b["roles"] = []string{} }, 400, "validation_failed", "roles"},
		{"a role twice", func(b map[string]any) {
			b["username"] = "minh.tran"
			b["roles"] = []string{"secretary", "inspector", "secretary"}
		}, 400, "validation_failed", "roles"},
		{"short password", func(b map[string]any) { b["username"] = "minh.tran"; b["password"] = "short" }, 400, "validation_failed", "password"},
		{"username with a space", func(b map[string]any) { b["username"] = "Minh Tran" }, 400, "validation_failed", "username"},
		{"username too short", func(b map[string]any) { b["username"] = "mt" }, 400, "validation_failed", "username"},
		{"no full name", func(b map[string]any) { b["username"] = "minh.tran"; delete(b, "full_name") }, 400, "validation_failed", "full_name"},
		{"unknown department", func(b map[string]any) {
			b["username"] = "minh.tran"
			b["department_id"] = "1b7e5a52-1d2c-4b6a-9c1e-3a4b5c6d7e8f"
		}, 400, "validation_failed", "department_id"},
		{"department id not a uuid", func(b map[string]any) { b["username"] = "minh.tran"; b["department_id"] = "ban-kiem-tra" }, 400, "validation_failed", "department_id"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			b := newUserBody("lan.nguyen")
			tc.change(b)
			env := e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, b).wantError(t, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(string(env.Error.Details), `"`+tc.field) {
				t.Errorf("details %s do not name %q", env.Error.Details, tc.field)
			}
		})
	}
	// None of the refused requests left a user behind.
	e.call(t, http.MethodGet, "/api/v1/users", admin.AccessToken, nil).decode(t, http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Fatalf("%d users after refused creations, want 2", len(list.Items))
	}
}

func TestUserChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	e.apply(t, syncdb.ServerChange{Table: "departments", RowID: departmentID, Fields: map[string]any{"name": "Ban Kiểm tra"}})
	admin := e.login(t, "admin", adminPassword, "admin-laptop")
	var lan userJSON
	e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, newUserBody("lan.nguyen")).decode(t, http.StatusCreated, &lan)
	lanTokens := e.login(t, "lan.nguyen", "field-days-60", "lan-phone")
	patch := func(body any) reply {
		return e.call(t, http.MethodPatch, "/api/v1/users/"+lan.ID, admin.AccessToken, body)
	}

	// A new role counts from the next request, with the token already held.
	var got userJSON
	patch(map[string]any{"roles": []string{"secretary", "admin"}, "title": "Phó Chủ tịch", "department_id": departmentID}).
		decode(t, http.StatusOK, &got)
	if strings.Join(got.Roles, ",") != "secretary,admin" || got.Title != "Phó Chủ tịch" || got.FullName != "Nguyễn Thị Lan" ||
		got.DepartmentID == nil || *got.DepartmentID != departmentID {
		t.Fatalf("patched user %+v", got)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/users", lanTokens.AccessToken, newUserBody("minh.tran")); r.status != http.StatusCreated {
		t.Fatalf("new admin cannot create users: %d %s", r.status, r.body)
	}
	patch(map[string]any{"department_id": ""}).decode(t, http.StatusOK, &got)
	if got.DepartmentID != nil {
		t.Fatalf("department not cleared: %+v", got)
	}
	patch(map[string]any{"full_name": ""}).wantError(t, http.StatusBadRequest, "validation_failed")
	patch(map[string]any{"roles": []string{"boss"}}).wantError(t, http.StatusBadRequest, "validation_failed")
	patch(map[string]any{"username": "lan"}).wantError(t, http.StatusBadRequest, "unknown_field")
	patch(map[string]any{"password_hash": "x"}).wantError(t, http.StatusBadRequest, "unknown_field")

	// Disabling shuts every door at once: the access token held, the
	// refresh token, and the password.
	patch(map[string]any{"disabled": true}).decode(t, http.StatusOK, &got)
	if !got.Disabled {
		t.Fatalf("not disabled: %+v", got)
	}
	e.call(t, http.MethodGet, "/api/v1/me", lanTokens.AccessToken, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": lanTokens.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "invalid_refresh_token")
	e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("lan.nguyen", "field-days-60", "lan-phone")).
		wantError(t, http.StatusUnauthorized, "invalid_credentials")

	// Enabled again with a new password: the old one no longer opens.
	patch(map[string]any{"disabled": false, "password": "new-password-2021"}).decode(t, http.StatusOK, &got)
	e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("lan.nguyen", "field-days-60", "lan-phone")).
		wantError(t, http.StatusUnauthorized, "invalid_credentials")
	lanTokens = e.login(t, "lan.nguyen", "new-password-2021", "lan-phone")

	// A password reset ends the sessions the user had.
	patch(map[string]any{"password": "third-password-21"}).decode(t, http.StatusOK, &got)
	e.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": lanTokens.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "refresh_token_reused")

	// Deleting is a tombstone: gone from reads and logins, name still taken.
	if r := e.call(t, http.MethodDelete, "/api/v1/users/"+lan.ID, admin.AccessToken, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodGet, "/api/v1/users/"+lan.ID, admin.AccessToken, nil).wantError(t, http.StatusNotFound, "not_found")
	e.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody("lan.nguyen", "third-password-21", "lan-phone")).
		wantError(t, http.StatusUnauthorized, "invalid_credentials")
	e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, newUserBody("lan.nguyen")).
		wantError(t, http.StatusConflict, "username_taken")
	e.call(t, http.MethodPatch, "/api/v1/users/"+lan.ID, admin.AccessToken, map[string]any{"title": "x"}).
		wantError(t, http.StatusNotFound, "not_found")
}

func TestTheLastAdminStays(t *testing.T) {
	t.Parallel()
	e := newAuthServer(t)
	admin := e.login(t, "admin", adminPassword, "admin-laptop")
	self := "/api/v1/users/" + admin.User.ID
	e.call(t, http.MethodPatch, self, admin.AccessToken, map[string]any{"disabled": true}).wantError(t, http.StatusConflict, "last_admin")
	e.call(t, http.MethodPatch, self, admin.AccessToken, map[string]any{"roles": []string{"office"}}).wantError(t, http.StatusConflict, "last_admin")
	e.call(t, http.MethodDelete, self, admin.AccessToken, nil).wantError(t, http.StatusConflict, "last_admin")

	// With a second admin, the first may step down.
	second := newUserBody("second.admin")
	second["roles"] = []string{"admin"}
	var u userJSON
	e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, second).decode(t, http.StatusCreated, &u)
	e.call(t, http.MethodPatch, self, admin.AccessToken, map[string]any{"roles": []string{"office"}}).decode(t, http.StatusOK, &u)
	if strings.Join(u.Roles, ",") != "office" {
		t.Fatalf("roles %v", u.Roles)
	}
	// ...and at once is no longer one.
	e.call(t, http.MethodPost, "/api/v1/users", admin.AccessToken, newUserBody("minh.tran")).wantError(t, http.StatusForbidden, "forbidden")
}
