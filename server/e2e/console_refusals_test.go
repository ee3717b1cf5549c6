package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Refusals in the console are said in the user's language, from the
// envelope's code and field, never in the server's English sentence: a
// team saved after someone else deleted it (404 not_found), a campaign
// still in use deleted (409 in_use, naming what uses it), a team schedule
// the server refused on sync (its end before its start); in English once
// the console is switched.
func TestConsoleRefusedSavesInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	ctx := context.Background()
	var campaignID, unitID string
	if err := db.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'`).Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM units WHERE name = 'Bắc Ninh'`).Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	admin := srv.adminToken(t)
	inspID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	team := func(name string) string {
		var out struct {
			ID string `json:"id"`
		}
		if code := srv.post(t, "/api/v1/teams", admin, map[string]any{"campaign_id": campaignID, "name": name,
			"leader_id": inspID, "member_ids": []string{inspID}, "unit_ids": []string{unitID}}, &out); code != http.StatusCreated {
			t.Fatalf("create team %s: %d", name, code)
		}
		return out.ID
	}
	gone := team("Đoàn kiểm tra số 8")
	team("Đoàn kiểm tra số 9")

	a := newBrowser(t, exe, "admin", srv.url)
	a.loginAs("admin", adminPassword)
	a.viewport(1366, 900, false)

	// A team edited here and deleted meanwhile by another administrator.
	a.go_("#/console/management/teams")
	a.click(`#teams-table tr[data-row="Đoàn kiểm tra số 8"]`)
	a.waitJS("team form", `document.querySelector('#teams-name')?.value === 'Đoàn kiểm tra số 8'`)
	a.setField("#teams-name", "Đoàn kiểm tra số 8 (sửa)")
	if code := srv.send(t, http.MethodDelete, "/api/v1/teams/"+gone, admin, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete the team meanwhile: %d", code)
	}
	a.click("#teams-save")
	a.waitJS("refused", `document.querySelector('#teams-outcome')?.dataset.outcome === 'error'`)
	a.waitText("#teams-outcome", "Máy chủ không còn mục này, hoặc tài khoản của bạn không được xem nó")
	notEnglish(a, "#teams-outcome")
	a.screenshot("console-refusal-gone-1366")
	// In English once switched.
	a.click("#console-lang")
	a.click("#teams-save")
	a.waitText("#teams-outcome", "The server no longer has this, or your account may not see it")
	a.click("#console-lang")
	a.waitText("#console-lang", "English")
	a.click("#teams-save")
	a.waitText("#teams-outcome", "Máy chủ không còn mục này")
	a.viewport(390, 844, true)
	eval[bool](a, `(document.querySelector('#teams-outcome').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("console-refusal-gone-390")
	a.viewport(1366, 900, false)

	// A campaign still used by a team cannot be deleted: the refusal says
	// by what, in words.
	a.go_("#/console/management/campaigns")
	a.click(`#campaigns-table tr[data-row="Kiểm tra định kỳ Đợt 1 năm 2021"]`)
	a.click("#campaigns-delete")
	a.click("#campaigns-delete-confirm")
	a.waitJS("refused", `document.querySelector('#campaigns-outcome')?.dataset.outcome === 'error'`)
	a.waitText("#campaigns-outcome", "Còn dữ liệu đang dùng mục này: 1 Đoàn kiểm tra")
	notEnglish(a, "#campaigns-outcome")
	if n := count(t, db, "SELECT count(*) FROM campaigns WHERE id = ? AND deleted = 0", campaignID); n != 1 {
		t.Fatalf("the campaign in use was deleted")
	}
	a.screenshot("console-refusal-in-use-1366")

	// A schedule whose end is before its start: written on this device,
	// refused by the server on sync, and said so on the schedule screen
	// and in Sync.
	a.go_("#/console/notices?campaign=" + campaignID)
	card := `[data-team="Đoàn kiểm tra số 9"] `
	a.waitJS("team card", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(card+`[data-add="unit"]`)))
	a.setField(card+`[data-add="unit"]`, unitID)
	a.setField(card+`[data-add="from"]`, "2021-06-10")
	a.setField(card+`[data-add="to"]`, "2021-06-08")
	a.click(card + `[data-add="save"]`)
	a.consoleSync()
	a.waitJS("schedule refused", `!!document.querySelector('#n-refused li[data-table="team_visits"]')`)
	a.waitText(`#n-refused li[data-table="team_visits"]`, "Lịch làm việc của đoàn kiểm tra: «Đến ngày» không hợp lệ")
	notEnglish(a, "#n-refused")
	a.screenshot("console-refusal-schedule-1366")
	a.viewport(390, 844, true)
	eval[bool](a, `(document.querySelector('#n-refused').scrollIntoView({ block: 'center' }), true)`)
	a.screenshot("console-refusal-schedule-390")
	a.click("#n-refused-sync")
	a.waitJS("listed in Sync", `!!document.querySelector('#rejected-list li[data-table="team_visits"]')`)
	a.waitText(`#rejected-list li[data-table="team_visits"]`, "Lịch làm việc của đoàn kiểm tra · Đoàn kiểm tra, Đơn vị, Từ ngày, Đến ngày")
	a.waitText(`#rejected-list li[data-table="team_visits"] .clip`, "Bắc Ninh · 2021-06-10")
	a.waitText(`#rejected-list li[data-table="team_visits"] .reason`, "Bị từ chối: «Đến ngày» không hợp lệ")
	a.screenshot("console-refusal-schedule-sync-390")
}

// notEnglish fails when the element shows the server's English words.
func notEnglish(b *browser, sel string) {
	b.t.Helper()
	text := eval[string](b, fmt.Sprintf(`document.querySelector(%s)?.textContent ?? ''`, jsq(sel)))
	for _, w := range []string{"not found", "in use", "teams", "validation_failed", "ends before", "(not_found)", "(in_use)"} {
		if strings.Contains(text, w) {
			b.fail("%s shows the server's English %q: %q", sel, w, text)
		}
	}
}
