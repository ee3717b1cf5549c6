package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// Broken text (a byte that is not UTF-8, half of a UTF-16 surrogate pair)
// and the NUL character are refused, never stored altered or failing as a
// 500: a REST body is refused whole, a push refuses the change that holds
// it and merges the others.
func TestBrokenTextIsRefusedNeverAltered(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withAdmin())
	admin := e.admin
	users := func() int {
		var n int
		if err := e.st.Reader().QueryRowContext(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := users()
	lanID := e.createUser(t, "lan.nguyen", "secretary")
	broken := map[string]string{
		"a NUL":                  `a\u0000b`,
		"half an emoji":          `Lan \ud83d`,
		"a byte that is not UTF": "a\xffb",
	}
	for _, text := range broken {
		for _, field := range []string{"full_name", "title"} {
			body := newUserBody("minh.tran")
			body[field] = "PLACEHOLDER"
			raw, _ := json.Marshal(body)
			req := strings.Replace(string(raw), "PLACEHOLDER", text, 1)
			e.call(t, http.MethodPost, "/api/v1/users", admin.token, req).wantError(t, http.StatusBadRequest, "validation_failed")
			e.call(t, http.MethodPatch, "/api/v1/users/"+lanID, admin.token, `{"`+field+`":"`+text+`"}`).
				wantError(t, http.StatusBadRequest, "validation_failed")
		}
		e.call(t, http.MethodPost, "/api/v1/auth/login", "", `{"username":"lan.nguyen","password":"x","device":{"id":"p1","name":"`+text+`"}}`).
			wantError(t, http.StatusBadRequest, "validation_failed")
	}
	if n := users(); n != before+1 {
		t.Fatalf("%d users after the refused requests, want %d", n, before+1)
	}
	var lan userJSON
	e.call(t, http.MethodGet, "/api/v1/users/"+lanID, admin.token, nil).decode(t, http.StatusOK, &lan)
	if strings.ContainsAny(lan.FullName, "\x00\ufffd") || strings.ContainsAny(lan.Title, "\x00\ufffd") {
		t.Fatalf("a refused PATCH changed the user: %+v", lan)
	}

	// A push: each change with broken text is refused, naming the field;
	// the change beside it, with an emoji written as a whole pair, is
	// merged as sent.
	dev := e.loginDevice(t, "lan.nguyen", userPassword, "lan-phone")
	good := uuid.NewString()
	changes := []protocol.Change{dev.change("trips", good, map[string]any{
		"user_id": dev.userID, "purpose": "inspection", "starts_on": "2021-03-26", "title": "GOOD"})}
	var brokenIDs []string
	for range broken {
		id := uuid.NewString()
		brokenIDs = append(brokenIDs, id)
		changes = append(changes, dev.change("trips", id, map[string]any{
			"user_id": dev.userID, "purpose": "inspection", "starts_on": "2021-03-26", "title": "BROKEN"}))
	}
	raw, _ := json.Marshal(protocol.PushRequest{Protocol: protocol.Version, DeviceID: dev.id, Changes: changes})
	req := strings.Replace(string(raw), `"GOOD"`, `"Đi cơ sở \ud83d\ude00"`, 1)
	for _, text := range broken {
		req = strings.Replace(req, `"BROKEN"`, `"`+text+`"`, 1)
	}
	var resp protocol.PushResponse
	e.call(t, http.MethodPost, "/api/v1/sync/push", dev.token, req).decode(t, http.StatusOK, &resp)
	if r := resp.Results[0]; r.Status != protocol.StatusApplied {
		t.Fatalf("the good change: %s %s %s", r.Status, r.Code, r.Message)
	}
	for i, r := range resp.Results[1:] {
		if r.Status != protocol.StatusRejected || r.Code != "validation_failed" || r.Field != "title" {
			t.Errorf("change %d with broken text: %s %s field %q: %s", i+1, r.Status, r.Code, r.Field, r.Message)
		}
	}
	rows, _ := dev.pullAll(t, "")
	if got := rows[key("trips", good)].Fields["title"]; got != "Đi cơ sở 😀" {
		t.Errorf("the good trip's title is %q", got)
	}
	for _, id := range brokenIDs {
		if _, ok := rows[key("trips", id)]; ok {
			t.Errorf("a trip with broken text was stored")
		}
	}
}
