package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// This file holds the world the attachment, scope and audit tests share:
// the real API over a real store file, users made through the API by the
// admin, reference data written through the sync engine (the one write
// path), and devices that log in, push and pull over HTTP.

const fwAdminPassword = "admin-password-2021"

// fieldWorld is one server with its store.
type fieldWorld struct {
	url   string
	cfg   config.Config
	st    *store.Store
	sdb   *syncdb.DB
	admin *fwDevice
	// clockBase is where device clocks start; tests add offsets to order
	// writes deliberately (always well inside the allowed skew).
	clockBase int64
}

// fwDevice is one logged-in device of one user.
type fwDevice struct {
	w       *fieldWorld
	userID  string
	id      string // device id, also its clock node
	token   string
	counter atomic.Int64
}

func newFieldWorld(t *testing.T, maxAttachmentBytes int64) *fieldWorld {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if maxAttachmentBytes > 0 {
		cfg.MaxAttachmentBytes = maxAttachmentBytes
	}
	st, err := store.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	authSvc := auth.Ephemeral(st, auth.Options{Sync: sdb})
	if _, _, err := authSvc.BootstrapAdmin(ctx, fwAdminPassword); err != nil {
		t.Fatalf("bootstrap admin: %v", err)
	}
	srv := api.New(api.Deps{Config: cfg, Store: st, Log: slog.New(slog.DiscardHandler), Auth: authSvc, Sync: sdb})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		sdb.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	w := &fieldWorld{url: hs.URL, cfg: cfg, st: st, sdb: sdb, clockBase: time.Now().UnixMilli()}
	w.admin = w.login(t, "admin", fwAdminPassword, "dev-admin")
	return w
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.body, dst); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode is the code of an error envelope ("" when the body is none).
func (r reply) errorCode() string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &env) // a non-envelope body has no code
	return env.Error.Code
}

func (r reply) want(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.errorCode() != code) {
		t.Fatalf("answer %d %s, want %d %s", r.status, r.body, status, code)
	}
}

// do sends a request; body is JSON-encoded unless it is already an
// io.Reader or []byte (sent as is).
func (w *fieldWorld) do(t *testing.T, method, path, token string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd, contentType = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, w.url+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: out}
}

func (w *fieldWorld) login(t *testing.T, username, password, device string) *fwDevice {
	t.Helper()
	r := w.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{
		"username": username, "password": password, "device": map[string]string{"id": device, "name": device},
	})
	r.want(t, http.StatusOK, "")
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.decode(t, &tok)
	return &fwDevice{w: w, userID: tok.User.ID, id: device, token: tok.AccessToken}
}

// user creates a user through the API as the admin and logs them in on a
// device of their own.
func (w *fieldWorld) user(t *testing.T, username string, roles []string, departmentID string) *fwDevice {
	t.Helper()
	const password = "field-password-2021"
	body := map[string]any{"username": username, "password": password, "full_name": username, "roles": roles}
	if departmentID != "" {
		body["department_id"] = departmentID
	}
	w.do(t, http.MethodPost, "/api/v1/users", w.admin.token, body).want(t, http.StatusCreated, "")
	return w.login(t, username, password, "dev-"+username)
}

// reference writes reference rows as the server does (seed, admin edits).
func (w *fieldWorld) reference(t *testing.T, changes ...syncdb.ServerChange) {
	t.Helper()
	ctx := context.Background()
	err := w.st.InTx(ctx, func(tx *sql.Tx) error {
		return w.sdb.ApplyServerTx(ctx, tx, w.admin.userID, changes)
	})
	if err != nil {
		t.Fatalf("write reference data: %v", err)
	}
}

// clock is this device's next HLC at offset from the world's clock base.
func (d *fwDevice) clock(offset time.Duration) string {
	return hlc.Timestamp{Millis: d.w.clockBase + offset.Milliseconds(), Counter: int(d.counter.Add(1)), Node: d.id}.String()
}

// change is an upsert of one row stamped now (by this device's clock).
func (d *fwDevice) change(table, rowID string, fields map[string]any) protocol.Change {
	return protocol.Change{ID: uuid.NewString(), Table: table, RowID: rowID, Op: protocol.OpUpsert,
		HLC: d.clock(time.Since(time.UnixMilli(d.w.clockBase))), Fields: fields}
}

