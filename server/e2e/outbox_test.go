package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// pushedChange is one change of a push as the server received it.
type pushedChange struct {
	ID     string         `json:"id"`
	Table  string         `json:"table"`
	RowID  string         `json:"row_id"`
	HLC    string         `json:"hlc"`
	Fields map[string]any `json:"fields"`
	// Base is the row's base from a read over the API (protocol Change.base).
	Base string `json:"base"`
}

// syncLog sits in front of the server: it records every push, counts the
// pulls answered, and can hold one push (the phone waits for its answer)
// until the test releases it.
type syncLog struct {
	mu     sync.Mutex
	pushes [][]pushedChange
	pulls  int
	gate   *pushGate
}

type pushGate struct {
	match   func([]pushedChange) bool
	held    chan struct{}
	release chan struct{}
	once    sync.Once
}

// open lets the held push through to the server.
func (g *pushGate) open() { g.once.Do(func() { close(g.release) }) }

func (l *syncLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/sync/push":
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			plain := body
			if r.Header.Get("Content-Encoding") == "gzip" {
				if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
					plain, _ = io.ReadAll(zr)
				}
			}
			var req struct {
				Changes []pushedChange `json:"changes"`
			}
			_ = json.Unmarshal(plain, &req)
			l.mu.Lock()
			l.pushes = append(l.pushes, req.Changes)
			gate := l.gate
			if gate != nil && gate.match(req.Changes) {
				l.gate = nil
			} else {
				gate = nil
			}
			l.mu.Unlock()
			if gate != nil {
				gate.held <- struct{}{}
				<-gate.release
			}
			next.ServeHTTP(w, r)
		case "/api/v1/sync/pull":
			next.ServeHTTP(w, r)
			l.mu.Lock()
			l.pulls++
			l.mu.Unlock()
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// holdNext makes the next push that match accepts wait until release is closed.
func (l *syncLog) holdNext(t testing.TB, match func([]pushedChange) bool) *pushGate {
	g := &pushGate{match: match, held: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(g.open)
	l.mu.Lock()
	l.gate = g
	l.mu.Unlock()
	return g
}

// newWorkingNote writes a new visit note of a working session at unit, as
// a user does on "#/note/new", and returns its id once its editor is open.
func (b *browser) newWorkingNote(title, unit string) string {
	b.t.Helper()
	b.go_("#/note/new")
	b.typeInto("#note-title-new", title)
	b.click(`button[data-purpose="working_session"]`)
	b.typeInto(".unit-picker input[type=search]", unit)
	b.click(fmt.Sprintf(`button[data-unit=%q]`, unit))
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-results')`)
	return strings.TrimPrefix(eval[string](b, `location.hash`), "#/note/")
}

// changesOf lists, push by push, the changes the server received for one row.
func (l *syncLog) changesOf(rowID string) []pushedChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []pushedChange
	for _, p := range l.pushes {
		for _, c := range p {
			if c.RowID == rowID {
				out = append(out, c)
			}
		}
	}
	return out
}

func (l *syncLog) counts() (pushes, pulls int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pushes), l.pulls
}

