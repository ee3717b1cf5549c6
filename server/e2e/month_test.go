package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// monthRecords is the workload of BenchmarkMonthOfflineSlow3G: a
// secretary's month away from any signal, 2,020 records.
const monthRecords = 2020

// wireTally counts what crosses the server's door for each API path:
// requests, request bytes as received (compressed when they were) and
// answer bytes as written (after the server's gzip), plus when the last
// push was answered.
type wireTally struct {
	mu       sync.Mutex
	requests map[string]int
	up, down map[string]int64
	lastPush time.Time
}

func newWireTally() *wireTally {
	return &wireTally{requests: map[string]int{}, up: map[string]int64{}, down: map[string]int64{}}
}

func (w *wireTally) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests, w.up, w.down = map[string]int{}, map[string]int64{}, map[string]int64{}
	w.lastPush = time.Time{}
}

type countingReader struct {
	io.ReadCloser
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (w *wireTally) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(rw, r)
			return
		}
		var up int64
		r.Body = countingReader{r.Body, &up}
		cw := &countingWriter{ResponseWriter: rw}
		next.ServeHTTP(cw, r)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.requests[r.URL.Path]++
		w.up[r.URL.Path] += up
		w.down[r.URL.Path] += cw.n
		if r.URL.Path == "/api/v1/sync/push" {
			w.lastPush = time.Now()
		}
	})
}

func (w *wireTally) totals() (requests int, up, down int64, byPath string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for p, n := range w.requests {
		requests += n
		up += w.up[p]
		down += w.down[p]
		parts = append(parts, fmt.Sprintf("%s ×%d (%d B up, %d B down)", strings.TrimPrefix(p, "/api/v1/"), n, w.up[p], w.down[p]))
	}
	return requests, up, down, strings.Join(parts, ", ")
}

