package syncdb

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// TestRequiredFieldsStayRequired walks every table devices write and
// every field its registry entry requires on creation (a new table is
// walked as soon as it is registered), as every role that may create or
// change its own rows of it: a required field is refused as missing on a
// new row, and may not be emptied later either (the probe set
// trip_days.day, a note's unit and a trip's start to null on rows already
// stored). A text is empty when blank, which is what a null text becomes.
// The refusal is validation_failed naming the field, judged before the
// grants as the schema's other rules are, and nothing changes.
func TestRequiredFieldsStayRequired(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	roles := w.writerRoles()
	expected := expectedGrants()
	step := time.Duration(0)
	walked := 0
	for _, table := range schema.Tables() {
		if table.Reference && !table.Proposed {
			continue // edited over REST only (server/api's TestNullRefusedWhereTheStoreHoldsNone)
		}
		for _, field := range table.Required {
			empties := []any{nil}
			if f, _ := table.Field(field); f.Type == schema.Text {
				empties = append(empties, "", "  ")
			}
			for _, empty := range empties {
				// On creation, as every role that may create the table's rows.
				for _, role := range expected[table.Name][opCreate] {
					a := roles[role]
					fields := w.newFields(t, table.Name, a, w.seedRow(t, "findings", w.member))
					fields[field] = empty
					step += time.Millisecond
					id := uuid.NewString()
					res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: table.Name, RowID: id, Op: protocol.OpUpsert,
						HLC: w.stamp(a, step), Fields: fields})[0]
					if res.Status != protocol.StatusRejected || res.Code != protocol.CodeValidationFailed || res.Field != field {
						t.Errorf("%s creates %s with %s %q: %s %s %q %q, want validation_failed on it", role, table.Name, field, empty, res.Status, res.Code, res.Field, res.Message)
					}
					if w.rowState(t, table, id) != "" {
						t.Errorf("%s creates %s with %s %q: refused, yet the row exists", role, table.Name, field, empty)
					}
				}
				// On an existing row of their own.
				for _, role := range expected[table.Name][opUpdateOwn] {
					a := roles[role]
					walked++
					id := w.seedRow(t, table.Name, a)
					stored := w.storedValue(t, table, id, field)
					before := w.rowState(t, table, id)
					step += time.Millisecond
					res := w.push(t, a, protocol.Change{ID: uuid.NewString(), Table: table.Name, RowID: id, Op: protocol.OpUpsert,
						HLC: w.stamp(a, step), Fields: map[string]any{field: empty}})[0]
					// An enum is never null (its type says so, sync/schema).
					f, _ := table.Field(field)
					if res.Status != protocol.StatusRejected || res.Code != protocol.CodeValidationFailed || res.Field != field ||
						f.Type != schema.Enum && !strings.HasPrefix(res.Message, "không được xoá") {
						t.Errorf("%s sets %s.%s to %q on their own row: %s %s %q %q, want validation_failed on it, in Vietnamese first",
							role, table.Name, field, empty, res.Status, res.Code, res.Field, res.Message)
					}
					if after := w.rowState(t, table, id); after != before {
						t.Errorf("%s sets %s.%s to %q: refused, yet the row changed", role, table.Name, field, empty)
					}
					if after := w.storedValue(t, table, id, field); after != stored || after == nil {
						t.Errorf("%s sets %s.%s to %q: it holds %v, was %v", role, table.Name, field, empty, after, stored)
					}
				}
			}
		}
	}
	// trips, trip_days, visit_notes, findings, team_visits, notices,
	// briefings and units at least.
	if walked < 40 {
		t.Fatalf("walked %d required fields of existing rows: the walk lost its tables", walked)
	}
}

// storedValue is a field of a row as the server holds it (SQL form).
func (w *reviewWorld) storedValue(t *testing.T, table *schema.Table, id, field string) any {
	t.Helper()
	var v any
	err := w.st.Reader().QueryRow("SELECT "+field+" FROM "+table.Name+" WHERE id = ?", id).Scan(&v)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
