// Package e2e drives the field PWA in real headless Chromium against the
// real server (real store file, real HTTP listener), as a user would.
//
// The tests need Debian's chromium (apt-get install -y chromium). Without it
// they skip outside CI and fail under CI (CI is set).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"dicoso/server/api"
	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/seed"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

const adminPassword = "e2e-admin-password"

// chromiumPath finds the browser, or skips (outside CI) or fails (in CI).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("DICOSO_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required under CI (apt-get install -y chromium)")
	}
	t.Skip("browser tests need Chromium: apt-get install -y chromium (or set DICOSO_CHROMIUM), then go test ./server/e2e/")
	return ""
}

// server is the real program's parts over a store file in a temp dir.
type server struct {
	url   string
	store *store.Store
	sync  *syncdb.DB
}

func startServer(t testing.TB) *server {
	t.Helper()
	return startServerWrapped(t, nil)
}

// startServerWrapped lets a test put a handler in front of the real one
// (to serve a new build's service worker, for example).
func startServerWrapped(t testing.TB, wrap func(http.Handler) http.Handler) *server {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.AdminPassword = adminPassword
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew, Log: log})
	if _, err := seed.Load(ctx, st, sdb, log); err != nil {
		t.Fatalf("seed: %v", err)
	}
	secret, err := auth.LoadSecret(dir, "")
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	svc, err := auth.New(st, auth.Options{Secret: secret, AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, Sync: sdb})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	if _, _, err := svc.BootstrapAdmin(ctx, adminPassword); err != nil {
		t.Fatalf("bootstrap admin: %v", err)
	}
	srv := api.New(api.Deps{Config: cfg, Store: st, Log: log, Auth: svc, Sync: sdb})
	var h http.Handler = srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	h = requests.wrap(h)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.Close()
		sdb.Close()
		st.Close()
	})
	return &server{url: ts.URL, store: st, sync: sdb}
}

func (s *server) post(t testing.TB, path, token string, body any, out any) int {
	t.Helper()
	return s.send(t, http.MethodPost, path, token, body, out)
}

func (s *server) patch(t testing.TB, path, token string, body any, out any) int {
	t.Helper()
	return s.send(t, http.MethodPatch, path, token, body, out)
}

// send makes one JSON request; out is decoded from a 2xx answer.
func (s *server) send(t testing.TB, method, path, token string, body any, out any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode
}

// adminToken logs the admin in through the API.
func (s *server) adminToken(t testing.TB) string {
	t.Helper()
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if code := s.post(t, "/api/v1/auth/login", "", map[string]any{
		"username": "admin", "password": adminPassword,
		"device": map[string]string{"id": "e2e-admin-device", "name": "e2e"},
	}, &login); code != http.StatusOK {
		t.Fatalf("admin login: %d", code)
	}
	return login.AccessToken
}

// createUser makes a user through the admin API and returns its id.
func (s *server) createUser(t testing.TB, username, fullName string, roles ...string) string {
	t.Helper()
	var u struct {
		ID string `json:"id"`
	}
	if code := s.post(t, "/api/v1/users", s.adminToken(t), map[string]any{
		"username": username, "password": username + "-password", "full_name": fullName, "roles": roles,
	}, &u); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("create user %s: %d", username, code)
	}
	if u.ID == "" {
		t.Fatalf("create user %s: no id", username)
	}
	return u.ID
}

// browser is one Chromium process with its own profile: one phone.
type browser struct {
	t    testing.TB
	name string
	ctx  context.Context
	base string
	mu   sync.Mutex
	logs []string
}

func newBrowser(t testing.TB, exe, name, base string) *browser {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	b := &browser{t: t, name: name, ctx: ctx, base: base}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			for _, l := range b.logs {
				t.Logf("[%s console] %s", name, l)
			}
			b.mu.Unlock()
		}
	})
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	b.do(
		chromedp.EmulateViewport(390, 844, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
			p.Mobile = true
			p.DeviceScaleFactor = 1
		}),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"},
				Setting:    cdpbrowser.PermissionSetting("granted"),
				Origin:     base,
			})
			return err
		}),
	)
	return b
}

func (b *browser) onEvent(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(e.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	b.mu.Lock()
	b.logs = append(b.logs, line)
	b.mu.Unlock()
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail("%v", err)
	}
}