// push sends changes with base cursor base ("" for none) and requires
// every one applied.
func (d *fwDevice) push(t *testing.T, base string, changes ...protocol.Change) {
	t.Helper()
	req := protocol.PushRequest{Protocol: protocol.Version, DeviceID: d.id, BaseCursor: base, Changes: changes}
	r := d.w.do(t, http.MethodPost, "/api/v1/sync/push", d.token, req)
	r.want(t, http.StatusOK, "")
	var resp protocol.PushResponse
	r.decode(t, &resp)
	for i, res := range resp.Results {
		if res.Status != protocol.StatusApplied {
			t.Fatalf("%s: change %d (%s %s) %s %s: %s", d.id, i, changes[i].Table, changes[i].RowID, res.Status, res.Code, res.Message)
		}
	}
}

// pullPage is one pull from cursor.
func (d *fwDevice) pullPage(t *testing.T, cursor string, limit int) protocol.PullResponse {
	t.Helper()
	r := d.w.do(t, http.MethodPost, "/api/v1/sync/pull", d.token,
		protocol.PullRequest{Protocol: protocol.Version, DeviceID: d.id, Cursor: cursor, Limit: limit})
	r.want(t, http.StatusOK, "")
	var resp protocol.PullResponse
	r.decode(t, &resp)
	return resp
}

// pullAll pulls from cursor until nothing is left, in small pages so that
// paging is exercised too; it returns the rows by "table/row_id" and the
// final cursor.
func (d *fwDevice) pullAll(t *testing.T, cursor string) (map[string]protocol.Row, string) {
	t.Helper()
	rows := map[string]protocol.Row{}
	for range 1000 {
		resp := d.pullPage(t, cursor, 7)
		if resp.Reset {
			t.Fatalf("%s: pull answered reset", d.id)
		}
		for _, r := range resp.Rows {
			rows[r.Table+"/"+r.RowID] = r
		}
		cursor = resp.Cursor
		if !resp.HasMore {
			return rows, cursor
		}
	}
	t.Fatalf("%s: pull never ended", d.id)
	return nil, ""
}

// teamWorld is a campaign with two inspection teams, two clusters led by two
// secretaries, two departments, and field data written by each side.
type teamWorld struct {
	*fieldWorld
	dept1, dept2             string
	unitA, unitB             string
	campaign, teamA, teamB   string
	leaderA                  *fwDevice // leads team A (and reviews its notes)
	inspA, inspA2, inspB     *fwDevice
	secA, secB               *fwDevice
	deptUser, ic             *fwDevice
	noteA, noteA2, noteB     string
	findingA, findingB       string
	checkinA, checkinB       string
	followUpA                string
	tripSecA, tripSecB       string
	tripDaySecA, tripDaySecB string
}

