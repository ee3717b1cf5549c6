package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"dicoso/pwa"
)

// A phone updated from a build whose device file has no rejected.field nor
// outbox.base_cursor column keeps its data: the file is migrated when the
// app opens it, the refusal it already held is still listed (with the
// generic explanation: the old build never learnt the field), and a new
// refusal names its field.
func TestOldDeviceFileIsMigrated(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	userID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	b := newBrowser(t, exe, "old-file", srv.url)
	b.login("bithu.an")
	b.go_("#/trip/new")
	b.typeInto("#trip-title", "Chuyến trước khi cập nhật")
	b.typeInto(".unit-picker input[type=search]", "Hà Nam")
	b.click(`button[data-unit="Hà Nam"]`)
	b.click("#trip-save")
	b.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	tripURL := eval[string](b, `location.hash`)
	b.syncAndWait()
	b.go_(tripURL)
	b.waitJS("trip form", `document.querySelector('#trip-title')?.value === 'Chuyến trước khi cập nhật'`)
	b.setField("#trip-title", strings.Repeat("Rất dài ", 45))
	b.click("#trip-save")
	b.syncAndWait()
	b.waitJS("refused", `document.querySelector('#rejected-list .reason')?.dataset.field === 'title'`)
	b.click("#logout")
	b.waitJS("login form", `!!document.querySelector('input[name=username]')`)

	// Turn the file back into what the first build left: schema step 1
	// only, a refusal without a field, an outbox without base cursors. The app has closed it (logged out),
	// so a worker of the app's own build can open it here.
	cols := b.rewriteDeviceFile(userID, "SELECT name FROM pragma_table_info('rejected') UNION ALL SELECT 'outbox.' || name FROM pragma_table_info('outbox')",
		"ALTER TABLE rejected DROP COLUMN field",
		"ALTER TABLE outbox DROP COLUMN base_cursor",
		"PRAGMA user_version = 1")
	if got := strings.Split(cols, ","); slices.Contains(got, "field") || !slices.Contains(got, "message") ||
		slices.Contains(got, "outbox.base_cursor") || !slices.Contains(got, "outbox.hlc") {
		t.Fatalf("the file was not made old: rejected has %s", cols)
	}

	// The updated app opens it: migrated, the old refusal kept.
	b.login("bithu.an")
	b.waitJS("old refusal listed", `document.querySelectorAll('#rejected-list [data-rejected="validation_failed"]').length === 1`)
	if got, want := eval[string](b, `document.querySelector('#rejected-list .reason').textContent`),
		"Bị từ chối: Dữ liệu không hợp lệ"; got != want {
		b.fail("old refusal explained as %q, want %q", got, want)
	}
	b.waitText("#rejected-list .reason-detail", "title is longer than 300 characters")
	// Sent again, refused again: this time the field is stored and named.
	b.click(`#rejected-list [data-action="resend"]`)
	b.waitText("#pending-count", "Thay đổi chờ gửi: 1")
	b.syncAndWait()
	b.waitJS("refusal names the field", `document.querySelector('#rejected-list .reason')?.dataset.field === 'title'`)
	b.waitText("#rejected-list .reason", "Bị từ chối: «Tên chuyến đi» không hợp lệ")
}

// rewriteDeviceFile opens the logged-out user's device file with a worker
// of the app's own build, runs stmts on it (to make it what an older build
// left), and returns the names colsQuery lists, comma-separated.
func (b *browser) rewriteDeviceFile(userID, colsQuery string, stmts ...string) string {
	b.t.Helper()
	workers, err := fs.Glob(pwa.Dist(), "assets/worker-*.js")
	if err != nil || len(workers) != 1 {
		b.t.Fatalf("the built database worker: %v %v", workers, err)
	}
	return eval[string](b, fmt.Sprintf(`(async () => {
		const w = new Worker(%s, { type: 'module' });
		let n = 0;
		const call = (msg) => new Promise((resolve, reject) => {
			const id = ++n;
			w.onmessage = (ev) => { if (ev.data.id === id) ev.data.ok ? resolve(ev.data.result) : reject(new Error(ev.data.error.message)); };
			w.postMessage({ ...msg, id });
		});
		try {
			await call({ op: 'open', file: %s, userId: %s });
			for (const sql of %s) await call({ op: 'query', sql });
			const cols = await call({ op: 'query', sql: %s });
			await call({ op: 'close' });
			return cols.map((c) => c.name).join(',');
		} finally {
			w.terminate();
		}
	})()`, jsq("/"+workers[0]), jsq("/dicoso-"+userID+".sqlite3"), jsq(userID), jsList(stmts), jsq(colsQuery)))
}

// jsList is strs as a JavaScript array literal.
func jsList(strs []string) string {
	q, _ := json.Marshal(strs)
	return string(q)
}
