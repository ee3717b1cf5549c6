package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/seed"
	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// This file is the one harness the tests of this package share: the real
// API (New, every route) over a real SQLite file in t.TempDir(), with its
// one sync engine and auth service, served over HTTP by httptest; one call
// helper; users the admin creates through the API; devices that log in,
// push and pull over HTTP.

const (
	// adminPassword is the bootstrapped admin's password.
	adminPassword = "admin-password-2021"
	// userPassword is the password of every user the admin creates.
	userPassword = "field-password-2021"
)

// testServer is one running server and what it runs on.
type testServer struct {
	url    string
	cfg    config.Config
	st     *store.Store
	sdb    *syncdb.DB
	svc    *auth.Service
	srv    *Server
	secret []byte // the auth service's signing key
	// clock is the time the auth service and the sync engine see
	// (withClock); nil when they run on real time.
	clock *testClock
	// admin is the admin logged in on device "dev-admin" (withAdmin), else
	// nil.
	admin *device
	// clockBase is where device clocks start; tests add offsets to order
	// writes deliberately (always well inside the allowed skew).
	clockBase int64
}

// serverOptions are the variations the tests need; the zero value is the
// server as `serve` runs it, over a store holding only the admin.
type serverOptions struct {
	maxBodyBytes       int64
	maxAttachmentBytes int64
	clockStart         time.Time
	limits             auth.LimitRules
	seeds              bool
	admin              bool
	routes             func(*Server)
	trustedProxies     []netip.Prefix
	log                io.Writer
}

type serverOption func(*serverOptions)

// withClock makes the auth service and the sync engine read a testClock
// starting at start (ts.clock), which tests move instead of sleeping.
func withClock(start time.Time) serverOption {
	return func(o *serverOptions) { o.clockStart = start }
}

// withLoginLimits caps failed logins per username and address, and per
// address, over 15 minutes.
func withLoginLimits(perUserIP, perIP int) serverOption {
	return func(o *serverOptions) {
		o.limits.Window, o.limits.PerUserIP, o.limits.PerIP = 15*time.Minute, perUserIP, perIP
	}
}

// withLoginKeyCap caps the keys (username+address pairs and addresses)
// the login limiter remembers.
func withLoginKeyCap(n int) serverOption {
	return func(o *serverOptions) { o.limits.MaxKeys = n }
}

// withMaxBodyBytes sets the JSON body limit.
func withMaxBodyBytes(n int64) serverOption {
	return func(o *serverOptions) { o.maxBodyBytes = n }
}

// withMaxAttachmentBytes sets the attachment size limit.
func withMaxAttachmentBytes(n int64) serverOption {
	return func(o *serverOptions) { o.maxAttachmentBytes = n }
}

// withTrustedProxies makes the server take the client address from
// X-Forwarded-For when a request comes from these ranges (CIDRs).
func withTrustedProxies(t *testing.T, cidrs ...string) serverOption {
	t.Helper()
	var ps []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			t.Fatalf("trusted proxy %q: %v", c, err)
		}
		ps = append(ps, p)
	}
	return func(o *serverOptions) { o.trustedProxies = ps }
}

// withLog sends the server's log (JSON lines) to w, which must be safe for
// concurrent writes.
func withLog(w io.Writer) serverOption {
	return func(o *serverOptions) { o.log = w }
}

// withSeeds starts the store with the 2021 seeds loaded (seeds/).
func withSeeds() serverOption {
	return func(o *serverOptions) { o.seeds = true }
}

// withAdmin logs the admin in on device "dev-admin" (ts.admin), which
// createUser and its kin need.
func withAdmin() serverOption {
	return func(o *serverOptions) { o.admin = true }
}

// withRoutes lets add register test-only routes before serving; they go
// through the same middleware, binding and error handler as real routes.
func withRoutes(add func(*Server)) serverOption {
	return func(o *serverOptions) { o.routes = add }
}

