// Package loadgen drives a live dicoso server with many simulated devices,
// each a real sync/client device with its own SQLite file, and measures
// what the server merges: changes per second, push and pull latency, bytes
// on the wire per change, and, in the same run, how fast the same disk
// takes plain batched SQLite inserts, as the ceiling to compare against.
package loadgen

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"dicoso/sync/client"
)

// Config is one run.
type Config struct {
	BaseURL       string // server, e.g. http://127.0.0.1:8080
	AdminUser     string // creates the simulated users
	AdminPassword string
	Devices       int // simulated devices, one user each
	Batch         int // changes per push
	Rounds        int // pushes per device
	// Interval, when set, makes the load open: each device writes and
	// pushes one batch every Interval (from a random start), so latency is
	// measured at an offered load of Devices*Batch/Interval changes/s
	// rather than with every device pushing back to back.
	Interval time.Duration
	Dir      string // device files and the raw-insert file: put it on the disk to measure
	// ServerPID, when set, is the server's process on this machine (Linux):
	// its resident memory is read before the pushes and after the pulls,
	// with its peak in between.
	ServerPID int
	Log       *slog.Logger

	// OtherURLs are more processes of the same server (one PostgreSQL
	// store): device i talks to the i-th of BaseURL and these, modulo their
	// number, as a load balancer keeping each device on one process would.
	OtherURLs []string
}

// Result is what a run measured.
type Result struct {
	Devices, Batch, Rounds int
	Interval               time.Duration
	Applied, Rejected      int64
	Elapsed                time.Duration // wall time of the push phase
	ChangesPerSec          float64
	Push, Pull             Percentiles
	// BytesPerChange is what the pushes cost on the network, per change:
	// every byte written and read on the load generator's connections
	// while only pushes ran, so requests and answers, headers included, as
	// sent (compressed). BodyBytesPerChange counts only their bodies, as
	// sent; it is what earlier versions reported.
	BytesPerChange, BodyBytesPerChange float64
	RawInsertsPerSec                   float64
	Ratio                              float64 // ChangesPerSec / RawInsertsPerSec
	// ServerBefore is the server's memory before the pushes, ServerAfter
	// after the pulls; ServerAfter.Peak is the peak during them when
	// PeakReset, else over the server's life (zero without Config.ServerPID).
	ServerBefore, ServerAfter Memory
	PeakReset                 bool
	// ServerCPU and LoadCPU are the CPU time (user and system) the server
	// (with Config.ServerPID) and this load generator used during the
	// pushes, per change applied, in microseconds: where the machine's
	// time went, steadier than changes/s on a shared machine.
	ServerCPU, LoadCPU float64
}

// Percentiles of one kind of request.
type Percentiles struct{ P50, P95, P99, Max time.Duration }

