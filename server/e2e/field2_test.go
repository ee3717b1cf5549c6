package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// phone opens a Go device client for username (created beforehand) and logs it in.
func phone(t *testing.T, srv *server, username string) *client.Device {
	t.Helper()
	ctx := context.Background()
	d, err := client.Open(ctx, filepath.Join(t.TempDir(), username+".db"), client.Options{
		BaseURL: srv.url, DeviceID: "e2e-" + strings.ReplaceAll(username, ".", "-"), RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open %s's device: %v", username, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Login(ctx, username, username+"-password"); err != nil {
		t.Fatalf("log %s in: %v", username, err)
	}
	return d
}

func put(t *testing.T, d *client.Device, table, id string, fields map[string]any) {
	t.Helper()
	if _, err := d.Upsert(context.Background(), table, id, fields); err != nil {
		t.Fatalf("write %s: %v", table, err)
	}
}

func syncDevice(t *testing.T, d *client.Device, who string) {
	t.Helper()
	if rep, err := d.Sync(context.Background()); err != nil || rep.Rejected > 0 {
		t.Fatalf("%s's sync: %+v, %v", who, rep, err)
	}
}

// waitHandedIn waits for the note on screen to read handed in: "Chờ gửi"
// until the sync has sent it, "Đã gửi" after.
func (b *browser) waitHandedIn() {
	b.t.Helper()
	b.waitJS("note handed in", `['Chờ gửi', 'Đã gửi'].includes(document.querySelector('#note-status')?.textContent)`)
}

// seededCampaign is the first periodic inspection of 2021 and its first units.
func seededCampaign(t *testing.T, srv *server) (string, []string) {
	t.Helper()
	var id, unitsJSON string
	if err := srv.store.Reader().QueryRow("SELECT id, unit_ids FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&id, &unitsJSON); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	var units []string
	if err := json.Unmarshal([]byte(unitsJSON), &units); err != nil || len(units) < 3 {
		t.Fatalf("campaign units %s: %v", unitsJSON, err)
	}
	return id, units[:3]
}

// An inspector's draft shows on the campaign view and opens there (no
// second note); its findings are corrected and deleted while a draft; a
// note handed in offline reads "Chờ gửi" until sent; sent back, it is
// flagged on the Notes tab and on Home with the reviewer and comment, and
// Home has no 60-day tally for an inspector who is not a secretary.
func TestInspectorNoteStatesAndRevision(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	icID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	campaignID, units := seededCampaign(t, srv)
	if code := srv.post(t, "/api/v1/teams", srv.adminToken(t), map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1", "leader_id": insID,
		"member_ids": []string{insID}, "unit_ids": units,
	}, nil); code >= 300 {
		t.Fatalf("create team: %d", code)
	}

	b := newBrowser(t, exe, "inspector2", srv.url)
	b.login("kiemtra.dung")
	b.go_("#/home")
	b.waitJS("home", `!!document.querySelector('[data-teams]')`)
	if eval[bool](b, `!!document.querySelector('#tally')`) {
		t.Error("an inspector who is not a secretary sees the field-day tally")
	}
	b.click(`[data-teams]`)
	b.waitJS("team listed", `document.querySelectorAll('[data-unit-row]').length === 3`)
	first := eval[string](b, `document.querySelector('[data-unit-row]').dataset.unitRow`)
	row := fmt.Sprintf(`[data-unit-row=%s]`, jsq(first))
	b.click(row + " button")
	b.waitJS("note form", `!!document.querySelector('#note-create')`)
	b.typeInto("#note-title-new", "Kiểm tra tại "+first)
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-results')`)
	noteID := eval[string](b, `location.hash.slice('#/note/'.length)`)

	// Two findings; the first corrected, the second deleted, while a draft.
	for _, f := range []string{"Chưa lập sổ theo dõi đoàn viên.", "Ghi nhầm vấn đề."} {
		b.typeInto("#finding-text", f)
		b.click("#finding-add")
		b.waitJS("finding listed", fmt.Sprintf(`!!document.querySelector('[data-finding-row=%s]')`, jsq(f)))
	}
	b.click(`[data-finding-row="Chưa lập sổ theo dõi đoàn viên."] [data-finding-edit]`)
	b.setField("[data-finding-text]", "Chưa lập sổ theo dõi đoàn viên năm 2021.")
	b.click("[data-finding-save]")
	b.waitJS("finding corrected", `!!document.querySelector('[data-finding-row="Chưa lập sổ theo dõi đoàn viên năm 2021."]')`)
	b.click(`[data-finding-row="Ghi nhầm vấn đề."] [data-finding-delete]`)
	b.click(`[data-finding-row="Ghi nhầm vấn đề."] [data-finding-delete-yes]`)
	b.waitJS("finding deleted", `!document.querySelector('[data-finding-row="Ghi nhầm vấn đề."]')`)

	// The campaign view shows the draft and opens it.
	b.go_("#/campaign")
	b.waitText(row+" [data-note-state]", "Bản nháp")
	b.click(row + " button")
	b.waitJS("the same note opens", fmt.Sprintf(`location.hash === %s`, jsq("#/note/"+noteID)))
	b.waitJS("note editor", `!!document.querySelector('#note-submit')`)

	// Handed in offline: waiting to be sent, on the note and in the list.
	b.offline(true)
	b.click("#note-submit")
	b.waitText("#note-status", "Chờ gửi")
	b.go_("#/notes")
	b.waitText(`[data-note-state="pending"]`, "Chờ gửi")
	b.waitText("[data-note-context]", first)
	b.waitText("[data-note-context]", "Kiểm tra định kỳ Đợt 1 năm 2021")
	b.screenshot("field2-01-notes-pending")
	b.offline(false)
	b.syncAndWait()
	b.go_("#/notes")
	b.waitText(`[data-note-state]`, "Đã gửi")
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE author_id = ? AND status = 'submitted'", insID); n != 1 {
		t.Fatalf("server has %d submitted notes by the inspector, want 1", n)
	}
	if n := count(t, db, "SELECT count(*) FROM findings WHERE note_id = ? AND deleted = 0", noteID); n != 1 {
		t.Errorf("server has %d live findings on the note, want 1", n)
	}
	if n := count(t, db, "SELECT count(*) FROM findings WHERE note_id = ? AND deleted = 0 AND text = 'Chưa lập sổ theo dõi đoàn viên năm 2021.'", noteID); n != 1 {
		t.Errorf("the corrected finding did not reach the server")
	}

	// Headquarters sends it back with a comment.
	ic := phone(t, srv, "bankiemtra.binh")
	syncDevice(t, ic, "the reviewer")
	const comment = "Bổ sung số liệu đoàn viên."
	put(t, ic, "visit_notes", noteID, map[string]any{"status": "needs_revision", "review_comment": comment, "reviewed_by": icID})
	put(t, ic, "reviews", uuid.NewString(), map[string]any{"note_id": noteID, "reviewer_id": icID, "decision": "needs_revision",
		"comment": comment, "at": time.Now().UTC().Format(time.RFC3339)})
	syncDevice(t, ic, "the reviewer")

	b.syncAndWait()
	b.go_("#/home")
	b.waitText("#nav-revisions", "1")
	b.waitText("#home-revisions [data-revision-comment]", comment)
	b.waitText("#home-revisions", "Trần Thị Bình")
	b.screenshot("field2-02-home-revision")
	b.click("#home-revisions [data-revision]")
	b.waitText("#note-status", "Cần chỉnh sửa")
	b.waitJS("findings editable again", `!!document.querySelector('[data-finding-edit]')`)
	b.screenshot("field2-03-note-sent-back")
}

