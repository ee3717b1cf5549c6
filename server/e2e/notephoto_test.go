package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNotePhotoSyncedWhole: offline, an inspector adds a photo to a visit
// note; it is compressed on the phone, shown on the note as not sent yet,
// and the note waits. Online, one sync uploads the bytes before the note
// that names them (the server refuses a note naming a blob it lacks, so
// the order is what lets the note through): the server holds the photo
// byte for byte under its hash, the note names it, and the reviewer's
// phone, which never had the bytes, shows it on the note.
func TestNotePhotoSyncedWhole(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.lan", "Nguyễn Thị Lan", "inspector")
	srv.createUser(t, "bankiemtra.son", "Hoàng Văn Sơn", "inspection_committee")
	campaignID, units := seededCampaign(t, srv)

	b := newBrowser(t, exe, "inspector-photo", srv.url)
	b.login("kiemtra.lan")
	b.go_(fmt.Sprintf("#/note/new?unit=%s&campaign=%s", units[0], campaignID))
	b.waitJS("note form", `!!document.querySelector('#note-create')`)
	b.typeInto("#note-title-new", "Kiểm tra có ảnh")
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-photo-input')`)
	noteID := eval[string](b, `location.hash.slice('#/note/'.length)`)
	b.typeInto("#note-results", "Sổ sách đầy đủ.")
	b.syncAndWait()

	b.offline(true)
	b.go_("#/note/" + noteID)
	b.waitJS("note editor", `!!document.querySelector('#note-photo-input')`)
	original := writePhoto(t)
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#note-photo-input"), []string{original}))
	b.waitJS("photo on the note", `(() => { const img = document.querySelector('#note-photos [data-photo] img');
		return !!img && img.complete && img.naturalWidth === 1600 && img.getBoundingClientRect().width > 0; })()`)
	b.waitText("#note-photos [data-photo-pending]", "Ảnh chưa gửi")
	sha := eval[string](b, `document.querySelector('#note-photos [data-photo]').dataset.photo`)
	b.click("#note-submit")
	b.waitText("#note-status", "Chờ gửi")
	eval[bool](b, `(document.querySelector('#note-photos').scrollIntoView({ block: 'start' }), true)`)
	b.screenshot("field3-01-note-photo-offline")
	if n := count(t, db, "SELECT count(*) FROM attachments WHERE sha256 = ?", sha); n != 0 {
		t.Fatalf("the server has the photo while the phone is offline")
	}

	b.offline(false)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	b.go_("#/note/" + noteID)
	b.waitText("#note-status", "Đã gửi")
	b.waitJS("photo sent", `!!document.querySelector('#note-photos [data-photo]') && !document.querySelector('#note-photos [data-photo-pending]')`)

	// The server holds the note naming the photo, and the photo whole.
	if n := count(t, db, `SELECT count(*) FROM visit_notes n, json_each(n.attachments) j
		WHERE n.id = ? AND n.author_id = ? AND n.status = 'submitted' AND j.value = ?`, noteID, insID, sha); n != 1 {
		t.Fatalf("the server's note does not name the photo %s", sha)
	}
	req, err := http.NewRequest(http.MethodGet, srv.url+"/api/v1/attachments/"+sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.adminToken(t))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET the photo: %d %v", res.StatusCode, err)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != sha || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("the server's photo: %d bytes hashing to %x (%s), want %s", len(body), sum, res.Header.Get("Content-Type"), sha)
	}
	if fi, err := os.Stat(original); err != nil || int64(len(body)) >= fi.Size() {
		t.Errorf("the photo reached the server at %d bytes, not compressed from the camera's %v", len(body), fi.Size())
	}

	// The reviewer's phone never held the bytes: it shows the photo from the server.
	r := newBrowser(t, exe, "reviewer-photo", srv.url)
	r.login("bankiemtra.son")
	r.syncAndWait()
	r.go_("#/note/" + noteID)
	r.waitJS("photo from the server", `(() => { const img = document.querySelector('#note-photos [data-photo] img');
		return !!img && img.complete && img.naturalWidth === 1600; })()`)
	if eval[bool](r, `!!document.querySelector('#note-photo-input')`) {
		t.Error("the reviewer is offered to add photos to someone else's note")
	}
	eval[bool](r, `(document.querySelector('#note-photos').scrollIntoView({ block: 'start' }), true)`)
	r.screenshot("field3-02-note-photo-reviewer")
}
