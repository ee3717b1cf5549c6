package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"dicoso/sync/plan"
	"dicoso/sync/plan/plantest"
)

// axeSource is axe-core's script from the PWA's development dependencies
// (pwa/node_modules after `npm ci`, which CI runs before the tests); it
// is injected into the page under test, never fetched from elsewhere.
// Without it the accessibility tests skip outside CI and fail in CI.
func axeSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pwa", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is required under CI (cd pwa && npm ci): %v", err)
		}
		t.Skipf("accessibility tests need axe-core: cd pwa && npm ci (%v)", err)
	}
	return string(b)
}

// axeViolation is one failed axe rule with the elements that fail it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// audit checks the screen on show as a person with a disability would
// meet it: axe-core's WCAG 2.1 A and AA rules with no violation of serious
// or critical impact; every control a finger taps at least 44 x 44 CSS
// px (a checkbox or hidden file input counts by the label around it); and
// with text at 200% nothing runs off the side of the page (content may
// scroll inside a scrolling strip, such as the filter chips). The 200%
// view is saved as NAME-zoom200.png beside NAME.png, for reading.
func (b *browser) audit(name, axe string) {
	b.t.Helper()
	b.screenshot(name)
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		eval[bool](b, axe+"\n;true")
	}
	raw := eval[string](b, `axe.run(document, {
			runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
			resultTypes: ['violations'],
		}).then((r) => JSON.stringify(r.violations
			.filter((v) => v.impact === 'serious' || v.impact === 'critical')
			.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ' :: ' + n.failureSummary) }))))`)
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.fail("axe on %s: %v", name, err)
	}
	for _, v := range vs {
		b.t.Errorf("[%s] %s: axe %s (%s) %s: %s", b.name, name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
	}

	small := eval[[]string](b, `(() => {
		const out = [];
		const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
		for (const el of document.querySelectorAll(sel)) {
			if (el.disabled || el.closest('[aria-hidden=true]')) continue;
			const box = el.matches('input') && el.closest('label') ? el.closest('label') : el;
			const cs = getComputedStyle(box);
			const r = box.getBoundingClientRect();
			if (cs.display === 'none' || cs.visibility === 'hidden' || (r.width === 0 && r.height === 0)) continue;
			if (r.width < 44 || r.height < 44) {
				const what = (el.id ? '#' + el.id : el.tagName.toLowerCase()) + ' "' + (el.textContent || el.getAttribute('aria-label') || el.value || '').trim().slice(0, 30) + '"';
				out.push(what + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
			}
		}
		return out;
	})()`)
	for _, s := range small {
		b.t.Errorf("[%s] %s: touch target under 44 px: %s", b.name, name, s)
	}

	b.layout(name, "")
	// Text at 200%: every size on these screens is in rem or em of the
	// root's, so doubling the root doubles all text as a phone's text
	// setting does.
	eval[bool](b, `(document.documentElement.style.fontSize = '36px', true)`)
	b.waitJS("text at 200%", `getComputedStyle(document.documentElement).fontSize === '36px'`)
	b.layout(name, " at 200% text")
	eval[bool](b, `(scrollTo(0, 0), true)`)
	b.screenshot(name + "-zoom200")
	eval[bool](b, `(document.documentElement.style.fontSize = '', true)`)
}

// layout fails the test for what runs off the side of the page (content
// may run past the edge only inside a strip that scrolls sideways), and
// for a sync badge or chip that crosses the border of its card.
func (b *browser) layout(name, how string) {
	b.t.Helper()
	off := eval[[]string](b, `(() => {
		const w = document.documentElement.clientWidth;
		const out = [];
		const say = (el) => el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + (el.getAttribute('class') ?? '');
		if (document.documentElement.scrollWidth > w + 1) out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w);
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.width === 0 || (r.right <= w + 1 && r.left >= -1)) continue;
			let p = el.parentElement, scrolls = false;
			while (p && p !== document.body) {
				const ox = getComputedStyle(p).overflowX;
				if (ox === 'auto' || ox === 'scroll') { scrolls = true; break; }
				p = p.parentElement;
			}
			if (scrolls || el.closest('.visually-hidden')) continue;
			out.push('runs off the page: ' + say(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
			if (out.length > 8) break;
		}
		for (const el of document.querySelectorAll('.badge, .chip')) {
			const card = el.parentElement?.closest('.card, .list-item, .modal > *');
			if (!card) continue;
			const r = el.getBoundingClientRect(), c = card.getBoundingClientRect();
			if (r.width === 0) continue;
			if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5) {
				out.push(say(el) + ' "' + el.textContent.trim().slice(0, 20) + '" crosses the border of ' + say(card));
			}
		}
		return out;
	})()`)
	for _, s := range off {
		b.t.Errorf("[%s] %s%s: %s", b.name, name, how, s)
	}
}

