package seed

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"golang.org/x/text/unicode/norm"

	"dicoso/seeds"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a real store file with its sync engine; both are closed
// at the end of the test, or earlier by calling closeStore.
func openStore(t *testing.T, path string) (*store.Store, *syncdb.DB) {
	st, db, _ := openClosable(t, path)
	return st, db
}

func openClosable(t *testing.T, path string) (*store.Store, *syncdb.DB, func()) {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	db := syncdb.New(st, syncdb.Options{Log: quietLog()})
	closeStore := sync.OnceFunc(func() {
		db.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	t.Cleanup(closeStore)
	return st, db, closeStore
}

// seeded returns a fresh store with the 2021 seed loaded.
func seeded(t *testing.T) *store.Store {
	t.Helper()
	st, db := openStore(t, filepath.Join(t.TempDir(), "dicoso.db"))
	loaded, err := Load(context.Background(), st, db, quietLog())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !loaded {
		t.Fatal("first load of an empty store reported no load")
	}
	return st
}

// planName writes a unit name the way the plan does: the plan spells
// "Bà Rịa - Vũng Tàu" as "Bà Rịa-Vũng Tàu". Nothing else is normalised.
func planName(s string) string { return strings.ReplaceAll(s, " - ", "-") }

type campaignRow struct {
	kind, name, content, startsOn, endsOn string
	unitNames                             []string
}

func readCampaigns(t *testing.T, st *store.Store) map[string]campaignRow {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Reader().QueryContext(ctx,
		"SELECT kind, name, content, starts_on, ends_on, unit_ids FROM campaigns WHERE deleted = 0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]campaignRow{}
	for rows.Next() {
		var c campaignRow
		var ids string
		if err := rows.Scan(&c.kind, &c.name, &c.content, &c.startsOn, &c.endsOn, &ids); err != nil {
			t.Fatal(err)
		}
		var unitIDs []string
		if err := json.Unmarshal([]byte(ids), &unitIDs); err != nil {
			t.Fatalf("campaign %s unit_ids %s: %v", c.name, ids, err)
		}
		for _, id := range unitIDs {
			var name string
			if err := st.Reader().QueryRowContext(ctx, "SELECT name FROM units WHERE id = ? AND deleted = 0", id).Scan(&name); err != nil {
				t.Fatalf("campaign %s: unit %s: %v", c.name, id, err)
			}
			c.unitNames = append(c.unitNames, name)
		}
		out[c.name] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadCampaignsMatchThePlan(t *testing.T) {
	t.Parallel()
	st := seeded(t)
	got := readCampaigns(t, st)
	want := []struct {
		name, kind, startsOn, endsOn, contentHas string
		units                                    []string
	}{
		{"Kiểm tra định kỳ Đợt 1 năm 2021", "periodic", "2021-06-01", "2021-06-15", "Gắn với giao ban cụm hoạt động 6 tháng đầu năm 2021", planRound1},
		{"Kiểm tra định kỳ Đợt 2 năm 2021", "periodic", "2021-12-01", "2021-12-15", "Gắn với giao ban cụm hoạt động cuối năm 2021", planRound2},
		{"Kiểm tra chuyên đề năm 2021", "thematic", "2021-03-25", "2021-04-05", "Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIII của Đảng", planThematic},
	}
	if len(got) != len(want) {
		t.Fatalf("%d campaigns, want %d", len(got), len(want))
	}
	for _, w := range want {
		c, ok := got[w.name]
		if !ok {
			t.Errorf("campaign %q missing", w.name)
			continue
		}
		if c.kind != w.kind || c.startsOn != w.startsOn || c.endsOn != w.endsOn {
			t.Errorf("%s: kind %s %s..%s, want %s %s..%s", w.name, c.kind, c.startsOn, c.endsOn, w.kind, w.startsOn, w.endsOn)
		}
		if !strings.Contains(c.content, w.contentHas) {
			t.Errorf("%s: content %q lacks %q", w.name, c.content, w.contentHas)
		}
		names := make([]string, len(c.unitNames))
		for i, n := range c.unitNames {
			names[i] = planName(n)
		}
		if !slices.Equal(names, w.units) {
			t.Errorf("%s: units\n got %q\nwant %q (the plan's list)", w.name, names, w.units)
		}
	}
	if n := len(got["Kiểm tra định kỳ Đợt 1 năm 2021"].unitNames); n != 11 {
		t.Errorf("round 1 has %d units, want 11", n)
	}
	if n := len(got["Kiểm tra định kỳ Đợt 2 năm 2021"].unitNames); n != 11 {
		t.Errorf("round 2 has %d units, want 11", n)
	}
	if n := len(got["Kiểm tra chuyên đề năm 2021"].unitNames); n != 8 {
		t.Errorf("thematic has %d units, want 8", n)
	}
}

func TestLoadPlanPeriodsDepartments(t *testing.T) {
	t.Parallel()
	st := seeded(t)
	ctx := context.Background()
	r := st.Reader()

	var year, minDays int
	var number, issued, title string
	if err := r.QueryRowContext(ctx, "SELECT year, number, issued_on, title, min_field_days FROM plans").
		Scan(&year, &number, &issued, &title, &minDays); err != nil {
		t.Fatalf("plan: %v", err)
	}
	if year != 2021 || number != "356-KH/TWĐTN-BKT" || issued != "2021-02-09" || minDays != 60 ||
		title != "Kế hoạch kiểm tra, đi cơ sở của Ban Bí thư Trung ương Đoàn năm 2021" {
		t.Errorf("plan = %d %q %s %q %d", year, number, issued, title, minDays)
	}

	periods := map[string][2]string{}
	rows, err := r.QueryContext(ctx, "SELECT name, starts_on, ends_on FROM special_periods")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, s, e string
		if err := rows.Scan(&n, &s, &e); err != nil {
			t.Fatal(err)
		}
		periods[n] = [2]string{s, e}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := periods["Tháng Thanh niên 2021"]; got != [2]string{"2021-03-01", "2021-03-31"} {
		t.Errorf("Youth Month = %v, want March 2021", got)
	}
	summer, ok := periods["Chiến dịch Thanh niên tình nguyện Hè năm 2021"]
	if !ok || summer[0] < "2021-05-01" || summer[1] > "2021-09-30" || summer[0] > summer[1] {
		t.Errorf("Summer Volunteer Campaign = %v (present %v), want a summer 2021 window", summer, ok)
	}

	wantDeps := []string{"Ban Kiểm tra Trung ương Đoàn", "Ban Tuyên giáo Trung ương Đoàn",
		"Ban Thanh niên trường học Trung ương Đoàn", "Văn phòng Trung ương Đoàn"}
	for _, name := range wantDeps {
		var duties string
		if err := r.QueryRowContext(ctx, "SELECT duties FROM departments WHERE name = ?", name).Scan(&duties); err != nil {
			t.Errorf("department %q: %v", name, err)
			continue
		}
		if strings.TrimSpace(duties) == "" {
			t.Errorf("department %q has no duties", name)
		}
	}
	var duties string
	if err := r.QueryRowContext(ctx, "SELECT duties FROM departments WHERE name = ?", "Ban Kiểm tra Trung ương Đoàn").Scan(&duties); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(duties, "Tổng hợp những vấn đề còn hạn chế, vướng mắc ở cơ sở") {
		t.Errorf("Inspection Committee duties lack the plan's compile-and-report duty: %q", duties)
	}
	var nDeps int
	if err := r.QueryRowContext(ctx, "SELECT COUNT(*) FROM departments").Scan(&nDeps); err != nil {
		t.Fatal(err)
	}
	if nDeps != len(wantDeps) {
		t.Errorf("%d departments, want the plan's %d", nDeps, len(wantDeps))
	}
}

// Vietnam's extent, islands of the mainland's provinces included.
const (
	vnMinLat, vnMaxLat = 8.0, 23.5
	vnMinLng, vnMaxLng = 102.0, 110.0
)

func TestLoadUnits(t *testing.T) {
	t.Parallel()
	st := seeded(t)
	ctx := context.Background()
	rows, err := st.Reader().QueryContext(ctx,
		"SELECT code, name, kind, lat, lng, valid_from, valid_to, replaced_by_id, source FROM units")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	twoDigits := regexp.MustCompile(`^[0-9]{2}$`)
	codes := map[string]string{}
	var central []string
	for rows.Next() {
		var code, name, kind, source string
		var lat, lng sql.NullFloat64
		var validFrom, validTo, replacedBy sql.NullString
		if err := rows.Scan(&code, &name, &kind, &lat, &lng, &validFrom, &validTo, &replacedBy, &source); err != nil {
			t.Fatal(err)
		}
		if validFrom.String != "2021-01-01" || validTo.Valid || replacedBy.Valid {
			t.Errorf("%s: valid %v..%v replaced by %v, want from 2021-01-01, open, none", name, validFrom, validTo, replacedBy)
		}
		if source == "" {
			t.Errorf("%s has no source", name)
		}
		switch kind {
		case "province":
			if !twoDigits.MatchString(code) {
				t.Errorf("%s: code %q is not two digits", name, code)
			}
			if prev, ok := codes[code]; ok {
				t.Errorf("%s and %s share code %s", prev, name, code)
			}
			codes[code] = name
			if !lat.Valid || !lng.Valid || lat.Float64 < vnMinLat || lat.Float64 > vnMaxLat ||
				lng.Float64 < vnMinLng || lng.Float64 > vnMaxLng {
				t.Errorf("%s: capital at %v,%v is outside Vietnam", name, lat, lng)
			}
		case "central_affiliated":
			central = append(central, name)
		default:
			t.Errorf("%s: kind %s", name, kind)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(codes) != 63 {
		t.Errorf("%d provinces, want 63", len(codes))
	}
	for _, want := range []string{"Đoàn Khối Doanh nghiệp Trung ương", "Đoàn Khối các Cơ quan Trung ương"} {
		if !slices.Contains(central, want) {
			t.Errorf("central-affiliated union %q missing from %q", want, central)
		}
	}
	if codes["77"] != "Bà Rịa - Vũng Tàu" || codes["01"] != "Hà Nội" || codes["96"] != "Cà Mau" {
		t.Errorf("codes 77, 01, 96 = %q, %q, %q", codes["77"], codes["01"], codes["96"])
	}
}

// seedTables are the tables a seed writes (fixed names, test-only SQL).
var seedTables = []string{"departments", "units", "plans", "campaigns", "special_periods", "change_log", "seed_loads"}

func counts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range seedTables {
		var n int
		if err := st.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

func TestEveryStringIsNFC(t *testing.T) {
	t.Parallel()
	st := seeded(t)
	ctx := context.Background()
	for _, tbl := range []string{"departments", "units", "plans", "campaigns", "special_periods"} {
		rows, err := st.Reader().QueryContext(ctx, "SELECT * FROM "+tbl)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if s, ok := v.(string); ok {
					n++
					if !norm.NFC.IsNormalString(s) {
						t.Errorf("%s.%s %q is not NFC", tbl, cols[i], s)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s: no strings read", tbl)
		}
	}
}

func TestSecondLoadIsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dicoso.db")
	st, db, closeStore := openClosable(t, path)
	if loaded, err := Load(ctx, st, db, quietLog()); err != nil || !loaded {
		t.Fatalf("first load = %v, %v", loaded, err)
	}
	before := counts(t, st)
	if before["change_log"] == 0 || before["seed_loads"] != 3 {
		t.Fatalf("after the first load: %v", before)
	}
	if loaded, err := Load(ctx, st, db, quietLog()); err != nil || loaded {
		t.Fatalf("second load = %v, %v; want a no-op", loaded, err)
	}
	if after := counts(t, st); !mapsEqual(before, after) {
		t.Errorf("second load changed counts: %v -> %v", before, after)
	}

	// A restart opens the same file again: still nothing to do.
	closeStore()
	st2, db2 := openStore(t, path)
	if loaded, err := Load(ctx, st2, db2, quietLog()); err != nil || loaded {
		t.Fatalf("load after restart = %v, %v; want a no-op", loaded, err)
	}
	if after := counts(t, st2); !mapsEqual(before, after) {
		t.Errorf("load after restart changed counts: %v -> %v", before, after)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLoadRecordsFileHashes(t *testing.T) {
	t.Parallel()
	st := seeded(t)
	p, err := parse2021(seeds.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.files {
		var sum string
		if err := st.Reader().QueryRowContext(context.Background(),
			"SELECT sha256 FROM seed_loads WHERE name = ?", f.name).Scan(&sum); err != nil {
			t.Fatalf("seed_loads %s: %v", f.name, err)
		}
		if sum != f.sha256 {
			t.Errorf("%s recorded %s, file is %s", f.name, sum, f.sha256)
		}
	}
}

// TestFailedLoadWritesNothing: a file the store refuses half-way (a campaign
// name longer than the schema allows, after every unit went in) leaves the
// store as empty as it was, so the next start tries again.
func TestFailedLoadWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := openStore(t, filepath.Join(t.TempDir(), "dicoso.db"))
	fsys := copyFS(t)
	long := strings.Repeat("Đ", 400)
	data := strings.Replace(string(fsys[planFile].Data), `"Kiểm tra chuyên đề năm 2021"`, `"`+long+`"`, 1)
	fsys[planFile] = &fstest.MapFile{Data: []byte(data)}
	loaded, err := load(ctx, st, db, quietLog(), fsys)
	if err == nil || loaded {
		t.Fatalf("load = %v, %v; want an error", loaded, err)
	}
	if !strings.Contains(err.Error(), "campaigns") {
		t.Errorf("error %q should name the table", err)
	}
	for tbl, n := range counts(t, st) {
		if n != 0 {
			t.Errorf("%s has %d rows after a failed load", tbl, n)
		}
	}
	if loaded, err := Load(ctx, st, db, quietLog()); err != nil || !loaded {
		t.Fatalf("load of the good files afterwards = %v, %v", loaded, err)
	}
}

func TestStoreWithForeignDataIsNotSeeded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := openStore(t, filepath.Join(t.TempDir(), "dicoso.db"))
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		return db.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{{Table: "units", RowID: "0b0b0b0b-0000-4000-8000-000000000001",
			Fields: map[string]any{"name": "Lai Châu", "kind": "province", "code": "12"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(ctx, st, db, quietLog())
	if err != nil || loaded {
		t.Fatalf("load = %v, %v; want no load over an admin's units", loaded, err)
	}
	if c := counts(t, st); c["units"] != 1 || c["plans"] != 0 || c["seed_loads"] != 0 {
		t.Errorf("counts after a refused load: %v", c)
	}
}

func TestMerger2025KeepsThe2021Plan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := openStore(t, filepath.Join(t.TempDir(), "dicoso.db"))
	if loaded, err := LoadMerger2025(ctx, st, db, quietLog()); err == nil || loaded {
		t.Fatalf("merger before the 2021 seed = %v, %v; want an error", loaded, err)
	}
	if _, err := Load(ctx, st, db, quietLog()); err != nil {
		t.Fatal(err)
	}
	before := readCampaigns(t, st)
	if loaded, err := LoadMerger2025(ctx, st, db, quietLog()); err != nil || !loaded {
		t.Fatalf("merger = %v, %v", loaded, err)
	}
	if loaded, err := LoadMerger2025(ctx, st, db, quietLog()); err != nil || loaded {
		t.Fatalf("second merger = %v, %v; want a no-op", loaded, err)
	}

	// The 2021 campaigns still name the same 2021 units.
	after := readCampaigns(t, st)
	for name, c := range before {
		if !slices.Equal(c.unitNames, after[name].unitNames) {
			t.Errorf("%s: units %q became %q", name, c.unitNames, after[name].unitNames)
		}
	}

	type unitState struct{ name, code, validFrom, validTo, successor, successorFrom string }
	read := func(code, name string) unitState {
		t.Helper()
		var u unitState
		var validFrom, validTo, succ, succFrom sql.NullString
		err := st.Reader().QueryRowContext(ctx, `SELECT u.name, u.code, u.valid_from, u.valid_to, n.name, n.valid_from
			FROM units u LEFT JOIN units n ON n.id = u.replaced_by_id
			WHERE u.code = ? AND u.name = ? AND u.valid_from = '2021-01-01'`, code, name).
			Scan(&u.name, &u.code, &validFrom, &validTo, &succ, &succFrom)
		if err != nil {
			t.Fatalf("unit %s %s: %v", code, name, err)
		}
		u.validFrom, u.validTo, u.successor, u.successorFrom = validFrom.String, validTo.String, succ.String, succFrom.String
		return u
	}
	cases := []struct {
		code, name string
		want       unitState
	}{
		{"77", "Bà Rịa - Vũng Tàu", unitState{"Bà Rịa - Vũng Tàu", "77", "2021-01-01", "2025-06-30", "Hồ Chí Minh", "2025-07-01"}},
		{"79", "Hồ Chí Minh", unitState{"Hồ Chí Minh", "79", "2021-01-01", "2025-06-30", "Hồ Chí Minh", "2025-07-01"}},
		{"15", "Yên Bái", unitState{"Yên Bái", "15", "2021-01-01", "2025-06-30", "Lào Cai", "2025-07-01"}},
		{"67", "Đắk Nông", unitState{"Đắk Nông", "67", "2021-01-01", "2025-06-30", "Lâm Đồng", "2025-07-01"}},
		{"46", "Thừa Thiên Huế", unitState{"Thừa Thiên Huế", "46", "2021-01-01", "2024-12-31", "Huế", "2025-01-01"}},
		{"12", "Lai Châu", unitState{"Lai Châu", "12", "2021-01-01", "", "", ""}},
		{"01", "Hà Nội", unitState{"Hà Nội", "01", "2021-01-01", "", "", ""}},
	}
	for _, tc := range cases {
		if got := read(tc.code, tc.name); got != tc.want {
			t.Errorf("%s %s = %+v, want %+v", tc.code, tc.name, got, tc.want)
		}
	}

	// Every merged 2021 province (63 less the 10 that continue and Thừa Thiên
	// Huế) ends on 2025-06-30 and points at a unit that starts the next day.
	var merged int
	err := st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM units u JOIN units n ON n.id = u.replaced_by_id
		WHERE u.valid_from = '2021-01-01' AND u.valid_to = '2025-06-30' AND n.valid_from = '2025-07-01'`).Scan(&merged)
	if err != nil {
		t.Fatal(err)
	}
	if merged != 52 {
		t.Errorf("%d 2021 provinces merged on 2025-07-01, want 52", merged)
	}

	// Provinces in force on a given day: 63 in 2021, 34 after the merger.
	inForce := func(day string) int {
		t.Helper()
		var n int
		err := st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM units WHERE kind = 'province' AND deleted = 0
			AND valid_from <= ?1 AND (valid_to IS NULL OR valid_to >= ?1)`, day).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for day, want := range map[string]int{"2021-06-01": 63, "2025-06-30": 63, "2025-07-01": 34, "2026-01-01": 34} {
		if got := inForce(day); got != want {
			t.Errorf("provinces in force on %s = %d, want %d", day, got, want)
		}
	}
}
