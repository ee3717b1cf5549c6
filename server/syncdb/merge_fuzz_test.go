package syncdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// mergeFuzz is the store every input starts from: a secretary with three
// devices and a unit, written once and copied, since migrating a fresh
// file for every input would be most of the fuzzing time.
var mergeFuzz struct {
	once     sync.Once
	path     string
	err      error
	owner    string
	unit     string
	devices  []string
	fields   []string // the trip fields the changes write
	base     time.Time
	tripID   string
	tripsTbl *schema.Table
}

func mergeFuzzTemplate(dir string) error {
	m := &mergeFuzz
	m.once.Do(func() {
		ctx := context.Background()
		m.base = time.Date(2021, 6, 3, 9, 0, 0, 0, time.UTC)
		m.owner, m.unit, m.tripID = uuid.NewString(), uuid.NewString(), uuid.NewString()
		m.devices = []string{"dev-phone", "dev-laptop", "dev-tablet"}
		m.fields = []string{"title", "notes", "status", "purpose", "starts_on", "ends_on", "unit_ids"}
		m.tripsTbl = mustTable("trips")
		m.path = filepath.Join(dir, "template.db")
		st, err := store.Open(ctx, filepath.Join(dir, "work.db"))
		if err != nil {
			m.err = err
			return
		}
		db := New(st, Options{Now: func() time.Time { return m.base }})
		m.err = st.InTx(ctx, func(tx *sql.Tx) error {
			return db.ApplyServerTx(ctx, tx, "", []ServerChange{
				{Table: "units", RowID: m.unit, Fields: map[string]any{"name": "Lai Châu", "kind": "province", "code": "12"}},
				{Table: "users", RowID: m.owner, Fields: map[string]any{"username": "lan", "roles": []any{"secretary"}}},
			})
		})
		db.Close()
		if m.err == nil {
			// A consistent single file: what a plain copy of the live
			// one would miss is still in its WAL.
			m.err = st.Backup(ctx, m.path)
		}
		if err := st.Close(); err != nil && m.err == nil {
			m.err = err
		}
	})
	return m.err
}

// fuzzChange is one change of the trip drawn from the input.
type fuzzChange struct {
	device int
	ch     protocol.Change
}

// changesFrom reads the input as a list of changes of one trip, three
// bytes each: device and operation, clock, and which fields (with values
// drawn from the bytes too). Clocks are distinct per change, as a device
// never issues the same stamp twice, and within the server's skew limit.
func changesFrom(data []byte) []fuzzChange {
	m := &mergeFuzz
	var out []fuzzChange
	for i := 0; i+3 <= len(data) && len(out) < 16; i += 3 {
		a, b, c := data[i], data[i+1], data[i+2]
		dev := int(a) % len(m.devices)
		ts := hlc.Timestamp{Millis: m.base.Add(time.Duration(int(b)-128) * time.Second).UnixMilli(), Counter: len(out), Node: m.devices[dev]}
		ch := protocol.Change{ID: uuid.NewString(), Table: "trips", RowID: m.tripID, Op: protocol.OpUpsert, HLC: ts.String()}
		if a/3%6 == 0 {
			ch.Op = protocol.OpDelete
		} else {
			ch.Fields = map[string]any{}
			for k, name := range m.fields {
				if c&(1<<k) != 0 {
					ch.Fields[name] = fieldValue(name, int(b)+len(out), c)
				}
			}
			if len(ch.Fields) == 0 {
				ch.Fields["title"] = fieldValue("title", int(b)+len(out), c)
			}
		}
		out = append(out, fuzzChange{device: dev, ch: ch})
	}
	return out
}

