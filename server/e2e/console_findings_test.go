package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/syncdb"
)

// A register of 5,000 findings (issue: the console read the whole register
// at once): the Office's register opens on the newest fifty, with the
// counts and the chart of all 5,000; "Xem thêm" adds the next fifty; the
// search, the "not assigned" filter and the order are the server's, over
// every finding, not over the pages loaded; the browser never asks for more
// than a page.
func TestConsoleFindingsRegisterPagesFiveThousandFindings(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	ctx := context.Background()
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	srv.createUser(t, "vanphong.hai", "Vũ Văn Hải", "office")
	var campaignID, unitID, deptID string
	if err := db.QueryRow("SELECT id FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&campaignID); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	if err := db.QueryRow("SELECT id FROM units WHERE name = 'Bắc Ninh'").Scan(&unitID); err != nil {
		t.Fatalf("seeded unit: %v", err)
	}
	if err := db.QueryRow("SELECT id FROM departments ORDER BY name LIMIT 1").Scan(&deptID); err != nil {
		t.Fatalf("seeded department: %v", err)
	}

	// A hundred handed-in notes with fifty findings each, written through
	// the sync engine (each with its change log, so each has its place in
	// the order they reached the server); every fourth is assigned.
	const total = 5000
	var changes []syncdb.ServerChange
	categories := []string{"shortcoming", "recommendation", "model", "aspiration"}
	noteID := ""
	for i := range total {
		if i%50 == 0 {
			noteID = uuid.NewString()
			changes = append(changes, syncdb.ServerChange{Table: "visit_notes", RowID: noteID, Fields: map[string]any{
				"author_id": insID, "unit_id": unitID, "campaign_id": campaignID, "kind": "inspection",
				"title": fmt.Sprintf("Kiểm tra định kỳ tại Bắc Ninh, lần %d", i/50), "status": "submitted"}})
		}
		f := map[string]any{"note_id": noteID, "author_id": insID, "category": categories[i%len(categories)],
			"text": fmt.Sprintf("Vấn đề số %04d: sinh hoạt chi đoàn chưa đều", i)}
		if i%4 == 0 {
			f["department_id"] = deptID
		}
		changes = append(changes, syncdb.ServerChange{Table: "findings", RowID: uuid.NewString(), Fields: f})
	}
	start := time.Now()
	if err := srv.store.InTx(ctx, func(tx *sql.Tx) error { return srv.sync.ApplyServerTx(ctx, tx, "", changes) }); err != nil {
		t.Fatalf("write %d findings: %v", total, err)
	}
	t.Logf("wrote %d findings in %v", total, time.Since(start))

	o := newBrowser(t, exe, "office-5000", srv.url)
	o.login("vanphong.hai")
	o.viewport(1366, 900, false)
	o.go_("#/console/queue")
	o.waitJS("console", `!!document.querySelector('#console-nav')`)
	eval[bool](o, `(() => { window.__long = [];
		new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
		return true; })()`)
	opened := time.Now()
	o.go_("#/console/findings")
	o.waitJS("first page", `document.querySelectorAll('#cf-table tbody tr').length === 50 && document.querySelector('#cf-count')?.dataset.total === '5000'`)
	t.Logf("the register's first page of 5,000 shown %v after opening it", time.Since(opened))
	o.waitText("#cf-count", "5000 vấn đề")
	o.waitText("#cf-count", "đang hiện 50")
	if first := eval[string](o, `document.querySelector('#cf-table tbody tr .cf-text').textContent`); !strings.HasPrefix(first, "Vấn đề số 4999") {
		o.fail("the register opens on %q, want the newest", first)
	}
	// The chart counts the whole register, not the page.
	o.waitText(`#cf-bars [data-category="shortcoming"] .cf-bar-label strong`, "1250")
	o.screenshot("console-findings-5000-1366")

	o.click("#cf-more")
	o.waitJS("second page", `document.querySelectorAll('#cf-table tbody tr').length === 100`)
	o.waitText("#cf-count", "đang hiện 100")
	if last := eval[string](o, `[...document.querySelectorAll('#cf-table tbody tr .cf-text')].at(-1).textContent`); !strings.HasPrefix(last, "Vấn đề số 4900") {
		o.fail("the second page ends with %q", last)
	}

	// A search over all 5,000, without diacritics.
	o.typeInto("#cf-search", "van de so 0123")
	o.waitJS("one found", `document.querySelectorAll('#cf-table tbody tr').length === 1 &&
		document.querySelector('#cf-table tbody tr .cf-text').textContent.startsWith('Vấn đề số 0123') &&
		document.querySelector('#cf-count')?.dataset.total === '1'`)
	o.setField("#cf-search", "")
	o.waitJS("search cleared", `document.querySelector('#cf-count')?.dataset.total === '5000'`)

	// Not assigned: three in four, oldest first.
	o.setField("#cf-department", "none")
	o.setField("#cf-sort", "recorded")
	o.waitJS("not assigned, oldest first", `document.querySelector('#cf-count')?.dataset.total === '3750' &&
		document.querySelector('#cf-table tbody tr .cf-text')?.textContent.startsWith('Vấn đề số 0001')`)
	o.screenshot("console-findings-5000-unassigned-1366")
	o.viewport(390, 844, true)
	o.waitJS("phone layout", `window.innerWidth === 390`)
	if w := eval[int](o, `document.documentElement.scrollWidth`); w > 390 {
		o.fail("the register is %d px wide on a 390 px phone", w)
	}
	o.screenshot("console-findings-5000-390")
	eval[bool](o, `(document.querySelector('#cf-more').scrollIntoView({ block: 'center' }), true)`)
	o.screenshot("console-findings-5000-more-390")

	// Every read of the register asked for a page (of 50; a reload after a
	// sync reads again the rows shown, at most the API's 200).
	for _, u := range eval[[]string](o, `performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/api/v1/reports/findings'))`) {
		var limit int
		if i := strings.Index(u, "limit="); i < 0 {
			t.Errorf("the console read the register without a limit: %s", u)
		} else if _, err := fmt.Sscanf(u[i:], "limit=%d", &limit); err != nil || limit > 200 {
			t.Errorf("the console read the register with %s, want a page", u)
		}
	}
	t.Logf("long tasks while paging 5,000 findings: %v", eval[[]float64](o, `window.__long`))
}
