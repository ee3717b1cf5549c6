// Package soak runs the crash cycle many times against the real server
// binary: several devices push as fast as they can, the server is killed
// with SIGKILL in the middle of their pushes and started again on the same
// data directory, and then
//   - every change the server had acknowledged must be in its change log
//     exactly once, before any device sends anything again;
//   - every change sent in the cycle, acknowledged or not, is sent again
//     (as a device that never heard back would): the acknowledged ones must
//     be answered duplicate, the others applied or duplicate, and all of
//     them must then be in the change log exactly once.
//
// The data directory is kept across cycles, so each start recovers a store
// that has already been killed many times.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the checks read the store file itself

	"dicoso/server/store"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// Config is one soak run.
type Config struct {
	Binary  string   // the dicoso binary, run as "serve"
	DataDir string   // the server's data directory, kept across cycles
	Env     []string // the server's environment, without DICOSO_* settings
	Cycles  int
	Devices int    // devices pushing at once
	Batch   int    // changes per push
	Seed    uint64 // when to kill, what to write
	// Progress, when set, gets one line per cycle.
	Progress io.Writer
}

// Result is what a run saw.
type Result struct {
	Cycles       int
	Sent         int // changes sent, each counted once however often it was resent
	Acknowledged int // changes the server had answered applied before a kill
	InFlight     int // changes in pushes the kill cut off unanswered
	Unanswered   int // of those, changes the server had committed all the same
	Lost         int // acknowledged changes missing from the change log after the restart
	Doubled      int // changes in the change log more than once
	Elapsed      time.Duration
}

// String is the report: the first line is the figure that matters.
func (r Result) String() string {
	return fmt.Sprintf("%d cycles, %d acknowledged, %d lost\n"+
		"%d changes sent, %d of them in pushes cut off by SIGKILL (%d of those committed unanswered); %d doubled; "+
		"every change applied exactly once after resending; %s\n",
		r.Cycles, r.Acknowledged, r.Lost, r.Sent, r.InFlight, r.Unanswered, r.Doubled, r.Elapsed.Round(time.Second))
}

// ErrLost reports acknowledged changes that did not survive a kill.
var ErrLost = errors.New("acknowledged changes were lost")

// processDeadline bounds how long a start, a kill or a push may hang
// before the run gives up; a guard, not a performance figure.
const processDeadline = 60 * time.Second

// Run executes the cycles. An error other than ErrLost means the run could
// not judge (the server would not start, a push was refused).
func Run(ctx context.Context, cfg Config) (Result, error) {
	res := Result{}
	if cfg.Cycles < 1 || cfg.Devices < 1 || cfg.Batch < 1 || cfg.Batch > protocol.MaxBatch {
		return res, fmt.Errorf("cycles and devices must be at least 1, batch between 1 and %d", protocol.MaxBatch)
	}
	start := time.Now()
	r := &runner{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0x50a6)), password: randomHex(16)}
	run := randomHex(4)
	for i := range cfg.Devices {
		id := fmt.Sprintf("soak-%s-%d", run, i)
		r.devices = append(r.devices, &device{id: id, clock: hlc.NewClock(id, nil, 0)})
	}
	srv, err := r.start(ctx)
	if err != nil {
		return res, err
	}
	defer func() { srv.kill() }()
	for c := 1; c <= cfg.Cycles; c++ {
		next, cy, err := r.cycle(ctx, srv)
		srv = next
		res.Cycles = c
		res.Sent += cy.sent
		res.Acknowledged += cy.acked
		res.InFlight += cy.inFlight
		res.Unanswered += cy.unanswered
		res.Lost += cy.lost
		res.Doubled += cy.doubled
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("cycle %d: %w", c, err)
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "cycle %d/%d: SIGKILL with %d changes in flight (%d committed) after %d acknowledged; "+
				"restarted in %v; the acknowledged all present once; the %d sent all applied once after resending\n",
				c, cfg.Cycles, cy.inFlight, cy.unanswered, cy.acked, cy.restart.Round(time.Millisecond), cy.sent)
		}
		if res.Lost > 0 || res.Doubled > 0 {
			break
		}
	}
	if err := srv.stop(); err != nil {
		return res, fmt.Errorf("stop the server: %w", err)
	}
	logged, err := r.countLogged()
	if err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	if logged != res.Sent && res.Lost == 0 && res.Doubled == 0 {
		return res, fmt.Errorf("after a clean stop the change log holds %d of the soak's changes, want %d", logged, res.Sent)
	}
	if res.Lost > 0 || res.Doubled > 0 {
		return res, fmt.Errorf("%w: %d lost, %d doubled", ErrLost, res.Lost, res.Doubled)
	}
	return res, nil
}

type runner struct {
	cfg      Config
	rng      *mrand.Rand
	password string // the admin's, set on the first start
	devices  []*device
	seen     int64 // change_log.seq checked by the cycles before
}

// device is one simulated device: its clock and the rows it created.
type device struct {
	id     string
	clock  *hlc.Clock
	token  string
	userID string
	trips  []string // rows created by acknowledged pushes: edits target these
}