// Run executes the load and returns its measurements.
func Run(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Devices: cfg.Devices, Batch: cfg.Batch, Rounds: cfg.Rounds, Interval: cfg.Interval}
	if cfg.Devices < 1 || cfg.Batch < 1 || cfg.Rounds < 1 {
		return res, errors.New("devices, batch and rounds must be at least 1")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return res, fmt.Errorf("scratch directory: %w", err)
	}
	counter := newCountingTransport(cfg.Devices)
	hc := &http.Client{Transport: counter, Timeout: 2 * time.Minute}

	run := uuid.NewString()[:8]
	devs, err := setUp(ctx, cfg, hc, run)
	defer func() {
		for _, d := range devs {
			d.Close()
		}
	}()
	if err != nil {
		return res, err
	}

	// Every device first writes its batches locally (offline work), then
	// all push at once: the server sees cfg.Devices concurrent pushers.
	units, err := unitIDs(ctx, devs[0])
	if err != nil {
		return res, err
	}
	var (
		mu       stdsync.Mutex
		applied  atomic.Int64
		rejected atomic.Int64
		firstErr error
	)
	var wg stdsync.WaitGroup
	for i, d := range devs {
		if cfg.Interval > 0 {
			break // an open load writes as it goes
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := writeLocal(ctx, d, cfg, units, i); err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}

	if cfg.ServerPID > 0 {
		if res.ServerBefore, err = readMemory(cfg.ServerPID); err != nil {
			return res, err
		}
		res.PeakReset = resetPeak(cfg.ServerPID)
	}
	var serverCPU0 float64
	if cfg.ServerPID > 0 {
		if serverCPU0, err = readCPU(cfg.ServerPID); err != nil {
			return res, err
		}
	}
	loadCPU0, loadErr := readCPU(os.Getpid())
	counter.reset()
	start := time.Now()
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			count := func(rep client.Report) {
				applied.Add(int64(rep.Applied))
				rejected.Add(int64(rep.Rejected))
			}
			var err error
			if cfg.Interval > 0 {
				err = paced(ctx, d, cfg, units, i, count)
			} else {
				err = pushAll(ctx, d, count)
			}
			if err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if n := float64(applied.Load()); n > 0 {
		if cfg.ServerPID > 0 {
			if c, err := readCPU(cfg.ServerPID); err == nil {
				res.ServerCPU = (c - serverCPU0) / n * 1e6
			}
		}
		if c, err := readCPU(os.Getpid()); err == nil && loadErr == nil {
			res.LoadCPU = (c - loadCPU0) / n * 1e6
		}
	}
	pushBytes, pushWire := counter.total(), counter.wire.Load()
	pushLat, _ := counter.latencies()
	if firstErr != nil {
		return res, firstErr
	}

	// Then each device pulls what changed (its own rows come back merged).
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Pull(ctx)
			mu.Lock()
			defer mu.Unlock()
			firstErr = errors.Join(firstErr, err)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}

	if cfg.ServerPID > 0 {
		if res.ServerAfter, err = readMemory(cfg.ServerPID); err != nil {
			return res, err
		}
	}
	_, pullLat := counter.latencies()
	res.Applied, res.Rejected = applied.Load(), rejected.Load()
	res.ChangesPerSec = float64(res.Applied) / res.Elapsed.Seconds()
	res.Push, res.Pull = percentiles(pushLat), percentiles(pullLat)
	if res.Applied > 0 {
		res.BodyBytesPerChange = float64(pushBytes) / float64(res.Applied)
		res.BytesPerChange = float64(pushWire) / float64(res.Applied)
	}
	raw, err := RawInsertCeiling(ctx, filepath.Join(cfg.Dir, "raw-"+run+".db"), int(max(res.Applied, 10000)), 1000)
	if err != nil {
		return res, err
	}
	res.RawInsertsPerSec = raw
	res.Ratio = res.ChangesPerSec / raw
	return res, nil
}

// setUp creates one secretary per device through the admin API, then opens
// and logs in each device.
func setUp(ctx context.Context, cfg Config, hc *http.Client, run string) ([]*client.Device, error) {
	admin, err := client.Open(ctx, filepath.Join(cfg.Dir, "admin-"+run+".db"),
		client.Options{BaseURL: cfg.BaseURL, HTTP: hc, RelaxedDurability: true})
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.Login(ctx, cfg.AdminUser, cfg.AdminPassword); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	token, err := adminToken(ctx, hc, cfg, admin.ID())
	if err != nil {
		return nil, err
	}
	password := "loadgen-" + uuid.NewString()
	var devs []*client.Device
	for i := range cfg.Devices {
		name := fmt.Sprintf("loadgen-%s-%03d", run, i)
		if err := createUser(ctx, hc, cfg.BaseURL, token, name, password); err != nil {
			return devs, err
		}
		urls := append([]string{cfg.BaseURL}, cfg.OtherURLs...)
		d, err := client.Open(ctx, filepath.Join(cfg.Dir, name+".db"), client.Options{
			BaseURL: urls[i%len(urls)], HTTP: hc, DeviceName: name, PushBatch: cfg.Batch, RelaxedDurability: true})
		if err != nil {
			return devs, err
		}
		devs = append(devs, d)
		if _, err := d.Login(ctx, name, password); err != nil {
			return devs, fmt.Errorf("login %s: %w", name, err)
		}
		// The first sync takes the reference snapshot (units, the plan).
		if _, err := d.Sync(ctx); err != nil {
			return devs, fmt.Errorf("first sync of %s: %w", name, err)
		}
	}
	return devs, nil
}

// writeLocal writes Rounds batches on one device, as a day offline would.
func writeLocal(ctx context.Context, d *client.Device, cfg Config, units []string, n int) error {
	for r := range cfg.Rounds {
		if err := writeRound(ctx, d, cfg, units, n, r); err != nil {
			return err
		}
	}
	return nil
}

// paced writes and pushes one batch every cfg.Interval.
func paced(ctx context.Context, d *client.Device, cfg Config, units []string, n int, done func(client.Report)) error {
	timer := time.NewTimer(time.Duration(rand.Int64N(int64(cfg.Interval))))
	defer timer.Stop()
	for r := range cfg.Rounds {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		timer.Reset(cfg.Interval)
		if err := writeRound(ctx, d, cfg, units, n, r); err != nil {
			return err
		}
		rep, err := d.Push(ctx)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		done(rep)
	}
	return nil
}

