package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// fieldDays is the part of GET /api/v1/reports/field-days the phone's
// tally card shows.
type fieldDays struct {
	Year         int     `json:"year"`
	PlanNumber   *string `json:"plan_number"`
	MinFieldDays int     `json:"min_field_days"`
	DueByDate    int     `json:"due_by_date"`
	Items        []struct {
		UserID       string `json:"user_id"`
		FieldDays    int    `json:"field_days"`
		VerifiedDays int    `json:"verified_days"`
		OnPace       bool   `json:"on_pace"`
	} `json:"items"`
}

// fieldDaysOf is the report as the secretary reads it (this year, today),
// through the API with a session of their own.
func (s *server) fieldDaysOf(t testing.TB, username string) fieldDays {
	t.Helper()
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if code := s.post(t, "/api/v1/auth/login", "", map[string]any{
		"username": username, "password": username + "-password",
		"device": map[string]string{"id": "e2e-report-" + strings.ReplaceAll(username, ".", "-"), "name": "e2e"},
	}, &login); code != http.StatusOK {
		t.Fatalf("login %s: %d", username, code)
	}
	req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/reports/field-days", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+login.AccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("field-days report for %s: %d %s", username, res.StatusCode, raw)
	}
	var out fieldDays
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("field-days report: %v: %s", err, raw)
	}
	if len(out.Items) != 1 {
		t.Fatalf("field-days report for %s has %d lines: %s", username, len(out.Items), raw)
	}
	return out
}

// assertTallyMatchesReport checks that the home screen's tally says what
// the server's report says for the same secretary, year and day.
func (b *browser) assertTallyMatchesReport(s *server, username string) {
	b.t.Helper()
	r := s.fieldDaysOf(b.t, username)
	line := r.Items[0]
	b.go_("#/home")
	want := map[string]string{
		"#tally-days":     fmt.Sprintf("Số ngày đi cơ sở: %d/%d", line.FieldDays, r.MinFieldDays),
		"#tally-verified": strconv.Itoa(line.VerifiedDays),
		"#tally-pace":     map[bool]string{true: "Đúng tiến độ", false: "Chậm tiến độ"}[line.OnPace],
	}
	for sel, text := range want {
		b.waitJS(fmt.Sprintf("%s is %q as in the report", sel, text),
			fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? '').trim() === %s`, jsq(sel), jsq(text)))
	}
	b.waitText("#tally-due", fmt.Sprintf("cần tối thiểu %d ngày", r.DueByDate))
	if hasPlan := eval[bool](b, `!document.querySelector('#tally-no-plan')`); hasPlan != (r.PlanNumber != nil) {
		b.fail("the phone shows a plan: %v; the report names plan %v", hasPlan, r.PlanNumber)
	}
}