// phoneScreen opens hash, waits for sel, and audits it.
func (b *browser) phoneScreen(hash, sel, name, axe string) {
	b.t.Helper()
	b.go_(hash)
	b.waitJS(sel, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel)))
	eval[bool](b, `(scrollTo(0, 0), true)`)
	b.audit(name, axe)
}

// TestFieldScreensAccessible walks every phone screen of the field app as
// each kind of user meets it (a secretary, an inspector leading a team, a
// unit liaison, a department, the Inspection Committee reviewing a note),
// with real data on each, and audits each one (axe-core, touch targets,
// text at 200%). The inspector's and the liaison's screens are saved at
// desktop size too.
func TestFieldScreensAccessible(t *testing.T) {
	t.Parallel()
	axe := axeSource(t)
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	campaignID, units := seededCampaign(t, srv)
	unitID := units[0]
	var deptID string
	var ulat, ulng float64
	if err := db.QueryRow("SELECT id FROM departments ORDER BY name LIMIT 1").Scan(&deptID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT lat, lng FROM units WHERE id = ?", unitID).Scan(&ulat, &ulng); err != nil {
		t.Fatal(err)
	}
	secID := srv.createUser(t, "bithu.cuong", "Lê Văn Cường", "secretary")
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	icID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	admin := srv.adminToken(t)
	for _, u := range []map[string]any{
		{"username": "lienlac.ha", "password": "lienlac.ha-password", "full_name": "Đỗ Thu Hà", "roles": []string{"unit_liaison"}, "unit_id": unitID},
		{"username": "ban.phongtrao", "password": "ban.phongtrao-password", "full_name": "Lê Thị Cúc", "roles": []string{"department"}, "department_id": deptID},
	} {
		if code := srv.post(t, "/api/v1/users", admin, u, nil); code >= 300 {
			t.Fatalf("create %s: %d", u["username"], code)
		}
	}
	if code := srv.post(t, "/api/v1/teams", admin, map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1", "leader_id": insID,
		"member_ids": []string{insID}, "unit_ids": units,
	}, nil); code >= 300 {
		t.Fatalf("create team: %d", code)
	}
	// A reviewed note with an assigned, followed-up finding; a submitted one to review.
	ins := phone(t, srv, "kiemtra.dung")
	reviewedID, submittedID, findingID := uuid.NewString(), uuid.NewString(), uuid.NewString()
	put(t, ins, "visit_notes", reviewedID, map[string]any{"author_id": insID, "unit_id": unitID, "campaign_id": campaignID,
		"kind": "inspection", "title": "Kiểm tra Đợt 1", "conclusions": "Đơn vị hoàn thành tốt nhiệm vụ.", "status": "submitted"})
	put(t, ins, "findings", findingID, map[string]any{"note_id": reviewedID, "author_id": insID, "unit_id": unitID,
		"campaign_id": campaignID, "category": "recommendation", "text": "Kiện toàn ban chấp hành.", "status": "open"})
	put(t, ins, "visit_notes", submittedID, map[string]any{"author_id": insID, "unit_id": units[1], "campaign_id": campaignID,
		"kind": "inspection", "title": "Kiểm tra Đợt 1 (2)", "results": "Sổ sách đầy đủ.", "status": "submitted"})
	syncDevice(t, ins, "the inspector")
	ic := phone(t, srv, "bankiemtra.binh")
	syncDevice(t, ic, "the reviewer")
	put(t, ic, "visit_notes", reviewedID, map[string]any{"status": "reviewed", "review_comment": "", "reviewed_by": icID})
	put(t, ic, "findings", findingID, map[string]any{"department_id": deptID, "due_on": "2021-07-15", "status": "in_progress"})
	put(t, ic, "follow_ups", uuid.NewString(), map[string]any{"finding_id": findingID, "author_id": icID,
		"at": "2021-06-20T08:00:00Z", "text": "Đã nhắc tỉnh đoàn."})
	syncDevice(t, ic, "the reviewer")

	// The secretary's trips: one planned over today, one to come, one past
	// and never marked done, one cancelled over today.
	sec := phone(t, srv, "bithu.cuong")
	now := plantest.TodayForAWhile(2 * time.Minute)
	day := func(d int) string { return plan.Today(now.AddDate(0, 0, d)) }
	currentID := uuid.NewString()
	for id, tr := range map[string][3]string{
		currentID:        {"Hội nghị tại tỉnh", day(-1), day(1)},
		uuid.NewString(): {"Khảo sát chuyên đề", day(7), day(8)},
		uuid.NewString(): {"Làm việc tuần trước", day(-9), day(-8)},
		uuid.NewString(): {"Chuyến đã huỷ", day(0), day(2)},
	} {
		status := "planned"
		if tr[0] == "Chuyến đã huỷ" {
			status = "cancelled"
		}
		put(t, sec, "trips", id, map[string]any{"user_id": secID, "title": tr[0], "purpose": "thematic_survey",
			"unit_ids": []string{unitID}, "starts_on": tr[1], "ends_on": tr[2], "status": status})
	}
	syncDevice(t, sec, "the secretary's other phone")

	// A secretary: login, Home, check-in, trips, a trip, notes, a new note, sync, the logout warning.
	s := newBrowser(t, exe, "a11y-secretary", srv.url)
	s.navigate(srv.url + "/")
	s.waitJS("login form", `!!document.querySelector('input[name=username]')`)
	s.audit("a11y-01-login", axe)
	s.login("bithu.cuong")
	s.geolocation(ulat+0.001, ulng, 20)
	s.phoneScreen("#/home", "#tally", "a11y-02-secretary-home", axe)
	// Home: the next thing (today's trip is not counted yet), the trips to
	// come, and the storage warning in one line with its details behind a tap.
	s.waitText("#home-next [data-next]", "Điểm danh để tính ngày hôm nay")
	s.waitText("#home-upcoming [data-upcoming]", "Khảo sát chuyên đề")
	if n := eval[int](s, `document.querySelectorAll('#home-upcoming [data-upcoming]').length`); n != 1 {
		t.Errorf("Home lists %d upcoming trips, want the one to come", n)
	}
	s.waitJS("storage warning", `!!document.querySelector('#persist-warning summary')`)
	if h := eval[float64](s, `document.querySelector('#persist-warning').getBoundingClientRect().height`); h > 50 {
		t.Errorf("the storage warning is %.0f px tall, want one compact line", h)
	}
	s.click("#persist-warning summary")
	s.waitText("#persist-warning[open]", "cài ứng dụng lên màn hình chính")
	s.screenshot("field3-03-home-storage-details")
	s.click("#persist-warning summary")
	s.phoneScreen("#/checkin", "#checkin-confirm", "a11y-03-checkin", axe)
	s.waitJS("today's trip chosen", fmt.Sprintf(`document.querySelector('#checkin-trip')?.value === %s`, jsq(currentID)))
	s.click("#checkin-save")
	s.waitJS("check-in listed", `!!document.querySelector('#checkin-list [data-void]')`)
	s.audit("a11y-04-checkin-done", axe)
	// Trips move by their dates and ticked days; a cancelled one stays so.
	s.phoneScreen("#/trips", "#trip-list [data-trip]", "a11y-05-trips", axe)
	for title, want := range map[string]string{"Hội nghị tại tỉnh": "Đang đi", "Khảo sát chuyên đề": "Dự kiến",
		"Làm việc tuần trước": "Đã đi", "Chuyến đã huỷ": "Huỷ"} {
		s.waitText(fmt.Sprintf(`[data-trip=%s] [data-status]`, jsq(title)), want)
	}
	s.click(`[data-trip="Hội nghị tại tỉnh"]`)
	s.waitJS("trip days", `!!document.querySelector('#trip-days li')`)
	s.audit("a11y-06-trip", axe)
	s.syncAndWait()
	if n := count(t, db, "SELECT count(*) FROM trips WHERE id = ? AND status = 'ongoing'", currentID); n != 1 {
		t.Errorf("the planned trip a check-in counted is not ongoing on the server")
	}
	// Work left unsent for the logout warning below.
	s.offline(true)
	s.go_("#/checkin")
	s.waitText("#checkin-unit", "Lai Châu")
	s.click("#checkin-save")
	s.waitJS("second check-in", `document.querySelectorAll('#checkin-list [data-sync="local"]').length >= 1`)
	s.phoneScreen("#/notes", "#new-note", "a11y-07-notes-empty", axe)
	s.phoneScreen("#/note/new", "#note-create", "a11y-08-note-new", axe)
	s.phoneScreen("#/sync", "#pending-count", "a11y-09-sync", axe)
	s.click("#logout")
	s.waitJS("logout warning", `!!document.querySelector('#logout-warning')`)
	s.audit("a11y-10-logout-warning", axe)

	// An inspector leading a team: Home, the campaign, the notes, a note.
	i := newBrowser(t, exe, "a11y-inspector", srv.url)
	i.login("kiemtra.dung")
	i.phoneScreen("#/home", "[data-teams]", "a11y-11-inspector-home", axe)
	i.phoneScreen("#/campaign", "[data-unit-row] [data-note-state]", "a11y-12-campaign", axe)
	i.phoneScreen("#/notes", "#note-list [data-note-context]", "a11y-13-notes", axe)
	i.phoneScreen("#/note/"+reviewedID, "#finding-list [data-finding-row]", "a11y-14-note-reviewed", axe)
	i.go_("#/note/new?unit=" + units[2] + "&campaign=" + campaignID)
	i.typeInto("#note-title-new", "Bản nháp")
	i.click("#note-create")
	i.waitJS("draft editor", `!!document.querySelector('#finding-add')`)
	i.typeInto("#finding-text", "Chưa lập sổ theo dõi đoàn viên.")
	i.click("#finding-add")
	i.waitJS("finding listed", `!!document.querySelector('[data-finding-edit]')`)
	i.audit("a11y-15-note-draft", axe)

	// The Inspection Committee reviewing a note on a phone.
	r := newBrowser(t, exe, "a11y-reviewer", srv.url)
	r.login("bankiemtra.binh")
	r.phoneScreen("#/note/"+submittedID, "#review-input", "a11y-16-note-review", axe)
	r.phoneScreen("#/findings", "#register-list [data-finding]", "a11y-17-register", axe)
	// Choosing a filter chip colours it and leaves its words where they were.
	textAt := `(() => { const c = document.querySelector('#filter-category [data-category="recommendation"]');
		const r = document.createRange(); r.selectNodeContents(c);
		const t = r.getBoundingClientRect(), b = c.getBoundingClientRect();
		return [Math.round(t.left - b.left), Math.round(t.top - b.top), Math.round(b.width), Math.round(b.height)].join(','); })()`
	before := eval[string](r, textAt)
	r.click(`#filter-category [data-category="recommendation"]`)
	r.waitJS("chip chosen", `document.querySelector('#filter-category [data-category="recommendation"]').getAttribute('aria-pressed') === 'true'`)
	if after := eval[string](r, textAt); after != before {
		t.Errorf("the chosen chip's words moved: left,top,width,height %s, then %s", before, after)
	}
	r.audit("a11y-17b-register-filtered", axe)
	r.phoneScreen("#/finding/"+findingID, "#triage", "a11y-18-finding-triage", axe)

	// A unit liaison and a department.
	l := newBrowser(t, exe, "a11y-liaison", srv.url)
	l.login("lienlac.ha")
	l.phoneScreen("#/home", "#liaison-conclusions [data-conclusions]", "a11y-19-liaison-home", axe)
	l.phoneScreen("#/notes", "#note-list", "a11y-20-liaison-notes", axe)
	d := newBrowser(t, exe, "a11y-department", srv.url)
	d.login("ban.phongtrao")
	d.phoneScreen("#/home", "#dept-findings [data-dept-finding]", "a11y-21-department-home", axe)
	d.phoneScreen("#/finding/"+findingID, "#followup-list [data-followup]", "a11y-22-department-finding", axe)

	// The inspector's and the liaison's screens on a laptop.
	for _, sh := range []struct {
		b          *browser
		hash, wait string
		name       string
	}{
		{i, "#/home", "[data-teams]", "field3-desktop-inspector-home"},
		{i, "#/campaign", "[data-unit-row]", "field3-desktop-campaign"},
		{i, "#/notes", "#note-list", "field3-desktop-notes"},
		{i, "#/note/" + reviewedID, "#finding-list", "field3-desktop-note"},
		{l, "#/home", "#liaison-conclusions", "field3-desktop-liaison-home"},
	} {
		sh.b.do(chromedp.EmulateViewport(1366, 900))
		sh.b.go_(sh.hash)
		sh.b.waitJS(sh.wait, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sh.wait)))
		eval[bool](sh.b, `(scrollTo(0, 0), true)`)
		sh.b.screenshot(sh.name)
	}
}
