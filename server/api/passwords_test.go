package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/server/auth"
)

const newPassword = "mat-khau-moi-2021"

func (ts *testServer) refreshStatus(t *testing.T, refreshToken string) reply {
	t.Helper()
	return ts.call(t, http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refreshToken})
}

func (ts *testServer) loginStatus(t *testing.T, username, password string) int {
	t.Helper()
	// A device id stays with its first user: one checking device per user.
	device := "dev-check-" + strings.ReplaceAll(username, ".", "-")
	return ts.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody(username, password, device)).status
}

func wantField(t *testing.T, env wireError, field string) {
	t.Helper()
	var details []fieldError
	if err := json.Unmarshal(env.Error.Details, &details); err != nil || len(details) != 1 || details[0].Field != field {
		t.Errorf("details %s, want the field %s", env.Error.Details, field)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	e.createAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary}})
	phone := e.login(t, "bt.lan", userPassword, "dien-thoai")
	laptop := e.login(t, "bt.lan", userPassword, "may-tinh")
	change := func(token string, body any) reply {
		return e.call(t, http.MethodPost, "/api/v1/me/password", token, body)
	}

	// Refusals change nothing.
	env := change(phone.AccessToken, map[string]any{"current_password": "sai-mat-khau-2021", "new_password": newPassword}).
		wantError(t, http.StatusBadRequest, "wrong_password")
	wantField(t, env, "current_password")
	env = change(phone.AccessToken, map[string]any{"current_password": userPassword, "new_password": "ngan"}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	wantField(t, env, "new_password")
	env = change(phone.AccessToken, map[string]any{"current_password": userPassword, "new_password": userPassword}).
		wantError(t, http.StatusBadRequest, "validation_failed")
	wantField(t, env, "new_password")
	change(phone.AccessToken, map[string]any{"new_password": newPassword}).wantError(t, http.StatusBadRequest, "validation_failed")
	change(phone.AccessToken, map[string]any{"current_password": userPassword, "new_password": newPassword, "password": "x"}).
		wantError(t, http.StatusBadRequest, "unknown_field")
	change("", map[string]any{"current_password": userPassword, "new_password": newPassword}).
		wantError(t, http.StatusUnauthorized, "unauthorized")
	if got := e.loginStatus(t, "bt.lan", userPassword); got != http.StatusOK {
		t.Fatalf("after refused changes the password no longer logs in: %d", got)
	}

	// The change: the new password logs in, the old one no longer; the
	// laptop's session ends, the phone's goes on.
	change(phone.AccessToken, map[string]any{"current_password": userPassword, "new_password": newPassword}).
		wantStatus(t, http.StatusNoContent)
	if got := e.loginStatus(t, "bt.lan", userPassword); got != http.StatusUnauthorized {
		t.Errorf("the old password logs in: %d", got)
	}
	if got := e.loginStatus(t, "bt.lan", newPassword); got != http.StatusOK {
		t.Errorf("the new password does not log in: %d", got)
	}
	// The laptop is out at once, not when its access token lapses.
	e.call(t, http.MethodGet, "/api/v1/me", laptop.AccessToken, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	e.call(t, http.MethodGet, "/api/v1/me", phone.AccessToken, nil).wantStatus(t, http.StatusOK)
	e.refreshStatus(t, laptop.RefreshToken).wantError(t, http.StatusUnauthorized, "refresh_token_reused")
	e.refreshStatus(t, phone.RefreshToken).wantStatus(t, http.StatusOK)

	// The admin's generated password can be changed too.
	change(e.admin.token, map[string]any{"current_password": adminPassword, "new_password": newPassword}).
		wantStatus(t, http.StatusNoContent)
	if got := e.loginStatus(t, "admin", newPassword); got != http.StatusOK {
		t.Errorf("the admin's new password does not log in: %d", got)
	}
}

func TestChangeOwnPasswordIsRateLimited(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin(), withLoginLimits(3, 50))
	lan := e.addUser(t, "bt.lan", auth.RoleInspector)
	wrong := map[string]any{"current_password": "doan-mat-khau-2021", "new_password": newPassword}
	for range 3 {
		e.call(t, http.MethodPost, "/api/v1/me/password", lan.token, wrong).wantError(t, http.StatusBadRequest, "wrong_password")
	}
	// Guessing stops, even with the right password, and logging in from
	// the same place too: the tries are the account's failed logins.
	r := e.call(t, http.MethodPost, "/api/v1/me/password", lan.token,
		map[string]any{"current_password": userPassword, "new_password": newPassword})
	r.wantError(t, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if got := e.loginStatus(t, "bt.lan", userPassword); got != http.StatusTooManyRequests {
		t.Errorf("login after three wrong passwords: %d, want 429", got)
	}
}

func TestAdminResetsPassword(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	id := e.createAccount(t, account{username: "bt.lan", fullName: "Nguyễn Thị Lan", roles: []string{auth.RoleSecretary}})
	office := e.addUser(t, "van.phong", auth.RoleOffice)
	phone := e.login(t, "bt.lan", userPassword, "dien-thoai")
	reset := func(d *device, userID string, body any) reply {
		return e.call(t, http.MethodPost, "/api/v1/users/"+userID+"/password", d.token, body)
	}

	reset(office, id, map[string]any{"new_password": newPassword}).wantError(t, http.StatusForbidden, "forbidden")
	env := reset(e.admin, id, map[string]any{"new_password": "ngan"}).wantError(t, http.StatusBadRequest, "validation_failed")
	wantField(t, env, "new_password")
	reset(e.admin, id, map[string]any{"password": newPassword}).wantError(t, http.StatusBadRequest, "unknown_field")
	reset(e.admin, uuid.NewString(), map[string]any{"new_password": newPassword}).wantError(t, http.StatusNotFound, "not_found")
	reset(e.admin, "bt.lan", map[string]any{"new_password": newPassword}).wantError(t, http.StatusNotFound, "not_found")
	if got := e.loginStatus(t, "bt.lan", userPassword); got != http.StatusOK {
		t.Fatalf("after refused resets the password no longer logs in: %d", got)
	}

	reset(e.admin, id, map[string]any{"new_password": newPassword}).wantStatus(t, http.StatusNoContent)
	if got := e.loginStatus(t, "bt.lan", userPassword); got != http.StatusUnauthorized {
		t.Errorf("the old password logs in: %d", got)
	}
	if got := e.loginStatus(t, "bt.lan", newPassword); got != http.StatusOK {
		t.Errorf("the new password does not log in: %d", got)
	}
	// Every session of the user ends, at once: whoever had the password is out.
	e.call(t, http.MethodGet, "/api/v1/me", phone.AccessToken, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	if got := e.refreshStatus(t, phone.RefreshToken); got.status != http.StatusUnauthorized {
		t.Errorf("the phone's session survives the reset: %d", got.status)
	}

	e.call(t, http.MethodDelete, "/api/v1/users/"+id, e.admin.token, nil).wantStatus(t, http.StatusNoContent)
	reset(e.admin, id, map[string]any{"new_password": newPassword}).wantError(t, http.StatusNotFound, "not_found")
}
