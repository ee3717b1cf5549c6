package syncdb

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/uuid"

	"dicoso/sync/protocol"
)

// TestApplyServerTxRejectionsAreTyped: a server-made change the engine
// refuses comes back as *RejectedError naming the code and the field at
// fault, so the REST API can answer 400 with the field instead of 500.
func TestApplyServerTxRejectionsAreTyped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	plan := uuid.NewString()
	if err := f.st.InTx(ctx, func(tx *sql.Tx) error {
		return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{{Table: "plans", RowID: plan,
			Fields: map[string]any{"year": 2021.0, "title": "Kế hoạch 356"}}})
	}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		change      ServerChange
		code, field string
	}{
		{"dangling reference", ServerChange{Table: "units", RowID: uuid.NewString(),
			Fields: map[string]any{"name": "Tỉnh đoàn Điện Biên", "kind": "province", "cluster_id": uuid.NewString()}},
			protocol.CodeValidationFailed, "cluster_id"},
		{"dangling list reference", ServerChange{Table: "campaigns", RowID: uuid.NewString(),
			Fields: map[string]any{"kind": "special", "name": "Hè", "plan_id": plan, "unit_ids": []any{f.unit, uuid.NewString()}}},
			protocol.CodeValidationFailed, "unit_ids"},
		{"bad value", ServerChange{Table: "units", RowID: f.unit, Fields: map[string]any{"lat": "north"}},
			protocol.CodeValidationFailed, "lat"},
		{"unknown field", ServerChange{Table: "units", RowID: f.unit, Fields: map[string]any{"population": 1.0}},
			protocol.CodeUnknownField, "population"},
		{"missing required", ServerChange{Table: "departments", RowID: uuid.NewString(), Fields: map[string]any{"duties": "x"}},
			protocol.CodeValidationFailed, "name"},
	}
	for _, tc := range cases {
		err := f.st.InTx(ctx, func(tx *sql.Tx) error {
			return f.db.ApplyServerTx(ctx, tx, "", []ServerChange{tc.change})
		})
		var rj *RejectedError
		if !errors.As(err, &rj) {
			t.Errorf("%s: error %v, want *RejectedError", tc.name, err)
			continue
		}
		if rj.Code != tc.code || rj.Field != tc.field || rj.Table != tc.change.Table || rj.Message == "" {
			t.Errorf("%s: %+v, want code %s field %s", tc.name, rj, tc.code, tc.field)
		}
	}
}