// writeRound writes one batch: a trip, its days, a visit note, edits to it.
func writeRound(ctx context.Context, d *client.Device, cfg Config, units []string, n, r int) error {
	// One local transaction a batch (client.Device.Write): the 100 devices
	// share this machine's cores with the server, and a commit (an fsync)
	// per edit on each of them measured the devices' disks, not the server.
	if _, err := d.Write(ctx, Batch(d.UserID(), units[(n+r)%len(units)], cfg.Batch)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Batch is the edits of one batch of size changes a simulated user makes
// at unit, in the order made: a realistic mix of a new trip, a visit note,
// then the trip's days and edits of the note (two autosaves a day), as a
// day's field work offline. sync/client's BenchmarkPush pushes the same.
func Batch(user, unit string, size int) []client.Edit {
	// New rows get time-ordered ids, as the PWA gives them (pwa/src/store/ids.ts).
	trip := uuid.Must(uuid.NewV7()).String()
	note := uuid.Must(uuid.NewV7()).String()
	edits := []client.Edit{
		{Table: "trips", RowID: trip, Fields: map[string]any{"user_id": user, "title": "Đi cơ sở", "purpose": "working_session",
			"starts_on": "2021-06-01", "ends_on": "2021-06-03", "unit_ids": []any{unit}, "status": "ongoing"}},
		{Table: "visit_notes", RowID: note, Fields: map[string]any{"author_id": user, "unit_id": unit, "trip_id": trip, "kind": "working_session",
			"title": "Làm việc với Tỉnh đoàn", "status": "draft"}},
	}
	for i := 0; len(edits) < size; i++ {
		switch i % 3 {
		case 0:
			edits = append(edits, client.Edit{Table: "trip_days", RowID: uuid.Must(uuid.NewV7()).String(), Fields: map[string]any{"trip_id": trip, "user_id": user,
				"day": fmt.Sprintf("2021-06-%02d", 1+i%28), "unit_id": unit, "activity": "Làm việc với cơ sở đoàn"}})
		default:
			edits = append(edits, client.Edit{Table: "visit_notes", RowID: note, Fields: map[string]any{"results": fmt.Sprintf("Kết quả thực hiện, bản %d", i)}})
		}
	}
	return edits[:size]
}

// pushAll pushes a device's outbox, one batch per request, timing each.
func pushAll(ctx context.Context, d *client.Device, done func(client.Report)) error {
	for {
		pending, err := d.Pending(ctx)
		if err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		rep, err := d.Push(ctx)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		done(rep)
		if rep.Pushed == 0 {
			return nil
		}
	}
}

func unitIDs(ctx context.Context, d *client.Device) ([]string, error) {
	rows, err := d.All(ctx, "units")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range rows {
		if r.Fields["kind"] == "province" {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("the server has no province units (was the 2021 plan seeded?)")
	}
	slices.Sort(ids)
	return ids, nil
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ds[len(ds)-1]}
}

// String is the report the command prints.
func (r Result) String() string {
	var b strings.Builder
	load := "closed load (devices push back to back)"
	if r.Interval > 0 {
		load = fmt.Sprintf("open load: a batch per device every %s, offered %.0f changes/s",
			r.Interval, float64(r.Devices*r.Batch)/r.Interval.Seconds())
	}
	fmt.Fprintf(&b, "devices %d, batch %d, rounds %d, %s\n", r.Devices, r.Batch, r.Rounds, load)
	fmt.Fprintf(&b, "%d changes applied, %d rejected in %s\n", r.Applied, r.Rejected, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "merged:        %.0f changes/s\n", r.ChangesPerSec)
	fmt.Fprintf(&b, "push latency:  p50 %s  p95 %s  p99 %s  max %s\n", r.Push.P50.Round(time.Millisecond),
		r.Push.P95.Round(time.Millisecond), r.Push.P99.Round(time.Millisecond), r.Push.Max.Round(time.Millisecond))
	fmt.Fprintf(&b, "pull latency:  p50 %s  p95 %s  p99 %s  max %s\n", r.Pull.P50.Round(time.Millisecond),
		r.Pull.P95.Round(time.Millisecond), r.Pull.P99.Round(time.Millisecond), r.Pull.Max.Round(time.Millisecond))
	fmt.Fprintf(&b, "wire:          %.0f bytes per change (push requests and answers as sent, headers included; bodies alone %.0f)\n",
		r.BytesPerChange, r.BodyBytesPerChange)
	fmt.Fprintf(&b, "raw ceiling:   %.0f inserts/s (batched SQLite inserts, same disk)\n", r.RawInsertsPerSec)
	fmt.Fprintf(&b, "ratio:         %.2f of the raw ceiling\n", r.Ratio)
	if r.ServerCPU > 0 || r.LoadCPU > 0 {
		fmt.Fprintf(&b, "cpu per change: server %.0f µs, load generator %.0f µs (user and system time during the pushes)\n",
			r.ServerCPU, r.LoadCPU)
	}
	if r.ServerAfter.RSS > 0 {
		peak := "peak during the run"
		if !r.PeakReset {
			peak = "peak over the server's life"
		}
		fmt.Fprintf(&b, "server memory: resident %.0f MB before the pushes, %.0f MB after the pulls, %s %.0f MB\n",
			mb(r.ServerBefore.RSS), mb(r.ServerAfter.RSS), peak, mb(r.ServerAfter.Peak))
	}
	return b.String()
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func adminToken(ctx context.Context, hc *http.Client, cfg Config, device string) (string, error) {
	body, _ := json.Marshal(map[string]any{"username": cfg.AdminUser, "password": cfg.AdminPassword,
		"device": map[string]string{"id": device + "-rest", "name": "loadgen"}})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(ctx, hc, cfg.BaseURL+"/api/v1/auth/login", "", body, &out); err != nil {
		return "", fmt.Errorf("admin login: %w", err)
	}
	return out.AccessToken, nil
}

func createUser(ctx context.Context, hc *http.Client, base, token, name, password string) error {
	body, _ := json.Marshal(map[string]any{"username": name, "password": password,
		"full_name": "Bí thư thử tải " + name, "roles": []string{"secretary"}})
	if err := call(ctx, hc, base+"/api/v1/users", token, body, nil); err != nil {
		return fmt.Errorf("create user %s: %w", name, err)
	}
	return nil
}

func call(ctx context.Context, hc *http.Client, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %d %s", url, res.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// countingTransport counts the bytes of push requests and their answers,
// and times every push and pull request until the server's answer arrives
// (the server answers a push only once it is durable). bytes counts push
// bodies as sent: the device asks for gzip itself, so answers reach it
// undecoded. wire counts everything crossing its connections.
type countingTransport struct {
	next  http.RoundTripper
	bytes atomic.Int64
	wire  atomic.Int64

	mu         stdsync.Mutex
	push, pull []time.Duration
}

// newCountingTransport keeps one idle connection per device, as each
// phone has its own, rather than opening new ones under load.
func newCountingTransport(devices int) *countingTransport {
	c := &countingTransport{}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(devices, 2)
	dial := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, n: &c.wire}, nil
	}
	c.next = t
	return c
}

// countingConn counts the bytes written and read on one connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingTransport) reset() {
	c.bytes.Store(0)
	c.wire.Store(0)
	c.mu.Lock()
	c.push, c.pull = nil, nil
	c.mu.Unlock()
}

func (c *countingTransport) total() int64 { return c.bytes.Load() }

func (c *countingTransport) latencies() (push, pull []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.push), slices.Clone(c.pull)
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	isPush := strings.HasSuffix(req.URL.Path, "/sync/push")
	isPull := strings.HasSuffix(req.URL.Path, "/sync/pull")
	if isPush && req.ContentLength > 0 {
		c.bytes.Add(req.ContentLength)
	}
	t0 := time.Now()
	res, err := c.next.RoundTrip(req)
	if err == nil && (isPush || isPull) {
		c.mu.Lock()
		if isPush {
			c.push = append(c.push, time.Since(t0))
		} else {
			c.pull = append(c.pull, time.Since(t0))
		}
		c.mu.Unlock()
	}
	if err != nil || !isPush {
		return res, err
	}
	res.Body = &countingBody{ReadCloser: res.Body, n: &c.bytes}
	return res, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// RawInsertCeiling inserts n rows shaped like a visit note, perTx to a
// transaction, into a fresh file at path with the central store's
// durability settings (WAL, synchronous=FULL), and returns rows per second.
// The file is removed afterwards.
func RawInsertCeiling(ctx context.Context, path string, n, perTx int) (float64, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "cache_size(-65536)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", client.FileURI(path, q))
	if err != nil {
		return 0, err
	}
	defer func() {
		db.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
	}()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE rows (id TEXT PRIMARY KEY, author_id TEXT, unit_id TEXT,
		title TEXT, results TEXT, status TEXT, seq INTEGER)`); err != nil {
		return 0, fmt.Errorf("raw ceiling: %w", err)
	}
	start := time.Now()
	for done := 0; done < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		st, err := tx.PrepareContext(ctx, "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)")
		if err != nil {
			tx.Rollback()
			return 0, err
		}
		for i := 0; i < perTx && done < n; i++ {
			if _, err := st.ExecContext(ctx, uuid.NewString(), uuid.NewString(), uuid.NewString(),
				"Làm việc với Tỉnh đoàn", "Kết quả thực hiện", "draft", done); err != nil {
				tx.Rollback()
				return 0, err
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
