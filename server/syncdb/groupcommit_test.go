package syncdb

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// One group commit holding a push, its replay and another device's push:
// the replay answers duplicate (its first copy is only queued in the same
// transaction when the replay is judged), every change is logged once,
// sequences run on without a gap from where the store stood, and each row
// names the entry of its last change. On SQLite the entries go in many to
// a statement (wtx.flushLog); this is the case that would see them late.
func TestReplayInTheSameGroupCommitIsADuplicate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var logged bytes.Buffer
	f.db.log = slog.New(slog.NewTextHandler(&logged, nil))
	ctx := context.Background()
	var before int64
	if err := f.st.Reader().QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM change_log").Scan(&before); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	changes := []protocol.Change{note(id, f.alice, f.stamp(f.alice, 0), map[string]any{
		"author_id": f.alice.UserID, "unit_id": f.unit, "title": "Làm việc với Tỉnh đoàn", "status": "draft"})}
	for i := 1; i <= 70; i++ { // more than one statement's worth of entries
		changes = append(changes, note(id, f.alice, f.stamp(f.alice, time.Duration(i)*time.Millisecond),
			map[string]any{"results": fmt.Sprintf("Kết quả, bản %d", i)}))
	}
	other := uuid.NewString()
	bobs := []protocol.Change{note(other, f.bob, f.stamp(f.bob, 0), map[string]any{
		"author_id": f.bob.UserID, "unit_id": f.unit, "title": "Kiểm tra", "status": "draft"})}
	job := func(a Actor, chs []protocol.Change) *pushJob {
		a.dialect = f.st.Dialect()
		return &pushJob{actor: a, req: protocol.PushRequest{Protocol: 1, DeviceID: a.DeviceID, Changes: chs},
			out: make(chan pushOutcome, 1)}
	}
	first, replay, bob := job(f.alice, changes), job(f.alice, changes), job(f.bob, bobs)
	f.db.commit([]*pushJob{first, replay, bob})
	if strings.Contains(logged.String(), "group commit failed") {
		t.Fatalf("the three pushes did not commit together:\n%s", logged.String())
	}
	for name, j := range map[string]*pushJob{"first": first, "replay": replay, "bob": bob} {
		o := <-j.out
		if o.err != nil {
			t.Fatalf("%s: %v", name, o.err)
		}
		want := protocol.StatusApplied
		if name == "replay" {
			want = protocol.StatusDuplicate
		}
		for k, r := range o.resp.Results {
			if r.Status != want {
				t.Fatalf("%s, change %d: %+v, want %s", name, k, r, want)
			}
		}
	}
	rows, err := f.st.Reader().QueryContext(ctx, "SELECT seq, change_id FROM change_log WHERE seq > ? ORDER BY seq", before)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var seqs []int64
	entries := map[string]int64{}
	for rows.Next() {
		var seq int64
		var cid string
		if err := rows.Scan(&seq, &cid); err != nil {
			t.Fatal(err)
		}
		if _, twice := entries[cid]; twice {
			t.Fatalf("change %s logged twice", cid)
		}
		seqs, entries[cid] = append(seqs, seq), seq
	}
	if len(seqs) != len(changes)+len(bobs) {
		t.Fatalf("%d entries logged, want %d", len(seqs), len(changes)+len(bobs))
	}
	for i, s := range seqs {
		if s != before+1+int64(i) {
			t.Fatalf("sequences after %d: %v, want %d on without a gap", before, seqs, before+1)
		}
	}
	for row, last := range map[string]string{id: changes[len(changes)-1].ID, other: bobs[0].ID} {
		var seq int64
		var results any
		if err := f.st.Reader().QueryRowContext(ctx, "SELECT seq, results FROM visit_notes WHERE id = ?", row).Scan(&seq, &results); err != nil {
			t.Fatal(err)
		}
		if seq != entries[last] {
			t.Fatalf("note %s has seq %d, want %d (its last change's entry)", row, seq, entries[last])
		}
	}
	// The next push numbers on from there.
	if r := f.push(t, f.alice, note(id, f.alice, f.stamp(f.alice, time.Second), map[string]any{"title": "Sau"})); r[0].Status != protocol.StatusApplied {
		t.Fatalf("next push: %+v", r[0])
	}
	var next int64
	if err := f.st.Reader().QueryRowContext(ctx, "SELECT MAX(seq) FROM change_log").Scan(&next); err != nil || next != seqs[len(seqs)-1]+1 {
		t.Fatalf("next entry has seq %d (%v), want %d", next, err, seqs[len(seqs)-1]+1)
	}
}