// keepDBWorker makes the page keep a handle on its database worker
// (window.__dbWorker), from the next document on, so a benchmark can fill
// the device store the way a month of use would, faster than typing it.
func (b *browser) keepDBWorker() {
	b.t.Helper()
	src := `(() => {
		const Real = window.Worker;
		window.Worker = class extends Real {
			constructor(url, opts) { super(url, opts); if (opts && opts.name === 'dicoso-db') window.__dbWorker = this; }
		};
	})();`
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// writeMonth queues n records on the device as its own writes would: each
// row and its outbox entry (with the device's cursor as base_cursor and a
// clock of this device), in one transaction, through the database worker.
// The mix is a month of field work: trips of three days, a check-in a
// day, four visit notes a trip with all six sections written out, and two
// or three findings a note. Texts are drawn from a word list with a fixed
// seed, so they compress like prose, not like one repeated sentence.
func (b *browser) writeMonth(n int) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`(async () => {
		const N = %d;
		const w = window.__dbWorker;
		let nextId = 1e9;
		const call = (req) => new Promise((resolve, reject) => {
			const id = nextId++;
			const on = (ev) => {
				if (ev.data?.id !== id) return;
				w.removeEventListener('message', on);
				ev.data.ok ? resolve(ev.data.result) : reject(new Error(ev.data.error.message));
			};
			w.addEventListener('message', on);
			w.postMessage({ ...req, id });
		});
		const session = JSON.parse(localStorage.getItem('dicoso.session'));
		const me = session.user.id, node = session.deviceId;
		const units = (await call({ op: 'query', sql: "SELECT id FROM units WHERE kind = 'province' ORDER BY code" })).map((r) => r.id);
		let seed = 20210601;
		const rnd = () => { seed = (seed * 1103515245 + 12345) %% 2147483648; return seed / 2147483648; };
		const words = ('đoàn viên thanh niên chi đoàn cơ sở phong trào tình nguyện kinh phí hoạt động tổ chức ' +
			'sinh hoạt định kỳ công trình thanh niên đề nghị Tỉnh đoàn bố trí hỗ trợ hướng dẫn kiểm tra giám sát ' +
			'kết quả thực hiện mô hình hiệu quả hạn chế khó khăn vướng mắc nguyện vọng kiến nghị kết luận ' +
			'đội hình xung kích an sinh xã hội chuyển đổi số học tập nghị quyết bồi dưỡng cán bộ trẻ khởi nghiệp ' +
			'lập nghiệp việc làm thanh thiếu nhi tháng thanh niên mùa hè xanh hiến máu tình nguyện xây dựng nông thôn mới ' +
			'triển khai đánh giá xếp loại chất lượng đoàn viên kết nạp phát triển đảng viên trẻ giới thiệu').split(' ');
		const text = (chars) => {
			let s = '';
			while (s.length < chars) s += (s ? ' ' : '') + words[Math.floor(rnd() * words.length)];
			return s[0].toUpperCase() + s.slice(1) + '.';
		};
		const base = Date.now() - 10 * 60 * 1000;
		let counter = 0;
		const stamp = () => String(base).padStart(15, '0') + '.' + String(counter++).padStart(5, '0') + '.' + node;
		const day = (k) => new Date(Date.now() - k * 86400000).toISOString().slice(0, 10);
		const stmts = [];
		let made = 0;
		const put = (tbl, fields) => {
			if (made >= N) return null;
			const id = crypto.randomUUID(), h = stamp();
			const names = Object.keys(fields);
			const col = (v) => Array.isArray(v) ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v;
			stmts.push({
				sql: 'INSERT INTO ' + tbl + ' (id, ' + names.join(', ') + ', version) VALUES (?' + ', ?'.repeat(names.length) + ', ?)',
				bind: [id, ...names.map((k) => col(fields[k])), h],
			});
			stmts.push({
				sql: "INSERT INTO outbox(id, tbl, row_id, op, hlc, fields, prev, created_at, base_cursor) VALUES (?, ?, ?, 'upsert', ?, ?, NULL, ?, " +
					"COALESCE((SELECT value FROM sync_state WHERE key = 'cursor'), ''))",
				bind: [crypto.randomUUID(), tbl, id, h, JSON.stringify(fields), new Date().toISOString()],
			});
			made++;
			return id;
		};
		for (let t = 0; made < N; t++) {
			const unit = units[t %% units.length];
			const first = 3 * (t %% 9) + 3;
			const trip = put('trips', { user_id: me, title: 'Làm việc với cơ sở, đợt ' + (t + 1), purpose: 'working_session',
				unit_ids: [unit], starts_on: day(first), ends_on: day(first - 2), status: 'done', notes: text(80) });
			for (let k = 0; k < 3; k++) {
				put('trip_days', { trip_id: trip, user_id: me, day: day(first - k), unit_id: unit, activity: text(60) });
				put('checkins', { user_id: me, unit_id: unit, trip_id: trip, at: day(first - k) + 'T02:30:00.000Z',
					lat: 21.18 + rnd() / 100, lng: 106.07 + rnd() / 100, accuracy_m: 12 + Math.floor(rnd() * 30), photo: '',
					note: text(40), voided: false });
			}
			for (let k = 0; k < 4; k++) {
				const note = put('visit_notes', { author_id: me, unit_id: unit, trip_id: trip, kind: 'working_session',
					title: 'Ghi chép làm việc ' + (t + 1) + '.' + (k + 1), results: text(420), models: text(300),
					shortcomings: text(360), aspirations: text(300), recommendations: text(360), conclusions: text(300),
					status: 'draft', attachments: [] });
				for (let f = 0; f < (k === 0 && t %% 10 < 3 ? 3 : 2); f++) {
					put('findings', { note_id: note, author_id: me, unit_id: unit,
						category: ['shortcoming', 'recommendation', 'model', 'aspiration'][f %% 4], text: text(220), status: 'open' });
				}
			}
		}
		await call({ op: 'tx', stmts });
		return made;
	})()`, n))
}

// onlineSlow3G brings the network back on the Slow-3G profile in one step,
// so the sync the app starts on the 'online' event runs throttled.
func (b *browser) onlineSlow3G() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		no := false
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &no,
			MatchedNetworkConditions:    []*network.Conditions{{Latency: 2000, DownloadThroughput: 50_000, UploadThroughput: 50_000}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: false, Latency: 2000, DownloadThroughput: 50_000, UploadThroughput: 50_000,
		})
		return err
	}))
}

