package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dicoso/sync/client"
)

// A decision made in the console, refused once and sent again from the
// Sync screen ("Gửi lại"), is still the decision made from the note the
// reviewer read: it goes back with the base of that read (docs/protocol.md,
// Change.base), whatever the laptop's clock says.
//
// Bình reads a submitted note in the console and sends it back; an
// administrator had just taken her Inspection Committee role away by
// mistake, so the server refuses the decision. Meanwhile her colleague Cúc
// accepts the note on her tablet: Bình never sees that. The role is given
// back; Bình's laptop now runs 48 hours behind; she sends the decision
// again. It stands over the submission it was made from, and Cúc's
// acceptance, which Bình had not seen, is listed as a conflict for the
// committee to settle (the resent change must not claim it saw it).
func TestConsoleDecisionResentAfterARefusalKeepsItsBase(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	ctx := context.Background()
	log := &syncLog{}
	srv := startServerWrapped(t, log.wrap)
	db := srv.store.Reader()
	srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	binhID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee", "inspector")
	cucID := srv.createUser(t, "bankiemtra.cuc", "Lê Thị Cúc", "inspection_committee")
	const comment = "Bổ sung số liệu đoàn viên mới kết nạp."

	// The author submits a note on a phone.
	a := newBrowser(t, exe, "author", srv.url)
	a.login("kiemtra.dung")
	a.go_("#/note/new")
	a.typeInto("#note-title-new", "Ghi chép làm việc tại Hà Nam")
	a.click(`button[data-purpose="working_session"]`)
	a.typeInto(".unit-picker input[type=search]", "Hà Nam")
	a.click(`button[data-unit="Hà Nam"]`)
	a.click("#note-create")
	a.waitJS("note editor", `!!document.querySelector('#note-results')`)
	noteID := strings.TrimPrefix(eval[string](a, `location.hash`), "#/note/")
	a.typeInto("#note-results", "Hoàn thành 9/10 chỉ tiêu công tác đoàn.")
	a.waitText("#save-state", "Đã lưu trên máy")
	a.click("#note-submit")
	a.waitHandedIn()
	a.syncAndWait()

	// Bình reads it in the console.
	r := newBrowser(t, exe, "reviewer", srv.url)
	r.login("bankiemtra.binh")
	r.viewport(1366, 900, false)
	r.go_("#/console/queue")
	row := fmt.Sprintf(`#queue-list [data-note=%q]`, noteID)
	r.click(row)
	r.waitJS("decision, once the note is read", `document.querySelector('#decide-revise')?.disabled === false`)

	// Her role is taken away by mistake; her decision is refused.
	admin := srv.adminToken(t)
	if code := srv.patch(t, "/api/v1/users/"+binhID, admin, map[string]any{"roles": []string{"inspector"}}, nil); code != http.StatusOK {
		t.Fatalf("take the role away: %d", code)
	}
	r.typeInto("#decision-comment", comment)
	r.click("#decide-revise")
	r.consoleSync()
	r.waitJS("decision refused", fmt.Sprintf(`!!document.querySelector(%s)`, jsq(row+` [data-decision="refused"]`)))
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE id = ? AND status = 'submitted'", noteID); n != 1 {
		t.Fatalf("the refused decision changed the note on the server")
	}
	// The note says why, in her words, and where to send it again.
	r.click(row)
	r.waitText("#decision-refused", "Máy chủ từ chối quyết định này: Bạn không có quyền thực hiện thay đổi này.")
	notEnglish(r, "#decision-refused")
	r.screenshot("console-resend-00-refused-1366")

	// Cúc accepts the note on her tablet, unseen by Bình.
	tablet, err := client.Open(ctx, filepath.Join(t.TempDir(), "cuc.db"), client.Options{
		BaseURL: srv.url, DeviceID: "e2e-cuc-tablet", RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open the tablet: %v", err)
	}
	t.Cleanup(func() { tablet.Close() })
	if _, err := tablet.Login(ctx, "bankiemtra.cuc", "bankiemtra.cuc-password"); err != nil {
		t.Fatalf("log the tablet in: %v", err)
	}
	if _, err := tablet.Pull(ctx); err != nil {
		t.Fatalf("tablet pull: %v", err)
	}
	if _, err := tablet.Upsert(ctx, "visit_notes", noteID, map[string]any{"status": "reviewed", "reviewed_by": cucID}); err != nil {
		t.Fatalf("tablet decision: %v", err)
	}
	if rep, err := tablet.Sync(ctx); err != nil || rep.Applied != 1 {
		t.Fatalf("tablet sync: %+v, %v", rep, err)
	}

	// The role is given back. Bình's laptop clock is now two days behind.
	if code := srv.patch(t, "/api/v1/users/"+binhID, admin, map[string]any{"roles": []string{"inspection_committee", "inspector"}}, nil); code != http.StatusOK {
		t.Fatalf("give the role back: %d", code)
	}
	r.shiftClock(-48 * time.Hour)
	r.reload()
	r.ready()
	behind := time.Duration(time.Now().UnixMilli()-int64(eval[float64](r, `Date.now()`))) * time.Millisecond
	if math.Abs(behind.Hours()-48) > 0.1 {
		r.fail("the page clock is %v behind, want 48h", behind)
	}
	r.syncAndWait()

	// From the Sync screen she sends the decision (and its review round) again.
	r.waitJS("the decision and its round are listed as refused", `document.querySelectorAll('#rejected-list li').length === 2`)
	r.screenshot("console-resend-01-refused-390")
	for range 2 {
		r.click(`#rejected-list [data-action="resend"]`)
		r.waitJS("resent", `document.querySelectorAll('#rejected-list li').length < 2 || !document.querySelector('#rejected-list [data-action="resend"]')`)
		time.Sleep(100 * time.Millisecond)
	}
	r.waitJS("nothing refused", `document.querySelectorAll('#rejected-list li').length === 0`)
	r.syncAndWait()
	r.waitText("#pending-count", "Thay đổi chờ gửi: 0")

	// The decision stands on the server and on the author's phone.
	var status, got, reviewedBy string
	if err := db.QueryRow("SELECT status, review_comment, reviewed_by FROM visit_notes WHERE id = ?", noteID).
		Scan(&status, &got, &reviewedBy); err != nil {
		t.Fatal(err)
	}
	if status != "needs_revision" || got != comment || reviewedBy != binhID {
		t.Errorf("note on the server: status=%q comment=%q reviewed_by=%q, want Bình's decision", status, got, reviewedBy)
	}
	a.syncAndWait()
	a.go_("#/note/" + noteID)
	a.waitText("#note-status", "Cần chỉnh sửa")
	a.waitText("#review-comment", comment)

	// The decision went out twice, both times with the base of Bình's read.
	var sent []pushedChange
	for _, c := range log.changesOf(noteID) {
		if c.Fields["review_comment"] == comment {
			sent = append(sent, c)
		}
	}
	if len(sent) != 2 || sent[0].Base == "" || sent[1].Base != sent[0].Base {
		t.Errorf("Bình's decision was pushed %d times with bases %v, want twice with the base of her read", len(sent), bases(sent))
	}

	// Cúc's acceptance, made after Bình's read, is a conflict to settle,
	// shown in the note's history.
	if n := count(t, db, "SELECT count(*) FROM conflicts WHERE row_id = ? AND field = 'status' AND winner_value = 'needs_revision' AND loser_value = 'reviewed'", noteID); n != 1 {
		t.Errorf("%d conflicts list Cúc's acceptance against Bình's decision, want 1", n)
	}
	r.go_("#/console/history/visit_notes/" + noteID)
	r.waitJS("conflict listed", `document.querySelectorAll('#history-conflicts [data-conflict]').length > 0`)
	r.waitText("#history-conflicts", "Lê Thị Cúc")
	eval[bool](r, `(document.querySelector('#history-conflicts').scrollIntoView({ block: 'start' }), true)`)
	r.screenshot("console-resend-02-conflict-1366")
}

func bases(cs []pushedChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Base
	}
	return out
}
