package e2e

import (
	"strings"
	"testing"
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
	cols := b.rewriteDeviceFile(userID, "SELECT name FROM pragma_table_info('trips')",
		"ALTER TABLE trips DROP COLUMN notes",
		"DELETE FROM sync_state WHERE key = 'field_set'")
	if strings.Contains(","+cols+",", ",notes,") || !strings.Contains(cols, "title") {
		t.Fatalf("the file was not made old: trips has %s", cols)
	}

	// The updated app opens it, adds the column and pulls again.
	b.login("bithu.an")
	b.go_(tripURL)
	b.waitJS("trip form", `document.querySelector('#trip-title')?.value === 'Làm việc tại Hà Nam'`)
	b.waitJS("the notes pulled again", `document.querySelector('#trip-notes')?.value === 'Mang theo báo cáo 6 tháng'`)
}