// newTestServer starts a server over a fresh copy of the template store
// (the admin bootstrapped, and the seeds if asked for) and stops it when the
// test ends.
func newTestServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if o.maxBodyBytes > 0 {
		cfg.MaxBodyBytes = o.maxBodyBytes
	}
	if o.maxAttachmentBytes > 0 {
		cfg.MaxAttachmentBytes = o.maxAttachmentBytes
	}
	cfg.TrustedProxies = o.trustedProxies
	ts := &testServer{cfg: cfg, clockBase: time.Now().UnixMilli()}
	now := time.Now
	if !o.clockStart.IsZero() {
		ts.clock = &testClock{now: o.clockStart}
		now = ts.clock.Now
	}
	st := templateStore(t, cfg.DataDir, o.seeds, o.clockStart)
	log := slog.New(slog.DiscardHandler)
	if o.log != nil {
		log = slog.New(slog.NewJSONHandler(o.log, nil))
	}
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew, Now: now, Log: log})
	ts.secret = make([]byte, 32)
	_, _ = rand.Read(ts.secret) // never fails
	svc, err := auth.New(st, auth.Options{Secret: ts.secret, Now: now, Limits: o.limits, Sync: sdb})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	srv := New(Deps{Config: cfg, Store: st, Log: log, Auth: svc, Sync: sdb})
	if o.routes != nil {
		o.routes(srv)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		sdb.Close()
	})
	ts.url, ts.st, ts.sdb, ts.svc, ts.srv = hs.URL, st, sdb, svc, srv
	if o.admin {
		ts.admin = ts.loginDevice(t, "admin", adminPassword, "dev-admin")
	}
	return ts
}

// templates are stores built once per process (storetest.Template), one
// per kind of start (seeds or not, real or test time), and copied into each
// server: the admin's password hash alone costs tens of milliseconds, the
// seeds more.
var templates struct {
	mu    sync.Mutex
	built map[templateKey]*storetest.Template
}

type templateKey struct {
	seeds bool
	start int64 // the clock's start in Unix nanoseconds; 0 for real time
}

// templateStore opens a fresh copy of the store holding the bootstrapped
// admin, and the seeds when seeds is set, written by a sync engine and an
// auth service that read the clock the server will read.
func templateStore(t *testing.T, dir string, seeds bool, start time.Time) *store.Store {
	t.Helper()
	key := templateKey{seeds: seeds}
	if !start.IsZero() {
		key.start = start.UnixNano()
	}
	templates.mu.Lock()
	if templates.built == nil {
		templates.built = map[templateKey]*storetest.Template{}
	}
	tp, ok := templates.built[key]
	if !ok {
		tp = storetest.NewTemplate(func(ctx context.Context, st *store.Store) error { return buildTemplate(ctx, st, seeds, start) })
		templates.built[key] = tp
	}
	templates.mu.Unlock()
	return tp.Open(t, dir)
}

func buildTemplate(ctx context.Context, st *store.Store, seeds bool, start time.Time) error {
	now := time.Now
	if !start.IsZero() {
		now = func() time.Time { return start }
	}
	log := slog.New(slog.DiscardHandler)
	sdb := syncdb.New(st, syncdb.Options{Now: now, Log: log})
	defer sdb.Close()
	svc := auth.Ephemeral(st, auth.Options{Now: now, Sync: sdb})
	if created, _, err := svc.BootstrapAdmin(ctx, adminPassword); err != nil || !created {
		return fmt.Errorf("bootstrap admin: created=%v err=%w", created, err)
	}
	if seeds {
		if loaded, err := seed.Load(ctx, st, sdb, log); err != nil || !loaded {
			return fmt.Errorf("load seeds: loaded=%v err=%w", loaded, err)
		}
	}
	return nil
}

// testClock is a time that tests move instead of sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with an optional bearer token and extra header
// pairs (set last, so they may replace Content-Type). body is sent as JSON
// (Content-Type application/json) when it is a string (as is) or a value
// to encode; a []byte or io.Reader is sent as is, with no Content-Type;
// nil sends no body.
func (ts *testServer) call(t *testing.T, method, path, token string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, ts.url+path, rd)
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
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

// get is a GET as d; a nil d sends no token.
func (ts *testServer) get(t *testing.T, d *device, path string) reply {
	t.Helper()
	token := ""
	if d != nil {
		token = d.token
	}
	return ts.call(t, http.MethodGet, path, token, nil)
}

// wantStatus stops the test unless the answer has status.
func (r reply) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// decode checks the status and decodes the body into dst (when not nil).
func (r reply) decode(t *testing.T, status int, dst any) {
	t.Helper()
	r.wantStatus(t, status)
	if dst != nil {
		if err := json.Unmarshal(r.body, dst); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// wireError is the docs/protocol.md envelope; decoding refuses any other key.
type wireError struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

var errorCodePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// envelope checks that the answer is JSON and exactly the error envelope,
// with a snake_case code and a message.
func (r reply) envelope(t *testing.T) wireError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer has Content-Type %q, want application/json; body %s", ct, r.body)
	}
	var env wireError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("not the error envelope: %v; body %s", err, r.body)
	}
	if !errorCodePattern.MatchString(env.Error.Code) || env.Error.Message == "" {
		t.Fatalf("envelope lacks a snake_case code or a message: %s", r.body)
	}
	return env
}