// batch is one push and whether the server answered it before the kill.
type batch struct {
	dev   *device
	req   protocol.PushRequest
	acked bool
	trips []string
}

type cycleStats struct {
	sent, acked, inFlight, unanswered, lost, doubled int
	restart                                          time.Duration
}

// cycle loads the running server, kills it, starts it again, checks and
// resends; it returns the server now running.
func (r *runner) cycle(ctx context.Context, srv *server) (*server, cycleStats, error) {
	var st cycleStats
	for _, d := range r.devices {
		if err := r.login(ctx, srv.url, d); err != nil {
			return srv, st, err
		}
	}
	var (
		mu      sync.Mutex
		batches []*batch
		pushErr error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for _, d := range r.devices {
		rng := mrand.New(mrand.NewPCG(r.rng.Uint64(), 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b := r.newBatch(d, rng)
				mu.Lock()
				batches = append(batches, b)
				mu.Unlock()
				resp, err := push(ctx, srv.url, d.token, b.req)
				if err != nil {
					return // the server is gone
				}
				for _, res := range resp.Results {
					if res.Status != protocol.StatusApplied {
						mu.Lock()
						pushErr = errors.Join(pushErr, fmt.Errorf("before the kill, change %s answered %s %s: %s", res.ID, res.Status, res.Code, res.Message))
						mu.Unlock()
					}
				}
				mu.Lock()
				b.acked = true
				d.trips = append(d.trips, b.trips...)
				mu.Unlock()
			}
		}()
	}

	// Kill once a random number of pushes were answered, a random moment
	// later: devices push back to back, so pushes are in flight.
	target := 1 + r.rng.IntN(3*len(r.devices))
	deadline := time.Now().Add(processDeadline)
	for {
		mu.Lock()
		n := 0
		for _, b := range batches {
			if b.acked {
				n++
			}
		}
		mu.Unlock()
		if n >= target {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			srv.kill()
			wg.Wait()
			return srv, st, fmt.Errorf("only %d pushes answered in %v; server stderr:\n%s", n, processDeadline, srv.stderr)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(r.rng.IntN(15)) * time.Millisecond)
	srv.kill()
	close(stop)
	wg.Wait()
	if pushErr != nil {
		return srv, st, pushErr
	}
	// A push whose whole answer arrived before the kill counts as
	// acknowledged, as it would for a device.
	for _, b := range batches {
		st.sent += len(b.req.Changes)
		if b.acked {
			st.acked += len(b.req.Changes)
		} else {
			st.inFlight += len(b.req.Changes)
		}
	}

	t0 := time.Now()
	next, err := r.start(ctx)
	if err != nil {
		return srv, st, fmt.Errorf("restart after SIGKILL: %w", err)
	}
	st.restart = time.Since(t0)

	// What was acknowledged is there, once, before anyone resends.
	counts, maxSeq, err := r.logged()
	if err != nil {
		return next, st, err
	}
	for _, b := range batches {
		for _, ch := range b.req.Changes {
			switch n := counts[ch.ID]; {
			case b.acked && n == 0:
				st.lost++
				if st.lost <= 5 && r.cfg.Progress != nil {
					fmt.Fprintf(r.cfg.Progress, "LOST: change %s of device %s was acknowledged before SIGKILL and is not in the change log\n", ch.ID, b.dev.id)
				}
			case n > 1:
				st.doubled++
			case !b.acked && n == 1:
				st.unanswered++
			}
		}
	}
	if st.lost > 0 || st.doubled > 0 {
		return next, st, nil
	}

	// Every device resends all it sent, in its order.
	for _, d := range r.devices {
		if err := r.login(ctx, next.url, d); err != nil {
			return next, st, err
		}
	}
	for _, b := range batches {
		resp, err := push(ctx, next.url, b.dev.token, b.req)
		if err != nil {
			return next, st, fmt.Errorf("resend after the restart: %w", err)
		}
		for _, res := range resp.Results {
			switch {
			case b.acked && res.Status != protocol.StatusDuplicate:
				return next, st, fmt.Errorf("acknowledged change %s answered %s on resend, want duplicate", res.ID, res.Status)
			case res.Status != protocol.StatusApplied && res.Status != protocol.StatusDuplicate:
				return next, st, fmt.Errorf("resent change %s answered %s %s: %s", res.ID, res.Status, res.Code, res.Message)
			}
		}
		if !b.acked {
			b.dev.trips = append(b.dev.trips, b.trips...)
		}
	}
	counts, maxSeq, err = r.logged()
	if err != nil {
		return next, st, err
	}
	for _, b := range batches {
		for _, ch := range b.req.Changes {
			if n := counts[ch.ID]; n != 1 {
				return next, st, fmt.Errorf("after resending, change %s is in the change log %d times, want 1", ch.ID, n)
			}
		}
	}
	r.seen = maxSeq
	return next, st, nil
}

// newBatch is one push: new trips, and edits of trips the server has.
func (r *runner) newBatch(d *device, rng *mrand.Rand) *batch {
	b := &batch{dev: d, req: protocol.PushRequest{Protocol: protocol.Version, DeviceID: d.id}}
	for i := range r.cfg.Batch {
		ch := protocol.Change{ID: uuid.NewString(), Table: "trips", Op: protocol.OpUpsert, HLC: d.clock.Now().String()}
		if len(d.trips) > 0 && rng.IntN(5) < 2 {
			ch.RowID = d.trips[rng.IntN(len(d.trips))]
			ch.Fields = map[string]any{"title": fmt.Sprintf("Đi cơ sở, sửa lần %d", i), "notes": fmt.Sprint("ghi chú ", rng.IntN(1000))}
		} else {
			ch.RowID = uuid.NewString()
			ch.Fields = map[string]any{"user_id": d.userID, "purpose": "working_session", "starts_on": "2021-06-01",
				"title": "Làm việc với Tỉnh đoàn", "status": "planned"}
			b.trips = append(b.trips, ch.RowID)
		}
		b.req.Changes = append(b.req.Changes, ch)
	}
	return b
}

// logged counts the change log's entries after those earlier cycles
// checked, by change id, reading the store file beside the running server.
func (r *runner) logged() (map[string]int, int64, error) {
	db, err := r.openStore()
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT seq, change_id FROM change_log WHERE seq > ? AND device_id LIKE 'soak-%'", r.seen)
	if err != nil {
		return nil, 0, fmt.Errorf("read the change log: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	maxSeq := r.seen
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, 0, fmt.Errorf("read the change log: %w", err)
		}
		counts[id]++
		maxSeq = max(maxSeq, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read the change log: %w", err)
	}
	return counts, maxSeq, nil
}

// countLogged is how many of this run's changes the change log holds.
func (r *runner) countLogged() (int, error) {
	db, err := r.openStore()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	devs := make([]any, len(r.devices))
	marks := make([]string, len(r.devices))
	for i, d := range r.devices {
		devs[i], marks[i] = d.id, "?"
	}
	q := "SELECT COUNT(*) FROM change_log WHERE device_id IN (" + strings.Join(marks, ", ") + ")"
	if err := db.QueryRow(q, devs...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the change log: %w", err)
	}
	return n, nil
}

// openStore opens the server's store file for reading only, beside the
// server that writes it (WAL lets both run).
func (r *runner) openStore() (*sql.DB, error) {
	path := filepath.Join(r.cfg.DataDir, "dicoso.db")
	db, err := sql.Open("sqlite", store.FileURI(path, url.Values{"_pragma": {"busy_timeout(10000)", "query_only(ON)"}}))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func (r *runner) login(ctx context.Context, base string, d *device) error {
	body, err := json.Marshal(map[string]any{"username": "admin", "password": r.password,
		"device": map[string]string{"id": d.id, "name": "soak " + d.id}})
	if err != nil {
		return err
	}
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := call(ctx, base+"/api/v1/auth/login", "", body, &out); err != nil {
		return fmt.Errorf("login of %s: %w", d.id, err)
	}
	d.token, d.userID = out.AccessToken, out.User.ID
	return nil
}

func push(ctx context.Context, base, token string, req protocol.PushRequest) (protocol.PushResponse, error) {
	var out protocol.PushResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	return out, call(ctx, base+"/api/v1/sync/push", token, body, &out)
}

var httpClient = &http.Client{Timeout: processDeadline}

func call(ctx context.Context, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %s", url, res.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// server is one `dicoso serve` process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *tail
	done   chan struct{} // closed once the process has exited
	err    error         // its exit error, once done
}

var listening = regexp.MustCompile(`dicoso is listening on (http://\S+)`)

// start runs the binary on a free loopback port over the data directory
// and waits for it to announce its address.
func (r *runner) start(ctx context.Context) (*server, error) {
	cmd := exec.Command(r.cfg.Binary, "serve", "-addr", "127.0.0.1:0", "-data", r.cfg.DataDir)
	cmd.Env = append(append([]string{}, r.cfg.Env...),
		"DICOSO_ADMIN_PASSWORD="+r.password, // used by the first start only
		"DICOSO_LOG_LEVEL=warn")
	s := &server{cmd: cmd, stderr: &tail{max: 8 << 10}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", r.cfg.Binary, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-urls:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the server exited at start (%v); stderr:\n%s", s.err, s.stderr)
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	case <-time.After(processDeadline):
		s.kill()
		return nil, fmt.Errorf("the server did not announce its address in %v; stderr:\n%s", processDeadline, s.stderr)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	if s == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("%w; stderr:\n%s", s.err, s.stderr)
		}
		return nil
	case <-time.After(processDeadline):
		s.kill()
		return fmt.Errorf("no exit %v after SIGTERM; stderr:\n%s", processDeadline, s.stderr)
	}
}

// tail keeps the last bytes written to it: a server's stderr, for errors.
type tail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// Env is the environment for the server processes: the caller's, without
// its DICOSO_* settings (the soak chooses the data directory, address and
// admin password itself).
func Env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DICOSO_") {
			out = append(out, kv)
		}
	}
	return out
}
