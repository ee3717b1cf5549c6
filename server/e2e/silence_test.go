package e2e

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// silence sits in front of the server and can make the next pull go
// silent, as a phone's connection does when the signal dies without a
// word: the request is taken, and then nothing more comes, either before
// the answer's headers or partway through its body. It reports when the
// client gave up and closed the connection.
type silence struct {
	mu     sync.Mutex
	next   string // "headers" or "body": how the next pull goes silent
	gaveUp chan string
	done   chan struct{}
}

func (s *silence) arm(how string) {
	s.mu.Lock()
	s.next = how
	s.mu.Unlock()
}

func (s *silence) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/sync/pull" {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		how := s.next
		s.next = ""
		s.mu.Unlock()
		if how == "" {
			next.ServeHTTP(w, r)
			return
		}
		// The server notices a closed connection only once it has read
		// the request.
		_, _ = io.Copy(io.Discard, r.Body)
		if how == "body" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"rows":[`)
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
			s.gaveUp <- how
		case <-s.done:
		}
	})
}

// A connection that goes silent does not hold the sync forever: after half
// a minute without a byte the app drops it, says it cannot reach the
// server, and "Đồng bộ ngay" works again; the next sync goes through. Before, the run waited for an
// answer that never came, the button stayed disabled on "Đang đồng bộ…"
// and no later sync could start until the app was closed.
func TestASilentConnectionDoesNotHoldSyncForever(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	quiet := &silence{gaveUp: make(chan string, 2), done: make(chan struct{})}
	srv := startServerWrapped(t, quiet.wrap)
	t.Cleanup(func() { close(quiet.done) })
	srv.createUser(t, "bithu.lan", "Trần Thị Lan", "secretary")
	b := newBrowser(t, exe, "silence", srv.url)
	b.login("bithu.lan")

	b.go_("#/sync")
	before := eval[string](b, `document.querySelector('#last-sync').dataset.at`)
	noteID := b.newWorkingNote("Ghi chép làm việc tại Ninh Bình", "Ninh Bình")
	// The sync that follows a write, so that none is due while the pulls
	// go silent.
	b.go_("#/sync")
	b.waitJSFor("the sync after the write", `document.querySelector('#last-sync').dataset.at !== `+jsq(before)+
		` && !document.querySelector('#sync-now').disabled`, syncWait)
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	if n := count(t, srv.store.Reader(), "SELECT count(*) FROM visit_notes WHERE id = ?", noteID); n != 1 {
		t.Fatalf("the note is not on the server")
	}

	const offline = "Không kết nối được máy chủ. Sẽ thử lại khi có mạng."
	for _, how := range []string{"headers", "body"} {
		quiet.arm(how)
		b.go_("#/sync")
		b.waitJSFor("sync idle", `!document.querySelector('#sync-now').disabled`, syncWait)
		b.click("#sync-now")
		b.waitJS("the sync running", `document.querySelector('#sync-now').disabled`)
		b.waitJSFor("the silent sync given up", `document.querySelector('#sync-problem')?.textContent === `+jsq(offline)+
			` && !document.querySelector('#sync-now').disabled`, 90*time.Second)
		select {
		case got := <-quiet.gaveUp:
			if got != how {
				t.Fatalf("the app closed the pull that went silent before its %s, want %s", got, how)
			}
		case <-time.After(10 * time.Second):
			b.fail("the app reports the pull silent before its %s but kept the connection open", how)
		}
		b.screenshot("silence-" + how + "-phone")
	}

	// The signal is back: the next sync goes through, and the edit made
	// meanwhile reaches the server.
	const results = "Đã kiểm tra sổ sách chi đoàn."
	b.go_("#/note/" + noteID)
	b.typeInto("#note-results", results)
	b.waitText("#save-state", "Đã lưu trên máy")
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	if n := count(t, srv.store.Reader(), "SELECT count(*) FROM visit_notes WHERE id = ? AND results = ?", noteID, results); n != 1 {
		t.Fatalf("the edit made after the silent syncs is not on the server")
	}
}