// wantError checks the status and that the body is the envelope with code.
func (r reply) wantError(t *testing.T, status int, code string) wireError {
	t.Helper()
	r.wantStatus(t, status)
	env := r.envelope(t)
	if env.Error.Code != code {
		t.Fatalf("envelope code %q message %q, want code %q; body %s", env.Error.Code, env.Error.Message, code, r.body)
	}
	return env
}

// errorCode is the code of an error envelope ("" when the body is none).
func (r reply) errorCode() string {
	var env wireError
	_ = json.Unmarshal(r.body, &env) // a non-envelope body has no code
	return env.Error.Code
}

// loginBody is the login request of username on device deviceID.
func loginBody(username, password, deviceID string) map[string]any {
	return map[string]any{
		"username": username, "password": password,
		"device": map[string]any{"id": deviceID, "name": "Điện thoại " + deviceID},
	}
}

// login logs username in on deviceID and returns the token answer.
func (ts *testServer) login(t *testing.T, username, password, deviceID string) tokenResponse {
	t.Helper()
	var tr tokenResponse
	ts.call(t, http.MethodPost, "/api/v1/auth/login", "", loginBody(username, password, deviceID)).
		decode(t, http.StatusOK, &tr)
	return tr
}

// device is one user logged in on one device, with the device's clock.
type device struct {
	ts      *testServer
	userID  string
	id      string // device id, also its clock node
	token   string
	counter atomic.Int64
}

// loginDevice logs username in on deviceID.
func (ts *testServer) loginDevice(t *testing.T, username, password, deviceID string) *device {
	t.Helper()
	tr := ts.login(t, username, password, deviceID)
	return &device{ts: ts, userID: tr.User.ID, id: deviceID, token: tr.AccessToken}
}

// account is a user the admin creates; fullName defaults to
// "Người dùng <username>".
type account struct {
	username, fullName, department, unit string
	roles                                []string
}

// createAccount creates a through the API as the admin, with userPassword,
// and returns its id.
func (ts *testServer) createAccount(t *testing.T, a account) string {
	t.Helper()
	if ts.admin == nil {
		t.Fatal("creating users needs the admin logged in: newTestServer(t, withAdmin())")
	}
	name := a.fullName
	if name == "" {
		name = "Người dùng " + a.username
	}
	body := map[string]any{"username": a.username, "password": userPassword, "full_name": name, "roles": a.roles}
	if a.department != "" {
		body["department_id"] = a.department
	}
	if a.unit != "" {
		body["unit_id"] = a.unit
	}
	var u userJSON
	ts.call(t, http.MethodPost, "/api/v1/users", ts.admin.token, body).decode(t, http.StatusCreated, &u)
	return u.ID
}

// createUser creates username holding roles and returns its id.
func (ts *testServer) createUser(t *testing.T, username string, roles ...string) string {
	t.Helper()
	return ts.createAccount(t, account{username: username, roles: roles})
}

// addAccount creates a and logs it in on a device of its own,
// "dev-<username>" (dots made dashes: a device id is a clock node).
func (ts *testServer) addAccount(t *testing.T, a account) *device {
	t.Helper()
	ts.createAccount(t, a)
	return ts.loginDevice(t, a.username, userPassword, "dev-"+strings.ReplaceAll(a.username, ".", "-"))
}

// addUser creates username holding roles and logs it in on its own device.
func (ts *testServer) addUser(t *testing.T, username string, roles ...string) *device {
	t.Helper()
	return ts.addAccount(t, account{username: username, roles: roles})
}

// apply writes changes as the server itself does (seed, an admin's REST
// edit): through the sync engine, on behalf of the logged-in admin, or of
// the system when there is none.
func (ts *testServer) apply(t *testing.T, changes ...syncdb.ServerChange) {
	t.Helper()
	actor := ""
	if ts.admin != nil {
		actor = ts.admin.userID
	}
	ctx := context.Background()
	err := ts.st.InTx(ctx, func(tx *sql.Tx) error {
		return ts.sdb.ApplyServerTx(ctx, tx, actor, changes)
	})
	if err != nil {
		t.Fatalf("server change: %v", err)
	}
}