func newTeamWorld(t *testing.T, maxAttachmentBytes int64) *teamWorld {
	t.Helper()
	w := &teamWorld{fieldWorld: newFieldWorld(t, maxAttachmentBytes)}
	id := func() string { return uuid.NewString() }
	w.dept1, w.dept2 = id(), id()
	w.reference(t,
		syncdb.ServerChange{Table: "departments", RowID: w.dept1, Fields: map[string]any{"name": "Ban Phong trào"}},
		syncdb.ServerChange{Table: "departments", RowID: w.dept2, Fields: map[string]any{"name": "Ban Thanh niên Nông thôn"}},
	)
	w.leaderA = w.user(t, "leader-a", []string{"inspector"}, "")
	w.inspA = w.user(t, "insp-a", []string{"inspector"}, "")
	w.inspA2 = w.user(t, "insp-a2", []string{"inspector"}, "")
	w.inspB = w.user(t, "insp-b", []string{"inspector"}, "")
	w.secA = w.user(t, "sec-a", []string{"secretary"}, "")
	w.secB = w.user(t, "sec-b", []string{"secretary"}, "")
	w.deptUser = w.user(t, "dept-1", []string{"department"}, w.dept1)
	w.ic = w.user(t, "committee", []string{"inspection_committee"}, "")

	clusterA, clusterB, plan := id(), id(), id()
	w.unitA, w.unitB, w.campaign, w.teamA, w.teamB = id(), id(), id(), id(), id()
	w.reference(t,
		syncdb.ServerChange{Table: "clusters", RowID: clusterA, Fields: map[string]any{"name": "Cụm 1", "lead_secretary_id": w.secA.userID}},
		syncdb.ServerChange{Table: "clusters", RowID: clusterB, Fields: map[string]any{"name": "Cụm 2", "lead_secretary_id": w.secB.userID}},
		syncdb.ServerChange{Table: "units", RowID: w.unitA, Fields: map[string]any{
			"name": "Tỉnh đoàn Lai Châu", "kind": "province", "cluster_id": clusterA, "lat": 22.3964, "lng": 103.4582}},
		syncdb.ServerChange{Table: "units", RowID: w.unitB, Fields: map[string]any{
			"name": "Tỉnh đoàn Cà Mau", "kind": "province", "cluster_id": clusterB, "lat": 9.1769, "lng": 105.1524}},
		syncdb.ServerChange{Table: "plans", RowID: plan, Fields: map[string]any{"year": float64(2021), "title": "Kế hoạch 356-KH/TWĐTN-BKT"}},
		syncdb.ServerChange{Table: "campaigns", RowID: w.campaign, Fields: map[string]any{
			"plan_id": plan, "kind": "periodic", "name": "Kiểm tra định kỳ đợt 1", "unit_ids": []string{w.unitA, w.unitB}}},
		syncdb.ServerChange{Table: "teams", RowID: w.teamA, Fields: map[string]any{"campaign_id": w.campaign, "name": "Đoàn 1",
			"leader_id": w.leaderA.userID, "member_ids": []string{w.inspA.userID, w.inspA2.userID}, "unit_ids": []string{w.unitA}}},
		syncdb.ServerChange{Table: "teams", RowID: w.teamB, Fields: map[string]any{"campaign_id": w.campaign, "name": "Đoàn 2",
			"member_ids": []string{w.inspB.userID}, "unit_ids": []string{w.unitB}}},
	)

	// Field data of team A (two authors) and team B.
	w.noteA, w.noteA2, w.noteB = id(), id(), id()
	w.findingA, w.findingB, w.checkinA, w.checkinB, w.followUpA = id(), id(), id(), id(), id()
	note := func(unit, title string) map[string]any {
		return map[string]any{"unit_id": unit, "campaign_id": w.campaign, "kind": "inspection", "title": title,
			"results": "Kết quả kiểm tra", "status": "submitted"}
	}
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	w.inspA.push(t, "",
		w.inspA.change("visit_notes", w.noteA, note(w.unitA, "Kiểm tra Lai Châu")),
		w.inspA.change("findings", w.findingA, map[string]any{"note_id": w.noteA, "unit_id": w.unitA, "campaign_id": w.campaign,
			"category": "shortcoming", "text": "Chưa sơ kết nghị quyết", "department_id": w.dept1}),
		w.inspA.change("checkins", w.checkinA, map[string]any{"unit_id": w.unitA, "at": at, "lat": 22.39, "lng": 103.45, "accuracy_m": 15.0}),
		w.inspA.change("follow_ups", w.followUpA, map[string]any{"finding_id": w.findingA, "text": "Đã nhắc tỉnh đoàn"}),
	)
	w.inspA2.push(t, "", w.inspA2.change("visit_notes", w.noteA2, note(w.unitA, "Ghi chép của thành viên thứ hai")))
	w.inspB.push(t, "",
		w.inspB.change("visit_notes", w.noteB, note(w.unitB, "Kiểm tra Cà Mau")),
		w.inspB.change("findings", w.findingB, map[string]any{"note_id": w.noteB, "unit_id": w.unitB, "campaign_id": w.campaign,
			"category": "recommendation", "text": "Đề nghị hỗ trợ kinh phí", "department_id": w.dept2}),
		w.inspB.change("checkins", w.checkinB, map[string]any{"unit_id": w.unitB, "at": at, "lat": 9.17, "lng": 105.15, "accuracy_m": 20.0}),
	)

	// Each secretary logs a trip (with a day) to a unit of their own cluster.
	w.tripSecA, w.tripSecB, w.tripDaySecA, w.tripDaySecB = id(), id(), id(), id()
	for _, s := range []struct {
		dev        *fwDevice
		trip, day  string
		unit, name string
	}{{w.secA, w.tripSecA, w.tripDaySecA, w.unitA, "Làm việc với Lai Châu"}, {w.secB, w.tripSecB, w.tripDaySecB, w.unitB, "Làm việc với Cà Mau"}} {
		s.dev.push(t, "",
			s.dev.change("trips", s.trip, map[string]any{"title": s.name, "purpose": "working_session",
				"unit_ids": []string{s.unit}, "starts_on": "2021-03-15", "ends_on": "2021-03-16", "status": "done"}),
			s.dev.change("trip_days", s.day, map[string]any{"trip_id": s.trip, "day": "2021-03-15", "unit_id": s.unit}),
		)
	}
	return w
}

// keys lists "table/row_id" for rows of the given tables only.
func fieldKeys(rows map[string]protocol.Row) map[string]bool {
	out := map[string]bool{}
	for k, r := range rows {
		switch r.Table {
		case "trips", "trip_days", "checkins", "visit_notes", "findings", "follow_ups":
			out[k] = true
		}
	}
	return out
}

func key(table, id string) string { return table + "/" + id }

