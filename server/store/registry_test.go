package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"dicoso/sync/schema"
)

// Columns of a synced table that the sync engine owns (migration 0001).
var engineColumns = []string{"id", "deleted", "version", "clocks", "seq"}

// Columns that never leave the server: they are not in the registry on
// purpose, so neither a push nor a pull can touch them.
var privateColumns = map[string][]string{
	"users": {"password_hash", "disabled", "created_at"},
}

// declaredType is the column type each registry type is stored under:
// whole numbers and booleans as INTEGER, numbers as REAL, everything else
// (text, dates, instants, ids, enums, JSON lists) as TEXT.
func declaredType(t schema.Type) string {
	switch t {
	case schema.Int, schema.Bool:
		return "INTEGER"
	case schema.Real:
		return "REAL"
	}
	return "TEXT"
}

// The migrated store holds exactly the registry: every synced table, every
// field as a column of a compatible type, and no column the registry does
// not know beyond the engine's own and the server's private ones. A field
// added to sync/schema without its migration (or the other way round)
// fails here, not on the first push that names it.
func TestMigratedStoreMatchesRegistry(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	for _, tbl := range schema.Tables() {
		t.Run(tbl.Name, func(t *testing.T) {
			rs, err := s.Reader().QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?)", tbl.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			columns := map[string]string{}
			for rs.Next() {
				var name, typ string
				if err := rs.Scan(&name, &typ); err != nil {
					t.Fatal(err)
				}
				columns[name] = strings.ToUpper(typ)
			}
			if err := rs.Err(); err != nil {
				t.Fatal(err)
			}
			if len(columns) == 0 {
				t.Fatalf("the migrated store has no table %s", tbl.Name)
			}
			for _, f := range tbl.Fields {
				typ, ok := columns[f.Name]
				if !ok {
					t.Errorf("%s.%s (%s) has no column", tbl.Name, f.Name, f.Type)
					continue
				}
				if want := declaredType(f.Type); typ != want {
					t.Errorf("%s.%s is %s in the registry but its column is %s, want %s", tbl.Name, f.Name, f.Type, typ, want)
				}
				delete(columns, f.Name)
			}
			for _, c := range append(slices.Clone(engineColumns), privateColumns[tbl.Name]...) {
				if _, ok := columns[c]; !ok {
					t.Errorf("%s lacks the column %s", tbl.Name, c)
				}
				delete(columns, c)
			}
			if len(columns) > 0 {
				t.Errorf("%s has columns the registry does not know: %v", tbl.Name, slices.Sorted(maps.Keys(columns)))
			}
		})
	}
}
