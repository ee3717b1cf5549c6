package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"dicoso/server/store"
	"dicoso/server/store/storetest"
	"dicoso/sync/hlc"
	"dicoso/sync/protocol"
)

// TestCrashKeepsAcknowledgedPushes kills the real server with SIGKILL while
// devices push as fast as they can, restarts it on the same data, lets the
// devices retry everything they sent, and checks that every change the
// server acknowledged survived and that no retry created a duplicate.
func TestCrashKeepsAcknowledgedPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	// On the store under test: the SQLite file in dataDir, or a PostgreSQL
	// database (DICOSO_TEST_STORE=postgres).
	var env []string
	dbURL := ""
	if storetest.Postgres() {
		dbURL = storetest.NewDatabase(t)
		env = append(env, "DICOSO_DATABASE_URL="+dbURL)
	}
	srv := startServer(t, bin, dataDir, env...)

	const devices = 4
	type batch struct {
		device string
		req    protocol.PushRequest
		acked  bool
	}
	var (
		mu      sync.Mutex
		batches []*batch
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for d := 0; d < devices; d++ {
		device := fmt.Sprintf("crash-dev-%d", d)
		token, userID := login(t, srv.url, device)
		clock := hlc.NewClock(device, nil, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b := &batch{device: device, req: protocol.PushRequest{Protocol: 1, DeviceID: device}}
				for i := 0; i < 50; i++ {
					b.req.Changes = append(b.req.Changes, protocol.Change{
						ID: uuid.NewString(), Table: "trips", RowID: uuid.NewString(), Op: protocol.OpUpsert,
						HLC: clock.Now().String(),
						Fields: map[string]any{"user_id": userID, "purpose": "meeting", "starts_on": "2021-03-26",
							"title": "Dự hội nghị BCH Tỉnh đoàn"},
					})
				}
				mu.Lock()
				batches = append(batches, b)
				mu.Unlock()
				res, err := push(srv.url, token, b.req)
				if err != nil {
					return // the server is gone
				}
				for _, r := range res.Results {
					if r.Status != protocol.StatusApplied {
						t.Errorf("before the crash: change %s answered %+v", r.ID, r)
					}
				}
				mu.Lock()
				b.acked = true
				mu.Unlock()
			}
		}()
	}

	// Let pushes pile up, then pull the plug mid-stream.
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
		if n >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	close(stop)
	wg.Wait()

	acked := map[string]bool{}
	rows := map[string]bool{}
	for _, b := range batches {
		for _, ch := range b.req.Changes {
			rows[ch.RowID] = true
			if b.acked {
				acked[ch.ID] = true
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("no push was acknowledged before the crash")
	}
	t.Logf("%d batches sent, %d changes acknowledged before SIGKILL", len(batches), len(acked))

	// Restart; every device re-sends everything it ever sent, as a client
	// that never heard back (or did) would.
	srv2 := startServer(t, bin, dataDir, env...)
	tokens := map[string]string{}
	for _, b := range batches {
		if tokens[b.device] == "" {
			tokens[b.device], _ = login(t, srv2.url, b.device)
		}
		res, err := push(srv2.url, tokens[b.device], b.req)
		if err != nil {
			t.Fatalf("retry after restart: %v", err)
		}
		for _, r := range res.Results {
			switch {
			case acked[r.ID] && r.Status != protocol.StatusDuplicate:
				t.Errorf("acknowledged change %s answered %s on retry, want duplicate", r.ID, r.Status)
			case r.Status != protocol.StatusApplied && r.Status != protocol.StatusDuplicate:
				t.Errorf("retry of %s: %+v", r.ID, r)
			}
		}
	}
	if err := srv2.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}

	ctx := context.Background()
	var st *store.Store
	var err error
	if dbURL != "" {
		st, err = store.OpenPostgres(ctx, dbURL)
	} else {
		st, err = store.Open(ctx, filepath.Join(dataDir, "dicoso.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id := range acked {
		var n int
		if err := st.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM change_log WHERE change_id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("acknowledged change %s is in the change log %d times, want 1", id, n)
		}
	}
	var trips int
	if err := st.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM trips").Scan(&trips); err != nil {
		t.Fatal(err)
	}
	if trips != len(rows) {
		t.Fatalf("%d trips in the store, want %d (every change sent, once)", trips, len(rows))
	}
}

// login signs in as the bootstrap admin on device and returns the access
// token and the admin's user id.
func login(t *testing.T, base, device string) (string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": "admin", "password": testAdminPassword,
		"device": map[string]string{"id": device, "name": device}})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: status %d, %v", res.StatusCode, err)
	}
	return out.AccessToken, out.User.ID
}

func push(base, token string, req protocol.PushRequest) (protocol.PushResponse, error) {
	var out protocol.PushResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	hr, err := http.NewRequest(http.MethodPost, base+"/api/v1/sync/push", bytes.NewReader(body))
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
		return out, fmt.Errorf("push: status %d", res.StatusCode)
	}
	return out, json.NewDecoder(res.Body).Decode(&out)
}
