package e2e

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"dicoso/pwa"
)

// A phone updated to a build that stores a field its old build did not
// know gets the values the server already held: the rows it pulled before
// lack them, and the server would not send those rows again, so the
// updated app pulls its copy again once.
func TestUpdatedAppPullsTheFieldsItDidNotKnow(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	userID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	workers, err := fs.Glob(pwa.Dist(), "assets/worker-*.js")
	if err != nil || len(workers) != 1 {
		t.Fatalf("the built database worker: %v %v", workers, err)
	}

	b := newBrowser(t, exe, "old-fields", srv.url)
	b.login("bithu.an")
	b.go_("#/trip/new")
	b.typeInto("#trip-title", "Làm việc tại Hà Nam")
	b.typeInto("#trip-notes", "Mang theo báo cáo 6 tháng")
	b.typeInto(".unit-picker input[type=search]", "Hà Nam")
	b.click(`button[data-unit="Hà Nam"]`)
	b.click("#trip-save")
	b.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	tripURL := eval[string](b, `location.hash`)
	b.syncAndWait()
	b.click("#logout")
	b.waitJS("login form", `!!document.querySelector('input[name=username]')`)

	// Make the file what a build that did not know trips.notes left: no
	// such column, and no field set recorded (builds before field sets).
	// The app has closed it (logged out), so a worker of the app's own
	// build can open it here.
	cols := eval[string](b, fmt.Sprintf(`(async () => {
		const w = new Worker(%s, { type: 'module' });
		let n = 0;
		const call = (msg) => new Promise((resolve, reject) => {
			const id = ++n;
			w.onmessage = (ev) => { if (ev.data.id === id) ev.data.ok ? resolve(ev.data.result) : reject(new Error(ev.data.error.message)); };
			w.postMessage({ ...msg, id });
		});
		try {
			await call({ op: 'open', file: %s, userId: %s });
			await call({ op: 'query', sql: 'ALTER TABLE trips DROP COLUMN notes' });
			await call({ op: 'query', sql: "DELETE FROM sync_state WHERE key = 'field_set'" });
			const cols = await call({ op: 'query', sql: "SELECT name FROM pragma_table_info('trips')" });
			await call({ op: 'close' });
			return cols.map((c) => c.name).join(',');
		} finally {
			w.terminate();
		}
	})()`, jsq("/"+workers[0]), jsq("/dicoso-"+userID+".sqlite3"), jsq(userID)))
	if strings.Contains(","+cols+",", ",notes,") || !strings.Contains(cols, "title") {
		t.Fatalf("the file was not made old: trips has %s", cols)
	}

	// The updated app opens it, adds the column and pulls again.
	b.login("bithu.an")
	b.go_(tripURL)
	b.waitJS("trip form", `document.querySelector('#trip-title')?.value === 'Làm việc tại Hà Nam'`)
	b.waitJS("the notes pulled again", `document.querySelector('#trip-notes')?.value === 'Mang theo báo cáo 6 tháng'`)
}
