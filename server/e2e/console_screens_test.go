package e2e

import (
	"context"
	"fmt"
	"testing"
)

// Every console screen on an empty campaign year (the seeded plan, no field
// data), at the desktop size and a tablet's: each opens, says what to do
// next where it is empty (a campaign without a team says so), and never
// makes the page scroll sideways. The screenshots go to artifacts/.
func TestConsoleScreensAtDesktopAndTablet(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	var campaignID string
	if err := srv.store.Reader().QueryRowContext(context.Background(),
		`SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'`).Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	screens := []struct{ name, hash, ready string }{
		{"queue", "#/console/queue", `!!document.querySelector('.c-empty')`},
		{"coverage", "#/console/coverage?campaign_id=" + campaignID, `!!document.querySelector('.cov-campaign [data-noteam]')`},
		{"fielddays", "#/console/fielddays", `!!document.querySelector('#fd-table, #fd-empty')`},
		{"findings", "#/console/findings", `!!document.querySelector('#cf-empty')`},
		{"users", "#/console/management/users", `!!document.querySelector('#user-table tr[data-username="admin"]')`},
		{"clusters", "#/console/management/clusters", `!!document.querySelector('.cscreen') && !document.querySelector('.muted.loading')`},
		{"teams", "#/console/management/teams", `!!document.querySelector('.cscreen')`},
		{"campaigns", "#/console/management/campaigns", `!!document.querySelector('.cscreen')`},
		{"plans", "#/console/management/plans", `!!document.querySelector('.cscreen')`},
		{"periods", "#/console/management/periods", `!!document.querySelector('.cscreen')`},
		{"units", "#/console/management/units", `!!document.querySelector('.cscreen')`},
		{"password", "#/console/management/password", `!!document.querySelector('.cscreen')`},
		{"report", "#/console/report/" + campaignID, `!!document.querySelector('#report-view')`},
	}
	b := newBrowser(t, exe, "admin-screens", srv.url)
	b.loginAs("admin", adminPassword)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"1366", 1366, 900}, {"tablet-820", 820, 1180}} {
		b.viewport(size.w, size.h, false)
		for _, s := range screens {
			b.go_(s.hash)
			b.waitJS(s.name, s.ready)
			if s.name == "queue" || s.name == "findings" {
				b.waitText(map[string]string{"queue": ".c-empty", "findings": "#cf-empty"}[s.name], "ở đây")
			}
			if over := eval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 1 {
				b.fail("%s at %s scrolls sideways by %d px", s.name, size.name, over)
			}
			b.screenshot(fmt.Sprintf("console-screen-%s-%s", s.name, size.name))
		}
	}
}
