package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// TestPostgresOutageUnderPushLoad runs the real server on PostgreSQL
// through a TCP relay the test can cut, as a PostgreSQL restart or a
// network cut would: every connection drops and new ones are refused.
// Devices push all the while. While the database is away a push is
// answered 503 with the error envelope (store_unavailable), and a pull
// too; once it is back the same server answers again without a restart;
// and every change acknowledged before, during or after is in the change
// log exactly once after every device re-sends everything it sent.
func TestPostgresOutageUnderPushLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real server")
	}
	dbURL := storetest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	relay := newRelay(t, u.Host)
	viaRelay := *u
	viaRelay.Host = relay.addr
	bin := buildBinary(t)
	srv := startServer(t, bin, t.TempDir(), "DICOSO_DATABASE_URL="+viaRelay.String())

	type batch struct {
		device string
		req    protocol.PushRequest
		acked  bool
	}
	var (
		mu          sync.Mutex
		batches     []*batch
		unavailable int
	)
	// Each device pushes until told to stop (at most maxBatches batches).
	const devices, maxBatches = 3, 2000
	stop := make(chan struct{})
	acks := 0
	tokens := map[string]string{}
	var wg sync.WaitGroup
	for d := range devices {
		device := fmt.Sprintf("outage-dev-%d", d)
		token, userID := login(t, srv.url, device)
		tokens[device] = token
		clock := hlc.NewClock(device, nil, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range maxBatches {
				select {
				case <-stop:
					return
				default:
				}
				b := &batch{device: device, req: protocol.PushRequest{Protocol: 1, DeviceID: device}}
				for range 10 {
					b.req.Changes = append(b.req.Changes, protocol.Change{ID: uuid.NewString(), Table: "trips", RowID: uuid.NewString(),
						Op: protocol.OpUpsert, HLC: clock.Now().String(),
						Fields: map[string]any{"user_id": userID, "purpose": "meeting", "starts_on": "2021-03-26", "title": "Họp giao ban"}})
				}
				status, code, err := postJSON(srv.url+"/api/v1/sync/push", token, b.req, nil)
				mu.Lock()
				batches = append(batches, b)
				switch {
				case err != nil:
					t.Errorf("push: %v", err)
				case status == http.StatusOK:
					b.acked = true
					acks++
				case status == http.StatusServiceUnavailable && code == "store_unavailable":
					unavailable++
				default:
					t.Errorf("push answered %d %q", status, code)
				}
				mu.Unlock()
			}
		}()
	}

	// Cut the database away once some pushes went through, and see the
	// server say so in its envelope.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return acks >= 5 })
	relay.cut()
	token := tokens["outage-dev-0"]
	if status, code, err := postJSON(srv.url+"/api/v1/sync/pull", token, protocol.PullRequest{Protocol: 1, DeviceID: "outage-dev-0"}, nil); err != nil ||
		status != http.StatusServiceUnavailable || code != "store_unavailable" {
		t.Fatalf("pull while the database is away: %d %q %v, want 503 store_unavailable", status, code, err)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return unavailable > 0 })
	mu.Lock()
	before := acks
	mu.Unlock()
	relay.restore()
	// The same server takes pushes again.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return acks >= before+5 })
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d batches, %d answered 503 while the database was away", len(batches), unavailable)
	if status := getStatus(t, srv.url+"/readyz"); status != http.StatusOK {
		t.Fatalf("readyz after the database came back: %d", status)
	}

	// Every device re-sends everything, as a device whose outbox kept it.
	acked := map[string]bool{}
	for _, b := range batches {
		var res protocol.PushResponse
		status, code, err := postJSON(srv.url+"/api/v1/sync/push", tokens[b.device], b.req, &res)
		if err != nil || status != http.StatusOK {
			t.Fatalf("re-send after recovery: %d %q %v", status, code, err)
		}
		for _, r := range res.Results {
			switch {
			case b.acked && r.Status != protocol.StatusDuplicate:
				t.Errorf("acknowledged change %s answered %s on re-send, want duplicate", r.ID, r.Status)
			case r.Status != protocol.StatusApplied && r.Status != protocol.StatusDuplicate:
				t.Errorf("re-send of %s: %+v", r.ID, r)
			}
		}
		for _, ch := range b.req.Changes {
			acked[ch.ID] = true
		}
	}
	st, err := store.OpenPostgres(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id := range acked {
		var n int
		if err := st.Reader().QueryRow("SELECT COUNT(*) FROM change_log WHERE change_id = ?", id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("change %s is in the change log %d times (%v), want once", id, n, err)
		}
	}
	if err := srv.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// waitFor polls cond until it holds, failing after processDeadline (a
// guard against a hang, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(processDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postJSON posts in and returns the status, the envelope's error code when
// there is one, and decodes a 200 answer into out.
func postJSON(url, token string, in, out any) (int, string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, "", err
	}
	if res.StatusCode != http.StatusOK {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return res.StatusCode, "", fmt.Errorf("answer %d is not the error envelope: %s", res.StatusCode, raw)
		}
		return res.StatusCode, env.Error.Code, nil
	}
	if out != nil {
		return res.StatusCode, "", json.Unmarshal(raw, out)
	}
	return res.StatusCode, "", nil
}

// relay forwards TCP connections from a loopback port to the database;
// cut drops every connection and refuses new ones, restore listens again
// on the same port.
type relay struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	r := &relay{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.cut)
	return r
}

func (r *relay) serve(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *relay) restore() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("listen again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}
