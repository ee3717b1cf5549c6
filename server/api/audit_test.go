package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// historyEntry is one entry of a row's history with its field maps read.
type historyEntry struct {
	historyEntryJSON
	applied, previous, lost map[string]any
}

// history is the history of a row as dev reads it; every entry carries
// exactly the fields openapi.json documents.
func (ts *testServer) history(t *testing.T, dev *device, table, id string) []historyEntry {
	t.Helper()
	r := ts.call(t, http.MethodGet, "/api/v1/history/"+table+"/"+id, dev.token, nil)
	var list historyList
	r.decode(t, http.StatusOK, &list)
	wantDocumentedItems(t, r.body, "HistoryEntry")
	out := make([]historyEntry, len(list.Items))
	for i, it := range list.Items {
		out[i].historyEntryJSON = it
		for _, f := range []struct {
			raw json.RawMessage
			dst *map[string]any
		}{{it.Applied, &out[i].applied}, {it.Previous, &out[i].previous}, {it.Lost, &out[i].lost}} {
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				t.Fatalf("history entry %s: %v", r.body, err)
			}
		}
	}
	return out
}

// conflicts lists the conflicts dev reads with query; every item carries
// exactly the fields openapi.json documents.
func (ts *testServer) conflicts(t *testing.T, dev *device, query string) []conflictJSON {
	t.Helper()
	r := ts.call(t, http.MethodGet, "/api/v1/conflicts"+query, dev.token, nil)
	var list conflictList
	r.decode(t, http.StatusOK, &list)
	wantDocumentedItems(t, r.body, "Conflict")
	return list.Items
}

// changeBy finds the history entry of one pushed change.
func changeBy(t *testing.T, items []historyEntry, changeID string) historyEntry {
	t.Helper()
	for _, it := range items {
		if it.ChangeID == changeID {
			return it
		}
	}
	t.Fatalf("history lacks change %s", changeID)
	return historyEntry{}
}