func fieldValue(name string, n int, c byte) any {
	switch name {
	case "title":
		if c&0x80 != 0 && n%3 == 0 {
			return nil // cleared
		}
		return fmt.Sprint("Đi cơ sở ", n)
	case "notes":
		if n%4 == 0 {
			return nil
		}
		return fmt.Sprint("ghi chú ", n)
	case "status":
		return []string{"planned", "ongoing", "done", "cancelled"}[n%4]
	case "purpose":
		return []string{"thematic_survey", "inspection", "meeting", "working_session"}[n%4]
	case "starts_on":
		return fmt.Sprintf("2021-06-%02d", 1+n%28)
	case "ends_on":
		if n%5 == 0 {
			return nil
		}
		return fmt.Sprintf("2021-07-%02d", 1+n%28)
	case "unit_ids":
		if n%2 == 0 {
			return []any{}
		}
		return []any{mergeFuzz.unit}
	}
	panic("no value for " + name)
}

// FuzzMergeOneRow: random sequences of upserts and deletes of one trip,
// from three devices of its owner, with random clocks and no base cursor,
// merged in two different arrival orders into two fresh stores (real
// SQLite files): one change per push in the first, the shuffled changes
// in pushes of several in the second. Both stores must end with the same
// row, and it must be per-field last-writer-wins by clock: each field holds
// the value of the change with the highest clock that wrote it, the row is
// deleted if any change deleted it, and its version is the highest clock.
func FuzzMergeOneRow(f *testing.F) {
	f.Add([]byte{1, 128, 0x7f, 4, 120, 0x01, 7, 140, 0x04, 2, 90, 0x44}, uint64(1))
	f.Add([]byte{0, 10, 0xff, 1, 10, 0xff, 2, 10, 0xff}, uint64(2))              // same millisecond, three devices
	f.Add([]byte{3, 200, 0x01, 18, 100, 0, 5, 150, 0x01}, uint64(3))             // a delete between two edits
	f.Add([]byte{1, 255, 0x05, 4, 0, 0x05, 7, 128, 0x05, 1, 1, 0x05}, uint64(4)) // clocks far apart, older ones later
	if err := mergeFuzzTemplate(f.TempDir()); err != nil {
		f.Fatalf("template store: %v", err)
	}
	m := &mergeFuzz
	f.Fuzz(func(t *testing.T, data []byte, shuffle uint64) {
		changes := changesFrom(data)
		if len(changes) == 0 {
			return
		}
		create := protocol.Change{ID: uuid.NewString(), Table: "trips", RowID: m.tripID, Op: protocol.OpUpsert,
			HLC:    hlc.Timestamp{Millis: m.base.Add(-time.Hour).UnixMilli(), Node: m.devices[0]}.String(),
			Fields: map[string]any{"user_id": m.owner, "purpose": "meeting", "starts_on": "2021-06-01", "title": "gốc"}}

		// First order: as drawn, one change per push.
		var first [][]fuzzChange
		for _, c := range changes {
			first = append(first, []fuzzChange{c})
		}
		// Second order: shuffled, consecutive changes of one device sent
		// together (a push carries one device's changes).
		rng := rand.New(rand.NewPCG(shuffle, 0x5eed))
		mixed := append([]fuzzChange(nil), changes...)
		rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		var second [][]fuzzChange
		for _, c := range mixed {
			if n := len(second); n > 0 && second[n-1][0].device == c.device && rng.IntN(3) > 0 {
				second[n-1] = append(second[n-1], c)
				continue
			}
			second = append(second, []fuzzChange{c})
		}

		// Not t.TempDir: a seed input's directory is named "…seed#N…",
		// and the store's file: URI would end its path at the '#'.
		dir, err := os.MkdirTemp("", "dicoso-merge-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		rowA := mergeInto(t, filepath.Join(dir, "a.db"), create, first)
		rowB := mergeInto(t, filepath.Join(dir, "b.db"), create, second)
		if !reflect.DeepEqual(rowA, rowB) {
			t.Fatalf("two arrival orders, two rows:\n first  %+v\n second %+v\nchanges %s", rowA, rowB, describeChanges(changes))
		}
		// Fields no change wrote keep the column defaults: the model
		// speaks of the written ones.
		want := lastWriterWins(t, create, changes)
		for name := range rowA.Fields {
			if _, written := want.Fields[name]; !written {
				want.Fields[name] = rowA.Fields[name]
			}
		}
		if !reflect.DeepEqual(rowA, want) {
			t.Fatalf("the merged row is not per-field last-writer-wins:\n got  %+v\n want %+v\nchanges %s", rowA, want, describeChanges(changes))
		}
	})
}

// mergedRow is a trip as stored: its fields, tombstone, version and the
// clock of each field (without the change-log position, which depends on
// arrival order).
type mergedRow struct {
	Fields  map[string]string
	Deleted bool
	Version string
	Clocks  map[string]string
}

// mergeInto copies the template to path, creates the trip, pushes the
// groups in order and reads the trip back.
func mergeInto(t *testing.T, path string, create protocol.Change, pushes [][]fuzzChange) mergedRow {
	t.Helper()
	m := &mergeFuzz
	ctx := context.Background()
	b, err := os.ReadFile(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db := New(st, Options{Now: func() time.Time { return m.base }})
	defer func() {
		db.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	push := func(dev int, changes ...protocol.Change) {
		a := Actor{UserID: m.owner, Roles: []string{"secretary"}, DeviceID: m.devices[dev]}
		resp, err := db.Push(ctx, a, protocol.PushRequest{Protocol: protocol.Version, DeviceID: a.DeviceID, Changes: changes})
		if err != nil {
			t.Fatalf("push: %v", err)
		}
		for i, r := range resp.Results {
			if r.Status != protocol.StatusApplied {
				t.Fatalf("change %s %+v: %s %s %s", r.ID, changes[i], r.Status, r.Code, r.Message)
			}
		}
	}
	push(0, create)
	for _, group := range pushes {
		chs := make([]protocol.Change, len(group))
		for i, c := range group {
			chs[i] = c.ch
		}
		push(group[0].device, chs...)
	}

	tb := m.tripsTbl
	cols := tb.Columns()
	raw := make([]any, len(cols))
	dest := make([]any, 0, len(cols)+3)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	var deleted int64
	var clocks string
	row := mergedRow{Fields: map[string]string{}, Clocks: map[string]string{}}
	dest = append(dest, &deleted, &row.Version, &clocks)
	err = st.Reader().QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", ")+", deleted, version, clocks FROM trips WHERE id = ?", m.tripID).Scan(dest...)
	if err != nil {
		t.Fatalf("read the trip: %v", err)
	}
	for i, c := range cols {
		row.Fields[c] = fmt.Sprint(raw[i])
	}
	row.Deleted = deleted != 0
	var fc map[string]fieldClock
	if err := json.Unmarshal([]byte(clocks), &fc); err != nil {
		t.Fatalf("clocks %q: %v", clocks, err)
	}
	for name, c := range fc {
		row.Clocks[name] = c.H
	}
	return row
}

// lastWriterWins is the row the changes must give, worked out without the
// engine: per field, the value of the change with the highest clock.
func lastWriterWins(t *testing.T, create protocol.Change, changes []fuzzChange) mergedRow {
	t.Helper()
	tb := mergeFuzz.tripsTbl
	row := mergedRow{Fields: map[string]string{}, Clocks: map[string]string{}}
	all := []protocol.Change{create}
	for _, c := range changes {
		all = append(all, c.ch)
	}
	for _, ch := range all {
		row.Version = max(row.Version, ch.HLC)
		vals := ch.Fields
		if ch.Op == protocol.OpDelete {
			vals = map[string]any{"deleted": true}
		}
		for name, v := range vals {
			if ch.HLC <= row.Clocks[name] {
				continue
			}
			row.Clocks[name] = ch.HLC
			if name == "deleted" {
				row.Deleted = true
				continue
			}
			f, _ := tb.Field(name)
			sv, err := f.ToSQL(v)
			if err != nil {
				t.Fatalf("the fuzz drew a bad value %s = %v: %v", name, v, err)
			}
			row.Fields[name] = fmt.Sprint(sv)
		}
	}
	return row
}

func describeChanges(changes []fuzzChange) string {
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "\n  %s %s %v", c.ch.HLC, c.ch.Op, c.ch.Fields)
	}
	return b.String()
}