func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	b.screenshot("failure-" + b.name)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		b.t.Logf("[%s] at %s", b.name, loc)
	}
	// What the sync was doing: the screen's own words, and the server's
	// side of the requests (a sync that never went idle).
	if st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		problem: document.querySelector('#sync-problem')?.textContent ?? null,
		syncNow: document.querySelector('#sync-now') ? (document.querySelector('#sync-now').disabled ? 'disabled' : 'enabled') : 'absent',
		lastSync: document.querySelector('#last-sync')?.dataset.at ?? null,
		online: navigator.onLine,
	})`)); err == nil {
		b.t.Logf("[%s] sync screen %s", b.name, st)
	}
	if u, err := url.Parse(b.base); err == nil {
		for _, l := range requests.report(u.Host, b.name, 10*time.Second) {
			b.t.Logf("[%s server] %s", b.name, l)
		}
	}
	b.t.Fatalf("[%s] "+format, append([]any{b.name}, args...)...)
}

// eval runs JavaScript and decodes its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("eval %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	b.waitJSFor(what, expr, 40*time.Second)
}

// syncWait is how long a whole sync run may take in a browser test. It is
// longer than other waits: under the full CI load (every package's tests
// at once on two cores, many of them fsyncing) a first sync has taken
// over 40 s. A run that never ends still fails, with the server's side of
// its requests in the log (requests_test.go).
const syncWait = 120 * time.Second

// waitJSFor waits up to timeout until the expression is truthy.
func (b *browser) waitJSFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	// A screen may be between renders: a throwing predicate is just false.
	safe := "(() => { try { return !!(" + expr + "); } catch { return false; } })()"
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](safe,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
		if err == nil {
			return
		}
		// A poll does not survive the page reloading (an accepted update):
		// poll the new page.
		if ctx.Err() == nil && (strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context was destroyed")) {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		b.fail("waiting for %s: %v", what, err)
	}
}

func jsq(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%s contains %q", sel, want),
		fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? '').includes(%s)`, jsq(sel), jsq(want)))
}

// click taps the element. The click is dispatched on the element itself:
// screens re-render as their data loads, and a click at coordinates taken a
// moment earlier could land on whatever moved there.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitJS(sel, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel)))
	eval[bool](b, fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		el.scrollIntoView({ block: 'center' }); el.click(); return true; })()`, jsq(sel)))
}

// typeInto focuses the field and types like a keyboard would.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.waitJS(sel, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel)))
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// setField sets a value the way a picker does (date inputs) and fires input.
func (b *browser) setField(sel, value string) {
	b.t.Helper()
	// A select's options may still be loading from the device store: wait
	// for the one to choose, as a user would.
	b.waitJS(sel, fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		return !!el && (el.tagName !== 'SELECT' || [...el.options].some((o) => o.value === %s)); })()`, jsq(sel), jsq(value)))
	eval[bool](b, fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		const proto = Object.getPrototypeOf(el);
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, %s);
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
		return true; })()`, jsq(sel), jsq(value)))
}

func (b *browser) go_(hash string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(location.hash = %s, true)`, jsq(hash)))
}

// ready waits for the app to have opened its device database.
func (b *browser) ready() {
	b.t.Helper()
	b.waitJS("app ready", `document.documentElement.dataset.ready === '1'`)
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

func (b *browser) reload() {
	b.t.Helper()
	b.do(chromedp.Reload())
}

// offline cuts the network the way DevTools does: requests fail (from the
// page and from the service worker) and navigator.onLine turns false.
func (b *browser) offline(off bool) {
	b.t.Helper()
	yes := true
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{Offline: true, Latency: 0, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &yes, MatchedNetworkConditions: conds,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
}

// offlineReset removes any network emulation.
func (b *browser) offlineReset() {
	b.t.Helper()
	b.offline(false)
}

func (b *browser) geolocation(lat, lng, accuracy float64) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
			Latitude: &lat, Longitude: &lng, Accuracy: &accuracy,
		})
		return err
	}))
}

// assertInstallable asks Chromium whether the app meets its install
// criteria (manifest, icons, service worker with a fetch handler).
func (b *browser) assertInstallable() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		b.fail("installability: %v", err)
	}
	for _, e := range res.InstallabilityErrors {
		b.t.Errorf("[%s] not installable: %s", b.name, e.ErrorID)
	}
}

// accessibleName is the name Chromium's accessibility tree gives the
// element: what a screen reader announces for it.
func (b *browser) accessibleName(sel string) string {
	b.t.Helper()
	b.waitJS(sel, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	name, err := chromedp.Run(ctx, chromedp.QueryAfter(chromedp.CSS(sel),
		func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (string, error) {
			id := nodes[0].BackendNodeID
			no := false
			res, err := cdp.Call(ctx, t, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{
				BackendNodeID: id, FetchRelatives: &no,
			})
			if err != nil {
				return "", err
			}
			for _, n := range res.Nodes {
				if n.BackendDOMNodeID != id || n.Name == nil {
					continue
				}
				var s string
				if err := json.Unmarshal(n.Name.Value, &s); err != nil {
					return "", fmt.Errorf("accessible name %s: %w", n.Name.Value, err)
				}
				return s, nil
			}
			return "", nil
		}))
	if err != nil {
		b.fail("accessible name of %s: %v", sel, err)
	}
	return name
}

// screenshot saves the viewport (390x844) under artifacts/ at the module root.
func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join("..", "..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// writePhoto makes a camera-sized JPEG (2400x1800) for the file input.
func writePhoto(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2400, 1800))
	for y := 0; y < 1800; y++ {
		for x := 0; x < 2400; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 10), uint8(y / 8), uint8((x + y) / 20), 255})
		}
	}
	p := filepath.Join(t.TempDir(), "field-photo.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return p
}