// TestHistoryAndConflictsAfterConcurrentEdits: an author and their team
// leader (the reviewer) change the status of one visit note, each from a
// device that had not pulled the other's write. Both orders of arrival are
// covered: the later clock arriving first (the other value is then lost on
// arrival) and arriving last (it overwrites, and the old value is kept as
// previous). Either way the row's history shows both writes with who, which
// device and which clock, and the pair is listed for review.
func TestHistoryAndConflictsAfterConcurrentEdits(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t)
	t.Run("refusals", func(t *testing.T) { auditRefusals(t, w) })
	now := func() time.Duration { return time.Since(time.UnixMilli(w.clockBase)) }

	cases := []struct {
		name        string
		note        string
		author      *device
		leaderFirst bool // the leader's write (the later clock) arrives first
	}{
		{"later clock arrives first", w.noteA, w.inspA, true},
		{"later clock arrives last", w.noteA2, w.inspA2, false},
	}
	for _, tc := range cases {
		// The leader sends the note back for revision.
		w.leaderA.push(t, "", w.leaderA.change("visit_notes", tc.note, map[string]any{
			"status": "needs_revision", "review_comment": "Bổ sung kết luận", "reviewed_by": w.leaderA.userID}))

		// Both devices are up to date before going offline.
		_, authorBase := tc.author.pullAll(t, "")
		_, leaderBase := w.leaderA.pullAll(t, "")

		// Offline, the author amends and resubmits; the leader, a little
		// later by the clock, asks for a further revision.
		at := now()
		authorCh := protocol.Change{ID: uuid.NewString(), Table: "visit_notes", RowID: tc.note, Op: protocol.OpUpsert,
			HLC: tc.author.clock(at + 10*time.Second), Fields: map[string]any{"status": "submitted"}}
		leaderCh := protocol.Change{ID: uuid.NewString(), Table: "visit_notes", RowID: tc.note, Op: protocol.OpUpsert,
			HLC: w.leaderA.clock(at + 20*time.Second), Fields: map[string]any{
				"status": "needs_revision", "review_comment": "Bổ sung số liệu đoàn viên", "reviewed_by": w.leaderA.userID}}
		if tc.leaderFirst {
			w.leaderA.push(t, leaderBase, leaderCh)
			tc.author.push(t, authorBase, authorCh)
		} else {
			tc.author.push(t, authorBase, authorCh)
			w.leaderA.push(t, leaderBase, leaderCh)
		}

		// Everyone converges on the later clock's value.
		rows, _ := tc.author.pullAll(t, "")
		if got := rows[key("visit_notes", tc.note)].Fields["status"]; got != "needs_revision" {
			t.Fatalf("%s: merged status = %v, want needs_revision", tc.name, got)
		}

		// The history holds the creation, the first review and both
		// writes, in arrival order.
		items := w.history(t, w.admin, "visit_notes", tc.note)
		if len(items) != 4 {
			t.Fatalf("%s: history has %d entries, want 4: %+v", tc.name, len(items), items)
		}
		for i := 1; i < len(items); i++ {
			if items[i].Seq <= items[i-1].Seq {
				t.Errorf("%s: history is not in server order", tc.name)
			}
		}
		a, l := changeBy(t, items, authorCh.ID), changeBy(t, items, leaderCh.ID)
		if str(a.UserID) != tc.author.userID || a.DeviceID != tc.author.id || a.HLC != authorCh.HLC || a.Op != "upsert" {
			t.Errorf("%s: author's entry = %+v", tc.name, a)
		}
		if str(l.UserID) != w.leaderA.userID || l.DeviceID != w.leaderA.id || l.HLC != leaderCh.HLC {
			t.Errorf("%s: leader's entry = %+v", tc.name, l)
		}
		if a.ReceivedAt == "" || l.ReceivedAt == "" {
			t.Errorf("%s: entries lack received_at", tc.name)
		}
		if l.applied["status"] != "needs_revision" || l.applied["review_comment"] != "Bổ sung số liệu đoàn viên" {
			t.Errorf("%s: leader's applied = %v", tc.name, l.applied)
		}
		if tc.leaderFirst {
			// The author's older write arrived after a newer one: it lost
			// on arrival and is kept as lost.
			if a.lost["status"] != "submitted" || len(a.applied) != 0 {
				t.Errorf("%s: author's entry applied %v lost %v, want nothing applied and status submitted lost", tc.name, a.applied, a.lost)
			}
			if l.previous["status"] != "needs_revision" {
				t.Errorf("%s: leader's previous = %v, want status needs_revision", tc.name, l.previous)
			}
		} else {
			// The author's write was applied, then overwritten: its value
			// is kept as the leader's previous.
			if a.applied["status"] != "submitted" || a.previous["status"] != "needs_revision" {
				t.Errorf("%s: author's entry applied %v previous %v", tc.name, a.applied, a.previous)
			}
			if l.previous["status"] != "submitted" {
				t.Errorf("%s: leader's previous = %v, want status submitted", tc.name, l.previous)
			}
		}

		// The pair is listed for review with both values, users, devices, clocks.
		list := w.conflicts(t, w.ic, "?resolved=false&table=visit_notes&row_id="+tc.note)
		if len(list) != 1 {
			t.Fatalf("%s: %d open conflicts on the note, want 1: %+v", tc.name, len(list), list)
		}
		c := list[0]
		if c.Table != "visit_notes" || c.RowID != tc.note || c.Field != "status" || c.DetectedAt == "" || c.ResolvedAt != nil {
			t.Errorf("%s: conflict = %+v", tc.name, c)
		}
		if str(c.WinnerValue) != "needs_revision" || c.WinnerHLC != leaderCh.HLC ||
			str(c.WinnerUser) != w.leaderA.userID || str(c.WinnerDevice) != w.leaderA.id {
			t.Errorf("%s: winner = %s %s %s %s", tc.name, str(c.WinnerValue), c.WinnerHLC, str(c.WinnerUser), str(c.WinnerDevice))
		}
		if str(c.LoserValue) != "submitted" || c.LoserHLC != authorCh.HLC ||
			str(c.LoserUser) != tc.author.userID || str(c.LoserDevice) != tc.author.id {
			t.Errorf("%s: loser = %s %s %s %s", tc.name, str(c.LoserValue), c.LoserHLC, str(c.LoserUser), str(c.LoserDevice))
		}
	}

	// Reviewing: the Inspection Committee resolves one pair; a second
	// resolution keeps the first reviewer.
	open := w.conflicts(t, w.admin, "?resolved=false")
	if len(open) != 2 {
		t.Fatalf("%d open conflicts, want 2", len(open))
	}
	first := strconv.FormatInt(open[0].ID, 10)
	w.call(t, http.MethodPost, "/api/v1/conflicts/"+first+"/resolve", w.ic.token, nil).wantStatus(t, http.StatusNoContent)
	w.call(t, http.MethodPost, "/api/v1/conflicts/"+first+"/resolve", w.admin.token, nil).wantStatus(t, http.StatusNoContent)
	if got := w.conflicts(t, w.admin, "?resolved=false"); len(got) != 1 || got[0].ID != open[1].ID {
		t.Errorf("open after resolving one = %+v", got)
	}
	done := w.conflicts(t, w.admin, "?resolved=true")
	if len(done) != 1 || done[0].ID != open[0].ID || str(done[0].ResolvedBy) != w.ic.userID || done[0].ResolvedAt == nil {
		t.Errorf("resolved = %+v, want the first pair resolved by the committee member", done)
	}
	if all := w.conflicts(t, w.admin, ""); len(all) != 2 {
		t.Errorf("without a filter: %d conflicts, want 2", len(all))
	}
	if page := w.conflicts(t, w.admin, "?limit=1&after="+first); len(page) != 1 || page[0].ID != open[1].ID {
		t.Errorf("second page = %+v", page)
	}
}