// clock is this device's next HLC at offset from the server's clock base.
func (d *device) clock(offset time.Duration) string {
	return hlc.Timestamp{Millis: d.ts.clockBase + offset.Milliseconds(), Counter: int(d.counter.Add(1)), Node: d.id}.String()
}

// now is this device's next HLC at the current time.
func (d *device) now() string { return d.clock(time.Since(time.UnixMilli(d.ts.clockBase))) }

// change is an upsert of one row stamped now (by this device's clock).
func (d *device) change(table, rowID string, fields map[string]any) protocol.Change {
	return protocol.Change{ID: uuid.NewString(), Table: table, RowID: rowID, Op: protocol.OpUpsert, HLC: d.now(), Fields: fields}
}

// push sends changes with base cursor base ("" for none) and requires every
// one applied. A change without an id or a clock gets them here, stamped
// now by this device.
func (d *device) push(t *testing.T, base string, changes ...protocol.Change) {
	t.Helper()
	for i, res := range d.pushResults(t, base, changes...) {
		if res.Status != protocol.StatusApplied {
			t.Fatalf("%s: change %d (%s %s) %s %s: %s", d.id, i, changes[i].Table, changes[i].RowID, res.Status, res.Code, res.Message)
		}
	}
}

// pushResults sends changes as push does and returns the server's verdict
// on each.
func (d *device) pushResults(t *testing.T, base string, changes ...protocol.Change) []protocol.Result {
	t.Helper()
	changes = slices.Clone(changes)
	for i := range changes {
		if changes[i].ID == "" {
			changes[i].ID = uuid.NewString()
		}
		if changes[i].HLC == "" {
			changes[i].HLC = d.now()
		}
	}
	req := protocol.PushRequest{Protocol: protocol.Version, DeviceID: d.id, BaseCursor: base, Changes: changes}
	var resp protocol.PushResponse
	d.ts.call(t, http.MethodPost, "/api/v1/sync/push", d.token, req).decode(t, http.StatusOK, &resp)
	if len(resp.Results) != len(changes) {
		t.Fatalf("%s: %d results for %d changes", d.id, len(resp.Results), len(changes))
	}
	return resp.Results
}

// pullPage is one pull from cursor.
func (d *device) pullPage(t *testing.T, cursor string, limit int) protocol.PullResponse {
	t.Helper()
	var resp protocol.PullResponse
	d.ts.call(t, http.MethodPost, "/api/v1/sync/pull", d.token,
		protocol.PullRequest{Protocol: protocol.Version, DeviceID: d.id, Cursor: cursor, Limit: limit}).
		decode(t, http.StatusOK, &resp)
	return resp
}

// pullAll pulls from cursor until nothing is left, in small pages so that
// paging is exercised too; it returns the rows by key(table, row_id) and
// the final cursor.
func (d *device) pullAll(t *testing.T, cursor string) (map[string]protocol.Row, string) {
	t.Helper()
	rows := map[string]protocol.Row{}
	for range 1000 {
		resp := d.pullPage(t, cursor, 7)
		if resp.Reset {
			t.Fatalf("%s: pull answered reset", d.id)
		}
		for _, r := range resp.Rows {
			rows[key(r.Table, r.RowID)] = r
		}
		cursor = resp.Cursor
		if !resp.HasMore {
			return rows, cursor
		}
	}
	t.Fatalf("%s: pull never ended", d.id)
	return nil, ""
}

// key names a row: "table/row_id".
func key(table, id string) string { return table + "/" + id }

// str shows an optional string ("<null>" for none).
func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// documentedFields are the property names of a component schema of
// openapi.json, sorted.
func documentedFields(t *testing.T, component string) []string {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	sc, ok := doc.Components.Schemas[component]
	if !ok {
		t.Fatalf("openapi.json has no schema %s", component)
	}
	return slices.Sorted(maps.Keys(sc.Properties))
}

func keysOf(t *testing.T, v any, what string) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, v)
	}
	return slices.Sorted(maps.Keys(m))
}

// wantDocumentedItems checks that each item of a list answer ({"items":
// [...]}) carries exactly the fields openapi.json documents for component.
func wantDocumentedItems(t *testing.T, body []byte, component string) {
	t.Helper()
	var list struct {
		Items []any `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	want := documentedFields(t, component)
	for i, it := range list.Items {
		if got := keysOf(t, it, component); !slices.Equal(got, want) {
			t.Errorf("item %d: answer has %v, openapi.json documents %v for %s", i, got, want, component)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
