package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// loginAs opens the app and logs in with a password of its own (the
// admin's is not username-password), then waits for the first full sync.
func (b *browser) loginAs(username, password string) {
	b.t.Helper()
	b.navigate(b.base + "/")
	b.waitJS("the app's login form", `!!document.querySelector('#login-submit')`)
	b.typeInto("input[name=username]", username)
	b.typeInto("input[name=password]", password)
	b.click("#login-submit")
	b.ready()
	b.waitJS("service worker controls the page", `document.documentElement.dataset.offlineReady === '1'`)
	b.syncAndWait()
}

// checkOption ticks the checkbox of one option of a form's checkbox list.
func (b *browser) checkOption(field, option string) {
	b.t.Helper()
	b.click(fmt.Sprintf(`[data-field=%q] label[data-option=%q] input`, field, option))
}

// The administrator sets up the year's inspection in the console at
// 1366×900: a new inspector (the form first refuses what the server would,
// then shows the server's own refusal of a taken username beside the
// field), a cluster holding a province and led by a department, and a team
// for the first periodic round. The new inspector logs in on a phone and
// sees the campaign, and changes their password from the phone's Sync
// screen.
func TestConsoleAdminSetsUpUsersClusterAndTeam(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	ctx := context.Background()
	var campaignID, campaignName, unitID, deptID, deptName string
	if err := db.QueryRowContext(ctx, `SELECT id, name FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'`).Scan(&campaignID, &campaignName); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM units WHERE name = 'Bắc Ninh'`).Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id, name FROM departments ORDER BY name LIMIT 1`).Scan(&deptID, &deptName); err != nil {
		t.Fatalf("seeded department: %v", err)
	}

	a := newBrowser(t, exe, "admin", srv.url)
	a.loginAs("admin", adminPassword)
	a.viewport(1366, 900, false)

	// Users: the form checks what the server checks before sending.
	a.go_("#/console/management/users")
	a.waitJS("user list", `!!document.querySelector('#user-table tr[data-username="admin"]')`)
	a.click("#user-new")
	a.typeInto("#user-username", "Thanh Tra")
	a.typeInto("#user-password", "short")
	a.click("#user-save")
	a.waitText(`[data-field="username"] .fault`, "3–64 ký tự a-z")
	a.waitText(`[data-field="password"] .fault`, "Quá ngắn (tối thiểu 10)")
	a.waitText(`[data-field="full_name"] .fault`, "Cần nhập mục này")
	a.waitText(`[data-field="roles"] .fault`, "Cần nhập mục này")
	a.screenshot("console-manage-users-faults-1366")
	// A taken username passes the form and is refused by the server: the
	// refusal is shown beside the field, and nothing was created.
	a.setField("#user-username", "admin")
	a.setField("#user-password", "thanhtra.cuong-password")
	a.typeInto("#user-fullname", "Lê Văn Cường")
	a.checkOption("roles", "Thành viên đoàn kiểm tra")
	a.click("#user-save")
	a.waitText(`[data-field="username"] .fault`, "Tên đăng nhập đã có người dùng")
	a.waitJS("refusal banner", `document.querySelector('#user-outcome')?.dataset.outcome === 'error'`)
	a.setField("#user-username", "thanhtra.cuong")
	a.click("#user-save")
	a.waitJS("user created", `document.querySelector('#user-outcome')?.dataset.outcome === 'ok'`)
	a.waitJS("user listed", `!!document.querySelector('#user-table tr[data-username="thanhtra.cuong"]')`)
	var inspectorID, roles string
	if err := db.QueryRowContext(ctx, `SELECT id, roles FROM users WHERE username = 'thanhtra.cuong'`).Scan(&inspectorID, &roles); err != nil {
		t.Fatalf("the console's user is not in the store: %v", err)
	}
	if roles != `["inspector"]` {
		t.Errorf("roles = %s, want [\"inspector\"]", roles)
	}
	a.screenshot("console-manage-users-1366")

	// A cluster led by a department, holding Bắc Ninh.
	a.go_("#/console/management/clusters")
	a.click("#clusters-new")
	a.typeInto("#clusters-name", "Cụm Đồng bằng sông Hồng")
	a.setField("#clusters-lead_department_id", deptID)
	a.checkOption("unit_cluster", "Bắc Ninh")
	a.click("#clusters-save")
	a.waitJS("cluster created", `document.querySelector('#clusters-outcome')?.dataset.outcome === 'ok'`)
	a.waitJS("cluster listed", `!!document.querySelector('#clusters-table tr[data-row="Cụm Đồng bằng sông Hồng"]')`)
	var clusterID, lead string
	if err := db.QueryRowContext(ctx, `SELECT id, COALESCE(lead_department_id, '') FROM clusters WHERE name = 'Cụm Đồng bằng sông Hồng' AND deleted = 0`).Scan(&clusterID, &lead); err != nil {
		t.Fatalf("the console's cluster is not in the store: %v", err)
	}
	if lead != deptID {
		t.Errorf("cluster led by %q, want %s (%s)", lead, deptID, deptName)
	}
	if n := count(t, db, `SELECT count(*) FROM units WHERE id = ? AND cluster_id = ?`, unitID, clusterID); n != 1 {
		t.Errorf("Bắc Ninh is not in the new cluster")
	}
	a.screenshot("console-manage-clusters-1366")

	// An inspection team of the first periodic round: the new inspector
	// leads it, for Bắc Ninh.
	a.go_("#/console/management/teams")
	a.click("#teams-new")
	a.setField("#teams-campaign_id", campaignID)
	a.typeInto("#teams-name", "Đoàn kiểm tra số 1")
	a.setField("#teams-leader_id", inspectorID)
	a.checkOption("member_ids", "Lê Văn Cường")
	a.checkOption("unit_ids", "Bắc Ninh")
	a.click("#teams-save")
	a.waitJS("team created", `document.querySelector('#teams-outcome')?.dataset.outcome === 'ok'`)
	if n := count(t, db, `SELECT count(*) FROM teams WHERE name = 'Đoàn kiểm tra số 1' AND campaign_id = ? AND leader_id = ?
		AND member_ids LIKE '%' || ? || '%' AND unit_ids LIKE '%' || ? || '%'`, campaignID, inspectorID, inspectorID, unitID); n != 1 {
		t.Fatalf("the team is not in the store as made")
	}
	a.screenshot("console-manage-teams-1366")

	// Coverage now names the team and the cluster for Bắc Ninh.
	a.go_("#/console/coverage?campaign_id=" + campaignID)
	a.waitText(`tr[data-unit="Bắc Ninh"]`, "Đoàn kiểm tra số 1")
	a.waitText(`tr[data-unit="Bắc Ninh"]`, "Cụm Đồng bằng sông Hồng")

	// Management on a phone-sized screen still works.
	a.go_("#/console/management/users")
	a.viewport(390, 844, true)
	a.waitJS("user list", `!!document.querySelector('#user-table tr[data-username="thanhtra.cuong"]')`)
	a.screenshot("console-manage-users-390")
	a.viewport(1366, 900, false)

	// The new inspector, on a phone, sees the campaign and the team.
	p := newBrowser(t, exe, "inspector", srv.url)
	p.login("thanhtra.cuong")
	p.go_("#/home")
	p.waitText("[data-teams]", "(1)")
	p.click("[data-teams]")
	p.waitText("main", campaignName)
	p.waitText("main", "Đoàn kiểm tra số 1")
	p.waitText("main", "Bắc Ninh")
	p.screenshot("console-new-inspector-home-390")

	// Every user changes their own password, from the phone's Sync screen.
	p.go_("#/sync")
	p.click("#change-password")
	p.waitJS("password form", `!!document.querySelector('#pw-current')`)
	p.typeInto("#pw-current", "wrong-password-1")
	p.typeInto("#pw-new", "a-new-password-2021")
	p.typeInto("#pw-again", "a-new-password-2021")
	p.click("#pw-save")
	p.waitText(`[data-field="current_password"] .fault`, "Mật khẩu hiện tại không đúng")
	p.setField("#pw-current", "thanhtra.cuong-password")
	p.click("#pw-save")
	p.waitJS("password changed", `document.querySelector('#pw-outcome')?.dataset.outcome === 'ok'`)
	p.screenshot("console-password-390")
	if code := srv.post(t, "/api/v1/auth/login", "", map[string]any{
		"username": "thanhtra.cuong", "password": "a-new-password-2021",
		"device": map[string]string{"id": "e2e-pw-check", "name": "e2e"},
	}, nil); code != http.StatusOK {
		t.Errorf("login with the new password: %d", code)
	}
}
