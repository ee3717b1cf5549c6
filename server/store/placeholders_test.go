package store

import (
	"database/sql/driver"
	"reflect"
	"testing"
)

// SQLite's parameter forms become PostgreSQL's $N, numbered as SQLite
// numbers them; what is quoted, commented or a cast stays as written.
func TestRewriteNumbersParametersAsSQLiteDoes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, out string
		names   map[string]int
		params  int
	}{
		{"SELECT ? , ?", "SELECT $1 , $2", nil, 2},
		{"SELECT ?2, ?1, ?", "SELECT $2, $1, $3", nil, 3},
		{"WHERE a = :me OR b = :me AND c = :dept", "WHERE a = $1 OR b = $1 AND c = $2", map[string]int{"me": 1, "dept": 2}, 2},
		{"SELECT ?, :x, ?", "SELECT $1, $2, $3", map[string]int{"x": 2}, 3},
		{"SELECT :ids::jsonb, x::text", "SELECT $1::jsonb, x::text", map[string]int{"ids": 1}, 1},
		{"SELECT '?:not', \"a?b\", 'it''s ?' -- ? :c\n, ?", "SELECT '?:not', \"a?b\", 'it''s ?' -- ? :c\n, $1", nil, 1},
		{"SELECT /* ? :x */ ?", "SELECT /* ? :x */ $1", nil, 1},
	}
	for _, c := range cases {
		r, err := rewriteOnce(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if r.sql != c.out || r.params != c.params || (len(c.names) > 0 && !reflect.DeepEqual(r.names, c.names)) {
			t.Errorf("%q: got %q, %d params, names %v; want %q, %d, %v", c.in, r.sql, r.params, r.names, c.out, c.params, c.names)
		}
	}
	for _, bad := range []string{"SELECT 'open", "SELECT /* open", "SELECT ?0"} {
		if _, err := rewriteOnce(bad); err == nil {
			t.Errorf("%q: rewritten, want an error", bad)
		}
	}
}

// Arguments land at their places: named ones where their name stands
// (each once, however often it is used), positional ones at their ordinal;
// a bool as 1 or 0; a missing one is an error, not a NULL.
func TestPlaceArguments(t *testing.T) {
	t.Parallel()
	r, err := rewriteOnce("SELECT ?, :b, :a, :b")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.place([]driver.NamedValue{{Ordinal: 1, Value: "p"}, {Name: "a", Ordinal: 3, Value: true}, {Name: "b", Ordinal: 2, Value: int64(7)}, {Name: "unused", Value: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []driver.NamedValue{{Ordinal: 1, Value: "p"}, {Ordinal: 2, Value: int64(7)}, {Ordinal: 3, Value: int64(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("placed %v, want %v", got, want)
	}
	if _, err := r.place([]driver.NamedValue{{Ordinal: 1, Value: "p"}}); err == nil {
		t.Fatal("placed with :a and :b missing, want an error")
	}
}