// waitSynced waits (up to limit) for a sync run that ended after before
// with nothing left to send, polling the Sync screen.
func (b *browser) waitSynced(before string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	expr := fmt.Sprintf(`(() => { const at = document.querySelector('#last-sync')?.dataset.at ?? '';
		return at !== '' && at !== %s && !document.querySelector('#sync-now').disabled; })()`, jsq(before))
	for time.Now().Before(deadline) {
		if eval[bool](b, expr) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fail("no sync run ended within %s", limit)
}

// BenchmarkMonthOfflineSlow3G is issue 10's fifth target: a secretary's
// phone comes back after a month offline holding 2,020 records (trips,
// days, check-ins, visit notes with six sections, findings), on the Slow-3G
// profile (2 s latency, 50 kB/s both ways), with an access token long
// expired. It measures the app's whole sync run from the network coming
// back to the run's end (ms-sync) and until the last push was answered
// (ms-on-server), the requests it took and the bytes each way as they
// crossed the server's door (compressed where they were); it checks that
// every record reached the server and nothing was refused.
// Run: go test ./server/e2e/ -run '^$' -bench MonthOffline -benchtime 1x -v
func BenchmarkMonthOfflineSlow3G(b *testing.B) {
	exe := chromiumPath(b)
	var total, onServer time.Duration
	var requests int
	var up, down int64
	for i := 0; i < b.N; i++ {
		tally := newWireTally()
		srv := startServerWrapped(b, tally.wrap)
		secID := srv.createUser(b, "bithu.an", "Nguyễn Văn An", "secretary")
		br := newBrowser(b, exe, "month", srv.url)
		br.keepDBWorker()
		br.login("bithu.an")
		br.go_("#/sync")
		br.waitJS("sync screen", `!!document.querySelector('#sync-now')`)
		br.offline(true)
		if made := br.writeMonth(monthRecords); made != monthRecords {
			b.Fatalf("queued %d records, want %d", made, monthRecords)
		}
		// A month on, the access token is long expired: the app opens
		// again offline, and its first request must refresh it.
		eval[bool](br, `(() => { const s = JSON.parse(localStorage.getItem('dicoso.session'));
			s.accessExpiresAt = Date.now() - 30 * 86400000;
			localStorage.setItem('dicoso.session', JSON.stringify(s)); return true; })()`)
		br.reload()
		br.ready()
		br.go_("#/sync")
		br.waitJS("sync screen", `!!document.querySelector('#sync-now')`)
		before := eval[string](br, `document.querySelector('#last-sync').dataset.at`)
		tally.reset()
		start := time.Now()
		br.onlineSlow3G()
		br.waitSynced(before, 10*time.Minute)
		total += time.Since(start)
		tally.mu.Lock()
		onServer += tally.lastPush.Sub(start)
		tally.mu.Unlock()
		n, u, d, byPath := tally.totals()
		requests += n
		up += u
		down += d
		b.Logf("run %d: %s in %s; %s", i+1, byPath, time.Since(start).Round(time.Millisecond), strings.TrimSpace(br.pending()))
		db := srv.store.Reader()
		got := 0
		for _, q := range []string{
			"SELECT count(*) FROM trips WHERE user_id = ?", "SELECT count(*) FROM trip_days WHERE user_id = ?",
			"SELECT count(*) FROM checkins WHERE user_id = ?", "SELECT count(*) FROM visit_notes WHERE author_id = ?",
			"SELECT count(*) FROM findings WHERE author_id = ?",
		} {
			got += count(b, db, q, secID)
		}
		if got != monthRecords {
			b.Fatalf("the server holds %d of the %d records", got, monthRecords)
		}
		if p := br.pending(); !strings.HasSuffix(strings.TrimSpace(p), ": 0") {
			b.Fatalf("still pending after the sync: %s", p)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-sync")
	b.ReportMetric(float64(onServer.Milliseconds())/float64(b.N), "ms-on-server")
	b.ReportMetric(float64(requests)/float64(b.N), "requests")
	b.ReportMetric(float64(up)/1000/float64(b.N), "kB-up")
	b.ReportMetric(float64(down)/1000/float64(b.N), "kB-down")
}
