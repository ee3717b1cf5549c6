package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/seed"
	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// TestStoreCopyToPostgres fills an SQLite store with rows in every table
// (seeds, users, logins, field data from devices, a review, a conflict, a
// refused change, a moved finding, an attachment), copies it with
// `dicoso store copy` into an empty PostgreSQL database, and checks:
//   - every table holds the same rows, value for value;
//   - the devices, their cursors unchanged, go on syncing against a server
//     on the copy without a reset, and end equal to a fresh snapshot;
//   - new changes take sequences after the copied ones;
//   - a second copy into the now non-empty database is refused.
func TestStoreCopyToPostgres(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.NewDatabase(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	lite, err := store.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}

	// The server the devices know, over the SQLite store, behind a URL
	// that later leads to the server over the copy.
	var target atomic.Value
	srvLite, sdbLite, svcLite := serveStore(t, cfg, lite)
	target.Store(srvLite.URL)
	httpc := &http.Client{Transport: randomProcess{pick: func() string { return target.Load().(string) }}}

	if _, err := seed.Load(ctx, lite, sdbLite, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	dept2 := uuid.NewString()
	if err := lite.InTx(ctx, func(tx *sql.Tx) error {
		return sdbLite.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{{Table: "departments", RowID: dept2, Fields: map[string]any{"name": "Ban Tổ chức"}}})
	}); err != nil {
		t.Fatal(err)
	}
	var unit, dept string
	if err := lite.Reader().QueryRow(`SELECT id FROM units WHERE deleted = 0 ORDER BY id LIMIT 1`).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	if err := lite.Reader().QueryRow(`SELECT id FROM departments WHERE id <> ? ORDER BY id LIMIT 1`, dept2).Scan(&dept); err != nil {
		t.Fatal(err)
	}
	const pw = "copy-test-password-2021"
	lan, err := svcLite.CreateUser(ctx, "", auth.NewUser{Username: "lan", Password: pw, FullName: "Nguyễn Thị Lan", Roles: []string{"inspector"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcLite.CreateUser(ctx, "", auth.NewUser{Username: "kiem", Password: pw, FullName: "Trần Văn Kiểm", Roles: []string{"inspection_committee"}}); err != nil {
		t.Fatal(err)
	}
	device := func(name, user string) *client.Device {
		d, err := client.Open(ctx, filepath.Join(t.TempDir(), "device.db"), client.Options{BaseURL: srvLite.URL, HTTP: httpc, DeviceID: name, RelaxedDurability: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if _, err := d.Login(ctx, user, pw); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var campaign string
	if err := lite.Reader().QueryRow(`SELECT id FROM campaigns ORDER BY id LIMIT 1`).Scan(&campaign); err != nil {
		t.Fatal(err)
	}
	team, cluster := uuid.NewString(), uuid.NewString()
	if err := lite.InTx(ctx, func(tx *sql.Tx) error {
		return sdbLite.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{
			{Table: "clusters", RowID: cluster, Fields: map[string]any{"name": "Cụm 1", "lead_department_id": dept}},
			{Table: "teams", RowID: team, Fields: map[string]any{"campaign_id": campaign, "name": "Đoàn 1",
				"leader_id": lan.ID, "member_ids": []any{lan.ID}, "unit_ids": []any{unit}}},
			{Table: "team_visits", RowID: uuid.NewString(), Fields: map[string]any{"team_id": team, "unit_id": unit, "starts_on": "2021-04-05", "ends_on": "2021-04-06"}},
			{Table: "notices", RowID: uuid.NewString(), Fields: map[string]any{"campaign_id": campaign, "team_id": team, "status": "draft", "title": "Thông báo lịch kiểm tra"}},
			{Table: "briefings", RowID: uuid.NewString(), Fields: map[string]any{"cluster_id": cluster, "held_on": "2021-05-10", "place": "Lai Châu", "unit_ids": []any{unit}}},
		})
	}); err != nil {
		t.Fatal(err)
	}
	lanDev, kiemDev := device("copy-lan", "lan"), device("copy-kiem", "kiem")
	must := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sync := func(d *client.Device) client.Report {
		t.Helper()
		rep, err := d.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rejected > 0 {
			rj, _ := d.Rejected(ctx)
			t.Fatalf("%s: refused %+v", d.ID(), rj)
		}
		return rep
	}
	trip, note, finding := uuid.NewString(), uuid.NewString(), uuid.NewString()
	must(lanDev.Upsert(ctx, "trips", trip, map[string]any{"user_id": lan.ID, "purpose": "inspection", "starts_on": "2021-03-26", "title": "Kiểm tra Lai Châu"}))
	must(lanDev.Upsert(ctx, "trip_days", uuid.NewString(), map[string]any{"trip_id": trip, "user_id": lan.ID, "day": "2021-03-26", "unit_id": unit}))
	must(lanDev.Upsert(ctx, "checkins", uuid.NewString(), map[string]any{"user_id": lan.ID, "unit_id": unit, "trip_id": trip, "at": "2021-03-26T02:00:00Z"}))
	must(lanDev.Upsert(ctx, "visit_notes", note, map[string]any{"author_id": lan.ID, "unit_id": unit, "trip_id": trip, "title": "Làm việc với Tỉnh đoàn", "results": "Đảng viên trẻ", "status": "submitted"}))
	must(lanDev.Upsert(ctx, "findings", finding, map[string]any{"note_id": note, "author_id": lan.ID, "unit_id": unit, "category": "shortcoming", "text": "Thiếu sổ sách", "department_id": dept}))
	must(lanDev.Upsert(ctx, "follow_ups", uuid.NewString(), map[string]any{"finding_id": finding, "author_id": lan.ID, "at": "2021-03-27T02:00:00Z", "text": "Đã nhắc"}))
	sync(lanDev)
	sync(kiemDev)
	must(kiemDev.Upsert(ctx, "reviews", uuid.NewString(), map[string]any{"note_id": note, "reviewer_id": kiemDev.UserID(), "decision": "reviewed", "at": "2021-03-28T02:00:00Z"}))
	must(kiemDev.Upsert(ctx, "visit_notes", note, map[string]any{"status": "reviewed", "reviewed_by": kiemDev.UserID()}))
	must(kiemDev.Upsert(ctx, "findings", finding, map[string]any{"department_id": dept2})) // a move: scope_moves
	sync(kiemDev)

	// A conflict (two devices, neither having seen the other's title: the
	// later clock arrives first, the older loses) and a refused change,
	// pushed straight to the engine.
	now := time.Now()
	for i, dev := range []string{"copy-a", "copy-b"} {
		res, err := sdbLite.Push(ctx, syncdb.Actor{UserID: lan.ID, Roles: []string{"inspector"}}, protocol.PushRequest{Protocol: 1, DeviceID: dev, Changes: []protocol.Change{{
			ID: uuid.NewString(), Table: "trips", RowID: trip, Op: protocol.OpUpsert,
			HLC: hlc.Timestamp{Millis: now.Add(time.Duration(1-i) * time.Second).UnixMilli(), Node: dev}.String(), Fields: map[string]any{"title": "Tựa " + dev}}}})
		if err != nil || res.Results[0].Status != protocol.StatusApplied {
			t.Fatalf("conflicting push: %+v %v", res, err)
		}
	}
	if res, err := sdbLite.Push(ctx, syncdb.Actor{UserID: lan.ID, Roles: []string{"inspector"}}, protocol.PushRequest{Protocol: 1, DeviceID: "copy-a", Changes: []protocol.Change{{
		ID: uuid.NewString(), Table: "trips", RowID: uuid.NewString(), Op: protocol.OpUpsert,
		HLC: hlc.Timestamp{Millis: now.UnixMilli(), Node: "copy-a"}.String(), Fields: map[string]any{"purpose": "picnic"}}}}); err != nil || res.Results[0].Status != protocol.StatusRejected {
		t.Fatalf("refused push: %+v %v", res, err)
	}
	if _, err := sdbLite.RecordAttachment(ctx, syncdb.Attachment{SHA256: strings.Repeat("ab", 32), Size: 3, MIME: "image/jpeg", UploadedBy: lan.ID}); err != nil {
		t.Fatal(err)
	}
	sync(lanDev)
	sync(kiemDev)

	cols := map[string][]string{}
	before := dumpStore(t, lite, cols)
	for table, rows := range before {
		if len(rows) == 0 {
			t.Errorf("the source's %s is empty: the test must fill every table", table)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	srvLite.Close()
	sdbLite.Close()
	if err := lite.Close(); err != nil {
		t.Fatal(err)
	}
	closed[lite] = true

	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"store", "copy", "--from", cfg.DBPath(), "--to", dbURL}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("store copy: %v\n%s", err, errOut.String())
	}
	t.Logf("store copy:\n%s", out.String())

	pg, err := store.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	after := dumpStore(t, pg, cols)
	for table, rows := range before {
		got := after[table]
		if len(got) != len(rows) {
			t.Errorf("%s: %d rows copied, want %d", table, len(got), len(rows))
			continue
		}
		for i := range rows {
			if got[i] != rows[i] {
				t.Errorf("%s row %d:\n got %s\nwant %s", table, i, got[i], rows[i])
			}
		}
	}
	var maxSeq int64
	if err := pg.Reader().QueryRow(`SELECT MAX(seq) FROM change_log`).Scan(&maxSeq); err != nil {
		t.Fatal(err)
	}

	srvPG, _, _ := serveStore(t, cfg, pg)
	target.Store(srvPG.URL)
	must(lanDev.Upsert(ctx, "trips", trip, map[string]any{"notes": "sau khi chuyển sang PostgreSQL"}))
	for _, d := range []*client.Device{lanDev, kiemDev} {
		if rep := sync(d); rep.Reset || rep.Snapshot {
			t.Errorf("%s was reset after the copy: %+v", d.ID(), rep)
		}
	}
	var seq int64
	if err := pg.Reader().QueryRow(`SELECT MAX(seq) FROM change_log`).Scan(&seq); err != nil || seq <= maxSeq {
		t.Fatalf("newest sequence after the copy %d (%v), want past %d", seq, err, maxSeq)
	}
	fresh := device("copy-kiem-new", "kiem")
	sync(fresh)
	for _, table := range []string{"trips", "visit_notes", "findings", "reviews", "units", "users"} {
		a, err := kiemDev.Rows(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fresh.Rows(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: the device that kept its cursor holds\n%v\na fresh snapshot\n%v", table, a, b)
		}
	}

	if err := Run(ctx, []string{"store", "copy", "--from", cfg.DBPath(), "--to", dbURL}, func(string) string { return "" }, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a second copy into the same database: %v, want a refusal", err)
	}
}

// closed marks the stores a test closed itself, before its end.
var closed = map[*store.Store]bool{}

// serveStore serves st over HTTP (closed when the test ends).
func serveStore(t *testing.T, cfg config.Config, st *store.Store) (*httptest.Server, *syncdb.DB, *auth.Service) {
	t.Helper()
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	// One signing key for both servers: the devices' tokens outlive the move.
	svc, err := auth.New(st, auth.Options{Sync: sdb, Secret: []byte("store-copy-test-signing-key-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.BootstrapAdmin(context.Background(), testAdminPassword); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(api.New(api.Deps{Config: cfg, Store: st, Log: slog.New(slog.DiscardHandler), Auth: svc, Sync: sdb}).Handler())
	t.Cleanup(func() {
		if !closed[st] {
			hs.Close()
			sdb.Close()
			st.Close()
		}
	})
	return hs, sdb, svc
}

// dumpStore is every row of every copied table, each as text, in key
// order: what a copy must carry over unchanged. cols holds each table's
// columns, read from the first store dumped.
func dumpStore(t *testing.T, st *store.Store, cols map[string][]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range store.CopiedTables() {
		if cols[table] == nil {
			rs, err := st.Reader().Query("SELECT * FROM " + table + " LIMIT 0")
			if err != nil {
				t.Fatalf("columns of %s: %v", table, err)
			}
			cols[table], err = rs.Columns()
			rs.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		cols := cols[table]
		rs, err := st.Reader().Query("SELECT " + strings.Join(cols, ", ") + " FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&b, "%s=%v;", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		rs.Close()
		if _, ok := out[table]; !ok {
			out[table] = nil
		}
	}
	return out
}