// A unit liaison's home: the unit's inspection schedule and its reviewed
// conclusions and findings with follow-ups and due dates, not a draft's
// finding, and no check-in, trips or new-note buttons. A department's home:
// its findings by due date, overdue first, without the field tabs.
func TestLiaisonAndDepartmentHomes(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	srv := startServer(t)
	campaignID, units := seededCampaign(t, srv)
	unitID := units[0]
	var unitName, deptID string
	db := srv.store.Reader()
	if err := db.QueryRow("SELECT name FROM units WHERE id = ?", unitID).Scan(&unitName); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT id FROM departments ORDER BY name LIMIT 1").Scan(&deptID); err != nil {
		t.Fatal(err)
	}
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	icID := srv.createUser(t, "bankiemtra.binh", "Trần Thị Bình", "inspection_committee")
	admin := srv.adminToken(t)
	for _, u := range []map[string]any{
		{"username": "lienlac.ha", "password": "lienlac.ha-password", "full_name": "Đỗ Thu Hà", "roles": []string{"unit_liaison"}, "unit_id": unitID},
		{"username": "ban.phongtrao", "password": "ban.phongtrao-password", "full_name": "Lê Thị Cúc", "roles": []string{"department"}, "department_id": deptID},
	} {
		if code := srv.post(t, "/api/v1/users", admin, u, nil); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("create %s: %d", u["username"], code)
		}
	}
	if code := srv.post(t, "/api/v1/teams", admin, map[string]any{
		"campaign_id": campaignID, "name": "Đoàn kiểm tra số 1", "leader_id": insID,
		"member_ids": []string{insID}, "unit_ids": units,
	}, nil); code >= 300 {
		t.Fatalf("create team: %d", code)
	}

	// The inspector hands in one note (reviewed below) and keeps a draft.
	ins := phone(t, srv, "kiemtra.dung")
	reviewedID, draftID, findingID := uuid.NewString(), uuid.NewString(), uuid.NewString()
	put(t, ins, "visit_notes", reviewedID, map[string]any{"author_id": insID, "unit_id": unitID, "campaign_id": campaignID,
		"kind": "inspection", "title": "Kiểm tra Đợt 1", "conclusions": "Đơn vị hoàn thành tốt nhiệm vụ.", "status": "submitted"})
	put(t, ins, "findings", findingID, map[string]any{"note_id": reviewedID, "author_id": insID, "unit_id": unitID,
		"campaign_id": campaignID, "category": "recommendation", "text": "Kiện toàn ban chấp hành.", "status": "open"})
	put(t, ins, "visit_notes", draftID, map[string]any{"author_id": insID, "unit_id": unitID, "campaign_id": campaignID,
		"kind": "inspection", "title": "Nháp", "status": "draft"})
	put(t, ins, "findings", uuid.NewString(), map[string]any{"note_id": draftID, "author_id": insID, "unit_id": unitID,
		"campaign_id": campaignID, "category": "shortcoming", "text": "Vấn đề trong bản nháp.", "status": "open"})
	syncDevice(t, ins, "the inspector")

	// Headquarters accepts it, assigns the finding (due a month ago) and follows it up.
	ic := phone(t, srv, "bankiemtra.binh")
	syncDevice(t, ic, "the reviewer")
	put(t, ic, "visit_notes", reviewedID, map[string]any{"status": "reviewed", "review_comment": "", "reviewed_by": icID})
	put(t, ic, "reviews", uuid.NewString(), map[string]any{"note_id": reviewedID, "reviewer_id": icID, "decision": "reviewed",
		"comment": "", "at": time.Now().UTC().Format(time.RFC3339)})
	due := time.Now().AddDate(0, -1, 0).Format("2006-01-02")
	put(t, ic, "findings", findingID, map[string]any{"department_id": deptID, "due_on": due, "status": "in_progress"})
	put(t, ic, "follow_ups", uuid.NewString(), map[string]any{"finding_id": findingID, "author_id": icID,
		"at": time.Now().UTC().Format(time.RFC3339), "text": "Đã nhắc tỉnh đoàn."})
	syncDevice(t, ic, "the reviewer")

	l := newBrowser(t, exe, "liaison", srv.url)
	l.login("lienlac.ha")
	l.go_("#/home")
	l.waitText("#liaison-unit", unitName)
	l.waitText(`#liaison-schedule [data-schedule="Kiểm tra định kỳ Đợt 1 năm 2021"]`, "01/06/2021 – 15/06/2021")
	l.waitText("#liaison-schedule", "Phạm Văn Dũng")
	l.waitText("#liaison-conclusions [data-conclusions]", "Đơn vị hoàn thành tốt nhiệm vụ.")
	l.waitText(`[data-liaison-finding="Kiện toàn ban chấp hành."]`, "Đã nhắc tỉnh đoàn.")
	l.waitText(`[data-liaison-finding="Kiện toàn ban chấp hành."] [data-due]`, "Quá hạn")
	l.screenshot("field2-04-liaison-home")
	for sel, what := range map[string]string{
		`[data-liaison-finding="Vấn đề trong bản nháp."]`: "a draft's finding",
		"#home-checkin": "the check-in button", "#tab-checkin": "the check-in tab", "#tab-trips": "the trips tab",
	} {
		if eval[bool](l, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel))) {
			t.Errorf("the liaison's home shows %s", what)
		}
	}
	l.go_("#/notes")
	l.waitJS("notes list", `!!document.querySelector('#note-list')`)
	if eval[bool](l, `!!document.querySelector('#new-note')`) {
		t.Error("the liaison is offered a new note")
	}

	d := newBrowser(t, exe, "department", srv.url)
	d.login("ban.phongtrao")
	d.go_("#/home")
	d.waitText(`#dept-findings [data-dept-finding="Kiện toàn ban chấp hành."]`, "Quá hạn")
	if eval[bool](d, `!!document.querySelector('#tab-checkin') || !!document.querySelector('#tab-trips')`) {
		t.Error("a department user without a field role has the check-in or trips tab")
	}
	d.screenshot("field2-05-department-home")
}