func fieldNames(f map[string]any) string {
	var names []string
	for n := range f {
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// An edit made while the note's creation is being pushed goes in a change
// of its own: the creation is answered and settled as sent, and is never
// sent again with the edit (a re-sent creation would lay fields the user
// did not touch over newer values, and a check-in's creation would be
// refused as immutable).
func TestEditDuringAPushIsAChangeOfItsOwn(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	log := &syncLog{}
	srv := startServerWrapped(t, log.wrap)
	db := srv.store.Reader()
	srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	b := newBrowser(t, exe, "edit-in-flight", srv.url)
	b.login("bithu.an")

	// The new note's push is held on its way to the server.
	gate := log.holdNext(t, func(cs []pushedChange) bool {
		for _, c := range cs {
			if c.Table == "visit_notes" {
				return true
			}
		}
		return false
	})
	noteID := b.newWorkingNote("Ghi chép làm việc tại Hà Nam", "Hà Nam")
	select {
	case <-gate.held:
	case <-time.After(45 * time.Second):
		b.fail("the new note was not pushed after it was written")
	}

	// Meanwhile the user writes the results; then the push is answered.
	const results = "Hoàn thành 9/10 chỉ tiêu công tác đoàn."
	b.typeInto("#note-results", results)
	b.waitText("#save-state", "Đã lưu trên máy")
	gate.open()
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	b.waitJS("nothing refused", `document.querySelectorAll('#rejected-list li').length === 0`)

	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND title = ? AND results = ?",
		noteID, "Ghi chép làm việc tại Hà Nam", results); n != 1 {
		t.Fatalf("the note with its results is not on the server: %d", n)
	}
	sent := log.changesOf(noteID)
	if len(sent) != 2 {
		t.Fatalf("the note went out in %d changes, want the creation and the edit: %+v", len(sent), sent)
	}
	if _, ok := sent[0].Fields["author_id"]; !ok {
		t.Errorf("first change is not the creation: fields %s", fieldNames(sent[0].Fields))
	}
	if got := fieldNames(sent[1].Fields); got != "results" {
		t.Errorf("the edit made during the push was sent with fields %s, want results only", got)
	}
	if sent[1].ID == sent[0].ID {
		t.Errorf("the edit reused the change id of the creation")
	}
}

// "Sửa" on a refused change holds it back while the user fixes it: a sync
// meanwhile (here the network coming back) does not send the values being
// corrected, to have them refused again; saving the form sends the fix.
func TestFixingARefusedChangeHoldsItBack(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	log := &syncLog{}
	srv := startServerWrapped(t, log.wrap)
	db := srv.store.Reader()
	srv.createUser(t, "bithu.an", "Nguyễn Văn An", "secretary")
	b := newBrowser(t, exe, "fixing", srv.url)
	b.login("bithu.an")

	const title = "Làm việc với Tỉnh đoàn Bắc Ninh"
	b.go_("#/trip/new")
	b.typeInto("#trip-title", title)
	b.typeInto(".unit-picker input[type=search]", "Bắc Ninh")
	b.click(`button[data-unit="Bắc Ninh"]`)
	b.click("#trip-save")
	b.waitJS("trip saved", `location.hash.startsWith('#/trip/') && !location.hash.endsWith('/new')`)
	tripID := strings.TrimPrefix(eval[string](b, `location.hash`), "#/trip/")
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")

	// A title over the server's 300 characters is refused.
	long := strings.Repeat("Rất dài ", 45)
	b.go_("#/trip/" + tripID)
	b.waitJS("trip form", fmt.Sprintf(`document.querySelector('#trip-title')?.value === %s`, jsq(title)))
	b.setField("#trip-title", long)
	b.click("#trip-save")
	b.waitJS("saved", savedBanner)
	b.syncAndWait()
	refused := fmt.Sprintf(`#rejected-list li[data-table="trips"][data-row=%q]`, tripID)
	b.waitJS("refusal listed", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(refused)))

	// "Sửa": the form opens on the refused title. A sync runs meanwhile.
	b.click(refused + ` [data-action="fix"]`)
	b.waitJS("form on the refused title", fmt.Sprintf(`location.hash === %s && document.querySelector('#trip-title')?.value === %s`,
		jsq("#/trip/"+tripID), jsq(long)))
	sentBefore := len(log.changesOf(tripID))
	_, pullsBefore := log.counts()
	eval[bool](b, `(window.dispatchEvent(new Event('online')), true)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, pulls := log.counts(); pulls > pullsBefore {
			break
		}
		if time.Now().After(deadline) {
			b.fail("no sync ran after the network came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sent := log.changesOf(tripID); len(sent) != sentBefore {
		b.fail("the change being fixed was pushed during the fix: %+v", sent[sentBefore:])
	}
	b.waitJS("still waiting on this device, not refused", `document.querySelector('.screen [data-sync]')?.dataset.sync === 'local'`)
	if eval[string](b, `document.querySelector('#trip-title').value`) != long {
		b.fail("the form lost the value being fixed")
	}

	// Saved, the fix goes out and is accepted.
	const fixed = "Làm việc với Tỉnh đoàn Bắc Ninh về công tác kiểm tra"
	b.setField("#trip-title", fixed)
	b.click("#trip-save")
	b.waitJS("saved", savedBanner)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	b.waitJS("nothing refused", `document.querySelectorAll('#rejected-list li').length === 0`)
	if n := count(t, db, "SELECT count(*) FROM trips WHERE id = ? AND title = ?", tripID, fixed); n != 1 {
		t.Fatalf("the fixed title is not on the server: %d", n)
	}
	sent := log.changesOf(tripID)
	if last := sent[len(sent)-1]; last.Fields["title"] != fixed {
		t.Errorf("the last change of the trip carried title %v, want the fix", last.Fields["title"])
	}
}