func TestPullScopeIsolatesTeamsSecretariesAndDepartments(t *testing.T) {
	t.Parallel()
	w := newTeamWorld(t, 0)

	teamA := []string{key("visit_notes", w.noteA), key("visit_notes", w.noteA2), key("findings", w.findingA),
		key("checkins", w.checkinA), key("follow_ups", w.followUpA)}
	teamB := []string{key("visit_notes", w.noteB), key("findings", w.findingB), key("checkins", w.checkinB)}
	tripsA := []string{key("trips", w.tripSecA), key("trip_days", w.tripDaySecA)}
	tripsB := []string{key("trips", w.tripSecB), key("trip_days", w.tripDaySecB)}
	all := append(append(append(append([]string{}, teamA...), teamB...), tripsA...), tripsB...)

	cases := []struct {
		name string
		dev  *fwDevice
		want []string // exactly the field rows this device must receive
	}{
		// Own rows, and a team mate's rows for the team's units.
		{"inspector of team A", w.inspA, teamA},
		{"second inspector of team A", w.inspA2, teamA},
		{"leader of team A", w.leaderA, teamA},
		{"inspector of team B", w.inspB, teamB},
		// A secretary reads field data of the units of the cluster they
		// lead (here team A's unit), and their own trips; never the other
		// secretary's trips.
		{"secretary leading cluster A", w.secA, append(append([]string{}, teamA...), tripsA...)},
		{"secretary leading cluster B", w.secB, append(append([]string{}, teamB...), tripsB...)},
		// A department reads the findings assigned to it, with their notes
		// and follow-ups, and nothing else.
		{"department 1", w.deptUser, []string{key("findings", w.findingA), key("visit_notes", w.noteA), key("follow_ups", w.followUpA)}},
		{"inspection committee", w.ic, all},
		{"admin", w.admin, all},
	}
	// The rows reasoned about exist with the owners and units assumed.
	rows, _ := w.admin.pullAll(t, "")
	for _, c := range []struct{ k, field, want string }{
		{key("visit_notes", w.noteA), "author_id", w.inspA.userID},
		{key("visit_notes", w.noteB), "unit_id", w.unitB},
		{key("findings", w.findingA), "department_id", w.dept1},
		{key("trips", w.tripSecB), "user_id", w.secB.userID},
		{key("checkins", w.checkinA), "user_id", w.inspA.userID},
	} {
		r, ok := rows[c.k]
		if !ok {
			t.Fatalf("admin did not receive %s", c.k)
		}
		if got := fmt.Sprint(r.Fields[c.field]); !strings.EqualFold(got, c.want) {
			t.Fatalf("%s.%s = %s, want %s", c.k, c.field, got, c.want)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, _ := tc.dev.pullAll(t, "")
			got := fieldKeys(rows)
			want := map[string]bool{}
			for _, k := range tc.want {
				want[k] = true
			}
			for k := range want {
				if !got[k] {
					t.Errorf("did not receive %s", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("received %s, outside its scope", k)
				}
			}
			// Reference data reaches everyone.
			if _, ok := rows[key("units", w.unitB)]; !ok {
				t.Error("did not receive reference data (unit B)")
			}
		})
	}

	// Last, as it changes the teams: a scope change resets the cursor.
	t.Run("scope change resets", func(t *testing.T) {
		rows, cursor := w.inspA.pullAll(t, "")
		if _, ok := rows[key("visit_notes", w.noteB)]; ok {
			t.Fatal("team A's inspector received team B's note before joining team B")
		}

		// The admin adds the inspector to team B as well.
		w.reference(t, syncdb.ServerChange{Table: "teams", RowID: w.teamB, Fields: map[string]any{
			"member_ids": []string{w.inspB.userID, w.inspA.userID}}})

		resp := w.inspA.pullPage(t, cursor, 100)
		if !resp.Reset {
			t.Fatalf("pull after the scope changed: reset = false, rows %d", len(resp.Rows))
		}
		if len(resp.Rows) != 0 {
			t.Errorf("a reset answer carries %d rows", len(resp.Rows))
		}
		rows, _ = w.inspA.pullAll(t, "")
		for _, k := range []string{key("visit_notes", w.noteB), key("findings", w.findingB), key("checkins", w.checkinB), key("visit_notes", w.noteA)} {
			if _, ok := rows[k]; !ok {
				t.Errorf("after the reset, the fresh snapshot lacks %s", k)
			}
		}

		// An unrelated user's cursor is not reset by someone else's change.
		_, curB := w.secB.pullAll(t, "")
		w.reference(t, syncdb.ServerChange{Table: "teams", RowID: w.teamA, Fields: map[string]any{"name": "Đoàn kiểm tra số 1"}})
		if resp := w.secB.pullPage(t, curB, 100); resp.Reset {
			t.Error("secretary B was told to reset by a change to a team they are not in")
		}
	})
}
