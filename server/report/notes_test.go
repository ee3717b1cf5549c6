package report

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"dicoso/server/seed"
	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

func TestFold(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Lai Châu":                        "lai chau",
		"Đoàn TNCS Hồ Chí Minh":           "doan tncs ho chi minh",
		"đường ĐI":                        "duong di",
		"Trường học ưu tiên":              "truong hoc uu tien",
		"Nghị quyết Đại hội lần thứ XIII": "nghi quyet dai hoi lan thu xiii",
		// Decomposed input (NFD) folds alike.
		"Lai Cha\u0302u": "lai chau",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// Fold's table of letters folds each one as decomposing it does (the
// definition: NFD, marks dropped, "đ" as "d", lower case), for every
// character of the planes Vietnamese text is written in.
func TestFoldIsDecomposition(t *testing.T) {
	t.Parallel()
	byDecomposition := func(s string) string {
		var b strings.Builder
		for _, r := range norm.NFD.String(s) {
			switch {
			case unicode.Is(unicode.Mn, r):
				continue
			case r == 'đ' || r == 'Đ':
				r = 'd'
			}
			b.WriteRune(unicode.ToLower(r))
		}
		return b.String()
	}
	for r := rune(1); r < 0x3000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		if got, want := Fold(string(r)), byDecomposition(string(r)); got != want {
			t.Errorf("Fold(%q U+%04X) = %q, want %q", r, r, got, want)
		}
	}
	for _, s := range []string{"Nghị quyết Đại hội lần thứ XIII", "Lai Cha\u0302u", "Ǖ ǖ Ǘ Ḉ ß Ø æ"} {
		if got, want := Fold(s), byDecomposition(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestMatchExpr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"lai chau":                    `"lai" "chau"*`,
		"  Đoàn  ":                    `"doan"*`,
		`"AND" NEAR( col:x *`:         `"and" "near" "col" "x"*`,
		"!!! ---":                     "",
		"":                            "",
		"a b c d e f g h i j k l m n": `"a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l"*`,
	} {
		if got := matchExpr(in); got != want {
			t.Errorf("matchExpr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNoteIndexBackfill upgrades a store whose notes were written before
// migration 0007: the migration indexes them, with their submission times
// from the change log.
func TestNoteIndexBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "dicoso.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sdb := syncdb.New(st, syncdb.Options{Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(sdb.Close)
	if _, err := seed.Load(ctx, st, sdb, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	const laiChau = "7101c118-1527-4646-b0b8-0d6af47eac4a"
	author, submitted, draft := uuid.NewString(), uuid.NewString(), uuid.NewString()
	apply := func(changes ...syncdb.ServerChange) {
		t.Helper()
		if err := st.InTx(ctx, func(tx *sql.Tx) error { return sdb.ApplyServerTx(ctx, tx, "", changes) }); err != nil {
			t.Fatal(err)
		}
	}
	apply(syncdb.ServerChange{Table: "users", RowID: author, Fields: map[string]any{
		"username": "bt.lan", "full_name": "Nguyễn Thị Lan", "roles": []string{"inspector"}}})
	apply(syncdb.ServerChange{Table: "visit_notes", RowID: submitted, Fields: map[string]any{
		"author_id": author, "unit_id": laiChau, "title": "Làm việc với Tỉnh đoàn", "status": "submitted"}},
		syncdb.ServerChange{Table: "visit_notes", RowID: draft, Fields: map[string]any{
			"author_id": author, "unit_id": laiChau, "title": "Bản nháp", "status": "draft"}},
		syncdb.ServerChange{Table: "findings", RowID: uuid.NewString(), Fields: map[string]any{
			"note_id": submitted, "author_id": author, "category": "recommendation", "text": "Đề nghị hỗ trợ kinh phí"}})

	// Back to the store as migration 6 left it: nothing of 0007.
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DROP VIEW note_search_text`, `DROP TABLE note_search`, `DROP TABLE note_index`,
			`DROP TRIGGER IF EXISTS note_index_logged`, `DROP TRIGGER IF EXISTS note_search_note_added`,
			`DROP TRIGGER IF EXISTS note_search_note_changed`, `DROP TRIGGER IF EXISTS note_search_finding_added`,
			`DROP TRIGGER IF EXISTS note_search_finding_changed`, `DROP TRIGGER IF EXISTS note_search_unit_renamed`,
			`DROP TRIGGER IF EXISTS note_search_author_renamed`,
			`DELETE FROM schema_migrations WHERE version = 7`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	r := New(st)
	page, err := r.Notes(ctx, NotesQuery{Limit: 10, Viewer: everyNote(uuid.NewString()), Search: "kinh phi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != submitted {
		t.Fatalf("search after the upgrade: %+v, want the submitted note", page.Items)
	}
	if it := page.Items[0]; it.SubmittedAt == nil || it.UpdatedAt == nil || it.VisitDate == nil {
		t.Errorf("times after the upgrade: submitted %v updated %v visit %v", it.SubmittedAt, it.UpdatedAt, it.VisitDate)
	}
	page, err = r.Notes(ctx, NotesQuery{Limit: 10, Viewer: ownNotes(author), Search: "ban nhap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != draft {
		t.Errorf("the author's draft after the upgrade: %+v", page.Items)
	}
	// Writes after the upgrade keep the index.
	apply(syncdb.ServerChange{Table: "visit_notes", RowID: draft, Fields: map[string]any{"conclusions": "Đã khắc phục"}})
	page, err = r.Notes(ctx, NotesQuery{Limit: 10, Viewer: ownNotes(author), Search: "da khac phuc"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(page.Items, func(it NoteItem) bool { return it.ID == draft }) {
		t.Errorf("a write after the upgrade is not indexed: %+v", page.Items)
	}
}

// everyNote is a viewer who reads every note; ownNotes one who reads their own.
func everyNote(me string) NotesViewer {
	return NotesViewer{UserID: me, Read: func(string) (string, []any) { return "1", []any{sql.Named("me", me)} }}
}

func ownNotes(me string) NotesViewer {
	return NotesViewer{UserID: me, Read: func(string) (string, []any) { return "r.author_id = :me", []any{sql.Named("me", me)} }}
}

// A note's times in the index follow its row's writes (migration 0014):
// one push holding the note's creation, forty autosaves and its hand-in
// gives it one submission time, that push's; a decision moves only its
// update time; a resubmission moves its place in the queue but not when it
// was first handed in.
func TestNoteTimesFollowTheRowsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	t.Cleanup(func() { st.Close() })
	now := time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)
	sdb := syncdb.New(st, syncdb.Options{Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	t.Cleanup(sdb.Close)
	if _, err := seed.Load(ctx, st, sdb, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	const laiChau = "7101c118-1527-4646-b0b8-0d6af47eac4a"
	author := uuid.NewString()
	if err := st.InTx(ctx, func(tx *sql.Tx) error {
		return sdb.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{{Table: "users", RowID: author, Fields: map[string]any{
			"username": "bt.lan", "full_name": "Nguyễn Thị Lan", "roles": []string{"inspector"}}}})
	}); err != nil {
		t.Fatal(err)
	}
	a := syncdb.Actor{UserID: author, Roles: []string{"inspector"}, DeviceID: "lan-phone"}
	note := uuid.NewString()
	var counter int
	push := func(fields ...map[string]any) {
		t.Helper()
		req := protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID}
		for _, f := range fields {
			counter++
			req.Changes = append(req.Changes, protocol.Change{ID: uuid.NewString(), Table: "visit_notes", RowID: note,
				Op: protocol.OpUpsert, HLC: hlc.Timestamp{Millis: now.UnixMilli(), Counter: counter, Node: a.DeviceID}.String(), Fields: f})
		}
		resp, err := sdb.Push(ctx, a, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Results {
			if r.Status != protocol.StatusApplied {
				t.Fatalf("change refused: %s %s", r.Code, r.Message)
			}
		}
	}
	times := func() (first, submitted, updated string) {
		t.Helper()
		var f, s, u sql.NullString
		if err := st.Reader().QueryRowContext(ctx, `SELECT first_submitted_at, submitted_at, updated_at FROM note_index WHERE note_id = ?`,
			note).Scan(&f, &s, &u); err != nil {
			t.Fatal(err)
		}
		return f.String, s.String, u.String
	}
	at := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

	t1 := now
	changes := []map[string]any{{"author_id": author, "unit_id": laiChau, "title": "Làm việc với Tỉnh đoàn", "status": "draft"}}
	for i := range 40 {
		changes = append(changes, map[string]any{"results": fmt.Sprintf("Kết quả, bản %d", i)})
	}
	push(append(changes, map[string]any{"status": "submitted"})...)
	if f, s, u := times(); f != at(t1) || s != at(t1) || u != at(t1) {
		t.Fatalf("after the hand-in: first %q submitted %q updated %q, want %s for each", f, s, u, at(t1))
	}

	now = now.Add(time.Hour) // headquarters send it back
	t2 := now
	if err := st.InTx(ctx, func(tx *sql.Tx) error {
		return sdb.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{{Table: "visit_notes", RowID: note, Fields: map[string]any{
			"status": "needs_revision", "review_comment": "Bổ sung số liệu"}}})
	}); err != nil {
		t.Fatal(err)
	}
	if f, s, u := times(); f != at(t1) || s != at(t1) || u != at(t2) {
		t.Fatalf("after the send-back: first %q submitted %q updated %q, want %s, %s, %s", f, s, u, at(t1), at(t1), at(t2))
	}

	now = now.Add(time.Hour) // the author corrects it and hands it in again
	t3 := now
	push(map[string]any{"results": "Kết quả, bản sửa"}, map[string]any{"status": "submitted"})
	if f, s, u := times(); f != at(t1) || s != at(t3) || u != at(t3) {
		t.Fatalf("after the resubmission: first %q submitted %q updated %q, want %s, %s, %s", f, s, u, at(t1), at(t3), at(t3))
	}
}
