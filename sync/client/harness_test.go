package client_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
	"dicoso/sync/client"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// This file is the world the client tests share: the real API over a real
// store file, users made through the API by the admin, reference data
// written through the sync engine, and devices (the client under test) that
// log in and sync over HTTP, through a network that can lose answers.

const (
	adminPassword = "admin-password-2021"
	userPassword  = "field-password-2021"
)

type world struct {
	url   string
	st    *store.Store
	sdb   *syncdb.DB
	admin string // admin's access token (template world only)
	dir   string // device files
	refData

	acksMu  sync.Mutex
	applied map[string]bool // change ids a push answer called applied (the client's or a replay's)
}

// refData is the reference data and users every world starts with.
type refData struct {
	dept1, dept2       string
	units              []string // U1..U4
	unitLat, unitLng   []float64
	cluster1, cluster2 string // K1 = U1, U2 (led by "minh"); K2 = U3, U4
	plan, campaign     string
	team1              string // the campaign's team for U1, U2: led by "tuan", members "hoa" and "lan"
	users              map[string]userInfo
}

type userInfo struct {
	id, username string
	roles        []string
	dept         string
}

type worldOptions struct {
	authNow func() time.Time // the auth service's clock (token expiry)
	access  time.Duration    // access token lifetime
}

// template is a store file holding refData, made once through the API:
// every password hash costs about half a second on a small machine, so
// each world starts from a copy of it instead of creating its users anew.
var template struct {
	once   sync.Once
	dir    string
	path   string // SQLite: the template file
	dbName string // PostgreSQL: the template database
	ref    refData
	err    error
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(killChildEnv); cfg != "" {
		os.Exit(killChild(cfg))
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "dicoso-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	template.dir = dir
	code := storetest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

func templateStore(t testing.TB) (string, refData) {
	t.Helper()
	template.once.Do(func() {
		ok := inScope(t, "template", func(t testing.TB) {
			dataDir := t.TempDir()
			var st *store.Store
			if storetest.Postgres() {
				var u string
				template.dbName, u = storetest.TemplateDatabase(t)
				st = openPostgres(t, u)
			} else {
				st = openSQLite(t, dataDir)
			}
			w := openWorld(t, dataDir, st, worldOptions{})
			w.admin = w.rawLogin(t, "admin", adminPassword, "setup-admin")
			w.seed(t)
			if !storetest.Postgres() {
				template.path = filepath.Join(template.dir, "template.db")
				if err := w.st.Backup(context.Background(), template.path); err != nil {
					t.Fatalf("backup: %v", err)
				}
			}
			template.ref = w.refData
		})
		if !ok {
			template.err = errors.New("building the template store failed")
		}
	})
	if template.err != nil {
		t.Fatal(template.err)
	}
	ref := template.ref
	ref.users = maps.Clone(ref.users)
	return template.path, ref
}

// inScope runs build as a subtest of a test, so what it leaves to clean up
// (the template's server, its directory) goes when it ends; a benchmark,
// whose subtests would be benchmarks of their own, runs it in place.
func inScope(t testing.TB, name string, build func(testing.TB)) bool {
	if tt, ok := t.(*testing.T); ok {
		return tt.Run(name, func(t *testing.T) { build(t) })
	}
	build(t)
	return !t.Failed()
}

func openSQLite(t testing.TB, dataDir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dataDir, "dicoso.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

func openPostgres(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// newWorld is a server over a fresh copy of the template store.
func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	path, ref := templateStore(t)
	dataDir := t.TempDir()
	var st *store.Store
	if storetest.Postgres() {
		st = openPostgres(t, storetest.NewDatabaseFrom(t, template.dbName))
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, "dicoso.db"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		st = openSQLite(t, dataDir)
	}
	w := openWorld(t, dataDir, st, o)
	w.refData = ref
	return w
}

// openWorld serves st (closed when the test ends) with its attachments
// under dataDir.
func openWorld(t testing.TB, dataDir string, st *store.Store, o worldOptions) *world {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = dataDir
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	authSvc := auth.Ephemeral(st, auth.Options{Sync: sdb, Now: o.authNow, AccessTTL: o.access})
	if _, _, err := authSvc.BootstrapAdmin(ctx, adminPassword); err != nil {
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
	return &world{url: hs.URL, st: st, sdb: sdb, dir: t.TempDir(), applied: map[string]bool{}, refData: refData{users: map[string]userInfo{}}}
}

// seed writes the reference data and the users of every test.
func (w *world) seed(t testing.TB) {
	t.Helper()
	w.dept1, w.dept2 = uuid.NewString(), uuid.NewString()
	w.server(t,
		syncdb.ServerChange{Table: "departments", RowID: w.dept1, Fields: map[string]any{"name": "Ban Phong trào"}},
		syncdb.ServerChange{Table: "departments", RowID: w.dept2, Fields: map[string]any{"name": "Ban Tổ chức"}})
	w.unitLat = []float64{22.39, 21.03, 16.05, 10.78}
	w.unitLng = []float64{103.46, 105.85, 108.20, 106.70}
	var ch []syncdb.ServerChange
	for i, name := range []string{"Lai Châu", "Hà Nội", "Đà Nẵng", "TP Hồ Chí Minh"} {
		id := uuid.NewString()
		w.units = append(w.units, id)
		ch = append(ch, syncdb.ServerChange{Table: "units", RowID: id, Fields: map[string]any{
			"name": name, "kind": "province", "code": fmt.Sprint(i + 1), "lat": w.unitLat[i], "lng": w.unitLng[i]}})
	}
	w.server(t, ch...)

	w.user(t, "lan", []string{"secretary", "inspector"}, "") // team member; two devices
	w.user(t, "minh", []string{"secretary"}, "")             // leads cluster 1
	w.user(t, "hoa", []string{"inspector"}, "")              // team member
	w.user(t, "tuan", []string{"inspector"}, "")             // team leader: reviews the team's notes
	w.user(t, "kiem", []string{"inspection_committee"}, "")  // sees and triages everything
	w.user(t, "phong", []string{"department"}, w.dept1)      // works findings sent to dept1

	w.cluster1, w.cluster2 = uuid.NewString(), uuid.NewString()
	w.plan, w.campaign, w.team1 = uuid.NewString(), uuid.NewString(), uuid.NewString()
	w.server(t,
		syncdb.ServerChange{Table: "clusters", RowID: w.cluster1, Fields: map[string]any{"name": "Cụm 1", "lead_secretary_id": w.users["minh"].id}},
		syncdb.ServerChange{Table: "clusters", RowID: w.cluster2, Fields: map[string]any{"name": "Cụm 2"}},
		syncdb.ServerChange{Table: "units", RowID: w.units[0], Fields: map[string]any{"cluster_id": w.cluster1}},
		syncdb.ServerChange{Table: "units", RowID: w.units[1], Fields: map[string]any{"cluster_id": w.cluster1}},
		syncdb.ServerChange{Table: "units", RowID: w.units[2], Fields: map[string]any{"cluster_id": w.cluster2}},
		syncdb.ServerChange{Table: "units", RowID: w.units[3], Fields: map[string]any{"cluster_id": w.cluster2}},
		syncdb.ServerChange{Table: "plans", RowID: w.plan, Fields: map[string]any{"year": 2021.0, "title": "Kế hoạch 356", "min_field_days": 60.0}},
		syncdb.ServerChange{Table: "campaigns", RowID: w.campaign, Fields: map[string]any{
			"plan_id": w.plan, "kind": "periodic", "name": "Kiểm tra định kỳ đợt 1", "unit_ids": []string{w.units[0], w.units[1], w.units[2]}}},
		syncdb.ServerChange{Table: "teams", RowID: w.team1, Fields: map[string]any{
			"campaign_id": w.campaign, "name": "Đoàn 1", "leader_id": w.users["tuan"].id,
			"member_ids": []string{w.users["hoa"].id, w.users["lan"].id}, "unit_ids": []string{w.units[0], w.units[1]}}},
	)
}

// server writes rows as the server itself does (seed, admin edits).
func (w *world) server(t testing.TB, changes ...syncdb.ServerChange) {
	t.Helper()
	ctx := context.Background()
	err := w.st.InTx(ctx, func(tx *sql.Tx) error { return w.sdb.ApplyServerTx(ctx, tx, "", changes) })
	if err != nil {
		t.Fatalf("server write: %v", err)
	}
}

func (w *world) post(t testing.TB, path, token string, body any) (int, []byte) {
	t.Helper()
	js, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, w.url+path, bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

func (w *world) rawLogin(t testing.TB, username, password, device string) string {
	t.Helper()
	status, body := w.post(t, "/api/v1/auth/login", "", map[string]any{
		"username": username, "password": password, "device": map[string]string{"id": device, "name": device}})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// user creates a user through the API, as the admin.
func (w *world) user(t testing.TB, username string, roles []string, dept string) userInfo {
	t.Helper()
	body := map[string]any{"username": username, "password": userPassword, "full_name": username, "roles": roles}
	if dept != "" {
		body["department_id"] = dept
	}
	status, out := w.post(t, "/api/v1/users", w.admin, body)
	if status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", username, status, out)
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &u); err != nil {
		t.Fatal(err)
	}
	info := userInfo{id: u.ID, username: username, roles: roles, dept: dept}
	w.users[username] = info
	return info
}

// actor is how the sync engine sees a user's device.
func (w *world) actor(u userInfo, device string) syncdb.Actor {
	return syncdb.Actor{UserID: u.id, Roles: u.roles, DepartmentID: u.dept, DeviceID: device}
}

// netSim is a device's network: it can be cut, lose answers after the server
// acted on the request, replay an old push late, or fail pulls after some
// pages. Every push answer it sees, the client's or a replay's, is recorded.
type netSim struct {
	w    *world
	base http.RoundTripper

	mu           sync.Mutex
	rng          *rand.Rand
	offline      bool
	dropAnswer   float64           // chance an answer is lost after the server acted
	replay       float64           // chance an old push is sent again before a push
	failPullFrom int               // the n-th pull (1-based) and later fail; 0: never
	failPushes   bool              // every push fails before reaching the server
	pullHeader   func(http.Header) // rewrites the headers of pull answers (a proxy, an older server)
	answers      []int             // statuses to answer the next requests with, without reaching the server
	requests     int
	pulls        int
	// Pushes by how their body and their answer were sent: gzip or not.
	gzipPushes, plainPushes, gzipAnswers int
	old                                  []*http.Request // past pushes, with their bodies
	oldBodies                            [][]byte
}

func newNet(w *world, seed uint64) *netSim {
	return &netSim{w: w, base: http.DefaultTransport, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (n *netSim) client() *http.Client { return &http.Client{Transport: n, Timeout: 30 * time.Second} }

func (n *netSim) set(fn func(n *netSim)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n)
}

var errLost = errors.New("simulated network: connection lost")

func (n *netSim) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	push := strings.HasSuffix(req.URL.Path, "/sync/push")
	pull := strings.HasSuffix(req.URL.Path, "/sync/pull")
	n.mu.Lock()
	n.requests++
	if push && req.Header.Get("Content-Encoding") == "gzip" {
		n.gzipPushes++
	} else if push {
		n.plainPushes++
	}
	if len(n.answers) > 0 {
		status := n.answers[0]
		n.answers = n.answers[1:]
		n.mu.Unlock()
		h := http.Header{"Content-Type": {"application/json"}}
		if status == http.StatusTooManyRequests {
			h.Set("Retry-After", "1")
		}
		body := fmt.Sprintf(`{"error":{"code":"simulated_%d","message":"simulated"}}`, status)
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
	offline := n.offline || (push && n.failPushes)
	if pull {
		n.pulls++
		if n.failPullFrom > 0 && n.pulls >= n.failPullFrom {
			offline = true
		}
	}
	var replay *http.Request
	var replayBody []byte
	if push && len(n.old) > 0 && n.rng.Float64() < n.replay {
		i := n.rng.IntN(len(n.old))
		replay, replayBody = n.old[i], n.oldBodies[i]
	}
	drop := n.rng.Float64() < n.dropAnswer
	n.mu.Unlock()
	if offline {
		return nil, errLost
	}
	if replay != nil {
		// A late copy of an earlier push arrives first: the server must
		// answer duplicate and change nothing.
		if res, out, err := n.send(replay, replayBody); err == nil && res.StatusCode == http.StatusOK {
			n.w.recordAnswer(res.Header, out)
		}
	}
	res, out, err := n.send(req, body)
	if err != nil {
		return nil, err
	}
	if push && res.StatusCode == http.StatusOK {
		n.w.recordAnswer(res.Header, out)
		n.mu.Lock()
		if res.Header.Get("Content-Encoding") == "gzip" {
			n.gzipAnswers++
		}
		n.old = append(n.old, req.Clone(context.Background()))
		n.oldBodies = append(n.oldBodies, body)
		n.mu.Unlock()
	}
	if drop {
		return nil, errLost
	}
	n.mu.Lock()
	rewrite := n.pullHeader
	n.mu.Unlock()
	if pull && rewrite != nil {
		rewrite(res.Header)
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	return res, nil
}

func (n *netSim) send(req *http.Request, body []byte) (*http.Response, []byte, error) {
	r := req.Clone(req.Context())
	if req.Context().Err() != nil {
		r = req.Clone(context.Background())
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	res, err := n.base.RoundTrip(r)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	return res, out, nil
}

// recordAnswer notes the changes a push answer says were applied.
func (w *world) recordAnswer(h http.Header, body []byte) {
	if h.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			return
		}
	}
	var resp protocol.PushResponse
	if json.Unmarshal(body, &resp) != nil {
		return
	}
	w.acksMu.Lock()
	defer w.acksMu.Unlock()
	for _, r := range resp.Results {
		if r.Status == protocol.StatusApplied {
			w.applied[r.ID] = true
		}
	}
}

// device opens a device file and logs its user in.
func (w *world) device(t testing.TB, name, username string, nw *netSim, tweak func(*client.Options)) *client.Device {
	t.Helper()
	if nw == nil {
		nw = newNet(w, 1)
	}
	d, err := client.Open(context.Background(), filepath.Join(w.dir, name+".db"), w.options(name, nw, tweak))
	if err != nil {
		t.Fatalf("open device %s: %v", name, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Login(context.Background(), username, userPassword); err != nil {
		t.Fatalf("login %s on %s: %v", username, name, err)
	}
	return d
}

func (w *world) options(name string, nw *netSim, tweak func(*client.Options)) client.Options {
	o := client.Options{BaseURL: w.url, HTTP: nw.client(), DeviceID: name, DeviceName: name,
		RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond, MaxAttempts: 8}
	if tweak != nil {
		tweak(&o)
	}
	return o
}

// reopen closes a device file and opens it again, as after a kill.
func (w *world) reopen(t *testing.T, d *client.Device, name string, nw *netSim, tweak func(*client.Options)) *client.Device {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
	nd, err := client.Open(context.Background(), filepath.Join(w.dir, name+".db"), w.options(name, nw, tweak))
	if err != nil {
		t.Fatalf("reopen %s: %v", name, err)
	}
	t.Cleanup(func() { nd.Close() })
	return nd
}

// serverRow reads a row straight from the central store.
func (w *world) serverRow(t *testing.T, table, id string) (client.Row, bool) {
	t.Helper()
	tb, ok := schema.Lookup(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	cols := tb.Columns()
	raw := make([]any, len(cols))
	dest := make([]any, 0, len(cols)+2)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	var deleted int64
	r := client.Row{Table: table, ID: id, Fields: map[string]any{}}
	dest = append(dest, &deleted, &r.Version)
	err := w.st.Reader().QueryRowContext(context.Background(),
		"SELECT "+strings.Join(cols, ", ")+", deleted, version FROM "+tb.Name+" WHERE id = ?", id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false
	}
	if err != nil {
		t.Fatalf("read server %s %s: %v", table, id, err)
	}
	for i, c := range cols {
		f, _ := tb.Field(c)
		r.Fields[c] = f.FromSQL(raw[i])
	}
	r.Deleted = deleted != 0
	return r, true
}

// readable is every row the actor may read, by a full pull of the engine.
func (w *world) readable(t *testing.T, a syncdb.Actor) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	cursor := ""
	for {
		resp, err := w.sdb.Pull(context.Background(), a, protocol.PullRequest{Protocol: 1, DeviceID: a.DeviceID, Cursor: cursor, Limit: protocol.MaxPullLimit})
		if err != nil {
			t.Fatalf("server pull: %v", err)
		}
		for _, r := range resp.Rows {
			out[r.Table+"/"+r.RowID] = true
		}
		cursor = resp.Cursor
		if !resp.HasMore {
			return out
		}
	}
}

// compareDevice checks that the device holds exactly the server's state of
// every row its user may read. It returns the number of rows the device
// holds that its user may no longer read (rows that left its scope).
func (w *world) compareDevice(t *testing.T, name string, d *client.Device, a syncdb.Actor) (stale int) {
	t.Helper()
	ctx := context.Background()
	want := w.readable(t, a)
	seen := map[string]bool{}
	bad := 0
	for _, tb := range schema.Tables() {
		rows, err := d.Rows(ctx, tb.Name)
		if err != nil {
			t.Fatalf("%s: rows of %s: %v", name, tb.Name, err)
		}
		for _, r := range rows {
			key := tb.Name + "/" + r.ID
			seen[key] = true
			if !want[key] {
				if !r.Deleted {
					stale++
					if stale <= 3 {
						t.Logf("%s still holds %s, which its user may no longer read", name, key)
					}
				}
				continue
			}
			srv, ok := w.serverRow(t, tb.Name, r.ID)
			if !ok {
				t.Errorf("%s holds %s, which the server lacks", name, key)
				bad++
				continue
			}
			if !reflect.DeepEqual(srv.Fields, r.Fields) || srv.Deleted != r.Deleted || srv.Version != r.Version {
				bad++
				if bad <= 5 {
					t.Errorf("%s: %s differs from the server:\n device %v deleted=%v version=%s\n server %v deleted=%v version=%s",
						name, key, r.Fields, r.Deleted, r.Version, srv.Fields, srv.Deleted, srv.Version)
				}
			}
		}
	}
	missing := 0
	for key := range want {
		if !seen[key] {
			missing++
			if missing <= 5 {
				t.Errorf("%s lacks %s, which its user may read", name, key)
			}
		}
	}
	if bad > 5 || missing > 5 {
		t.Errorf("%s: %d rows differ, %d missing", name, bad, missing)
	}
	return stale
}

// changeLogCount is how often the central change log holds a change id.
func (w *world) changeLogCount(t *testing.T, id string) int {
	t.Helper()
	var n int
	if err := w.st.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM change_log WHERE change_id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustSync(t testing.TB, d *client.Device) client.Report {
	t.Helper()
	rep, err := d.Sync(context.Background())
	if err != nil {
		t.Fatalf("sync %s: %v", d.ID(), err)
	}
	return rep
}

func mustUpsert(t *testing.T, d *client.Device, table, id string, fields map[string]any) string {
	t.Helper()
	cid, err := d.Upsert(context.Background(), table, id, fields)
	if err != nil {
		t.Fatalf("upsert %s %s on %s: %v", table, id, d.ID(), err)
	}
	return cid
}

func mustGet(t *testing.T, d *client.Device, table, id string) map[string]any {
	t.Helper()
	row, ok, err := d.Get(context.Background(), table, id)
	if err != nil || !ok {
		t.Fatalf("get %s %s on %s: ok=%v err=%v", table, id, d.ID(), ok, err)
	}
	return row
}
