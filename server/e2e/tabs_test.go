package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// A second tab waits while the first holds the device database. Meanwhile,
// in the first tab, An logs out and Cường logs in on the same phone. When
// the second tab takes over, it opens Cường's data with Cường's session:
// it neither shows An's trips nor sends Cường's work as An's.
func TestWaitingTabTakesOverWithTheCurrentSession(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	anID := srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	cuongID := srv.createUser(t, "bithu.cuong", "Lê Văn Cường", "secretary")

	p := newBrowser(t, exe, "tab1", srv.url)
	p.login("bithu.an")
	p.go_("#/trip/new")
	p.typeInto("#trip-title", "Chuyến của An")
	p.typeInto(".unit-picker input[type=search]", "Hà Nam")
	p.click(`button[data-unit="Hà Nam"]`)
	p.click("#trip-save")
	p.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	p.syncAndWait()

	// A second tab of the same browser, opened while An is logged in.
	ctx2, cancel2 := chromedp.NewContext(p.ctx)
	defer cancel2()
	q := &browser{t: t, name: "tab2", ctx: ctx2, base: srv.url}
	if err := chromedp.Listen(ctx2, q.onEvent); err != nil {
		t.Fatal(err)
	}
	q.navigate(srv.url + "/")
	q.waitJS("waiting for the other tab", `!!document.querySelector('main.center button.btn-primary')`)

	// Tab 1: An logs out, Cường logs in.
	p.go_("#/sync")
	p.click("#logout")
	p.waitJS("the app's login form", `!!document.querySelector('#login-submit')`)
	p.typeInto("input[name=username]", "bithu.cuong")
	p.typeInto("input[name=password]", "bithu.cuong-password")
	p.click("#login-submit")
	p.ready()

	// Tab 2: "use it here" opens Cường's data.
	q.click("main.center button.btn-primary")
	q.ready()
	q.go_("#/trip/new")
	q.typeInto("#trip-title", "Chuyến của Cường")
	q.typeInto(".unit-picker input[type=search]", "Hà Nam")
	q.click(`button[data-unit="Hà Nam"]`)
	q.click("#trip-save")
	q.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	q.syncAndWait()
	q.go_("#/trips")
	q.waitJS("Cường's trip listed", `!!document.querySelector('[data-trip="Chuyến của Cường"]')`)
	if n := eval[int](q, `document.querySelectorAll('#trip-list li').length`); n != 1 {
		q.fail("Cường's tab lists %d trips, want only his own", n)
	}

	for title, want := range map[string]string{"Chuyến của An": anID, "Chuyến của Cường": cuongID} {
		var owner string
		if err := db.QueryRow("SELECT user_id FROM trips WHERE title = ?", title).Scan(&owner); err != nil {
			t.Fatalf("server trip %q: %v", title, err)
		}
		if owner != want {
			t.Errorf("server trip %q belongs to %s, want %s", title, owner, want)
		}
	}
}
