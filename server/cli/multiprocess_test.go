package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/sync/client"
	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// TestThreeProcessesNoPullSkipsACommit runs three real server processes on
// one PostgreSQL database, started together (so they also race to migrate,
// seed and bootstrap the admin). Go devices (sync/client) write trips and
// sync, each request going to a process drawn at random; observers pull
// in small pages, also from random processes, all the while. Then:
//   - every change a device wrote was acknowledged and is in the change
//     log exactly once;
//   - every observer received each trip written during the run exactly
//     once (none skipped, none twice), and nothing the store lacks;
//   - every device holds exactly the store's rows it may read (the admin
//     reads all), field for field.
//
// docs/postgres.md ("No pull skips a commit") is the argument this checks.
func TestThreeProcessesNoPullSkipsACommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three real server processes")
	}
	dbURL := storetest.NewDatabase(t)
	bin := buildBinary(t)
	dataDir := t.TempDir() // shared by the three: attachments live there
	env := []string{"DICOSO_DATABASE_URL=" + dbURL, "DICOSO_JWT_SECRET=three-processes-share-one-signing-key"}
	var procs []*serverProcess
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := startServer(t, bin, dataDir, env...)
			mu.Lock()
			procs = append(procs, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(procs) != 3 {
		t.FailNow() // startServer said why
	}
	urls := []string{procs[0].url, procs[1].url, procs[2].url}
	seed := time.Now().UnixNano()
	t.Logf("seed %d; processes %v", seed, urls)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	var rngMu sync.Mutex
	anyProcess := func() string {
		rngMu.Lock()
		defer rngMu.Unlock()
		return urls[rng.IntN(len(urls))]
	}
	httpc := &http.Client{Timeout: processDeadline, Transport: randomProcess{pick: anyProcess}}
	ctx := context.Background()

	// Devices: each writes rounds of new trips and edits two shared ones,
	// syncing after every round.
	const devices, rounds, perRound = 6, 8, 10
	hot := []string{uuid.NewString(), uuid.NewString()}
	devs := make([]*client.Device, devices)
	for i := range devs {
		d, err := client.Open(ctx, filepath.Join(t.TempDir(), "device.db"), client.Options{
			BaseURL: urls[0], HTTP: httpc, DeviceID: fmt.Sprintf("three-dev-%d", i), RelaxedDurability: true, PullLimit: 7,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if _, err := d.Login(ctx, "admin", testAdminPassword); err != nil {
			t.Fatalf("device %d login: %v", i, err)
		}
		devs[i] = d
	}
	for _, id := range hot {
		if _, err := devs[0].Upsert(ctx, "trips", id, trip(devs[0].UserID(), "chuyến chung")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := devs[0].Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Observers: admin sessions that pull by hand, counting each row.
	observers := make([]*observer, 3)
	for i := range observers {
		observers[i] = newObserver(t, anyProcess, fmt.Sprintf("three-observer-%d", i))
	}

	var written sync.Map // change id -> row id of the trips created during the run
	done := make(chan struct{})
	errs := make(chan error, devices+len(observers))
	var writers sync.WaitGroup
	for i, d := range devs {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for r := range rounds {
				for k := range perRound {
					id := uuid.NewString()
					ch, err := d.Upsert(ctx, "trips", id, trip(d.UserID(), fmt.Sprintf("Đi cơ sở %d.%d.%d", i, r, k)))
					if err != nil {
						errs <- err
						return
					}
					written.Store(ch, id)
				}
				if _, err := d.Upsert(ctx, "trips", hot[r%len(hot)], map[string]any{"title": fmt.Sprintf("sửa bởi %d lần %d", i, r)}); err != nil {
					errs <- err
					return
				}
				if _, err := d.Sync(ctx); err != nil {
					errs <- fmt.Errorf("device %d sync: %w", i, err)
					return
				}
			}
		}()
	}
	var watchers sync.WaitGroup
	for _, o := range observers {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := o.pullOnce(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	watchers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Everything is committed: a last sync and a drain of every observer.
	for i, d := range devs {
		if _, err := d.Sync(ctx); err != nil {
			t.Fatalf("device %d final sync: %v", i, err)
		}
		if n, err := d.Pending(ctx); err != nil || n != 0 {
			t.Fatalf("device %d: %d changes not acknowledged (%v)", i, n, err)
		}
	}
	for _, o := range observers {
		if err := o.drain(ctx); err != nil {
			t.Fatal(err)
		}
	}

	st, err := store.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	changes := 0
	written.Range(func(k, _ any) bool {
		changes++
		var n int
		if err := st.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM change_log WHERE change_id = ?", k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("change %s is in the change log %d times, want once", k, n)
		}
		return true
	})
	if changes != devices*rounds*perRound {
		t.Fatalf("%d changes written, want %d", changes, devices*rounds*perRound)
	}

	truth := snapshot(t, anyProcess)
	var ids []string
	written.Range(func(_, v any) bool { ids = append(ids, v.(string)); return true })
	for _, o := range observers {
		for _, id := range ids {
			if n := o.arrivals["trips/"+id]; n != 1 {
				t.Errorf("%s received trip %s %d times, want exactly once", o.device, id, n)
			}
		}
		for key, row := range o.rows {
			want, ok := truth[key]
			if !ok {
				t.Errorf("%s holds %s, which the store does not", o.device, key)
				continue
			}
			if row.Version != want.Version || row.Deleted != want.Deleted {
				t.Errorf("%s holds %s at %s (deleted %v), the store at %s (deleted %v)", o.device, key, row.Version, row.Deleted, want.Version, want.Deleted)
			}
		}
		if len(o.rows) != len(truth) {
			t.Errorf("%s holds %d rows, the store %d", o.device, len(o.rows), len(truth))
		}
	}
	for i, d := range devs {
		held := 0
		for _, tbl := range schema.Tables() {
			rows, err := d.Rows(ctx, tbl.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				held++
				want, ok := truth[tbl.Name+"/"+r.ID]
				if !ok {
					t.Errorf("device %d holds %s %s, which the store does not", i, tbl.Name, r.ID)
					continue
				}
				if r.Version != want.Version || r.Deleted != want.Deleted || !sameFields(r.Fields, want.Fields) {
					t.Errorf("device %d holds %s %s as %v %v, the store as %v %v", i, tbl.Name, r.ID, r.Version, r.Fields, want.Version, want.Fields)
				}
			}
		}
		if held != len(truth) {
			t.Errorf("device %d holds %d rows, the store %d", i, held, len(truth))
		}
	}
	for _, p := range procs {
		if err := p.stop(t); err != nil {
			t.Errorf("stop: %v\n%s", err, p.stderr)
		}
	}
}

func trip(userID, title string) map[string]any {
	return map[string]any{"user_id": userID, "purpose": "meeting", "starts_on": "2021-03-26", "title": title}
}

func sameFields(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// randomProcess sends each request to a process drawn at random, as a load
// balancer without affinity would.
type randomProcess struct{ pick func() string }

func (r randomProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	u, err := url.Parse(r.pick())
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, u.Host
	return http.DefaultTransport.RoundTrip(out)
}

// observer is an admin session pulling by hand in pages of 5, which records
// how many times each row arrived.
type observer struct {
	device   string
	token    string
	pick     func() string
	cursor   string
	rows     map[string]protocol.Row // "table/id" -> last state received
	arrivals map[string]int
}

func newObserver(t *testing.T, pick func() string, device string) *observer {
	t.Helper()
	token, _ := login(t, pick(), device)
	return &observer{device: device, token: token, pick: pick, rows: map[string]protocol.Row{}, arrivals: map[string]int{}}
}

// page pulls one page and reports whether more is waiting.
func (o *observer) page(ctx context.Context) (bool, error) {
	resp, err := pullPage(ctx, o.pick(), o.token, protocol.PullRequest{Protocol: 1, DeviceID: o.device, Cursor: o.cursor, Limit: 5})
	if err != nil {
		return false, fmt.Errorf("%s: %w", o.device, err)
	}
	if resp.Reset {
		return false, fmt.Errorf("%s: told to reset", o.device)
	}
	for _, r := range resp.Rows {
		key := r.Table + "/" + r.RowID
		o.rows[key] = r
		o.arrivals[key]++
	}
	o.cursor = resp.Cursor
	return resp.HasMore, nil
}

func (o *observer) pullOnce(ctx context.Context) error {
	_, err := o.page(ctx)
	return err
}

func (o *observer) drain(ctx context.Context) error {
	for {
		more, err := o.page(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// snapshot is every row the admin reads, from a fresh pull.
func snapshot(t *testing.T, pick func() string) map[string]protocol.Row {
	t.Helper()
	o := newObserver(t, pick, "three-snapshot")
	if err := o.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	return o.rows
}

func pullPage(ctx context.Context, base, token string, req protocol.PullRequest) (protocol.PullResponse, error) {
	var out protocol.PullResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/sync/pull", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return out, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return out, fmt.Errorf("pull: status %d", res.StatusCode)
	}
	return out, json.NewDecoder(res.Body).Decode(&out)
}