// auditRefusals checks who may not use the audit endpoints and what they
// refuse, on a world whose note B was never edited after creation.
func auditRefusals(t *testing.T, w *teamWorld) {
	hist := "/api/v1/history/visit_notes/" + w.noteB
	cases := []struct {
		name   string
		dev    *device
		method string
		path   string
		status int
		code   string
	}{
		{"inspector reads history", w.inspA, http.MethodGet, hist, http.StatusForbidden, "forbidden"},
		{"secretary lists conflicts", w.secA, http.MethodGet, "/api/v1/conflicts", http.StatusForbidden, "forbidden"},
		{"department resolves", w.deptUser, http.MethodPost, "/api/v1/conflicts/1/resolve", http.StatusForbidden, "forbidden"},
		{"team leader lists conflicts", w.leaderA, http.MethodGet, "/api/v1/conflicts", http.StatusForbidden, "forbidden"},
		{"not logged in", &device{}, http.MethodGet, hist, http.StatusUnauthorized, "unauthorized"},
		{"a table outside the sync registry", w.admin, http.MethodGet, "/api/v1/history/refresh_tokens/" + w.noteB, http.StatusNotFound, "unknown_table"},
		{"a row never written", w.admin, http.MethodGet, "/api/v1/history/visit_notes/5f0c8f1e-0000-4000-8000-000000000000", http.StatusNotFound, "not_found"},
		{"an unknown conflict", w.ic, http.MethodPost, "/api/v1/conflicts/999999/resolve", http.StatusNotFound, "not_found"},
		{"a conflict id that is no number", w.ic, http.MethodPost, "/api/v1/conflicts/abc/resolve", http.StatusNotFound, "not_found"},
		{"resolved is no boolean", w.ic, http.MethodGet, "/api/v1/conflicts?resolved=maybe", http.StatusBadRequest, "validation_failed"},
		{"limit out of range", w.ic, http.MethodGet, "/api/v1/conflicts?limit=0", http.StatusBadRequest, "validation_failed"},
		{"conflicts of an unknown table", w.ic, http.MethodGet, "/api/v1/conflicts?table=refresh_tokens", http.StatusBadRequest, "unknown_table"},
		{"conflicts of a row id that is no UUID", w.ic, http.MethodGet, "/api/v1/conflicts?row_id=abc", http.StatusBadRequest, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.call(t, tc.method, tc.path, tc.dev.token, nil).wantError(t, tc.status, tc.code)
		})
	}

	// Headquarters read a row's history, creation included.
	for _, dev := range []*device{w.admin, w.ic} {
		items := w.history(t, dev, "visit_notes", w.noteB)
		if len(items) != 1 || items[0].applied["title"] != "Kiểm tra Cà Mau" || str(items[0].UserID) != w.inspB.userID {
			b, _ := json.Marshal(items)
			t.Errorf("%s: history of a fresh note = %s", dev.id, b)
		}
	}
}
