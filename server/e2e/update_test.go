package e2e

import (
	"bytes"
	"io/fs"
	"net/http"
	"sync/atomic"
	"testing"

	"dicoso/pwa"
)

// A new version of the app is announced, never forced: the page keeps
// running the old version (and the note being typed) until the user taps
// "Có phiên bản mới — tải lại"; then what was typed is saved and the new
// version takes over.
func TestNewVersionIsAnnouncedNotForced(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	sw, err := fs.ReadFile(pwa.Dist(), "sw.js")
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	srv := startServerWrapped(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sw.js" && released.Load() {
				// A new build: any byte changed in sw.js makes a new worker.
				w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
				w.Header().Set("Cache-Control", "no-cache")
				_, _ = w.Write(bytes.Replace(sw, []byte(`const VERSION = "`), []byte(`const VERSION = "next-`), 1))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	b := newBrowser(t, exe, "update", srv.url)
	b.login("bithu.an")
	b.go_("#/note/new")
	b.typeInto("#note-title-new", "Ghi chép trước khi cập nhật")
	b.typeInto(".unit-picker input[type=search]", "Hà Nam")
	b.click(`button[data-unit="Hà Nam"]`)
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-results')`)

	released.Store(true)
	ver := func() string {
		return eval[string](b, `caches.keys().then((k) => k.filter((n) => n.startsWith('dicoso-shell-')).sort().join(','))`)
	}
	old := ver()
	eval[bool](b, `navigator.serviceWorker.getRegistration().then((r) => r.update()).then(() => true)`)
	b.waitJS("update announced", `!!document.querySelector('#update-btn')`)
	// Still the old version, still editing: nothing reloaded on its own.
	b.typeInto("#note-results", "Đang gõ dở khi có bản mới")
	if eval[string](b, `document.querySelector('#note-results').value`) != "Đang gõ dở khi có bản mới" {
		b.fail("the editor lost typing while an update waited")
	}
	b.screenshot("13-update-announced")
	b.click("#update-btn")
	b.waitJS("reloaded into the new version", `!document.querySelector('#update-btn') && document.documentElement.dataset.ready === '1' &&
		navigator.serviceWorker.controller?.scriptURL.endsWith('/sw.js')`)
	b.waitJS("new cache active", `caches.keys().then(() => true)`)
	if now := ver(); now == old {
		b.fail("the shell cache is still %s after the update", now)
	}
	b.waitJS("typed text kept", `document.querySelector('#note-results')?.value === 'Đang gõ dở khi có bản mới'`)
}
