package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"dicoso/sync/client"
)

// teammate is another inspector's phone: the Go device client, writing
// through the same sync protocol as the PWA.
func (s *server) teammate(t *testing.T, username, fullName string) (*client.Device, string) {
	t.Helper()
	ctx := context.Background()
	id := s.createUser(t, username, fullName, "inspector")
	d, err := client.Open(ctx, filepath.Join(t.TempDir(), username+".db"), client.Options{
		BaseURL: s.url, DeviceID: "e2e-" + strings.ReplaceAll(username, ".", "-"), RelaxedDurability: true,
	})
	if err != nil {
		t.Fatalf("open %s's device: %v", username, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Login(ctx, username, username+"-password"); err != nil {
		t.Fatalf("log %s in: %v", username, err)
	}
	return d, id
}

// submitNote writes a submitted campaign note from a teammate's phone and syncs it.
func submitNote(t *testing.T, d *client.Device, author, campaign, unit, title string) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Upsert(ctx, "visit_notes", uuid.NewString(), map[string]any{
		"author_id": author, "unit_id": unit, "campaign_id": campaign, "kind": "inspection",
		"title": title, "results": "Hoàn thành các chỉ tiêu.", "status": "submitted",
	}); err != nil {
		t.Fatalf("write %q: %v", title, err)
	}
	rep, err := d.Sync(ctx)
	if err != nil || rep.Applied != 1 {
		t.Fatalf("sync %q: %+v, %v", title, rep, err)
	}
}

// tee keeps a copy of what the handler wrote.
type tee struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *tee) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// An inspector is moved from one team of a campaign to another while their
// phone holds unsent work. At the next sync the server answers the pull
// with reset (their read scope changed), and the app drops its pulled copy
// and takes a fresh snapshot: the old team's notes by others leave the
// phone, the new team's units arrive with the note a new teammate wrote
// before the move (older than the phone's cursor: only a snapshot brings
// it), and nothing the inspector did on the phone is lost: an edit made
// offline (sent by that same sync, before the pull) and a check-in whose
// photo the server failed to take (so it is still only on the phone when
// the snapshot is swapped in).
func TestScopeChangeResetsTheCopyAndKeepsLocalWork(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	var resets atomic.Int32     // pull answers with reset: true
	var failUploads atomic.Bool // the server refuses photo uploads (a proxy's 503)
	srv := startServerWrapped(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/attachments/") && failUploads.Load():
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"upstream unavailable"}}`))
			case r.URL.Path == "/api/v1/sync/pull":
				rec := &tee{ResponseWriter: w}
				next.ServeHTTP(rec, r)
				var res struct {
					Reset bool `json:"reset"`
				}
				if json.Unmarshal(rec.body.Bytes(), &res) == nil && res.Reset {
					resets.Add(1)
				}
			default:
				next.ServeHTTP(w, r)
			}
		})
	})
	db := srv.store.Reader()
	insID := srv.createUser(t, "kiemtra.dung", "Phạm Văn Dũng", "inspector")
	hai, haiID := srv.teammate(t, "kiemtra.hai", "Đỗ Văn Hải")
	lan, lanID := srv.teammate(t, "kiemtra.lan", "Vũ Thị Lan")

	var campaignID, unitsJSON string
	if err := db.QueryRow("SELECT id, unit_ids FROM campaigns WHERE name = 'Kiểm tra định kỳ Đợt 1 năm 2021'").Scan(&campaignID, &unitsJSON); err != nil {
		t.Fatalf("seeded campaign: %v", err)
	}
	var units []string
	if err := json.Unmarshal([]byte(unitsJSON), &units); err != nil || len(units) < 5 {
		t.Fatalf("campaign units %s: %v", unitsJSON, err)
	}
	names := map[string]string{}
	for _, u := range units[:5] {
		var n string
		if err := db.QueryRow("SELECT name FROM units WHERE id = ?", u).Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[u] = n
	}
	admin := srv.adminToken(t)
	team := func(name, leader string, members, unitIDs []string) string {
		var row struct {
			ID string `json:"id"`
		}
		if code := srv.post(t, "/api/v1/teams", admin, map[string]any{
			"campaign_id": campaignID, "name": name, "leader_id": leader, "member_ids": members, "unit_ids": unitIDs,
		}, &row); code != http.StatusCreated || row.ID == "" {
			t.Fatalf("create %s: %d", name, code)
		}
		return row.ID
	}
	team1 := team("Đoàn kiểm tra số 1", haiID, []string{haiID, insID}, units[:3])
	team2 := team("Đoàn kiểm tra số 2", lanID, []string{lanID}, units[3:5])
	submitNote(t, hai, haiID, campaignID, units[0], "Ghi chép của Hải tại "+names[units[0]])
	submitNote(t, lan, lanID, campaignID, units[3], "Ghi chép của Lan tại "+names[units[3]])

	// The inspector's phone, on team 1: it sees team 1's units and Hải's note.
	b := newBrowser(t, exe, "moved-inspector", srv.url)
	b.login("kiemtra.dung")
	b.go_("#/campaign")
	b.waitJS("team 1 listed", `document.querySelectorAll('[data-team="Đoàn kiểm tra số 1"] [data-unit-row]').length === 3`)
	b.waitJS("Hải's note counted", fmt.Sprintf(`!!document.querySelector('[data-unit-row=%s] .ok-text')`, jsq(names[units[0]])))
	if eval[bool](b, `!!document.querySelector('[data-team="Đoàn kiểm tra số 2"]')`) {
		b.fail("team 2 is listed before the inspector joined it")
	}
	// Their own note on a unit of team 1, synced.
	b.click(fmt.Sprintf(`[data-unit-row=%s] button`, jsq(names[units[1]])))
	b.waitJS("note form", `!!document.querySelector('#note-title-new')`)
	b.typeInto("#note-title-new", "Ghi chép của Dũng")
	b.click("#note-create")
	b.waitJS("note editor", `!!document.querySelector('#note-results')`)
	b.typeInto("#note-results", "Đã làm việc với Ban Thường vụ.")
	b.waitText("#save-state", "Đã lưu trên máy")
	noteURL := eval[string](b, `location.hash`)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	b.go_("#/notes")
	b.waitJS("Hải's note on the phone", fmt.Sprintf(`!!document.querySelector('[data-note=%s]')`, jsq("Ghi chép của Hải tại "+names[units[0]])))

	// Offline: amend the note, and check in with a photo.
	b.offline(true)
	b.go_(noteURL)
	b.waitJS("note editor", `!!document.querySelector('#note-conclusions')`)
	b.typeInto("#note-conclusions", "Đề nghị bổ sung kinh phí.")
	b.waitText("#save-state", "Đã lưu trên máy")
	b.go_("#/checkin")
	b.typeInto(".unit-picker input[type=search]", names[units[1]])
	b.click(fmt.Sprintf(`button[data-unit=%s]`, jsq(names[units[1]])))
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#photo-input"), []string{writePhoto(t)}))
	b.waitJS("photo compressed", `!!document.querySelector('#photo-size')`)
	b.typeInto("#checkin-note", "Điểm danh trước khi chuyển đoàn")
	b.click("#checkin-save")
	b.waitJS("check-in listed", `document.querySelectorAll('#checkin-list [data-sync="local"]').length === 1`)

	// Meanwhile the Inspection Committee moves the inspector to team 2.
	if code := srv.patch(t, "/api/v1/teams/"+team1, admin, map[string]any{"member_ids": []string{haiID}}, nil); code != http.StatusOK {
		t.Fatalf("take the inspector off team 1: %d", code)
	}
	if code := srv.patch(t, "/api/v1/teams/"+team2, admin, map[string]any{"member_ids": []string{lanID, insID}}, nil); code != http.StatusOK {
		t.Fatalf("put the inspector on team 2: %d", code)
	}
	if n := resets.Load(); n != 0 {
		t.Fatalf("%d resets before the move", n)
	}

	// Network back, but the server fails the photo upload: the check-in
	// stays queued while the sync pushes the rest and pulls.
	failUploads.Store(true)
	b.offline(false)
	b.syncAllowingProblems()
	if resets.Load() == 0 {
		b.fail("the server did not answer the pull with reset after the move")
	}
	b.waitText("#sync-problem", "unavailable")
	b.waitText("#pending-count", "Thay đổi chờ gửi: 2") // the check-in and its photo

	// The fresh copy: team 2 with Lan's note; team 1 and Hải's note gone.
	b.go_("#/campaign")
	b.waitJS("team 2 listed", `document.querySelectorAll('[data-team="Đoàn kiểm tra số 2"] [data-unit-row]').length === 2`)
	b.waitJS("Lan's note counted", fmt.Sprintf(`!!document.querySelector('[data-unit-row=%s] .ok-text')`, jsq(names[units[3]])))
	if eval[bool](b, `!!document.querySelector('[data-team="Đoàn kiểm tra số 1"]')`) {
		b.fail("team 1 is still listed after the move")
	}
	b.screenshot("15-campaign-after-reset")
	b.go_("#/notes")
	b.waitJS("Lan's note on the phone", fmt.Sprintf(`!!document.querySelector('[data-note=%s]')`, jsq("Ghi chép của Lan tại "+names[units[3]])))
	b.waitJS("own note kept", `!!document.querySelector('[data-note="Ghi chép của Dũng"]')`)
	if eval[bool](b, fmt.Sprintf(`!!document.querySelector('[data-note=%s]')`, jsq("Ghi chép của Hải tại "+names[units[0]]))) {
		b.fail("Hải's note, now out of the inspector's scope, is still on the phone")
	}
	// Local work survived the swap: the offline amendment and the queued check-in.
	b.go_(noteURL)
	b.waitJS("offline amendment kept", `document.querySelector('#note-conclusions')?.value === 'Đề nghị bổ sung kinh phí.'`)
	b.go_("#/checkin")
	b.waitJS("queued check-in kept", `document.querySelectorAll('#checkin-list [data-sync="local"]').length === 1`)
	b.waitText("#checkin-list", "Ảnh chưa gửi")
	b.waitText("#checkin-list", "Điểm danh trước khi chuyển đoàn")
	if n := count(t, db, "SELECT count(*) FROM visit_notes WHERE author_id = ? AND conclusions = 'Đề nghị bổ sung kinh phí.'", insID); n != 1 {
		t.Errorf("the offline amendment is not on the server: %d", n)
	}
	if n := count(t, db, "SELECT count(*) FROM checkins WHERE user_id = ?", insID); n != 0 {
		t.Errorf("the check-in reached the server before its photo: %d", n)
	}

	// Uploads work again: the kept check-in goes out with its photo.
	failUploads.Store(false)
	b.syncAndWait()
	b.waitText("#pending-count", "Thay đổi chờ gửi: 0")
	if n := count(t, db, `SELECT count(*) FROM checkins c JOIN attachments a ON a.sha256 = c.photo
		WHERE c.user_id = ? AND c.unit_id = ? AND c.note = 'Điểm danh trước khi chuyển đoàn'`, insID, units[1]); n != 1 {
		t.Errorf("the kept check-in and its photo are not on the server: %d", n)
	}
}
